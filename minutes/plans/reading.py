"""Reading a plan: one version with its goals, measures, views and evaluations, every text
opened with one ``reveal_records`` call (a withheld text keeps its reason), and what changed
between two versions. Shared by the page, the API, the family's document and the projector."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from coordination.models import User
from minutes.models import AgreedAction
from minutes.plans.evaluation import is_evaluated
from minutes.plans.models import (
    GoalEvaluation,
    IndividualPlan,
    PlanGoal,
    PlanMeasure,
    PlanVersion,
)
from minutes.plans.services import is_locked
from secrecy.models import Record
from secrecy.records.reveal import RevealResult, reveal_records

Reveal = Callable[[Sequence[Record]], list[RevealResult]]


@dataclass
class MeasureView:
    action: AgreedAction
    description: RevealResult


@dataclass
class GoalView:
    goal: PlanGoal
    text: RevealResult
    indicator: RevealResult
    measures: list[MeasureView] = field(default_factory=list)
    evaluation: GoalEvaluation | None = None
    evaluation_comment: RevealResult | None = None


@dataclass
class VersionView:
    plan: IndividualPlan
    version: PlanVersion
    goals: list[GoalView]
    youth_view: RevealResult | None
    guardian_view: RevealResult | None
    reason: RevealResult | None
    locked: bool
    evaluated: bool


def _goals_of(session: Session, version: PlanVersion) -> list[PlanGoal]:
    return list(
        session.scalars(
            select(PlanGoal)
            .where(PlanGoal.version_id == version.id)
            .options(selectinload(PlanGoal.evaluation))
            .order_by(PlanGoal.position, PlanGoal.id)
        )
    )


def _measures_of(session: Session, plan: IndividualPlan) -> dict[int, list[AgreedAction]]:
    """Every measure of the plan by goal key (a goal keeps its measures from version to
    version)."""
    rows = session.execute(
        select(PlanMeasure.goal_key, AgreedAction)
        .join(AgreedAction, AgreedAction.id == PlanMeasure.action_id)
        .where(PlanMeasure.plan_id == plan.id)
        .options(
            selectinload(AgreedAction.responsible_agency),
            selectinload(AgreedAction.responsible_user),
        )
        .order_by(AgreedAction.due_on, AgreedAction.id)
    ).all()
    by_key: dict[int, list[AgreedAction]] = {}
    for key, action in rows:
        by_key.setdefault(key, []).append(action)
    return by_key


def _records(session: Session, ids: Sequence[int]) -> dict[int, Record]:
    if not ids:
        return {}
    return {
        r.id: r
        for r in session.scalars(
            select(Record).where(Record.id.in_(set(ids))).options(selectinload(Record.owner_agency))
        )
    }


def read_version(
    session: Session,
    viewer: User,
    version: PlanVersion,
    *,
    purpose: str = "individual_plan",
    reveal: Reveal | None = None,
) -> VersionView:
    """The version as ``viewer`` may read it. ``reveal``: how the texts are opened (the
    projector narrows it to what every agency present may read); one call either way."""
    plan = version.plan
    goals = _goals_of(session, version)
    measures = _measures_of(session, plan)
    ids: list[int] = []
    for goal in goals:
        ids += [goal.text_record_id, goal.indicator_record_id]
        if goal.evaluation is not None:
            ids.append(goal.evaluation.comment_record_id)
        ids += [a.description_record_id for a in measures.get(goal.key, [])]
    for optional in (
        version.youth_view_record_id,
        version.guardian_view_record_id,
        version.reason_record_id,
    ):
        if optional is not None:
            ids.append(optional)
    records = _records(session, ids)
    ordered = [records[i] for i in dict.fromkeys(ids)]
    opened = (
        reveal(ordered)
        if reveal is not None
        else reveal_records(session, viewer, ordered, purpose=purpose)
    )
    results = {r.record.id: r for r in opened}

    def result(record_id: int | None) -> RevealResult | None:
        return results[record_id] if record_id is not None else None

    views = []
    for goal in goals:
        evaluation = goal.evaluation
        views.append(
            GoalView(
                goal=goal,
                text=results[goal.text_record_id],
                indicator=results[goal.indicator_record_id],
                measures=[
                    MeasureView(a, results[a.description_record_id])
                    for a in measures.get(goal.key, [])
                ],
                evaluation=evaluation,
                evaluation_comment=(
                    results[evaluation.comment_record_id] if evaluation is not None else None
                ),
            )
        )
    return VersionView(
        plan=plan,
        version=version,
        goals=views,
        youth_view=result(version.youth_view_record_id),
        guardian_view=result(version.guardian_view_record_id),
        reason=result(version.reason_record_id),
        locked=is_locked(session, version),
        evaluated=is_evaluated(version),
    )


# --- What changed between two versions ------------------------------------------------------------


@dataclass
class GoalChange:
    key: int
    kind: str  # "added", "removed", "changed"
    fields: list[str]
    before: PlanGoal | None
    after: PlanGoal | None


@dataclass
class VersionChanges:
    before: PlanVersion
    after: PlanVersion
    goals: list[GoalChange]
    views_changed: list[str]
    evaluate_on: tuple[dt.date | None, dt.date | None] | None
    texts: dict[int, RevealResult]


def version_changes(
    session: Session, viewer: User, before: PlanVersion, after: PlanVersion
) -> VersionChanges:
    """Goals added, removed and changed (area, target date, text, indicator) between two
    versions of one plan; the changed texts, both sides, opened in one reveal."""
    old = {g.key: g for g in _goals_of(session, before)}
    new = {g.key: g for g in _goals_of(session, after)}
    changes: list[GoalChange] = []
    text_ids: list[int] = []
    for key in sorted(old.keys() | new.keys()):
        was, now = old.get(key), new.get(key)
        if was is None and now is not None:
            changes.append(GoalChange(key, "added", [], None, now))
            text_ids += [now.text_record_id, now.indicator_record_id]
        elif now is None and was is not None:
            changes.append(GoalChange(key, "removed", [], was, None))
            text_ids += [was.text_record_id, was.indicator_record_id]
        elif was is not None and now is not None:
            fields = [
                name
                for name, a, b in (
                    ("area", was.area, now.area),
                    ("target_on", was.target_on, now.target_on),
                    ("text", was.text_record_id, now.text_record_id),
                    ("indicator", was.indicator_record_id, now.indicator_record_id),
                )
                if a != b
            ]
            if fields:
                changes.append(GoalChange(key, "changed", fields, was, now))
                if "text" in fields:
                    text_ids += [was.text_record_id, now.text_record_id]
                if "indicator" in fields:
                    text_ids += [was.indicator_record_id, now.indicator_record_id]
    views = [
        name
        for name, a, b in (
            ("youth_view", before.youth_view_record_id, after.youth_view_record_id),
            ("guardian_view", before.guardian_view_record_id, after.guardian_view_record_id),
        )
        if a != b
    ]
    if after.reason_record_id is not None:
        text_ids.append(after.reason_record_id)
    records = _records(session, text_ids)
    opened = reveal_records(
        session,
        viewer,
        [records[i] for i in dict.fromkeys(text_ids)],
        purpose="individual_plan_changes",
    )
    return VersionChanges(
        before=before,
        after=after,
        goals=changes,
        views_changed=views,
        evaluate_on=(
            (before.evaluate_on, after.evaluate_on)
            if before.evaluate_on != after.evaluate_on
            else None
        ),
        texts={r.record.id: r for r in opened},
    )
