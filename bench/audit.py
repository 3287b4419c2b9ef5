"""The audit log under load: appends by many writers while the sequencer chains, and verify.

Writers: ``--processes`` processes of ``--threads`` threads (32 writers by default), each with
its own database connection, each event its own transaction through ``record_event`` (the
insert of the event and its object index row, durable at commit: ``synchronous_commit`` is
whatever the server says, ``on`` by default, and the result records it). Beside them one
process runs the sequencer exactly as the leading scheduler does (``sequencer_for``). Reports:

- events/s committed by all writers together;
- the chaining lag of every event appended in the run (``chained_at - occurred_at``: from the
  moment ``record_event`` ran, before the commit, to the sequencer's commit of its batch; an
  upper bound of the window in which the event is durable but not yet chained), p50/p99/max;
- how long the sequencer needed for the tail left when the writers stopped;
- ``flask audit verify`` throughput over the whole log afterwards: in process (chain, index and
  checkpoints, what the command does without its start-up) and the command itself.

    .venv/bin/python bench/audit.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/db

Works on any database the app runs on (an empty one is migrated first); ``bench/run.py`` runs
it on the bench data set as part of ``--only audit``. Writes
``bench/out/<database>/audit-<time>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import json
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    DEFAULT_DATABASE,
    ROOT,
    BenchSettings,
    ensure_database,
    load_settings,
    make_app,
    run_flask,
    say,
)
from common import migrate as migrate_app

TAG = "bench:audit:append"


class BenchTag(enum.StrEnum):
    APPEND = TAG


def _writers(args: tuple[BenchSettings, int, float, Any, Any, Any]) -> None:
    """One process of writer threads; puts the number of events each committed."""
    settings, threads, seconds, ready, go, queue = args
    from coordination.audit.log import record_event
    from coordination.db import get_database

    os.environ["SAMVERKAN_DATABASE_POOL_SIZE"] = str(threads + 1)
    app = make_app(settings)
    counts = [0] * threads

    def write(index: int) -> None:
        with app.app_context():
            session = get_database(app).session_factory()
            session.connection()  # connected before the start
            go.wait()
            until = time.monotonic() + seconds
            count = 0
            while time.monotonic() < until:
                record_event(
                    session, None, BenchTag.APPEND, object_type="bench", object_ids=[count]
                )
                session.commit()
                count += 1
            session.close()
            counts[index] = count

    workers = [threading.Thread(target=write, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    ready.put(1)
    for worker in workers:
        worker.join()
    queue.put(counts)


def _sequencer(args: tuple[BenchSettings, Any, Any, Any]) -> None:
    """The leader's sequencer thread, in a process of its own until ``stop`` is set."""
    settings, ready, stop, queue = args
    from coordination.audit.sequencer import sequencer_for

    app = make_app(settings)
    loop = sequencer_for(app)
    loop.start()
    ready.put(1)
    stop.wait()
    loop.stop()
    queue.put(loop.chained)


def unchained_count(settings: BenchSettings) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        count = connection.scalar(
            text("SELECT count(*) FROM audit_events WHERE chain_position IS NULL")
        )
    engine.dispose()
    return int(count or 0)


def measure_append(
    settings: BenchSettings, *, processes: int = 4, threads: int = 8, seconds: float = 20
) -> dict[str, Any]:
    from sqlalchemy import create_engine, text

    context = multiprocessing.get_context("spawn")
    queue, ready, go, stop = context.Queue(), context.Queue(), context.Event(), context.Event()
    sequencer_queue = context.Queue()
    sequencer = context.Process(target=_sequencer, args=((settings, ready, stop, sequencer_queue),))
    writers = [
        context.Process(target=_writers, args=((settings, threads, seconds, ready, go, queue),))
        for _ in range(processes)
    ]
    sequencer.start()
    for process in writers:
        process.start()
    for _ in range(processes + 1):  # every writer connected and the sequencer running
        ready.get()
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        synchronous_commit = connection.scalar(text("SHOW synchronous_commit"))
        started_at = connection.scalar(text("SELECT now()"))
    go.set()
    counts = [c for _ in writers for c in queue.get()]
    for process in writers:
        process.join()
    load_ended = time.monotonic()
    drained = False
    while time.monotonic() - load_ended < 120:
        if unchained_count(settings) == 0:
            drained = True
            break
        time.sleep(0.05)
    drain_seconds = time.monotonic() - load_ended
    stop.set()
    chained = sequencer_queue.get()
    sequencer.join()
    with engine.connect() as connection:
        lag = connection.execute(
            text(
                "SELECT count(*), "
                "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM "
                "chained_at - occurred_at)), "
                "percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM "
                "chained_at - occurred_at)), "
                "max(extract(epoch FROM chained_at - occurred_at)) "
                "FROM audit_events WHERE tag = :tag AND occurred_at >= :start"
            ),
            {"tag": TAG, "start": started_at},
        ).one()
    engine.dispose()
    total = sum(counts)
    return {
        "writers": processes * threads,
        "processes": processes,
        "threads_per_process": threads,
        "seconds": seconds,
        "synchronous_commit": synchronous_commit,
        "events": total,
        "events_per_s": round(total / seconds),
        "per_writer_min_max": [min(counts), max(counts)],
        "chained_by_sequencer": chained,
        "events_found_chained": int(lag[0]),
        "lag_p50_s": round(float(lag[1] or 0), 3),
        "lag_p99_s": round(float(lag[2] or 0), 3),
        "lag_max_s": round(float(lag[3] or 0), 3),
        "tail_drained": drained,
        "tail_drain_seconds": round(drain_seconds, 2),
    }


def top_up(settings: BenchSettings, events: int) -> int:
    """Record events (1,000 a transaction, each with an object index row and a child named in
    its details, like a view event) until the log holds ``events``; returns how many."""
    from sqlalchemy import func, select

    from coordination.audit.log import AuditEvent, record_event
    from coordination.db import get_database

    app = make_app(settings)
    added = 0
    with app.app_context():
        session = get_database(app).session_factory()
        missing = events - (session.scalar(select(func.count(AuditEvent.seq))) or 0)
        while added < missing:
            for n in range(min(1000, missing - added)):
                record_event(
                    session,
                    None,
                    BenchTag.APPEND,
                    object_type="bench",
                    object_ids=[added + n],
                    details={"purpose": "view", "child_ids": [n % 97], "withheld": 0},
                )
            session.commit()
            added += min(1000, missing - added)
        session.close()
    get_database(app).engine.dispose()
    return added


@contextmanager
def drained_session(settings: BenchSettings) -> Iterator[tuple[Any, int]]:
    """A session on the bench database once the sequencer has chained what the writers left,
    and the number of audit events then; the session closed and the engine disposed after."""
    from sqlalchemy import func, select

    from coordination.audit.log import AuditEvent
    from coordination.audit.sequencer import drain
    from coordination.db import get_database

    app = make_app(settings)
    with app.app_context():
        drain(get_database(app).session_factory)
        session = get_database(app).session_factory()
        try:
            yield session, session.scalar(select(func.count(AuditEvent.seq))) or 0
        finally:
            session.close()
    get_database(app).engine.dispose()


def timed_full_verify(session: Any) -> tuple[float, Any, Any]:
    """What `flask audit verify` does (the log, then the checkpoints), timed without the
    process start-up (imports, app): the seconds, the log's result and the checkpoints'."""
    from coordination.audit.checkpoints import verify_checkpoints
    from coordination.audit.verify import verify_log

    started = time.perf_counter()
    log = verify_log(session)
    checkpoints = verify_checkpoints(session)
    return time.perf_counter() - started, log, checkpoints


def measure_verify(settings: BenchSettings) -> dict[str, Any]:
    with drained_session(settings) as (session, events):
        in_process, log, checkpoints = timed_full_verify(session)
    cli, result = run_flask(settings, "audit", "verify")
    return {
        "events": events,
        "in_process_seconds": round(in_process, 2),
        "in_process_events_per_s": round(events / in_process) if in_process else None,
        "cli_seconds": round(cli, 2),
        "cli_events_per_s": round(events / cli) if cli else None,
        "ok": log.chain.ok and log.index.ok and checkpoints.ok and result.returncode == 0,
        "unchained_after_drain": log.unchained.count,
        "output": (result.stdout + result.stderr).strip().splitlines()[-3:],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8, help="writer threads per process")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--verify-events",
        type=int,
        default=0,
        help="record events until the log holds this many before verify is timed",
    )
    args = parser.parse_args()
    settings = load_settings(args.database_url)
    ensure_database(args.database_url)
    migrate_app(make_app(settings))
    started = dt.datetime.now(dt.UTC)
    say(f"Audit append: {args.processes * args.threads} writers for {args.seconds} s...")
    append = measure_append(
        settings, processes=args.processes, threads=args.threads, seconds=args.seconds
    )
    say(json.dumps(append))
    if args.verify_events:
        say(f"Topping the log up to {args.verify_events} events...")
        top_up(settings, args.verify_events)
    say("flask audit verify over the whole log...")
    verify = measure_verify(settings)
    say(json.dumps(verify))
    results = {"started_at": started.isoformat(timespec="seconds"), "append": append}
    results["verify"] = verify
    settings.folder.mkdir(parents=True, exist_ok=True)
    path = settings.folder / f"audit-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(results, indent=2))
    say(f"Written: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
