"""Pages: the meeting page (time, place, roles, attendance, agenda with briefs) and its forms,
and the projector view.

Every page runs through the page wrapper: it loads the meeting through ``meeting_for`` (the
council's members, and guests of this one meeting; refusals logged by the wrapper), calls one
service and redirects; the wrapper commits once. Briefs are shown only through
``secrecy.records.reveal``; the projector view never shows them. The calendar pages are in
``meetings.calendar.views``.
"""

from __future__ import annotations

from flask import Flask, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.orm import Session

from coordination.db import db_session
from coordination.errors import ServiceError
from coordination.logreview.scopes import register_tag_labels
from coordination.models import Child, User
from coordination.numbers import plain_int
from coordination.policy import Need
from coordination.web.converters import MAX_DB_ID
from coordination.web.forms import parse_version
from coordination.web.page import (
    PageBlueprint,
    actor,
    button_post,
    on_refusal,
    require_valid,
)
from coordination.web.params import BadParameter, bounded_int
from meetings.agenda import attendance, briefs, items
from meetings.agenda.access import meeting_for
from meetings.agenda.deadline import DEFAULT_DEADLINE_WORKING_DAYS
from meetings.agenda.forms import (
    AgendaItemForm,
    AttendanceForm,
    BriefForm,
    GuestForm,
    MeetingRolesForm,
    MoveItemForm,
)
from meetings.agenda.meeting_page import (
    agenda_with_pending,
    deadline_days,
    locale,
    page_url,
    refused,
    render_meeting,
)
from meetings.models import AttendanceStatus, Meeting
from meetings.tags import MeetingTag
from secrecy.policy.categories import categories

bp = PageBlueprint("meetings", __name__, template_folder="templates")

TAG_LABELS = {
    MeetingTag.MEETING_ROLES.value: _l("Ordförande och sekreterare utsedda"),
    MeetingTag.ATTENDANCE_INVITE.value: _l("Kallelser skapade"),
    MeetingTag.ATTENDANCE_SET.value: _l("Närvaro registrerad"),
    MeetingTag.GUEST_ADD.value: _l("Gäst inbjuden"),
    MeetingTag.GUEST_REMOVE.value: _l("Gäst borttagen"),
    MeetingTag.AGENDA_ADD.value: _l("Barn anmält till dagordningen"),
    MeetingTag.AGENDA_MOVE.value: _l("Dagordningen omordnad"),
    MeetingTag.AGENDA_REMOVE.value: _l("Barn borttaget från dagordningen"),
    MeetingTag.AGENDA_CONTRIBUTED.value: _l("Barn med öppna åtgärder satta på dagordningen"),
    MeetingTag.AGENDA_BRIEF.value: _l("Lägesbeskrivning tillagd på dagordningen"),
    MeetingTag.CALENDAR_EXPORT.value: _l("Kalenderfil hämtad"),
    MeetingTag.FEED_TOKEN_CREATE.value: _l("Kalenderlänk skapad"),
    MeetingTag.FEED_TOKEN_REVOKE.value: _l("Kalenderlänk återkallad"),
}
# Far beyond any agenda; a longer number in the form is no position at all.
MAX_POSITION_DIGITS = 6


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.config.setdefault("AGENDA_DEADLINE_WORKING_DAYS", DEFAULT_DEADLINE_WORKING_DAYS)
    register_tag_labels(app, TAG_LABELS)


def requested_meeting(meeting_id: int, need: Need) -> tuple[Session, Meeting]:
    """The request's session and the meeting of the URL, loaded through ``meeting_for`` for the
    logged-in user with ``need`` (VIEW: a council member or a guest of this meeting)."""
    session = db_session()
    return session, meeting_for(session, actor(), meeting_id, need)


@bp.page("/meetings/<int:meeting_id>")
def meeting(meeting_id: int) -> ResponseReturnValue:
    session, meeting = requested_meeting(meeting_id, Need.VIEW)
    return render_meeting(session, meeting)


@bp.page("/meetings/<int:meeting_id>/agenda", methods=["POST"])
def add_agenda_item(meeting_id: int) -> ResponseReturnValue:
    session, meeting = requested_meeting(meeting_id, Need.VIEW)
    form = AgendaItemForm()
    on_refusal(form, refused(session, meeting, agenda_form=form))
    require_valid(form)
    child = session.get(Child, form.child_id.data) if form.child_id.data else None
    items.add_agenda_item(
        session,
        actor(),
        meeting,
        child,
        form.reason_category.data or "",
        form.brief.data or "",
        deadline_working_days=deadline_days(),
    )
    flash(_("Barnet är tillagt på dagordningen."), "success")
    return redirect(page_url(meeting))


def _position_from(raw: str | None) -> int | None:
    return plain_int((raw or "").strip(), max_digits=MAX_POSITION_DIGITS)


@bp.page("/meetings/<int:meeting_id>/agenda/children/<int:child_id>/brief", methods=["POST"])
def add_brief(meeting_id: int, child_id: int) -> ResponseReturnValue:
    """A brief for a child carried over by open actions (by child id: a carried-over child not
    yet written onto the agenda has no item id)."""
    session, meeting = requested_meeting(meeting_id, Need.VIEW)
    form = BriefForm(prefix=f"b{child_id}")
    on_refusal(form, refused(session, meeting, brief_form=(child_id, form)))
    require_valid(form)
    briefs.add_brief(
        session,
        actor(),
        meeting,
        session.get(Child, child_id),
        form.brief.data or "",
        deadline_working_days=deadline_days(),
    )
    flash(_("Lägesbeskrivningen är sparad."), "success")
    return redirect(page_url(meeting, "agenda"))


@bp.page("/meetings/<int:meeting_id>/agenda/<int:item_id>/move", methods=["POST"])
def move_agenda_item(meeting_id: int, item_id: int) -> ResponseReturnValue:
    session, meeting = requested_meeting(meeting_id, Need.VIEW)
    form = MoveItemForm()

    def move() -> None:
        expected = _position_from(form.expected_position.data)
        to = (form.to.data or "").strip()
        target = _position_from(to)
        if to in ("up", "down") and expected is not None:
            target = expected - 1 if to == "up" else expected + 1
        if target is None:
            raise ServiceError(_("Ange en plats på dagordningen."))
        items.move_agenda_item(session, actor(), meeting, item_id, target, expected)

    return button_post(form, page_url(meeting), move)


@bp.page("/meetings/<int:meeting_id>/agenda/<int:item_id>/remove", methods=["POST"])
def remove_agenda_item(meeting_id: int, item_id: int) -> ResponseReturnValue:
    session, meeting = requested_meeting(meeting_id, Need.VIEW)
    return button_post(
        MoveItemForm(),
        page_url(meeting),
        lambda: items.remove_agenda_item(
            session, actor(), meeting, item_id, deadline_working_days=deadline_days()
        ),
        _("Punkten är borttagen från dagordningen."),
    )


def _settable_status(value: str) -> AttendanceStatus:
    settable = {s.value: s for s in attendance.SETTABLE_STATUSES}
    if value not in settable:
        raise ServiceError(_("Välj närvarande, frånvarande eller anmält förhinder."))
    return settable[value]


@bp.page("/meetings/<int:meeting_id>/attendance/<int:user_id>", methods=["POST"])
def set_attendance(meeting_id: int, user_id: int) -> ResponseReturnValue:
    session, meeting = requested_meeting(meeting_id, Need.VIEW)
    form = AttendanceForm()
    return button_post(
        form,
        page_url(meeting),
        lambda: attendance.set_attendance(
            session, actor(), meeting, user_id, _settable_status(form.status.data or "")
        ),
        _("Närvaron är sparad."),
    )


@bp.page("/meetings/<int:meeting_id>/attendance", methods=["POST"])
def set_attendances(meeting_id: int) -> ResponseReturnValue:
    """The attendance form of the whole meeting: ``status-<user id>`` per person shown with a
    select (a person left as invited sends nothing)."""
    session, meeting = requested_meeting(meeting_id, Need.VIEW)

    def set_all() -> None:
        statuses: dict[int, AttendanceStatus] = {}
        for key, value in request.form.items():
            if not key.startswith("status-") or not value:
                continue
            user_id = bounded_int(key.removeprefix("status-"), low=1, high=MAX_DB_ID)
            if user_id is None:
                raise BadParameter()
            statuses[user_id] = _settable_status(value)
        changed = attendance.set_attendances(session, actor(), meeting, statuses)
        flash(
            ngettext(
                "Närvaron är sparad. %(num)s person ändrad.",
                "Närvaron är sparad. %(num)s personer ändrade.",
                changed,
            ),
            "success",
        )

    return button_post(AttendanceForm(), page_url(meeting), set_all)


@bp.page("/meetings/<int:meeting_id>/guests", methods=["POST"])
def add_guest(meeting_id: int) -> ResponseReturnValue:
    session, meeting = requested_meeting(meeting_id, Need.VIEW)
    form = GuestForm()
    on_refusal(form, refused(session, meeting, guest_form=form))
    require_valid(form)
    guest = session.get(User, form.user_id.data) if form.user_id.data else None
    attendance.add_guest(session, actor(), meeting, guest)
    flash(_("Gästen är inbjuden till mötet."), "success")
    return redirect(page_url(meeting))


@bp.page("/meetings/<int:meeting_id>/guests/<int:user_id>/remove", methods=["POST"])
def remove_guest(meeting_id: int, user_id: int) -> ResponseReturnValue:
    session, meeting = requested_meeting(meeting_id, Need.VIEW)
    return button_post(
        MoveItemForm(),
        page_url(meeting),
        lambda: attendance.remove_guest(session, actor(), meeting, user_id),
        _("Gästen är borttagen från mötet."),
    )


@bp.page("/meetings/<int:meeting_id>/roles", methods=["POST"])
def set_roles(meeting_id: int) -> ResponseReturnValue:
    session, meeting = requested_meeting(meeting_id, Need.VIEW)
    form = MeetingRolesForm()
    on_refusal(form, refused(session, meeting, roles_form=form))
    require_valid(form)
    attendance.set_meeting_roles(
        session,
        actor(),
        meeting,
        form.chair_id.data or None,
        form.minute_taker_id.data or None,
        expected_version=parse_version(form.version.data),
    )
    flash(_("Ordförande och sekreterare är sparade."), "success")
    return redirect(page_url(meeting))


@bp.page("/meetings/<int:meeting_id>/projector")
def projector(meeting_id: int) -> ResponseReturnValue:
    """For the screen everyone in the room sees: order, pseudonyms and the reasons' categories.
    No briefs, no names, no agencies; the page does not even extend the layout that names the
    logged-in user."""
    session, meeting = requested_meeting(meeting_id, Need.VIEW)
    return render_template(
        "meetings/projector.html",
        meeting=meeting,
        items=agenda_with_pending(session, meeting),
        categories=categories(),
        locale=locale(),
    )
