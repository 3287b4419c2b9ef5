"""The 2026.2 rule corrections through the pages, the API and the services: the written task
need of own-task, consent by a mature young person of 15–17 where the council allows it, and
the authority (myndighet) an agency belongs to."""

from __future__ import annotations

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.admin.services import normalise_org_number
from coordination.audit.log import AuditEvent
from coordination.errors import ServiceError
from coordination.models import Agency, AgencyKind
from secrecy.models import Consent, Disclosure
from secrecy.policy.facts import recipient_facts, record_facts
from tests.conftest import ClientFor, Council3
from tests.secrecy.test_disclosure import enrol_with_record, on_consent_form

# The child of enrol_with_record is born 2008-05-10: 17 on 2026-03-04, 14 on 2023-03-04.
SEVENTEEN = time_machine.travel("2026-03-04 10:00 +0000", tick=False)
FOURTEEN = time_machine.travel("2023-03-04 10:00 +0000", tick=False)

OWN_TASK = {"basis": "own-task", "confirm-own-task-0": "y", "confirm-own-task-1": "y"}
# The written assessment every disclosure form asks for (issue 19).
WRITTEN = "Uppgiften behövs för vår egen planerade insats för den unge den här veckan."
ASSESSMENT = "MOGNAD-MARKÖR: samtalet visar att den unge förstår vad samtycket innebär."


@pytest.fixture
def maturity_consent_allowed(world: Council3, db: Session) -> None:
    """The council lets a mature young person of 15 or more consent alone."""
    world.council.maturity_consent = True
    db.flush()


def consent_form(agency_id: int, **changes: str) -> dict[str, object]:
    return {
        "custody": "one",
        "guardian_1": "",
        "young_person": "Vilgot Provsson",
        "agency_ids": [agency_id],
        "categories": ["risk_protective"],
        "valid_from": "2026-03-01",
        "valid_to": "2026-12-31",
        "purpose": "SSPF-samverkan",
        "form_location": "Pärm 3",
        "maturity_assessment": ASSESSMENT,
        **changes,
    }


# --- own-task: the written statement of the task need -------------------------------------------


def test_own_task_takes_its_task_need_from_the_one_written_assessment(
    world: Council3, social: FlaskClient, db: Session
) -> None:
    """The form has one text box: the assessment, which under own-task asks for the task need
    (the separate statement box is gone, so the discloser writes one text)."""
    record = enrol_with_record(social, world.council.id, db, "Egen-verksamhet-markör")
    police = world.agencies[AgencyKind.POLICE]
    page = social.get(f"/records/{record.id}/disclose").text
    assert 'name="statement-own-task"' not in page
    assert page.count("<textarea") == page.count('name="assessment"')
    assert "Grunden kräver en skriftlig redogörelse:" in page
    assert "Skriv den i bedömningen nedan." in page
    # Without the assessment the task need is missing: the own-task question, nothing stored.
    missing = social.post(
        f"/records/{record.id}/disclose", data={"recipient": police.id, **OWN_TASK}
    )
    assert missing.status_code == 422
    assert "vilken uppgift i er egen verksamhet" in missing.text
    blank = social.post(
        f"/records/{record.id}/disclose",
        data={"recipient": police.id, **OWN_TASK, "assessment": " " * 40},
    )
    assert blank.status_code == 422
    assert db.scalars(select(Disclosure)).all() == []
    done = social.post(
        f"/records/{record.id}/disclose",
        data={"recipient": police.id, **OWN_TASK, "assessment": WRITTEN},
    )
    assert done.status_code == 302
    disclosure = db.scalars(select(Disclosure)).one()
    assert disclosure.basis_id == "own-task" and disclosure.assessment_record_id is not None
    decided = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == "secrecy:disclosure:decide")
    ).one()
    # The text itself is not in the log (it may name the young person): only its record's id.
    assert decided.details["assessment_record_id"] == disclosure.assessment_record_id
    assert "egen planerade insats" not in str(decided.details)


# --- consent by a mature young person (12 kap. 3 § OSL) -----------------------------------------


@SEVENTEEN
def test_a_council_that_keeps_the_default_policy_refuses_a_maturity_assessment(
    world: Council3, client_for: ClientFor, db: Session
) -> None:
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    record = enrol_with_record(social, world.council.id, db, "Mognad-av")
    school = world.agencies[AgencyKind.SCHOOL]
    page = social.get(f"/children/{record.child_id}/consents").text
    assert 'name="maturity_assessment"' not in page
    refused = social.post(f"/children/{record.child_id}/consents", data=consent_form(school.id))
    assert refused.status_code == 422
    assert "Forumets lokala regel tillåter inte" in refused.text
    assert db.scalars(select(Consent)).all() == []
    # Without the assessment the young person alone is an incomplete consent at 17.
    alone = social.post(
        f"/children/{record.child_id}/consents",
        data=consent_form(school.id, maturity_assessment=""),
        follow_redirects=True,
    )
    assert "Ofullständigt" in alone.text


@SEVENTEEN
@pytest.mark.usefixtures("maturity_consent_allowed")
def test_a_mature_17_year_old_consents_alone_where_the_council_allows_it(
    world: Council3, client_for: ClientFor, db: Session
) -> None:
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    school_client = client_for(AgencyKind.SCHOOL)
    police_client = client_for(AgencyKind.POLICE)
    record = enrol_with_record(social, world.council.id, db, "Mognad-på-markör")
    school = world.agencies[AgencyKind.SCHOOL]
    page = social.get(f"/children/{record.child_id}/consents").text
    assert 'name="maturity_assessment"' in page
    registered = social.post(f"/children/{record.child_id}/consents", data=consent_form(school.id))
    assert registered.status_code == 302
    consent = db.scalars(select(Consent)).one()
    assert consent.maturity_assessed_on is not None
    assert consent.maturity_assessed_by_id == world.members[AgencyKind.SOCIAL_SERVICES].id
    assert ASSESSMENT in social.get(f"/children/{record.child_id}/consents").text
    done = social.post(
        f"/records/{record.id}/disclose",
        data=on_consent_form(school.id, WRITTEN),
    )
    assert done.status_code == 302
    assert "Mognad-på-markör" in school_client.get(f"/children/{record.child_id}").text
    # The assessment is sealed with the consent's details: other agencies see that one was
    # recorded, never what it says.
    for other in (school_client, police_client):
        consents_page = other.get(f"/children/{record.child_id}/consents").text
        assert "MOGNAD-MARKÖR" not in consents_page
    # The council returns to the default policy: the consent no longer carries the disclosure.
    world.council.maturity_consent = False
    db.flush()
    assert "Mognad-på-markör" not in school_client.get(f"/children/{record.child_id}").text


@FOURTEEN
@pytest.mark.usefixtures("maturity_consent_allowed")
def test_no_maturity_assessment_under_15(
    world: Council3, client_for: ClientFor, db: Session
) -> None:
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    record = enrol_with_record(social, world.council.id, db, "Mognad-14")
    refused = social.post(
        f"/children/{record.child_id}/consents",
        data=consent_form(
            world.agencies[AgencyKind.SCHOOL].id, valid_from="2023-03-04", valid_to=""
        ),
    )
    assert refused.status_code == 422
    assert "bara för unga som är 15–17 år" in refused.text
    assert db.scalars(select(Consent)).all() == []


def test_the_council_form_sets_the_consent_policy(
    admin_client: FlaskClient, world: Council3, db: Session
) -> None:
    council = world.council
    form = admin_client.get(f"/admin/councils/{council.id}").text
    assert 'name="maturity_consent"' in form
    saved = admin_client.post(
        f"/admin/councils/{council.id}",
        data={
            "kind": council.kind.value,
            "name": council.name,
            "area": council.area,
            "code": council.code,
            "agency_ids": [a.id for a in council.agencies],
            "retention_months": "12",
            "maturity_consent": "y",
            "active": "y",
            "version": str(council.version),
        },
    )
    assert saved.status_code == 302
    db.refresh(council)
    assert council.maturity_consent


# --- the authority an agency belongs to ---------------------------------------------------------


def test_organisation_numbers_are_checked_and_normalised() -> None:
    assert normalise_org_number("2120001124") == "212000-1124"
    assert normalise_org_number(" 212000-1124 ") == "212000-1124"
    for bad in ("212000-1125", "21200011", "２１２０００１１２４", "abcdefghij"):
        with pytest.raises(ServiceError) as refusal:
            normalise_org_number(bad)
        assert refusal.value.field == "authority_org_number"


def test_admin_records_the_authority_and_the_engine_reads_it(
    admin_client: FlaskClient, world: Council3, db: Session
) -> None:
    social = world.agencies[AgencyKind.SOCIAL_SERVICES]
    url = f"/admin/agencies/{social.id}"
    assert 'name="authority_org_number"' in admin_client.get(url).text
    base = {"name": social.name, "active": "y", "osl_applies": "y"}

    def authority(name: str, org_number: str) -> dict[str, str]:
        """The agency form with the authority's name and number, at the agency's version."""
        fields = {"authority_name": name, "authority_org_number": org_number}
        return {**base, **fields, "version": str(social.version)}

    half = admin_client.post(
        url, data={**base, "authority_name": "Socialnämnden", "version": str(social.version)}
    )
    assert half.status_code == 422
    assert "både myndighetens namn" in half.text
    bad = admin_client.post(url, data=authority("Socialnämnden", "212000-1125"))
    assert bad.status_code == 422
    assert "fel kontrollsiffra" in bad.text
    db.refresh(social)
    assert social.authority_key is None
    saved = admin_client.post(url, data=authority("  Socialnämnden   Norr ", "2120001124"))
    assert saved.status_code == 302
    db.refresh(social)
    assert (social.authority_name, social.authority_org_number) == (
        "Socialnämnden Norr",
        "212000-1124",
    )
    assert not social.independent_branch  # the box was not ticked
    assert social.authority_key == "212000-1124|socialnämnden norr"
    # Another agency of the same board: one authority, no independent branch between them.
    lss = world.agencies[AgencyKind.DISABILITY_SUPPORT]
    lss.authority_name, lss.authority_org_number = "Socialnämnden norr", "212000-1124"
    lss.independent_branch = False
    db.flush()
    to = recipient_facts(lss)
    assert to.authority == social.authority_key and not to.independent_branch
    enrolled = db.scalars(select(Agency).where(Agency.id == social.id)).one()
    assert enrolled.authority_key == to.authority


def test_record_facts_carry_the_owner_authority(
    world: Council3, social: FlaskClient, db: Session
) -> None:
    record = enrol_with_record(social, world.council.id, db, "Myndighet-markör")
    agency = world.agencies[AgencyKind.SOCIAL_SERVICES]
    agency.authority_name, agency.authority_org_number = "Socialnämnden", "212000-1124"
    agency.independent_branch = True
    db.flush()
    facts = record_facts(record)
    assert facts.owner_authority == "212000-1124|socialnämnden"
    assert facts.owner_independent_branch
