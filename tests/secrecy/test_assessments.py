"""Every disclosure documents its assessment: required on the pages and in the API, sealed as a
record of the owner agency, shown to the recipient with the content and to the owner's log
reviewer, one per batch; and every decision stores the rule-set version it was taken under."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.errors import ServiceError
from coordination.models import AgencyKind, Role
from secrecy.disclosure.assessments import validate_assessment
from secrecy.models import Disclosure, Record, RecordKey
from secrecy.policy import rules
from secrecy.policy.categories import ASSESSMENT
from secrecy.records.services import create_record
from tests.conftest import ClientFor, Council3, log_in
from tests.factories import UserFactory
from tests.secrecy.test_disclosure import SOL_POLICE, WRITTEN, enrol_with_record

SOCIAL = AgencyKind.SOCIAL_SERVICES
POLICE = AgencyKind.POLICE
TEXT = "Bedömningsmarkör: polisen behöver veta om hotet mot den unge före helgen."
NO_TEXT = {k: v for k, v in SOL_POLICE.items() if k != "assessment"}


def assessments(db: Session) -> list[Record]:
    return list(db.scalars(select(Record).where(Record.category == ASSESSMENT)))


def test_a_decision_without_an_assessment_is_refused_and_changes_nothing(
    world: Council3, social: FlaskClient, db: Session
) -> None:
    record = enrol_with_record(social, world.council.id, db, "Innehållsmarkör")
    police = world.agencies[POLICE]
    page = social.get(f"/records/{record.id}/disclose").text
    assert "Er bedömning i det enskilda fallet" in page
    for typed in ("", "  för kort  "):
        refused = social.post(
            f"/records/{record.id}/disclose",
            data={"recipient": police.id, **NO_TEXT, "assessment": typed},
        )
        assert refused.status_code == 422
        assert "Skriv er bedömning" in refused.text
    assert db.scalars(select(Disclosure)).all() == [] and assessments(db) == []
    # What was typed is shown again, so nothing written is lost.
    refused = social.post(
        f"/records/{record.id}/disclose",
        data={"recipient": 10**9, **NO_TEXT, "assessment": "Kvarhållen text"},
    )
    assert "Kvarhållen text" in refused.text


def test_the_assessment_is_sealed_and_shown_to_the_recipient_with_the_content(
    app: Flask,
    world: Council3,
    client_for: ClientFor,
    social: FlaskClient,
    police: FlaskClient,
    db: Session,
) -> None:
    record = enrol_with_record(social, world.council.id, db, "Innehållsmarkör")
    police_agency = world.agencies[POLICE]
    done = social.post(
        f"/records/{record.id}/disclose",
        data={"recipient": police_agency.id, **NO_TEXT, "assessment": TEXT},
    )
    assert done.status_code == 302
    decision = db.scalars(select(Disclosure)).one()
    written = db.get(Record, decision.assessment_record_id)
    assert written is not None
    assert (written.category, written.owner_agency_id) == (ASSESSMENT, record.owner_agency_id)
    assert written.existence_secret and written.child_id == record.child_id
    assert written.ciphertext is not None and TEXT.encode() not in written.ciphertext
    assert decision.ruleset_version == rules.ruleset_version()
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == "secrecy:disclosure:decide")
    ).one()
    assert event.details["assessment_record_id"] == written.id
    assert event.details["ruleset_version"] == decision.ruleset_version
    assert "Bedömningsmarkör" not in str(event.details)

    seen = police.get(f"/children/{record.child_id}").text
    assert "Innehållsmarkör" in seen and "Bedömningsmarkör" in seen
    # The owner sees it under the decision, not as a record of its own.
    own = social.get(f"/children/{record.child_id}").text
    assert own.count("Bedömningsmarkör") == 1
    # Another agency sees neither, nor that an assessment exists.
    school = client_for(AgencyKind.SCHOOL).get(f"/children/{record.child_id}").text
    assert "Bedömningsmarkör" not in school and "Bedömning inför" not in school

    # Revoked: the recipient loses the assessment with the record, and its key.
    social.post(
        f"/disclosures/{decision.id}/revoke", data={"reason": "no_longer_needed", "confirm": "yes"}
    )
    after = log_in(app.test_client(), world.members[POLICE]).get(f"/children/{record.child_id}")
    assert "Bedömningsmarkör" not in after.text and "Innehållsmarkör" not in after.text
    assert db.get(RecordKey, (written.id, police_agency.id)) is None


def test_a_batch_takes_one_assessment_and_says_so(
    world: Council3, client_for: ClientFor, social: FlaskClient, db: Session
) -> None:
    first = enrol_with_record(social, world.council.id, db, "Batchmarkör-1")
    social.post(
        f"/children/{first.child_id}/records", data={"category": "health", "text": "Batchmarkör-2"}
    )
    records = db.scalars(select(Record).where(Record.category.in_(["risk_protective", "health"])))
    ids = [r.id for r in records]
    police = world.agencies[POLICE]
    page = social.get(f"/children/{first.child_id}/disclose?recipient={police.id}").text
    assert "En bedömning för hela urvalet" in page
    missing = social.post(
        f"/children/{first.child_id}/disclose",
        data={"recipient": police.id, "records": ids, **NO_TEXT},
    )
    assert missing.status_code == 422 and db.scalars(select(Disclosure)).all() == []
    done = social.post(
        f"/children/{first.child_id}/disclose",
        data={"recipient": police.id, "records": ids, **NO_TEXT, "assessment": TEXT},
    )
    assert done.status_code == 302
    decisions = db.scalars(select(Disclosure).order_by(Disclosure.id)).all()
    assert len(decisions) == 2 and len(assessments(db)) == 1
    assert {d.assessment_record_id for d in decisions} == {assessments(db)[0].id}
    seen = client_for(POLICE).get(f"/children/{first.child_id}").text
    assert seen.count("Bedömningsmarkör") == 2  # with each record
    # One decision revoked: the other still rests on the assessment, so the key stays.
    social.post(
        f"/disclosures/{decisions[0].id}/revoke",
        data={"reason": "no_longer_needed", "confirm": "yes"},
    )
    assert db.get(RecordKey, (assessments(db)[0].id, police.id)) is not None
    social.post(
        f"/disclosures/{decisions[1].id}/revoke",
        data={"reason": "no_longer_needed", "confirm": "yes"},
    )
    assert db.get(RecordKey, (assessments(db)[0].id, police.id)) is None


def test_the_owners_log_reviewer_reads_the_assessments(
    app: Flask, world: Council3, social: FlaskClient, db: Session
) -> None:
    record = enrol_with_record(social, world.council.id, db, "Innehållsmarkör")
    social.post(
        f"/records/{record.id}/disclose",
        data={"recipient": world.agencies[POLICE].id, **NO_TEXT, "assessment": TEXT},
    )
    reviewer = UserFactory(agency=world.agencies[SOCIAL], roles={Role.AUDITOR})
    police_reviewer = UserFactory(agency=world.agencies[POLICE], roles={Role.AUDITOR})
    db.flush()
    page = log_in(app.test_client(), reviewer).get("/logreview/disclosures")
    assert page.status_code == 200
    assert "Bedömningsmarkör" in page.text and "Innehållsmarkör" not in page.text
    assert "Uppgiftslämnanden" in log_in(app.test_client(), reviewer).get("/logreview/").text
    event = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.tag == "secrecy:record:reveal", AuditEvent.actor_user_id == reviewer.id)
        .order_by(AuditEvent.seq.desc())
    ).first()
    assert event is not None and event.details["purpose"] == "log_review"
    # The police's reviewer sees no decision of social services; a member is not a reviewer.
    other = log_in(app.test_client(), police_reviewer).get("/logreview/disclosures")
    assert other.status_code == 200 and "Bedömningsmarkör" not in other.text
    assert social.get("/logreview/disclosures").status_code == 403


def test_the_prompt_names_what_the_basis_requires() -> None:
    with pytest.raises(ServiceError, match="uppenbart har företräde") as general:
        validate_assessment("kort", "general-clause")
    assert general.value.field == "assessment"
    with pytest.raises(ServiceError, match="egen verksamhet"):
        validate_assessment("", "own-task")
    with pytest.raises(ServiceError, match="till den här mottagaren nu"):
        validate_assessment(" " * 40, "sol-police-u21")
    with pytest.raises(ServiceError, match="för lång"):
        validate_assessment("x" * 10_001, "consent")
    assert validate_assessment(f"  {WRITTEN['assessment']}  ", "consent") == WRITTEN["assessment"]


def test_an_assessment_is_not_written_as_a_record_of_its_own(
    world: Council3, client_for: ClientFor, db: Session
) -> None:
    record = enrol_with_record(client_for(SOCIAL), world.council.id, db, "x")
    with pytest.raises(ServiceError) as caught:
        create_record(db, world.members[SOCIAL], record.child, ASSESSMENT, "Egen bedömning")
    assert caught.value.field == "category"


def test_the_ruleset_version_is_the_declared_version_of_the_rule_files() -> None:
    """Each decision stores the version the rule set declares (``[ruleset] version`` of
    legal_bases.toml, with its change log); the history keeps that version's rules."""
    from secrecy.policy.versions import rule_set_history

    shipped = rules.ruleset_version()
    assert shipped == rules.ruleset_version()  # stable
    assert shipped in rule_set_history()
