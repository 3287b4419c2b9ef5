"""Gallring: crypto-shred the records of closed cases once the council's retention period is over.

A child whose case was closed on ``closed_on`` is due on ``closed_on`` plus the council's
``retention_months`` calendar months. Shredding deletes every wrapped key and ciphertext of the
child's records, the blind index and the sealed birth date
(``secrecy.records.sealing.shred_child``); the pseudonym row and the audit trail stay, so minutes
and logs still resolve.

``apply_retention`` is a plain function for the scheduler and the CLI: it takes the date (callers
pass ``coordination.db.today_local()``), flushes but never commits, and is idempotent: a shredded
child is no longer ``CLOSED``, so a second run finds nothing. It never loads record content.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.db import count_rows
from coordination.models import Child, ChildStatus, Council
from coordination.registry import ERASURES, Erasure
from secrecy.models import Record
from secrecy.records import sealing
from secrecy.tags import SecrecyTag

# Children locked and shredded per query (keeps IN lists well under every backend's limit).
_BATCH = 500


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole calendar months; a day past the target month's end becomes its last
    day (31 January + 1 month = 28 or 29 February)."""
    if months < 0:
        raise ValueError("a retention period cannot be negative")
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def retention_due_on(closed_on: dt.date, retention_months: int) -> dt.date:
    """The first day on which a case closed on ``closed_on`` is shredded."""
    return add_months(closed_on, retention_months)


@dataclass(frozen=True)
class ShreddedChild:
    child_id: int
    pseudonym: str
    council_id: int
    records: int


@dataclass(frozen=True)
class RetentionReport:
    today: dt.date
    dry_run: bool
    children: tuple[ShreddedChild, ...] = ()

    @property
    def children_count(self) -> int:
        return len(self.children)

    @property
    def records_count(self) -> int:
        return sum(child.records for child in self.children)


def _due_child_ids(session: Session, today: dt.date) -> list[int]:
    rows = session.execute(
        select(Child.id, Child.closed_on, Council.retention_months)
        .join(Council, Child.council_id == Council.id)
        .where(
            Child.status == ChildStatus.CLOSED,
            # A period is never negative (the database refuses it), so later closings are not due.
            Child.closed_on <= today,
        )
        .order_by(Child.id)
    ).all()
    due = []
    for child_id, closed_on, months in rows:
        if closed_on is not None and retention_due_on(closed_on, months) <= today:
            due.append(child_id)
    return due


def _unshredded_record_count(session: Session, child_id: int) -> int:
    return count_rows(session, Record, Record.child_id == child_id, Record.shredded_at.is_(None))


def _load_due(session: Session, child_ids: list[int], *, lock: bool) -> list[Child]:
    query = (
        select(Child)
        .where(Child.id.in_(child_ids), Child.status == ChildStatus.CLOSED)
        .order_by(Child.id)
    )
    if lock:
        # A concurrent run waits here and then finds the rows no longer CLOSED (PostgreSQL
        # re-checks the WHERE clause after the lock; SQLite has one writer anyway). Fresh
        # attributes, so the version counter matches the locked row.
        query = query.with_for_update(of=Child).execution_options(populate_existing=True)
    return list(session.scalars(query).all())


def register_erasure(app: Flask, erasure: Erasure) -> None:
    """An upper layer that keeps something about a child outside the child's records, where
    deleting the records' keys does not reach it (a structured assessment's overall level for
    the council's counts, sealed with the installation's child-facts key), erases it when the
    child's records are shredded: ``erasure(session, child_ids)`` runs in the same
    transaction."""
    ERASURES.add(app, erasure)


def retention_erasures(app: Flask) -> list[Erasure]:
    return ERASURES.of(app)


def apply_retention(
    session: Session, today: dt.date, *, dry_run: bool, erasures: Sequence[Erasure]
) -> RetentionReport:
    """Shred every closed case whose retention period has ended on or before ``today``.

    With ``dry_run`` nothing changes and nothing is logged; the report says what would happen.
    Otherwise each child is shredded, set to ``SHREDDED`` and gets one audit event (actor: the
    system), all in the caller's transaction, and ``erasures`` (the app's, ``retention_erasures``)
    erase what the upper layers keep about the shredded children outside their records.
    """
    shredded: list[ShreddedChild] = []
    due_ids = _due_child_ids(session, today)
    for start in range(0, len(due_ids), _BATCH):
        for child in _load_due(session, due_ids[start : start + _BATCH], lock=not dry_run):
            council = child.council
            if dry_run:
                records = _unshredded_record_count(session, child.id)
            else:
                records = sealing.shred_child(session, child)
                record_event(
                    session,
                    None,
                    SecrecyTag.RETENTION_SHRED,
                    on=child,
                    details={
                        "records": records,
                        "council_id": council.id,
                        "retention_months": council.retention_months,
                    },
                )
            shredded.append(ShreddedChild(child.id, child.pseudonym, council.id, records))
    if shredded and not dry_run:
        for erase in erasures:
            erase(session, [s.child_id for s in shredded])
    return RetentionReport(today=today, dry_run=dry_run, children=tuple(shredded))
