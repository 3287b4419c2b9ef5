"""What the workspace shows of one meeting, shared by the page and the API: the children on the
agenda, the minutes' entries, the actions agreed at the meeting and the open ones agreed earlier
about the same children, with every record opened through one ``reveal_records`` call.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from coordination.models import User
from meetings.agenda import agenda_items
from meetings.models import AgendaItem, Meeting
from minutes.models import OPEN_STATUSES, AgreedAction, Minutes, MinutesEntry
from minutes.workspace import minutes_of
from secrecy.models import Record
from secrecy.reveal import RevealResult, reveal_records


@dataclass(frozen=True)
class MinutesContents:
    minutes: Minutes | None  # None until the first change creates them
    items: list[AgendaItem]
    entries: list[MinutesEntry]  # amendments and conflicting versions included, oldest first
    earlier: list[AgreedAction]  # still open, agreed at earlier meetings
    current: list[AgreedAction]  # agreed at this meeting
    records: dict[int, Record]
    revealed: dict[int, RevealResult]  # by record id
    authors: dict[int, User]  # of the entries, by user id


def minutes_contents(session: Session, viewer: User, meeting: Meeting) -> MinutesContents:
    """Everything the viewer may see of the meeting's minutes; one reveal (one audit event)."""
    minutes = minutes_of(session, meeting)
    items = agenda_items(session, meeting)
    child_ids = [i.child_id for i in items]
    entries = (
        list(
            session.scalars(
                select(MinutesEntry)
                .where(MinutesEntry.minutes_id == minutes.id)
                .order_by(MinutesEntry.id)
            )
        )
        if minutes
        else []
    )
    actions = list(
        session.scalars(
            select(AgreedAction)
            .where(
                AgreedAction.child_id.in_(child_ids),
                (AgreedAction.meeting_id == meeting.id)
                | AgreedAction.status.in_(list(OPEN_STATUSES)),
            )
            .options(
                selectinload(AgreedAction.responsible_agency),
                selectinload(AgreedAction.responsible_user),
                selectinload(AgreedAction.meeting),
            )
            .order_by(AgreedAction.due_on, AgreedAction.id)
        )
    )
    earlier = [
        a
        for a in actions
        if a.meeting_id != meeting.id and a.meeting.starts_at <= meeting.starts_at
    ]
    current = [a for a in actions if a.meeting_id == meeting.id]
    record_ids = (
        [i.brief_record_id for i in items if i.brief_record_id]
        + [e.record_id for e in entries]
        + [a.description_record_id for a in earlier + current]
    )
    records = (
        session.scalars(
            select(Record).where(Record.id.in_(record_ids)).options(selectinload(Record.child))
        ).all()
        if record_ids
        else []
    )
    by_id = {r.id: r for r in records}
    revealed = {
        r.record.id: r
        for r in reveal_records(
            session, viewer, [by_id[i] for i in record_ids if i in by_id], purpose="minutes"
        )
    }
    authors = {
        u.id: u
        for u in session.scalars(select(User).where(User.id.in_({e.author_id for e in entries})))
    }
    return MinutesContents(minutes, items, entries, earlier, current, by_id, revealed, authors)
