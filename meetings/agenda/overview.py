"""The agenda as one viewer may see it on the meeting page: every item in order with its brief
revealed or withheld, through one ``reveal_records`` call for the whole page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from coordination.models import User
from meetings.agenda.items import agenda_items
from meetings.models import AgendaItem, Meeting
from secrecy.models import Record
from secrecy.records.reveal import RevealResult, reveal_records


@dataclass(frozen=True)
class AgendaEntry:
    item: AgendaItem
    brief: RevealResult | None  # None when the item has no brief (added by a contributor)


def build_agenda(
    session: Session,
    viewer: User,
    meeting: Meeting,
    *,
    items: Sequence[AgendaItem] | None = None,
    record_authors: bool = True,
) -> list[AgendaEntry]:
    """The agenda as this viewer may see it: every brief revealed or withheld, through one
    ``reveal_records`` call (one audit event) for the whole page. ``items``: the meeting's
    agenda items when the caller has just loaded them; without ``record_authors`` the briefs'
    authors are not loaded (the meeting page names the brief's agency, the API its author)."""
    if items is None:
        items = agenda_items(session, meeting)
    brief_ids = [i.brief_record_id for i in items if i.brief_record_id is not None]
    results: dict[int, RevealResult] = {}
    if brief_ids:
        # A brief is about its item's child, loaded with the items: the reveal finds each
        # record's child in the session (no query for the children, none per record).
        query = select(Record).where(Record.id.in_(brief_ids))
        if not record_authors:
            query = query.options(lazyload(Record.author))
        records = session.scalars(query).all()
        by_id = {r.id: r for r in records}
        ordered = [by_id[i] for i in brief_ids if i in by_id]
        results = {
            r.record.id: r for r in reveal_records(session, viewer, ordered, purpose="agenda")
        }
    return [
        AgendaEntry(item, results.get(item.brief_record_id) if item.brief_record_id else None)
        for item in items
    ]
