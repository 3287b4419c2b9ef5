"""What a meeting's printed minutes and PDF say about the plans agreed at it: for each child,
"Individuell plan version N fastställd" with the number of goals and their life areas. The
structure only, which every member of the council may see; no text of the plan, so nothing here
needs ``secrecy.records.reveal`` (the plan page shows the texts to those who may read them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from coordination.models import Child
from meetings.models import Meeting
from minutes.plans.areas import area_label
from minutes.plans.models import IndividualPlan, PlanVersion


@dataclass(frozen=True)
class AgreedPlan:
    """A plan version agreed at the meeting, as its minutes record it."""

    child: Child
    plan_id: int
    number: int
    goals: int
    areas: tuple[str, ...]  # the goals' life areas (labels), each once, in the goals' order
    evaluate_on: dt.date | None


def plans_agreed_at(session: Session, meeting: Meeting) -> list[AgreedPlan]:
    """The plan versions agreed at the meeting (whatever became of them later: the minutes
    record what the meeting agreed), by child pseudonym and version number; two queries."""
    versions = session.scalars(
        select(PlanVersion)
        .join(IndividualPlan, IndividualPlan.id == PlanVersion.plan_id)
        .where(PlanVersion.agreed_meeting_id == meeting.id)
        .options(
            selectinload(PlanVersion.goals),
            selectinload(PlanVersion.plan).selectinload(IndividualPlan.child),
        )
    ).all()
    agreed = []
    for version in versions:
        goals = sorted(version.goals, key=lambda g: (g.position, g.id))
        agreed.append(
            AgreedPlan(
                child=version.plan.child,
                plan_id=version.plan_id,
                number=version.number,
                goals=len(goals),
                areas=tuple(dict.fromkeys(area_label(g.area) for g in goals)),
                evaluate_on=version.evaluate_on,
            )
        )
    return sorted(agreed, key=lambda a: (a.child.pseudonym, a.number))
