"""Disclosure decisions and consents, end to end through the pages and the services."""

from __future__ import annotations

import datetime as dt
import re

import time_machine
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from coordination.models import AgencyKind, Child
from secrecy.disclosure.lapse import sweep_lapsed
from secrecy.models import Consent, Disclosure, Record, RecordKey
from secrecy.records.forms import DisclosureRevokeForm
from tests.conftest import ClientFor, Council3, audit_tags, log_in

# Born 2008-05-10: 18 on 2026-05-10, 21 on 2029-05-10.
CHILD_FORM = {
    "given_names": "Vilgot",
    "family_name": "Provsson",
    "personnummer": "20080510-1235",
    "guardian1_name": "Gun Provsson",
    "guardian1_phone": "",
    "guardian1_email": "",
    "guardian2_name": "",
    "guardian2_phone": "",
    "guardian2_email": "",
    "address": "",
}
# Every decision carries the discloser's written assessment of the case.
WRITTEN = {"assessment": "Polisen behöver veta om oron inför helgen; uppgiften rör just det."}
# What every consent form in this module shares (one guardian, the risk category).
CONSENT = {
    "custody": "one",
    "guardian_1": "Gun Provsson",
    "categories": ["risk_protective"],
    "purpose": "SSPF-samverkan",
}
# A decision on the child's consent (its one statement confirmed).
SOL_POLICE = {
    "basis": "sol-police-u21",
    **{f"confirm-sol-police-u21-{i}": "y" for i in range(4)},
    **WRITTEN,
}


def on_consent_form(
    recipient_id: int, assessment: str = WRITTEN["assessment"]
) -> dict[str, object]:
    """The record disclosure form filled in to give the record to ``recipient_id`` on the
    child's consent, with its written ``assessment``."""
    return {
        "recipient": recipient_id,
        "basis": "consent",
        "confirm-consent-0": "y",
        "assessment": assessment,
    }


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number]
    total = 0
    for i, d in enumerate(digits):
        v = d * 2 if i % 2 == 0 else d
        total += v - 9 if v > 9 else v
    return total % 10 == 0


def enrol_with_record(client: FlaskClient, council_id: int, db: Session, text: str) -> Record:
    assert luhn_ok(CHILD_FORM["personnummer"].replace("-", "")[2:])
    assert client.post(f"/councils/{council_id}/children/new", data=CHILD_FORM).status_code == 302
    child = db.scalars(select(Child)).one()
    assert (
        client.post(
            f"/children/{child.id}/records", data={"category": "risk_protective", "text": text}
        ).status_code
        == 302
    )
    return db.scalars(select(Record).where(Record.category == "risk_protective")).one()


@time_machine.travel(dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC), tick=False)
def test_sol_to_police_under_21_until_the_21st_birthday(
    app: Flask, world: Council3, client_for: ClientFor, db: Session
) -> None:
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    police = client_for(AgencyKind.POLICE)
    record = enrol_with_record(social, world.council.id, db, "Oromarkör-18a")
    assert "Oromarkör-18a" not in police.get(f"/children/{record.child_id}").text

    options = social.get(f"/records/{record.id}/disclose")
    assert options.status_code == 200
    assert "10 kap. 18 a § OSL" in options.text
    assert "Regeln får aldrig användas för uppgifter från socialtjänst." in options.text

    police_agency = world.agencies[AgencyKind.POLICE]
    missing_confirmation = social.post(
        f"/records/{record.id}/disclose",
        data={"recipient": police_agency.id, "basis": "sol-police-u21"},
    )
    assert missing_confirmation.status_code == 422
    assert "Bekräfta varje förutsättning" in missing_confirmation.text
    assert db.scalars(select(Disclosure)).all() == []

    done = social.post(
        f"/records/{record.id}/disclose", data={"recipient": police_agency.id, **SOL_POLICE}
    )
    assert done.status_code == 302
    disclosure = db.scalars(select(Disclosure)).one()
    assert disclosure.basis_id == "sol-police-u21" and len(disclosure.confirmations) == 4
    assert db.get(RecordKey, (record.id, police_agency.id)) is not None
    assert "secrecy:disclosure:decide" in audit_tags(db)

    page = police.get(f"/children/{record.child_id}").text
    assert "Oromarkör-18a" in page
    assert "Utlämnad av Test social_services med stöd av 10 kap. 18 a § OSL, 2026-03-04." in page
    assert "Vilgot" not in page  # identity was not disclosed
    # The school holds nothing and sees nothing.
    assert (
        "Oromarkör-18a"
        not in client_for(AgencyKind.SCHOOL).get(f"/children/{record.child_id}").text
    )

    # The day before the 21st birthday the police still see it; on the day they do not.
    officer = world.members[AgencyKind.POLICE]
    with time_machine.travel(dt.datetime(2029, 5, 9, 12, 0, tzinfo=dt.UTC), tick=False):
        police = log_in(app.test_client(), officer)  # a new day, a new login
        assert "Oromarkör-18a" in police.get(f"/children/{record.child_id}").text
    with time_machine.travel(dt.datetime(2029, 5, 10, 12, 0, tzinfo=dt.UTC), tick=False):
        police = log_in(app.test_client(), officer)
        withheld = police.get(f"/children/{record.child_id}").text
        assert "Oromarkör-18a" not in withheld
        assert "Den unge har fyllt 21 år." in withheld
        statements: list[str] = []

        def seen(*args: object) -> None:
            statements.append(str(args[2]))

        db.expire_all()
        event.listen(db.get_bind(), "before_cursor_execute", seen)
        try:
            report = sweep_lapsed(db)
        finally:
            event.remove(db.get_bind(), "before_cursor_execute", seen)
        assert report.lapsed == 1
        # The verdict needs the records' facts, never their sealed content.
        assert statements and not any("ciphertext" in s for s in statements)
        db.expire_all()
        assert db.get(RecordKey, (record.id, police_agency.id)) is None
        assert db.get(Disclosure, disclosure.id).lapse_reason == "age_limit"  # type: ignore[union-attr]
        assert sweep_lapsed(db).lapsed == 0  # idempotent


@time_machine.travel(dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC), tick=False)
def test_consent_based_disclosure_to_school_ends_when_the_consent_is_revoked(
    world: Council3, client_for: ClientFor, db: Session
) -> None:
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    school = client_for(AgencyKind.SCHOOL)
    record = enrol_with_record(social, world.council.id, db, "Skolmarkör-samtycke")
    school_agency = world.agencies[AgencyKind.SCHOOL]
    # 17 years old: guardian(s) and the young person must sign.
    consent_form = {
        **CONSENT,
        "young_person": "",
        "agency_ids": [school_agency.id],
        "valid_from": "2026-03-01",
        "valid_to": "2026-12-31",
        "form_location": "Pärm 3",
    }
    incomplete = social.post(
        f"/children/{record.child_id}/consents", data=consent_form, follow_redirects=True
    )
    assert "ofullständigt" in incomplete.text
    options = social.get(f"/records/{record.id}/disclose").text
    assert "Samtycket saknar underskrift av den unge själv." in options
    social.post(
        f"/children/{record.child_id}/consents",
        data={**consent_form, "young_person": "Vilgot Provsson"},
    )
    consents = db.scalars(select(Consent).order_by(Consent.id)).all()
    assert len(consents) == 2
    done = social.post(
        f"/records/{record.id}/disclose",
        data=on_consent_form(school_agency.id),
    )
    assert done.status_code == 302
    disclosure = db.scalars(select(Disclosure)).one()
    assert disclosure.consent_id == consents[1].id
    assert "Skolmarkör-samtycke" in school.get(f"/children/{record.child_id}").text
    # The consent's names are sealed: the school sees the metadata, not who signed.
    school_consents = school.get(f"/children/{record.child_id}/consents").text
    assert "Gun Provsson" not in school_consents and "Pärm 3" not in school_consents

    revoked = school.post(
        f"/consents/{consents[1].id}/revoke", data={"reason": "withdrawn_by_young_person"}
    )
    assert revoked.status_code == 302
    page = school.get(f"/children/{record.child_id}").text
    assert "Skolmarkör-samtycke" not in page
    assert db.get(RecordKey, (record.id, school_agency.id)) is None
    recorded = audit_tags(db)
    assert "secrecy:consent:revoke" in recorded and "secrecy:disclosure:lapse" in recorded


def test_only_the_owner_agency_can_decide_and_weak_recipients_need_consent(
    world: Council3, social: FlaskClient, police: FlaskClient, db: Session
) -> None:
    record = enrol_with_record(social, world.council.id, db, "Ägarmarkör")
    assert police.get(f"/records/{record.id}/disclose").status_code == 403
    assert (
        police.post(
            f"/records/{record.id}/disclose",
            data={"recipient": world.agencies[AgencyKind.POLICE].id, **SOL_POLICE},
        ).status_code
        == 403
    )
    leisure = world.agencies[AgencyKind.LEISURE]
    refused = social.post(
        f"/records/{record.id}/disclose",
        data={"recipient": leisure.id, "basis": "own-task", "confirm-own-task-0": "y", **WRITTEN},
    )
    assert refused.status_code == 422
    assert "sekretesskydd är svagt" in refused.text
    assert db.scalars(select(Disclosure)).all() == []


# The markup form_tag gives a disclosure's revoke button on the child page (secrecy/_record.html).
REVOKE_BUTTON = (
    '{% from "_forms.html" import form_tag %}'
    '{% call form_tag(form, action, class_="inline") %}\n'
    '            <input type="hidden" name="reason" value="no_longer_needed">\n'
    '            <button type="submit" class="button-link">{{ _("Återkalla") }}'
    '<span class="visually-hidden"> {{ agency }}</span></button>\n'
    "          {% endcall %}"
)
CSRF_VALUE = re.compile(r'(csrf_token" type="hidden" value=")[^"]+')


def folded(html: str) -> str:
    return " ".join(html.split())


@time_machine.travel(dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC), tick=False)
def test_the_revoke_button_is_the_markup_of_form_tag(
    app: Flask, world: Council3, client_for: ClientFor, db: Session
) -> None:
    """The child page writes each disclosure's revoke button out itself (no WTForms rendering
    per disclosure): the same markup as form_tag gives the page's revoke form."""
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    record = enrol_with_record(social, world.council.id, db, "Knappmarkör")
    police = world.agencies[AgencyKind.POLICE]
    social.post(f"/records/{record.id}/disclose", data={"recipient": police.id, **SOL_POLICE})
    disclosure = db.scalars(select(Disclosure)).one()
    app.config["WTF_CSRF_ENABLED"] = True  # the page as served: its forms carry the token
    page = social.get(f"/children/{record.child_id}").text
    with app.test_request_context():
        expected = render_template_string(
            REVOKE_BUTTON,
            form=DisclosureRevokeForm(),
            action=f"/disclosures/{disclosure.id}/revoke",
            agency=police.name,
        )
    assert 'name="csrf_token"' in expected
    # The same markup but for the token's value and white space (which does not render).
    assert folded(CSRF_VALUE.sub(r"\1", expected)) in folded(CSRF_VALUE.sub(r"\1", page))


def test_revoking_a_disclosure_deletes_the_key_and_keeps_the_history(
    world: Council3, social: FlaskClient, police: FlaskClient, db: Session
) -> None:
    record = enrol_with_record(social, world.council.id, db, "Återkallamarkör")
    police_agency = world.agencies[AgencyKind.POLICE]
    social.post(
        f"/records/{record.id}/disclose", data={"recipient": police_agency.id, **SOL_POLICE}
    )
    assert "Återkallamarkör" in police.get(f"/children/{record.child_id}").text
    disclosure = db.scalars(select(Disclosure)).one()
    assert police.post(f"/disclosures/{disclosure.id}/revoke").status_code == 403
    assert (
        social.post(
            f"/disclosures/{disclosure.id}/revoke",
            data={"reason": "no_longer_needed", "confirm": "yes"},
        ).status_code
        == 302
    )
    assert "Återkallamarkör" not in police.get(f"/children/{record.child_id}").text
    db.expire_all()
    assert db.get(RecordKey, (record.id, police_agency.id)) is None
    kept = db.get(Disclosure, disclosure.id)
    assert kept is not None and kept.revoked_at is not None
    # Disclosed again later: a new decision, the old one stays in the history.
    social.post(
        f"/records/{record.id}/disclose", data={"recipient": police_agency.id, **SOL_POLICE}
    )
    assert len(db.scalars(select(Disclosure)).all()) == 2
    assert "Återkallamarkör" in police.get(f"/children/{record.child_id}").text


def test_bulk_disclosure_is_all_or_nothing(
    world: Council3, social: FlaskClient, db: Session
) -> None:
    record = enrol_with_record(social, world.council.id, db, "Bulkmarkör-1")
    social.post(
        f"/children/{record.child_id}/records", data={"category": "health", "text": "Bulkmarkör-2"}
    )
    records = db.scalars(select(Record).where(Record.category != "identity")).all()
    police_agency = world.agencies[AgencyKind.POLICE]
    page = social.get(f"/children/{record.child_id}/disclose?recipient={police_agency.id}")
    assert "Bulkmarkör-1" in page.text and "10 kap. 18 a § OSL" in page.text
    done = social.post(
        f"/children/{record.child_id}/disclose",
        data={"recipient": police_agency.id, "records": [r.id for r in records], **SOL_POLICE},
    )
    assert done.status_code == 302
    assert len(db.scalars(select(Disclosure)).all()) == 2
    # Under the general clause nothing may go (owner is social services): nothing changes.
    school_agency = world.agencies[AgencyKind.SCHOOL]
    refused = social.post(
        f"/children/{record.child_id}/disclose",
        data={
            "recipient": school_agency.id,
            "records": [r.id for r in records],
            "basis": "general-clause",
            "confirm-general-clause-0": "y",
            **WRITTEN,
        },
    )
    assert refused.status_code == 422
    assert len(db.scalars(select(Disclosure)).all()) == 2


def test_admin_sees_the_legal_bases_page(admin_client: FlaskClient) -> None:
    page = admin_client.get("/admin/legal-bases")
    assert page.status_code == 200
    for text in ("10 kap. 18 a § OSL", "Att bekräfta", "Avstängd", "10 kap. 15 a § OSL"):
        assert text in page.text


def test_an_independent_school_outside_osl_receives_on_consent_only(
    world: Council3, social: FlaskClient, db: Session
) -> None:
    record = enrol_with_record(social, world.council.id, db, "Friskolemarkör")
    school = world.agencies[AgencyKind.SCHOOL]
    own_task = {"recipient": school.id, "basis": "own-task", "confirm-own-task-0": "y", **WRITTEN}
    page = social.get(f"/records/{record.id}/disclose").text
    assert "sekretesskydd är svagt" not in page.split(school.name, 1)[1].split("</section>")[0]
    school.osl_applies = False  # an independent school (friskola)
    db.flush()
    page = social.get(f"/records/{record.id}/disclose").text
    assert "sekretesskydd är svagt" in page.split(school.name, 1)[1].split("</section>")[0]
    refused = social.post(f"/records/{record.id}/disclose", data=own_task)
    assert refused.status_code == 422
    assert db.scalars(select(Disclosure)).all() == []


@time_machine.travel(dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC), tick=False)
def test_a_consent_by_agency_kind_and_expiring_consents_on_the_council_page(
    world: Council3, client_for: ClientFor, db: Session
) -> None:
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    record = enrol_with_record(social, world.council.id, db, "Typmarkör")
    response = social.post(
        f"/children/{record.child_id}/consents",
        data={
            **CONSENT,
            "young_person": "Vilgot Provsson",
            "agency_kinds": ["school"],
            "valid_from": "2026-03-01",
            "valid_to": "2026-03-20",
        },
    )
    assert response.status_code == 302
    consent = db.scalars(select(Consent)).one()
    assert consent.agency_kinds == ["school"] and consent.agency_ids == []
    school = world.agencies[AgencyKind.SCHOOL]
    done = social.post(
        f"/records/{record.id}/disclose",
        data=on_consent_form(school.id),
    )
    assert done.status_code == 302
    council_page = client_for(AgencyKind.POLICE).get(f"/councils/{world.council.id}").text
    assert "Samtycken som går ut inom 30 dagar" in council_page
    assert "gäller till 2026-03-20" in council_page
    assert "Vilgot" not in council_page and "Gun" not in council_page
    # The day after it ends, the school no longer sees what rested on it.
    with time_machine.travel(dt.datetime(2026, 3, 21, 10, 0, tzinfo=dt.UTC), tick=False):
        page = client_for(AgencyKind.SCHOOL).get(f"/children/{record.child_id}").text
        assert "Typmarkör" not in page
        assert "Samtycket gällde till 2026-03-20." in page


def test_out_of_range_numbers_and_dates_are_refused_and_change_nothing(
    world: Council3, social: FlaskClient, db: Session
) -> None:
    """Issue 14: a page number, a recipient or a consent date beyond what the database and the
    calendar hold is refused with a Swedish message, never a 500, and nothing is stored."""
    record = enrol_with_record(social, world.council.id, db, "Gränsmarkör")
    assert (
        social.get(f"/councils/{world.council.id}/children?page=99999999999999999999").status_code
        == 400
    )
    huge = "9" * 30
    assert social.get(f"/children/{record.child_id}/disclose?recipient={huge}").status_code == 400
    refused = social.post(
        f"/records/{record.id}/disclose", data={"recipient": huge, "basis": "consent"}
    )
    assert refused.status_code == 400
    for valid_from, valid_to in (("0001-01-01", ""), ("2026-03-01", "9999-12-31")):
        page = social.post(
            f"/children/{record.child_id}/consents",
            data={
                **CONSENT,
                "agency_ids": [world.agencies[AgencyKind.SCHOOL].id],
                "valid_from": valid_from,
                "valid_to": valid_to,
            },
        )
        assert page.status_code == 422
        assert "Ange ett datum mellan 1900 och 2199." in page.text
    assert db.scalars(select(Consent)).all() == []
    assert db.scalars(select(Disclosure)).all() == []
