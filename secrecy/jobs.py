"""The secrecy package's scheduled sweeps, run nightly by the scheduler (``meetings.scheduler``).

Thin wrappers: ``(session, now) -> items`` around the functions the CLI also runs. Both are
idempotent sweeps (a second run finds nothing) and only flush; the scheduler's runner commits,
or rolls back on error.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE
from secrecy.disclosure import sweep_lapsed
from secrecy.retention import apply_retention


def _local_day(now: dt.datetime) -> dt.date:
    """The Swedish calendar day that ages, consents and retention periods count in."""
    return now.astimezone(LOCAL_ZONE).date()


def retention_job(session: Session, now: dt.datetime) -> int:
    """Gallring: crypto-shred closed cases whose retention period has ended. Returns the
    number of children shredded."""
    return apply_retention(session, _local_day(now), dry_run=False).children_count


def sweep_lapsed_job(session: Session, now: dt.datetime) -> int:
    """End disclosures whose basis has lapsed. Returns the number ended."""
    return sweep_lapsed(session, _local_day(now)).lapsed
