"""The assessment pages (the child page's part, the history with its charts, one assessment,
the form), the council report's statistics with suppressed cells, and the reassessment
reminders."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.models import AgencyKind
from meetings.models import Notification
from minutes.assessments.jobs import reassessment_reminders
from minutes.assessments.models import Assessment
from minutes.assessments.stats import Change, council_statistics
from secrecy.records.children import EnrolmentData, enrol_child
from tests.conftest import Council3, log_in
from tests.minutes.assessments.conftest import NOW, TODAY
from tests.minutes.assessments.helpers import area_records, assess, disclose_on_consent, enrol
from tests.test_query_counts import personnummer

SOCIAL, SCHOOL, POLICE = AgencyKind.SOCIAL_SERVICES, AgencyKind.SCHOOL, AgencyKind.POLICE
pytestmark = pytest.mark.usefixtures("frozen")


def test_the_pages_show_each_reader_only_the_areas_disclosed_to_them(
    app: Flask, db: Session, world: Council3
) -> None:
    social, school = world.members[SOCIAL], world.members[SCHOOL]
    child = enrol(db, social, world.council)
    made = assess(
        db,
        social,
        child,
        {"school": "2", "family": "2", "leisure": "1"},
        comments={"school": "SKOL-KOMMENTAR", "family": "FAMILJE-KOMMENTAR"},
        day=TODAY,
    )
    disclose_on_consent(
        db, social, child, world.agencies[SCHOOL], area_records(db, made, ["school", "leisure"])
    )
    own = log_in(app.test_client(), social)
    page = own.get(f"/children/{child.id}").get_data(as_text=True)
    panel_html = page.split('id="assessments"')[1].split("</section>")[0]
    assert "<svg" in panel_html and "<script" not in panel_html and "style=" not in panel_html
    history = own.get(f"/children/{child.id}/assessments").get_data(as_text=True)
    assert "SKOL-KOMMENTAR" in history and "FAMILJE-KOMMENTAR" in history
    detail = own.get(f"/assessments/{made.id}").get_data(as_text=True)
    assert "Lämna ut området" in detail and "Förhöjd" in detail

    reader = log_in(app.test_client(), school)
    for path in (f"/children/{child.id}/assessments", f"/assessments/{made.id}"):
        body = reader.get(path).get_data(as_text=True)
        assert "SKOL-KOMMENTAR" in body, path
        assert "FAMILJE-KOMMENTAR" not in body, path
        assert "Undanhållen" in body and "Lämna ut området" not in body
    panel = reader.get(f"/children/{child.id}").get_data(as_text=True)
    assert 'id="spark-school"' in panel and 'id="spark-family"' not in panel
    police = log_in(app.test_client(), world.members[POLICE])
    body = police.get(f"/children/{child.id}/assessments").get_data(as_text=True)
    assert "SKOL-KOMMENTAR" not in body and 'id="spark-' not in body


def test_the_form_records_an_assessment_and_refuses_bad_input_in_swedish(
    app: Flask, db: Session, world: Council3
) -> None:
    social = world.members[SOCIAL]
    child = enrol(db, social, world.council)
    client = log_in(app.test_client(), social)
    path = f"/children/{child.id}/assessments/new?instrument=samverkan-risk-skydd&version=1"
    form = client.get(path).get_data(as_text=True)
    assert 'name="score_school"' in form and "Ej bedömt" in form
    bad = client.post(path, data={"assessed_on": "2026-03-04", "score_school": "7"})
    assert bad.status_code == 422
    assert "Värdet ”7” finns inte på skalan för Skola" in bad.get_data(as_text=True)
    assert db.scalar(select(Assessment.id)) is None
    future = client.post(path, data={"assessed_on": "2026-03-09", "score_school": "1"})
    assert future.status_code == 422 and "i framtiden" in future.get_data(as_text=True)
    good = client.post(
        path,
        data={"assessed_on": "2026-03-04", "score_school": "1", "comment_school": "Bättre"},
    )
    assert good.status_code == 302
    made = db.scalars(select(Assessment)).one()
    assert good.headers["Location"].endswith(f"/assessments/{made.id}")
    assert client.get(f"/children/{child.id}/assessments/new?instrument=nope").status_code == 403


def test_an_outsider_is_refused_every_page(app: Flask, db: Session, world: Council3) -> None:
    from tests.factories import UserFactory

    social = world.members[SOCIAL]
    child = enrol(db, social, world.council)
    made = assess(db, social, child, {"school": "1"}, day=TODAY)
    outsider = log_in(
        app.test_client(), UserFactory(agency=world.agencies[SOCIAL], email="ute@example.com")
    )
    for path in (
        f"/children/{child.id}/assessments",
        f"/assessments/{made.id}",
        f"/children/{child.id}/assessments/new",
    ):
        assert outsider.get(path).status_code == 403, path


def _children(db: Session, world: Council3, n: int, start: int) -> list:
    return [
        enrol_child(
            db,
            world.members[SOCIAL],
            world.council,
            EnrolmentData("Kim", "Räknesson", personnummer(start + i)),
        )
        for i in range(n)
    ]


def test_statistics_count_latest_levels_and_changes_and_suppress_cells_under_five(
    app: Flask, db: Session, world: Council3, frozen: time_machine.Traveller
) -> None:
    social = world.members[SOCIAL]
    high = _children(db, world, 5, 1)
    medium = _children(db, world, 4, 20)
    for child in high:
        assess(db, social, child, {"school": "1"}, day=TODAY - dt.timedelta(days=60))
        assess(db, social, child, {"networks": "2"}, day=TODAY)  # low → high
    for child in medium:
        assess(db, social, child, {"school": "2", "family": "2"}, day=TODAY)
    [stats] = council_statistics(db, world.council)
    levels = {c.code: c.count for c in stats.levels}
    assert levels == {"low": None, "medium": None, "high": 5}
    changes = {c.change: c.count for c in stats.changes}
    assert changes == {Change.LOWER: None, Change.SAME: None, Change.HIGHER: 5}

    page = log_in(app.test_client(), social).get(f"/councils/{world.council.id}/reports")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    table = re.search(r'id="assessment-levels-samverkan-risk-skydd".*?</table>', body, re.S)
    assert table is not None
    assert "färre än 5" in table.group(0) and ">5<" in table.group(0)
    assert ">4<" not in table.group(0)
    assert all(c.pseudonym not in body for c in high + medium)


def test_reminders_go_to_the_assessor_once_per_assessment_without_personal_data(
    db: Session, world: Council3, frozen: time_machine.Traveller
) -> None:
    social = world.members[SOCIAL]
    child = enrol(db, social, world.council)
    assess(db, social, child, {"school": "1"}, comments={"school": "HEMLIG"}, day=TODAY)
    assert reassessment_reminders(db, NOW + dt.timedelta(days=200)) == 0  # no interval set
    world.council.assessment_interval_days = 90
    db.flush()
    assert reassessment_reminders(db, NOW + dt.timedelta(days=89)) == 0
    assert reassessment_reminders(db, NOW + dt.timedelta(days=90)) == 1
    assert reassessment_reminders(db, NOW + dt.timedelta(days=91)) == 0  # once
    notice = db.scalars(select(Notification)).one()
    assert notice.recipient_id == social.id
    assert notice.link == f"/children/{child.id}/assessments"
    text = f"{notice.subject} {notice.body}"
    assert child.pseudonym not in text and "HEMLIG" not in text and "Testrådet" in text
    # A new assessment starts a new interval.
    frozen.move_to(NOW + dt.timedelta(days=95))
    assess(db, social, child, {"school": "0"}, day=TODAY + dt.timedelta(days=95))
    assert reassessment_reminders(db, NOW + dt.timedelta(days=100)) == 0
    assert reassessment_reminders(db, NOW + dt.timedelta(days=185)) == 1
