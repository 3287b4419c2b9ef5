"""The demo shows the secrecy model at work: a dozen children, consents valid, expiring and
withdrawn, disclosures under several bases, revealed and withheld side by side."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.db import today_local
from coordination.models import Council, User
from demo.secrecy import CHILDREN, demo_children, demo_personnummer
from secrecy.disclosure.consents import expiring_consents
from secrecy.models import AgeException, Consent, Disclosure
from secrecy.policy.engine import age_on
from secrecy.records.identity import parse_identity_number
from secrecy.records.reveal import child_birth_date
from tests.conftest import log_in


def test_demo_numbers_are_valid_and_the_ages_follow_today() -> None:
    today = today_local()
    numbers = set()
    for spec in CHILDREN:
        birth = spec.birth_date(today)
        number = parse_identity_number(demo_personnummer(birth, spec.serial))
        assert number.birth_date == birth
        numbers.add(number.normalised)
    assert len(numbers) == len(CHILDREN) == 12
    # Eleven years on, the same children are as old as they are today.
    later = today + dt.timedelta(days=11 * 365)
    assert [age_on(c.birth_date(today), today) for c in CHILDREN] == [
        age_on(c.birth_date(later), later) for c in CHILDREN
    ]


def test_demo_children_consents_and_disclosures(app: Flask, db: Session) -> None:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    today = today_local()
    children = demo_children(db)
    assert len(children) == 12
    assert Counter(c.council.code for c in children.values()) == {
        "CENTRUM": 4,
        "NORR": 4,
        "SIG": 4,
    }
    assert Counter(c.status.value for c in children.values()) == {"active": 11, "closed": 1}
    births = {key: child_birth_date(db, c.id, c.birth_date_sealed) for key, c in children.items()}
    ages = {key: age_on(birth, today) for key, birth in births.items() if birth is not None}
    assert len(ages) == 12 and all(12 <= age <= 20 for age in ages.values())
    half_a_year_ago = today - dt.timedelta(days=183)
    assert any(
        age_on(birth, half_a_year_ago) == 17 and ages[key] == 18
        for key, birth in births.items()
        if birth is not None
    ), "one child turned 18 during the six months the demo shows"

    consents = db.scalars(select(Consent)).all()
    revoked = [c for c in consents if c.revoked_on is not None]
    assert len(consents) == 6 and len(revoked) == 1
    ended = db.scalars(select(Disclosure).where(Disclosure.consent_id == revoked[0].id)).all()
    assert ended and all(d.lapse_reason == "consent_revoked" for d in ended)
    norr = db.scalars(select(Council).where(Council.code == "NORR")).one()
    assert len(expiring_consents(db, norr)) == 1
    in_force = [c for c in consents if c.revoked_on is None and (c.valid_to or today) > today]
    assert len(in_force) >= 4

    bases = Counter(d.basis_id for d in db.scalars(select(Disclosure)))
    assert {
        "sol-police-u21",
        "concern-report",
        "consent",
        "general-clause",
        "duty-to-police",
        "care-chain",
    } <= set(bases)

    users = {u.email: u for u in db.scalars(select(User))}
    police = log_in(app.test_client(), users["polis@exempelstad.se"])
    page = police.get(f"/children/{children['elias'].id}").text
    assert "Kontaktperson har erbjudits." in page  # disclosed under 10 kap. 18 a §
    assert "10 kap. 18 a § OSL" in page
    assert "Demosson" not in page  # the identity was not disclosed
    leisure = log_in(app.test_client(), users["fritid@exempelstad.se"])
    saga = leisure.get(f"/children/{children['saga'].id}").text
    assert "Saga och mamman har samtal med familjebehandlare" not in saga
    assert f"Samtycket återkallades {today.isoformat()}." in saga

    # One exception from SSPF Norr's age range (13–17): Malte, 12, its texts sealed for social
    # services: the school sees the row, not the texts.
    exceptions = db.scalars(select(AgeException)).all()
    assert [e.child_id for e in exceptions] == [children["malte"].id]
    assert (exceptions[0].range_min, exceptions[0].range_max) == (13, 17)
    school = log_in(app.test_client(), users["skola@exempelstad.se"])
    listed = school.get(f"/councils/{norr.id}/age-exceptions").text
    assert children["malte"].pseudonym in listed and "Äldre bror" not in listed
    secretary = log_in(app.test_client(), users["socialsekreterare@exempelstad.se"])
    assert "Äldre bror" in secretary.get(f"/councils/{norr.id}/age-exceptions").text
