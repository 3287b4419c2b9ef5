"""Evaluating a plan: at the evaluation date each goal of the version in force is assessed
(reached, partly, not reached, no longer relevant) with a comment, a sealed record of the
assessor's agency. A version whose goals are all assessed is evaluated; the next step is a new
version with a reason (``services.revise_plan``)."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.errors import ServiceError
from coordination.models import User
from minutes.plans.models import (
    EvaluationOutcome,
    GoalEvaluation,
    PlanGoal,
    PlanVersion,
    PlanVersionStatus,
)
from minutes.plans.services import (
    Sharing,
    _clean_text,
    _require_writer,
    _seal,
    _touch,
    agreed_version,
)
from minutes.tags import MinutesTag
from minutes.workspace.sharing import ShareChoice


def is_evaluated(version: PlanVersion) -> bool:
    return bool(version.goals) and all(g.evaluation is not None for g in version.goals)


def evaluate_goal(
    session: Session,
    actor: User,
    goal: PlanGoal,
    outcome: EvaluationOutcome | None,
    comment: str,
    *,
    expected_version: int | None = None,
    shares: Sequence[ShareChoice] = (),
    assessment: str | None = None,
) -> GoalEvaluation:
    version = goal.plan_version
    plan = version.plan
    _require_writer(session, actor, plan, expected_version)
    if version.status is PlanVersionStatus.DRAFT:
        raise ServiceError(
            _l("Planen är inte fastställd. Bara mål i en fastställd plan följs upp."),
            field="goal_id",
        )
    if version is not agreed_version(plan):
        raise ServiceError(
            _l(
                "Målet hör till en äldre version av planen. Följ upp målen i den version som "
                "gäller."
            ),
            field="goal_id",
        )
    if goal.evaluation is not None:
        raise ServiceError(_l("Målet är redan uppföljt i den här versionen."), field="goal_id")
    if outcome is None:
        raise ServiceError(_l("Välj hur det gick."), field="outcome")
    text = _clean_text(comment, empty=_l("Skriv en kommentar till uppföljningen."), field="comment")
    record, shared = _seal(session, actor, plan, text, Sharing(shares, assessment))
    evaluation = GoalEvaluation(
        goal_id=goal.id, outcome=outcome, comment_record_id=record.id, author_id=actor.id
    )
    session.add(evaluation)
    _touch(plan)
    session.flush()
    session.expire(goal, ["evaluation"])
    record_event(
        session,
        actor,
        MinutesTag.PLAN_EVALUATE,
        on=plan,
        details={
            "child_id": plan.child_id,
            "council_id": plan.council_id,
            "version_id": version.id,
            "goal_key": goal.key,
            "outcome": str(outcome),
            "comment_record_id": record.id,
            "shared_with_agency_ids": shared,
        },
    )
    return evaluation
