"""The overall level kept on the assessment row for the council's counts is sealed: the row holds
no level code in the clear (nor one its length gives away), the sealed level opens only for its
own assessment, the statistics open the council's levels in one batch (no query per row), and
another agency without a disclosure still sees no level of the child."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from coordination.models import AgencyKind
from minutes.assessments.services import assessment_views
from minutes.assessments.stats import council_statistics
from secrecy.records.children import EnrolmentData, enrol_child
from secrecy.records.reveal import SealedLevel, assessment_levels
from tests.conftest import Council3, log_in, sql_statements
from tests.minutes.assessments.conftest import TODAY
from tests.minutes.assessments.helpers import assess, enrol, level_of
from tests.test_query_counts import personnummer

SOCIAL, SCHOOL = AgencyKind.SOCIAL_SERVICES, AgencyKind.SCHOOL
pytestmark = pytest.mark.usefixtures("frozen")


def _raw_row(db: Session, assessment_id: int) -> dict[str, object]:
    row = db.execute(text("SELECT * FROM assessments WHERE id = :id"), {"id": assessment_id})
    return dict(row.mappings().one())


def test_the_row_holds_no_plain_level(db: Session, world: Council3) -> None:
    social = world.members[SOCIAL]
    child = enrol(db, social, world.council)
    made = assess(db, social, child, {"school": "2", "family": "2"}, day=TODAY)  # 4: medium
    columns = {c["name"] for c in inspect(db.connection()).get_columns("assessments")}
    assert "overall_level" not in columns and "overall_level_sealed" in columns
    raw = _raw_row(db, made.id)
    sealed = raw["overall_level_sealed"]
    assert isinstance(sealed, bytes | memoryview) and len(bytes(sealed)) > len("medium")
    for name, value in raw.items():
        plain = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
        assert b"medium" not in plain, name
    assert level_of(db, made) == "medium"
    # Nor does its length tell one level from another.
    low = assess(db, social, child, {"school": "1"}, day=TODAY)
    other = enrol(db, social, world.council, "20100101-0014")
    high = assess(db, social, other, {"networks": "2"}, day=TODAY)
    assert [level_of(db, a) for a in (low, high)] == ["low", "high"]
    lengths = {len(a.overall_level_sealed or b"") for a in (made, low, high)}
    assert len(lengths) == 1 and lengths != {0}


def test_a_sealed_level_opens_only_for_its_own_assessment(db: Session, world: Council3) -> None:
    social = world.members[SOCIAL]
    child = enrol(db, social, world.council)
    first = assess(db, social, child, {"networks": "2"}, day=TODAY - dt.timedelta(days=30))
    second = assess(db, social, child, {"school": "1"}, day=TODAY)
    other = enrol(db, social, world.council, "20100101-0014")
    elsewhere = assess(db, social, other, {"school": "1"}, day=TODAY)
    assert first.overall_level_sealed is not None
    moved = [
        SealedLevel(child.id, second.overall_record_id, first.overall_level_sealed),
        SealedLevel(other.id, elsewhere.overall_record_id, first.overall_level_sealed),
        SealedLevel(child.id, first.overall_record_id, first.overall_level_sealed),
    ]
    assert assessment_levels(db, moved) == [None, None, "high"]


def _assessed_children(db: Session, world: Council3, n: int, start: int) -> None:
    social = world.members[SOCIAL]
    for i in range(n):
        child = enrol_child(
            db, social, world.council, EnrolmentData("Kim", "Räknesson", personnummer(start + i))
        )
        assess(db, social, child, {"school": "2", "family": "2"}, day=TODAY - dt.timedelta(60))
        assess(db, social, child, {"school": "1"}, day=TODAY - dt.timedelta(30))
        assess(db, social, child, {"networks": "2"}, day=TODAY)  # medium → high


def test_the_statistics_open_the_council_s_levels_in_one_batch(
    app: Flask, db: Session, world: Council3
) -> None:
    _assessed_children(db, world, 5, 1)
    council_statistics(db, world.council)  # the child-facts key is loaded once
    with sql_statements(app) as few:
        [stats] = council_statistics(db, world.council)
    assert {c.code: c.count for c in stats.levels} == {"low": None, "medium": None, "high": 5}
    assert {c.change.value: c.count for c in stats.changes} == {
        "lower": None,
        "same": None,
        "higher": 5,
    }
    _assessed_children(db, world, 15, 10)
    with sql_statements(app) as many:
        [stats] = council_statistics(db, world.council)
    assert {c.code: c.count for c in stats.levels} == {"low": None, "medium": None, "high": 20}
    assert len(many) == len(few), many


def test_another_agency_without_a_disclosure_sees_no_level(
    app: Flask, db: Session, world: Council3
) -> None:
    social, school = world.members[SOCIAL], world.members[SCHOOL]
    child = enrol(db, social, world.council)
    made = assess(db, social, child, {"networks": "2"}, day=TODAY)  # high
    [seen] = assessment_views(db, school, [made], purpose="test")
    assert seen.overall.withheld and seen.overall_label is None
    [own] = assessment_views(db, social, [made], purpose="test")
    assert own.overall_label == "Hög"
    paths = (f"/assessments/{made.id}", f"/children/{child.id}/assessments")
    owner, reader = log_in(app.test_client(), social), log_in(app.test_client(), school)
    for path in paths:
        assert "Hög" in owner.get(path).get_data(as_text=True), path
        page = reader.get(path)
        assert page.status_code == 200 and "Hög" not in page.get_data(as_text=True), path
