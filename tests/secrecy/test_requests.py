"""Requests for information (begäran om uppgifter): the police ask social services, social
services assess and answer by disclosure or refuse; the texts are sealed and seen only by the
two agencies; notices say nothing; an open request is flagged to the coordinator."""

from __future__ import annotations

import datetime as dt

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.db import utcnow
from coordination.models import AgencyKind, Child, CouncilRole
from meetings.models import Notification
from secrecy.models import Disclosure, InformationRequest, Record, RequestStatus
from secrecy.requests.services import flag_overdue_requests
from tests.conftest import ClientFor, Council3, log_in
from tests.factories import CouncilFactory, MembershipFactory, UserFactory
from tests.secrecy.test_disclosure import WRITTEN, enrol_with_record
from tests.secrecy.test_leak import crawl

SOCIAL = AgencyKind.SOCIAL_SERVICES
POLICE = AgencyKind.POLICE
PURPOSE = "Syftesmarkör: vi utreder hot mot den unge och behöver veta om det finns oro."
REASON = "Avslagsmarkör: uppgifterna rör en pågående utredning."
NOTE = "Svarsmarkör: mer än detta finns inte hos oss."
SOL = {"basis": "sol-police-u21", **{f"confirm-sol-police-u21-{i}": "y" for i in range(4)}}


def ask(client: FlaskClient, child: Child, owner_id: int, **changes: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/children/{child.id}/requests/new",
        data={
            "owner_agency": owner_id,
            "category": "",
            "basis": "sol-police-u21",
            "urgency": "urgent",
            "purpose": PURPOSE,
            **changes,
        },
    )


def setup_request(world: Council3, client_for, db: Session):  # type: ignore[no-untyped-def]
    social = client_for(SOCIAL)
    record = enrol_with_record(social, world.council.id, db, "Uppgiftsmarkör")
    child = db.get_one(Child, record.child_id)
    police = client_for(POLICE)
    response = ask(police, child, world.agencies[SOCIAL].id)
    assert response.status_code == 302
    request = db.scalars(select(InformationRequest)).one()
    return social, police, record, child, request


def test_the_police_ask_and_social_services_are_told_nothing_but_that(
    world: Council3, client_for: ClientFor, db: Session
) -> None:
    social, police, _, child, request = setup_request(world, client_for, db)
    assert request.requesting_agency_id == world.agencies[POLICE].id
    assert request.owner_agency_id == world.agencies[SOCIAL].id
    assert request.category is None and request.basis_id == "sol-police-u21"
    details = db.get_one(Record, request.details_record_id)
    assert details.owner_agency_id == world.agencies[POLICE].id and details.existence_secret
    assert details.ciphertext is not None and PURPOSE.encode() not in details.ciphertext
    # Social services' member of the council is told, with a link and no content.
    notices = db.scalars(select(Notification)).all()
    assert [n.recipient_id for n in notices] == [world.members[SOCIAL].id, world.coordinator.id]
    for notice in notices:
        assert notice.link == f"/requests/{request.id}"
        text = notice.subject + notice.body
        assert child.pseudonym not in text and "Syftesmarkör" not in text
    event = db.scalars(select(AuditEvent).where(AuditEvent.tag == "secrecy:request:create")).one()
    assert event.object_ids == [request.id] and "Syftesmarkör" not in str(event.details)
    # The queue shows it with its age; the request page shows the purpose to both agencies.
    queue = social.get("/requests").text
    assert child.pseudonym in queue and "0 dagar" in queue and "Brådskande" in queue
    assert PURPOSE in social.get(f"/requests/{request.id}").text
    assert PURPOSE in police.get(f"/requests/{request.id}").text


def test_bad_requests_are_refused_and_change_nothing(
    world: Council3, social: FlaskClient, police: FlaskClient, db: Session
) -> None:
    record = enrol_with_record(social, world.council.id, db, "Uppgiftsmarkör")
    child = db.get_one(Child, record.child_id)
    own = ask(police, child, world.agencies[POLICE].id)
    short = ask(police, child, world.agencies[SOCIAL].id, purpose="kort")
    category = ask(police, child, world.agencies[SOCIAL].id, category="identity")
    assert {own.status_code, short.status_code, category.status_code} == {422}
    assert "minst 10 tecken" in short.text
    assert db.scalars(select(InformationRequest)).all() == []


def test_social_services_answer_in_part_and_close_the_request(
    world: Council3, client_for: ClientFor, db: Session
) -> None:
    social, police, record, child, request = setup_request(world, client_for, db)
    page = social.get(f"/requests/{request.id}").text
    # The basis the police named is chosen in advance; the record to choose is listed.
    assert 'value="sol-police-u21" id="basis-sol-police-u21" checked' in page
    assert "Uppgiftsmarkör" in page
    # The police cannot answer their own request.
    assert (
        police.post(f"/requests/{request.id}/close", data={"outcome": "answered"}).status_code
        == 403
    )
    missing = social.post(f"/requests/{request.id}/disclose", data={"records": [record.id], **SOL})
    assert missing.status_code == 422 and db.scalars(select(Disclosure)).all() == []
    # A statement's number that is no ASCII number ("²" passes str.isdigit, not int()) is
    # passed over like any other stray field: the statements are not all confirmed, nothing
    # is disclosed.
    tampered = {k: v for k, v in SOL.items() if not k.endswith("-3")}
    tampered["confirm-sol-police-u21-\N{SUPERSCRIPT THREE}"] = "y"
    stray = social.post(
        f"/requests/{request.id}/disclose", data={"records": [record.id], **tampered, **WRITTEN}
    )
    assert stray.status_code == 422 and db.scalars(select(Disclosure)).all() == []
    done = social.post(
        f"/requests/{request.id}/disclose", data={"records": [record.id], **SOL, **WRITTEN}
    )
    assert done.status_code == 302
    disclosure = db.scalars(select(Disclosure)).one()
    assert disclosure.request_id == request.id
    assert disclosure.recipient_agency_id == world.agencies[POLICE].id
    assert "Uppgiftsmarkör" in police.get(f"/children/{child.id}").text
    closed = social.post(
        f"/requests/{request.id}/close", data={"outcome": "answered", "note": NOTE}
    )
    assert closed.status_code == 302
    db.refresh(request)
    assert request.status is RequestStatus.ANSWERED
    seen = police.get(f"/requests/{request.id}").text
    assert NOTE in seen and "Besvarad" in seen
    tags = set(db.scalars(select(AuditEvent.tag)))
    assert {"secrecy:request:answer", "secrecy:request:close"} <= tags
    told = db.scalars(
        select(Notification).where(Notification.kind == "information_request_closed")
    ).one()
    assert told.recipient_id == world.members[POLICE].id and "Svarsmarkör" not in told.body
    # A closed request takes no further answer.
    again = social.post(
        f"/requests/{request.id}/close", data={"outcome": "refused", "note": REASON}
    )
    assert again.status_code == 422


def test_a_refusal_needs_a_reason_that_the_requester_reads(
    world: Council3, client_for: ClientFor, db: Session
) -> None:
    social, police, _, child, request = setup_request(world, client_for, db)
    bare = social.post(f"/requests/{request.id}/close", data={"outcome": "refused", "note": ""})
    assert bare.status_code == 422 and "Skriv skälet" in bare.text
    db.refresh(request)
    assert request.is_open
    social.post(f"/requests/{request.id}/close", data={"outcome": "refused", "note": REASON})
    db.refresh(request)
    assert request.status is RequestStatus.REFUSED
    answer = db.get_one(Record, request.answer_record_id)
    assert answer.owner_agency_id == world.agencies[SOCIAL].id
    assert REASON in police.get(f"/requests/{request.id}").text
    assert "Uppgiftsmarkör" not in police.get(f"/children/{child.id}").text


def test_no_one_else_reads_a_request(
    app: Flask, world: Council3, client_for: ClientFor, db: Session
) -> None:
    social, _, _, child, request = setup_request(world, client_for, db)
    social.post(f"/requests/{request.id}/close", data={"outcome": "refused", "note": REASON})
    other_council = CouncilFactory(agencies=list(world.agencies.values()), code="ANNAT")
    stranger = UserFactory(agency=world.agencies[POLICE])
    MembershipFactory(council=other_council, user=stranger)
    db.flush()
    for kind in (AgencyKind.SCHOOL, AgencyKind.LEISURE):
        client = client_for(kind)
        assert client.get(f"/requests/{request.id}").status_code == 403
        pages = crawl(client)
        text = "\n".join(pages.values())
        assert "Syftesmarkör" not in text and "Avslagsmarkör" not in text, kind
    # A police officer of another council: the same agency, but not the child's council.
    outsider = log_in(app.test_client(), stranger)
    assert outsider.get(f"/requests/{request.id}").status_code == 403
    assert child.pseudonym not in outsider.get("/requests").text
    # A coordinator of another agency (told when a request is overdue) sees the status and
    # the age, not the texts.
    coordinator = UserFactory(agency=world.agencies[AgencyKind.LEISURE])
    MembershipFactory(council=world.council, user=coordinator, council_role=CouncilRole.COORDINATOR)
    db.flush()
    coordinator_page = log_in(app.test_client(), coordinator).get(f"/requests/{request.id}")
    assert coordinator_page.status_code == 200
    assert "Syftesmarkör" not in coordinator_page.text
    # Everything the two agencies read is through the one door, and logged.
    assert REASON in client_for(POLICE).get(f"/requests/{request.id}").text
    reads = db.scalars(
        select(AuditEvent).where(
            AuditEvent.tag == "secrecy:record:reveal",
            AuditEvent.actor_user_id == world.members[POLICE].id,
        )
    ).all()
    assert any(e.details.get("purpose") == "request" for e in reads)


def test_a_withheld_record_offers_a_request_to_the_viewers_agency(
    world: Council3, client_for: ClientFor, social: FlaskClient, db: Session
) -> None:
    record = enrol_with_record(social, world.council.id, db, "Uppgiftsmarkör")
    link = (
        f"/children/{record.child_id}/requests/new?owner={record.owner_agency_id}"
        f"&amp;category={record.category}"
    )
    assert link in client_for(POLICE).get(f"/children/{record.child_id}").text
    assert link not in social.get(f"/children/{record.child_id}").text
    form = client_for(POLICE).get(link.replace("&amp;", "&")).text
    assert f'<option selected value="{record.category}">' in form


def test_an_open_request_is_flagged_to_the_coordinator_once(
    app: Flask, world: Council3, client_for: ClientFor, db: Session
) -> None:
    coordinator = world.coordinator  # of social services, the asked agency
    days = world.council.request_flag_days
    with time_machine.travel(utcnow() - dt.timedelta(days=days + 1), tick=False):
        _, _, _, _, request = setup_request(world, client_for, db)
    limit = request.created_at + dt.timedelta(days=days)
    with app.app_context():  # as the scheduler runs its jobs
        assert flag_overdue_requests(db, limit) == 0  # exactly the limit: not yet
        later = limit + dt.timedelta(hours=1)
        assert flag_overdue_requests(db, later) == 1
        assert flag_overdue_requests(db, later) == 0  # once
    flagged = db.scalars(
        select(Notification).where(Notification.kind == "information_request_overdue")
    ).all()
    assert [n.recipient_id for n in flagged] == [coordinator.id]
    assert str(days) in flagged[0].subject and request.child.pseudonym not in flagged[0].body
    event = db.scalars(select(AuditEvent).where(AuditEvent.tag == "secrecy:request:overdue")).one()
    assert event.details["told"] == [coordinator.id]
    # A coordinator of the asked agency is preferred; without one, the council's coordinators.
    assert coordinator.memberships[0].council_role is CouncilRole.COORDINATOR
