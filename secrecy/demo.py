"""Demo children for Exempelstad: fictitious names and valid-looking, fictitious numbers.

Each council gets a few enrolled children with records from several agencies, so the pages show
revealed and withheld information side by side.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.db import today_local
from coordination.models import Council, User
from secrecy.disclosure import ConsentData, decide_disclosure, register_consent
from secrecy.models import Record
from secrecy.policy import Signer
from secrecy.services import EnrolmentData, Guardian, create_record, enrol_child

# council code -> children: (given, family, personnummer, guardian, address, records)
# records: (author e-mail, category, text)
CHILDREN = {
    "CENTRUM": [
        (
            "Elias",
            "Demosson",
            "20100101-0014",
            "Maria Demosson",
            "Exempelgatan 1, Exempelstad",
            [
                (
                    "socialsekreterare@exempelstad.se",
                    "social_measures",
                    "Pågående utredning om stöd i hemmet. Kontaktperson beviljad från mars.",
                ),
                (
                    "polis@exempelstad.se",
                    "crime_police",
                    "Har setts tillsammans med äldre personer i nätverk som polisen följer.",
                ),
            ],
        ),
        (
            "Noah",
            "Testberg",
            "20090315-2346",
            "Lena Testberg",
            "Provvägen 12, Exempelstad",
            [
                (
                    "socialsekreterare@exempelstad.se",
                    "risk_protective",
                    "Skyddsfaktor: aktiv i fotbollsförening. Risk: hög skolfrånvaro under våren.",
                ),
            ],
        ),
    ],
    "NORR": [
        (
            "Alva",
            "Exempeldotter",
            "20110808-1231",
            "Karin Exempeldotter",
            "Norrvägen 3",
            [
                (
                    "skola@exempelstad.se",
                    "school",
                    "Frånvaro 30 % senaste månaden; elevhälsan kopplas in.",
                ),
                (
                    "fritid@exempelstad.se",
                    "leisure",
                    "Deltar i fritidsgårdens kvällsverksamhet två gånger i veckan.",
                ),
            ],
        ),
    ],
}


def _user(session: Session, email: str) -> User:
    return session.scalars(select(User).where(User.email == email)).one()


def load_secrecy_demo(session: Session) -> None:
    enroller = _user(session, "socialsekreterare@exempelstad.se")
    written: dict[tuple[str, str], Record] = {}
    for code, children in CHILDREN.items():
        council = session.scalars(select(Council).where(Council.code == code)).one()
        for given, family, number, guardian, address, records in children:
            child = enrol_child(
                session,
                enroller,
                council,
                EnrolmentData(given, family, number, [Guardian(guardian)], address),
            )
            for email, category, text in records:
                record = create_record(session, _user(session, email), child, category, text)
                written[(given, category)] = record
    _disclose(session, written)


def _disclose(session: Session, written: dict[tuple[str, str], Record]) -> None:
    """Disclosures under several bases, and a consent, so every kind of answer is on screen."""
    social = _user(session, "socialsekreterare@exempelstad.se")
    police = _user(session, "polis@exempelstad.se")
    school = _user(session, "skola@exempelstad.se")
    # Bob: social services to the police under 10 kap. 18 a § OSL, and a police concern report.
    decide_disclosure(
        session,
        social,
        written[("Elias", "social_measures")],
        police.agency,
        "sol-police-u21",
        [0, 1, 2],
    )
    decide_disclosure(
        session, police, written[("Elias", "crime_police")], social.agency, "concern-report", [0]
    )
    # SSPF: Alva (15) and her guardian consent to school and social services sharing; the
    # consent ends within the month, so it shows among the expiring ones.
    alva = written[("Alva", "school")]
    register_consent(
        session,
        school,
        alva.child,
        ConsentData(
            signers={
                Signer.GUARDIAN_1: "Karin Exempeldotter",
                Signer.YOUNG_PERSON: "Alva Exempeldotter",
            },
            two_guardians=False,
            agency_ids=[a.id for a in alva.child.council.agencies],
            categories=["school", "leisure", "social_measures", "risk_protective"],
            valid_to=today_local() + dt.timedelta(days=20),
            purpose="Samverkan i SSPF Norr kring stöd i skolan och på fritiden.",
            form_location="Elevhälsans akt, Norrskolan",
        ),
    )
    decide_disclosure(session, school, alva, social.agency, "consent", [0])
