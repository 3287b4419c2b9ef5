"""The meeting page's services: who may open a meeting, attendance (invitations, statuses,
guests), chair and minute taker, and the agenda (children, sealed briefs, order, deadline).

Services take ``(session, actor, ...)``, validate, change, flush and append their audit event in
the caller's transaction; they never commit. Briefs are records of the writer's agency (category
``meeting_note``) created through ``secrecy.services`` and read only through ``secrecy.reveal``.

Extension point for the minutes package: children with open agreed actions must appear on the
agenda by themselves. Minutes sit above meetings, so meetings cannot ask for them; instead an
upper layer registers a contributor with ``register_agenda_contributor(app, contributor)``. A
contributor is ``(session, meeting) -> child ids``; the meeting page passes every registered one
to ``add_contributed_items``, which puts the children on the agenda with source
``OPEN_ACTIONS`` (children of the meeting's council with an active case only, never twice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import holidays
from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from coordination.audit import record_event
from coordination.db import LOCAL_ZONE, today_local
from coordination.models import Child, ChildStatus, CouncilMembership, CouncilRole, User
from coordination.policy import can_view_council, membership_in
from coordination.services import ConflictError, PermissionDenied, ServiceError
from meetings.models import (
    AgendaItem,
    AgendaSource,
    Attendance,
    AttendanceStatus,
    Meeting,
    MeetingStatus,
)
from meetings.tags import MeetingTag
from secrecy.categories import IDENTITY, Category, categories
from secrecy.models import Record
from secrecy.reveal import RevealResult, reveal_records
from secrecy.services import create_record

BRIEF_CATEGORY = "meeting_note"
# Why a child is on the agenda: any category of information except these two.
EXCLUDED_REASON_CATEGORIES = frozenset({IDENTITY, "consent"})
OPEN_ACTIONS_CATEGORY = "agreed_action"
DEFAULT_DEADLINE_WORKING_DAYS = 3
MAX_BRIEF = 4000
CONTRIBUTORS = "samverkan.agenda_contributors"

AgendaContributor = Callable[[Session, Meeting], Iterable[int]]


# --- Access -------------------------------------------------------------------------------------


def is_meeting_coordinator(user: User, meeting: Meeting) -> bool:
    """The coordinators of the meeting's council (their council role, not a global role)."""
    membership = membership_in(user, meeting.council)
    return (
        user.is_active
        and membership is not None
        and membership.council_role is CouncilRole.COORDINATOR
    )


def guest_attendance(session: Session, user: User, meeting: Meeting) -> Attendance | None:
    row = session.get(Attendance, (meeting.id, user.id))
    return row if row is not None and row.guest else None


def can_view_meeting(session: Session, user: User, meeting: Meeting) -> bool:
    """Members of the council, and guests invited to this one meeting."""
    if not user.is_active:
        return False
    return can_view_council(user, meeting.council) or (
        guest_attendance(session, user, meeting) is not None
    )


def _require_member(actor: User, meeting: Meeting) -> None:
    if not can_view_council(actor, meeting.council):
        raise PermissionDenied()


def _require_coordinator(actor: User, meeting: Meeting) -> None:
    if not is_meeting_coordinator(actor, meeting):
        raise PermissionDenied()


def _require_not_cancelled(meeting: Meeting) -> None:
    if meeting.status is MeetingStatus.CANCELLED:
        raise ServiceError(_l("Mötet är inställt."))


def _require_planned(meeting: Meeting) -> None:
    if meeting.status is not MeetingStatus.PLANNED:
        raise ServiceError(_l("Dagordningen kan bara ändras för möten som inte har hållits."))


def _lock_meeting(session: Session, meeting: Meeting) -> None:
    """Agenda changes queue on the meeting row (PostgreSQL); SQLite has one writer anyway."""
    session.execute(select(Meeting.id).where(Meeting.id == meeting.id).with_for_update())


# --- Attendance ---------------------------------------------------------------------------------


def ensure_invitations(session: Session, actor: User | None, meeting: Meeting) -> int:
    """Invite the council's active members who have no attendance row yet; returns how many.

    Materialising a schedule normally creates the invitations; this fills the gap for meetings
    created without them, and for members who joined later while the meeting is still planned.
    A held or cancelled meeting that already has invitations is history and stays as it is.
    """
    rows = session.execute(
        select(Attendance.user_id, Attendance.guest).where(Attendance.meeting_id == meeting.id)
    ).all()
    existing = {row.user_id for row in rows}
    if meeting.status is not MeetingStatus.PLANNED and any(not row.guest for row in rows):
        return 0
    member_ids = session.scalars(
        select(CouncilMembership.user_id)
        .join(User, User.id == CouncilMembership.user_id)
        .where(CouncilMembership.council_id == meeting.council_id, User.active.is_(True))
        .order_by(CouncilMembership.user_id)
    ).all()
    missing = [user_id for user_id in member_ids if user_id not in existing]
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
        session,
        actor,
        MeetingTag.ATTENDANCE_INVITE,
        object_type="meeting",
        object_ids=[meeting.id],
        details={"user_ids": missing},
    )
    return len(missing)


SETTABLE_STATUSES = (AttendanceStatus.PRESENT, AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED)


def set_attendance(
    session: Session, actor: User, meeting: Meeting, user_id: int, status: AttendanceStatus
) -> Attendance:
    """The coordinator records anyone's attendance; everyone else only their own."""
    own = actor.id == user_id and can_view_meeting(session, actor, meeting)
    if not own and not is_meeting_coordinator(actor, meeting):
        raise PermissionDenied()
    _require_not_cancelled(meeting)
    if status not in SETTABLE_STATUSES:
        raise ServiceError(_l("Välj närvarande, frånvarande eller anmält förhinder."), "status")
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
        object_type="meeting",
        object_ids=[meeting.id],
        details={"user_id": user_id, "status": str(status), "previous": str(previous)},
    )
    return row


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
    _require_coordinator(actor, meeting)
    _require_not_cancelled(meeting)
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
        object_type="meeting",
        object_ids=[meeting.id],
        details={"user_id": guest.id, "agency_id": guest.agency_id},
    )
    return row


def remove_guest(session: Session, actor: User, meeting: Meeting, user_id: int) -> None:
    _require_coordinator(actor, meeting)
    row = session.get(Attendance, (meeting.id, user_id))
    if row is None or not row.guest:
        raise ServiceError(_l("Personen är inte gäst på mötet."))
    session.delete(row)
    session.flush()
    session.expire(meeting, ["attendances"])
    record_event(
        session,
        actor,
        MeetingTag.GUEST_REMOVE,
        object_type="meeting",
        object_ids=[meeting.id],
        details={"user_id": user_id},
    )


def set_meeting_roles(
    session: Session,
    actor: User,
    meeting: Meeting,
    chair_id: int | None,
    minute_taker_id: int | None,
    expected_version: int | None = None,
) -> None:
    """The coordinator names the chair and the minute taker among the council's members."""
    _require_coordinator(actor, meeting)
    _require_not_cancelled(meeting)
    if expected_version is not None and meeting.version != expected_version:
        raise ConflictError()
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
        object_type="meeting",
        object_ids=[meeting.id],
        details={"chair_id": chair_id, "minute_taker_id": minute_taker_id},
    )


# --- Deadline -----------------------------------------------------------------------------------


@cache
def _days_off(year: int) -> frozenset[dt.date]:
    """Public holidays, and the eves that are days off in practice (midsommar-, jul- and
    nyårsafton)."""
    return frozenset(holidays.Sweden(years=year, categories=("public", "de_facto")).keys())


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _days_off(day.year)


def working_days_before(day: dt.date, count: int) -> dt.date:
    """The date ``count`` working days before ``day`` (weekends and holidays skipped)."""
    result = day
    while count > 0:
        result -= dt.timedelta(days=1)
        if is_working_day(result):
            count -= 1
    return result


def agenda_deadline(meeting: Meeting, working_days: int = DEFAULT_DEADLINE_WORKING_DAYS) -> dt.date:
    """The last day members may add children: by default three working days before the
    meeting's (Swedish) date. After it only the coordinator adds."""
    return working_days_before(meeting.starts_at.astimezone(LOCAL_ZONE).date(), working_days)


def deadline_passed(
    meeting: Meeting,
    working_days: int = DEFAULT_DEADLINE_WORKING_DAYS,
    today: dt.date | None = None,
) -> bool:
    return (today or today_local()) > agenda_deadline(meeting, working_days)


# --- Agenda -------------------------------------------------------------------------------------


def reason_categories() -> list[Category]:
    return [c for c in categories().values() if c.key not in EXCLUDED_REASON_CATEGORIES]


def agenda_items(session: Session, meeting: Meeting) -> list[AgendaItem]:
    """The items in order, children loaded in the same round trip (no query per row)."""
    return list(
        session.scalars(
            select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting.id)
            .options(selectinload(AgendaItem.child))
            .order_by(AgendaItem.position, AgendaItem.id)
            .execution_options(populate_existing=True)
        ).all()
    )


def addable_children(session: Session, meeting: Meeting) -> Sequence[Child]:
    """The council's active children who are not on this agenda yet."""
    on_agenda = select(AgendaItem.child_id).where(AgendaItem.meeting_id == meeting.id)
    return session.scalars(
        select(Child)
        .where(
            Child.council_id == meeting.council_id,
            Child.status == ChildStatus.ACTIVE,
            Child.id.not_in(on_agenda),
        )
        .order_by(Child.pseudonym)
    ).all()


def _next_position(session: Session, meeting: Meeting) -> int:
    last = session.scalar(
        select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting.id)
    )
    return (last or 0) + 1


def add_agenda_item(
    session: Session,
    actor: User,
    meeting: Meeting,
    child: Child | None,
    reason_category: str,
    brief: str,
    *,
    deadline_working_days: int = DEFAULT_DEADLINE_WORKING_DAYS,
    today: dt.date | None = None,
) -> AgendaItem:
    """A member puts a child of the council on the agenda with a reason and a sealed brief.

    Before the deadline any member may; after it only the coordinator. Guests may not."""
    _require_member(actor, meeting)
    _require_planned(meeting)
    if not is_meeting_coordinator(actor, meeting) and deadline_passed(
        meeting, deadline_working_days, today
    ):
        raise ServiceError(
            _l(
                "Sista dag att anmäla barn till dagordningen var %(date)s. "
                "Nu kan bara samordnaren lägga till barn.",
                date=agenda_deadline(meeting, deadline_working_days).isoformat(),
            ),
            field="child_id",
        )
    if child is None:
        raise ServiceError(_l("Välj ett barn."), field="child_id")
    if child.council_id != meeting.council_id:
        raise ServiceError(_l("Barnet hör inte till det här forumet."), field="child_id")
    if child.status is not ChildStatus.ACTIVE:
        raise ServiceError(_l("Barnets ärende är inte aktivt."), field="child_id")
    if reason_category not in {c.key for c in reason_categories()}:
        raise ServiceError(_l("Välj ett skäl."), field="reason_category")
    text = brief.strip()
    if not text:
        raise ServiceError(_l("Skriv en kort lägesbeskrivning."), field="brief")
    if len(text) > MAX_BRIEF:
        raise ServiceError(
            _l("Lägesbeskrivningen är för lång (högst 4 000 tecken)."), field="brief"
        )
    _lock_meeting(session, meeting)
    duplicate = session.scalar(
        select(AgendaItem.id).where(
            AgendaItem.meeting_id == meeting.id, AgendaItem.child_id == child.id
        )
    )
    if duplicate is not None:
        raise ServiceError(_l("Barnet står redan på dagordningen."), field="child_id")
    record = create_record(session, actor, child, BRIEF_CATEGORY, text)
    item = AgendaItem(
        meeting_id=meeting.id,
        child_id=child.id,
        position=_next_position(session, meeting),
        reason_category=reason_category,
        brief_record_id=record.id,
        source=AgendaSource.MANUAL,
        added_by_id=actor.id,
    )
    session.add(item)
    session.flush()
    session.expire(meeting, ["agenda_items"])
    record_event(
        session,
        actor,
        MeetingTag.AGENDA_ADD,
        object_type="agenda_item",
        object_ids=[item.id],
        details={
            "meeting_id": meeting.id,
            "child_id": child.id,
            "reason_category": reason_category,
            "brief_record_id": record.id,
        },
    )
    return item


def _renumber(items: list[AgendaItem]) -> None:
    for position, item in enumerate(items, start=1):
        if item.position != position:
            item.position = position


def move_agenda_item(
    session: Session,
    actor: User,
    meeting: Meeting,
    item_id: int,
    new_position: int,
    expected_position: int | None = None,
) -> AgendaItem:
    """The coordinator orders the agenda. Positions stay 1..n without gaps. With
    ``expected_position`` a move made on a stale page is refused instead of misplacing."""
    _require_coordinator(actor, meeting)
    _require_planned(meeting)
    _lock_meeting(session, meeting)
    items = agenda_items(session, meeting)
    item = next((i for i in items if i.id == item_id), None)
    if item is None:
        raise ServiceError(_l("Punkten finns inte på dagordningen."))
    old_position = items.index(item) + 1
    if expected_position is not None and expected_position != old_position:
        raise ServiceError(
            _l("Dagordningen har ändrats sedan du öppnade sidan. Ladda om sidan och försök igen.")
        )
    target = min(max(new_position, 1), len(items))
    items.remove(item)
    items.insert(target - 1, item)
    _renumber(items)
    session.flush()
    session.expire(meeting, ["agenda_items"])
    if target != old_position:
        record_event(
            session,
            actor,
            MeetingTag.AGENDA_MOVE,
            object_type="agenda_item",
            object_ids=[item.id],
            details={"meeting_id": meeting.id, "from": old_position, "to": target},
        )
    return item


def remove_agenda_item(
    session: Session,
    actor: User,
    meeting: Meeting,
    item_id: int,
    *,
    deadline_working_days: int = DEFAULT_DEADLINE_WORKING_DAYS,
    today: dt.date | None = None,
) -> None:
    """The coordinator removes any item; the member who added one may remove it until the
    deadline. The brief stays a record of the child (records are append-only). Children with
    open actions stay: they come back by themselves as long as the actions are open."""
    _require_member(actor, meeting)
    _require_planned(meeting)
    _lock_meeting(session, meeting)
    items = agenda_items(session, meeting)
    item = next((i for i in items if i.id == item_id), None)
    if item is None:
        raise ServiceError(_l("Punkten finns inte på dagordningen."))
    coordinator = is_meeting_coordinator(actor, meeting)
    own_in_time = item.added_by_id == actor.id and not deadline_passed(
        meeting, deadline_working_days, today
    )
    if not coordinator and not own_in_time:
        raise PermissionDenied()
    if item.source is AgendaSource.OPEN_ACTIONS:
        raise ServiceError(
            _l("Barn med öppna åtgärder står kvar på dagordningen tills åtgärderna är klara.")
        )
    items.remove(item)
    session.delete(item)
    session.flush()
    _renumber(items)
    session.flush()
    session.expire(meeting, ["agenda_items"])
    record_event(
        session,
        actor,
        MeetingTag.AGENDA_REMOVE,
        object_type="agenda_item",
        object_ids=[item_id],
        details={"meeting_id": meeting.id, "child_id": item.child_id},
    )


# --- Contributors (the seam for the minutes package) -------------------------------------------


def register_agenda_contributor(app: Flask, contributor: AgendaContributor) -> None:
    """An upper layer adds children to agendas: ``contributor(session, meeting)`` returns the
    ids of children that must be on this meeting's agenda (e.g. open agreed actions)."""
    app.extensions.setdefault(CONTRIBUTORS, []).append(contributor)


def agenda_contributors(app: Flask) -> list[AgendaContributor]:
    return list(app.extensions.get(CONTRIBUTORS, []))


def add_contributed_items(
    session: Session, meeting: Meeting, contributors: Sequence[AgendaContributor]
) -> list[AgendaItem]:
    """Put the children the contributors name on a planned meeting's agenda (source
    ``OPEN_ACTIONS``, reason "agreed action", no brief), after the items already there.
    Unknown ids, children of other councils and inactive cases are ignored. Idempotent."""
    if meeting.status is not MeetingStatus.PLANNED or not contributors:
        return []
    wanted: list[int] = []
    for contributor in contributors:
        for child_id in contributor(session, meeting):
            if child_id not in wanted:
                wanted.append(child_id)
    if not wanted:
        return []
    on_agenda = set(
        session.scalars(select(AgendaItem.child_id).where(AgendaItem.meeting_id == meeting.id))
    )
    new_ids = [child_id for child_id in wanted if child_id not in on_agenda]
    if not new_ids:
        return []
    eligible = set(
        session.scalars(
            select(Child.id).where(
                Child.id.in_(new_ids),
                Child.council_id == meeting.council_id,
                Child.status == ChildStatus.ACTIVE,
            )
        )
    )
    new_ids = [child_id for child_id in new_ids if child_id in eligible]
    if not new_ids:
        return []
    added: list[AgendaItem] = []
    try:
        with session.begin_nested():
            _lock_meeting(session, meeting)
            position = _next_position(session, meeting)
            for offset, child_id in enumerate(new_ids):
                item = AgendaItem(
                    meeting_id=meeting.id,
                    child_id=child_id,
                    position=position + offset,
                    reason_category=OPEN_ACTIONS_CATEGORY,
                    source=AgendaSource.OPEN_ACTIONS,
                )
                session.add(item)
                added.append(item)
            session.flush()
    except IntegrityError:
        # Another request added them at the same moment; the next view sees its items.
        session.expire(meeting, ["agenda_items"])
        return []
    session.expire(meeting, ["agenda_items"])
    record_event(
        session,
        None,
        MeetingTag.AGENDA_CONTRIBUTED,
        object_type="agenda_item",
        object_ids=[item.id for item in added],
        details={"meeting_id": meeting.id, "child_ids": new_ids, "source": "open_actions"},
    )
    return added


# --- Reading the agenda -------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaEntry:
    item: AgendaItem
    brief: RevealResult | None  # None when the item has no brief (added by a contributor)


def build_agenda(session: Session, viewer: User, meeting: Meeting) -> list[AgendaEntry]:
    """The agenda as this viewer may see it: every brief revealed or withheld, through one
    ``reveal_records`` call (one audit event) for the whole page."""
    items = agenda_items(session, meeting)
    brief_ids = [i.brief_record_id for i in items if i.brief_record_id is not None]
    results: dict[int, RevealResult] = {}
    if brief_ids:
        records = session.scalars(
            select(Record).where(Record.id.in_(brief_ids)).options(selectinload(Record.child))
        ).all()
        by_id = {r.id: r for r in records}
        ordered = [by_id[i] for i in brief_ids if i in by_id]
        results = {
            r.record.id: r for r in reveal_records(session, viewer, ordered, purpose="agenda")
        }
    return [
        AgendaEntry(item, results.get(item.brief_record_id) if item.brief_record_id else None)
        for item in items
    ]
