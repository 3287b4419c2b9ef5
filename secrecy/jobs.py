"""The secrecy package's scheduled sweeps, run nightly by the scheduler
(``coordination.scheduler``).

Thin wrappers: ``(session, now) -> items`` around the functions the CLI also runs. Both are
idempotent sweeps (a second run finds nothing) and only flush; the scheduler's runner commits,
or rolls back on error.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.audit.checkpoints import AuditCheckpoint
from coordination.audit.log import AuditChainHead
from coordination.audit.sequencer import chain_events
from coordination.db import LOCAL_ZONE
from coordination.scheduler import NIGHT_GRACE, JobSpec, nightly, register_jobs
from secrecy import shredlog
from secrecy.agerules.services import remind_exception_reviews
from secrecy.agerules.thresholds import notify_thresholds
from secrecy.disclosure.lapse import sweep_lapsed
from secrecy.records.sealing import sign_chain_head
from secrecy.requests.services import flag_overdue_requests
from secrecy.retention import apply_retention, retention_erasures


def _local_day(now: dt.datetime) -> dt.date:
    """The Swedish calendar day that ages, consents and retention periods count in."""
    return now.astimezone(LOCAL_ZONE).date()


def retention_job(session: Session, now: dt.datetime) -> int:
    """Gallring: crypto-shred closed cases whose retention period has ended. Returns the
    number of children shredded. First the shred log catches up with every shredding already
    committed (secrecy.shredlog): one whose append failed, or made without an app context."""
    path = shredlog.configured_path()
    if path is not None:
        shredlog.sync(session, path)
    return apply_retention(
        session, _local_day(now), dry_run=False, erasures=retention_erasures(current_app)
    ).children_count


def sweep_lapsed_job(session: Session, now: dt.datetime) -> int:
    """End disclosures whose basis has lapsed. Returns the number ended."""
    return sweep_lapsed(session, _local_day(now)).lapsed


def audit_checkpoint_job(session: Session, now: dt.datetime) -> int:
    """Sign the audit chain's head (Ed25519) unless nothing has been logged since the last
    checkpoint (whose own event is then the head). Chains what is committed first, so the
    checkpoint covers it. Returns the number of checkpoints made."""
    chain_events(session)
    head = session.get(AuditChainHead, 1)
    last = session.scalar(select(func.max(AuditCheckpoint.seq)))
    if head is None or head.seq == 0 or (last is not None and head.seq <= last + 1):
        return 0
    sign_chain_head(session)
    return 1


def overdue_requests_job(session: Session, now: dt.datetime) -> int:
    """Flag open information requests older than their council's setting to the asked
    agency's coordinator. Returns the number flagged."""
    return flag_overdue_requests(session, now)


def age_exception_review_job(session: Session, now: dt.datetime) -> int:
    """Tell the coordinators that an exception from a council's age range is due for review,
    on its review date. Returns the number of exceptions due."""
    return remind_exception_reviews(session, now, _local_day(now))


def age_threshold_job(session: Session, now: dt.datetime) -> int:
    """Tell the agencies concerned, 14 days ahead, that a child reaches an age at which
    disclosures or consents change. Returns the number of thresholds notified."""
    return notify_thresholds(session, _local_day(now))


def init_app(app: Flask) -> None:
    """Register this package's nightly sweeps with the one scheduler process."""
    register_jobs(
        app,
        JobSpec(
            "secrecy.sweep_lapsed", sweep_lapsed_job, nightly(2, 0), NIGHT_GRACE, catch_up=True
        ),
        JobSpec("secrecy.retention", retention_job, nightly(2, 30), NIGHT_GRACE, catch_up=True),
        JobSpec(
            "secrecy.audit_checkpoint",
            audit_checkpoint_job,
            nightly(3, 45),
            NIGHT_GRACE,
            catch_up=True,
        ),
        JobSpec(
            "secrecy.overdue_requests",
            overdue_requests_job,
            nightly(6, 30),
            NIGHT_GRACE,
            catch_up=True,
        ),
        JobSpec(
            "secrecy.age_exception_reviews",
            age_exception_review_job,
            nightly(6, 40),
            NIGHT_GRACE,
            catch_up=True,
        ),
        JobSpec(
            "secrecy.age_thresholds",
            age_threshold_job,
            nightly(6, 50),
            NIGHT_GRACE,
            catch_up=True,
        ),
    )
