"""API: individual plans, their versions and evaluations, with the pages' services and access
rules (``minutes.plans.access``). Texts are opened with one ``reveal_records`` call per
request; a text the token's agency may not read is withheld with the reason."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from coordination.api.core import ApiBlueprint, annotated_model, api_user
from coordination.councils.access import council_for
from coordination.db import db_session
from coordination.errors import ServiceError, fields_named
from coordination.models import Agency, Child, User
from coordination.policy import Need
from meetings.agenda.access import meeting_for
from minutes.plans import evaluation, goals, services
from minutes.plans.access import PlanChange, change_for, plan_for, version_for
from minutes.plans.api_models import (
    MEASURE_FIELDS,
    AgreeIn,
    EvaluationIn,
    GoalIn,
    MeasureIn,
    PlanIn,
    PlanListOut,
    PlanOut,
    PlanSummaryOut,
    ReviseIn,
    VersionOut,
    VersionRef,
    ViewsIn,
)
from minutes.plans.models import (
    IndividualPlan,
    PlanGoal,
    PlanVersion,
)
from minutes.plans.reading import VersionView, read_version
from minutes.workspace.sharing import ShareChoice
from secrecy.records.api import record_out

bp = ApiBlueprint(
    "api_plans",
    __name__,
    tag="Individuella planer",
    description=(
        "Individuella planer: mål, insatser, barnets och vårdnadshavarnas syn, versioner som "
        "fastställs vid möten och uppföljning av målen. Texterna är sekretessbelagda uppgifter."
    ),
)


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
        versions=[VersionRef.model_validate(v) for v in plan.versions],
        current=_version_out(read_version(session, user, latest)),
    )


@bp.operation("/councils/<int:council_id>/plans", summary="Forumets individuella planer")
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


@bp.operation("/plans/<int:plan_id>", summary="En individuell plan")
def plan(plan_id: int) -> PlanOut:
    """Planen med dess senaste version: mål, insatser, synpunkter och uppföljning. För forumets
    medlemmar; texter som inte har lämnats ut till din myndighet visas som undanhållna."""
    session = db_session()
    user = api_user()
    return _plan_out(session, user, plan_for(session, user, plan_id, Need.VIEW))


@bp.operation(
    "/plan-versions/<int:version_id>",
    summary="En version av en individuell plan",
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
    summary="Upprätta en individuell plan",
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


ChangeOperation = Callable[[PlanChange, Any], None]


def _plan_change(
    rule: str, *, summary: str, status: int = 200
) -> Callable[[ChangeOperation], ChangeOperation]:
    """Declare a POST that changes the plan (``plan_id`` in ``rule``) or one of its goals
    (``goal_id``) and answers with the plan; the decorated function gets the plan loaded for
    writing and the body (the model its ``body`` is annotated with), and calls its one
    service."""

    def decorator(change: ChangeOperation) -> ChangeOperation:
        @functools.wraps(change)
        def operation(body: BaseModel, **ids: int) -> PlanOut:
            session = db_session()
            user = api_user()
            loaded = change_for(session, user, **ids)
            change(loaded, body)
            return _plan_out(session, user, loaded.plan)

        bp.operation(
            rule,
            method="POST",
            summary=summary,
            body=annotated_model(change, "body"),
            response=PlanOut,
            status=status,
        )(operation)
        return change

    return decorator


@_plan_change("/plans/<int:plan_id>/goals", summary="Nytt mål i planens utkast", status=201)
def add_goal(change: PlanChange, body: GoalIn) -> None:
    """Målet blir en sekretessbelagd uppgift från din myndighet. Måldatum får inte ha
    passerat. En plan som fastställts i ett justerat protokoll ändras med en ny version."""
    goal = goals.GoalInput(body.area, body.target_date, body.text, body.indicator)
    change.call(goals.add_goal, change.version, goal, expected_version=body.version)


@_plan_change(
    "/plans/<int:plan_id>/views",
    summary="Barnets/den unges och vårdnadshavarnas syn",
)
def set_views(change: PlanChange, body: ViewsIn) -> None:
    """Synpunkterna som sekretessbelagda uppgifter från din myndighet; en tom lämnas orörd."""
    change.call(
        services.set_views,
        change.version,
        body.youth_view,
        body.guardian_view,
        expected_version=body.version,
    )


@_plan_change("/plans/<int:plan_id>/versions", summary="Ny version av planen", status=201)
def revise(change: PlanChange, body: ReviseIn) -> None:
    """Ett nytt utkast efter en fastställd version, med skälet till ändringen."""
    change.call(services.revise_plan, change.plan, body.reason, expected_version=body.version)


@_plan_change("/plans/<int:plan_id>/agree", summary="Fastställ planens utkast vid ett möte")
def agree(change: PlanChange, body: AgreeIn) -> None:
    """Utkastet fastställs vid mötet och antecknas i dess protokoll; det låses med protokollet
    vid justeringen."""
    meeting = meeting_for(change.session, change.user, body.meeting_id, Need.WRITE)
    expected = body.version
    if body.evaluate_on is not None:
        change.call(
            services.set_evaluation_date,
            change.version,
            body.evaluate_on,
            expected_version=expected,
        )
        expected = change.plan.version
    change.call(services.agree_version, change.version, meeting, expected_version=expected)


@_plan_change(
    "/plans/goals/<int:goal_id>/evaluations",
    summary="Följ upp ett mål",
    status=201,
)
def evaluate(change: PlanChange, body: EvaluationIn) -> None:
    """Bedömning (uppnått, delvis, inte uppnått, inte längre aktuellt) med kommentar, för ett
    mål i den gällande versionen."""
    change.call(
        evaluation.evaluate_goal,
        change.goal,
        body.outcome,
        body.comment,
        expected_version=body.version,
    )


@_plan_change(
    "/plans/goals/<int:goal_id>/measures",
    summary="Ny insats för ett mål",
    status=201,
)
def add_measure(change: PlanChange, body: MeasureIn) -> None:
    """En ny överenskommen åtgärd vid mötet, kopplad som insats till ett mål i planens senaste
    version och antecknad i mötets protokoll. Beskrivningen blir en sekretessbelagd uppgift från
    din myndighet; den lämnas ut till de myndigheter du anger (en annan ansvarig myndighet måste
    vara med) med en skriftlig bedömning. Ansvarig myndighet måste delta i forumet och datumet
    får inte ha passerat; annars ändras ingenting."""
    session = change.session
    meeting = meeting_for(session, change.user, body.meeting_id, Need.WRITE)
    responsible_user = (
        session.get(User, body.responsible_user_id) if body.responsible_user_id else None
    )
    with fields_named(MEASURE_FIELDS):
        change.call(
            goals.add_measure,
            change.goal,
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


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
