"""Who may see and change a plan, and the loaders shared by the pages and the API.

A plan's structure (versions, goals' areas and dates, measures' statuses, evaluations'
outcomes) is visible to every member of the child's council; its texts are sealed records
opened through ``secrecy.records.reveal``. Members of the council write to the plan; guests of
a single meeting never do.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.errors import NotFound, PermissionDenied
from coordination.models import User
from coordination.policy import Need, can_view_council
from minutes.plans.models import IndividualPlan, PlanGoal, PlanVersion


def can_view_plan(user: User, plan: IndividualPlan) -> bool:
    return can_view_council(user, plan.council)


def can_write_plan(user: User, plan: IndividualPlan) -> bool:
    return user.is_active and can_view_plan(user, plan)


def _check(actor: User, plan: IndividualPlan, need: Need, object_type: str, object_id: int) -> None:
    if need is Need.VIEW:
        allowed = can_view_plan(actor, plan)
    elif need is Need.WRITE:
        allowed = can_write_plan(actor, plan)
    else:
        raise ValueError(f"plans cannot decide {need}")
    if not allowed:
        raise PermissionDenied(object_type=object_type, object_ids=[object_id])


def plan_for(session: Session, actor: User, plan_id: int, need: Need = Need.VIEW) -> IndividualPlan:
    """The plan, loaded for ``need``, or a refusal (``NotFound``/``PermissionDenied``, which
    pages and API answer alike)."""
    plan = session.get(IndividualPlan, plan_id)
    if plan is None:
        raise NotFound(object_type="individual_plan", object_ids=[plan_id])
    _check(actor, plan, need, "individual_plan", plan_id)
    return plan


def version_for(
    session: Session, actor: User, version_id: int, need: Need = Need.VIEW
) -> PlanVersion:
    version = session.get(PlanVersion, version_id)
    if version is None:
        raise NotFound(object_type="plan_version", object_ids=[version_id])
    _check(actor, version.plan, need, "plan_version", version_id)
    return version


def goal_for(session: Session, actor: User, goal_id: int, need: Need = Need.VIEW) -> PlanGoal:
    goal = session.get(PlanGoal, goal_id)
    if goal is None:
        raise NotFound(object_type="plan_goal", object_ids=[goal_id])
    _check(actor, goal.plan_version.plan, need, "plan_goal", goal_id)
    return goal


def plan_of_child(session: Session, council_id: int, child_id: int) -> IndividualPlan | None:
    return session.scalars(
        select(IndividualPlan).where(
            IndividualPlan.council_id == council_id, IndividualPlan.child_id == child_id
        )
    ).one_or_none()
