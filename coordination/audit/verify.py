"""Verification of the audit log: the hash chain and the object index recomputed from the events.

``coordination.audit.log`` defines the chain (``canonical_form``, ``compute_hash``) and records
events; ``coordination.audit.sequencer`` chains them. This module only reads the log, in one
pass over the chained events in chain order: each range of events is fetched as plain driver
rows (JSON as text, no ORM or type processing) together with its object index rows, and both
checks are made from the same rows.

Events recorded but not yet chained (``chain_position`` null: committed moments ago, waiting
for the sequencer) are no part of the chain yet: they are counted and reported apart as "not
yet chained", never as a broken chain. Their positions, hashes and index are checked once the
sequencer has chained them.

The hashes are recomputed by ``coordination.audit.fast_hash``, which gives ``canonical_form``'s
bytes for the common case (orjson on ASCII-only data) and ``None`` where it cannot be sure; the
exact ``canonical_form`` decides then, and again before any event is reported as broken, so the
result is always the one ``canonical_form`` gives.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.orm import Session

from coordination.audit.fast_hash import (
    INT_TYPE,
    UNSURE,
    hash_holds,
    load_details,
    load_object_ids,
)
from coordination.audit.log import (
    CHILD_DETAIL_KEYS,
    GENESIS_HASH,
    AuditChainHead,
    AuditEvent,
    indexed_objects,
)
from coordination.audit.sequencer import NOTHING_UNCHAINED, UnchainedTail, unchained_tail


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    first_broken_seq: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken_seq is None and self.problem is None


@dataclass(frozen=True)
class LogVerification:
    """The chain's result and the object index's, from one pass over the events, and the
    events not yet chained as counted after the pass."""

    chain: VerifyResult
    index: VerifyResult
    unchained: UnchainedTail = NOTHING_UNCHAINED


GAP = "missing event (gap in the sequence)"
BROKEN_LINK = "link to the previous event does not match"
BROKEN_CONTENT = "content does not match its hash"
DELETED_AT_END = "events after this point were deleted"
BEYOND_HEAD = "events after the chain head were added outside the chain"
HEAD_MISMATCH = "the chain head does not name the last event"
INDEX_MISMATCH = "object index does not match the event"


def verify_chain(session: Session, batch: int = 5000) -> VerifyResult:
    """Recompute every hash and link; name the first sequence number that does not hold."""
    return verify_log(session, batch, index=False).chain


def verify_object_index(session: Session, batch: int = 5000) -> VerifyResult:
    """Recompute ``audit_event_objects`` from the events; name the first event whose index rows
    differ (a missing row would hide the event from a reviewer's "about my records" view)."""
    return verify_log(session, batch, chain=False).index


def verify_log(
    session: Session, batch: int = 5000, *, chain: bool = True, index: bool = True
) -> LogVerification:
    """Check the chain (every hash, link and the head) and the object index in one pass.

    The chain's check stops at its first broken event, the index's at its first mismatch; each
    result counts the events it found sound before that (sequence numbers in the results are
    chain positions). Reads through the session's connection, in its transaction, and needs no
    lock: events chained while the log is read (visible under READ COMMITTED) are checked too,
    up to the head as read after the pass. Events not yet chained are counted in
    ``unchained``."""
    session.flush()  # the driver's cursor below reads what the session has pending, too
    rows = _RowSource(session, batch, with_index=index)
    check = _Check(rows.timestamp, chain=chain, index=index)
    try:
        with closing(rows.ranges(after=0)) as ranges:
            for events in ranges:
                if check.feed(events):
                    break
        if check.chain_result is None:
            # The head is read after the pass. Each append commits its events and the head in
            # one transaction, so the events up to this head are all committed: those appended
            # after the pass's last range are read now, and a head that still does not match
            # the chain's end means deleted events (or events added outside the chain).
            head_seq, head_hash = _chain_head(session)
            if head_seq > check.chain_checked:
                with closing(rows.ranges(after=check.chain_checked)) as ranges:
                    for events in ranges:
                        within = [event for event in events if event[0] <= head_seq]
                        if check.feed(within) or len(within) < len(events):
                            break
            check.close_chain(head_seq, head_hash)
    finally:
        rows.close()
    return check.result(unchained_tail(session))


def _chain_head(session: Session) -> tuple[int, str]:
    """The head as committed now (a query, never the session's identity map)."""
    head = session.execute(
        select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == 1)
    ).one_or_none()
    return (head.seq, head.hash) if head is not None else (0, GENESIS_HASH)


class _Check:
    """The state of one verification: where the chain's check and the index's stand."""

    def __init__(
        self, timestamp: Callable[[Any], dt.datetime], *, chain: bool, index: bool
    ) -> None:
        self._timestamp = timestamp
        self.expected_prev, self.expected_seq, self.chain_checked = GENESIS_HASH, 1, 0
        self.index_checked = 0
        self.chain_result: VerifyResult | None = None if chain else VerifyResult(0, None, None)
        self.index_result: VerifyResult | None = None if index else VerifyResult(0, None, None)

    def feed(self, events: Sequence[Sequence[Any]]) -> bool:
        """Check a range of event rows (as ``_RowSource`` reads them); true once both checks
        have found what they stop at."""
        for event in events:
            # The canonical form's fields, the hash, and with the index the event's index
            # rows (see _index_holds).
            seq, occurred_at, ids_text, details_text, prev, own = (
                event[0],
                event[1],
                event[6],
                event[7],
                event[8],
                event[9],
            )
            ids = load_object_ids(ids_text)
            details = load_details(details_text)
            if self.chain_result is None:
                if seq != self.expected_seq:
                    self.chain_result = VerifyResult(self.chain_checked, self.expected_seq, GAP)
                elif prev != self.expected_prev:
                    self.chain_result = VerifyResult(self.chain_checked, seq, BROKEN_LINK)
                elif not hash_holds(event, self._timestamp(occurred_at), ids, details):
                    self.chain_result = VerifyResult(self.chain_checked, seq, BROKEN_CONTENT)
                else:
                    self.expected_prev = own
                    self.expected_seq += 1
                    self.chain_checked += 1
            if self.index_result is None:
                if _index_holds(event, details):
                    self.index_checked += 1
                else:
                    self.index_result = VerifyResult(self.index_checked, seq, INDEX_MISMATCH)
            if self.chain_result is not None and self.index_result is not None:
                return True
        return False

    def close_chain(self, head_seq: int, head_hash: str) -> None:
        """After the last event: the head must name it."""
        if self.chain_result is not None:
            return
        checked = self.chain_checked
        if head_seq > checked:
            self.chain_result = VerifyResult(checked, checked + 1, DELETED_AT_END)
        elif head_seq < checked:
            self.chain_result = VerifyResult(head_seq, head_seq + 1, BEYOND_HEAD)
        elif head_hash != self.expected_prev:
            # The last event was replaced (and its successor's link with it) after the head.
            last = max(checked, 1)
            self.chain_result = VerifyResult(last - 1, last, HEAD_MISMATCH)
        else:
            self.chain_result = VerifyResult(checked, None, None)

    def result(self, unchained: UnchainedTail) -> LogVerification:
        chain = self.chain_result or VerifyResult(self.chain_checked, None, None)
        index = self.index_result or VerifyResult(self.index_checked, None, None)
        return LogVerification(chain, index, unchained)


# --- The canonical form, fast --------------------------------------------------------------------


# --- The object index ----------------------------------------------------------------------------


def _index_holds(event: Sequence[Any], details: Any) -> bool:
    """Whether the event's index rows are exactly ``indexed_objects`` of it.

    The row read with the index ends in the ids of its rows under the event's own object type
    and those under "child", each as the JSON text of a list (``[]`` for none; ``[1, 3]`` in
    the order read, as ``json.dumps`` and ``repr`` write a list of ints), and whether it has
    rows of any other type (true or a count). ``details`` is the details column as
    ``load_details`` reads it."""
    object_type, ids_text, own, children, others = (
        event[5],
        event[6],
        event[10],
        event[11],
        event[12],
    )
    # The common case, without sets or parsing: the index rows come in key order, record_event
    # wrote the ids ascending and distinct, and the stored object_ids text is json.dumps's of
    # that list. A text equal to the rows' list is a JSON list of exactly those ints; equal
    # lists of (exactly) ints are equal sets.
    if (
        own == ids_text
        and not others
        and object_type
        and object_type != "child"
        and details is not UNSURE
        and children == _listed_children(details)
    ):
        return True
    return _index_holds_exactly(event)


_CHILD_ID, _CHILD_IDS = CHILD_DETAIL_KEYS


def _listed_children(details: dict[str, Any]) -> str | None:
    """The children an event names as the JSON text of one list of ints in the order given,
    where that is simple (one of CHILD_DETAIL_KEYS with an id or a list of ids, or none);
    ``None`` (never equal to the index's list) otherwise."""
    child_id, child_ids = details.get(_CHILD_ID), details.get(_CHILD_IDS)
    if child_ids is None:
        if child_id is None:
            return "[]"
        return f"[{child_id}]" if type(child_id) is int else None
    if child_id is None and type(child_ids) is list and INT_TYPE.issuperset(map(type, child_ids)):
        return repr(child_ids)
    return None


def _index_holds_exactly(event: Sequence[Any]) -> bool:
    object_type, ids_text, details_text, own, children, others = (
        event[5],
        event[6],
        event[7],
        event[10],
        event[11],
        event[12],
    )
    if others:
        return False  # indexed_objects gives only the event's own type and "child"
    found = {(object_type, i) for i in _id_list(own)} | {("child", i) for i in _id_list(children)}
    return found == indexed_objects(object_type, json.loads(ids_text), json.loads(details_text))


def _id_list(text: str) -> list[int]:
    """The ids of a list the index query wrote (``[]``, ``[7]``, ``[1, 3]``)."""
    return [int(i) for i in text[1:-1].split(",")] if text != "[]" else []


# --- Reading the rows ----------------------------------------------------------------------------

_POSTGRESQL_EVENTS = """
SELECT chain_position, occurred_at AT TIME ZONE 'UTC', actor_user_id, actor_agency_id, tag,
       object_type, CAST(object_ids AS TEXT), CAST(details AS TEXT), prev_hash, hash
FROM audit_events WHERE chain_position > %(after)s ORDER BY chain_position LIMIT %(limit)s
"""
# Each event's index rows in one look at their key (an index-only scan of the event's rows): the
# ids under its own type and under "child" as the JSON text of a list, and how many rows have
# another type.
_POSTGRESQL_EVENTS_AND_INDEX = """
SELECT e.chain_position, e.occurred_at AT TIME ZONE 'UTC', e.actor_user_id, e.actor_agency_id,
       e.tag, e.object_type, CAST(e.object_ids AS TEXT), CAST(e.details AS TEXT), e.prev_hash,
       e.hash, i.own, i.children, i.others
FROM audit_events e CROSS JOIN LATERAL (
    SELECT '[' || COALESCE(string_agg(CAST(o.object_id AS TEXT), ', ')
                           FILTER (WHERE o.object_type = e.object_type), '') || ']' AS own,
           '[' || COALESCE(string_agg(CAST(o.object_id AS TEXT), ', ')
                           FILTER (WHERE o.object_type = 'child'), '') || ']' AS children,
           count(*) FILTER (WHERE o.object_type IS DISTINCT FROM e.object_type
                              AND o.object_type <> 'child') AS others
    FROM audit_event_objects o WHERE o.seq = e.seq
) i
WHERE e.chain_position > %(after)s ORDER BY e.chain_position LIMIT %(limit)s
"""
_NO_JIT = "SELECT current_setting('jit'), set_config('jit', 'off', true)"
_SET_JIT = "SELECT set_config('jit', %(jit)s, true)"
_PORTABLE_EVENTS = """
SELECT chain_position, occurred_at, actor_user_id, actor_agency_id, tag, object_type, object_ids,
       details, prev_hash, hash
FROM audit_events WHERE chain_position > ? ORDER BY chain_position LIMIT ?
"""
_PORTABLE_EVENTS_AND_INDEX = """
SELECT e.chain_position, e.occurred_at, e.actor_user_id, e.actor_agency_id, e.tag,
       e.object_type, e.object_ids, e.details, e.prev_hash, e.hash,
       '[' || COALESCE((SELECT group_concat(o.object_id, ', ') FROM audit_event_objects o
                        WHERE o.seq = e.seq AND o.object_type = e.object_type), '') || ']',
       '[' || COALESCE((SELECT group_concat(o.object_id, ', ') FROM audit_event_objects o
                        WHERE o.seq = e.seq AND o.object_type = 'child'), '') || ']',
       (SELECT count(*) FROM audit_event_objects o
        WHERE o.seq = e.seq AND o.object_type IS NOT e.object_type AND o.object_type <> 'child')
FROM audit_events e WHERE e.chain_position > ? ORDER BY e.chain_position LIMIT ?
"""


class _RowSource:
    """Ranges of event rows in sequence order, read with the driver's own cursor.

    On PostgreSQL the next range is fetched in a thread while the caller checks this one (the
    server reads and formats rows on the other core); SQLite's connection stays in its own
    thread."""

    def __init__(self, session: Session, batch: int, *, with_index: bool) -> None:
        connection = session.connection()
        dialect = connection.dialect
        self._postgresql = dialect.name == "postgresql"
        self._cursor: DBAPICursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        self._batch = batch
        self._with_index = with_index
        self._executor = ThreadPoolExecutor(1) if self._postgresql else None
        self._jit: str | None = None
        if self._postgresql:
            # Without JIT for this pass: a range's statement is cheap but its estimate is not
            # where the statistics lag (after a bulk load), and compiling it then cost more
            # than running it, every range. Only this transaction's setting; put back after.
            self._cursor.execute(_NO_JIT)
            self._jit = self._cursor.fetchone()[0]  # type: ignore[index]
        column_type = AuditEvent.__table__.c.occurred_at.type.dialect_impl(dialect)
        self._read_time: Callable[[Any], Any] | None = column_type.result_processor(dialect, None)

    def timestamp(self, value: Any) -> dt.datetime:
        """The naive UTC time of an ``occurred_at`` as read: PostgreSQL converts it in the
        query; elsewhere the column type reads it as the ORM would."""
        if self._postgresql:
            return value
        when: dt.datetime = self._read_time(value) if self._read_time is not None else value
        return when.astimezone(dt.UTC).replace(tzinfo=None)

    def _fetch(self, after: int) -> list[Any]:
        cursor = self._cursor
        if self._postgresql:
            query = _POSTGRESQL_EVENTS_AND_INDEX if self._with_index else _POSTGRESQL_EVENTS
            cursor.execute(query, {"after": after, "limit": self._batch})
            return list(cursor.fetchall())
        if not self._with_index:
            cursor.execute(_PORTABLE_EVENTS, (after, self._batch))
            return list(cursor.fetchall())
        cursor.execute(_PORTABLE_EVENTS_AND_INDEX, (after, self._batch))
        return list(cursor.fetchall())

    def ranges(self, *, after: int) -> Generator[list[Any]]:
        """The events after sequence number ``after``, a range at a time, to the last one."""
        if self._executor is None:
            while events := self._fetch(after):
                yield events
                after = events[-1][0]
            return
        pending: Future[list[Any]] = self._executor.submit(self._fetch, after)
        try:
            while events := pending.result():
                pending = self._executor.submit(self._fetch, events[-1][0])
                yield events
        finally:
            pending.cancel()
            wait([pending])  # the cursor is free again before the next ranges() or close()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        connection = self._cursor.connection
        if self._jit is not None and connection.info.transaction_status.name == "INTRANS":
            self._cursor.execute(_SET_JIT, {"jit": self._jit})
        self._cursor.close()
