"""The accounts feature's nightly sweeps: forget sessions that ended or expired a week ago, and
the back-channel logout tokens that can no longer be replayed."""

from __future__ import annotations

from flask import Flask

from coordination.accounts.providers.logout_tokens import prune_logout_tokens
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
        JobSpec(
            "coordination.prune_logout_tokens",
            prune_logout_tokens,
            nightly(3, 25),
            NIGHT_GRACE,
            catch_up=True,
        ),
    )
