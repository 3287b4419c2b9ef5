"""The demo's structured assessments: in SSPF Norr the social secretary assessed Hugo twice, two
months apart, and disclosed the school and leisure areas of each to the school on the family's
consent; the council reminds of a reassessment after 90 days. The scores and comments are
invented."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.db import today_local
from coordination.models import AgencyKind
from demo.coordination import SECRETARY, demo_users
from demo.secrecy import demo_children, disclose_as_engine_allows
from minutes.assessments.instruments import catalogue
from minutes.assessments.models import Assessment
from minutes.assessments.services import AreaInput, AssessmentInput, record_assessment
from secrecy.models import Record

FIRST = {
    "behaviour": ("1", "Två incidenter med snatteri i höstas."),
    "family": ("1", "Föräldrarna har svårt att sätta gränser för kvällarna."),
    "school": ("2", "Hög frånvaro, särskilt på eftermiddagarna."),
    "peers": ("2", "Umgås med äldre ungdomar i centrum."),
    "leisure": ("2", "Ingen fast aktivitet; sent ute flera kvällar i veckan."),
    "trusted_adult": ("1", "Morfar är en viktig vuxen."),
    "school_bond": ("0", ""),
    "structured_leisure": ("0", ""),
}
SECOND = {
    "behaviour": ("1", "Inga nya incidenter sedan förra bedömningen."),
    "family": ("1", "Familjen har börjat i föräldrastöd."),
    "school": ("1", "Närvaron har ökat efter nytt schema."),
    "peers": ("1", "Mindre tid med de äldre ungdomarna."),
    "leisure": ("1", "Provar på fotboll en kväll i veckan."),
    "trusted_adult": ("2", "Morfar och mentorn i skolan."),
    "school_bond": ("1", "Bra relation till mentorn."),
    "structured_leisure": ("1", "Fotbollen."),
}
DISCLOSED_AREAS = ("school", "leisure", "school_bond", "structured_leisure")


def load_assessments_demo(session: Session) -> None:
    """Does nothing when the demo has assessments already."""
    if session.scalar(select(Assessment.id).limit(1)) is not None:
        return
    hugo = demo_children(session).get("hugo")
    if hugo is None:
        return
    secretary = demo_users(session)[SECRETARY]
    instrument = catalogue().current()[0]
    school = next(a for a in hugo.council.agencies if a.kind is AgencyKind.SCHOOL)
    today = today_local()
    hugo.council.assessment_interval_days = 90
    for days_ago, scores in ((75, FIRST), (14, SECOND)):
        made = record_assessment(
            session,
            secretary,
            hugo,
            AssessmentInput(
                instrument_id=instrument.id,
                instrument_version=instrument.version,
                assessed_on=today - dt.timedelta(days=days_ago),
                areas={code: AreaInput(score, text) for code, (score, text) in scores.items()},
                overall_comment="Bedömd i samtal med Hugo och vårdnadshavarna.",
            ),
        )
        for area in made.areas:
            if area.area_code in DISCLOSED_AREAS and area.record_id is not None:
                record = session.get_one(Record, area.record_id)
                disclose_as_engine_allows(session, secretary, record, school, ("consent",))
    session.flush()
