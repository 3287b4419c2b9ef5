"""The agenda's items: which children may be added and why, adding one with a sealed brief,
ordering (positions stay 1..n without gaps) and removal.

Briefs are records of the writer's agency (category ``meeting_note``) created through
``secrecy.records.services`` and read only through ``secrecy.records.reveal`` (see ``overview``).
Services take ``(session, actor, ...)``, validate, change, flush and append their audit event in
the caller's
transaction; they never commit.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from coordination.audit.log import record_event
from coordination.errors import PermissionDenied, ServiceError
from coordination.models import Child, ChildStatus, User
from meetings.agenda.access import (
    NETWORK_AGENDA,
    is_meeting_coordinator,
    is_network_meeting,
    require_coordinator,
    require_member,
    require_planned,
)
from meetings.agenda.deadline import (
    DEFAULT_DEADLINE_WORKING_DAYS,
    agenda_deadline,
    deadline_passed,
)
from meetings.models import AgendaItem, AgendaSource, Meeting
from meetings.tags import MeetingTag
from secrecy.policy.categories import NOT_BY_HAND, Category, categories
from secrecy.records.services import create_record

BRIEF_CATEGORY = "meeting_note"
# Why a child is on the agenda: any category of information except these two.
EXCLUDED_REASON_CATEGORIES = NOT_BY_HAND | {"consent"}
MAX_BRIEF = 4000


def reason_categories() -> list[Category]:
    return [c for c in categories().values() if c.key not in EXCLUDED_REASON_CATEGORIES]


def agenda_items(
    session: Session, meeting: Meeting, *, child_id: int | None = None
) -> list[AgendaItem]:
    """The items in order, children joined in the same statement (no query per row); with
    ``child_id``, that child's item only (a page about one child on the agenda). A child's
    council is the meeting's, already in the session: it is not joined again."""
    query = select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)
    if child_id is not None:
        query = query.where(AgendaItem.child_id == child_id)
    return list(
        session.scalars(
            query.options(joinedload(AgendaItem.child, innerjoin=True).lazyload(Child.council))
            .order_by(AgendaItem.position, AgendaItem.id)
            .execution_options(populate_existing=True)
        ).all()
    )


def require_in_time(
    actor: User,
    meeting: Meeting,
    deadline_working_days: int,
    today: dt.date | None,
    late: LazyString,
    field: str,
) -> None:
    """Members until the agenda deadline, the coordinator after it; ``late`` (with
    ``%(date)s``, the deadline) says so to a member who comes too late."""
    if not is_meeting_coordinator(actor, meeting) and deadline_passed(
        meeting, deadline_working_days, today
    ):
        date = agenda_deadline(meeting, deadline_working_days).isoformat()
        raise ServiceError(str(late) % {"date": date}, field=field)


def checked_brief(brief: str) -> str:
    """The brief's text, or refused when it is empty or too long."""
    text = brief.strip()
    if not text:
        raise ServiceError(_l("Skriv en kort lägesbeskrivning."), field="brief")
    if len(text) > MAX_BRIEF:
        raise ServiceError(
            _l("Lägesbeskrivningen är för lång (högst 4 000 tecken)."), field="brief"
        )
    return text


def _item_on_agenda(
    session: Session, meeting: Meeting, item_id: int
) -> tuple[list[AgendaItem], AgendaItem]:
    """The meeting locked (``lock_meeting``), its agenda's items and the one asked for;
    refused when that one is not on this agenda."""
    lock_meeting(session, meeting)
    items = agenda_items(session, meeting)
    item = next((i for i in items if i.id == item_id), None)
    if item is None:
        raise ServiceError(_l("Punkten finns inte på dagordningen."))
    return items, item


def addable_children(session: Session, meeting: Meeting) -> list[tuple[int, str]]:
    """The council's active children who are not on this agenda yet: (id, pseudonym) rows, in
    pseudonym order (the agenda form lists hundreds; no child objects are needed for that)."""
    on_agenda = select(AgendaItem.child_id).where(AgendaItem.meeting_id == meeting.id)
    rows = session.execute(
        select(Child.id, Child.pseudonym)
        .where(
            Child.council_id == meeting.council_id,
            Child.status == ChildStatus.ACTIVE,
            Child.id.not_in(on_agenda),
        )
        .order_by(Child.pseudonym)
    )
    return [(row.id, row.pseudonym) for row in rows]


def lock_meeting(session: Session, meeting: Meeting) -> None:
    """Agenda changes and case sync submissions of one meeting queue on its row (PostgreSQL);
    SQLite has one writer anyway."""
    session.execute(select(Meeting.id).where(Meeting.id == meeting.id).with_for_update())


def next_position(session: Session, meeting: Meeting) -> int:
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
    require_member(actor, meeting)
    require_planned(meeting)
    if is_network_meeting(session, meeting):
        raise ServiceError(NETWORK_AGENDA, field="child_id")
    late = _l(
        "Sista dag att anmäla barn till dagordningen var %(date)s. "
        "Nu kan bara samordnaren lägga till barn."
    )
    require_in_time(actor, meeting, deadline_working_days, today, late, "child_id")
    if child is None or child.council_id != meeting.council_id:
        # Another council's child is answered like an unknown id: ids cannot be probed here.
        raise ServiceError(_l("Välj ett barn."), field="child_id")
    if child.status is not ChildStatus.ACTIVE:
        raise ServiceError(_l("Barnets ärende är inte aktivt."), field="child_id")
    if reason_category not in {c.key for c in reason_categories()}:
        raise ServiceError(_l("Välj ett skäl."), field="reason_category")
    text = checked_brief(brief)
    lock_meeting(session, meeting)
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
        position=next_position(session, meeting),
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
        on=item,
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
    require_coordinator(actor, meeting)
    require_planned(meeting)
    items, item = _item_on_agenda(session, meeting, item_id)
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
            on=item,
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
    require_member(actor, meeting)
    require_planned(meeting)
    items, item = _item_on_agenda(session, meeting, item_id)
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
