"""Recording and reading structured assessments: one sealed record per area in the area's
category, bad input refused in Swedish with nothing changed, replaced versions allowed and shown,
single areas disclosed through the policy engine, the history and its change per area."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.errors import PermissionDenied, ServiceError
from coordination.models import AgencyKind
from minutes.assessments.models import Assessment, AssessmentArea
from minutes.assessments.services import area_histories, assessment_views, assessments_of
from secrecy.models import Record
from tests.conftest import Council3, log_in
from tests.factories import UserFactory
from tests.minutes.assessments.conftest import NOW, TODAY
from tests.minutes.assessments.helpers import (
    area_records,
    assess,
    disclose_on_consent,
    enrol,
    level_of,
)
from tests.minutes.assessments.test_instruments import GOOD

SOCIAL = AgencyKind.SOCIAL_SERVICES
SCHOOL = AgencyKind.SCHOOL
pytestmark = pytest.mark.usefixtures("frozen")


def counts(db: Session) -> tuple[int, int, int]:
    return (
        db.scalar(select(func.count()).select_from(Assessment)) or 0,
        db.scalar(select(func.count()).select_from(AssessmentArea)) or 0,
        db.scalar(select(func.count()).select_from(Record)) or 0,
    )


def test_each_area_is_one_sealed_record_of_the_assessing_agency_in_its_category(
    db: Session, world: Council3
) -> None:
    social = world.members[SOCIAL]
    child = enrol(db, social, world.council)
    made = assess(
        db,
        social,
        child,
        {"school": "2", "leisure": "1", "networks": "1"},
        comments={"school": "Skolk AREA-school", "family": "Inte bedömt: ingen kontakt ännu"},
        day=TODAY,
    )
    rows = {a.area_code: a for a in made.areas}
    assert len(rows) == 11  # every area of the instrument has a row
    assert rows["school"].record_id and not rows["school"].not_assessed
    assert rows["family"].not_assessed and rows["family"].record_id  # a comment, no score
    assert rows["peers"].not_assessed and rows["peers"].record_id is None
    records = area_records(db, made, ["school", "leisure", "networks", "family"])
    assert [r.category for r in records] == ["school", "leisure", "crime_police", "risk_protective"]
    assert {r.owner_agency_id for r in records} == {social.agency_id}
    assert level_of(db, made) == "medium"  # 2 + 1 + 1 points
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == "minutes:assessment:create")
    ).one()
    assert event.details["record_ids"] and "AREA" not in str(event.details)
    assert "peers" in event.details["not_assessed"]


@pytest.mark.parametrize(
    ("scores", "day", "overall", "field", "message"),
    [
        ({"school": "3"}, TODAY, None, "score_school", "Värdet ”3” finns inte på skalan för Skola"),
        ({"weather": "1"}, TODAY, None, "areas", "Området ”weather” finns inte i instrumentet"),
        ({"school": None}, TODAY, None, "areas", "Bedöm minst ett område."),
        ({"school": "1"}, TODAY + dt.timedelta(days=1), None, "assessed_on", "i framtiden"),
        ({"school": "1"}, None, None, "assessed_on", "Ange ett datum."),
        ({"school": "1"}, TODAY, "high", "overall_level", "räknas fram av instrumentet"),
    ],
)
def test_bad_input_is_refused_in_swedish_and_changes_nothing(
    db: Session,
    world: Council3,
    scores: dict[str, str | None],
    day: dt.date | None,
    overall: str | None,
    field: str,
    message: str,
) -> None:
    social = world.members[SOCIAL]
    child = enrol(db, social, world.council)
    before = counts(db)
    with pytest.raises(ServiceError) as refused:
        assess(db, social, child, scores, day=day, overall_level=overall)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert message in str(refused.value.message)
    assert counts(db) == before


def test_an_unknown_instrument_or_a_long_comment_is_refused(db: Session, world: Council3) -> None:
    social = world.members[SOCIAL]
    child = enrol(db, social, world.council)
    with pytest.raises(ServiceError, match="Instrumentet finns inte"):
        assess(db, social, child, {"school": "1"}, day=TODAY, instrument=("nope", "1"))
    with pytest.raises(ServiceError, match="för lång"):
        assess(db, social, child, {"school": "1"}, comments={"school": "x" * 2001}, day=TODAY)


def test_only_members_of_the_council_assess(db: Session, world: Council3) -> None:
    child = enrol(db, world.members[SOCIAL], world.council)
    outsider = UserFactory(agency=world.agencies[SOCIAL], email="outsider@example.com")
    with pytest.raises(PermissionDenied):
        assess(db, outsider, child, {"school": "1"}, day=TODAY)


@contextmanager
def instruments_in(app: Flask, directory: Path) -> Iterator[None]:
    """The app reads its instruments from ``directory`` (an app context, as in a request)."""
    app.config["ASSESSMENT_INSTRUMENTS_DIR"] = str(directory)
    try:
        with app.app_context():
            yield
    finally:
        app.config["ASSESSMENT_INSTRUMENTS_DIR"] = None


def _replaced_dir(tmp_path: Path) -> Path:
    (tmp_path / "v1.toml").write_text(
        GOOD.replace('version = "2"', 'version = "1"\nstatus = "replaced"'), "utf-8"
    )
    (tmp_path / "v2.toml").write_text(GOOD, "utf-8")
    return tmp_path


def test_a_replaced_version_is_allowed_and_shown_as_such(
    app: Flask, db: Session, world: Council3, tmp_path: Path
) -> None:
    with instruments_in(app, _replaced_dir(tmp_path)):
        social = world.members[SOCIAL]
        child = enrol(db, social, world.council)
        made = assess(
            db, social, child, {"peers": "2"}, day=TODAY, instrument=("test-instrument", "1")
        )
        assert made.instrument_version == "1" and level_of(db, made) == "high"
        [view] = assessment_views(db, social, [made], purpose="test")
        assert view.replaced
        event = db.scalars(select(AuditEvent).where(AuditEvent.tag == "minutes:assessment:create"))
        assert event.one().details["replaced_version"] is True
        page = log_in(app.test_client(), social).get(f"/assessments/{made.id}")
        assert "Ersatt version" in page.get_data(as_text=True)


def test_an_instrument_where_the_assessor_sets_the_level(
    app: Flask, db: Session, world: Council3, tmp_path: Path
) -> None:
    own = GOOD.replace('method = "rule"', 'method = "assessor"').replace(
        'thresholds = [{ level = "high", min_points = 3 }]\ncritical_level = "high"', ""
    )
    (tmp_path / "own.toml").write_text(own, "utf-8")
    with instruments_in(app, tmp_path):
        social = world.members[SOCIAL]
        child = enrol(db, social, world.council)
        instrument = ("test-instrument", "2")
        with pytest.raises(ServiceError, match="Välj en samlad nivå"):
            assess(db, social, child, {"peers": "2"}, day=TODAY, instrument=instrument)
        with pytest.raises(ServiceError, match="”extreme” finns inte"):
            assess(
                db,
                social,
                child,
                {"peers": "2"},
                day=TODAY,
                instrument=instrument,
                overall_level="extreme",
            )
        made = assess(
            db,
            social,
            child,
            {"peers": "2"},
            day=TODAY,
            instrument=instrument,
            overall_level="low",
        )
        assert level_of(db, made) == "low"


def test_another_agency_sees_withheld_areas_until_the_owner_discloses_single_areas(
    db: Session, world: Council3
) -> None:
    social, school = world.members[SOCIAL], world.members[SCHOOL]
    child = enrol(db, social, world.council)
    made = assess(
        db,
        social,
        child,
        {"school": "2", "leisure": "1", "family": "2", "networks": "1"},
        comments={"school": "S-comment", "family": "F-comment"},
        day=TODAY,
    )
    [before] = assessment_views(db, school, [made], purpose="test")
    assert before.overall.withheld and before.overall_label is None
    assert all(a.withheld for a in before.areas if a.result is not None)
    school_area = next(a for a in before.areas if a.code == "school")
    assert "uppgiftslämning" in school_area.result.reason.lower()  # type: ignore[union-attr]

    disclose_on_consent(
        db, social, child, world.agencies[SCHOOL], area_records(db, made, ["school", "leisure"])
    )
    [after] = assessment_views(db, school, [made], purpose="test")
    visible = {a.code: a for a in after.areas if a.result is not None and not a.withheld}
    assert set(visible) == {"school", "leisure"}
    assert visible["school"].score == "2" and visible["school"].comment == "S-comment"
    family = next(a for a in after.areas if a.code == "family")
    assert family.withheld and family.score is None and family.comment == ""
    [own] = assessment_views(db, social, [made], purpose="test")
    assert {a.code for a in own.areas if a.score} == {"school", "leisure", "family", "networks"}


def test_the_history_shows_per_area_the_visible_scores_and_the_change(
    db: Session, world: Council3, frozen: time_machine.Traveller
) -> None:
    social, school = world.members[SOCIAL], world.members[SCHOOL]
    child = enrol(db, social, world.council)
    first = assess(db, social, child, {"school": "2", "family": "1"}, day=TODAY)
    frozen.move_to(NOW + dt.timedelta(days=31))
    second = assess(
        db, social, child, {"school": "1", "family": "2"}, day=TODAY + dt.timedelta(days=31)
    )
    views = assessment_views(db, social, assessments_of(db, child), purpose="test")
    histories = {h.code: h for h in area_histories(views)}
    assert histories["school"].points == [(TODAY, 2), (TODAY + dt.timedelta(days=31), 1)]
    assert histories["school"].change == -1 and histories["family"].change == 1
    # The school sees only what was disclosed to it: the school area of the second assessment.
    disclose_on_consent(
        db, social, child, world.agencies[SCHOOL], area_records(db, second, ["school"])
    )
    views = assessment_views(db, school, assessments_of(db, child), purpose="test")
    histories = {h.code: h for h in area_histories(views)}
    assert set(histories) == {"school"}
    assert histories["school"].points == [(TODAY + dt.timedelta(days=31), 1)]
    assert histories["school"].change is None
    assert first.id != second.id
