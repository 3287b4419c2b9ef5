"""The log review reads like Swedish, not like the database: agencies, people and children by
name or pseudonym, Swedish labels for the keys, "–" for nothing, instead of
``recipient_agency_id=3, consent_id=None``; the names looked up once per page."""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.audit.sequencer import chain_events
from coordination.logreview.monthly import month_report
from coordination.logreview.scopes import audit_scopes
from coordination.models import ChildStatus, User
from tests.conftest import Council3, log_in
from tests.coordination.test_logreview import (
    POLICE,
    SOCIAL,
    Tag,
    at,
    local,
    make_child,
    make_record,
    view,
)
from tests.coordination.test_logreview import auditor as auditor  # a fixture, re-exported
from tests.coordination.test_logreview import (  # a fixture, re-exported
    auditor_client as auditor_client,
)


def test_event_details_name_agencies_people_and_children(
    db: Session, world: Council3, auditor_client: FlaskClient
) -> None:
    social = world.members[SOCIAL]
    child = make_child(db, world, "TEST-2026-777")
    record_event(
        db,
        social,
        Tag.DISCLOSE,
        object_type="record",
        object_ids=[1],
        details={
            "recipient_agency_id": world.agencies[POLICE].id,
            "consent_id": None,
            "child_id": child.id,
            "basis": "sol-police-u21",
            "user_id": world.members[POLICE].id,
        },
    )
    chain_events(db)
    html = auditor_client.get(f"/logreview/?user={social.id}").text
    details = re.search(r'<dl class="event-details">(.*?)</dl>', html, re.S)
    assert details, "no details on the page"
    text = re.sub(r"<[^>]+>", "|", details.group(1))
    assert "Mottagare||Test police" in text
    assert "Samtycke||–" in text
    assert "Barn||TEST-2026-777" in text
    assert f"Person||{world.members[POLICE].display_name}" in text
    assert "Grund||sol-police-u21" in text
    assert "recipient_agency_id" not in html and "consent_id=None" not in html


def test_identical_flags_are_grouped_on_the_month_page(
    app: Flask, db: Session, world: Council3, auditor: User
) -> None:
    social = world.members[SOCIAL]
    closed = make_child(
        db, world, "TEST-2026-020", status=ChildStatus.CLOSED, closed_on=dt.date(2026, 3, 2)
    )
    for hour, minute in ((21, 5), (22, 15), (23, 40)):  # one Saturday night, three views
        with at(local(2026, 3, 7, hour, minute)):
            view(db, social, [closed.id])
    with at(local(2026, 4, 15, 10)):
        page = log_in(app.test_client(), auditor).get("/logreview/months/2026-03").text
    flagged = page[page.index("Att granska") :]
    assert flagged.count("lördag 2026-03-07") == 1
    assert "3 visningar, 21:05–23:40" in flagged
    assert flagged.count("TEST-2026-020 (avslutat 2026-03-02)") == 1
    assert "och 2 gånger till, senast 2026-03-07 23:40" in flagged


def test_other_agencies_views_of_own_records_are_in_the_monthly_review(
    app: Flask, db: Session, world: Council3, auditor: User
) -> None:
    """The police reading social services' records appear in social services' review (with
    their agency); the police reading their own records do not."""
    child = make_child(db, world, "TEST-2026-030")
    social_record = make_record(db, child, world.members[SOCIAL])
    police_record = make_record(db, child, world.members[POLICE])
    police = world.members[POLICE]
    with at(local(2026, 3, 10, 10)):
        view(db, police, [child.id], [social_record.id])
    with at(local(2026, 3, 11, 10)):
        view(db, police, [child.id], [police_record.id])
    report = month_report(db, auditor, dt.date(2026, 3, 1), dt.date(2026, 4, 2), audit_scopes(app))
    (row,) = report.users
    assert row.user_id == police.id and row.views == 1 and row.agency == "Test police"
    assert month_report(db, auditor, dt.date(2026, 3, 1), dt.date(2026, 4, 2)).users == []
    with at(local(2026, 4, 15, 10)):
        page = log_in(app.test_client(), auditor).get("/logreview/months/2026-03").text
    assert "Petra Polis" in page and "Test police" in page
