"""The policy engine (secrecy/policy.py) against the shipped rules and SECRECY.md sections 2–3.

The table checks concrete cases taken from SECRECY.md with the rules as shipped
(``secrecy.policy.rules.legal_bases()``); the properties check what must hold whatever the facts;
the rest reaches the branches the shipped rules do not (constructed bases).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from coordination.models import AgencyKind
from secrecy.policy.categories import categories
from secrecy.policy.engine import (
    Assessment,
    ConsentFacts,
    DisclosureFacts,
    Reason,
    RecipientFacts,
    RecordFacts,
    Refusal,
    Signer,
    ViewerFacts,
    WithheldReason,
    age_class,
    age_on,
    age_thresholds,
    assess_bases,
    assess_basis,
    birthday,
    consent_problems,
    disclosure_in_force,
    required_signers,
    statement_problem,
    visibility,
)
from secrecy.policy.rules import RULES_DIR, Duty, LegalBasis, Review, legal_bases

BASES = legal_bases()

OWNER, RECIPIENT, ELSEWHERE = 1, 2, 3
COUNCIL, OTHER_COUNCIL = 10, 20
DAY = dt.date(2026, 3, 15)  # the default date of the decision
CHILD = dt.date(2012, 9, 10)  # 13 years old on DAY
CATEGORY = "risk_protective"

# One child for the age edges: 18 on 2026-05-20, 21 on 2029-05-20.
YOUTH = dt.date(2008, 5, 20)
BEFORE_18, AT_18 = dt.date(2026, 5, 19), dt.date(2026, 5, 20)
BEFORE_21, AT_21 = dt.date(2029, 5, 19), dt.date(2029, 5, 20)

G1, G2, YP = Signer.GUARDIAN_1, Signer.GUARDIAN_2, Signer.YOUNG_PERSON

KINDS = [k.value for k in AgencyKind]
CATEGORIES = sorted(categories())


def reason(code: Refusal, **params: str | int) -> Reason:
    return Reason(code, params)


def tally(reasons: Iterable[Reason]) -> Counter[tuple[Refusal, frozenset[tuple[str, Any]]]]:
    """Reasons as a multiset of (code, params), so the comparison is exact."""
    return Counter((r.code, frozenset(r.params.items())) for r in reasons)


def codes(reasons: Iterable[Reason]) -> set[Refusal]:
    return {r.code for r in reasons}


def consent(
    *,
    id: int = 1,
    signers: Iterable[Signer] = (G1,),
    two_guardians: bool = False,
    agency_ids: Iterable[int] = (RECIPIENT,),
    agency_kinds: Iterable[str] = (),
    categories: Iterable[str] = (CATEGORY,),
    valid_from: dt.date = dt.date(2026, 1, 1),
    valid_to: dt.date | None = None,
    revoked_on: dt.date | None = None,
    maturity_assessed: bool = False,
    maturity_allowed: bool = False,
) -> ConsentFacts:
    return ConsentFacts(
        id=id,
        signers=frozenset(signers),
        two_guardians=two_guardians,
        agency_ids=frozenset(agency_ids),
        agency_kinds=frozenset(agency_kinds),
        categories=frozenset(categories),
        valid_from=valid_from,
        valid_to=valid_to,
        revoked_on=revoked_on,
        maturity_assessed=maturity_assessed,
        maturity_allowed=maturity_allowed,
    )


def record(
    owner_kind: str, category: str = CATEGORY, *, owner: int = OWNER, shredded: bool = False
) -> RecordFacts:
    return RecordFacts(owner, owner_kind, category, COUNCIL, shredded)


def recipient(kind: str, *, agency_id: int = RECIPIENT, weak: bool = False) -> RecipientFacts:
    return RecipientFacts(agency_id, kind, weak)


# --- the table -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    basis: str
    owner: str
    to: str
    expected: tuple[Reason, ...] = ()
    confirmations: int | None = None  # applicable cases: how many statements to confirm
    category: str = CATEGORY
    birth: dt.date | None = CHILD
    on: dt.date = DAY
    consents: tuple[ConsentFacts, ...] = ()
    weak: bool = False
    recipient_id: int = RECIPIENT
    consent_ids: tuple[int, ...] = ()


def ok(case_id: str, basis: str, owner: str, to: str, confirmations: int, **kw: Any) -> Case:
    if basis == "consent":
        kw.setdefault("consents", (consent(),))
        kw.setdefault("consent_ids", tuple(c.id for c in kw["consents"]))
    return Case(f"{case_id}: applicable", basis, owner, to, confirmations=confirmations, **kw)


def no(case_id: str, basis: str, owner: str, to: str, *expected: Reason, **kw: Any) -> Case:
    if basis == "consent":
        kw.setdefault("consents", (consent(),))
    return Case(case_id, basis, owner, to, expected=expected, **kw)


SS, POL, SCH, LEI = "social_services", "police", "school", "leisure"
LSS, HC, OTH = "disability_support", "healthcare", "other"


def age_edges(basis: str, owner: str, to: str, limit: int, confirmations: int) -> list[Case]:
    """The day before and the day of the 18th and the 21st birthday (limits are exclusive)."""
    cases = []
    for label, on, age in (
        ("day before 18th birthday", BEFORE_18, 17),
        ("18th birthday", AT_18, 18),
        ("day before 21st birthday", BEFORE_21, 20),
        ("21st birthday", AT_21, 21),
    ):
        case_id = f"{basis} age {age} ({label}), limit {limit}"
        if age < limit:
            cases.append(ok(case_id, basis, owner, to, confirmations, birth=YOUTH, on=on))
        else:
            limited = reason(Refusal.AGE_LIMIT, age=limit)
            cases.append(no(f"{case_id}: AGE_LIMIT", basis, owner, to, limited, birth=YOUTH, on=on))
    return cases


CASES: list[Case] = [
    # Each rule in its typical use (SECRECY.md section 2).
    ok("consent social_services->school", "consent", SS, SCH, 1),
    ok("consent police->social_services", "consent", POL, SS, 1),
    ok("sol-police-u21 social_services->police at 16", "sol-police-u21", SS, POL, 4,
       birth=dt.date(2009, 6, 1)),
    ok("sol-police-u21 disability_support (LSS)->police", "sol-police-u21", LSS, POL, 4),
    ok("crime-against-child social_services->police", "crime-against-child", SS, POL, 1),
    ok("crime-against-child healthcare->police", "crime-against-child", HC, POL, 1),
    ok("crime-against-child disability_support (LSS)->police", "crime-against-child", LSS, POL,
       1),
    ok("serious-crime social_services->police", "serious-crime", SS, POL, 1),
    ok("serious-crime LSS->police, adult (no age limit)", "serious-crime", LSS, POL, 1,
       birth=dt.date(1990, 1, 1)),
    no("serious-crime school owner (other secrecy, 10 kap. 24 §): WRONG_OWNER_KIND",
       "serious-crime", SCH, POL, reason(Refusal.WRONG_OWNER_KIND, kind=SCH)),
    ok("crime-other-secrecy school->police, adult (no age limit)", "crime-other-secrecy", SCH,
       POL, 2, birth=dt.date(1990, 1, 1)),
    ok("crime-other-secrecy leisure->police", "crime-other-secrecy", LEI, POL, 2),
    no("crime-other-secrecy social_services owner: WRONG_OWNER_KIND", "crime-other-secrecy",
       SS, POL, reason(Refusal.WRONG_OWNER_KIND, kind=SS)),
    no("crime-other-secrecy healthcare owner: WRONG_OWNER_KIND", "crime-other-secrecy", HC,
       POL, reason(Refusal.WRONG_OWNER_KIND, kind=HC)),
    no("crime-other-secrecy school health record: CATEGORY_DENIED", "crime-other-secrecy", SCH,
       POL, reason(Refusal.CATEGORY_DENIED, category="health"), category="health"),
    no("crime-other-secrecy to school: WRONG_RECIPIENT_KIND", "crime-other-secrecy", LEI, SCH,
       reason(Refusal.WRONG_RECIPIENT_KIND, kind=SCH)),
    ok("serious-crime birth date unknown (no age limit)", "serious-crime", HC, POL, 1,
       birth=None),
    ok("care-chain social_services->healthcare", "care-chain", SS, HC, 2),
    ok("care-chain healthcare->social_services", "care-chain", HC, SS, 2),
    ok("care-chain social_services->another social services authority", "care-chain", SS, SS,
       2),
    ok("care-chain healthcare->another healthcare authority", "care-chain", HC, HC, 2),
    ok("care-chain LSS->social_services", "care-chain", LSS, SS, 2),
    ok("concern-report school->social_services", "concern-report", SCH, SS, 1),
    ok("concern-report police->social_services", "concern-report", POL, SS, 1),
    ok("concern-report leisure->social_services", "concern-report", LEI, SS, 1),
    ok("duty-to-police school->police", "duty-to-police", SCH, POL, 3),
    ok("duty-to-police leisure->police", "duty-to-police", LEI, POL, 3),
    no("duty-to-police a school's health record (school health is healthcare): "
       "CATEGORY_DENIED", "duty-to-police", SCH, POL,
       reason(Refusal.CATEGORY_DENIED, category="health"), category="health"),
    ok("own-task social_services->school", "own-task", SS, SCH, 2),
    no("principal-report shipped disabled: RULE_DISABLED", "principal-report", SCH, POL,
       reason(Refusal.RULE_DISABLED)),
    no("principal-report leisure owner: RULE_DISABLED and WRONG_OWNER_KIND",
       "principal-report", LEI, POL, reason(Refusal.RULE_DISABLED),
       reason(Refusal.WRONG_OWNER_KIND, kind=LEI)),
    no("internal-use without a recorded common authority: OTHER_AUTHORITY", "internal-use",
       SS, POL, reason(Refusal.OTHER_AUTHORITY)),
    ok("general-clause police->school", "general-clause", POL, SCH, 1),
    ok("general-clause police->social_services", "general-clause", POL, SS, 1),
    # Each rule refused for the wrong direction.
    no("sol-police-u21 school owner: WRONG_OWNER_KIND", "sol-police-u21", SCH, POL,
       reason(Refusal.WRONG_OWNER_KIND, kind=SCH)),
    no("sol-police-u21 healthcare owner: WRONG_OWNER_KIND", "sol-police-u21", HC, POL,
       reason(Refusal.WRONG_OWNER_KIND, kind=HC)),
    no("sol-police-u21 to school: WRONG_RECIPIENT_KIND", "sol-police-u21", SS, SCH,
       reason(Refusal.WRONG_RECIPIENT_KIND, kind=SCH)),
    no("crime-against-child school owner: WRONG_OWNER_KIND", "crime-against-child", SCH, POL,
       reason(Refusal.WRONG_OWNER_KIND, kind=SCH)),
    no("crime-against-child to social_services: WRONG_RECIPIENT_KIND", "crime-against-child",
       HC, SS, reason(Refusal.WRONG_RECIPIENT_KIND, kind=SS)),
    no("serious-crime police owner: WRONG_OWNER_KIND", "serious-crime", POL, POL,
       reason(Refusal.WRONG_OWNER_KIND, kind=POL)),
    no("serious-crime to school: WRONG_RECIPIENT_KIND", "serious-crime", SS, SCH,
       reason(Refusal.WRONG_RECIPIENT_KIND, kind=SCH)),
    no("care-chain school owner: WRONG_OWNER_KIND", "care-chain", SCH, HC,
       reason(Refusal.WRONG_OWNER_KIND, kind=SCH)),
    no("care-chain to police: WRONG_RECIPIENT_KIND", "care-chain", SS, POL,
       reason(Refusal.WRONG_RECIPIENT_KIND, kind=POL)),
    no("concern-report social_services owner: WRONG_OWNER_KIND", "concern-report", SS, SS,
       reason(Refusal.WRONG_OWNER_KIND, kind=SS)),
    no("concern-report to police: WRONG_RECIPIENT_KIND", "concern-report", SCH, POL,
       reason(Refusal.WRONG_RECIPIENT_KIND, kind=POL)),
    no("duty-to-police social_services owner: WRONG_OWNER_KIND", "duty-to-police", SS, POL,
       reason(Refusal.WRONG_OWNER_KIND, kind=SS)),
    no("duty-to-police healthcare owner: WRONG_OWNER_KIND", "duty-to-police", HC, POL,
       reason(Refusal.WRONG_OWNER_KIND, kind=HC)),
    no("duty-to-police to school: WRONG_RECIPIENT_KIND", "duty-to-police", SCH, SCH,
       reason(Refusal.WRONG_RECIPIENT_KIND, kind=SCH)),
    # The general clause: never social services, LSS, healthcare, or health data.
    no("general-clause social_services owner: EXCLUDED_OWNER", "general-clause", SS, SCH,
       reason(Refusal.EXCLUDED_OWNER, kind=SS)),
    no("general-clause disability_support owner: EXCLUDED_OWNER", "general-clause", LSS, SCH,
       reason(Refusal.EXCLUDED_OWNER, kind=LSS)),
    no("general-clause healthcare owner: EXCLUDED_OWNER", "general-clause", HC, POL,
       reason(Refusal.EXCLUDED_OWNER, kind=HC)),
    no("general-clause health category from police: CATEGORY_DENIED", "general-clause", POL,
       SCH, reason(Refusal.CATEGORY_DENIED, category="health"), category="health"),
    no("general-clause health from healthcare: EXCLUDED_OWNER and CATEGORY_DENIED",
       "general-clause", HC, SCH, reason(Refusal.EXCLUDED_OWNER, kind=HC),
       reason(Refusal.CATEGORY_DENIED, category="health"), category="health"),
    # Rules not in force.
    no("crime-prevention-2025 shipped disabled: RULE_DISABLED", "crime-prevention-2025", POL,
       SCH, reason(Refusal.RULE_DISABLED)),
    no("crime-prevention-2025 before 2025-12-01: RULE_DISABLED and RULE_NOT_YET_IN_FORCE",
       "crime-prevention-2025", POL, SCH, reason(Refusal.RULE_DISABLED),
       reason(Refusal.RULE_NOT_YET_IN_FORCE, date="2025-12-01"), on=dt.date(2025, 11, 30)),
    no("crime-prevention-2025 social_services owner: RULE_DISABLED and EXCLUDED_OWNER",
       "crime-prevention-2025", SS, POL, reason(Refusal.RULE_DISABLED),
       reason(Refusal.EXCLUDED_OWNER, kind=SS)),
    no("crime-prevention-2025 health from school: RULE_DISABLED and CATEGORY_DENIED",
       "crime-prevention-2025", SCH, POL, reason(Refusal.RULE_DISABLED),
       reason(Refusal.CATEGORY_DENIED, category="health"), category="health"),
    no("duty-to-police 2025-03-31: RULE_NOT_YET_IN_FORCE", "duty-to-police", SCH, POL,
       reason(Refusal.RULE_NOT_YET_IN_FORCE, date="2025-04-01"), on=dt.date(2025, 3, 31)),
    ok("duty-to-police on 2025-04-01 (first day in force)", "duty-to-police", SCH, POL, 3,
       on=dt.date(2025, 4, 1)),
    no("sol-police-u21 2012-12-31: RULE_NOT_YET_IN_FORCE", "sol-police-u21", SS, POL,
       reason(Refusal.RULE_NOT_YET_IN_FORCE, date="2013-01-01"), birth=dt.date(2000, 1, 1),
       on=dt.date(2012, 12, 31)),
    # Age limits are exclusive: on the birthday itself the basis no longer applies.
    *age_edges("sol-police-u21", SS, POL, 21, 4),
    *age_edges("crime-against-child", HC, POL, 18, 1),
    *age_edges("care-chain", SS, HC, 18, 2),
    *age_edges("concern-report", SCH, SS, 18, 1),
    # Birth date unknown: an age limit cannot be checked, nor who must sign a consent.
    no("sol-police-u21 birth unknown: AGE_UNKNOWN", "sol-police-u21", SS, POL,
       reason(Refusal.AGE_UNKNOWN), birth=None),
    no("crime-against-child birth unknown: AGE_UNKNOWN", "crime-against-child", HC, POL,
       reason(Refusal.AGE_UNKNOWN), birth=None),
    no("care-chain birth unknown: AGE_UNKNOWN", "care-chain", HC, SS,
       reason(Refusal.AGE_UNKNOWN), birth=None),
    no("concern-report birth unknown: AGE_UNKNOWN", "concern-report", SCH, SS,
       reason(Refusal.AGE_UNKNOWN), birth=None),
    no("consent birth unknown: AGE_UNKNOWN (signers unknown)", "consent", SS, SCH,
       reason(Refusal.AGE_UNKNOWN), birth=None),
    # Who signs a consent (SECRECY.md section 3).
    ok("consent age 14, one guardian, guardian signed", "consent", SS, SCH, 1,
       birth=dt.date(2011, 6, 1)),
    no("consent age 14, joint custody, one guardian signed: CONSENT_INCOMPLETE guardian_2",
       "consent", SS, SCH, reason(Refusal.CONSENT_INCOMPLETE, signer="guardian_2"),
       birth=dt.date(2011, 6, 1), consents=(consent(two_guardians=True),)),
    ok("consent age 14, joint custody, both guardians signed", "consent", SS, SCH, 1,
       birth=dt.date(2011, 6, 1), consents=(consent(signers=(G1, G2), two_guardians=True),)),
    ok("consent day before 15th birthday, guardian alone", "consent", SS, SCH, 1,
       birth=dt.date(2011, 3, 16)),
    no("consent 15th birthday, guardian alone: CONSENT_INCOMPLETE young_person", "consent", SS,
       SCH, reason(Refusal.CONSENT_INCOMPLETE, signer="young_person"),
       birth=dt.date(2011, 3, 15)),
    no("consent age 15, joint custody, one guardian: CONSENT_INCOMPLETE guardian_2 and "
       "young_person", "consent", SS, SCH,
       reason(Refusal.CONSENT_INCOMPLETE, signer="guardian_2"),
       reason(Refusal.CONSENT_INCOMPLETE, signer="young_person"),
       birth=dt.date(2011, 3, 15), consents=(consent(two_guardians=True),)),
    ok("consent age 17, guardian and young person", "consent", SS, SCH, 1,
       birth=dt.date(2008, 6, 1), consents=(consent(signers=(G1, YP)),)),
    ok("consent age 17, joint custody, both guardians and young person", "consent", SS, SCH, 1,
       birth=dt.date(2008, 6, 1),
       consents=(consent(signers=(G1, G2, YP), two_guardians=True),)),
    no("consent 18th birthday, guardians only: CONSENT_INCOMPLETE young_person", "consent",
       SS, SCH, reason(Refusal.CONSENT_INCOMPLETE, signer="young_person"),
       birth=dt.date(2008, 3, 15), consents=(consent(signers=(G1, G2), two_guardians=True),)),
    ok("consent age 18, young person alone", "consent", SS, SCH, 1,
       birth=dt.date(2008, 3, 15), consents=(consent(signers=(YP,), two_guardians=True),)),
    # Revocation, expiry, start of validity.
    ok("consent revoked tomorrow", "consent", SS, SCH, 1,
       consents=(consent(revoked_on=DAY + dt.timedelta(days=1)),)),
    no("consent revoked today: CONSENT_REVOKED", "consent", SS, SCH,
       reason(Refusal.CONSENT_REVOKED, date="2026-03-15"), consents=(consent(revoked_on=DAY),)),
    no("consent revoked yesterday: CONSENT_REVOKED", "consent", SS, SCH,
       reason(Refusal.CONSENT_REVOKED, date="2026-03-14"),
       consents=(consent(revoked_on=DAY - dt.timedelta(days=1)),)),
    ok("consent on its valid_to day", "consent", SS, SCH, 1, consents=(consent(valid_to=DAY),)),
    no("consent the day after valid_to: CONSENT_EXPIRED", "consent", SS, SCH,
       reason(Refusal.CONSENT_EXPIRED, date="2026-03-14"),
       consents=(consent(valid_to=DAY - dt.timedelta(days=1)),)),
    ok("consent on its valid_from day", "consent", SS, SCH, 1,
       consents=(consent(valid_from=DAY),)),
    no("consent from tomorrow: CONSENT_NOT_YET_VALID", "consent", SS, SCH,
       reason(Refusal.CONSENT_NOT_YET_VALID, date="2026-03-16"),
       consents=(consent(valid_from=DAY + dt.timedelta(days=1)),)),
    # What the consent covers.
    no("consent names another agency: CONSENT_AGENCY", "consent", SS, SCH,
       reason(Refusal.CONSENT_AGENCY), consents=(consent(agency_ids=(ELSEWHERE,)),)),
    no("consent names another kind: CONSENT_AGENCY", "consent", SS, SCH,
       reason(Refusal.CONSENT_AGENCY),
       consents=(consent(agency_ids=(), agency_kinds=(POL, LEI)),)),
    ok("consent covers the recipient by kind", "consent", SS, SCH, 1,
       consents=(consent(agency_ids=(), agency_kinds=(SCH,)),)),
    no("consent covers another category: CONSENT_CATEGORY", "consent", SS, SCH,
       reason(Refusal.CONSENT_CATEGORY, category=CATEGORY),
       consents=(consent(categories=("school", "leisure")),)),
    no("consent basis without a consent: NO_CONSENT", "consent", SS, SCH,
       reason(Refusal.NO_CONSENT), consents=()),
    # Recipients with weak protection: on consent only.
    ok("consent social_services->leisure (weak)", "consent", SS, LEI, 1, weak=True,
       consents=(consent(agency_ids=(), agency_kinds=(LEI,)),)),
    ok("consent police->independent school (outside OSL, weak)", "consent", POL, SCH, 1,
       weak=True),
    no("own-task social_services->leisure (weak): WEAK_RECIPIENT", "own-task", SS, LEI,
       reason(Refusal.WEAK_RECIPIENT), weak=True),
    no("own-task social_services->independent school (weak): WEAK_RECIPIENT", "own-task", SS,
       SCH, reason(Refusal.WEAK_RECIPIENT), weak=True),
    no("general-clause police->leisure (weak): WEAK_RECIPIENT", "general-clause", POL, LEI,
       reason(Refusal.WEAK_RECIPIENT), weak=True),
    no("general-clause school->other (weak): WEAK_RECIPIENT", "general-clause", SCH, OTH,
       reason(Refusal.WEAK_RECIPIENT), weak=True),
    no("crime-prevention-2025 police->leisure (weak): RULE_DISABLED and WEAK_RECIPIENT",
       "crime-prevention-2025", POL, LEI, reason(Refusal.RULE_DISABLED),
       reason(Refusal.WEAK_RECIPIENT), weak=True),
    # The recipient is the owner: nothing to disclose, whatever else holds.
    no("own-task to the owner itself: RECIPIENT_IS_OWNER", "own-task", SS, SS,
       reason(Refusal.RECIPIENT_IS_OWNER), recipient_id=OWNER),
    no("consent to the owner itself: RECIPIENT_IS_OWNER", "consent", SCH, SCH,
       reason(Refusal.RECIPIENT_IS_OWNER), recipient_id=OWNER,
       consents=(consent(agency_ids=(OWNER,)),)),
    no("crime-prevention-2025 (disabled) to the owner: RECIPIENT_IS_OWNER only",
       "crime-prevention-2025", POL, POL, reason(Refusal.RECIPIENT_IS_OWNER),
       recipient_id=OWNER),
]  # fmt: skip


def test_the_table_is_large_enough_and_ids_are_unique() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.basis for c in CASES} == set(BASES)


def assess(case: Case) -> Assessment:
    return assess_basis(
        BASES[case.basis],
        record(case.owner, case.category),
        recipient(case.to, agency_id=case.recipient_id, weak=case.weak),
        case.birth,
        case.consents,
        case.on,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_shipped_rules(case: Case) -> None:
    assessment = assess(case)
    assert assessment.basis is BASES[case.basis]
    assert tally(assessment.reasons) == tally(case.expected)
    assert assessment.applicable is (not case.expected)
    if case.expected:
        assert case.confirmations is None
        assert assessment.consent_ids == ()
    else:
        assert len(assessment.basis.confirmations) == case.confirmations
        assert assessment.consent_ids == case.consent_ids
    # A disclosure decided on these facts holds on that date exactly when the basis applies.
    verdict = disclosure_in_force(
        DisclosureFacts(
            case.basis,
            recipient(case.to, agency_id=case.recipient_id, weak=case.weak),
            case.consents[0] if case.consents else None,
        ),
        BASES,
        record(case.owner, case.category),
        case.birth,
        case.on,
    )
    assert verdict == (assessment.reasons[0] if case.expected else None)


# --- whole scenarios from SECRECY.md ------------------------------------------------------------


def applicable_ids(
    owner_kind: str,
    to_kind: str,
    *,
    birth: dt.date | None = CHILD,
    consents: Sequence[ConsentFacts] = (),
    weak: bool = False,
    on: dt.date = DAY,
) -> list[str]:
    assessments = assess_bases(
        BASES.values(),
        record(owner_kind),
        recipient(to_kind, weak=weak),
        birth,
        consents,
        on,
    )
    return [a.basis.id for a in assessments if a.applicable]


def test_social_services_to_police_about_a_13_year_old() -> None:
    assert applicable_ids(SS, POL) == [
        "sol-police-u21",
        "crime-against-child",
        "serious-crime",
        "own-task",
    ]


def test_police_to_social_services_goes_by_consent_general_clause_or_concern_report() -> None:
    assert applicable_ids(POL, SS, consents=[consent()]) == [
        "consent",
        "concern-report",
        "own-task",
        "general-clause",
    ]


def test_social_services_to_school_and_leisure_goes_by_consent() -> None:
    assert applicable_ids(SS, SCH, consents=[consent()]) == ["consent", "own-task"]
    assert applicable_ids(SS, LEI, consents=[consent()], weak=True) == ["consent"]
    assert applicable_ids(SS, LEI, weak=True) == []


def test_assess_bases_keeps_the_order_of_the_rules_file() -> None:
    raw = tomllib.loads((RULES_DIR / "legal_bases.toml").read_text(encoding="utf-8"))
    file_order = [entry["id"] for entry in raw["basis"]]
    assessments = assess_bases(BASES.values(), record(POL), recipient(SCH), CHILD, [consent()], DAY)
    assert [a.basis.id for a in assessments] == file_order
    assert len(assessments) == 13
    # ...and every basis is there, applicable or not, each with its own reasons.
    assert [a.applicable for a in assessments] == [
        True,  # consent
        False,  # internal-use: no common authority recorded
        False,  # sol-police-u21
        False,  # crime-against-child
        False,  # serious-crime
        False,  # crime-other-secrecy: only to the police
        False,  # care-chain
        False,  # concern-report
        False,  # duty-to-police: police is not among the disclosers
        True,  # own-task
        True,  # general-clause
        False,  # principal-report: disabled
        False,  # crime-prevention-2025: disabled
    ]
    # The same order whatever order the bases are given in: it is the caller's iteration order.
    backwards = assess_bases(
        reversed(list(BASES.values())), record(POL), recipient(SCH), CHILD, (), DAY
    )
    assert [a.basis.id for a in backwards] == file_order[::-1]


# --- several consents ----------------------------------------------------------------------------


def test_only_usable_consents_are_listed() -> None:
    consents = [
        consent(id=11, revoked_on=DAY),
        consent(id=12),
        consent(id=13, categories=("school",)),
        consent(id=14, agency_ids=(), agency_kinds=(SCH,)),
    ]
    assessment = assess_basis(BASES["consent"], record(SS), recipient(SCH), CHILD, consents, DAY)
    assert assessment.applicable
    assert assessment.reasons == ()
    assert assessment.consent_ids == (12, 14)


def test_when_no_consent_is_usable_the_reasons_are_deduplicated() -> None:
    consents = [
        consent(id=21, revoked_on=DAY),
        consent(id=22, revoked_on=DAY, categories=("school",)),
        consent(id=23, revoked_on=DAY),
        consent(id=24, valid_to=dt.date(2026, 2, 1), categories=("school",)),
    ]
    assessment = assess_basis(BASES["consent"], record(SS), recipient(SCH), CHILD, consents, DAY)
    assert not assessment.applicable
    assert assessment.consent_ids == ()
    assert list(assessment.reasons) == [
        reason(Refusal.CONSENT_REVOKED, date="2026-03-15"),
        reason(Refusal.CONSENT_CATEGORY, category=CATEGORY),
        reason(Refusal.CONSENT_EXPIRED, date="2026-02-01"),
    ]


def test_rule_problems_come_before_consent_problems() -> None:
    basis = dataclasses.replace(BASES["consent"], enabled=False)
    assessment = assess_basis(
        basis, record(SS), recipient(SCH), CHILD, [consent(revoked_on=DAY)], DAY
    )
    assert list(assessment.reasons) == [
        reason(Refusal.RULE_DISABLED),
        reason(Refusal.CONSENT_REVOKED, date="2026-03-15"),
    ]
    # A usable consent does not hide the rule's own problems.
    usable = assess_basis(basis, record(SS), recipient(SCH), CHILD, [consent(id=5)], DAY)
    assert list(usable.reasons) == [reason(Refusal.RULE_DISABLED)]
    assert usable.consent_ids == (5,)
    assert not usable.applicable


def test_consent_problems_lists_everything_wrong_at_once() -> None:
    bad = consent(
        signers=(),
        two_guardians=True,
        agency_ids=(ELSEWHERE,),
        categories=("school",),
        valid_from=dt.date(2026, 4, 1),
        valid_to=dt.date(2026, 3, 1),
        revoked_on=dt.date(2026, 3, 1),
    )
    found = consent_problems(bad, record(SS), recipient(SCH), CHILD, DAY)
    assert list(found) == [
        reason(Refusal.CONSENT_REVOKED, date="2026-03-01"),
        reason(Refusal.CONSENT_NOT_YET_VALID, date="2026-04-01"),
        reason(Refusal.CONSENT_EXPIRED, date="2026-03-01"),
        reason(Refusal.CONSENT_INCOMPLETE, signer="guardian_1"),
        reason(Refusal.CONSENT_INCOMPLETE, signer="guardian_2"),
        reason(Refusal.CONSENT_AGENCY),
        reason(Refusal.CONSENT_CATEGORY, category=CATEGORY),
    ]
    assert consent_problems(consent(), record(SS), recipient(SCH), CHILD, DAY) == ()


# --- constructed bases: branches the shipped rules do not reach --------------------------------


def constructed(**changes: Any) -> LegalBasis:
    basis = LegalBasis(
        id="test-basis",
        title="Test",
        reference="1 kap. 1 § testlagen",
        from_kinds=frozenset({"*"}),
        to_kinds=frozenset({"*"}),
        confirmations=("Bekräftat.",),
        duty=Duty.MAY,
        review=Review.CONFIRMED,
        enabled=True,
    )
    return dataclasses.replace(basis, **changes)


def test_allowed_categories_restrict_a_basis() -> None:
    basis = constructed(allowed_categories=frozenset({"school"}))
    school = assess_basis(basis, record(SCH, "school"), recipient(SS), CHILD, (), DAY)
    assert school.applicable
    other = assess_basis(basis, record(SCH, "health"), recipient(SS), CHILD, (), DAY)
    assert list(other.reasons) == [reason(Refusal.CATEGORY_NOT_ALLOWED, category="health")]


def test_a_denied_category_is_reported_once_even_when_also_not_allowed() -> None:
    basis = constructed(
        allowed_categories=frozenset({"school"}), denied_categories=frozenset({"health"})
    )
    found = assess_basis(basis, record(SCH, "health"), recipient(SS), CHILD, (), DAY)
    assert list(found.reasons) == [reason(Refusal.CATEGORY_DENIED, category="health")]


def test_an_ended_rule_applies_up_to_and_including_effective_to() -> None:
    basis = constructed(effective_from=dt.date(2020, 1, 1), effective_to=dt.date(2026, 3, 15))
    last_day = assess_basis(basis, record(SCH), recipient(SS), CHILD, (), DAY)
    assert last_day.applicable
    after = assess_basis(basis, record(SCH), recipient(SS), CHILD, (), DAY + dt.timedelta(1))
    assert list(after.reasons) == [reason(Refusal.RULE_ENDED, date="2026-03-15")]
    # A disclosure under it lapses the day after, with that reason.
    disclosure = DisclosureFacts("test-basis", recipient(SS), None)
    bases = {"test-basis": basis}
    assert disclosure_in_force(disclosure, bases, record(SCH), CHILD, DAY) is None
    assert disclosure_in_force(
        disclosure, bases, record(SCH), CHILD, DAY + dt.timedelta(1)
    ) == reason(Refusal.RULE_ENDED, date="2026-03-15")


def test_a_rule_starts_on_effective_from() -> None:
    basis = constructed(effective_from=DAY)
    assert assess_basis(basis, record(SCH), recipient(SS), CHILD, (), DAY).applicable
    before = assess_basis(basis, record(SCH), recipient(SS), CHILD, (), DAY - dt.timedelta(1))
    assert list(before.reasons) == [reason(Refusal.RULE_NOT_YET_IN_FORCE, date="2026-03-15")]


def test_an_excluded_owner_is_not_also_reported_as_a_wrong_owner_kind() -> None:
    basis = constructed(from_kinds=frozenset({POL}), excluded_owner_kinds=frozenset({SS}))
    found = assess_basis(basis, record(SS), recipient(SCH), CHILD, (), DAY)
    assert list(found.reasons) == [reason(Refusal.EXCLUDED_OWNER, kind=SS)]


# --- disclosure_in_force -------------------------------------------------------------------------


def test_unknown_basis_id() -> None:
    disclosure = DisclosureFacts("repealed-rule", recipient(POL), None)
    assert disclosure_in_force(disclosure, BASES, record(SS), CHILD, DAY) == reason(
        Refusal.BASIS_UNKNOWN, basis="repealed-rule"
    )


def test_a_disclosure_under_an_age_limit_lapses_on_the_birthday() -> None:
    disclosure = DisclosureFacts("sol-police-u21", recipient(POL), None)
    assert disclosure_in_force(disclosure, BASES, record(SS), YOUTH, BEFORE_21) is None
    assert disclosure_in_force(disclosure, BASES, record(SS), YOUTH, AT_21) == reason(
        Refusal.AGE_LIMIT, age=21
    )


def test_a_consent_disclosure_rests_on_its_own_consent_only() -> None:
    decided_on = consent(valid_to=dt.date(2026, 6, 30))
    disclosure = DisclosureFacts("consent", recipient(SCH), decided_on)
    assert disclosure_in_force(disclosure, BASES, record(SS), CHILD, dt.date(2026, 6, 30)) is None
    assert disclosure_in_force(disclosure, BASES, record(SS), CHILD, dt.date(2026, 7, 1)) == reason(
        Refusal.CONSENT_EXPIRED, date="2026-06-30"
    )
    without = DisclosureFacts("consent", recipient(SCH), None)
    assert disclosure_in_force(without, BASES, record(SS), CHILD, DAY) == reason(Refusal.NO_CONSENT)


def test_a_disclosure_lapses_when_the_signers_required_change_with_age() -> None:
    # Guardian-only consent for a 14-year-old: on the 15th birthday the young person must sign.
    birth = dt.date(2011, 9, 1)
    disclosure = DisclosureFacts("consent", recipient(SCH), consent())
    assert disclosure_in_force(disclosure, BASES, record(SS), birth, dt.date(2026, 8, 31)) is None
    assert disclosure_in_force(disclosure, BASES, record(SS), birth, dt.date(2026, 9, 1)) == reason(
        Refusal.CONSENT_INCOMPLETE, signer="young_person"
    )


# --- visibility ---------------------------------------------------------------------------------

LAPSED = reason(Refusal.CONSENT_REVOKED, date="2026-03-01")


@pytest.mark.parametrize(
    ("rec", "viewer", "verdicts", "expected"),
    [
        pytest.param(
            record(SS), ViewerFacts(OWNER, frozenset({OTHER_COUNCIL})), (),
            WithheldReason.NOT_MEMBER, id="owner outside the council: NOT_MEMBER",
        ),
        pytest.param(
            record(SS), ViewerFacts(RECIPIENT, frozenset()), (None,), WithheldReason.NOT_MEMBER,
            id="disclosed to a non-member: NOT_MEMBER",
        ),
        pytest.param(
            record(SS, shredded=True), ViewerFacts(RECIPIENT, frozenset()), (None,),
            WithheldReason.NOT_MEMBER, id="non-member does not learn of shredding",
        ),
        pytest.param(
            record(SS, shredded=True), ViewerFacts(OWNER, frozenset({COUNCIL})), (),
            WithheldReason.SHREDDED, id="shredded, owner: SHREDDED",
        ),
        pytest.param(
            record(SS, shredded=True), ViewerFacts(RECIPIENT, frozenset({COUNCIL})), (None,),
            WithheldReason.SHREDDED, id="shredded, disclosed: SHREDDED",
        ),
        pytest.param(
            record(SS), ViewerFacts(OWNER, frozenset({COUNCIL, OTHER_COUNCIL})), (), None,
            id="owner member: visible",
        ),
        pytest.param(
            record(SS), ViewerFacts(RECIPIENT, frozenset({COUNCIL})), (LAPSED, None), None,
            id="one disclosure in force: visible",
        ),
        pytest.param(
            record(SS), ViewerFacts(RECIPIENT, frozenset({COUNCIL})), (LAPSED, LAPSED),
            WithheldReason.LAPSED, id="every disclosure lapsed: LAPSED",
        ),
        pytest.param(
            record(SS), ViewerFacts(RECIPIENT, frozenset({COUNCIL})), (),
            WithheldReason.NO_DISCLOSURE, id="no disclosure: NO_DISCLOSURE",
        ),
    ],
)  # fmt: skip
def test_visibility(
    rec: RecordFacts,
    viewer: ViewerFacts,
    verdicts: tuple[Reason | None, ...],
    expected: WithheldReason | None,
) -> None:
    assert visibility(rec, viewer, verdicts) is expected


# --- age and signers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (dt.date(2008, 2, 29), dt.date(2026, 2, 28), 17),  # no 29 February in 2026
        (dt.date(2008, 2, 29), dt.date(2026, 3, 1), 18),  # counts from 1 March
        (dt.date(2008, 2, 29), dt.date(2028, 2, 28), 19),
        (dt.date(2008, 2, 29), dt.date(2028, 2, 29), 20),  # leap year: the day itself
        (dt.date(2008, 2, 29), dt.date(2008, 2, 29), 0),
        (dt.date(2008, 3, 1), dt.date(2026, 2, 28), 17),
        (dt.date(2008, 3, 1), dt.date(2026, 3, 1), 18),
        (YOUTH, BEFORE_18, 17),
        (YOUTH, AT_18, 18),
        (YOUTH, BEFORE_21, 20),
        (YOUTH, AT_21, 21),
        (dt.date(2007, 12, 31), dt.date(2025, 12, 31), 18),
        (dt.date(2008, 1, 1), dt.date(2025, 12, 31), 17),
    ],
)
def test_age_on(birth: dt.date, on: dt.date, age: int) -> None:
    assert age_on(birth, on) == age


def test_sol_police_u21_for_a_29_february_child() -> None:
    basis, leapling = BASES["sol-police-u21"], dt.date(2008, 2, 29)
    day_before = assess_basis(basis, record(SS), recipient(POL), leapling, (), dt.date(2029, 2, 28))
    assert day_before.applicable
    birthday = assess_basis(basis, record(SS), recipient(POL), leapling, (), dt.date(2029, 3, 1))
    assert list(birthday.reasons) == [reason(Refusal.AGE_LIMIT, age=21)]


@pytest.mark.parametrize(
    ("birth", "two_guardians", "expected"),
    [
        (dt.date(2026, 3, 15), False, {G1}),  # born today
        (dt.date(2011, 3, 16), False, {G1}),  # 14, the day before the 15th birthday
        (dt.date(2011, 3, 16), True, {G1, G2}),
        (dt.date(2011, 3, 15), False, {G1, YP}),  # 15th birthday
        (dt.date(2011, 3, 15), True, {G1, G2, YP}),
        (dt.date(2008, 3, 16), False, {G1, YP}),  # 17, the day before the 18th birthday
        (dt.date(2008, 3, 16), True, {G1, G2, YP}),
        (dt.date(2008, 3, 15), False, {YP}),  # 18th birthday
        (dt.date(2008, 3, 15), True, {YP}),
        (dt.date(1990, 1, 1), True, {YP}),
    ],
)
def test_required_signers(birth: dt.date, two_guardians: bool, expected: set[Signer]) -> None:
    assert required_signers(birth, DAY, two_guardians) == frozenset(expected)


# --- properties ---------------------------------------------------------------------------------

PROPERTY = settings(max_examples=300, deadline=None)

kinds = st.sampled_from(KINDS)
category_keys = st.sampled_from(CATEGORIES)
agency_ids = st.integers(min_value=1, max_value=6)
council_ids = st.integers(min_value=1, max_value=4)
births = st.dates(min_value=dt.date(1985, 1, 1), max_value=dt.date(2030, 12, 31))
days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2060, 12, 31))
signers = st.frozensets(st.sampled_from(list(Signer)))


def records(
    owner_kinds: st.SearchStrategy[str] = kinds,
    category: st.SearchStrategy[str] = category_keys,
) -> st.SearchStrategy[RecordFacts]:
    return st.builds(
        RecordFacts,
        owner_agency_id=agency_ids,
        owner_kind=owner_kinds,
        category=category,
        council_id=council_ids,
        shredded=st.booleans(),
    )


recipients = st.builds(
    RecipientFacts, agency_id=agency_ids, kind=kinds, weak_protection=st.booleans()
)


def consents(revoked_on: st.SearchStrategy[dt.date | None]) -> st.SearchStrategy[ConsentFacts]:
    return st.builds(
        ConsentFacts,
        id=st.integers(min_value=1, max_value=1000),
        signers=signers,
        two_guardians=st.booleans(),
        agency_ids=st.frozensets(agency_ids),
        agency_kinds=st.frozensets(kinds),
        categories=st.frozensets(category_keys),
        valid_from=days,
        valid_to=st.none() | days,
        revoked_on=revoked_on,
    )


any_consents = st.lists(consents(st.none() | days), max_size=3)
reasons = st.builds(Reason, code=st.sampled_from(list(Refusal)))
verdicts = st.lists(st.none() | reasons, max_size=4)


@PROPERTY
@given(rec=records(), viewer_agency=agency_ids, member_of=st.frozensets(council_ids),
       lapsed=st.lists(reasons, max_size=4))  # fmt: skip
def test_nothing_is_visible_without_a_disclosure_in_force(
    rec: RecordFacts, viewer_agency: int, member_of: frozenset[int], lapsed: list[Reason]
) -> None:
    if viewer_agency == rec.owner_agency_id:
        viewer_agency += 100
    viewer = ViewerFacts(viewer_agency, member_of)
    assert visibility(rec, viewer) is not None
    assert visibility(rec, viewer, lapsed) is not None


@PROPERTY
@given(rec=records(), also_member_of=st.frozensets(council_ids), found=verdicts)
def test_the_owner_always_sees_unless_shredded(
    rec: RecordFacts, also_member_of: frozenset[int], found: list[Reason | None]
) -> None:
    viewer = ViewerFacts(rec.owner_agency_id, also_member_of | {rec.council_id})
    expected = WithheldReason.SHREDDED if rec.shredded else None
    assert visibility(rec, viewer, found) is expected


@PROPERTY
@given(rec=records(), to=recipients, birth=st.none() | births, given_consent=consents(days),
       later=st.integers(min_value=0, max_value=4000))  # fmt: skip
def test_a_revoked_consent_ends_every_disclosure_resting_on_it(
    rec: RecordFacts,
    to: RecipientFacts,
    birth: dt.date | None,
    given_consent: ConsentFacts,
    later: int,
) -> None:
    assert given_consent.revoked_on is not None
    on = given_consent.revoked_on + dt.timedelta(days=later)
    disclosure = DisclosureFacts("consent", to, given_consent)
    assert disclosure_in_force(disclosure, BASES, rec, birth, on) is not None
    if to.agency_id != rec.owner_agency_id:
        found = assess_basis(BASES["consent"], rec, to, birth, [given_consent], on)
        assert Refusal.CONSENT_REVOKED in codes(found.reasons)


@PROPERTY
@given(rec=records(), to_kind=kinds, weak=st.booleans(), birth=births, two_guardians=st.booleans(),
       held_for=st.integers(min_value=1, max_value=2000),
       later=st.integers(min_value=0, max_value=2000))  # fmt: skip
def test_revocation_ends_a_disclosure_at_once(
    rec: RecordFacts,
    to_kind: str,
    weak: bool,
    birth: dt.date,
    two_guardians: bool,
    held_for: int,
    later: int,
) -> None:
    to = RecipientFacts(rec.owner_agency_id + 100, to_kind, weak)
    revoked_on = dt.date(2026, 3, 15)
    full = consent(
        signers=(G1, G2, YP),
        two_guardians=two_guardians,
        agency_ids=(to.agency_id,),
        categories=(rec.category,),
        valid_from=revoked_on - dt.timedelta(days=held_for),
        revoked_on=revoked_on,
    )
    disclosure = DisclosureFacts("consent", to, full)
    day_before = revoked_on - dt.timedelta(days=1)
    assert disclosure_in_force(disclosure, BASES, rec, birth, day_before) is None
    assert disclosure_in_force(
        disclosure, BASES, rec, birth, revoked_on + dt.timedelta(days=later)
    ) == reason(Refusal.CONSENT_REVOKED, date="2026-03-15")


AGE_LIMITED = [b for b in BASES.values() if b.age_limit is not None]


@PROPERTY
@given(birth=births, years=st.integers(min_value=1, max_value=60))
def test_a_birthday_is_the_first_day_of_the_age(birth: dt.date, years: int) -> None:
    day = birthday(birth, years)
    assert age_on(birth, day) == years
    assert age_on(birth, day - dt.timedelta(days=1)) == years - 1


def test_a_29_february_birthday_is_1_march_in_other_years() -> None:
    assert birthday(dt.date(2008, 2, 29), 18) == dt.date(2026, 3, 1)
    assert birthday(dt.date(2008, 2, 29), 20) == dt.date(2028, 2, 29)


def test_the_age_thresholds_are_the_consent_ages_and_the_enabled_age_limits() -> None:
    limits = {b.age_limit for b in BASES.values() if b.enabled and b.age_limit is not None}
    assert age_thresholds(BASES.values()) == tuple(sorted({15, 18} | limits))
    assert 21 in age_thresholds(BASES.values())  # SoL to the police under 21 (SECRECY.md)
    disabled = [dataclasses.replace(b, enabled=False) for b in BASES.values()]
    assert age_thresholds(disabled) == (15, 18)


@PROPERTY
@given(rec=records(), to=recipients, birth=births, consents_on_file=any_consents,
       later=st.integers(min_value=0, max_value=4000))  # fmt: skip
def test_no_basis_survives_its_age_limit(
    rec: RecordFacts,
    to: RecipientFacts,
    birth: dt.date,
    consents_on_file: list[ConsentFacts],
    later: int,
) -> None:
    assert {b.id for b in AGE_LIMITED} == {
        "sol-police-u21",
        "crime-against-child",
        "care-chain",
        "concern-report",
    }
    for basis in AGE_LIMITED:
        assert basis.age_limit is not None
        on = birthday(birth, basis.age_limit) + dt.timedelta(days=later)
        assert age_on(birth, on) >= basis.age_limit
        found = assess_basis(basis, rec, to, birth, consents_on_file, on)
        assert not found.applicable
        if to.agency_id != rec.owner_agency_id:
            assert reason(Refusal.AGE_LIMIT, age=basis.age_limit) in found.reasons
        decided_on = consents_on_file[0] if consents_on_file else None
        disclosure = DisclosureFacts(basis.id, to, decided_on)
        assert disclosure_in_force(disclosure, BASES, rec, birth, on) is not None


care_records = st.one_of(
    records(owner_kinds=st.sampled_from([SS, LSS, HC])), records(category=st.just("health"))
)


@PROPERTY
@given(rec=care_records, to=recipients, birth=st.none() | births, consents_on_file=any_consents,
       on=days)  # fmt: skip
def test_the_general_clause_never_applies_to_care_owners_or_health_data(
    rec: RecordFacts,
    to: RecipientFacts,
    birth: dt.date | None,
    consents_on_file: list[ConsentFacts],
    on: dt.date,
) -> None:
    basis = BASES["general-clause"]
    found = assess_basis(basis, rec, to, birth, consents_on_file, on)
    assert not found.applicable
    if to.agency_id != rec.owner_agency_id:
        found_codes = codes(found.reasons)
        assert (Refusal.EXCLUDED_OWNER in found_codes) == (rec.owner_kind in {SS, LSS, HC})
        assert (Refusal.CATEGORY_DENIED in found_codes) == (rec.category == "health")
    disclosure = DisclosureFacts("general-clause", to, None)
    assert disclosure_in_force(disclosure, BASES, rec, birth, on) is not None


@PROPERTY
@given(rec=records(), to=recipients, birth=st.none() | births, consents_on_file=any_consents,
       on=days)  # fmt: skip
def test_an_assessment_is_applicable_exactly_when_it_has_no_reasons(
    rec: RecordFacts,
    to: RecipientFacts,
    birth: dt.date | None,
    consents_on_file: list[ConsentFacts],
    on: dt.date,
) -> None:
    for found in assess_bases(BASES.values(), rec, to, birth, consents_on_file, on):
        assert found.applicable == (found.reasons == ())
        if to.agency_id == rec.owner_agency_id:
            assert found.reasons == (reason(Refusal.RECIPIENT_IS_OWNER),)
        if found.applicable and found.basis.requires_consent:
            assert found.consent_ids
            assert set(found.consent_ids) <= {c.id for c in consents_on_file}
        if to.weak_protection and not found.basis.weak_recipients:
            assert not found.applicable


@pytest.mark.parametrize("basis_id", ["concern-report", "duty-to-police"])
def test_duties_of_public_bodies_do_not_bind_a_private_owner(basis_id: str) -> None:
    """A civil-society leisure club (outside OSL) has neither the duty to report concern nor
    the duty to inform the police; a municipal leisure service has both."""
    basis = legal_bases()[basis_id]
    recipient_kind = "social_services" if basis_id == "concern-report" else "police"
    recipient = RecipientFacts(agency_id=2, kind=recipient_kind, weak_protection=False)
    birth = dt.date(2012, 1, 1)
    on = dt.date(2026, 6, 1)
    public = RecordFacts(1, "leisure", "leisure", COUNCIL)
    private = RecordFacts(1, "leisure", "leisure", COUNCIL, owner_public=False)
    assert assess_basis(basis, public, recipient, birth, [], on).applicable
    refused = assess_basis(basis, private, recipient, birth, [], on)
    assert [r.code for r in refused.reasons] == [Refusal.OWNER_NOT_PUBLIC]


@st.composite
def same_age_birth_dates(draw: st.DrawFn) -> tuple[dt.date, dt.date, dt.date]:
    """(first, second, on): two birth dates of children of the same completed age on ``on``,
    often a day or so from a birthday (29 February ones too)."""
    on = draw(days)
    first = draw(st.dates(min_value=on - dt.timedelta(days=30 * 366), max_value=on))
    near_a_birthday = st.sampled_from([-2, -1, 0, 1, 2]).map(
        lambda d: (birthday(on, -age_on(first, on)) - first).days + d
    )
    offset = draw(st.integers(min_value=-366, max_value=366) | near_a_birthday)
    second = first + dt.timedelta(days=offset)
    assume(second <= on and age_on(second, on) == age_on(first, on))
    return first, second, on


@PROPERTY
@given(rec=records(), to=recipients, births_on=same_age_birth_dates(),
       consents_on_file=any_consents)  # fmt: skip
def test_the_engine_reads_of_a_birth_date_only_the_age_on_the_day(
    rec: RecordFacts,
    to: RecipientFacts,
    births_on: tuple[dt.date, dt.date, dt.date],
    consents_on_file: list[ConsentFacts],
) -> None:
    """``age_class``: the reveal keeps a verdict for every child of an age, so two birth dates
    of the same age on the day must get the same answers from every basis, with and without
    the consent a decision rested on."""
    first, second, on = births_on
    assert age_class(first, on) == age_class(second, on) == age_on(first, on)
    assert age_class(None, on) is None
    for basis in BASES.values():
        assert assess_basis(basis, rec, to, first, consents_on_file, on) == assess_basis(
            basis, rec, to, second, consents_on_file, on
        )
        for decided_on in (None, *consents_on_file):
            disclosure = DisclosureFacts(basis.id, to, decided_on)
            assert disclosure_in_force(disclosure, BASES, rec, first, on) == (
                disclosure_in_force(disclosure, BASES, rec, second, on)
            )


# --- one authority, independent branches (8 kap. 1–2 §§ OSL) ------------------------------------

BOARD = "212000-1124|socialnämnden norr"


def in_authority(
    owner_kind: str, *, owner_branch: bool, to_kind: str, to_branch: bool, authority: str = BOARD
) -> tuple[RecordFacts, RecipientFacts]:
    owned = RecordFacts(
        OWNER, owner_kind, CATEGORY, COUNCIL, owner_authority=BOARD,
        owner_independent_branch=owner_branch,
    )  # fmt: skip
    to = RecipientFacts(
        RECIPIENT, to_kind, False, authority=authority, independent_branch=to_branch
    )
    return owned, to


def test_inside_one_authority_only_the_internal_basis_applies() -> None:
    """Two parts of one board, neither an independent branch: handing over is not disclosure,
    so every disclosure basis refuses and internal-use applies."""
    owned, to = in_authority(SS, owner_branch=False, to_kind=SS, to_branch=False)
    found = assess_bases(BASES.values(), owned, to, CHILD, [consent()], DAY)
    assert [a.basis.id for a in found if a.applicable] == ["internal-use"]
    for a in found:
        if a.basis.id not in {"internal-use"}:
            assert reason(Refusal.SAME_AUTHORITY) in a.reasons, a.basis.id
    assert len(BASES["internal-use"].confirmations) == 2


@pytest.mark.parametrize(
    ("owner_branch", "to_branch", "authority"),
    [
        (True, False, BOARD),  # the owner is an independent branch
        (False, True, BOARD),  # the recipient is
        (True, True, BOARD),
        (False, False, "212000-1124|stadsdelsnämnden söder"),  # another board, same number
    ],
)
def test_independent_branches_and_other_boards_are_separate(
    owner_branch: bool, to_branch: bool, authority: str
) -> None:
    """Secrecy applies between them, so the disclosure bases work as between authorities (care
    chain from one social services authority to another) and internal-use does not."""
    owned, to = in_authority(
        SS, owner_branch=owner_branch, to_kind=SS, to_branch=to_branch, authority=authority
    )
    care = assess_basis(BASES["care-chain"], owned, to, CHILD, [], DAY)
    assert care.applicable
    internal = assess_basis(BASES["internal-use"], owned, to, CHILD, [], DAY)
    assert internal.reasons == (reason(Refusal.OTHER_AUTHORITY),)


def test_an_unrecorded_authority_is_an_authority_of_its_own() -> None:
    owned, _ = in_authority(SS, owner_branch=False, to_kind=SS, to_branch=False)
    to = RecipientFacts(RECIPIENT, SS, False, authority=None, independent_branch=False)
    assert assess_basis(BASES["care-chain"], owned, to, CHILD, [], DAY).applicable
    bare = record(SS)
    assert assess_basis(BASES["care-chain"], bare, to, CHILD, [], DAY).applicable


@PROPERTY
@given(rec=records(), to=recipients, same=st.booleans(), owner_branch=st.booleans(),
       to_branch=st.booleans(), birth=st.none() | births, consents_on_file=any_consents,
       on=days)  # fmt: skip
def test_exactly_one_of_internal_use_and_the_disclosure_bases_can_apply(
    rec: RecordFacts,
    to: RecipientFacts,
    same: bool,
    owner_branch: bool,
    to_branch: bool,
    birth: dt.date | None,
    consents_on_file: list[ConsentFacts],
    on: dt.date,
) -> None:
    rec = dataclasses.replace(rec, owner_authority=BOARD, owner_independent_branch=owner_branch)
    to = dataclasses.replace(
        to, authority=BOARD if same else "x|annan", independent_branch=to_branch
    )
    internal = same and not (owner_branch or to_branch)
    for found in assess_bases(BASES.values(), rec, to, birth, consents_on_file, on):
        if not found.applicable:
            continue
        assert (found.basis.id == "internal-use") == internal


# --- private owners bound by a duty -------------------------------------------------------------


@pytest.mark.parametrize(
    ("basis_id", "kind", "to_kind", "category", "bound"),
    [
        ("concern-report", SCH, SS, "school", True),  # an independent school reports concern
        ("concern-report", HC, SS, "health", True),  # private care
        ("concern-report", LSS, SS, "social_measures", True),  # a private LSS provider
        ("concern-report", LEI, SS, "leisure", False),  # a civil-society club does not
        ("duty-to-police", SCH, POL, "school", True),  # independent schools inform the police
        ("duty-to-police", LEI, POL, "leisure", False),
    ],
)
def test_private_activity_bound_by_a_duty(
    basis_id: str, kind: str, to_kind: str, category: str, bound: bool
) -> None:
    private = RecordFacts(OWNER, kind, category, COUNCIL, owner_public=False)
    found = assess_basis(BASES[basis_id], private, recipient(to_kind), CHILD, [], DAY)
    assert found.applicable is bound
    if not bound:
        assert found.reasons == (reason(Refusal.OWNER_NOT_PUBLIC),)


def test_the_duty_to_inform_the_police_is_never_offered_for_a_school_health_record() -> None:
    school_health = record(SCH, "health")
    offered = applicable_ids(SCH, POL)
    assert "duty-to-police" in offered
    found = assess_bases(BASES.values(), school_health, recipient(POL), CHILD, [], DAY)
    assert [a.basis.id for a in found if a.applicable and a.basis.duty is Duty.MUST] == []


# --- the written statement (own-task) -----------------------------------------------------------


def test_own_task_requires_a_written_statement_of_the_task_need() -> None:
    own_task = BASES["own-task"]
    assert own_task.requires_statement and own_task.statement_label
    assert statement_problem(own_task, None) == reason(Refusal.STATEMENT_MISSING)
    assert statement_problem(own_task, "   \n") == reason(Refusal.STATEMENT_MISSING)
    assert statement_problem(own_task, "Vi behöver planera vår insats.") is None
    assert statement_problem(BASES["sol-police-u21"], None) is None
    assert [b.id for b in BASES.values() if b.requires_statement] == ["own-task"]


# --- consent by a mature young person (12 kap. 3 § OSL) -----------------------------------------


@pytest.mark.parametrize(
    ("birth", "expected"),
    [
        (dt.date(2011, 3, 16), {G1}),  # 14: the guardians decide, whatever the assessment
        (dt.date(2011, 3, 15), {YP}),  # the 15th birthday: alone
        (dt.date(2008, 3, 16), {YP}),  # 17
        (dt.date(2008, 3, 15), {YP}),  # 18
    ],
)
def test_required_signers_with_a_maturity_assessment(birth: dt.date, expected: set[Signer]) -> None:
    assert required_signers(birth, DAY, False, mature_alone=True) == expected


def test_a_maturity_assessment_counts_only_where_the_council_allows_it() -> None:
    sixteen = dt.date(2010, 1, 1)
    allowed = consent(signers=(YP,), maturity_assessed=True, maturity_allowed=True)
    not_allowed = consent(signers=(YP,), maturity_assessed=True)
    not_assessed = consent(signers=(YP,), maturity_allowed=True)
    rec, to = record(SS), recipient(SCH)
    assert consent_problems(allowed, rec, to, sixteen, DAY) == ()
    for lacking in (not_allowed, not_assessed):
        assert consent_problems(lacking, rec, to, sixteen, DAY) == (
            reason(Refusal.CONSENT_INCOMPLETE, signer="guardian_1"),
        )


@PROPERTY
@given(birth=births, on=days, two_guardians=st.booleans(), assessed=st.booleans(),
       allowed=st.booleans())  # fmt: skip
def test_the_young_person_consents_alone_exactly_when_mature_and_allowed_or_adult(
    birth: dt.date, on: dt.date, two_guardians: bool, assessed: bool, allowed: bool
) -> None:
    assume(birth <= on)
    age = age_on(birth, on)
    alone = consent(
        signers=(YP,), two_guardians=two_guardians, maturity_assessed=assessed,
        maturity_allowed=allowed,
    )  # fmt: skip
    problems = consent_problems(alone, record(SS), recipient(SCH), birth, on)
    incomplete = Refusal.CONSENT_INCOMPLETE in codes(problems)
    assert incomplete == (age < 15 or (age < 18 and not (assessed and allowed)))
    # The default local policy never lets guardians alone consent for a 15–17-year-old.
    if 15 <= age < 18:
        guardians = consent(signers=(G1, G2), two_guardians=two_guardians)
        found = consent_problems(guardians, record(SS), recipient(SCH), birth, on)
        assert reason(Refusal.CONSENT_INCOMPLETE, signer="young_person") in found


def test_a_rule_may_still_require_different_kinds() -> None:
    """No shipped rule uses it since care-chain covers one social services authority to
    another (26 kap. 9 § OSL), but a municipality's lawyer may."""
    basis = constructed(different_kinds=True)
    assert assess_basis(basis, record(SS), recipient(SS), CHILD, [], DAY).reasons == (
        reason(Refusal.SAME_KIND, kind=SS),
    )
    assert assess_basis(basis, record(SS), recipient(HC), CHILD, [], DAY).applicable
