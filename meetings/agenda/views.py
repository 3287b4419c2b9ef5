"""Pages: the meeting page (time, place, roles, attendance, agenda with briefs), the projector
view, calendar files and the secret calendar feed.

Every page loads, checks access (the council's members, and guests of this one meeting; refusals
logged through ``deny``), calls one service, commits once and redirects. Briefs are shown only
through ``secrecy.records.reveal``; the projector view and calendars never show them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from coordination.db import db_session
from coordination.errors import PermissionDenied, ServiceError
from coordination.logreview import register_tag_labels
from coordination.models import AgencyKind, Child, CouncilKind, CouncilMembership, User
from coordination.policy import can_view_council
from coordination.web.forms import choices, parse_version
from coordination.web.page import actor, deny, show_service_error
from meetings import agenda
from meetings.agenda.forms import (
    ATTENDANCE_LABELS,
    MEETING_STATUS_LABELS,
    SOURCE_LABELS,
    AgendaItemForm,
    AttendanceForm,
    FeedTokenForm,
    GuestForm,
    MeetingRolesForm,
    MoveItemForm,
)
from meetings.calendar import services as calendar
from meetings.models import Attendance, AttendanceStatus, Meeting, MeetingStatus
from meetings.tags import MeetingTag
from secrecy.policy.categories import categories

bp = Blueprint("meetings", __name__, template_folder="templates")

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
    MeetingTag.CALENDAR_EXPORT.value: _l("Kalenderfil hämtad"),
    MeetingTag.FEED_TOKEN_CREATE.value: _l("Kalenderlänk skapad"),
    MeetingTag.FEED_TOKEN_REVOKE.value: _l("Kalenderlänk återkallad"),
}
ICS_MIMETYPE = "text/calendar"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.extensions.setdefault(agenda.CONTRIBUTORS, [])
    app.config.setdefault("AGENDA_DEADLINE_WORKING_DAYS", agenda.DEFAULT_DEADLINE_WORKING_DAYS)
    register_tag_labels(app, TAG_LABELS)


def _locale() -> str:
    return str(get_locale() or "sv")


def _deadline_days() -> int:
    return int(current_app.config["AGENDA_DEADLINE_WORKING_DAYS"])


def _load_meeting(session: Session, meeting_id: int) -> Meeting:
    """Load, then check access. An unknown id is refused like a forbidden one (no 404 oracle)."""
    meeting = agenda.find_meeting(session, meeting_id, members=False)
    if meeting is None or not agenda.can_view_meeting(session, actor(), meeting):
        deny(session, "meeting", meeting_id)
    return meeting


def _absolute(path: str) -> str:
    """Links that leave the app (calendar entries, feed URLs) use the configured BASE_URL, so
    they are right behind any proxy; without it, the request's own host."""
    base = current_app.config.get("BASE_URL")
    return f"{str(base).rstrip('/')}{path}" if base else f"{request.host_url.rstrip('/')}{path}"


def _meeting_link(meeting: Meeting) -> str:
    return _absolute(url_for("meetings.meeting", meeting_id=meeting.id))


def _page_url(meeting: Meeting, anchor: str = "") -> str:
    return url_for("meetings.meeting", meeting_id=meeting.id) + (f"#{anchor}" if anchor else "")


# --- The meeting page ---------------------------------------------------------------------------


def _prepare_agenda_form(session: Session, meeting: Meeting, form: AgendaItemForm) -> None:
    """The choices of the agenda form. The template writes the children's options itself:
    hundreds of them, and WTForms' widget costs several times more per option."""
    locale = _locale()
    form.child_id.choices = choices(
        [(0, _("Välj barn")), *agenda.addable_children(session, meeting)]
    )
    form.reason_category.choices = choices(
        [("", _("Välj skäl"))] + [(c.key, c.label(locale)) for c in agenda.reason_categories()]
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


def _attendances(session: Session, meeting: Meeting) -> Sequence[Attendance]:
    """The meeting's attendance rows with their users (not the users' roles: not shown)."""
    return session.scalars(
        select(Attendance)
        .where(Attendance.meeting_id == meeting.id)
        .options(selectinload(Attendance.user).lazyload(User.role_rows))
    ).all()


def _render_meeting(
    session: Session,
    meeting: Meeting,
    *,
    agenda_form: AgendaItemForm | None = None,
    guest_form: GuestForm | None = None,
    roles_form: MeetingRolesForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    user = actor()
    # Each list is loaded once and handed on; it is loaded again only after a change to it.
    attendances = _attendances(session, meeting)
    if agenda.ensure_invitations(session, user, meeting, attendances=attendances):
        attendances = _attendances(session, meeting)
    items = agenda.agenda_items(session, meeting)
    contributors = agenda.agenda_contributors(current_app)
    if agenda.add_contributed_items(
        session, meeting, contributors, on_agenda=[i.child_id for i in items]
    ):
        items = agenda.agenda_items(session, meeting)
    entries = agenda.build_agenda(session, user, meeting, items=items, record_authors=False)
    session.commit()  # invitations, contributed items and the reveal event: one transaction
    attendances = sorted(
        attendances, key=lambda a: (a.guest, a.user.agency.name, a.user.display_name, a.user_id)
    )
    member = can_view_council(user, meeting.council)
    coordinator = agenda.is_meeting_coordinator(user, meeting)
    days = _deadline_days()
    deadline = agenda.agenda_deadline(meeting, days)
    passed = agenda.deadline_passed(meeting, days)
    planned = meeting.status is MeetingStatus.PLANNED
    can_add = member and planned and (coordinator or not passed)
    form = agenda_form or AgendaItemForm(formdata=None)
    if can_add:
        _prepare_agenda_form(session, meeting, form)
    roles = roles_form or MeetingRolesForm(formdata=None)
    if coordinator and meeting.status is not MeetingStatus.CANCELLED:  # the form is shown
        _prepare_roles_form(session, meeting, roles, fill=roles_form is None)
    guests = guest_form or GuestForm(formdata=None)
    candidates = agenda.guest_candidates(session, meeting) if coordinator else []
    guests.user_id.choices = choices(
        [(0, _("Välj användare"))]
        + [(u.id, f"{u.display_name} – {u.agency.name}") for u in candidates]
    )
    # A refused form that the page no longer shows (the deadline passed, nobody left to invite)
    # still gets its message, at the top.
    hidden = [
        f
        for f, shown in ((agenda_form, can_add), (guest_form, len(guests.user_id.choices) > 1))
        if f is not None and not shown
    ]
    if error is None and hidden:
        error = (
            " ".join(str(e) for f in hidden for errors in f.errors.values() for e in errors) or None
        )
    return render_template(
        "meetings/meeting.html",
        meeting=meeting,
        council=meeting.council,
        entries=entries,
        attendances=attendances,
        user=user,
        member=member,
        coordinator=coordinator,
        planned=planned,
        deadline=deadline,
        deadline_passed=passed,
        can_add=can_add,
        agenda_form=form,
        roles_form=roles,
        guest_form=guests,
        # Labels translated once per page, not once per row.
        attendance_choices=[
            (c.value, str(c.label)) for c in AttendanceForm(formdata=None).status.choices
        ],
        move_form=MoveItemForm(formdata=None),
        status_labels=MEETING_STATUS_LABELS,
        attendance_labels={k: str(v) for k, v in ATTENDANCE_LABELS.items()},
        source_labels={k: str(v) for k, v in SOURCE_LABELS.items()},
        categories=categories(),
        locale=_locale(),
        error=error,
        links=_neighbour_links(user, meeting, member=member, coordinator=coordinator),
        texts=_row_texts(),
    ), status


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
    user: User, meeting: Meeting, *, member: bool, coordinator: bool
) -> list[tuple[str, str]]:
    """Links to the other meeting pages (schedules, case sync), when those are installed and
    the viewer may use them; the endpoints belong to other modules of this package."""
    wanted: list[tuple[str, dict[str, Any], Any]] = []
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
    return [
        (url_for(endpoint, **args), str(label))
        for endpoint, args, label in wanted
        if endpoint in current_app.view_functions
    ]


@bp.route("/meetings/<int:meeting_id>")
@login_required
def meeting(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    return _render_meeting(session, _load_meeting(session, meeting_id))


@bp.route("/meetings/<int:meeting_id>/agenda", methods=["POST"])
@login_required
def add_agenda_item(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_meeting(session, meeting_id)
    form = AgendaItemForm()
    error = None
    if form.validate_on_submit():
        child = session.get(Child, form.child_id.data) if form.child_id.data else None
        try:
            agenda.add_agenda_item(
                session,
                actor(),
                meeting,
                child,
                form.reason_category.data or "",
                form.brief.data or "",
                deadline_working_days=_deadline_days(),
            )
        except PermissionDenied:
            session.rollback()
            deny(session, "meeting", meeting_id)
        except ServiceError as exc:
            session.rollback()
            error = show_service_error(form, exc)
        else:
            session.commit()
            flash(_("Barnet är tillagt på dagordningen."), "success")
            return redirect(_page_url(meeting, "agenda"))
    return _render_meeting(session, meeting, agenda_form=form, error=error, status=422)


def _act_and_flash(
    session: Session, meeting: Meeting, action: Callable[[], object], success: str | None
) -> None:
    """One service call for a small POST: commit and flash success, or roll back and flash the
    refusal; a refused permission is logged as a denial (403)."""
    try:
        action()
    except PermissionDenied:
        session.rollback()
        deny(session, "meeting", meeting.id)
    except ServiceError as exc:
        session.rollback()
        flash(str(exc.message), "error")
    else:
        session.commit()
        if success:
            flash(success, "success")


def _position_from(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@bp.route("/meetings/<int:meeting_id>/agenda/<int:item_id>/move", methods=["POST"])
@login_required
def move_agenda_item(meeting_id: int, item_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_meeting(session, meeting_id)
    form = MoveItemForm()
    if form.validate_on_submit():
        expected = _position_from(form.expected_position.data)
        to = (form.to.data or "").strip()
        target = _position_from(to)
        if to in ("up", "down") and expected is not None:
            target = expected - 1 if to == "up" else expected + 1

        def move() -> None:
            if target is None:
                raise ServiceError(_("Ange en plats på dagordningen."))
            agenda.move_agenda_item(session, actor(), meeting, item_id, target, expected)

        _act_and_flash(session, meeting, move, None)
    return redirect(_page_url(meeting, "agenda"))


@bp.route("/meetings/<int:meeting_id>/agenda/<int:item_id>/remove", methods=["POST"])
@login_required
def remove_agenda_item(meeting_id: int, item_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_meeting(session, meeting_id)
    if MoveItemForm().validate_on_submit():
        _act_and_flash(
            session,
            meeting,
            lambda: agenda.remove_agenda_item(
                session, actor(), meeting, item_id, deadline_working_days=_deadline_days()
            ),
            _("Punkten är borttagen från dagordningen."),
        )
    return redirect(_page_url(meeting, "agenda"))


@bp.route("/meetings/<int:meeting_id>/attendance/<int:user_id>", methods=["POST"])
@login_required
def set_attendance(meeting_id: int, user_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_meeting(session, meeting_id)
    form = AttendanceForm()
    if form.validate_on_submit():

        def save() -> None:
            value = form.status.data or ""
            if value not in {s.value for s in agenda.SETTABLE_STATUSES}:
                raise ServiceError(_("Välj närvarande, frånvarande eller anmält förhinder."))
            agenda.set_attendance(session, actor(), meeting, user_id, AttendanceStatus(value))

        _act_and_flash(session, meeting, save, _("Närvaron är sparad."))
    return redirect(_page_url(meeting, "attendance"))


@bp.route("/meetings/<int:meeting_id>/guests", methods=["POST"])
@login_required
def add_guest(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_meeting(session, meeting_id)
    form = GuestForm()
    error = None
    if form.validate_on_submit():
        guest = session.get(User, form.user_id.data) if form.user_id.data else None
        try:
            agenda.add_guest(session, actor(), meeting, guest)
        except PermissionDenied:
            session.rollback()
            deny(session, "meeting", meeting_id)
        except ServiceError as exc:
            session.rollback()
            error = show_service_error(form, exc)
        else:
            session.commit()
            flash(_("Gästen är inbjuden till mötet."), "success")
            return redirect(_page_url(meeting, "attendance"))
    return _render_meeting(session, meeting, guest_form=form, error=error, status=422)


@bp.route("/meetings/<int:meeting_id>/guests/<int:user_id>/remove", methods=["POST"])
@login_required
def remove_guest(meeting_id: int, user_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_meeting(session, meeting_id)
    if MoveItemForm().validate_on_submit():
        _act_and_flash(
            session,
            meeting,
            lambda: agenda.remove_guest(session, actor(), meeting, user_id),
            _("Gästen är borttagen från mötet."),
        )
    return redirect(_page_url(meeting, "attendance"))


@bp.route("/meetings/<int:meeting_id>/roles", methods=["POST"])
@login_required
def set_roles(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_meeting(session, meeting_id)
    form = MeetingRolesForm()
    error = None
    if form.validate_on_submit():
        try:
            agenda.set_meeting_roles(
                session,
                actor(),
                meeting,
                form.chair_id.data or None,
                form.minute_taker_id.data or None,
                expected_version=parse_version(form.version.data),
            )
        except PermissionDenied:
            session.rollback()
            deny(session, "meeting", meeting_id)
        except ServiceError as exc:
            session.rollback()
            error = show_service_error(form, exc)
        else:
            session.commit()
            flash(_("Ordförande och sekreterare är sparade."), "success")
            return redirect(_page_url(meeting))
    return _render_meeting(session, meeting, roles_form=form, error=error, status=422)


# --- The shared screen --------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>/projector")
@login_required
def projector(meeting_id: int) -> ResponseReturnValue:
    """For the screen everyone in the room sees: order, pseudonyms and the reasons' categories.
    No briefs, no names, no agencies; the page does not even extend the layout that names the
    logged-in user."""
    session = db_session()
    meeting = _load_meeting(session, meeting_id)
    agenda.add_contributed_items(session, meeting, agenda.agenda_contributors(current_app))
    items = agenda.agenda_items(session, meeting)
    session.commit()
    return render_template(
        "meetings/projector.html",
        meeting=meeting,
        items=items,
        categories=categories(),
        locale=_locale(),
    )


# --- Calendars ----------------------------------------------------------------------------------


def _ics_response(body: bytes, filename: str | None = None) -> Response:
    response = Response(body, mimetype=ICS_MIMETYPE)
    response.headers["Content-Type"] = f"{ICS_MIMETYPE}; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/meetings/<int:meeting_id>/meeting.ics")
@login_required
def meeting_ics(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_meeting(session, meeting_id)
    body = calendar.render_calendar([meeting], _meeting_link)
    calendar.log_meeting_export(session, actor(), meeting)
    session.commit()
    return _ics_response(body, f"mote-{meeting.id}.ics")


def _feed_url(token: str) -> str:
    return _absolute(url_for("meetings.feed", token=token))


@bp.route("/calendar")
@login_required
def calendar_page() -> ResponseReturnValue:
    session = db_session()
    return render_template(
        "meetings/calendar.html",
        token=calendar.active_feed_token(session, actor()),
        form=FeedTokenForm(formdata=None),
        past_months=calendar.FEED_PAST.months,
        future_months=calendar.FEED_FUTURE.months,
    )


@bp.route("/calendar/token", methods=["POST"])
@login_required
def create_feed_token() -> ResponseReturnValue:
    session = db_session()
    if not FeedTokenForm().validate_on_submit():
        return redirect(url_for("meetings.calendar_page"))
    row, token = calendar.create_feed_token(session, actor())
    session.commit()
    # Shown once, in this response: the token is not stored anywhere it could be read back.
    return render_template("meetings/feed_created.html", feed_url=_feed_url(token), row=row)


@bp.route("/calendar/token/revoke", methods=["POST"])
@login_required
def revoke_feed_token() -> ResponseReturnValue:
    session = db_session()
    if FeedTokenForm().validate_on_submit():
        if calendar.revoke_feed_token(session, actor()):
            session.commit()
            flash(_("Kalenderlänken är återkallad och slutar fungera nu."), "success")
        else:
            flash(_("Du har ingen aktiv kalenderlänk."), "info")
    return redirect(url_for("meetings.calendar_page"))


def _plain(text: str, status: int) -> Response:
    response = Response(text, status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/calendar/<token>.ics")
def feed(token: str) -> ResponseReturnValue:
    """The secret feed: no login (calendar apps cannot log in); the token is the credential."""
    session = db_session()
    row = calendar.find_feed_token(session, token)
    if row is None:
        return _plain(_("Kalenderlänken finns inte."), 404)
    owner = session.get(User, row.user_id)
    if row.revoked_at is not None or owner is None or not owner.is_active:
        return _plain(_("Kalenderlänken har återkallats."), 410)
    body = calendar.render_calendar(
        calendar.feed_meetings(session, owner), _meeting_link, name=_("Samverkan – möten")
    )
    calendar.mark_feed_used(row)
    session.commit()
    return _ics_response(body)
