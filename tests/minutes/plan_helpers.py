"""Shared set-up of the individual plan tests: a child on a meeting's agenda and a plan with
goals whose texts carry markers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coordination.db import today_local
from coordination.models import AgencyKind, Child, Council, User
from meetings.models import Meeting, MeetingStatus
from minutes.plans import goals, services
from minutes.plans.models import IndividualPlan, PlanGoal
from minutes.workspace.sharing import ShareChoice
from tests import factories
from tests.conftest import Council3
from tests.factories import enrol, put_on_agenda

SOCIAL = AgencyKind.SOCIAL_SERVICES
POLICE = AgencyKind.POLICE
SCHOOL = AgencyKind.SCHOOL
GOAL_MARK = "PLAN-GOAL-MARK"
INDICATOR_MARK = "PLAN-INDICATOR-MARK"
YOUTH_MARK = "PLAN-YOUTH-MARK"
GUARDIAN_MARK = "PLAN-GUARDIAN-MARK"
EVAL_MARK = "PLAN-EVAL-MARK"
MARKERS = (GOAL_MARK, INDICATOR_MARK, YOUTH_MARK, GUARDIAN_MARK)


# The written assessment behind a plan text's disclosure (issue 19: no decision without one).
SHARE_ASSESSMENT = "Polisen behöver målet för att samordna sina insatser med socialtjänsten."


def to_police(world: Council3) -> list[ShareChoice]:
    return [ShareChoice(world.agencies[POLICE].id, "sol-police-u21", (0, 1, 2, 3))]


def make_meeting(
    db: Session,
    council: Council,
    days_from_now: int,
    child: Child | None = None,
    user: User | None = None,
) -> Meeting:
    starts_at = factories.days_from_now(days_from_now)
    meeting = factories.make_meeting(
        db,
        council,
        starts_at,
        ends_at=starts_at + dt.timedelta(hours=1),
        status=MeetingStatus.PLANNED,
    )
    if child is not None:
        put_on_agenda(db, meeting, child, added_by_id=user.id if user else None)
    return meeting


@dataclass
class PlanSetting:
    child: Child
    plan: IndividualPlan
    goal: PlanGoal
    meeting: Meeting


def make_plan(db: Session, world: Council3, *, share: bool = False) -> PlanSetting:
    """A plan written by social services: one goal and both views (shared with the police when
    ``share``), an evaluation date, and a meeting with the child on the agenda."""
    social = world.members[SOCIAL]
    child = enrol(db, social, world.council)
    plan = services.create_plan(db, social, child, world.coordinator)
    draft = services.latest_version(plan)
    shares = to_police(world) if share else []
    goal = goals.add_goal(
        db,
        social,
        draft,
        goals.GoalInput("school", today_local() + dt.timedelta(days=90), GOAL_MARK, INDICATOR_MARK),
        shares=shares,
        assessment=SHARE_ASSESSMENT,
    )
    services.set_views(
        db, social, draft, YOUTH_MARK, GUARDIAN_MARK, shares=shares, assessment=SHARE_ASSESSMENT
    )
    services.set_evaluation_date(db, social, draft, today_local() + dt.timedelta(days=30))
    meeting = make_meeting(db, world.council, 1, child, social)
    return PlanSetting(child, plan, goal, meeting)


def agree_plan(db: Session, world: Council3, s: PlanSetting) -> None:
    """Social services agree the plan's current version at the setting's meeting."""
    services.agree_version(db, world.members[SOCIAL], services.latest_version(s.plan), s.meeting)
