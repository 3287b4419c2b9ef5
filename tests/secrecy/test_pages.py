"""The secrecy pages through the browser's eyes: enrol, read, add, correct, close, extract."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.models import AgencyKind, Child, ChildStatus, User
from secrecy.models import Record
from tests.conftest import ClientFor, Council3, audit_tags, log_in
from tests.factories import UserFactory

IDENTITY_FORM = {
    "given_names": "Kalle Olof",
    "family_name": "Andersson-Sekret",
    "personnummer": "20121212-1212",
    "guardian1_name": "Vårdnadshavare Ett",
    "guardian1_phone": "070-1234567",
    "guardian1_email": "",
    "guardian2_name": "",
    "guardian2_phone": "",
    "guardian2_email": "",
    "address": "Hemliga gatan 1",
}


def enrol_via_page(client: FlaskClient, council_id: int, **changes: str):  # type: ignore[no-untyped-def]
    return client.post(f"/councils/{council_id}/children/new", data={**IDENTITY_FORM, **changes})


def status_of(db: Session, child: Child) -> ChildStatus:
    """The child's status as the database has it now (after a request changed it)."""
    db.expire_all()
    found = db.get(Child, child.id)
    assert found is not None
    return found.status


@pytest.fixture
def enrolled(world: Council3, social: FlaskClient, db: Session) -> Child:
    """The child social services enrolled through the page."""
    enrol_via_page(social, world.council.id)
    return db.scalars(select(Child)).one()


def test_enrol_read_add_correct_close_reopen(
    world: Council3, social: FlaskClient, db: Session
) -> None:
    response = enrol_via_page(social, world.council.id)
    assert response.status_code == 302
    child = db.scalars(select(Child)).one()
    assert response.headers["Location"] == f"/children/{child.id}"
    assert child.pseudonym.startswith("TEST-")

    page = social.get(f"/children/{child.id}")
    assert page.status_code == 200
    assert "Kalle Olof Andersson-Sekret" in page.text
    assert "20121212-1212" in page.text
    assert "Vårdnadshavare Ett" in page.text

    added = social.post(
        f"/children/{child.id}/records", data={"category": "family", "text": "Familjemarkör X1"}
    )
    assert added.status_code == 302
    page = social.get(f"/children/{child.id}")
    assert "Familjemarkör X1" in page.text
    assert "Familj och nätverk" in page.text

    record = db.scalars(select(Record).where(Record.category == "family")).one()
    form = social.get(f"/records/{record.id}/correct")
    assert "Familjemarkör X1" in form.text
    corrected = social.post(f"/records/{record.id}/correct", data={"text": "Familjemarkör X2"})
    assert corrected.status_code == 302
    page = social.get(f"/children/{child.id}")
    assert "Familjemarkör X2" in page.text
    assert "Ersatt av en rättelse" in page.text and "Rättelse" in page.text

    closed = social.post(f"/children/{child.id}/close", data={"reason": "moved", "confirm": "yes"})
    assert closed.status_code == 302
    assert status_of(db, child) is ChildStatus.CLOSED
    refused = social.post(
        f"/children/{child.id}/records", data={"category": "family", "text": "Efter stängning"}
    )
    assert refused.status_code == 422
    assert "Ärendet är avslutat" in refused.text
    assert social.post(f"/children/{child.id}/reopen").status_code == 302
    assert status_of(db, child) is ChildStatus.ACTIVE
    assert {
        "secrecy:child:enrol",
        "secrecy:record:create",
        "secrecy:record:correct",
        "secrecy:child:close",
        "secrecy:child:reopen",
    } <= set(audit_tags(db))


def test_other_agency_sees_withheld_with_the_reason(
    enrolled: Child, social: FlaskClient, police: FlaskClient, db: Session
) -> None:
    child = enrolled
    social.post(f"/children/{child.id}/records", data={"category": "health", "text": "Hälsomarkör"})
    page = police.get(f"/children/{child.id}")
    assert page.status_code == 200
    assert child.pseudonym in page.text
    for secret in ("Kalle", "Andersson-Sekret", "20121212", "Hälsomarkör", "Hemliga gatan"):
        assert secret not in page.text
    assert "Ingen uppgiftslämning till din myndighet." in page.text
    assert "Undanhållen" in page.text
    # Police cannot correct what social services own, not even by guessing the URL.
    record = db.scalars(select(Record).where(Record.category == "health")).one()
    assert police.get(f"/records/{record.id}/correct").status_code == 403


def test_outsider_gets_403_on_every_child_page(
    app: Flask, world: Council3, enrolled: Child, db: Session
) -> None:
    child = enrolled
    record = db.scalars(select(Record)).one()
    outsider = log_in(
        app.test_client(), UserFactory(agency=world.agencies[AgencyKind.SOCIAL_SERVICES])
    )
    for url in (
        f"/children/{child.id}",
        f"/children/{child.id}/extract",
        f"/records/{record.id}/correct",
        f"/councils/{world.council.id}/children",
        f"/councils/{world.council.id}/children/new",
    ):
        response = outsider.get(url)
        assert response.status_code == 403, url
        assert "Kalle" not in response.text
    assert (
        outsider.post(
            f"/children/{child.id}/records", data={"category": "family", "text": "x"}
        ).status_code
        == 403
    )
    assert (
        outsider.post(
            f"/children/{child.id}/close", data={"reason": "moved", "confirm": "yes"}
        ).status_code
        == 403
    )


def test_duplicate_enrolment_is_refused_and_logged(
    world: Council3, social: FlaskClient, db: Session
) -> None:
    enrol_via_page(social, world.council.id)
    again = enrol_via_page(social, world.council.id, personnummer="201212121212")
    assert again.status_code == 422
    assert "Barnet finns redan i forumet som TEST-" in again.text
    assert len(db.scalars(select(Child)).all()) == 1
    assert "secrecy:child:duplicate_refused" in audit_tags(db)


def test_bad_personnummer_gets_a_swedish_message_and_changes_nothing(
    world: Council3, social: FlaskClient, db: Session
) -> None:
    response = enrol_via_page(social, world.council.id, personnummer="20121212-1213")
    assert response.status_code == 422
    assert "Personnumret är inte giltigt" in response.text
    assert db.scalars(select(Child)).all() == []
    assert db.scalars(select(Record)).all() == []


def test_caseload_lists_pseudonyms_and_filters(
    world: Council3, social: FlaskClient, police: FlaskClient, db: Session
) -> None:
    enrol_via_page(social, world.council.id)
    enrol_via_page(social, world.council.id, personnummer="20100101-0014")
    children = db.scalars(select(Child).order_by(Child.id)).all()
    social.post(f"/children/{children[1].id}/close", data={"reason": "moved", "confirm": "yes"})
    active = police.get(f"/councils/{world.council.id}/children")
    assert children[0].pseudonym in active.text and children[1].pseudonym not in active.text
    assert "Kalle" not in active.text
    closed = police.get(f"/councils/{world.council.id}/children?status=closed")
    assert children[1].pseudonym in closed.text and children[0].pseudonym not in closed.text
    everything = police.get(f"/councils/{world.council.id}/children?status=all")
    assert all(c.pseudonym in everything.text for c in children)


def test_registerutdrag_shows_own_records_and_is_logged(
    enrolled: Child, social: FlaskClient, police: FlaskClient, db: Session
) -> None:
    child = enrolled
    social.post(
        f"/children/{child.id}/records", data={"category": "family", "text": "Socialmarkör"}
    )
    police.post(
        f"/children/{child.id}/records", data={"category": "crime_police", "text": "Polismarkör"}
    )
    extract = social.get(f"/children/{child.id}/extract")
    assert extract.status_code == 200
    assert "Socialmarkör" in extract.text and "Kalle Olof" in extract.text
    assert "Polismarkör" not in extract.text
    assert "Sekretess enligt OSL" in extract.text
    police_extract = police.get(f"/children/{child.id}/extract")
    assert "Polismarkör" in police_extract.text
    assert "Socialmarkör" not in police_extract.text and "Kalle" not in police_extract.text
    events = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.tag == "secrecy:extract:export")
        .order_by(AuditEvent.seq)
    ).all()
    assert len(events) == 2
    assert events[0].details == {"child_id": child.id}
    assert "Socialmarkör" not in str(events[0].details)


def test_council_page_links_to_the_caseload_for_members_only(
    app: Flask, world: Council3, client_for: ClientFor, admin: User
) -> None:
    member_page = client_for(AgencyKind.SCHOOL).get(f"/councils/{world.council.id}")
    assert f"/councils/{world.council.id}/children" in member_page.text
    admin_page = log_in(app.test_client(), admin).get(f"/councils/{world.council.id}")
    assert admin_page.status_code == 200
    assert f"/councils/{world.council.id}/children" not in admin_page.text
    assert (
        log_in(app.test_client(), admin).get(f"/councils/{world.council.id}/children").status_code
        == 403
    )


def test_only_the_enrolling_agency_or_a_coordinator_closes_a_case(
    app: Flask, world: Council3, social: FlaskClient, police: FlaskClient, db: Session
) -> None:
    enrol_via_page(police, world.council.id)  # the police enrol; social services did not
    child = db.scalars(select(Child)).one()
    assert "Avsluta ärendet" not in social.get(f"/children/{child.id}").text
    refused = social.post(
        f"/children/{child.id}/close", data={"reason": "moved"}, follow_redirects=True
    )
    assert "Du har inte behörighet" in refused.text
    assert status_of(db, child) is ChildStatus.ACTIVE
    # The coordinator (social services, council role coordinator) may.
    coordinator = log_in(app.test_client(), world.coordinator)
    assert "Avsluta ärendet" in coordinator.get(f"/children/{child.id}").text
    assert (
        coordinator.post(
            f"/children/{child.id}/close", data={"reason": "moved", "confirm": "yes"}
        ).status_code
        == 302
    )
    assert status_of(db, child) is ChildStatus.CLOSED
    # And the enrolling agency may reopen.
    assert police.post(f"/children/{child.id}/reopen").status_code == 302
    assert status_of(db, child) is ChildStatus.ACTIVE
