"""Attendance on the meeting page: invitations of the council's members, attendance statuses,
guests invited to one meeting, and the chair and minute taker.

Materialising a schedule and adding a meeting invite the council's active members. A member
who joined the council later has no row yet: pages and API show them as invited without writing
(``meeting_attendance``), and the row is written when attendance is first set.

Services take ``(session, actor, ...)``, validate, change, flush and append their audit event in
the caller's transaction; they never commit.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload, selectinload

from coordination.audit.log import record_event
from coordination.errors import ConflictError, PermissionDenied, ServiceError
from coordination.models import Agency, CouncilMembership, User
from coordination.policy import membership_in
from meetings.agenda.access import (
    NOT_STARTED_ATTENDANCE,
    can_view_meeting,
    is_meeting_coordinator,
    require_coordinator,
    require_not_cancelled,
    require_started,
)
from meetings.models import Attendance, AttendanceStatus, Meeting, MeetingStatus
from meetings.tags import MeetingTag

SETTABLE_STATUSES = (AttendanceStatus.PRESENT, AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED)


def uninvited_member_ids(
    session: Session, meeting: Meeting, *, attendances: Sequence[Attendance] | None = None
) -> list[int]:
    """The council's active members that ``ensure_invitations`` would invite now (read only:
    the API shows them as invited without writing). ``attendances``: the meeting's rows, when
    the caller has just loaded them."""
    rows: list[tuple[int, bool]] = (
        [(a.user_id, a.guest) for a in attendances]
        if attendances is not None
        else [
            (row.user_id, row.guest)
            for row in session.execute(
                select(Attendance.user_id, Attendance.guest).where(
                    Attendance.meeting_id == meeting.id
                )
            )
        ]
    )
    existing = {user_id for user_id, _guest in rows}
    if meeting.status is not MeetingStatus.PLANNED and any(not guest for _id, guest in rows):
        return []
    member_ids = session.scalars(
        select(CouncilMembership.user_id)
        .join(User, User.id == CouncilMembership.user_id)
        .where(CouncilMembership.council_id == meeting.council_id, User.active.is_(True))
        .order_by(CouncilMembership.user_id)
    ).all()
    return [user_id for user_id in member_ids if user_id not in existing]


@dataclass(frozen=True)
class AttendanceRow:
    """One line of a meeting's attendance as pages and API show it (an invitation not yet
    written is shown as invited)."""

    user: User
    status: AttendanceStatus
    guest: bool

    @property
    def user_id(self) -> int:
        return self.user.id


def agencies_attending(
    session: Session, meeting_id: int, statuses: Collection[AttendanceStatus]
) -> list[Agency]:
    """The agencies with a user of one of ``statuses`` at the meeting, in name order."""
    return list(
        session.scalars(
            select(Agency)
            .join(User, User.agency_id == Agency.id)
            .join(Attendance, Attendance.user_id == User.id)
            .where(Attendance.meeting_id == meeting_id, Attendance.status.in_(statuses))
            .distinct()
            .order_by(Agency.name, Agency.id)
        )
    )


def meeting_attendance(session: Session, meeting: Meeting) -> list[AttendanceRow]:
    """The attendance rows, plus the council's members without a row yet (shown as invited,
    not written), in the page's order: members first, then guests, by agency and name."""
    rows = session.scalars(
        select(Attendance)
        .where(Attendance.meeting_id == meeting.id)
        .options(selectinload(Attendance.user).lazyload(User.role_rows))
    ).all()
    shown = [AttendanceRow(row.user, row.status, row.guest) for row in rows]
    uninvited = uninvited_member_ids(session, meeting, attendances=rows)
    if uninvited:
        users = session.scalars(
            select(User).where(User.id.in_(uninvited)).options(lazyload(User.role_rows))
        ).all()
        shown += [AttendanceRow(user, AttendanceStatus.INVITED, False) for user in users]
    return sorted(
        shown, key=lambda a: (a.guest, a.user.agency.name, a.user.display_name, a.user.id)
    )


def ensure_invitations(
    session: Session,
    actor: User | None,
    meeting: Meeting,
    *,
    attendances: Sequence[Attendance] | None = None,
) -> int:
    """Invite the council's active members who have no attendance row yet; returns how many.

    Materialising a schedule normally creates the invitations; this fills the gap for members
    who joined later while the meeting is still planned, when attendance is first set.
    A held or cancelled meeting that already has invitations is history and stays as it is.
    ``attendances`` as for ``uninvited_member_ids``.
    """
    missing = uninvited_member_ids(session, meeting, attendances=attendances)
    if not missing:
        return 0
    try:
        with session.begin_nested():
            session.add_all(
                Attendance(
                    meeting_id=meeting.id,
                    user_id=user_id,
                    status=AttendanceStatus.INVITED,
                    guest=False,
                )
                for user_id in missing
            )
            session.flush()
    except IntegrityError:
        # Another request invited them first; what it wrote is what we wanted.
        session.expire(meeting, ["attendances"])
        return 0
    session.expire(meeting, ["attendances"])
    record_event(
        session, actor, MeetingTag.ATTENDANCE_INVITE, on=meeting, details={"user_ids": missing}
    )
    return len(missing)


def set_attendance(
    session: Session, actor: User, meeting: Meeting, user_id: int, status: AttendanceStatus
) -> Attendance:
    """The coordinator records anyone's attendance; everyone else only their own."""
    own = actor.id == user_id and can_view_meeting(session, actor, meeting)
    if not own and not is_meeting_coordinator(actor, meeting):
        raise PermissionDenied()
    require_not_cancelled(meeting)
    if status not in SETTABLE_STATUSES:
        raise ServiceError(_l("Välj närvarande, frånvarande eller anmält förhinder."), "status")
    if status is AttendanceStatus.PRESENT:
        require_started(meeting, NOT_STARTED_ATTENDANCE, field="status")
    row = session.get(Attendance, (meeting.id, user_id))
    if row is None and user_id in uninvited_member_ids(session, meeting):
        ensure_invitations(session, actor, meeting)  # shown as invited: written now
        row = session.get(Attendance, (meeting.id, user_id))
    if row is None:
        raise ServiceError(_l("Personen är inte kallad till mötet."), field="status")
    if row.status is status:
        return row
    previous = row.status
    row.status = status
    session.flush()
    record_event(
        session,
        actor,
        MeetingTag.ATTENDANCE_SET,
        on=meeting,
        details={"user_id": user_id, "status": str(status), "previous": str(previous)},
    )
    return row


def set_attendances(
    session: Session, actor: User, meeting: Meeting, statuses: dict[int, AttendanceStatus]
) -> int:
    """The whole meeting's attendance from one form, in the caller's one transaction: each
    person as ``set_attendance`` (the same checks, one audit event per change); a refusal for
    one person leaves every row as it was. Returns how many rows changed."""
    if not statuses:
        raise ServiceError(_l("Välj närvaro för minst en person."))
    changed = 0
    for user_id, status in sorted(statuses.items()):
        before = session.get(Attendance, (meeting.id, user_id))
        previous = before.status if before is not None else AttendanceStatus.INVITED
        set_attendance(session, actor, meeting, user_id, status)
        changed += previous is not status
    return changed


def guest_candidates(session: Session, meeting: Meeting) -> Sequence[User]:
    """Active users of the council's agencies who are neither members nor already invited."""
    agency_ids = [a.id for a in meeting.council.agencies]
    if not agency_ids:
        return []
    members = select(CouncilMembership.user_id).where(
        CouncilMembership.council_id == meeting.council_id
    )
    invited = select(Attendance.user_id).where(Attendance.meeting_id == meeting.id)
    return session.scalars(
        select(User)
        .where(
            User.agency_id.in_(agency_ids),
            User.active.is_(True),
            User.id.not_in(members),
            User.id.not_in(invited),
        )
        .order_by(User.display_name)
    ).all()


def add_guest(session: Session, actor: User, meeting: Meeting, guest: User | None) -> Attendance:
    """A user of one of the council's agencies joins this one meeting (not the council)."""
    require_coordinator(actor, meeting)
    require_not_cancelled(meeting)
    if guest is None or not guest.is_active:
        raise ServiceError(_l("Välj en användare."), field="user_id")
    if guest.agency_id not in {a.id for a in meeting.council.agencies}:
        raise ServiceError(
            _l("Gäster måste höra till en av forumets deltagande myndigheter."), field="user_id"
        )
    if membership_in(guest, meeting.council) is not None:
        raise ServiceError(_l("Personen är redan medlem i forumet."), field="user_id")
    if session.get(Attendance, (meeting.id, guest.id)) is not None:
        raise ServiceError(_l("Personen är redan kallad till mötet."), field="user_id")
    row = Attendance(
        meeting_id=meeting.id, user_id=guest.id, status=AttendanceStatus.INVITED, guest=True
    )
    session.add(row)
    session.flush()
    session.expire(meeting, ["attendances"])
    record_event(
        session,
        actor,
        MeetingTag.GUEST_ADD,
        on=meeting,
        details={"user_id": guest.id, "agency_id": guest.agency_id},
    )
    return row


def remove_guest(session: Session, actor: User, meeting: Meeting, user_id: int) -> None:
    require_coordinator(actor, meeting)
    row = session.get(Attendance, (meeting.id, user_id))
    if row is None or not row.guest:
        raise ServiceError(_l("Personen är inte gäst på mötet."))
    session.delete(row)
    session.flush()
    session.expire(meeting, ["attendances"])
    record_event(session, actor, MeetingTag.GUEST_REMOVE, on=meeting, details={"user_id": user_id})


def set_meeting_roles(
    session: Session,
    actor: User,
    meeting: Meeting,
    chair_id: int | None,
    minute_taker_id: int | None,
    expected_version: int | None,
) -> None:
    """The coordinator names the chair and the minute taker among the council's members."""
    require_coordinator(actor, meeting)
    require_not_cancelled(meeting)
    if expected_version is None or meeting.version != expected_version:
        raise ConflictError()  # a form without its version cannot prove it saw the latest
    member_ids = {m.user_id for m in meeting.council.memberships}
    if chair_id is not None and chair_id not in member_ids:
        raise ServiceError(_l("Ordföranden måste vara medlem i forumet."), field="chair_id")
    if minute_taker_id is not None and minute_taker_id not in member_ids:
        raise ServiceError(_l("Sekreteraren måste vara medlem i forumet."), field="minute_taker_id")
    if (meeting.chair_id, meeting.minute_taker_id) == (chair_id, minute_taker_id):
        return
    meeting.chair_id = chair_id
    meeting.minute_taker_id = minute_taker_id
    session.flush()
    session.expire(meeting, ["chair", "minute_taker"])
    record_event(
        session,
        actor,
        MeetingTag.MEETING_ROLES,
        on=meeting,
        details={"chair_id": chair_id, "minute_taker_id": minute_taker_id},
    )
