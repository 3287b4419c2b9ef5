"""Shared set-up of the assessment tests: a child, an assessment, a consent-based disclosure of
single areas."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from coordination.models import Agency, Child, Council, User
from minutes.assessments.models import Assessment
from minutes.assessments.services import AreaInput, AssessmentInput, record_assessment
from secrecy.disclosure.consents import ConsentData, register_consent
from secrecy.disclosure.services import decide_disclosure
from secrecy.models import Record
from secrecy.policy.engine import Signer
from secrecy.records.reveal import SealedLevel, assessment_levels
from tests import factories

INSTRUMENT = ("samverkan-risk-skydd", "1")


def enrol(db: Session, user: User, council: Council, number: str = "20121212-1212") -> Child:
    """Kim Testsson, enrolled on ``council`` by ``user``."""
    return factories.enrol(db, user, council, number, "Kim", "Testsson")


def assess(
    db: Session,
    user: User,
    child: Child,
    scores: Mapping[str, str | None],
    *,
    day: dt.date,
    comments: Mapping[str, str] | None = None,
    instrument: tuple[str, str] = INSTRUMENT,
    overall_level: str | None = None,
) -> Assessment:
    comments = comments or {}
    areas = {
        code: AreaInput(score=score, comment=comments.get(code, ""))
        for code, score in scores.items()
    }
    for code, text in comments.items():
        areas.setdefault(code, AreaInput(score=None, comment=text))
    return record_assessment(
        db,
        user,
        child,
        AssessmentInput(
            instrument_id=instrument[0],
            instrument_version=instrument[1],
            assessed_on=day,
            areas=areas,
            overall_level=overall_level,
        ),
    )


def level_of(db: Session, assessment: Assessment) -> str | None:
    """The overall level sealed on the row for the council's counts (None: erased)."""
    sealed = assessment.overall_level_sealed
    if sealed is None:
        return None
    [level] = assessment_levels(
        db, [SealedLevel(assessment.child_id, assessment.overall_record_id, sealed)]
    )
    return level


def area_records(db: Session, assessment: Assessment, codes: Sequence[str]) -> list[Record]:
    by_code = {a.area_code: a.record_id for a in assessment.areas}
    return [db.get_one(Record, by_code[code]) for code in codes if by_code.get(code)]


def disclose_on_consent(
    db: Session, owner: User, child: Child, to: Agency, records: Sequence[Record]
) -> None:
    """The guardians consent to these categories going to ``to``; the owner discloses."""
    register_consent(
        db,
        owner,
        child,
        ConsentData(
            signers={Signer.GUARDIAN_1: "G", Signer.GUARDIAN_2: "H", Signer.YOUNG_PERSON: "Y"},
            two_guardians=True,
            agency_ids=[to.id],
            categories=sorted({r.category for r in records}),
            purpose="SSPF",
        ),
    )
    for record in records:
        decide_disclosure(
            db, owner, record, to, "consent", [0], assessment="Samtycke från vårdnadshavarna."
        )
