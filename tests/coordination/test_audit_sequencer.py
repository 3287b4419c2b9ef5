"""The sequencer: every committed event is chained once, in commit order by snapshot, whatever
the writers, rollbacks, kills and restarts around it; no event is lost or skipped."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from apscheduler.executors.pool import ThreadPoolExecutor as JobExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from coordination.audit.log import (
    GENESIS_HASH,
    AuditChainHead,
    AuditEvent,
    AuditTag,
    canonical_form,
    record_event,
)
from coordination.audit.sequencer import (
    SequencerLoop,
    chain_batch,
    chain_events,
    unchained_ids,
    unchained_tail,
)
from coordination.audit.verify import verify_log
from coordination.db import get_database
from coordination.scheduler import AlwaysLeader, SchedulerRunner
from tests.conftest import ROOT, migrate
from tests.coordination.test_audit import chain_restored

DEADLINE = 30.0


def wait_until(condition: Callable[[], bool], seconds: float = DEADLINE) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def chained_marks(factory: sessionmaker[Session], start: int) -> list[list[int]]:
    """The object ids of the events chained after position ``start``, in chain order."""
    with factory() as session:
        return [
            list(ids)
            for ids in session.scalars(
                select(AuditEvent.object_ids)
                .where(AuditEvent.chain_position > start)
                .order_by(AuditEvent.chain_position)
            )
        ]


def nothing_unchained(factory: sessionmaker[Session]) -> bool:
    with factory() as session:
        return unchained_tail(session).count == 0


def assert_whole(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        log = verify_log(session)
        assert log.chain.ok, log.chain
        assert log.index.ok, log.index
        positions = list(
            session.scalars(
                select(AuditEvent.chain_position)
                .where(AuditEvent.chain_position.is_not(None))
                .order_by(AuditEvent.chain_position)
            )
        )
        assert positions == list(range(1, len(positions) + 1))  # dense: nothing skipped


def test_concurrent_writers_with_rollbacks_beside_a_running_sequencer_lose_nothing(
    app: Flask,
) -> None:
    """Eight writers, each event its own transaction, every fifth rolled back, while the
    sequencer chains in its own thread: every committed event is chained exactly once and no
    rolled-back one ever appears."""
    with chain_restored(app) as (factory, start):
        loop = SequencerLoop(factory, interval=0.01, batch=7)
        loop.start()
        committed: set[int] = set()
        lock = threading.Lock()

        def write(worker: int) -> None:
            for n in range(25):
                with factory() as session:
                    mark = worker * 1000 + n
                    record_event(session, None, AuditTag.ACCESS_DENIED, object_ids=[mark])
                    if n % 5 == 4:
                        session.rollback()
                        continue
                    session.commit()
                with lock:
                    committed.add(mark)

        try:
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(write, range(8)))
            assert wait_until(lambda: nothing_unchained(factory))
        finally:
            loop.stop()
        marks = chained_marks(factory, start)
        assert len(marks) == len(committed) == 160
        assert {m for [m] in marks} == committed
        assert loop.chained == 160
        assert_whole(factory)


def test_a_rolled_back_transaction_between_committed_ones_leaves_no_gap(app: Flask) -> None:
    with chain_restored(app) as (factory, start):
        ids = []
        for n, keep in ((1, True), (2, False), (3, True)):
            with factory() as session:
                ids.append(record_event(session, None, AuditTag.ACCESS_DENIED, object_ids=[n]).seq)
                session.commit() if keep else session.rollback()
        with factory() as session, session.begin():
            assert chain_events(session) == 2
        assert chained_marks(factory, start) == [[1], [3]]
        assert_whole(factory)


def test_an_in_flight_transaction_is_left_for_later_never_skipped(app: Flask) -> None:
    """The transaction that got the lower id commits last: the sequencer does not wait for
    it, and does not pass it over either; it is chained once it commits, after the other."""
    engine = get_database(app).engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: no transaction is in flight beside another's commit")
    with chain_restored(app) as (factory, start):
        slow = factory()
        try:
            early = record_event(slow, None, AuditTag.ACCESS_DENIED, object_ids=[1]).seq
            with factory() as fast:
                late = record_event(fast, None, AuditTag.ACCESS_DENIED, object_ids=[2]).seq
                fast.commit()
            assert early < late
            loop = SequencerLoop(factory, interval=0.01)
            backlog: deque[int] = deque()
            assert loop.run_once(backlog) and not loop.run_once(backlog)  # one batch, then none
            assert chained_marks(factory, start) == [[2]]
            slow.commit()
            assert loop.run_once(backlog)
            assert chained_marks(factory, start) == [[2], [1]]
        finally:
            slow.close()
        assert_whole(factory)


def test_a_sequencer_killed_in_its_batch_loses_nothing(app: Flask) -> None:
    """Its batch dies with its transaction (on PostgreSQL the server ends its connection):
    the head never moved, the events stay unchained, and the next sequencer chains them."""
    engine = get_database(app).engine
    with chain_restored(app) as (factory, start):
        with factory() as session, session.begin():
            for n in range(5):
                record_event(session, None, AuditTag.ACCESS_DENIED, object_ids=[n])
        killed = factory()
        ids = unchained_ids(killed)
        assert chain_batch(killed, ids) == 5
        if engine.dialect.name == "postgresql":
            pid = killed.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with factory() as other, other.begin():
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(Exception):  # noqa: B017, PT011 - the connection is gone
                killed.commit()
        killed.close()
        with factory() as session:
            assert session.scalar(select(AuditChainHead.seq)) == start
            assert unchained_tail(session).count == 5
        with factory() as session, session.begin():
            assert chain_events(session) == 5
        assert chained_marks(factory, start) == [[n] for n in range(5)]
        assert_whole(factory)
    engine.dispose()


def test_a_restarted_sequencer_chains_what_came_while_it_was_stopped(app: Flask) -> None:
    with chain_restored(app) as (factory, start):
        loop = SequencerLoop(factory, interval=0.01, batch=2)
        loop.start()
        try:
            with factory() as session, session.begin():
                record_event(session, None, AuditTag.ACCESS_DENIED, object_ids=[1])
            assert wait_until(lambda: nothing_unchained(factory))
        finally:
            loop.stop()
        for n in (2, 3, 4):  # while no sequencer runs: durable, unchained
            with factory() as session, session.begin():
                record_event(session, None, AuditTag.ACCESS_DENIED, object_ids=[n])
        with factory() as session:
            assert unchained_tail(session).count == 3
        restarted = SequencerLoop(factory, interval=0.01, batch=2)
        restarted.start()
        try:
            assert wait_until(lambda: nothing_unchained(factory))
        finally:
            restarted.stop()
        assert chained_marks(factory, start) == [[1], [2], [3], [4]]
        assert_whole(factory)


def test_two_sequencers_at_once_never_chain_an_event_twice(app: Flask) -> None:
    """Only the leader runs one, but `flask audit chain` beside it is allowed: the head's lock
    makes them take turns, and each re-reads which events are still unchained."""
    with chain_restored(app) as (factory, start):
        with factory() as session, session.begin():
            for n in range(30):
                record_event(session, None, AuditTag.ACCESS_DENIED, object_ids=[n])
        loops = [SequencerLoop(factory, interval=0.01, batch=4) for _ in range(2)]
        for loop in loops:
            loop.start()
        try:
            assert wait_until(lambda: nothing_unchained(factory))
        finally:
            for loop in loops:
                loop.stop()
        assert sum(loop.chained for loop in loops) == 30
        assert sorted(chained_marks(factory, start)) == [[n] for n in range(30)]
        assert_whole(factory)


class CountingSequencer:
    def __init__(self) -> None:
        self.started = threading.Event()
        self.stopped = threading.Event()

    def start(self) -> None:
        self.started.set()

    def stop(self, timeout: float = 30) -> None:
        self.stopped.set()


def test_the_leading_scheduler_runs_the_sequencer_and_stops_it_when_it_stops(
    app: Flask,
) -> None:
    sequencer = CountingSequencer()

    def build(flask_app: Flask, executor: JobExecutor) -> BlockingScheduler:
        return BlockingScheduler(executors={"default": executor})

    runner = SchedulerRunner(
        app, AlwaysLeader(), poll_seconds=0.1, build=build, sequencer=sequencer
    )
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    assert sequencer.started.wait(DEADLINE)
    assert not sequencer.stopped.is_set()
    runner.stop()
    thread.join(DEADLINE)
    assert not thread.is_alive() and sequencer.stopped.is_set()


def test_flask_audit_chain_and_verify_report_the_unchained_tail(app: Flask, db: Session) -> None:
    record_event(db, None, AuditTag.ACCESS_DENIED, object_ids=[1])
    runner = app.test_cli_runner()
    before = runner.invoke(args=["audit", "verify"])
    assert before.exit_code == 0, before.output
    assert "Ännu inte kedjade: 1 händelser" in before.output
    chained = runner.invoke(args=["audit", "chain"])
    assert chained.exit_code == 0 and "1 händelser länkades" in chained.output
    after = runner.invoke(args=["audit", "verify"])
    assert after.exit_code == 0 and "Ännu inte kedjade" not in after.output
    assert db.scalar(select(func.count()).where(AuditEvent.chain_position.is_(None))) == 0


def test_the_migration_keeps_an_existing_chain_and_chains_after_it(tmp_path: Path) -> None:
    """On its own SQLite file: a chain written by the old append (ids were positions), then
    this revision: every old event verifies unchanged, new ones chain after its head."""
    script = ScriptDirectory.from_config(AlembicConfig(str(ROOT / "alembic.ini")))
    previous = script.get_revision("u20a1chain0seq").down_revision
    assert isinstance(previous, str)
    engine = create_engine(f"sqlite:///{tmp_path / 'migrate.sqlite'}")
    try:
        migrate(engine, previous)
        when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        prev = GENESIS_HASH
        with engine.begin() as connection:
            for seq in (1, 2, 3):
                row = {
                    "seq": seq,
                    "occurred_at": when,
                    "actor_user_id": None,
                    "actor_agency_id": None,
                    "tag": "x:y:z",
                    "object_type": "record",
                    "object_ids": [seq],
                    "details": {},
                    "prev_hash": prev,
                }
                digest = hashlib.sha256(canonical_form(**row)).hexdigest()
                connection.execute(
                    text(
                        "INSERT INTO audit_events (seq, occurred_at, tag, object_type, "
                        "object_ids, details, prev_hash, hash) VALUES (:seq, "
                        "'2026-01-01 00:00:00.000000', 'x:y:z', 'record', :ids, '{}', :prev, "
                        ":hash)"
                    ),
                    {"seq": seq, "ids": f"[{seq}]", "prev": prev, "hash": digest},
                )
                connection.execute(
                    text(
                        "INSERT INTO audit_event_objects (seq, object_type, object_id) "
                        "VALUES (:seq, 'record', :seq)"
                    ),
                    {"seq": seq},
                )
                prev = digest
            connection.execute(
                text("UPDATE audit_chain_head SET seq = 3, hash = :hash"), {"hash": prev}
            )
        migrate(engine)
        with Session(engine) as session:
            log = verify_log(session)
            assert log.chain.ok and log.chain.checked == 3 and log.index.ok
            event = record_event(session, None, AuditTag.ACCESS_DENIED, object_ids=[9])
            assert event.seq == 4 and event.chain_position is None
            assert chain_events(session) == 1
            assert event.chain_position == 4 and event.prev_hash == prev
            session.commit()
            assert verify_log(session).chain.checked == 4
    finally:
        engine.dispose()
