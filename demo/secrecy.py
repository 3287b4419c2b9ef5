"""Demo children for Exempelstad: a dozen fictitious young people over the three councils, their
first records, their consents, and disclosures under the bases the policy engine accepts.

Names and addresses are obviously made up. Birth dates are computed from the day the demo is
loaded, so the children are always 12–20 years old (one turned 18 during the six months of
meetings the demo shows, one turns 18 in three weeks); the personal identity numbers built from
them have serial numbers 981–995 and a valid check digit, and are made up too.

Disclosures are never forced: ``disclose_as_engine_allows`` asks the policy engine which bases
apply to a record and a recipient and takes the first one of a preference list, as an owner
agency's user would in the disclosure form; where none applies, nothing is disclosed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.db import today_local
from coordination.models import Agency, AgencyKind, Child, Council, User
from demo import history
from demo.coordination import (
    COORDINATOR,
    HEALTH,
    LEISURE,
    LSS,
    POLICE,
    SCHOOL,
    SECRETARY,
    demo_users,
)
from secrecy.agerules.services import ExceptionData, set_age_range
from secrecy.disclosure.consents import ConsentData, register_consent
from secrecy.disclosure.services import decide_disclosure, disclosure_options
from secrecy.models import Disclosure, Record
from secrecy.policy.engine import Assessment, Signer
from secrecy.records.children import EnrolmentData, Guardian, enrol_child
from secrecy.records.services import create_record

SOCIAL = AgencyKind.SOCIAL_SERVICES
POLICE_KIND = AgencyKind.POLICE
SCHOOL_KIND = AgencyKind.SCHOOL
LEISURE_KIND = AgencyKind.LEISURE
LSS_KIND = AgencyKind.DISABILITY_SUPPORT
HEALTH_KIND = AgencyKind.HEALTHCARE

# Which bases an agency's user reaches for first, by (owner kind, recipient kind). Consent comes
# first where the councils work on consent (SSPF, SIG); the Bob council has none, so there the
# engine's answer falls through to 10 kap. 18 a § OSL, the concern report or the general clause.
BASIS_PREFERENCES: dict[tuple[AgencyKind, AgencyKind], tuple[str, ...]] = {
    (SOCIAL, POLICE_KIND): ("consent", "sol-police-u21"),
    (SOCIAL, HEALTH_KIND): ("consent", "care-chain"),
    (POLICE_KIND, SOCIAL): ("consent", "concern-report", "general-clause"),
    (SCHOOL_KIND, SOCIAL): ("consent", "concern-report"),
    (LEISURE_KIND, SOCIAL): ("consent", "concern-report"),
    (LSS_KIND, SOCIAL): ("consent", "concern-report"),
    (LSS_KIND, POLICE_KIND): ("consent", "sol-police-u21"),
    (HEALTH_KIND, SOCIAL): ("care-chain", "consent", "concern-report"),
}
CONSENT_ONLY = ("consent",)
# SSPF Norr's target age range (SSPF has no default; the coordinator sets it) and when the
# demo's exception (Malte, 12) is to be reviewed.
NORR_AGE_RANGE = (13, 17)
EXCEPTION_REVIEW_DAYS = 120


def preferred_bases(owner: AgencyKind, recipient: AgencyKind) -> tuple[str, ...]:
    return BASIS_PREFERENCES.get((owner, recipient), CONSENT_ONLY)


def pick_basis(assessments: Iterable[Assessment], preferred: Sequence[str]) -> Assessment | None:
    """The first preferred basis that the engine found applicable, if any."""
    applicable = {a.basis.id: a for a in assessments if a.applicable}
    return next((applicable[basis] for basis in preferred if basis in applicable), None)


def all_confirmed(assessment: Assessment) -> list[int]:
    """The discloser confirms every statement of the basis, as the form requires."""
    return list(range(len(assessment.basis.confirmations)))


def disclose_as_engine_allows(
    session: Session,
    actor: User,
    record: Record,
    recipient: Agency,
    preferred: Sequence[str] | None = None,
) -> Disclosure | None:
    """Disclose under the first preferred basis the engine accepts now; None if none does."""
    bases = preferred or preferred_bases(actor.agency.kind, recipient.kind)
    chosen = pick_basis(disclosure_options(session, actor, record, recipient), bases)
    if chosen is None:
        return None
    return decide_disclosure(
        session,
        actor,
        record,
        recipient,
        chosen.basis.id,
        all_confirmed(chosen),
        assessment=demo_assessment(chosen.basis.id, recipient),
    )


# The demo's written assessments: what a discloser writes, one per basis (invented).
DEMO_ASSESSMENTS = {
    "general-clause": "Risken för nya brott mot den unge inom kort väger uppenbart tyngre än "
    "intresset av sekretess för just den här uppgiften.",
    "own-task": "Vi behöver lämna uppgiften för att kunna genomföra vår egen planerade insats "
    "för den unge.",
}


def meeting_assessment(basis_ids: Sequence[str]) -> str:
    """What a writer at the meeting writes once for the agencies chosen (invented)."""
    for basis_id in ("general-clause", "own-task"):
        if basis_id in basis_ids:
            return DEMO_ASSESSMENTS[basis_id]
    return (
        "Uppgiften behövs av de närvarande myndigheterna för den planering rådet gör för den "
        "unge vid det här mötet."
    )


def demo_assessment(basis_id: str, recipient: Agency) -> str:
    return DEMO_ASSESSMENTS.get(
        basis_id,
        f"{recipient.name} behöver uppgiften inför nästa möte om den unge; den rör det "
        "rådet ska följa upp nu.",
    )


@dataclass(frozen=True)
class DemoRecord:
    author: str  # e-mail
    category: str
    text: str
    # Recipient agency kinds the author asks the engine about; the engine decides.
    share_with: tuple[AgencyKind, ...] = ()


@dataclass(frozen=True)
class DemoConsent:
    registered_by: str  # e-mail
    signers: Mapping[Signer, str]
    valid_from_days_ago: int
    valid_for_days: int
    purpose: str
    form_location: str
    two_guardians: bool = False


@dataclass(frozen=True)
class DemoChild:
    key: str
    council: str  # council code
    given: str
    family: str
    # Age today: ``years`` completed years plus ``days`` (negative: the birthday that completes
    # ``years`` is that many days ahead).
    years: int
    days: int
    serial: int  # the three-digit birth number (odd for boys, even for girls)
    guardians: tuple[str, ...]
    address: str
    records: tuple[DemoRecord, ...] = ()
    consent: DemoConsent | None = None
    # An exception (avsteg) from the council's target age range, recorded at enrolment.
    exception: ExceptionData | None = None

    def birth_date(self, today: dt.date) -> dt.date:
        return today - relativedelta(years=self.years) - dt.timedelta(days=self.days)


SSPF_CONSENT_CATEGORIES = [
    "school",
    "leisure",
    "social_measures",
    "risk_protective",
    "meeting_note",
    "agreed_action",
    "individual_plan",
]
SIG_CONSENT_CATEGORIES = [
    "family",
    "social_measures",
    "risk_protective",
    "school",
    "leisure",
    "health",
    "meeting_note",
    "agreed_action",
    "individual_plan",
]
SSPF_PURPOSE = "Samverkan i SSPF Norr kring stöd i skolan och på fritiden."
SIG_PURPOSE = "Samverkan i SIG Exempelstad kring den unges individuella plan."

# In enrolment order per council: the order gives the pseudonyms (CENTRUM-<year>-001, ...) and
# is how the other demo loaders find a child again without opening any identity.
CHILDREN: tuple[DemoChild, ...] = (
    # --- Bob-råd Centrum: social services and police, no consents -----------------------------
    DemoChild(
        "elias",
        "CENTRUM",
        "Elias",
        "Demosson",
        15,
        130,
        981,
        ("Maria Demosson",),
        "Exempelgatan 1, Exempelstad",
        (
            DemoRecord(
                SECRETARY,
                "social_measures",
                "Pågående utredning om stöd i hemmet efter orosanmälan från skolan. "
                "Kontaktperson har erbjudits.",
                (POLICE_KIND,),
            ),
            DemoRecord(
                POLICE,
                "crime_police",
                "Har setts tillsammans med äldre personer i ett nätverk som polisen följer, "
                "främst vid Stationsområdet.",
                (SOCIAL,),
            ),
        ),
    ),
    DemoChild(
        "noah",
        "CENTRUM",
        "Noah",
        "Testberg",
        18,
        75,  # turned 18 between the third and the fifth of the six meetings shown
        983,
        (),
        "Provvägen 12, Exempelstad",
        (
            DemoRecord(
                SECRETARY,
                "risk_protective",
                "Skyddsfaktor: tränar fotboll i Exempelstads IK. Risk: hög frånvaro från "
                "gymnasiet och nytt umgänge i Ekparken.",
                (POLICE_KIND,),
            ),
            DemoRecord(
                POLICE,
                "crime_police",
                "Misstänkt för ringa narkotikabrott vid en kontroll i Ekparken.",
                (SOCIAL,),
            ),
        ),
    ),
    DemoChild(
        "liam",
        "CENTRUM",
        "Liam",
        "Låtsasson",
        14,
        220,
        985,
        ("Anna Låtsasson", "Johan Låtsasson"),
        "Låtsasgränd 4, Exempelstad",
        (
            DemoRecord(
                SECRETARY,
                "family",
                "Bor med mamma och två yngre syskon. Pappan har umgänge varannan helg.",
            ),
        ),
    ),
    DemoChild(
        "wilma",
        "CENTRUM",
        "Wilma",
        "Provsdotter",
        16,
        35,
        982,
        ("Sofia Provsdotter",),
        "Provstigen 8, Exempelstad",
        (
            DemoRecord(
                POLICE,
                "threat_protection",
                "Wilma har fått hotfulla meddelanden via sociala medier. Anmälan om olaga hot "
                "är upprättad.",
                (SOCIAL,),
            ),
        ),
    ),
    # --- SSPF Norr: school, social services, police and leisure, on consent --------------------
    DemoChild(
        "alva",
        "NORR",
        "Alva",
        "Exempeldotter",
        15,
        190,
        984,
        ("Karin Exempeldotter",),
        "Norrvägen 3, Exempelstad",
        (
            DemoRecord(
                SCHOOL,
                "school",
                "Frånvaro 30 % senaste månaden, mest måndagar och fredagar. Elevhälsan är "
                "inkopplad.",
                (SOCIAL,),
            ),
            DemoRecord(
                LEISURE,
                "leisure",
                "Kommer till Fritidsgården Kometen två kvällar i veckan och trivs i musikstudion.",
                (SOCIAL, SCHOOL_KIND),
            ),
        ),
        # Ends within the month: shown among the expiring consents.
        DemoConsent(
            SCHOOL,
            {Signer.GUARDIAN_1: "Karin Exempeldotter", Signer.YOUNG_PERSON: "Alva Exempeldotter"},
            valid_from_days_ago=200,
            valid_for_days=220,
            purpose=SSPF_PURPOSE,
            form_location="Elevhälsans akt, Norrskolan",
        ),
    ),
    DemoChild(
        "hugo",
        "NORR",
        "Hugo",
        "Skenberg",
        13,
        95,
        987,
        ("Petra Skenberg", "Mikael Skenberg"),
        "Skenbergsvägen 21, Exempelstad",
        (
            DemoRecord(
                SCHOOL,
                "school",
                "Konflikter på rasterna; Hugo har svårt att komma tillbaka till lektionerna "
                "efter lunch.",
                (SOCIAL, LEISURE_KIND),
            ),
        ),
        DemoConsent(
            SCHOOL,
            {Signer.GUARDIAN_1: "Petra Skenberg", Signer.GUARDIAN_2: "Mikael Skenberg"},
            valid_from_days_ago=190,
            valid_for_days=555,
            purpose=SSPF_PURPOSE,
            form_location="Elevhälsans akt, Norrskolan",
            two_guardians=True,
        ),
    ),
    DemoChild(
        "saga",
        "NORR",
        "Saga",
        "Påhittsdotter",
        16,
        250,
        986,
        ("Eva Påhittsdotter",),
        "Påhittsgatan 15, Exempelstad",
        (
            DemoRecord(
                SECRETARY,
                "social_measures",
                "Saga och mamman har samtal med familjebehandlare varannan vecka.",
                (SCHOOL_KIND, LEISURE_KIND),
            ),
        ),
        # Saga withdraws it at the end of the demo's six months (see minutes/demo.py).
        DemoConsent(
            SECRETARY,
            {Signer.GUARDIAN_1: "Eva Påhittsdotter", Signer.YOUNG_PERSON: "Saga Påhittsdotter"},
            valid_from_days_ago=185,
            valid_for_days=550,
            purpose=SSPF_PURPOSE,
            form_location="Socialtjänstens akt, Norrby",
        ),
    ),
    DemoChild(
        "malte",
        "NORR",
        "Malte",
        "Prövesson",
        12,
        160,
        989,
        ("Lina Prövesson",),
        "Prövovägen 2, Exempelstad",
        (
            DemoRecord(
                SCHOOL,
                "school",
                "Klasskamrater uppger att Malte har haft med sig en kniv till skolan. Rektor "
                "har samtalat med vårdnadshavaren.",
                (SOCIAL,),
            ),
        ),
        # Younger than SSPF Norr's target group (13–17): enrolled on an exception.
        exception=ExceptionData(
            reason="Äldre bror är redan aktuell i forumet och samma skola och fritidsgård "
            "berörs; insatserna behöver samordnas nu.",
            decided_by="Enhetschef, Socialtjänsten Exempelstad",
            stigmatisation="Malte träffas inte tillsammans med de äldre ungdomarna; "
            "samverkan sker genom skolan och vårdnadshavaren.",
        ),
    ),
    # --- SIG Exempelstad: every agency kind, young people up to 21 -------------------------------
    DemoChild(
        "kevin",
        "SIG",
        "Kevin",
        "Fejksson",
        19,
        100,
        991,
        (),
        "Stödboendet Norrby, Exempelstad",
        (
            DemoRecord(
                SECRETARY,
                "social_measures",
                "Kevin har stödboende i Norrby sedan ett halvår och har själv bett om hjälp "
                "att komma ur sitt tidigare umgänge.",
                (POLICE_KIND, HEALTH_KIND),
            ),
        ),
        DemoConsent(
            SECRETARY,
            {Signer.YOUNG_PERSON: "Kevin Fejksson"},
            valid_from_days_ago=195,
            valid_for_days=560,
            purpose=SIG_PURPOSE,
            form_location="Socialtjänstens akt, SIG",
        ),
    ),
    DemoChild(
        "nils",
        "SIG",
        "Nils",
        "Testlund",
        18,
        -21,  # turns 18 in three weeks: his age-bound disclosures then lapse by themselves
        993,
        ("Peter Testlund",),
        "Testlundsvägen 9, Exempelstad",
        (
            DemoRecord(
                HEALTH,
                "health",
                "Nils har kontakt med ungdomsmottagningen för sömnsvårigheter och huvudvärk.",
                (SOCIAL,),
            ),
        ),
    ),
    DemoChild(
        "tilde",
        "SIG",
        "Tilde",
        "Låtsdotter",
        20,
        130,
        988,
        (),
        "Låtsasallén 30, Exempelstad",
        (
            DemoRecord(
                POLICE,
                "crime_police",
                "Tilde är vittne i en utredning om grov misshandel i centrum.",
                (SOCIAL,),
            ),
        ),
        DemoConsent(
            SECRETARY,
            {Signer.YOUNG_PERSON: "Tilde Låtsdotter"},
            valid_from_days_ago=180,
            valid_for_days=545,
            purpose=SIG_PURPOSE,
            form_location="Socialtjänstens akt, SIG",
        ),
    ),
    DemoChild(
        "isak",
        "SIG",
        "Isak",
        "Exempelsson",
        16,
        70,
        995,
        ("Lotta Exempelsson", "Ola Exempelsson"),
        "Exempelbacken 6, Exempelstad",
        (
            DemoRecord(
                LSS,
                "social_measures",
                "Isak har beslut om kontaktperson enligt LSS och korttidsvistelse en helg i "
                "månaden.",
                (SOCIAL, POLICE_KIND),
            ),
        ),
        DemoConsent(
            LSS,
            {
                Signer.GUARDIAN_1: "Lotta Exempelsson",
                Signer.GUARDIAN_2: "Ola Exempelsson",
                Signer.YOUNG_PERSON: "Isak Exempelsson",
            },
            valid_from_days_ago=170,
            valid_for_days=535,
            purpose=SIG_PURPOSE,
            form_location="LSS-enhetens akt",
            two_guardians=True,
        ),
    ),
)


def demo_personnummer(birth: dt.date, serial: int) -> str:
    """YYYYMMDD-NNNC with the Luhn check digit C over YYMMDDNNN."""
    digits = f"{birth:%y%m%d}{serial:03d}"
    total = 0
    for position, char in enumerate(digits):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return f"{birth:%Y%m%d}-{serial:03d}{(10 - total % 10) % 10}"


def demo_children(session: Session) -> dict[str, Child]:
    """The demo children by key, found by council and enrolment order (no identity opened)."""
    found: dict[str, Child] = {}
    for code in dict.fromkeys(c.council for c in CHILDREN):
        rows = session.scalars(
            select(Child).join(Council).where(Council.code == code).order_by(Child.id)
        ).all()
        specs = [c for c in CHILDREN if c.council == code]
        found.update((spec.key, child) for spec, child in zip(specs, rows, strict=False))
    return found


def load_secrecy_demo(session: Session) -> None:
    """Enrol the children, register their consents, write their first records and disclose
    them as the engine allows. Does nothing when the demo children are there already."""
    codes = {c.council for c in CHILDREN}
    enrolled = session.scalar(
        select(Child.id).join(Council).where(Council.code.in_(codes)).limit(1)
    )
    if enrolled is not None:
        return
    users = demo_users(session)
    today = today_local()
    councils = {c.code: c for c in session.scalars(select(Council).where(Council.code.in_(codes)))}
    # SSPF has no default age range: the coordinator sets SSPF Norr's.
    set_age_range(session, users[COORDINATOR], councils["NORR"], *NORR_AGE_RANGE)
    for spec in CHILDREN:
        council = councils[spec.council]
        number = demo_personnummer(spec.birth_date(today), spec.serial)
        exception = None
        if spec.exception is not None:
            exception = dataclasses.replace(
                spec.exception, review_on=today + dt.timedelta(days=EXCEPTION_REVIEW_DAYS)
            )
        child = enrol_child(
            session,
            users[SECRETARY],
            council,
            EnrolmentData(
                spec.given,
                spec.family,
                number,
                [Guardian(name) for name in spec.guardians],
                spec.address,
                exception=exception,
            ),
        )
        if spec.consent is not None:
            _register(session, users[spec.consent.registered_by], child, spec.consent, today)
        agencies = {a.kind: a for a in council.agencies}
        for item in spec.records:
            author = users[item.author]
            record = create_record(session, author, child, item.category, item.text)
            for kind in item.share_with:
                disclose_as_engine_allows(session, author, record, agencies[kind])
        history.date_enrolment(session, child, today)


def _register(
    session: Session, actor: User, child: Child, consent: DemoConsent, today: dt.date
) -> None:
    valid_from = today - dt.timedelta(days=consent.valid_from_days_ago)
    register_consent(
        session,
        actor,
        child,
        ConsentData(
            signers=dict(consent.signers),
            two_guardians=consent.two_guardians,
            agency_ids=[a.id for a in child.council.agencies],
            categories=SIG_CONSENT_CATEGORIES
            if child.council.code == "SIG"
            else SSPF_CONSENT_CATEGORIES,
            valid_from=valid_from,
            valid_to=valid_from + dt.timedelta(days=consent.valid_for_days),
            purpose=consent.purpose,
            form_location=consent.form_location,
        ),
    )
