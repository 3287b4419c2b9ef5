"""Individual plans: one per child and council, in numbered versions; goals per version (a
stable ``key`` follows a goal from version to version), measures (agreed actions linked to a
goal) and evaluations per goal.

The structure (how many goals, their areas, dates, statuses) is visible to every member of the
council. Every text (goal, indicator, the young person's and the guardians' views, the reason
for a new version, an evaluation's comment; a measure's text is its action's description) is a
sealed record of the agency that wrote it.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.db import Base, Versioned, created_at, enum_type, intpk
from coordination.models import Child, Council, User
from meetings.models import Meeting
from minutes.models import AgreedAction


class PlanVersionStatus(enum.StrEnum):
    DRAFT = "draft"  # edited between meetings
    AGREED = "agreed"  # agreed at a meeting; locked with that meeting's minutes
    SUPERSEDED = "superseded"  # a later version was agreed


class EvaluationOutcome(enum.StrEnum):
    REACHED = "reached"
    PARTLY = "partly"
    NOT_REACHED = "not_reached"
    NOT_RELEVANT = "not_relevant"


class IndividualPlan(Versioned, Base):
    """One child's plan in one council. Its ``version`` is raised by every change of the plan
    or one of its versions: a change made against an older version of the page is a conflict."""

    __tablename__ = "individual_plans"

    id: Mapped[intpk]
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]

    council: Mapped[Council] = relationship()
    child: Mapped[Child] = relationship()
    coordinator: Mapped[User | None] = relationship(foreign_keys=[coordinator_id])
    versions: Mapped[list[PlanVersion]] = relationship(
        back_populates="plan", order_by="PlanVersion.number"
    )

    __table_args__ = (UniqueConstraint("council_id", "child_id"),)


class PlanVersion(Base):
    __tablename__ = "plan_versions"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(ForeignKey("individual_plans.id"), index=True)
    number: Mapped[int]
    status: Mapped[PlanVersionStatus] = mapped_column(
        enum_type(PlanVersionStatus, "plan_version_status"), default=PlanVersionStatus.DRAFT
    )
    evaluate_on: Mapped[dt.date | None] = mapped_column(index=True)
    # Why a version after the first was made (sealed).
    reason_record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))
    youth_view_record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))
    guardian_view_record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))
    agreed_meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    agreed_at: Mapped[dt.datetime | None]
    agreed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]

    plan: Mapped[IndividualPlan] = relationship(back_populates="versions")
    agreed_meeting: Mapped[Meeting | None] = relationship()
    goals: Mapped[list[PlanGoal]] = relationship(
        back_populates="plan_version", order_by="PlanGoal.position"
    )

    __table_args__ = (UniqueConstraint("plan_id", "number"),)


class PlanGoal(Base):
    __tablename__ = "plan_goals"

    id: Mapped[intpk]
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("individual_plans.id"), index=True)
    # The same goal in every version of the plan carries the same key.
    key: Mapped[int]
    position: Mapped[int]
    area: Mapped[str] = mapped_column(String(40))
    text_record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    indicator_record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    target_on: Mapped[dt.date]

    plan_version: Mapped[PlanVersion] = relationship(back_populates="goals")
    evaluation: Mapped[GoalEvaluation | None] = relationship(back_populates="goal")

    __table_args__ = (UniqueConstraint("version_id", "key"),)


class PlanMeasure(Base):
    """A measure: an agreed action linked to one goal (an action serves one goal at most)."""

    __tablename__ = "plan_measures"

    action_id: Mapped[int] = mapped_column(ForeignKey("agreed_actions.id"), primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("plan_goals.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("individual_plans.id"), index=True)
    goal_key: Mapped[int]
    linked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    linked_at: Mapped[created_at]

    action: Mapped[AgreedAction] = relationship()


class GoalEvaluation(Base):
    """The assessment of one goal of an agreed version at its evaluation date."""

    __tablename__ = "goal_evaluations"

    id: Mapped[intpk]
    goal_id: Mapped[int] = mapped_column(ForeignKey("plan_goals.id"), unique=True)
    outcome: Mapped[EvaluationOutcome] = mapped_column(
        enum_type(EvaluationOutcome, "evaluation_outcome")
    )
    comment_record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]

    goal: Mapped[PlanGoal] = relationship(back_populates="evaluation")
