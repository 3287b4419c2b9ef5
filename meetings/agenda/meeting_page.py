"""The meeting page as one viewer sees it: attendance, roles, the agenda with briefs revealed or
withheld, and the forms the viewer may use; shown on GET and again with a refused form.

Reading only: members without an invitation row yet are shown as invited, and children that
contributors put on the agenda are shown after the items, without writing either (see
``attendance.meeting_attendance`` and ``contributors.pending_contributed_items``).
"""

from __future__ import annotations

from typing import Any, cast

from flask import current_app, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.db import utcnow
from coordination.models import AgencyKind, CouncilKind, CouncilMembership, User
from coordination.policy import can_view_council
from coordination.web.forms import choices
from coordination.web.page import INVALID_FORM, Render, actor
from meetings.agenda.access import has_started, is_meeting_coordinator, is_network_meeting
from meetings.agenda.attendance import guest_candidates, meeting_attendance
from meetings.agenda.contributors import pending_contributed_items
from meetings.agenda.deadline import agenda_deadline, deadline_passed
from meetings.agenda.forms import (
    ATTENDANCE_LABELS,
    MEETING_STATUS_LABELS,
    SOURCE_LABELS,
    AgendaItemForm,
    AttendanceForm,
    BriefForm,
    GuestForm,
    MeetingRolesForm,
    MoveItemForm,
)
from meetings.agenda.items import addable_children, agenda_items, reason_categories
from meetings.agenda.overview import AgendaEntry, build_agenda
from meetings.models import AgendaItem, AttendanceStatus, Meeting, MeetingStatus
from secrecy.agerules.agenda import children_to_review, meeting_day
from secrecy.policy.categories import categories


def locale() -> str:
    return str(get_locale() or "sv")


def deadline_days() -> int:
    return int(current_app.config["AGENDA_DEADLINE_WORKING_DAYS"])


def page_url(meeting: Meeting, anchor: str = "") -> str:
    return url_for("meetings.meeting", meeting_id=meeting.id) + (f"#{anchor}" if anchor else "")


def agenda_with_pending(session: Session, meeting: Meeting) -> list[AgendaItem]:
    """The agenda's items, then the contributed children not yet written (unsaved rows)."""
    items = agenda_items(session, meeting)
    return items + pending_contributed_items(session, meeting, on_agenda=items)


def _prepare_agenda_form(session: Session, meeting: Meeting, form: AgendaItemForm) -> None:
    """The choices of the agenda form. The template writes the children's options itself:
    hundreds of them, and WTForms' widget costs several times more per option."""
    form.child_id.choices = choices([(0, _("Välj barn")), *addable_children(session, meeting)])
    form.reason_category.choices = choices(
        [("", _("Välj skäl"))] + [(c.key, c.label(locale())) for c in reason_categories()]
    )


def _prepare_roles_form(
    session: Session, meeting: Meeting, form: MeetingRolesForm, fill: bool
) -> None:
    members = sorted(
        session.scalars(
            select(User)
            .join(CouncilMembership, CouncilMembership.user_id == User.id)
            .where(CouncilMembership.council_id == meeting.council_id)
        ),
        key=lambda u: (u.display_name, u.id),
    )
    options = [(0, _("Ingen utsedd"))] + [
        (u.id, f"{u.display_name} – {u.agency.name}") for u in members
    ]
    form.chair_id.choices = choices(options)
    form.minute_taker_id.choices = choices(options)
    if fill:
        form.chair_id.data = meeting.chair_id or 0
        form.minute_taker_id.data = meeting.minute_taker_id or 0
        form.version.data = str(meeting.version)


def render_meeting(
    session: Session,
    meeting: Meeting,
    *,
    agenda_form: AgendaItemForm | None = None,
    guest_form: GuestForm | None = None,
    roles_form: MeetingRolesForm | None = None,
    brief_form: tuple[int, BriefForm] | None = None,
    error: str | None = None,
) -> str:
    user = actor()
    attendances = meeting_attendance(session, meeting)
    items = agenda_items(session, meeting)
    entries = build_agenda(session, user, meeting, items=items, record_authors=False)
    entries += [
        AgendaEntry(item, None)
        for item in pending_contributed_items(session, meeting, on_agenda=items)
    ]
    member = can_view_council(user, meeting.council)
    # Children past the council's upper age limit: "review whether to close" (secrecy's rule).
    age_review = (
        children_to_review(
            session,
            meeting.council,
            meeting_day(meeting.starts_at),
            [entry.item.child for entry in entries],
        )
        if member and meeting.status is MeetingStatus.PLANNED
        else set()
    )
    coordinator = is_meeting_coordinator(user, meeting)
    days = deadline_days()
    passed = deadline_passed(meeting, days)
    planned = meeting.status is MeetingStatus.PLANNED
    # A network meeting is about its one child: nothing is added to its agenda.
    network = is_network_meeting(session, meeting)
    can_add = member and planned and (coordinator or not passed) and not network
    form = agenda_form or AgendaItemForm(formdata=None)
    # A child carried over by open actions has no brief: the same members may give it one.
    # None: a blank form, which the template writes out (no WTForms form per item).
    brief_forms: dict[int, BriefForm | None] = {
        entry.item.child_id: None for entry in entries if can_add and entry.brief is None
    }
    if brief_form is not None and brief_form[0] in brief_forms:
        brief_forms[brief_form[0]] = brief_form[1]
    if can_add:
        _prepare_agenda_form(session, meeting, form)
    roles = roles_form or MeetingRolesForm(formdata=None)
    if coordinator and meeting.status is not MeetingStatus.CANCELLED:  # the form is shown
        _prepare_roles_form(session, meeting, roles, fill=roles_form is None)
    guests = guest_form or GuestForm(formdata=None)
    candidates = guest_candidates(session, meeting) if coordinator else []
    guests.user_id.choices = choices(
        [(0, _("Välj användare"))]
        + [(u.id, f"{u.display_name} – {u.agency.name}") for u in candidates]
    )
    # A refused form that the page no longer shows (the deadline passed, nobody left to invite)
    # still gets its messages, at the top.
    hidden = [
        f
        for f, shown in (
            (agenda_form, can_add),
            (guest_form, len(guests.user_id.choices) > 1),
            (
                brief_form[1] if brief_form else None,
                brief_form is not None and brief_form[0] in brief_forms,
            ),
        )
        if f is not None and not shown
    ]
    messages = " ".join(str(e) for f in hidden for errors in f.errors.values() for e in errors)
    if messages and (error is None or error == str(INVALID_FORM)):
        error = messages
    return render_template(
        "meetings/meeting.html",
        meeting=meeting,
        council=meeting.council,
        entries=entries,
        age_review=age_review,
        attendances=attendances,
        user=user,
        member=member,
        coordinator=coordinator,
        planned=planned,
        deadline=agenda_deadline(meeting, days),
        deadline_passed=passed,
        can_add=can_add,
        agenda_form=form,
        brief_forms=brief_forms,
        roles_form=roles,
        guest_form=guests,
        # Labels translated once per page, not once per row.
        # "Närvarande" only once the meeting has started (the service refuses it before).
        attendance_choices=[
            (c.value, str(c.label))
            for c in cast("list[Any]", AttendanceForm(formdata=None).status.choices)
            if c.value != AttendanceStatus.PRESENT.value or has_started(meeting)
        ],
        move_form=MoveItemForm(formdata=None),
        status_labels=MEETING_STATUS_LABELS,
        attendance_labels={k: str(v) for k, v in ATTENDANCE_LABELS.items()},
        source_labels={k: str(v) for k, v in SOURCE_LABELS.items()},
        categories=categories(),
        locale=locale(),
        error=error,
        links=_neighbour_links(
            user,
            meeting,
            member=member,
            coordinator=coordinator,
            network=network,
        ),
        texts=_row_texts(),
    )


def refused(session: Session, meeting: Meeting, **forms: Any) -> Render:
    """The page shown again with a refused form (``on_refusal``'s render)."""
    return lambda message: render_meeting(session, meeting, error=message, **forms)


def _row_texts() -> dict[str, str]:
    """The formatted texts of the attendance and agenda rows, translated once per page (the
    template fills them in per row with ``|format``)."""
    return {
        "attendance_of": _("Närvaro för %(name)s"),
        "brief_from": _("Lägesbeskrivning från %(agency)s."),
        "disclosed_under": _("Utlämnad med stöd av %(reference)s."),
        "remove_confirm": _("Ta bort %(pseudonym)s från dagordningen?"),
    }


def _neighbour_links(
    user: User, meeting: Meeting, *, member: bool, coordinator: bool, network: bool = False
) -> list[tuple[str, str]]:
    """Links to the other meeting pages (schedules, case sync), when those are installed and
    the viewer may use them; the endpoints belong to other modules of this package."""
    wanted: list[tuple[str, dict[str, Any], Any]] = []
    if network:
        wanted.append(("network.page", {"meeting_id": meeting.id}, _("Nätverksmöte")))
    if member:
        wanted.append(("schedules.meetings", {"council_id": meeting.council_id}, _("Alla möten")))
    if coordinator and meeting.status is MeetingStatus.PLANNED:
        wanted.append(
            ("schedules.move_meeting", {"meeting_id": meeting.id}, _("Flytta eller ställ in"))
        )
    if (
        member
        and meeting.council.kind is CouncilKind.BOB
        and user.agency.kind in (AgencyKind.POLICE, AgencyKind.SOCIAL_SERVICES)
    ):
        wanted.append(("casesync.page", {"meeting_id": meeting.id}, _("Ärendeavstämning")))
    if member and meeting.status is not MeetingStatus.CANCELLED and meeting.starts_at <= utcnow():
        # The minutes package serves it once the minutes are approved (until then it says so).
        wanted.append(
            (
                "minute_reports.minutes_pdf",
                {"meeting_id": meeting.id},
                _("Justerat protokoll (PDF)"),
            )
        )
    return [
        (url_for(endpoint, **args), str(label))
        for endpoint, args, label in wanted
        if endpoint in current_app.view_functions
    ]
