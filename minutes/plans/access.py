"""Who may see and change a plan, and the loaders shared by the pages and the API.

A plan's structure (versions, goals' areas and dates, measures' statuses, evaluations'
outcomes) is visible to every member of the child's council; its texts are sealed records
opened through ``secrecy.records.reveal``. Members of the council write to the plan; guests of
a single meeting never do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.errors import PermissionDenied, get_or_not_found
from coordination.models import User
from coordination.policy import Need, can_view_council
from minutes.plans.models import IndividualPlan, PlanGoal, PlanVersion

P = ParamSpec("P")
R = TypeVar("R")


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
    plan = get_or_not_found(session, IndividualPlan, plan_id, "individual_plan")
    _check(actor, plan, need, "individual_plan", plan_id)
    return plan


def version_for(
    session: Session, actor: User, version_id: int, need: Need = Need.VIEW
) -> PlanVersion:
    version = get_or_not_found(session, PlanVersion, version_id, "plan_version")
    _check(actor, version.plan, need, "plan_version", version_id)
    return version


def goal_for(session: Session, actor: User, goal_id: int, need: Need = Need.VIEW) -> PlanGoal:
    goal = get_or_not_found(session, PlanGoal, goal_id, "plan_goal")
    _check(actor, goal.plan_version.plan, need, "plan_goal", goal_id)
    return goal


def latest_version(plan: IndividualPlan) -> PlanVersion:
    return max(plan.versions, key=lambda v: v.number)


@dataclass
class PlanChange:
    """A plan loaded for writing by ``user``, with the version a change goes to (the newest,
    or the goal's) and the goal when the change is to one of its goals."""

    session: Session
    user: User
    plan: IndividualPlan
    version: PlanVersion
    changed_goal: PlanGoal | None

    @property
    def goal(self) -> PlanGoal:
        if self.changed_goal is None:
            raise LookupError("a change to the plan, not to one of its goals")
        return self.changed_goal

    def call(
        self, service: Callable[Concatenate[Session, User, P], R], *args: P.args, **kw: P.kwargs
    ) -> R:
        """``service(session, user, *args, **kw)``: the one service the change calls."""
        return service(self.session, self.user, *args, **kw)


def change_for(
    session: Session, actor: User, *, plan_id: int | None = None, goal_id: int | None = None
) -> PlanChange:
    """The plan (``plan_id``) or the goal (``goal_id``) loaded for writing, or a refusal."""
    if goal_id is not None:
        goal = goal_for(session, actor, goal_id, Need.WRITE)
        return PlanChange(session, actor, goal.plan_version.plan, goal.plan_version, goal)
    if plan_id is None:
        raise TypeError("change_for needs a plan_id or a goal_id")
    plan = plan_for(session, actor, plan_id, Need.WRITE)
    return PlanChange(session, actor, plan, latest_version(plan), None)


def plan_of_child(session: Session, council_id: int, child_id: int) -> IndividualPlan | None:
    return session.scalars(
        select(IndividualPlan).where(
            IndividualPlan.council_id == council_id, IndividualPlan.child_id == child_id
        )
    ).one_or_none()
