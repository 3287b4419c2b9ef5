"""The print view of a meeting's minutes, per viewer.

Printing is an export: the viewer gets only what their agency may see (one ``reveal_records``
call over the entries and the actions' descriptions), withheld items are marked with the reason,
and the export is logged with the record ids. A plan version agreed at the meeting is recorded
for its child with its structure (``minutes.plans.in_minutes``), never its texts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from coordination.audit.log import record_event
from coordination.models import Child, User
from meetings.models import Meeting
from minutes.models import AgreedAction, Minutes, MinutesEntry
from minutes.plans.in_minutes import AgreedPlan, plans_agreed_at
from minutes.tags import MinutesTag
from secrecy.models import Record
from secrecy.records.reveal import RevealResult, reveal_records


@dataclass(frozen=True)
class PrintedEntry:
    entry: MinutesEntry
    result: RevealResult


@dataclass(frozen=True)
class PrintedAction:
    action: AgreedAction
    result: RevealResult


@dataclass(frozen=True)
class PrintedChild:
    child: Child
    entries: list[PrintedEntry]
    actions: list[PrintedAction]
    # Plan versions agreed at the meeting: their structure only (no texts).
    plans: list[AgreedPlan] = field(default_factory=list)


@dataclass(frozen=True)
class PrintView:
    meeting: Meeting
    minutes: Minutes | None
    children: list[PrintedChild]
    viewer: User
    printed_at: dt.datetime


def print_view(
    session: Session,
    actor: User,
    meeting: Meeting,
    now: dt.datetime,
    *,
    tag: MinutesTag = MinutesTag.PRINT_EXPORT,
) -> PrintView:
    """What ``actor`` may print of the meeting's minutes; logs the export (``tag``: the print
    view's, or the PDF document's). Access (members of the council) is checked by the caller
    before this runs."""
    minutes = session.scalar(
        select(Minutes)
        .where(Minutes.meeting_id == meeting.id)
        .options(
            selectinload(Minutes.entries).selectinload(MinutesEntry.child),
        )
    )
    # A save that lost a version race is kept beside the entry it conflicts with; the printed
    # minutes carry the entries themselves.
    entries = (
        [e for e in minutes.entries if e.conflict_with_id is None] if minutes is not None else []
    )
    actions = session.scalars(
        select(AgreedAction)
        .where(AgreedAction.meeting_id == meeting.id)
        .options(
            selectinload(AgreedAction.child),
            selectinload(AgreedAction.responsible_agency),
            selectinload(AgreedAction.responsible_user),
        )
        .order_by(AgreedAction.id)
    ).all()
    record_ids = [e.record_id for e in entries] + [a.description_record_id for a in actions]
    records = {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(record_ids)))}
    ordered = [records[record_id] for record_id in dict.fromkeys(record_ids)]
    purpose = "pdf" if tag is MinutesTag.PDF_EXPORT else "print"
    results = {r.record.id: r for r in reveal_records(session, actor, ordered, purpose=purpose)}
    record_event(
        session,
        actor,
        tag,
        object_type="record",
        object_ids=[record.id for record in ordered],
        details={"meeting_id": meeting.id},
    )

    by_child: dict[int, PrintedChild] = {}

    def child_part(child: Child) -> PrintedChild:
        return by_child.setdefault(child.id, PrintedChild(child, [], []))

    for entry in entries:
        child_part(entry.child).entries.append(PrintedEntry(entry, results[entry.record_id]))
    for action in actions:
        child_part(action.child).actions.append(
            PrintedAction(action, results[action.description_record_id])
        )
    for agreed in plans_agreed_at(session, meeting):
        child_part(agreed.child).plans.append(agreed)
    return PrintView(
        meeting=meeting,
        minutes=minutes,
        children=list(by_child.values()),
        viewer=actor,
        printed_at=now,
    )
