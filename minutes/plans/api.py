"""API: individual plans, their versions and evaluations, with the pages' services and access
rules (``minutes.plans.access``). Texts are opened with one ``reveal_records`` call per
request; a text the token's agency may not read is withheld with the reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from flask import Flask
from flask_babel import lazy_gettext as _l
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from coordination.api.core import ApiBlueprint, ApiModel, OutModel, api_user
from coordination.councils.access import council_for
from coordination.db import db_session
from coordination.errors import ServiceError
from coordination.models import Agency, Child, User
from coordination.policy import Need
from coordination.tokens.services import Scope
from coordination.web.converters import MAX_DB_ID
from meetings.agenda.access import meeting_for
from minutes.plans import evaluation, services
from minutes.plans.access import goal_for, plan_for, version_for
from minutes.plans.models import (
    EvaluationOutcome,
    IndividualPlan,
    PlanGoal,
    PlanVersion,
    PlanVersionStatus,
)
from minutes.plans.reading import VersionView, read_version
from minutes.workspace.sharing import ShareChoice
from secrecy.records.api import RecordOut, record_out

bp = ApiBlueprint(
    "api_plans",
    __name__,
    tag="Individuella planer",
    description=(
        "Individuella planer: mål, insatser, barnets och vårdnadshavarnas syn, versioner som "
        "fastställs vid möten och uppföljning av målen. Texterna är sekretessbelagda uppgifter."
    ),
)

Id = Field(ge=1, le=MAX_DB_ID)


class MeasureOut(OutModel):
    action_id: int
    responsible_agency_id: int
    due_date: dt.date
    status: str
    description: RecordOut


class GoalOut(OutModel):
    id: int
    key: int = Field(description="Samma mål har samma nyckel i alla versioner.")
    area: str = Field(description="Livsområde (nyckel).")
    target_date: dt.date
    text: RecordOut
    indicator: RecordOut
    measures: list[MeasureOut]
    outcome: EvaluationOutcome | None = Field(description="Uppföljningens bedömning; null före.")
    evaluation_comment: RecordOut | None


class VersionOut(OutModel):
    id: int
    number: int
    status: PlanVersionStatus
    evaluate_on: dt.date | None
    agreed_meeting_id: int | None
    locked: bool = Field(description="Fastställd i ett justerat protokoll (eller ersatt).")
    evaluated: bool = Field(description="Alla mål är uppföljda.")
    reason: RecordOut | None = Field(description="Skälet till en ny version; null för den första.")
    youth_view: RecordOut | None
    guardian_view: RecordOut | None
    goals: list[GoalOut]


class VersionRef(OutModel):
    id: int
    number: int
    status: PlanVersionStatus


class PlanOut(OutModel):
    id: int
    council_id: int
    child_id: int
    pseudonym: str
    coordinator_id: int | None
    version: int = Field(description="Skicka med vid ändringar; ändras vid varje ändring.")
    versions: list[VersionRef] = Field(description="Planens versioner, äldst först.")
    current: VersionOut = Field(description="Den senaste versionen.")


class PlanSummaryOut(OutModel):
    id: int
    child_id: int
    pseudonym: str
    coordinator_id: int | None
    latest_version: int
    status: PlanVersionStatus = Field(description="Den senaste versionens status.")
    goals: int = Field(description="Antal mål i den senaste versionen.")
    evaluate_on: date | None = Field(description="Uppföljningsdatum för den gällande versionen.")
    evaluated: bool = Field(description="Den gällande versionens mål är alla uppföljda.")


class PlanListOut(OutModel):
    items: list[PlanSummaryOut]


class PlanIn(ApiModel):
    child_id: int = Id
    coordinator_id: int = Id


class Versioned(ApiModel):
    version: int = Field(ge=0, le=2**31 - 1, description="Planens version (PlanOut.version).")


class GoalIn(Versioned):
    area: str = Field(max_length=40)
    text: str = Field(max_length=services.MAX_GOAL)
    indicator: str = Field(max_length=services.MAX_GOAL)
    target_date: dt.date


class ViewsIn(Versioned):
    youth_view: str = Field("", max_length=services.MAX_TEXT)
    guardian_view: str = Field("", max_length=services.MAX_TEXT)


class ReviseIn(Versioned):
    reason: str = Field(max_length=services.MAX_TEXT)


class AgreeIn(Versioned):
    meeting_id: int = Id
    evaluate_on: dt.date | None = Field(None, description="Uppföljningsdatum, om det inte är satt.")


class EvaluationIn(Versioned):
    outcome: EvaluationOutcome
    comment: str = Field(max_length=services.MAX_TEXT)


class ShareIn(ApiModel):
    agency_id: int = Id
    basis_id: str = Field(max_length=80, description="Rättslig grund (id ur regelverket).")
    confirmations: list[int] = Field(
        default_factory=list,
        max_length=20,
        description="Index för varje förutsättning som bekräftas (alla grundens krävs).",
    )


class MeasureIn(Versioned):
    meeting_id: int = Field(
        ge=1, le=MAX_DB_ID, description="Mötet där insatsen beslutas (barnet på dagordningen)."
    )
    text: str = Field(max_length=services.MAX_TEXT, description="Vad ska göras.")
    responsible_agency_id: int = Field(
        ge=1, le=MAX_DB_ID, description="En myndighet som deltar i forumet."
    )
    responsible_user_id: int | None = Field(None, ge=1, le=MAX_DB_ID)
    due_date: dt.date = Field(description="Klart senast; får inte ha passerat.")
    shares: list[ShareIn] = Field(
        default_factory=list,
        max_length=50,
        description=(
            "Myndigheter i forumet som beskrivningen lämnas ut till. Är en annan myndighet "
            "ansvarig måste den finnas med."
        ),
    )
    assessment: str | None = Field(
        None,
        max_length=10_000,
        description="Den skriftliga bedömningen bakom utlämnandet; krävs om något lämnas ut.",
    )


# The service's field names, as the measure's body names them.
MEASURE_FIELDS = {
    "basis": "shares",
    "confirmations": "shares",
    "recipient": "shares",
    "due_on": "due_date",
}


@contextmanager
def _measure_fields() -> Iterator[None]:
    try:
        yield
    except ServiceError as exc:
        if exc.field not in MEASURE_FIELDS:
            raise
        raise ServiceError(exc.message, field=MEASURE_FIELDS[exc.field]) from exc


def _version_out(view: VersionView) -> VersionOut:
    def out(result: object) -> object:
        return record_out(result) if result is not None else None  # type: ignore[arg-type]

    return VersionOut.model_validate(
        {
            "id": view.version.id,
            "number": view.version.number,
            "status": view.version.status,
            "evaluate_on": view.version.evaluate_on,
            "agreed_meeting_id": view.version.agreed_meeting_id,
            "locked": view.locked,
            "evaluated": view.evaluated,
            "reason": out(view.reason),
            "youth_view": out(view.youth_view),
            "guardian_view": out(view.guardian_view),
            "goals": [
                {
                    "id": g.goal.id,
                    "key": g.goal.key,
                    "area": g.goal.area,
                    "target_date": g.goal.target_on,
                    "text": record_out(g.text),
                    "indicator": record_out(g.indicator),
                    "measures": [
                        {
                            "action_id": m.action.id,
                            "responsible_agency_id": m.action.responsible_agency_id,
                            "due_date": m.action.due_on,
                            "status": str(m.action.status),
                            "description": record_out(m.description),
                        }
                        for m in g.measures
                    ],
                    "outcome": g.evaluation.outcome if g.evaluation else None,
                    "evaluation_comment": out(g.evaluation_comment),
                }
                for g in view.goals
            ],
        }
    )


def _plan_out(session: Session, user: User, plan: IndividualPlan) -> PlanOut:
    session.expire(plan, ["versions"])
    latest = services.latest_version(plan)
    return PlanOut(
        id=plan.id,
        council_id=plan.council_id,
        child_id=plan.child_id,
        pseudonym=plan.child.pseudonym,
        coordinator_id=plan.coordinator_id,
        version=plan.version,
        versions=[VersionRef(id=v.id, number=v.number, status=v.status) for v in plan.versions],
        current=_version_out(read_version(session, user, latest)),
    )


@bp.operation(
    "/councils/<int:council_id>/plans", summary="Forumets individuella planer", response=PlanListOut
)
def council_plans(council_id: int) -> PlanListOut:
    """Planernas struktur (versioner, status, antal mål, uppföljningsdatum) för forumets
    medlemmar; inga texter."""
    session = db_session()
    council = council_for(session, api_user(), council_id, Need.VIEW)
    plans = session.scalars(
        select(IndividualPlan)
        .where(IndividualPlan.council_id == council.id)
        .options(
            selectinload(IndividualPlan.child),
            selectinload(IndividualPlan.versions)
            .selectinload(PlanVersion.goals)
            .selectinload(PlanGoal.evaluation),
        )
        .order_by(IndividualPlan.id)
    ).all()
    out = []
    for found in plans:
        latest = services.latest_version(found)
        in_force = services.agreed_version(found)
        out.append(
            PlanSummaryOut(
                id=found.id,
                child_id=found.child_id,
                pseudonym=found.child.pseudonym,
                coordinator_id=found.coordinator_id,
                latest_version=latest.number,
                status=latest.status,
                goals=len(latest.goals),
                evaluate_on=(in_force or latest).evaluate_on,
                evaluated=bool(in_force and evaluation.is_evaluated(in_force)),
            )
        )
    return PlanListOut(items=out)


@bp.operation("/plans/<int:plan_id>", summary="En individuell plan", response=PlanOut)
def plan(plan_id: int) -> PlanOut:
    """Planen med dess senaste version: mål, insatser, synpunkter och uppföljning. För forumets
    medlemmar; texter som inte har lämnats ut till din myndighet visas som undanhållna."""
    session = db_session()
    user = api_user()
    return _plan_out(session, user, plan_for(session, user, plan_id, Need.VIEW))


@bp.operation(
    "/plan-versions/<int:version_id>",
    summary="En version av en individuell plan",
    response=VersionOut,
)
def plan_version(version_id: int) -> VersionOut:
    """En äldre eller gällande version (id från PlanOut.versions), med samma sekretess som
    planen."""
    session = db_session()
    user = api_user()
    return _version_out(read_version(session, user, version_for(session, user, version_id)))


@bp.operation(
    "/councils/<int:council_id>/plans",
    method="POST",
    scope=Scope.WRITE,
    summary="Upprätta en individuell plan",
    body=PlanIn,
    response=PlanOut,
    status=201,
)
def create_plan(council_id: int, body: PlanIn) -> PlanOut:
    """Planen för ett barn i forumet, med ett tomt utkast och en samordnare bland forumets
    medlemmar."""
    session = db_session()
    user = api_user()
    council = council_for(session, user, council_id, Need.VIEW)
    child = session.get(Child, body.child_id)
    if child is None or child.council_id != council.id:
        raise ServiceError(_l("Välj ett barn i forumet."), field="child_id")
    created = services.create_plan(session, user, child, session.get(User, body.coordinator_id))
    return _plan_out(session, user, created)


@bp.operation(
    "/plans/<int:plan_id>/goals",
    method="POST",
    scope=Scope.WRITE,
    summary="Nytt mål i planens utkast",
    body=GoalIn,
    response=PlanOut,
    status=201,
    errors=(409,),
)
def add_goal(plan_id: int, body: GoalIn) -> PlanOut:
    """Målet blir en sekretessbelagd uppgift från din myndighet. Måldatum får inte ha
    passerat. En plan som fastställts i ett justerat protokoll ändras med en ny version."""
    session = db_session()
    user = api_user()
    found = plan_for(session, user, plan_id, Need.WRITE)
    services.add_goal(
        session,
        user,
        services.latest_version(found),
        services.GoalInput(body.area, body.target_date, body.text, body.indicator),
        expected_version=body.version,
    )
    return _plan_out(session, user, found)


@bp.operation(
    "/plans/<int:plan_id>/views",
    method="POST",
    scope=Scope.WRITE,
    summary="Barnets/den unges och vårdnadshavarnas syn",
    body=ViewsIn,
    response=PlanOut,
    errors=(409,),
)
def set_views(plan_id: int, body: ViewsIn) -> PlanOut:
    """Synpunkterna som sekretessbelagda uppgifter från din myndighet; en tom lämnas orörd."""
    session = db_session()
    user = api_user()
    found = plan_for(session, user, plan_id, Need.WRITE)
    services.set_views(
        session,
        user,
        services.latest_version(found),
        body.youth_view,
        body.guardian_view,
        expected_version=body.version,
    )
    return _plan_out(session, user, found)


@bp.operation(
    "/plans/<int:plan_id>/versions",
    method="POST",
    scope=Scope.WRITE,
    summary="Ny version av planen",
    body=ReviseIn,
    response=PlanOut,
    status=201,
    errors=(409,),
)
def revise(plan_id: int, body: ReviseIn) -> PlanOut:
    """Ett nytt utkast efter en fastställd version, med skälet till ändringen."""
    session = db_session()
    user = api_user()
    found = plan_for(session, user, plan_id, Need.WRITE)
    services.revise_plan(session, user, found, body.reason, expected_version=body.version)
    return _plan_out(session, user, found)


@bp.operation(
    "/plans/<int:plan_id>/agree",
    method="POST",
    scope=Scope.WRITE,
    summary="Fastställ planens utkast vid ett möte",
    body=AgreeIn,
    response=PlanOut,
    errors=(409,),
)
def agree(plan_id: int, body: AgreeIn) -> PlanOut:
    """Utkastet fastställs vid mötet och antecknas i dess protokoll; det låses med protokollet
    vid justeringen."""
    session = db_session()
    user = api_user()
    found = plan_for(session, user, plan_id, Need.WRITE)
    meeting = meeting_for(session, user, body.meeting_id, Need.WRITE)
    latest = services.latest_version(found)
    if body.evaluate_on is not None:
        services.set_evaluation_date(
            session, user, latest, body.evaluate_on, expected_version=body.version
        )
        body_version = found.version
    else:
        body_version = body.version
    services.agree_version(session, user, latest, meeting, expected_version=body_version)
    return _plan_out(session, user, found)


@bp.operation(
    "/plans/goals/<int:goal_id>/evaluations",
    method="POST",
    scope=Scope.WRITE,
    summary="Följ upp ett mål",
    body=EvaluationIn,
    response=PlanOut,
    status=201,
    errors=(409,),
)
def evaluate(goal_id: int, body: EvaluationIn) -> PlanOut:
    """Bedömning (uppnått, delvis, inte uppnått, inte längre aktuellt) med kommentar, för ett
    mål i den gällande versionen."""
    session = db_session()
    user = api_user()
    goal = goal_for(session, user, goal_id, Need.WRITE)
    found = goal.plan_version.plan
    evaluation.evaluate_goal(
        session, user, goal, body.outcome, body.comment, expected_version=body.version
    )
    return _plan_out(session, user, found)


@bp.operation(
    "/plans/goals/<int:goal_id>/measures",
    method="POST",
    scope=Scope.WRITE,
    summary="Ny insats för ett mål",
    body=MeasureIn,
    response=PlanOut,
    status=201,
    errors=(409,),
)
def add_measure(goal_id: int, body: MeasureIn) -> PlanOut:
    """En ny överenskommen åtgärd vid mötet, kopplad som insats till ett mål i planens senaste
    version och antecknad i mötets protokoll. Beskrivningen blir en sekretessbelagd uppgift från
    din myndighet; den lämnas ut till de myndigheter du anger (en annan ansvarig myndighet måste
    vara med) med en skriftlig bedömning. Ansvarig myndighet måste delta i forumet och datumet
    får inte ha passerat; annars ändras ingenting."""
    session = db_session()
    user = api_user()
    goal = goal_for(session, user, goal_id, Need.WRITE)
    found = goal.plan_version.plan
    meeting = meeting_for(session, user, body.meeting_id, Need.WRITE)
    responsible_user = (
        session.get(User, body.responsible_user_id) if body.responsible_user_id else None
    )
    with _measure_fields():
        services.add_measure(
            session,
            user,
            goal,
            meeting,
            body.text,
            session.get(Agency, body.responsible_agency_id),
            responsible_user,
            body.due_date,
            shares=[
                ShareChoice(s.agency_id, s.basis_id, tuple(s.confirmations)) for s in body.shares
            ],
            assessment=body.assessment,
            expected_version=body.version,
        )
    return _plan_out(session, user, found)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
