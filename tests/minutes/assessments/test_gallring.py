"""Gallring takes the plain overall level with the shredded records: what the council's counts
kept in the clear about a child does not outlive the child's sealed records."""

from __future__ import annotations

import datetime as dt

import time_machine
from flask import Flask
from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE
from coordination.models import AgencyKind
from minutes.assessments.stats import council_statistics
from secrecy.records.children import CloseReason, close_case
from secrecy.retention import apply_retention, retention_erasures
from tests.conftest import Council3
from tests.minutes.assessments.helpers import assess, enrol


def test_the_overall_level_is_erased_when_the_child_is_shredded(
    app: Flask, db: Session, world: Council3
) -> None:
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    with time_machine.travel(dt.datetime(2026, 1, 10, 12, tzinfo=LOCAL_ZONE), tick=False):
        child = enrol(db, social, world.council)
        other = enrol(db, social, world.council, "20100101-0014")
        gone = assess(db, social, child, {"school": "2"}, day=dt.date(2026, 1, 10))
        kept = assess(db, social, other, {"school": "1"}, day=dt.date(2026, 1, 10))
    with time_machine.travel(dt.datetime(2026, 1, 31, 12, tzinfo=LOCAL_ZONE), tick=False):
        close_case(db, social, child, CloseReason.GOALS_REACHED)
    assert gone.overall_level is not None and kept.overall_level is not None

    due = dt.date(2026, 1, 31) + dt.timedelta(days=31 * world.council.retention_months)
    report = apply_retention(db, due, dry_run=False, erasures=retention_erasures(app))

    assert [c.child_id for c in report.children] == [child.id]
    db.refresh(gone)
    db.refresh(kept)
    assert gone.overall_level is None
    assert kept.overall_level is not None
    counted = council_statistics(db, world.council)
    assert counted, "the other child's assessment still counts"
