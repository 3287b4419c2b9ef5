"""Gallring takes the sealed overall level with the shredded records: what the council's counts
keep about a child, sealed with the installation's child-facts key (which shredding does not
delete), does not outlive the child's records."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE
from coordination.models import AgencyKind
from minutes.assessments import stats
from secrecy.records.children import CloseReason, close_case
from secrecy.retention import apply_retention, retention_erasures
from tests.conftest import Council3
from tests.minutes.assessments.helpers import assess, enrol, level_of


def _latest_counts(db: Session, world: Council3) -> dict[str, int | None]:
    [counted] = stats.council_statistics(db, world.council)
    return {c.code: c.count for c in counted.levels}


def test_the_overall_level_is_erased_when_the_child_is_shredded(
    app: Flask, db: Session, world: Council3, monkeypatch: pytest.MonkeyPatch
) -> None:
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    with time_machine.travel(dt.datetime(2026, 1, 10, 12, tzinfo=LOCAL_ZONE), tick=False):
        child = enrol(db, social, world.council)
        other = enrol(db, social, world.council, "20100101-0014")
        gone = assess(db, social, child, {"networks": "2"}, day=dt.date(2026, 1, 10))
        kept = assess(db, social, other, {"school": "2", "family": "2"}, day=dt.date(2026, 1, 10))
    with time_machine.travel(dt.datetime(2026, 1, 31, 12, tzinfo=LOCAL_ZONE), tick=False):
        close_case(db, social, child, CloseReason.GOALS_REACHED)
    assert level_of(db, gone) == "high" and level_of(db, kept) == "medium"
    # Cells of one child shown, to see who is counted.
    monkeypatch.setattr(stats, "SUPPRESS_BELOW", 1)
    assert _latest_counts(db, world) == {"low": None, "medium": 1, "high": 1}

    due = dt.date(2026, 1, 31) + dt.timedelta(days=31 * world.council.retention_months)
    report = apply_retention(db, due, dry_run=False, erasures=retention_erasures(app))

    assert [c.child_id for c in report.children] == [child.id]
    db.refresh(gone)
    db.refresh(kept)
    assert gone.overall_level_sealed is None
    raw = db.execute(
        text("SELECT overall_level_sealed FROM assessments WHERE id = :id"), {"id": gone.id}
    )
    assert raw.scalar_one() is None
    assert level_of(db, kept) == "medium"
    assert _latest_counts(db, world) == {"low": None, "medium": 1, "high": None}
