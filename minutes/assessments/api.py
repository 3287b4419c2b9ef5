"""API: structured assessments, their instruments and a council's suppressed statistics.

The same services and access rules as the pages: the members of the child's council read an
assessment's metadata; each area's score and comment is a sealed record, opened with one
``reveal_records`` call per request, and withheld (with the reason) from an agency that holds no
disclosure of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from pydantic import Field
from sqlalchemy.orm import Session

from coordination.api.core import ApiBlueprint, ApiModel, OutModel, api_user
from coordination.councils.access import council_for
from coordination.db import db_session
from coordination.errors import ServiceError
from coordination.models import Child, User
from coordination.policy import Need
from meetings.agenda.api import PersonRef, person_ref
from minutes.assessments import services, stats
from minutes.assessments.access import assessment_for
from minutes.assessments.instruments import Instrument, catalogue
from minutes.assessments.models import Assessment
from secrecy.records.access import child_for
from secrecy.records.api import AgencyRef, RecordOut, record_out
from secrecy.records.reveal import Revealed

bp = ApiBlueprint(
    "api_assessments",
    __name__,
    tag="Bedömningar",
    description=(
        "Strukturerade bedömningar av risk- och skyddsfaktorer: instrumenten, ett barns "
        "bedömningar (varje område är en egen sekretessbelagd uppgift), ny bedömning och "
        "forumets statistik (bara antal, celler under 5 undertryckta)."
    ),
)


# --- Instruments --------------------------------------------------------------------------------


class ScaleStepOut(OutModel):
    value: str
    label: str


class AreaDefinitionOut(OutModel):
    code: str
    label: str
    description: str
    kind: str = Field(description="risk, protective eller both.")
    critical: bool
    category: str = Field(description="Kategorin som områdets uppgift sparas i.")
    scale: list[ScaleStepOut]


class LevelOut(OutModel):
    code: str
    label: str


class InstrumentOut(OutModel):
    id: str
    version: str
    name: str
    replaced: bool = Field(description="En ersatt version: går att använda, visas som ersatt.")
    age_min: int
    age_max: int
    overall_method: str = Field(description="rule: räknas fram; assessor: sätts av bedömaren.")
    levels: list[LevelOut]
    areas: list[AreaDefinitionOut]


class InstrumentList(OutModel):
    items: list[InstrumentOut]


def instrument_out(instrument: Instrument) -> InstrumentOut:
    return InstrumentOut(
        id=instrument.id,
        version=instrument.version,
        name=instrument.name,
        replaced=instrument.is_replaced,
        age_min=instrument.age_min,
        age_max=instrument.age_max,
        overall_method=instrument.overall.method,
        levels=[LevelOut.model_validate(lvl) for lvl in instrument.overall.levels],
        areas=[
            AreaDefinitionOut(
                code=area.code,
                label=area.label,
                description=area.description,
                kind=area.kind.value,
                critical=area.critical,
                category=area.category,
                scale=[ScaleStepOut.model_validate(s) for s in instrument.scale_of(area).steps],
            )
            for area in instrument.areas
        ],
    )


@bp.operation("/assessment-instruments", summary="Bedömningsinstrumenten")
def instruments() -> InstrumentList:
    """Alla instrumentversioner som är inlästa, även ersatta versioner."""
    return InstrumentList(items=[instrument_out(i) for i in catalogue().all()])


# --- Assessments --------------------------------------------------------------------------------


class AreaOut(OutModel):
    code: str
    label: str
    not_assessed: bool
    withheld: bool = Field(description="Områdets uppgift har inte lämnats ut till din myndighet.")
    score: str | None = Field(description="Värdet på skalan; null om undanhållet/ej bedömt.")
    comment: str | None = Field(description="Kommentaren; null om undanhållen.")
    record: RecordOut | None = Field(description="Områdets uppgift; null om ej bedömt.")


class AssessmentOut(OutModel):
    id: int
    child_id: int
    instrument_id: str
    instrument_version: str
    replaced_version: bool = Field(description="Gjord med en ersatt version av instrumentet.")
    assessed_on: dt.date
    assessor: PersonRef
    agency: AgencyRef
    overall_level: str | None = Field(description="Den samlade nivån; null om undanhållen.")
    overall: RecordOut = Field(description="Den samlade nivån som sekretessbelagd uppgift.")
    areas: list[AreaOut]


class AssessmentList(OutModel):
    items: list[AssessmentOut]


def assessment_out(view: services.AssessmentView) -> AssessmentOut:
    a = view.assessment
    level = view.overall.content.get("level") if isinstance(view.overall, Revealed) else None
    return AssessmentOut(
        id=a.id,
        child_id=a.child_id,
        instrument_id=a.instrument_id,
        instrument_version=a.instrument_version,
        replaced_version=view.replaced,
        assessed_on=a.assessed_on,
        assessor=person_ref(a.assessor),
        agency=AgencyRef.model_validate(a.agency),
        overall_level=level,
        overall=record_out(view.overall),
        areas=[
            AreaOut(
                code=area.code,
                label=area.label,
                not_assessed=area.not_assessed,
                withheld=area.withheld,
                score=area.score,
                comment=None if area.withheld or area.result is None else area.comment,
                record=record_out(area.result) if area.result is not None else None,
            )
            for area in view.areas
        ],
    )


@bp.operation(
    "/children/<int:child_id>/assessments",
    summary="Ett barns strukturerade bedömningar",
)
def child_assessments(child_id: int) -> AssessmentList:
    """Äldsta först. Områden som inte har lämnats ut till din myndighet visas som
    undanhållna, med skälet."""
    session = db_session()
    user = api_user()
    child = child_for(session, user, child_id)
    views = services.assessment_views(
        session, user, services.assessments_of(session, child), purpose="assessments"
    )
    return AssessmentList(items=[assessment_out(v) for v in views])


@bp.operation("/assessments/<int:assessment_id>", summary="En bedömning")
def assessment(assessment_id: int) -> AssessmentOut:
    """För forumets medlemmar; poäng och kommentarer bara där de har lämnats ut."""
    session = db_session()
    user = api_user()
    found = assessment_for(session, user, assessment_id, Need.VIEW)
    return assessment_out(services.assessment_views(session, user, [found], "assessment")[0])


class AreaIn(ApiModel):
    score: str | None = Field(
        None, max_length=40, description="Ett värde på skalan; null: ej bedömt."
    )
    comment: str = Field("", max_length=services.MAX_COMMENT)


class AssessmentIn(ApiModel):
    instrument_id: str = Field(min_length=1, max_length=40)
    instrument_version: str = Field(min_length=1, max_length=20)
    assessed_on: dt.date
    areas: dict[str, AreaIn] = Field(
        description="Per områdeskod. Områden som saknas räknas som ej bedömda."
    )
    overall_level: str | None = Field(
        None, max_length=40, description="Bara när instrumentet låter bedömaren sätta nivån."
    )
    overall_comment: str = Field("", max_length=services.MAX_COMMENT)


@contextmanager
def _body_fields() -> Iterator[None]:
    """The service names the form's fields (``score_school``); the API names the body's
    (``areas.school.score``)."""
    try:
        yield
    except ServiceError as exc:
        name = exc.field or ""
        for prefix, leaf in (("score_", "score"), ("comment_", "comment")):
            if name.startswith(prefix):
                raise ServiceError(
                    exc.message, field=f"areas.{name.removeprefix(prefix)}.{leaf}"
                ) from exc
        raise


@bp.operation(
    "/children/<int:child_id>/assessments",
    method="POST",
    summary="Ny bedömning",
    status=201,
)
def record_assessment(child_id: int, body: AssessmentIn) -> AssessmentOut:
    """Bedömningen blir din myndighets: varje område sparas som en egen uppgift som andra
    myndigheter ser först efter beslut om uppgiftslämning. Poäng utanför skalan, områden som
    inte finns i instrumentet och ett datum i framtiden ger 422 och ändrar ingenting."""
    session = db_session()
    user = api_user()
    child = child_for(session, user, child_id)
    with _body_fields():
        created = _record_from_body(session, user, child, body)
    return assessment_out(services.assessment_views(session, user, [created], "assessment")[0])


def _record_from_body(session: Session, user: User, child: Child, body: AssessmentIn) -> Assessment:
    return services.record_assessment(
        session,
        user,
        child,
        services.AssessmentInput(
            instrument_id=body.instrument_id,
            instrument_version=body.instrument_version,
            assessed_on=body.assessed_on,
            areas={
                code: services.AreaInput(score=area.score, comment=area.comment)
                for code, area in body.areas.items()
            },
            overall_level=body.overall_level,
            overall_comment=body.overall_comment,
        ),
    )


# --- Statistics ---------------------------------------------------------------------------------


class LevelCountOut(OutModel):
    code: str
    label: str
    count: int | None = Field(description="Antal barn; null när antalet är under 5.")


class ChangeCountOut(OutModel):
    change: stats.Change
    count: int | None = Field(description="Antal barn; null när antalet är under 5.")


class InstrumentStatisticsOut(OutModel):
    instrument_id: str
    name: str
    latest_levels: list[LevelCountOut] = Field(description="Senaste samlade nivå per barn.")
    changes: list[ChangeCountOut] = Field(
        description="Från första till senaste bedömningen, barn med minst två bedömningar."
    )


class StatisticsOut(OutModel):
    council_id: int
    suppressed_below: int
    instruments: list[InstrumentStatisticsOut]


@bp.operation(
    "/councils/<int:council_id>/assessment-statistics",
    summary="Forumets bedömningsstatistik",
)
def statistics(council_id: int) -> StatisticsOut:
    """Bara antal, inga pseudonymer; antal under 5 visas som null."""
    session = db_session()
    council = council_for(session, api_user(), council_id, Need.VIEW)
    return StatisticsOut(
        council_id=council.id,
        suppressed_below=stats.SUPPRESS_BELOW,
        instruments=[
            InstrumentStatisticsOut(
                instrument_id=s.instrument_id,
                name=s.name,
                latest_levels=[LevelCountOut.model_validate(c) for c in s.levels],
                changes=[ChangeCountOut.model_validate(c) for c in s.changes],
            )
            for s in stats.council_statistics(session, council)
        ],
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
