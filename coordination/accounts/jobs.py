"""The accounts feature's nightly sweep: forget sessions that ended or expired a week ago."""

from __future__ import annotations

from flask import Flask

from coordination.accounts.sessions import prune_sessions
from coordination.scheduler import NIGHT_GRACE, JobSpec, nightly, register_jobs


def init_app(app: Flask) -> None:
    register_jobs(
        app,
        JobSpec(
            "coordination.prune_sessions",
            prune_sessions,
            nightly(3, 20),
            NIGHT_GRACE,
            catch_up=True,
        ),
    )
