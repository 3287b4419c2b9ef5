"""The scheduler's books beyond one run: outcomes that could not be written while the database
was away, runs a dead leader left ``running``, and the one log line and metrics of each run.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable

from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session

from coordination.db import execute_bulk
from coordination.models import JobRun
from coordination.ops.metrics import observe_job

logger = logging.getLogger("samverkan.scheduler")

# Outcomes whose write failed (the database went away mid-run), by JobRun id: written by the
# next run that reaches the database, so no run stays "running" for ever.
UNRECORDED_EXTENSION = "samverkan.scheduler_unrecorded"
_unrecorded_lock = threading.Lock()


def remember_unrecorded(app: Flask, run_id: int, finished_at: dt.datetime) -> None:
    with _unrecorded_lock:
        app.extensions.setdefault(UNRECORDED_EXTENSION, {})[run_id] = finished_at


def record_unrecorded_outcomes(app: Flask, session: Session) -> list[int]:
    """Write the ``error`` outcomes an earlier run could not; the caller commits, then
    forgets the returned run ids (``forget_unrecorded``)."""
    with _unrecorded_lock:
        pending: dict[int, dt.datetime] = dict(app.extensions.get(UNRECORDED_EXTENSION, {}))
    for run_id, finished_at in pending.items():
        session.execute(
            update(JobRun)
            .where(JobRun.id == run_id, JobRun.outcome.in_(("running", "abandoned")))
            .values(outcome="error", finished_at=finished_at)
        )
    return list(pending)


def forget_unrecorded(app: Flask, run_ids: Iterable[int]) -> None:
    with _unrecorded_lock:
        unrecorded = app.extensions.get(UNRECORDED_EXTENSION, {})
        for run_id in run_ids:
            unrecorded.pop(run_id, None)


def abandon_stale_runs(session: Session, now: dt.datetime) -> int:
    """A scheduler taking the lead: runs still ``running`` were left by a process that died
    (or lost the database) while leading, since the lock admits one leader at a time."""
    return execute_bulk(
        session,
        update(JobRun)
        .where(JobRun.outcome == "running")
        .values(outcome="abandoned", finished_at=now),
    )


def log_run(job_id: str, outcome: str, seconds: float, items: int | None) -> None:
    """One structured line per run (JSON through coordination.ops.logs), and its metrics."""
    observe_job(job_id, outcome, seconds)
    logger.log(
        logging.INFO if outcome == "ok" else logging.ERROR,
        "job run",
        extra={
            "job": job_id,
            "outcome": outcome,
            "duration_ms": round(seconds * 1000, 2),
            "items": items,
        },
    )
