"""The scheduler process (``flask scheduler run``): one APScheduler 3 ``BlockingScheduler``
running every package's sweeps.

Jobs are registered in code with fixed ids (``job_specs``): this package's jobs, secrecy's
(imported downward), and those an upper layer registers through ``register_jobs``. Each run
opens its own session inside an app context, commits at the end (the outbox commits per
message), rolls back on error, records a ``JobRun`` row and logs failures by exception class
and code location only: exception messages may quote SQL parameters, so they are never logged.

One scheduler is active per database. On PostgreSQL the leader holds
``pg_try_advisory_lock(ADVISORY_LOCK_KEY)`` on a dedicated connection; a second scheduler is a
standby that retries every ``SCHEDULER_STANDBY_POLL_SECONDS`` and takes over when the first one's
connection closes (a crash, a kill, a lost network all end the session and so the lock). The
leader re-checks its lock on the same interval and steps down when it has lost it. On SQLite
(development) the same role is played by an exclusive ``flock`` on a file next to the database.
The leader also runs the audit sequencer (``coordination.audit.sequencer``) in a thread of its
own while it leads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from apscheduler.events import EVENT_SCHEDULER_STARTED, SchedulerEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import Connection, Engine, delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from coordination.db import LOCAL_ZONE, execute_bulk, get_database, make_engine, utcnow
from coordination.job_runs import (
    abandon_stale_runs,
    forget_unrecorded,
    log_run,
    record_unrecorded_outcomes,
    remember_unrecorded,
)
from coordination.models import JobRun
from coordination.registry import JOBS

logger = logging.getLogger("samverkan.scheduler")

# pg_try_advisory_lock key of the scheduler: "SAMV" in ASCII. Below 2**31, so it shows in
# pg_locks as classid 0, objid ADVISORY_LOCK_KEY.
ADVISORY_LOCK_KEY = 0x53414D56
WORKERS = 4

JobFunction = Callable[[Session, dt.datetime], int]

NIGHT_GRACE = 6 * 3600  # a nightly sweep still runs if the process was busy or paused for hours
HOURLY_GRACE = 30 * 60
MINUTE_GRACE = 60
JOB_RUN_RETENTION = dt.timedelta(days=30)


@dataclass(frozen=True)
class JobSpec:
    """One scheduled sweep: a fixed id, the function, when it runs."""

    id: str
    func: JobFunction
    trigger: BaseTrigger
    misfire_grace_time: int
    # Run once as soon as the scheduler starts leading, then on the trigger: a nightly sweep
    # missed while no scheduler ran is caught up at once (the sweeps are idempotent).
    catch_up: bool = False


def nightly(hour: int, minute: int) -> CronTrigger:
    return CronTrigger(hour=hour, minute=minute, timezone=LOCAL_ZONE)


def job_specs(app: Flask) -> list[JobSpec]:
    """Every job of the installation, with fixed ids: the scheduler's own bookkeeping and what
    each package registered from its ``jobs.init_app``."""
    own = [
        JobSpec(
            "coordination.prune_job_runs",
            prune_job_runs,
            nightly(3, 15),
            NIGHT_GRACE,
            catch_up=True,
        ),
    ]
    return own + JOBS.of(app)


def prune_job_runs(session: Session, now: dt.datetime) -> int:
    """Nightly: forget job runs older than ``JOB_RUN_RETENTION``."""
    return execute_bulk(session, delete(JobRun).where(JobRun.started_at < now - JOB_RUN_RETENTION))


def register_jobs(app: Flask, *specs: JobSpec) -> None:
    """Each package adds its jobs from its ``jobs.init_app``; this module imports none of them."""
    JOBS.add(app, *specs)


# --- Running one job ------------------------------------------------------------------------------


def _where(exc: BaseException) -> str:
    """The innermost frame as ``file:line``: enough to find the bug, no data in it."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    frame = frames[-1]
    return f"{os.path.basename(frame.filename)}:{frame.lineno}"


def run_job(app: Flask, spec: JobSpec) -> str:
    """Run one job in its own session and app context; returns the outcome ("ok"/"error").

    Never raises: APScheduler would log the exception with its message, and messages of
    database errors carry parameters.
    """
    started = time.perf_counter()
    with app.app_context():
        session = get_database(app).session_factory()
        run_id: int | None = None
        try:
            earlier = record_unrecorded_outcomes(app, session)
            run = JobRun(job_id=spec.id, started_at=utcnow(), outcome="running")
            session.add(run)
            session.commit()
            run_id = run.id
            forget_unrecorded(app, earlier)
            try:
                items = spec.func(session, run.started_at)
            except Exception as exc:  # noqa: BLE001 - any failure: roll back, log without data
                session.rollback()
                logger.error("job %s failed: %s at %s", spec.id, type(exc).__name__, _where(exc))
                run.outcome, run.finished_at = "error", utcnow()
                session.commit()
                log_run(spec.id, "error", time.perf_counter() - started, None)
                return "error"
            run.outcome, run.finished_at, run.items = "ok", utcnow(), int(items)
            session.commit()
            log_run(spec.id, "ok", time.perf_counter() - started, int(items))
            return "ok"
        except Exception as exc:  # noqa: BLE001 - the bookkeeping itself failed (database down)
            logger.error("job %s could not run: %s at %s", spec.id, type(exc).__name__, _where(exc))
            if run_id is not None:
                remember_unrecorded(app, run_id, utcnow())
            # With the database gone the rollback may fail as well; closing the session
            # below discards the connection either way.
            with contextlib.suppress(Exception):
                session.rollback()
            log_run(spec.id, "error", time.perf_counter() - started, None)
            return "error"
        finally:
            session.close()


def build_scheduler(
    app: Flask,
    specs: Sequence[JobSpec] | None = None,
    *,
    executor: ThreadPoolExecutor | None = None,
    now: dt.datetime | None = None,
) -> BlockingScheduler:
    """A scheduler with the jobs added, not started."""
    scheduler = BlockingScheduler(
        timezone=LOCAL_ZONE,
        executors={"default": executor or ThreadPoolExecutor(max_workers=WORKERS)},
        job_defaults={"coalesce": True, "max_instances": 1},
    )
    start = now or utcnow()
    for spec in job_specs(app) if specs is None else specs:
        options: dict[str, Any] = {}
        if spec.catch_up:
            options["next_run_time"] = start
        scheduler.add_job(
            run_job,
            spec.trigger,
            args=[app, spec],
            id=spec.id,
            name=spec.id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=spec.misfire_grace_time,
            replace_existing=True,
            **options,
        )
    return scheduler


# --- One active scheduler per database ------------------------------------------------------------


class LeaderLock(Protocol):
    def try_acquire(self) -> bool:
        """Take the lock if free; True while this process holds it."""
        ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...


class PostgresLeaderLock:
    """A session-level advisory lock on its own connection (outside any pool): it lives
    exactly as long as that connection."""

    def __init__(self, url: str, key: int = ADVISORY_LOCK_KEY) -> None:
        self._engine: Engine = make_engine(url, poolclass=NullPool)
        self._key = key
        self._connection: Connection | None = None

    def try_acquire(self) -> bool:
        if self._connection is not None:
            return self.still_held()
        # Autocommit: the connection idles between checks without holding a transaction open.
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            acquired = bool(
                connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})
            )
        except Exception:
            connection.close()
            raise
        if acquired:
            self._connection = connection
        else:
            connection.close()
        return acquired

    def still_held(self) -> bool:
        if self._connection is None:
            return False
        try:
            return bool(
                self._connection.scalar(
                    text(
                        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                        "AND pid = pg_backend_pid() AND classid = 0 AND objid = :key "
                        "AND objsubid = 1 AND granted)"
                    ),
                    {"key": self._key},
                )
            )
        except Exception:  # noqa: BLE001 - a dead connection means the lock is gone
            self._drop()
            return False

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            # Closing a broken connection may fail too; either way it is gone.
            with contextlib.suppress(Exception):
                connection.close()

    def release(self) -> None:
        if self._connection is not None:
            # If this fails, closing the connection below releases the lock anyway.
            with contextlib.suppress(Exception):
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
                )
        self._drop()

    def dispose(self) -> None:
        self.release()
        self._engine.dispose()


class FileLeaderLock:
    """SQLite: an exclusive ``flock`` on a file; the kernel drops it when the process dies."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class AlwaysLeader:
    """An in-memory SQLite database belongs to one process: nobody to elect."""

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        return None


def leader_lock_for(database_url: str, *, key: int = ADVISORY_LOCK_KEY) -> LeaderLock:
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "postgresql":
        return PostgresLeaderLock(database_url, key)
    if backend == "sqlite" and url.database and url.database != ":memory:":
        return FileLeaderLock(Path(f"{url.database}.scheduler-lock"))
    if backend != "sqlite":
        logger.warning("no leader election on %s: run one scheduler only", backend)
    return AlwaysLeader()


class Sequencer(Protocol):
    """A loop the leader runs beside its jobs (``coordination.audit.sequencer.SequencerLoop``)."""

    def start(self) -> None: ...

    def stop(self, timeout: float = 30) -> None: ...


class SchedulerRunner:
    """Standby until the leader lock is ours, then run the scheduler until ``stop`` (or until
    the lock is lost, then standby again)."""

    def __init__(
        self,
        app: Flask,
        lock: LeaderLock,
        *,
        poll_seconds: float,
        build: Callable[[Flask, ThreadPoolExecutor], BlockingScheduler] | None = None,
        sequencer: Sequencer | None = None,
    ) -> None:
        self._app = app
        # The audit sequencer runs while this process leads, so one chains at a time.
        self._sequencer = sequencer
        self._lock = lock
        self._poll = poll_seconds
        self._build = build or (
            lambda flask_app, executor: build_scheduler(flask_app, executor=executor)
        )
        self._stopping = threading.Event()
        # Re-entrant: the signal handler (stop) runs on the main thread, which may hold it.
        self._mutex = threading.RLock()
        self._scheduler: BlockingScheduler | None = None
        self.leading = threading.Event()

    def stop(self) -> None:
        """Safe from a signal handler or any thread: running jobs finish, nothing new starts."""
        self._stopping.set()
        with self._mutex:
            scheduler = self._scheduler
        if scheduler is not None and scheduler.running:
            # From another thread: the main thread may be inside the scheduler's loop.
            threading.Thread(target=_shutdown_quietly, args=(scheduler,), daemon=True).start()

    def run(self) -> None:
        # What was last said about not leading, so each change is logged once: "standby"
        # (another scheduler holds the lock) or "unreachable" (the database does not answer).
        announced: str | None = None
        try:
            while not self._stopping.is_set():
                try:
                    acquired = self._lock.try_acquire()
                except Exception as exc:  # noqa: BLE001 - database unreachable: try again later
                    if announced != "unreachable":
                        logger.error(
                            "database unreachable (%s); trying again every %s s",
                            type(exc).__name__,
                            self._poll,
                        )
                        announced = "unreachable"
                    self._stopping.wait(self._poll)
                    continue
                if not acquired:
                    if announced != "standby":
                        logger.info("another scheduler is active; standing by")
                        announced = "standby"
                    self._stopping.wait(self._poll)
                    continue
                announced = None
                logger.info("scheduler active")
                self._take_over()
                self._lead()
                self._lock.release()
        finally:
            self._lock.release()
            logger.info("scheduler stopped")

    def _take_over(self) -> None:
        """Close the books of the previous leader: its unfinished runs are ``abandoned``, and
        outcomes this process could not write while the database was away are written."""
        with self._app.app_context():
            session = get_database(self._app).session_factory()
            try:
                recorded = record_unrecorded_outcomes(self._app, session)
                abandoned = abandon_stale_runs(session, utcnow())
                session.commit()
                forget_unrecorded(self._app, recorded)
            except Exception as exc:  # noqa: BLE001 - the jobs' own runs retry the bookkeeping
                session.rollback()
                logger.error("could not close earlier job runs: %s", type(exc).__name__)
                return
            finally:
                session.close()
        if abandoned:
            logger.warning("%s job runs of a stopped scheduler marked abandoned", abandoned)

    def _lead(self) -> None:
        executor = ThreadPoolExecutor(max_workers=WORKERS)
        scheduler = self._build(self._app, executor)
        scheduler.add_job(
            self._check_leadership,
            IntervalTrigger(seconds=max(self._poll, 1)),
            args=[scheduler],
            id="scheduler.leader_check",
            name="scheduler.leader_check",
            coalesce=True,
            max_instances=1,
        )
        scheduler.add_listener(self._on_started, EVENT_SCHEDULER_STARTED)
        with self._mutex:
            self._scheduler = scheduler
        if self._sequencer is not None:
            self._sequencer.start()
        try:
            self.leading.set()
            scheduler.start()  # blocks until shut down
        finally:
            if self._sequencer is not None:
                self._sequencer.stop()  # its batch commits or rolls back before the lock goes
            self.leading.clear()
            with self._mutex:
                self._scheduler = None
            executor.shutdown(wait=True)  # let running jobs finish before the lock goes

    def _on_started(self, _event: SchedulerEvent) -> None:
        # A stop that came between building and starting the scheduler.
        with self._mutex:
            scheduler = self._scheduler
        if self._stopping.is_set() and scheduler is not None:
            _shutdown_quietly(scheduler)

    def _check_leadership(self, scheduler: BlockingScheduler) -> None:
        if self._stopping.is_set():
            _shutdown_quietly(scheduler)
        elif not self._lock.still_held():
            logger.error("leader lock lost; stopping the jobs and standing by")
            _shutdown_quietly(scheduler)


def _shutdown_quietly(scheduler: BlockingScheduler) -> None:
    with contextlib.suppress(SchedulerNotRunningError):
        scheduler.shutdown(wait=False)
