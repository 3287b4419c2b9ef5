"""A plan's goals and their measures: a goal's text and indicator are sealed records of the
agency that wrote them (shared through the policy engine with the council's agencies); a
measure is an agreed action of the minutes linked to one goal. The plan's own services
(versions, views, agreeing) are in ``minutes.plans.services``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.db import today_local
from coordination.errors import ServiceError
from coordination.models import Agency, User
from meetings.models import Meeting
from minutes.actions.services import create_action
from minutes.models import AgreedAction
from minutes.plans.areas import life_areas
from minutes.plans.models import (
    PlanGoal,
    PlanMeasure,
    PlanVersion,
)
from minutes.plans.services import (
    MAX_GOAL,
    Sharing,
    _changed,
    _clean,
    _clean_text,
    _editable_plan,
    _require_writer,
    _seal,
    latest_version,
)
from minutes.tags import MinutesTag
from minutes.workspace.sharing import ShareChoice
from secrecy.models import Disclosure, Record

# --- Goals ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalInput:
    area: str
    target_on: dt.date | None
    # None on an edit: keep the current text (a writer may change the dates without seeing it).
    text: str | None
    indicator: str | None


def _validate_goal(goal: GoalInput, today: dt.date, *, new: bool) -> tuple[str | None, str | None]:
    if goal.area not in life_areas():
        raise ServiceError(_l("Välj ett livsområde."), field="area")
    text = indicator = None
    if new or goal.text is not None:
        text = _clean(
            goal.text,
            limit=MAX_GOAL,
            empty=_l("Skriv målet."),
            too_long=_l("Målet är för långt (högst 1 000 tecken)."),
            field="text",
        )
    if new or goal.indicator is not None:
        indicator = _clean(
            goal.indicator,
            limit=MAX_GOAL,
            empty=_l("Skriv hur det ska märkas att målet är nått."),
            too_long=_l("Texten är för lång (högst 1 000 tecken)."),
            field="indicator",
        )
    if goal.target_on is None:
        raise ServiceError(_l("Ange ett måldatum."), field="target_on")
    if goal.target_on < today:
        raise ServiceError(_l("Måldatumet har redan passerat."), field="target_on")
    return text, indicator


def add_goal(
    session: Session,
    actor: User,
    version: PlanVersion,
    goal: GoalInput,
    *,
    expected_version: int | None = None,
    shares: Sequence[ShareChoice] = (),
    assessment: str | None = None,
    today: dt.date | None = None,
) -> PlanGoal:
    plan = _editable_plan(session, actor, version, expected_version)
    sharing = Sharing(shares, assessment)
    text, indicator = _validate_goal(goal, today or today_local(), new=True)
    if text is None or indicator is None:  # new=True validates both
        raise ServiceError(_l("Skriv målet."), field="text")
    key = (
        session.scalar(select(func.max(PlanGoal.key)).where(PlanGoal.plan_id == plan.id)) or 0
    ) + 1
    position = max((g.position for g in version.goals), default=0) + 1
    text_record, shared = _seal(session, actor, plan, text, sharing)
    indicator_record, _shared = _seal(session, actor, plan, indicator, sharing)
    row = PlanGoal(
        version_id=version.id,
        plan_id=plan.id,
        key=key,
        position=position,
        area=goal.area,
        text_record_id=text_record.id,
        indicator_record_id=indicator_record.id,
        target_on=goal.target_on,
    )
    session.add(row)
    _changed(
        session,
        actor,
        MinutesTag.PLAN_EDIT,
        plan,
        "goal_add",
        version_id=version.id,
        goal_key=key,
        record_ids=[text_record.id, indicator_record.id],
        shared_with_agency_ids=shared,
    )
    session.expire(version, ["goals"])
    return row


def edit_goal(
    session: Session,
    actor: User,
    goal: PlanGoal,
    change: GoalInput,
    *,
    expected_version: int | None = None,
    shares: Sequence[ShareChoice] = (),
    assessment: str | None = None,
    today: dt.date | None = None,
) -> PlanGoal:
    """Area and target date; a new text or indicator is a new record of the writer's agency
    (the version before keeps the old one)."""
    version = goal.plan_version
    plan = _editable_plan(session, actor, version, expected_version)
    sharing = Sharing(shares, assessment)
    text, indicator = _validate_goal(change, today or today_local(), new=False)
    record_ids = []
    if text is not None:
        record, _shared = _seal(session, actor, plan, text, sharing)
        goal.text_record_id = record.id
        record_ids.append(record.id)
    if indicator is not None:
        record, _shared = _seal(session, actor, plan, indicator, sharing)
        goal.indicator_record_id = record.id
        record_ids.append(record.id)
    goal.area = change.area
    goal.target_on = change.target_on  # type: ignore[assignment]  # checked above
    _changed(
        session,
        actor,
        MinutesTag.PLAN_EDIT,
        plan,
        "goal_edit",
        version_id=version.id,
        goal_key=goal.key,
        record_ids=record_ids,
    )
    return goal


def remove_goal(
    session: Session, actor: User, goal: PlanGoal, *, expected_version: int | None = None
) -> None:
    version = goal.plan_version
    plan = _editable_plan(session, actor, version, expected_version)
    linked = session.scalar(select(PlanMeasure.action_id).where(PlanMeasure.goal_id == goal.id))
    if linked is not None:
        raise ServiceError(_l("Målet har insatser och kan inte tas bort ur den här versionen."))
    key = goal.key
    session.delete(goal)
    _changed(
        session,
        actor,
        MinutesTag.PLAN_EDIT,
        plan,
        "goal_remove",
        version_id=version.id,
        goal_key=key,
    )
    session.expire(version, ["goals"])


# --- Measures -------------------------------------------------------------------------------------


def _measure_goal(goal: PlanGoal) -> None:
    """Measures go to the goals of the plan's newest version (draft or agreed): an action agreed
    at a later meeting serves a goal of the plan in force."""
    version = goal.plan_version
    if version is not latest_version(version.plan):
        raise ServiceError(
            _l("Målet hör till en äldre version av planen. Välj ett mål i den gällande versionen."),
            field="goal_id",
        )


def link_measure(
    session: Session,
    actor: User,
    goal: PlanGoal,
    action: AgreedAction,
    *,
    expected_version: int | None = None,
) -> PlanMeasure:
    """An agreed action of the child becomes a measure of the goal."""
    plan = goal.plan_version.plan
    _require_writer(session, actor, plan, expected_version)
    _measure_goal(goal)
    if action.child_id != plan.child_id:
        raise ServiceError(_l("Åtgärden gäller ett annat barn."), field="action_id")
    if action.responsible_agency_id not in {a.id for a in plan.council.agencies if a.active}:
        raise ServiceError(
            _l("Välj en ansvarig myndighet som deltar i forumet."), field="responsible_agency_id"
        )
    if session.get(PlanMeasure, action.id) is not None:
        raise ServiceError(_l("Åtgärden är redan en insats för ett mål."), field="action_id")
    measure = PlanMeasure(
        action_id=action.id,
        goal_id=goal.id,
        plan_id=plan.id,
        goal_key=goal.key,
        linked_by_id=actor.id,
    )
    session.add(measure)
    _changed(
        session,
        actor,
        MinutesTag.PLAN_MEASURE,
        plan,
        "measure",
        goal_key=goal.key,
        action_id=action.id,
    )
    return measure


def add_measure(
    session: Session,
    actor: User,
    goal: PlanGoal,
    meeting: Meeting,
    text: str,
    responsible_agency: Agency | None,
    responsible_user: User | None,
    due_on: dt.date | None,
    basis_id: str = "",
    confirmed: Sequence[int] = (),
    *,
    shares: Sequence[ShareChoice] = (),
    assessment: str | None = None,
    expected_version: int | None = None,
    today: dt.date | None = None,
) -> AgreedAction:
    """A new agreed action at the meeting (the actions' own service and checks), made a measure
    of the goal. The description goes to the responsible agency under ``basis_id`` or, from a
    form's share block, under the writer's choice for that agency; the other agencies chosen in
    ``shares`` receive it as the plan's texts do, all under the one written ``assessment``."""
    plan = goal.plan_version.plan
    _require_writer(session, actor, plan, expected_version)
    _measure_goal(goal)
    if responsible_agency is None or responsible_agency.id not in {
        a.id for a in plan.council.agencies if a.active
    }:
        raise ServiceError(
            _l("Välj en ansvarig myndighet som deltar i forumet."), field="responsible_agency_id"
        )
    text = _clean_text(text, empty=_l("Skriv vad som ska göras."), field="text")
    own, responsible = actor.agency_id, responsible_agency.id
    for choice in shares:
        if choice.agency_id == responsible and responsible != own and not basis_id:
            basis_id, confirmed = choice.basis_id, choice.confirmed
    others = [c for c in shares if c.agency_id not in (own, responsible)]
    action = create_action(
        session,
        actor,
        meeting,
        plan.child,
        text,
        responsible_agency,
        responsible_user,
        due_on,
        basis_id,
        confirmed,
        assessment=assessment,
        today=today,
    )
    if others:
        sharing = Sharing(others, assessment)
        # The assessment sealed for the responsible agency stands behind these decisions too.
        sharing.written = session.scalar(
            select(Record)
            .join(Disclosure, Disclosure.assessment_record_id == Record.id)
            .where(Disclosure.record_id == action.description_record_id)
            .limit(1)
        )
        sharing.disclose(
            session, actor, plan, session.get_one(Record, action.description_record_id)
        )
    link_measure(session, actor, goal, action)
    return action
