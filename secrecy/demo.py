"""Demo children for Exempelstad: fictitious names and valid-looking, fictitious numbers.

Each council gets a few enrolled children with records from several agencies, so the pages show
revealed and withheld information side by side.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.models import Council, User
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
                create_record(session, _user(session, email), child, category, text)
