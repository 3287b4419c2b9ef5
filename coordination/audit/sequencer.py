"""The sequencer: links committed audit events into the hash chain, in batches.

Writers insert their events unchained (``coordination.audit.log.record_event``) and take no
lock. One sequencer, run by the elected scheduler (``coordination.scheduler``: the thread
starts when the process leads and stops when it steps down), chains them:

1. *Snapshot.* It reads the ids of every event not yet chained that its statement can see,
   in id order. Under READ COMMITTED (PostgreSQL) and SQLite's one writer, a statement sees
   exactly the transactions committed before it began; an in-flight transaction's events are
   invisible, so they are not skipped but left for a later snapshot, and an event rolled back
   never appears at all. Nothing is tracked by a "high-water mark": an event is picked because
   it is unchained, so no event committed late (a transaction that began long ago) can be
   passed over.
2. *Chain.* It takes the head's lock (``audit_chain_head`` FOR UPDATE: two sequencers, or a
   sequencer and ``flask audit chain``, take turns), re-reads the batch's rows that are still
   unchained, numbers them from the head on, hashes each over the one before, writes the
   positions and hashes in one statement and moves the head, and commits. A batch is at most
   ``batch`` events; the rest of a snapshot is chained, in its order, before a new snapshot is
   read.

The order is the commit order at the granularity of snapshots, which the sequencer can prove:
every event chained from snapshot *k* committed before snapshot *k* was read, and every event
chained from a later snapshot had not committed then (it was invisible), so committed after
it. Within one snapshot (transactions that committed between two reads, a fraction of a
second apart) events are in id order. A sequencer killed between snapshots loses nothing: its
unfinished batch rolled back with it, and its successor reads the still-unchained events again.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import Table, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent, compute_hash, lock_chain_head
from coordination.db import get_database, utcnow
from coordination.ops.metrics import observe_chaining

logger = logging.getLogger("samverkan.audit.sequencer")

BATCH = 2000
# A snapshot's ids are kept in memory until chained; a backlog beyond this (hours of a stopped
# sequencer at full load) is read in parts, each in id order.
SNAPSHOT_LIMIT = 1_000_000

_events: Table = AuditEvent.__table__  # type: ignore[assignment]


def unchained_ids(session: Session, limit: int = SNAPSHOT_LIMIT) -> list[int]:
    """The ids of the events this session's next statement sees unchained, in id order."""
    return list(
        session.scalars(
            select(_events.c.seq)
            .where(_events.c.chain_position.is_(None))
            .order_by(_events.c.seq)
            .limit(limit)
        )
    )


def chain_batch(session: Session, ids: Sequence[int]) -> int:
    """Chain the events ``ids`` (in that order) that are still unchained, after the head, in
    the caller's transaction. Returns the number chained."""
    if not ids:
        return 0
    head = lock_chain_head(session)
    rows = {
        row.seq: row
        for row in session.execute(
            select(
                _events.c.seq,
                _events.c.occurred_at,
                _events.c.actor_user_id,
                _events.c.actor_agency_id,
                _events.c.tag,
                _events.c.object_type,
                _events.c.object_ids,
                _events.c.details,
            ).where(_events.c.seq.in_(list(ids)), _events.c.chain_position.is_(None))
        )
    }
    if not rows:
        return 0
    position, prev_hash, now = head.seq, head.hash, utcnow()
    updates: list[dict[str, Any]] = []
    lags: list[float] = []
    for seq in ids:
        row = rows.get(seq)
        if row is None:
            continue  # chained meanwhile by another sequencer
        position += 1
        event = _Chained(row, position, prev_hash)
        prev_hash = compute_hash(event)
        updates.append(
            {"b_seq": seq, "b_position": position, "b_prev": event.prev_hash, "b_hash": prev_hash}
        )
        lags.append((now - row.occurred_at).total_seconds())
    _write_links(session, updates, now)
    head.seq, head.hash = position, prev_hash
    session.flush()
    _expire_chained(session, {u["b_seq"] for u in updates})
    observe_chaining(lags)
    return len(updates)


@dataclass(frozen=True)
class _Chained:
    """An event row with the chain fields it is about to get (what ``compute_hash`` reads)."""

    row: Any
    chain_position: int
    prev_hash: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)


# PostgreSQL: the batch's links as arrays in one fixed statement (executemany would send a
# statement per event).
_LINKS_FROM_ARRAYS = text(
    "UPDATE audit_events AS e SET chain_position = l.position, prev_hash = l.prev, "
    "hash = l.hash, chained_at = :chained_at "
    "FROM unnest(CAST(:seqs AS integer[]), CAST(:positions AS integer[]), "
    "CAST(:prevs AS varchar[]), CAST(:hashes AS varchar[])) AS l(seq, position, prev, hash) "
    "WHERE e.seq = l.seq"
)


def _write_links(session: Session, updates: list[dict[str, Any]], now: dt.datetime) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            _LINKS_FROM_ARRAYS,
            {
                "chained_at": now,
                "seqs": [u["b_seq"] for u in updates],
                "positions": [u["b_position"] for u in updates],
                "prevs": [u["b_prev"] for u in updates],
                "hashes": [u["b_hash"] for u in updates],
            },
        )
        return
    session.connection().execute(
        update(_events)
        .where(_events.c.seq == bindparam("b_seq"))
        .values(
            chain_position=bindparam("b_position"),
            prev_hash=bindparam("b_prev"),
            hash=bindparam("b_hash"),
            chained_at=now,
        ),
        updates,
    )


def _expire_chained(session: Session, chained: set[int]) -> None:
    # Core statements bypass the session: events it holds reload their chain fields on access.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, AuditEvent) and obj.seq in chained:
            session.expire(obj)


def chain_events(session: Session, *, batch: int = BATCH) -> int:
    """Chain every event this session can see unchained, in the caller's transaction (the
    tests' helper, ``flask audit chain``, checkpoint signing). Returns the number chained."""
    total = 0
    while ids := unchained_ids(session):
        for start in range(0, len(ids), batch):
            total += chain_batch(session, ids[start : start + batch])
        if len(ids) < SNAPSHOT_LIMIT:
            break
    return total


def drain(session_factory: Callable[[], Session], *, batch: int = BATCH) -> int:
    """Chain everything committed and unchained now, one committed batch at a time (a bulk
    load's backlog, without a scheduler). Returns the number chained."""
    loop = SequencerLoop(session_factory, interval=0, batch=batch)
    backlog: deque[int] = deque()
    while loop.run_once(backlog):
        pass
    return loop.chained


@dataclass(frozen=True)
class UnchainedTail:
    """The events durable but not yet chained: how many, and when the oldest occurred."""

    count: int
    oldest: dt.datetime | None

    def age_seconds(self, now: dt.datetime) -> float:
        return 0.0 if self.oldest is None else max(0.0, (now - self.oldest).total_seconds())


NOTHING_UNCHAINED = UnchainedTail(0, None)


def unchained_tail(session: Session) -> UnchainedTail:
    count, oldest = session.execute(
        select(func.count(), func.min(AuditEvent.occurred_at)).where(
            AuditEvent.chain_position.is_(None)
        )
    ).one()
    return UnchainedTail(int(count or 0), oldest)


class SequencerLoop:
    """Chains in its own thread and sessions, one committed batch at a time, until stopped.

    ``session_factory`` gives a new session; ``interval`` is the pause when nothing was left
    to chain. Errors (the database away) are logged by class only and retried after a pause.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        interval: float,
        batch: int = BATCH,
        wrap: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._interval = interval
        self._batch = batch
        self._wrap = wrap or (lambda work: work())
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.chained = 0

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="audit-sequencer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        self._wrap(self._loop)

    def _loop(self) -> None:
        backlog: deque[int] = deque()
        while not self._stopping.is_set():
            try:
                busy = self.run_once(backlog)
            except Exception as exc:  # noqa: BLE001 - the database away: retry, log no data
                logger.error("audit sequencer round failed: %s", type(exc).__name__)
                backlog.clear()  # a new snapshot after the failure
                self._stopping.wait(max(self._interval, 1.0))
                continue
            if not busy:
                self._stopping.wait(self._interval)

    def run_once(self, backlog: deque[int]) -> bool:
        """One committed batch: from the backlog, or from a new snapshot when it is empty.
        True when there was something to chain."""
        session = self._session_factory()
        try:
            if not backlog:
                backlog.extend(unchained_ids(session))
                session.commit()  # end the snapshot's transaction before the batch's
                if not backlog:
                    return False
            ids = [backlog.popleft() for _ in range(min(self._batch, len(backlog)))]
            started = time.perf_counter()
            chained = chain_batch(session, ids)
            session.commit()
            self.chained += chained
            logger.debug("chained %s events in %.3f s", chained, time.perf_counter() - started)
            return True
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def sequencer_for(app: Flask) -> SequencerLoop:
    """The app's sequencer loop: its own sessions, in an app context of its thread."""

    def in_app_context(work: Callable[[], None]) -> None:
        with app.app_context():
            work()

    return SequencerLoop(
        get_database(app).session_factory,
        interval=float(app.config.get("AUDIT_CHAIN_INTERVAL_SECONDS") or 0.25),
        wrap=in_app_context,
    )
