"""The seam into the agenda: a child whose plan is to be evaluated comes onto the agenda of the
last meeting before the evaluation date by itself (and stays on later agendas until the goals
are assessed), as children with open actions do (``minutes.actions.agenda_seam``)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from coordination.db import LOCAL_ZONE
from meetings.agenda.contributors import register_agenda_contributor
from meetings.models import Meeting, MeetingStatus
from minutes.plans.models import (
    GoalEvaluation,
    IndividualPlan,
    PlanGoal,
    PlanVersion,
    PlanVersionStatus,
)


def init_app(app: Flask) -> None:
    register_agenda_contributor(app, children_due_for_evaluation)


_AGREED_AT = aliased(Meeting, name="plan_agreed_at")


def children_due_for_evaluation(session: Session, meeting: Meeting) -> list[int]:
    """Children of the meeting's council whose plan in force (agreed at an earlier meeting) has
    goals not yet assessed and an evaluation date before the council's next meeting after
    this one (or any date, when no later meeting is planned)."""
    next_start = session.scalar(
        select(Meeting.starts_at)
        .where(
            Meeting.council_id == meeting.council_id,
            Meeting.starts_at > meeting.starts_at,
            Meeting.status != MeetingStatus.CANCELLED,
        )
        .order_by(Meeting.starts_at)
        .limit(1)
    )
    unassessed = exists().where(
        PlanGoal.version_id == PlanVersion.id,
        ~exists().where(GoalEvaluation.goal_id == PlanGoal.id),
    )
    query = (
        select(IndividualPlan.child_id)
        .join(PlanVersion, PlanVersion.plan_id == IndividualPlan.id)
        .join(_AGREED_AT, PlanVersion.agreed_meeting_id == _AGREED_AT.id)
        .where(
            IndividualPlan.council_id == meeting.council_id,
            PlanVersion.status == PlanVersionStatus.AGREED,
            PlanVersion.evaluate_on.is_not(None),
            _AGREED_AT.starts_at < meeting.starts_at,
            unassessed,
        )
        .order_by(PlanVersion.evaluate_on, IndividualPlan.child_id)
    )
    if next_start is not None:
        query = query.where(PlanVersion.evaluate_on < next_start.astimezone(LOCAL_ZONE).date())
    return list(dict.fromkeys(session.scalars(query)))
