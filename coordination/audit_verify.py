"""Verification of the audit log: the hash chain and the object index recomputed from the events.

``coordination.audit`` defines the chain (``canonical_form``, ``compute_hash``) and appends to
it; this module only reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit import (
    GENESIS_HASH,
    AuditChainHead,
    AuditEvent,
    AuditEventObject,
    compute_hash,
    indexed_objects,
)


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    first_broken_seq: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken_seq is None and self.problem is None


def _events_in_order(session: Session, batch: int) -> Iterator[Any]:
    """Plain rows in sequence order: nothing enters (or is evicted from) the caller's session."""
    table = AuditEvent.__table__
    last = 0
    while True:
        rows = session.execute(
            select(table).where(table.c.seq > last).order_by(table.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify_chain(session: Session, batch: int = 5000) -> VerifyResult:
    """Recompute every hash and link; name the first sequence number that does not hold."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in _events_in_order(session, batch):
        if event.seq != expected_seq:
            return VerifyResult(checked, expected_seq, "missing event (gap in the sequence)")
        if event.prev_hash != expected_prev:
            return VerifyResult(checked, event.seq, "link to the previous event does not match")
        if compute_hash(event) != event.hash:
            return VerifyResult(checked, event.seq, "content does not match its hash")
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    head = session.get(AuditChainHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if head_seq != checked or head_hash != expected_prev:
        return VerifyResult(checked, checked + 1, "events after this point were deleted")
    return VerifyResult(checked, None, None)


def verify_object_index(session: Session, batch: int = 5000) -> VerifyResult:
    """Recompute ``audit_event_objects`` from the events; name the first event whose index rows
    differ (a missing row would hide the event from a reviewer's "about my records" view)."""
    events = AuditEvent.__table__
    objects = AuditEventObject.__table__
    last = 0
    checked = 0
    while True:
        rows = session.execute(
            select(events.c.seq, events.c.object_type, events.c.object_ids, events.c.details)
            .where(events.c.seq > last)
            .order_by(events.c.seq)
            .limit(batch)
        ).all()
        if not rows:
            break
        indexed: dict[int, set[tuple[str, int]]] = {}
        for seq, object_type, object_id in session.execute(
            select(objects.c.seq, objects.c.object_type, objects.c.object_id).where(
                objects.c.seq > last, objects.c.seq <= rows[-1].seq
            )
        ):
            indexed.setdefault(seq, set()).add((object_type, object_id))
        for row in rows:
            expected = indexed_objects(row.object_type, row.object_ids, row.details)
            if indexed.get(row.seq, set()) != expected:
                return VerifyResult(checked, row.seq, "object index does not match the event")
            checked += 1
        last = rows[-1].seq
    return VerifyResult(checked, None, None)
