"""The assessments API: instruments, a child's assessments with withheld areas, a new
assessment (bad input as problem details, nothing changed) and the suppressed statistics; every
answer is checked against the OpenAPI document by the ``Api`` client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.models import AgencyKind
from coordination.tokens.services import Scope
from minutes.assessments.models import Assessment
from secrecy.models import Record
from tests.api.conftest import Api, problem
from tests.conftest import Council3
from tests.minutes.assessments.helpers import area_records, assess, disclose_on_consent, enrol

SOCIAL, SCHOOL = AgencyKind.SOCIAL_SERVICES, AgencyKind.SCHOOL
NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 4)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def test_instruments_are_listed(api_for: Callable[..., Api]) -> None:
    body = api_for(SCHOOL).get("/api/v1/assessment-instruments").get_json()
    [instrument] = body["items"]
    assert instrument["id"] == "samverkan-risk-skydd" and not instrument["replaced"]
    school = next(a for a in instrument["areas"] if a["code"] == "school")
    assert school["category"] == "school" and [s["value"] for s in school["scale"]] == [
        "0",
        "1",
        "2",
    ]


def test_a_reader_gets_only_the_disclosed_areas(
    api_for: Callable[..., Api], db: Session, world: Council3
) -> None:
    social = world.members[SOCIAL]
    child = enrol(db, social, world.council)
    made = assess(
        db,
        social,
        child,
        {"school": "2", "family": "1"},
        comments={"school": "SKOLA-X", "family": "FAMILJ-X"},
        day=TODAY,
    )
    disclose_on_consent(
        db, social, child, world.agencies[SCHOOL], area_records(db, made, ["school"])
    )
    school = api_for(SCHOOL)
    body = school.get(f"/api/v1/children/{child.id}/assessments").get_json()
    [item] = body["items"]
    areas = {a["code"]: a for a in item["areas"]}
    assert areas["school"]["score"] == "2" and areas["school"]["comment"] == "SKOLA-X"
    assert areas["family"]["withheld"] and areas["family"]["score"] is None
    assert areas["family"]["record"]["reason"]
    assert "FAMILJ-X" not in school.get(f"/api/v1/assessments/{made.id}").get_data(as_text=True)
    assert item["overall_level"] is None and item["overall"]["withheld"]
    own = api_for(SOCIAL).get(f"/api/v1/assessments/{made.id}").get_json()
    assert own["overall_level"] == "low"  # 2 + 1 points


def test_recording_through_the_api_and_bad_input(
    api_for: Callable[..., Api], db: Session, world: Council3
) -> None:
    child = enrol(db, world.members[SOCIAL], world.council)
    api = api_for(SOCIAL, Scope.READ, Scope.WRITE)
    path = f"/api/v1/children/{child.id}/assessments"
    base = {
        "instrument_id": "samverkan-risk-skydd",
        "instrument_version": "1",
        "assessed_on": "2026-03-04",
    }

    def records() -> int:
        return db.scalar(select(func.count()).select_from(Record)) or 0

    before = records()
    for areas, field, text in (
        ({"school": {"score": "5"}}, "areas.school.score", "finns inte på skalan för Skola"),
        ({"moon": {"score": "1"}}, "areas", "Området ”moon” finns inte"),
    ):
        body = problem(api.post(path, json={**base, "areas": areas}), 422)
        assert any(text in e["detail"] and e["field"] == field for e in body["errors"]), body
    assert records() == before and db.scalar(select(Assessment.id)) is None
    made = api.post(path, json={**base, "areas": {"school": {"score": "1", "comment": "Ok"}}})
    assert made.status_code == 201, made.get_data(as_text=True)
    assert made.get_json()["areas"][3]["code"] == "school"
    read_only = api_for(SOCIAL, Scope.READ)
    problem(read_only.post(path, json={**base, "areas": {"school": {"score": "1"}}}), 403)


def test_statistics_are_counts_with_small_cells_suppressed(
    api_for: Callable[..., Api], db: Session, world: Council3
) -> None:
    child = enrol(db, world.members[SOCIAL], world.council)
    assess(db, world.members[SOCIAL], child, {"networks": "2"}, day=TODAY)
    body = api_for(SCHOOL).get(f"/api/v1/councils/{world.council.id}/assessment-statistics")
    data = body.get_json()
    assert data["suppressed_below"] == 5
    [stats] = data["instruments"]
    assert all(c["count"] is None for c in stats["latest_levels"])
    assert child.pseudonym not in body.get_data(as_text=True)
