"""The secrecy API: children, records, disclosures, consents and the rule set, with the same
access checks, services and reveal as the pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.api.core import encode_offset
from coordination.audit.log import AuditEvent, AuditTag
from coordination.models import AgencyKind, Child, ChildStatus, CloseReason, User
from coordination.tokens.services import Scope
from secrecy.disclosure.consents import ConsentData, register_consent
from secrecy.disclosure.services import decide_disclosure
from secrecy.models import Consent, Disclosure, Record, RecordKey
from secrecy.policy.engine import Signer
from secrecy.policy.rules import legal_bases
from secrecy.records.children import EnrolmentData, Guardian, close_case, enrol_child
from secrecy.records.services import add_sealed_record, create_record, current_identity_record
from secrecy.tags import SecrecyTag
from tests import factories
from tests.api.conftest import Api, field_errors, problem
from tests.conftest import Council3, log_in, sql_statements
from tests.factories import ASSESSED

SOCIAL = AgencyKind.SOCIAL_SERVICES
POLICE = AgencyKind.POLICE
SCHOOL = AgencyKind.SCHOOL
LEISURE = AgencyKind.LEISURE
NUMBER = "20121212-1212"  # 13 years old on TODAY
TODAY = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
MARKER = "Oromarkör-api-7"
IDENTITY_MARKER = "Förnamnapi"
SOL_POLICE = "sol-police-u21"  # 10 kap. 18 a § OSL: three statements to confirm
UNKNOWN = 999_999


@pytest.fixture(autouse=True)
def _fixed_day() -> Iterator[None]:
    """Ages (the age limits, who must sign a consent) and consent dates count from TODAY."""
    with time_machine.travel(TODAY, tick=False):
        yield


@dataclass
class Case:
    child: Child
    identity: Record
    record: Record  # social services' risk note with MARKER


@pytest.fixture
def case(db: Session, world: Council3) -> Case:
    social = world.members[SOCIAL]
    child = enrol_child(
        db,
        social,
        world.council,
        EnrolmentData(IDENTITY_MARKER, "Efternamnapi", NUMBER, [Guardian("Vhapi")], "Adressapi"),
    )
    record = create_record(db, social, child, "risk_protective", f"Oro: {MARKER}")
    identity = current_identity_record(db, child)
    assert identity is not None
    db.flush()
    return Case(child, identity, record)


@pytest.fixture
def outsider(db: Session, world: Council3) -> User:
    """Social services' own agency, but a member of another council only."""
    other = factories.CouncilFactory(
        name="Annat råd", code="ANNAT", agencies=[world.agencies[SOCIAL]]
    )
    user = factories.UserFactory(agency=world.agencies[SOCIAL], email="annat@example.com")
    factories.MembershipFactory(council=other, user=user)
    db.flush()
    return user


@dataclass
class Decided:
    disclosure: Disclosure
    consent: Consent


@pytest.fixture
def decided(db: Session, world: Council3, case: Case) -> Decided:
    social = world.members[SOCIAL]
    disclosure = decide_disclosure(
        db,
        social,
        case.record,
        world.agencies[POLICE],
        SOL_POLICE,
        [0, 1, 2, 3],
        assessment=ASSESSED,
    )
    consent = register_consent(db, social, case.child, consent_data(world, "Gun Samtyck"))
    db.flush()
    return Decided(disclosure, consent)


def consent_data(world: Council3, guardian: str) -> ConsentData:
    return ConsentData(
        signers={Signer.GUARDIAN_1: guardian},
        two_guardians=False,
        agency_ids=[world.agencies[SCHOOL].id],
        categories=["risk_protective"],
        valid_from=dt.date(2026, 1, 1),
        purpose="SSPF-samverkan",
    )


def consent_body(world: Council3, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "signers": {"guardian_1": "Gun Provsson"},
        "two_guardians": False,
        "agency_ids": [world.agencies[SCHOOL].id],
        "categories": ["risk_protective"],
        "valid_from": "2026-01-01",
        "purpose": "SSPF-samverkan",
        "form_location": "Pärm 3",
    }
    body.update(changes)
    return body


def disclosure_body(
    world: Council3,
    to: AgencyKind = POLICE,
    basis: str = SOL_POLICE,
    confirmations: tuple[int, ...] = (0, 1, 2, 3),
) -> dict[str, Any]:
    return {
        "recipient_agency_id": world.agencies[to].id,
        "basis_id": basis,
        "confirmations": list(confirmations),
        "assessment": "Polisen behöver uppgiften inför helgens insats; den rör just den oron.",
    }


def endpoints(
    world: Council3, council: int, child: int, record: int, disclosure: int, consent: int
) -> list[tuple[str, str, Any]]:
    """(method, path, body) of every operation that addresses a council, child, record,
    disclosure or consent, with a body that would succeed for social services."""
    return [
        ("get", f"/api/v1/councils/{council}/children", None),
        ("get", f"/api/v1/children/{child}", None),
        ("post", f"/api/v1/children/{child}/records", {"category": "school", "text": "Ny"}),
        ("get", f"/api/v1/records/{record}/disclosure-options", None),
        ("post", f"/api/v1/records/{record}/disclosures", disclosure_body(world)),
        ("post", f"/api/v1/disclosures/{disclosure}/revoke", {"reason": "other"}),
        ("get", f"/api/v1/children/{child}/consents", None),
        ("post", f"/api/v1/children/{child}/consents", consent_body(world)),
        ("post", f"/api/v1/consents/{consent}/revoke", {"reason": "other"}),
    ]


def endpoints_of(world: Council3, case: Case, decided: Decided) -> list[tuple[str, str, Any]]:
    ids = (case.child.id, case.record.id, decided.disclosure.id, decided.consent.id)
    return endpoints(world, world.council.id, *ids)


def call(api: Api, method: str, path: str, body: Any) -> Any:
    return api.get(path) if method == "get" else api.post(path, json=body)


def counts(db: Session) -> tuple[int, ...]:
    db.expire_all()
    return (
        db.scalar(select(func.count()).select_from(Record)) or 0,
        db.scalar(select(func.count()).select_from(Disclosure)) or 0,
        db.scalar(select(func.count()).select_from(Consent)) or 0,
        db.scalar(select(func.count()).select_from(RecordKey)) or 0,
        db.scalar(select(func.count()).where(Disclosure.revoked_at.is_not(None))) or 0,
        db.scalar(select(func.count()).where(Consent.revoked_on.is_not(None))) or 0,
    )


def reveal_events(db: Session, user: User) -> list[AuditEvent]:
    return list(
        db.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.tag == str(SecrecyTag.RECORD_REVEAL),
                AuditEvent.actor_user_id == user.id,
            )
            .order_by(AuditEvent.seq)
        )
    )


def by_id(records: list[dict[str, Any]], record_id: int) -> dict[str, Any]:
    return next(r for r in records if r["id"] == record_id)


# --- Who may call what --------------------------------------------------------------------------


def test_every_endpoint_needs_a_token(
    anonymous_api: Api, world: Council3, case: Case, decided: Decided, db: Session
) -> None:
    before = counts(db)
    for method, path, body in [
        *endpoints_of(world, case, decided),
        ("get", "/api/v1/legal-bases", None),
    ]:
        problem(call(anonymous_api, method, path, body), 401)
    assert counts(db) == before


def test_a_read_only_token_cannot_write(
    api_for: Callable[..., Api], world: Council3, case: Case, decided: Decided, db: Session
) -> None:
    api = api_for(SOCIAL, Scope.READ)
    before = counts(db)
    writes = [e for e in endpoints_of(world, case, decided) if e[0] == "post"]
    assert len(writes) == 5
    for method, path, body in writes:
        assert "write" in problem(call(api, method, path, body), 403)["detail"]
    assert counts(db) == before
    assert api.get(f"/api/v1/children/{case.child.id}").status_code == 200


def test_a_member_of_another_council_gets_403_everywhere_and_it_is_logged(
    api_as: Callable[..., Api],
    outsider: User,
    world: Council3,
    case: Case,
    decided: Decided,
    db: Session,
) -> None:
    api = api_as(outsider)
    before = counts(db)
    for method, path, body in endpoints_of(world, case, decided):
        response = call(api, method, path, body)
        problem(response, 403)
        assert MARKER not in response.get_data(as_text=True)
    assert counts(db) == before
    denied = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.tag == str(AuditTag.ACCESS_DENIED))
        .order_by(AuditEvent.seq)
    ).all()
    assert [(e.object_type, e.object_ids, e.actor_user_id) for e in denied] == [
        ("council", [world.council.id], outsider.id),
        ("child", [case.child.id], outsider.id),
        ("child", [case.child.id], outsider.id),
        ("record", [case.record.id], outsider.id),
        ("record", [case.record.id], outsider.id),
        ("record", [case.record.id], outsider.id),
        ("child", [case.child.id], outsider.id),
        ("child", [case.child.id], outsider.id),
        ("consent", [decided.consent.id], outsider.id),
    ]


def test_unknown_ids_are_403_and_logged(
    api_for: Callable[..., Api], world: Council3, case: Case, db: Session
) -> None:
    """An unknown id is refused like a forbidden one (issue 14: answering 404 told which ids
    exist), and the refusal is logged."""
    api = api_for(SOCIAL)
    for method, path, body in endpoints(world, *[UNKNOWN] * 5):
        problem(call(api, method, path, body), 403)
    denied = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == str(AuditTag.ACCESS_DENIED))
    ).all()
    assert len(denied) == len(endpoints(world, *[UNKNOWN] * 5))
    assert all(e.object_ids == [UNKNOWN] for e in denied)


def test_an_unknown_and_a_forbidden_child_or_record_answer_alike_on_page_and_api(
    app: Flask,
    api_as: Callable[..., Api],
    outsider: User,
    world: Council3,
    case: Case,
    decided: Decided,
    db: Session,
) -> None:
    """For someone outside the child's council, a child or record that exists and one that
    does not get the same status and the same body, on the pages and in the API."""
    api = api_as(outsider)
    forbidden = endpoints_of(world, case, decided)
    unknown = endpoints(world, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN)
    for (method, path, body), (_, unknown_path, _) in zip(forbidden, unknown, strict=True):
        seen = call(api, method, path, body)
        not_there = call(api, method, unknown_path, body)
        assert seen.status_code == not_there.status_code == 403, path
        assert seen.get_json() == not_there.get_json(), path
    pages = log_in(app.test_client(), outsider)
    child, record = case.child.id, case.record.id
    for template in (
        "/children/{child}",
        "/children/{child}/extract",
        "/children/{child}/consents",
        "/children/{child}/disclose",
        "/records/{record}/disclose",
        "/records/{record}/correct",
    ):
        path = template.format(child=child, record=record)
        unknown_path = template.format(child=UNKNOWN, record=UNKNOWN)
        seen, not_there = pages.get(path), pages.get(unknown_path)
        assert seen.status_code == not_there.status_code == 403, template
        # The same page, but for the address it names (the language switch returns there).
        assert seen.text.replace(path, unknown_path) == not_there.text, template


# --- The caseload -------------------------------------------------------------------------------


def enrol_many(db: Session, world: Council3, numbers: list[str]) -> list[Child]:
    social = world.members[SOCIAL]
    return [
        enrol_child(db, social, world.council, EnrolmentData("A", "B", number))
        for number in numbers
    ]


def test_caseload_filters_like_the_page_and_pages(
    app: Flask, api_for: Callable[..., Api], world: Council3, case: Case, db: Session
) -> None:
    social = world.members[SOCIAL]
    active = [case.child, *enrol_many(db, world, ["20100101-0014", "20110203-0010"])]
    closed = enrol_many(db, world, ["20090909-0011"])[0]
    close_case(db, social, closed, CloseReason.MOVED)
    # An enrolment proposal from the Bob case sync, as the police's submission leaves it.
    proposed = Child(
        council=world.council,
        pseudonym="TEST-2026-900",
        status=ChildStatus.PROPOSED,
        enrolled_on=dt.date(2026, 3, 1),
        enrolling_agency_id=world.agencies[POLICE].id,
    )
    db.add(proposed)
    db.flush()
    api = api_for(POLICE)
    page = log_in(app.test_client(), world.members[POLICE])
    everyone = {c.pseudonym for c in [*active, closed, proposed]}
    for status, expected in [
        ("active", {c.pseudonym for c in active}),
        ("closed", {closed.pseudonym}),
        ("shredded", set()),
        ("proposed", {proposed.pseudonym}),
        ("all", everyone),
    ]:
        body = api.get(f"/api/v1/councils/{world.council.id}/children?status={status}").get_json()
        listed = [c["pseudonym"] for c in body["items"]]
        assert listed == sorted(expected), status
        html = page.get(f"/councils/{world.council.id}/children?status={status}").text
        assert {p for p in everyone if p in html} == expected, status
    default = api.get(f"/api/v1/councils/{world.council.id}/children").get_json()
    assert [c["pseudonym"] for c in default["items"]] == sorted(c.pseudonym for c in active)
    closed_row = api.get(f"/api/v1/councils/{world.council.id}/children?status=closed").get_json()[
        "items"
    ][0]
    assert closed_row["close_reason"] == "moved" and closed_row["closed_on"]

    first = api.get(f"/api/v1/councils/{world.council.id}/children?status=all&limit=3").get_json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = api.get(
        f"/api/v1/councils/{world.council.id}/children?status=all&limit=3"
        f"&cursor={first['next_cursor']}"
    ).get_json()
    assert rest["next_cursor"] is None
    assert [c["pseudonym"] for c in first["items"] + rest["items"]] == sorted(everyone)

    assert set(field_errors(api.get(f"/api/v1/councils/{world.council.id}/children?status=x"))) == {
        "status"
    }


def test_caseload_queries_do_not_grow_with_the_children(
    app: Flask, api_for: Callable[..., Api], world: Council3, case: Case, db: Session
) -> None:
    api = api_for(SCHOOL)
    path = f"/api/v1/councils/{world.council.id}/children"
    api.get(path)  # first use loads what later requests find in place
    with sql_statements(app) as few:
        assert len(api.get(path).get_json()["items"]) == 1
    enrol_many(db, world, ["20100101-0014", "20110203-0010", "20090909-0011"])
    with sql_statements(app) as many:
        assert len(api.get(path).get_json()["items"]) == 4
    assert len(many) == len(few)


# --- The child and its records ------------------------------------------------------------------


def test_the_child_reveals_and_withholds_like_the_page_and_logs_the_same(
    app: Flask, api_for: Callable[..., Api], world: Council3, case: Case, db: Session
) -> None:
    social = api_for(SOCIAL).get(f"/api/v1/children/{case.child.id}")
    body = social.get_json()
    assert (body["pseudonym"], body["status"], body["council_id"]) == (
        case.child.pseudonym,
        "active",
        world.council.id,
    )
    identity = by_id(body["records"], case.identity.id)
    assert identity["withheld"] is False and identity["category"] == "identity"
    assert identity["content"]["given_names"] == IDENTITY_MARKER
    assert by_id(body["records"], case.record.id)["content"] == {"text": f"Oro: {MARKER}"}

    police_user = world.members[POLICE]
    response = api_for(POLICE).get(f"/api/v1/children/{case.child.id}")
    raw = response.get_data(as_text=True)
    assert MARKER not in raw and IDENTITY_MARKER not in raw and "Adressapi" not in raw
    records = response.get_json()["records"]
    assert [r["id"] for r in records] == [case.identity.id, case.record.id]
    for record in records:
        assert record["withheld"] is True and "content" not in record
        assert record["reason"] == "Ingen uppgiftslämning till din myndighet."
        assert record["owner_agency"]["id"] == world.agencies[SOCIAL].id

    # The API's reveal writes the very event the child page writes.
    api_event = reveal_events(db, police_user)[-1]
    log_in(app.test_client(), police_user).get(f"/children/{case.child.id}")
    page_event = reveal_events(db, police_user)[-1]
    assert api_event.seq != page_event.seq
    for event_ in (api_event, page_event):
        assert event_.object_ids == []
        assert event_.details == {
            "purpose": "view",
            "child_ids": [case.child.id],
            "withheld": 2,
            "via_disclosure": [],
        }


def test_a_record_whose_existence_is_secret_is_left_out_like_on_the_page(
    app: Flask, api_for: Callable[..., Api], world: Council3, case: Case, db: Session
) -> None:
    """Social services' answer to the police in the Bob case sync: not even listed as withheld
    until it is disclosed."""
    social = world.members[SOCIAL]
    answer = add_sealed_record(
        db, social, case.child, "social_measures", {"text": "Känd: insats"}, existence_secret=True
    )
    db.flush()
    path = f"/api/v1/children/{case.child.id}"
    police = api_for(POLICE).get(path)
    assert [r["id"] for r in police.get_json()["records"]] == [case.identity.id, case.record.id]
    assert "Känd: insats" not in police.get_data(as_text=True)
    assert reveal_events(db, world.members[POLICE])[-1].details["withheld"] == 2
    page = log_in(app.test_client(), world.members[POLICE]).get(f"/children/{case.child.id}")
    assert f"record-{answer.id}" not in page.text and f"record-{case.record.id}" in page.text
    assert by_id(api_for(SOCIAL).get(path).get_json()["records"], answer.id)["withheld"] is False

    decide_disclosure(
        db, social, answer, world.agencies[POLICE], SOL_POLICE, [0, 1, 2, 3], assessment=ASSESSED
    )
    db.flush()
    shown = by_id(api_for(POLICE).get(path).get_json()["records"], answer.id)
    assert shown["content"] == {"text": "Känd: insats"}


def test_the_child_opens_for_members_whatever_its_status_like_the_page(
    app: Flask, api_for: Callable[..., Api], world: Council3, case: Case, db: Session
) -> None:
    from secrecy.records import sealing

    close_case(db, world.members[SOCIAL], case.child, CloseReason.OTHER)
    sealing.shred_child(db, case.child)
    db.flush()
    for kind in (SOCIAL, POLICE):
        page = log_in(app.test_client(), world.members[kind]).get(f"/children/{case.child.id}")
        response = api_for(kind).get(f"/api/v1/children/{case.child.id}")
        assert response.status_code == page.status_code == 200
        body = response.get_json()
        assert body["status"] == "shredded"
        assert {r["reason"] for r in body["records"]} == {"Uppgiften är gallrad."}
        assert MARKER not in response.get_data(as_text=True)


def test_add_a_record(
    api_for: Callable[..., Api], world: Council3, case: Case, db: Session
) -> None:
    api = api_for(SCHOOL)
    path = f"/api/v1/children/{case.child.id}/records"
    before = counts(db)
    errors = field_errors(api.post(path, json={"category": "school", "text": "   "}))
    assert errors == {"text": "Får inte vara tom."}
    assert field_errors(api.post(path, json={"category": "nonsense", "text": "x"})) == {
        "category": "Okänd kategori."
    }
    assert set(field_errors(api.post(path, json={"category": "identity", "text": "x"}))) == {
        "category"
    }
    assert set(field_errors(api.post(path, json={"text": "x", "extra": 1}))) == {
        "category",
        "extra",
    }
    assert counts(db) == before

    created = api.post(path, json={"category": "school", "text": "  Skolmarkör-api  "})
    assert created.status_code == 201
    body = created.get_json()
    assert body["withheld"] is False and body["content"] == {"text": "Skolmarkör-api"}
    assert body["owner_agency"]["id"] == world.agencies[SCHOOL].id
    assert body["disclosed_via"] is None
    record = db.get(Record, body["id"])
    assert record is not None and record.child_id == case.child.id
    create_event = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == str(SecrecyTag.RECORD_CREATE))
    ).all()[-1]
    assert create_event.object_ids == [record.id]
    assert reveal_events(db, world.members[SCHOOL])[-1].object_ids == [record.id]
    police = api_for(POLICE).get(f"/api/v1/children/{case.child.id}")
    assert by_id(police.get_json()["records"], record.id)["withheld"] is True
    assert "Skolmarkör-api" not in police.get_data(as_text=True)

    close_case(db, world.members[SOCIAL], case.child, CloseReason.GOALS_REACHED)
    db.flush()
    before = counts(db)
    closed = problem(api.post(path, json={"category": "school", "text": "Sent"}), 422)
    assert "Ärendet är avslutat" in closed["detail"]
    assert counts(db) == before


# --- Disclosure decisions -----------------------------------------------------------------------


def test_police_see_a_record_once_disclosed_and_no_longer_once_revoked(
    api_for: Callable[..., Api], world: Council3, case: Case, db: Session
) -> None:
    social, police = api_for(SOCIAL), api_for(POLICE)
    police_user = world.members[POLICE]
    child_path = f"/api/v1/children/{case.child.id}"

    def police_view() -> dict[str, Any]:
        response = police.get(child_path)
        return by_id(response.get_json()["records"], case.record.id) | {
            "raw": response.get_data(as_text=True)
        }

    before = police_view()
    assert before["withheld"] is True and MARKER not in before["raw"]

    options = social.get(
        f"/api/v1/records/{case.record.id}/disclosure-options"
        f"?recipient_agency_id={world.agencies[POLICE].id}"
    ).get_json()
    (row,) = options["recipients"]
    assert row["recipient"]["kind"] == "police" and row["weak_protection"] is False
    bases = {b["basis_id"]: b for b in row["bases"]}
    assert bases[SOL_POLICE]["applicable"] is True and bases[SOL_POLICE]["reasons"] == []
    assert bases[SOL_POLICE]["reference"] == "10 kap. 18 a § OSL"
    assert bases[SOL_POLICE]["confirmations"] == list(legal_bases()[SOL_POLICE].confirmations)
    assert bases[SOL_POLICE]["duty"] == "may"
    assert bases["general-clause"]["applicable"] is False
    assert bases["general-clause"]["reasons"] == [
        "Regeln får aldrig användas för uppgifter från socialtjänst."
    ]
    assert set(bases) == set(legal_bases())

    path = f"/api/v1/records/{case.record.id}/disclosures"
    before_counts = counts(db)
    refused = social.post(path, json=disclosure_body(world, confirmations=(0, 1)))
    assert field_errors(refused) == {
        "confirmations": "Bekräfta varje förutsättning för att kunna lämna ut uppgiften."
    }
    assert counts(db) == before_counts

    created = social.post(path, json=disclosure_body(world))
    assert created.status_code == 201
    decision = created.get_json()
    assert decision["record_id"] == case.record.id
    assert decision["recipient_agency"]["id"] == world.agencies[POLICE].id
    assert (decision["basis_id"], decision["basis_reference"]) == (
        SOL_POLICE,
        "10 kap. 18 a § OSL",
    )
    assert decision["confirmations"] == list(legal_bases()[SOL_POLICE].confirmations)
    assert decision["consent_id"] is None and decision["revoked_at"] is None
    twice = social.post(path, json=disclosure_body(world))
    assert field_errors(twice) == {
        "recipient_agency_id": "Uppgiften är redan utlämnad till mottagaren."
    }

    seen = police_view()
    assert seen["withheld"] is False and seen["content"] == {"text": f"Oro: {MARKER}"}
    assert seen["disclosed_via"]["disclosure_id"] == decision["id"]
    assert seen["disclosed_via"]["basis_reference"] == "10 kap. 18 a § OSL"
    # The discloser's assessment comes with the record, and its reading is logged with it.
    assert seen["disclosed_via"]["assessment"] == disclosure_body(world)["assessment"]
    assert decision["assessment_record_id"] and decision["ruleset_version"]
    event_ = reveal_events(db, police_user)[-1]
    assert event_.object_ids == [case.record.id, decision["assessment_record_id"]]
    assert event_.details["via_disclosure"] == [decision["id"]]
    assert event_.details["withheld"] == 1  # the identity stays withheld
    assert IDENTITY_MARKER not in seen["raw"]
    own = api_for(SOCIAL).get(child_path).get_json()
    assert [d["id"] for d in own["disclosures"]] == [decision["id"]]
    assert police.get(child_path).get_json()["disclosures"] == []

    revoke_path = f"/api/v1/disclosures/{decision['id']}/revoke"
    problem(police.post(revoke_path, json={"reason": "other"}), 403)
    before_counts = counts(db)
    assert set(field_errors(social.post(revoke_path, json={"reason": "tired"}))) == {"reason"}
    assert set(field_errors(social.post(revoke_path, json={}))) == {"reason"}
    assert counts(db) == before_counts
    revoked = social.post(revoke_path, json={"reason": "no_longer_needed"})
    assert revoked.status_code == 200
    assert revoked.get_json()["revoked_at"] and revoked.get_json()["revoke_reason"] == (
        "no_longer_needed"
    )
    again = problem(social.post(revoke_path, json={"reason": "other"}), 422)
    assert again["detail"] == "Uppgiftslämningen har redan upphört."
    assert db.get(RecordKey, (case.record.id, world.agencies[POLICE].id)) is None

    after = police_view()
    assert after["withheld"] is True and MARKER not in after["raw"]
    assert reveal_events(db, police_user)[-1].object_ids == []


def test_disclosure_refusals_change_nothing(
    api_for: Callable[..., Api], world: Council3, case: Case, db: Session
) -> None:
    social, police = api_for(SOCIAL), api_for(POLICE)
    path = f"/api/v1/records/{case.record.id}/disclosures"
    before = counts(db)
    # Not the owner: refused like the page, and logged.
    problem(police.post(path, json=disclosure_body(world)), 403)
    problem(police.get(f"/api/v1/records/{case.record.id}/disclosure-options"), 403)
    # The engine refuses the general clause for social services' information.
    refused = problem(
        social.post(path, json=disclosure_body(world, SCHOOL, "general-clause", (0,))), 422
    )
    assert refused["errors"] == [
        {
            "field": "basis_id",
            "detail": "Grunden kan inte användas: Regeln får aldrig användas för "
            "uppgifter från socialtjänst.",
        }
    ]
    # A weakly protected recipient gets nothing without consent.
    weak = field_errors(social.post(path, json=disclosure_body(world, LEISURE, "own-task", (0,))))
    assert "sekretesskydd är svagt" in weak["basis_id"]
    assert field_errors(social.post(path, json={**disclosure_body(world), "basis_id": "x"})) == {
        "basis_id": "Okänd rättslig grund."
    }
    for recipient in (UNKNOWN, world.agencies[SOCIAL].id):
        errors = field_errors(
            social.post(path, json={**disclosure_body(world), "recipient_agency_id": recipient})
        )
        assert errors == {"recipient_agency_id": "Mottagaren deltar inte i barnets forum."}
    assert set(field_errors(social.post(path, json={"basis_id": SOL_POLICE}))) == {
        "recipient_agency_id",
        "confirmations",
        "assessment",
    }
    assert counts(db) == before
    denied = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == str(AuditTag.ACCESS_DENIED))
    ).all()
    assert [(e.object_type, e.object_ids) for e in denied] == [("record", [case.record.id])] * 2


def test_disclosure_options_for_every_recipient_and_the_weak_warning(
    api_for: Callable[..., Api], world: Council3, case: Case
) -> None:
    api = api_for(SOCIAL)
    path = f"/api/v1/records/{case.record.id}/disclosure-options"
    body = api.get(path).get_json()
    rows = {row["recipient"]["kind"]: row for row in body["recipients"]}
    assert set(rows) == {k.value for k in AgencyKind} - {"social_services"}
    assert rows["leisure"]["weak_protection"] is True
    assert rows["school"]["weak_protection"] is False
    own_task = next(b for b in rows["leisure"]["bases"] if b["basis_id"] == "own-task")
    assert own_task["applicable"] is False
    assert own_task["reasons"] == [
        "Mottagarens eget sekretesskydd är svagt; uppgifter lämnas dit bara med samtycke."
    ]
    consent = next(b for b in rows["school"]["bases"] if b["basis_id"] == "consent")
    assert consent["reasons"] == ["Det finns inget samtycke registrerat."]
    assert field_errors(api.get(f"{path}?recipient_agency_id={UNKNOWN}")) == {
        "recipient_agency_id": "Mottagaren deltar inte i barnets forum."
    }
    assert set(field_errors(api.get(f"{path}?recipient_agency_id=0"))) == {"recipient_agency_id"}


# --- Consents -----------------------------------------------------------------------------------


def test_consents_register_list_disclose_and_revoke(
    api_for: Callable[..., Api], world: Council3, case: Case, db: Session
) -> None:
    social, school = api_for(SOCIAL), api_for(SCHOOL)
    path = f"/api/v1/children/{case.child.id}/consents"
    before = counts(db)
    for changes, field in [
        ({"signers": {"guardian_1": "  "}}, "signers"),
        ({"signers": {"guardian_3": "X"}}, "signers.guardian_3.[key]"),
        ({"agency_ids": []}, "agency_ids"),
        ({"agency_ids": [UNKNOWN]}, "agency_ids"),
        ({"categories": []}, "categories"),
        ({"categories": ["consent"]}, "categories"),
        ({"valid_from": "2026-13-01"}, "valid_from"),
        ({"valid_to": "2025-12-31"}, "valid_to"),
        ({"purpose": ""}, "purpose"),
    ]:
        errors = field_errors(social.post(path, json=consent_body(world, **changes)))
        assert set(errors) == {field}, (changes, errors)
    assert counts(db) == before

    created = social.post(path, json=consent_body(world))
    assert created.status_code == 201
    consent = created.get_json()
    assert consent["state"] == "in_force" and consent["missing_signers"] == []
    assert consent["signers"] == ["guardian_1"]
    assert consent["details"]["content"] == {
        "signers": {"guardian_1": "Gun Provsson"},
        "purpose": "SSPF-samverkan",
        "form_location": "Pärm 3",
    }
    registered = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == str(SecrecyTag.CONSENT_REGISTER))
    ).all()
    assert [e.object_ids for e in registered] == [[consent["id"]]]
    # Joint custody, one guardian signed: stored, marked incomplete, carries nothing.
    lacking = social.post(path, json=consent_body(world, two_guardians=True)).get_json()
    assert lacking["state"] == "incomplete" and lacking["missing_signers"] == ["guardian_2"]

    # The school sees the metadata, not who signed.
    listed = school.get(path)
    raw = listed.get_data(as_text=True)
    assert "Gun Provsson" not in raw and "Pärm 3" not in raw
    items = listed.get_json()["items"]
    assert [c["id"] for c in items] == [consent["id"], lacking["id"]]
    assert items[0]["details"]["withheld"] is True
    assert items[0]["agency_ids"] == [world.agencies[SCHOOL].id]
    assert reveal_events(db, world.members[SCHOOL])[-1].details["purpose"] == "consent"
    assert set(field_errors(school.get(f"{path}?cursor=nonsense"))) == {"cursor"}
    first = school.get(f"{path}?limit=1").get_json()
    assert [c["id"] for c in first["items"]] == [consent["id"]] and first["next_cursor"]

    decision = social.post(
        f"/api/v1/records/{case.record.id}/disclosures",
        json={**disclosure_body(world, SCHOOL, "consent", (0,)), "consent_id": consent["id"]},
    )
    assert decision.status_code == 201 and decision.get_json()["consent_id"] == consent["id"]
    seen = school.get(f"/api/v1/children/{case.child.id}")
    assert MARKER in seen.get_data(as_text=True)

    revoke_path = f"/api/v1/consents/{consent['id']}/revoke"
    before = counts(db)
    assert set(field_errors(school.post(revoke_path, json={"reason": "bored"}))) == {"reason"}
    assert counts(db) == before
    revoked = school.post(revoke_path, json={"reason": "withdrawn_by_guardian"})
    assert revoked.status_code == 200
    body = revoked.get_json()
    assert body["state"] == "revoked" and body["ended_disclosures"] == 1
    assert body["revoke_reason"] == "withdrawn_by_guardian"
    assert "Gun Provsson" not in revoked.get_data(as_text=True)
    assert (
        "redan återkallat"
        in problem(school.post(revoke_path, json={"reason": "other"}), 422)["detail"]
    )
    after = school.get(f"/api/v1/children/{case.child.id}")
    assert MARKER not in after.get_data(as_text=True)
    withheld = by_id(after.get_json()["records"], case.record.id)
    assert withheld["reason"].startswith("Samtycket återkallades ")
    assert db.get(RecordKey, (case.record.id, world.agencies[SCHOOL].id)) is None


# --- The rule set -------------------------------------------------------------------------------


def test_legal_bases_for_any_user(api_as: Callable[..., Api], db: Session, world: Council3) -> None:
    nobody = factories.UserFactory(agency=world.agencies[LEISURE], email="ingen@example.com")
    db.flush()
    api = api_as(nobody, Scope.READ)
    assert set(field_errors(api.get("/api/v1/legal-bases?limit=0"))) == {"limit"}
    body = api.get("/api/v1/legal-bases").get_json()
    assert [b["id"] for b in body["items"]] == list(legal_bases())
    rule = next(b for b in body["items"] if b["id"] == SOL_POLICE)
    assert rule["from_kinds"] == ["disability_support", "social_services"]
    assert rule["to_kinds"] == ["police"] and rule["age_limit"] == 21
    assert rule["effective_from"] == "2013-01-01" and rule["enabled"] is True
    assert len(rule["confirmations"]) == 4 and rule["duty"] == "may"
    disabled = next(b for b in body["items"] if b["id"] == "crime-prevention-2025")
    assert disabled["enabled"] is False and disabled["review"] == "to_confirm"


def test_a_bad_cursor_is_refused_before_the_consents_are_read(
    api_for: Callable[..., Api], app: Flask, world: Council3, case: Case
) -> None:
    school = api_for(SCHOOL)
    path = f"/api/v1/children/{case.child.id}/consents"
    school.get("/api/v1/me")  # the token's first use is noted once (last_used_at)
    with sql_statements(app) as seen:
        errors = field_errors(school.get(f"{path}?cursor=nonsense"))
    assert errors == {"cursor": "Ogiltig cursor."}
    assert not [s for s in seen if "consents" in s.lower()]
    # The same request with a cursor a page hands out does read them.
    with sql_statements(app) as seen:
        assert school.get(f"{path}?cursor={encode_offset(0)}").status_code == 200
    assert [s for s in seen if "consents" in s.lower()]


def test_consent_dates_outside_the_calendar_are_refused(
    api_for: Callable[..., Api], world: Council3, case: Case, db: Session
) -> None:
    api = api_for(SOCIAL)
    before = counts(db)
    path = f"/api/v1/children/{case.child.id}/consents"
    for dates in ({"valid_from": "0001-01-01"}, {"valid_to": "9999-12-31"}):
        errors = field_errors(api.post(path, json=consent_body(world, **dates)))
        assert list(errors) == list(dates), errors
    assert counts(db) == before


def test_own_task_through_the_api_needs_the_written_statement(
    api_for: Callable[..., Api], world: Council3, case: Case, db: Session
) -> None:
    social = api_for(SOCIAL)
    path = f"/api/v1/records/{case.record.id}/disclosures"
    before = counts(db)
    body = disclosure_body(world, SCHOOL, "own-task", (0, 1))
    # The task need is written down in the assessment every decision carries (which asks for
    # it under own-task); a blank one is refused, and there is no second text to give.
    blank = field_errors(social.post(path, json={**body, "assessment": " " * 30}))
    assert set(blank) == {"assessment"}
    second_text = field_errors(social.post(path, json={**body, "statement": "Behovet."}))
    assert set(second_text) == {"statement"}  # an unknown field
    assert counts(db) == before
    done = social.post(path, json=body)
    assert done.status_code == 201
    assert done.get_json()["basis_id"] == "own-task"
    options = social.get(f"/api/v1/records/{case.record.id}/disclosure-options").get_json()
    labels = {
        b["basis_id"]: b["statement_label"] for row in options["recipients"] for b in row["bases"]
    }
    assert labels["own-task"] == legal_bases()["own-task"].statement_label
    assert labels[SOL_POLICE] is None
    rules = social.get("/api/v1/legal-bases?limit=100").get_json()["items"]
    assert {r["ruleset_version"] for r in rules} == {"2026.2"}
    care = next(r for r in rules if r["id"] == "care-chain")
    assert care["authority_relation"] == "separate" and not care["different_kinds"]
