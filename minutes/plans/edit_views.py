"""The plan page's forms, each a POST: the coordinator, goals, the views, the evaluation date,
a new version, agreeing at a meeting, measures and evaluations. Each loads through
``minutes.plans.access``, calls one service, and goes back to the plan page (or shows it again
with the message next to the field). Declared on the plan pages' blueprint (``views.bp``)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from coordination.db import db_session
from coordination.errors import ConflictError
from coordination.models import Agency, User
from coordination.policy import Need
from coordination.web.page import actor, on_refusal, require_valid
from coordination.web.params import bounded_int
from meetings.agenda.access import meeting_for
from minutes.models import AgreedAction
from minutes.plans import evaluation, goals, services
from minutes.plans.access import goal_for, plan_for
from minutes.plans.forms import (
    AgreeForm,
    CoordinatorForm,
    EvaluationDateForm,
    GoalForm,
    ReviseForm,
    ViewsForm,
)
from minutes.plans.models import (
    EvaluationOutcome,
    IndividualPlan,
)
from minutes.plans.views import PlanForms, bp, render_plan, version_of
from minutes.workspace.forms import share_choices


def _post(plan: IndividualPlan, form: Any, forms: PlanForms, name: str | None) -> None:
    """Put the posted form in its place on the page, and declare how a refusal is shown."""
    session = db_session()
    if name is not None:
        setattr(forms, name, form)
    latest = services.latest_version(plan)
    on_refusal(form, lambda message: render_plan(session, plan, latest, forms, message))
    require_valid(form)
    if version_of(form) != plan.version:
        raise ConflictError()


def _done(plan: IndividualPlan, message: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(url_for("plans.plan_page", plan_id=plan.id))


@bp.page("/plans/<int:plan_id>/coordinator", methods=["POST"])
def coordinator(plan_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    plan = plan_for(session, user, plan_id, Need.WRITE)
    forms = PlanForms(session, plan, services.latest_version(plan))
    form = CoordinatorForm(prefix="coordinator")
    form.coordinator_id.choices = forms.coordinator.coordinator_id.choices
    _post(plan, form, forms, "coordinator")
    chosen = session.get(User, bounded_int(form.coordinator_id.data, low=1, high=2**31 - 1) or 0)
    services.set_coordinator(session, user, plan, chosen, expected_version=plan.version)
    return _done(plan, _("Planens samordnare är ändrad."))


def _goal_form(forms: PlanForms) -> GoalForm:
    form = GoalForm(prefix="goal")
    form.area.choices = forms.area_choices
    return form


@bp.page("/plans/<int:plan_id>/goals", methods=["POST"])
def add_goal(plan_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    plan = plan_for(session, user, plan_id, Need.WRITE)
    latest = services.latest_version(plan)
    forms = PlanForms(session, plan, latest)
    form = _goal_form(forms)
    _post(plan, form, forms, "goal")
    goals.add_goal(
        session,
        user,
        latest,
        goals.GoalInput(
            area=form.area.data or "",
            target_on=form.target_on.data,
            text=form.text.data or "",
            indicator=form.indicator.data or "",
        ),
        expected_version=plan.version,
        shares=share_choices(),
        assessment=form.assessment.data,
    )
    return _done(plan, _("Målet är tillagt."))


@bp.page("/plans/goals/<int:goal_id>/edit", methods=["POST"])
def edit_goal(goal_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    goal = goal_for(session, user, goal_id, Need.WRITE)
    plan = goal.plan_version.plan
    forms = PlanForms(session, plan, goal.plan_version)
    form = forms.posted("edit", goal)
    _post(plan, form, forms, None)
    goals.edit_goal(
        session,
        user,
        goal,
        goals.GoalInput(
            area=form.area.data or "",
            target_on=form.target_on.data,
            text=form.text.data or None,
            indicator=form.indicator.data or None,
        ),
        expected_version=plan.version,
        shares=share_choices(),
        assessment=form.assessment.data,
    )
    return _done(plan, _("Målet är ändrat."))


@bp.page("/plans/goals/<int:goal_id>/remove", methods=["POST"])
def remove_goal(goal_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    goal = goal_for(session, user, goal_id, Need.WRITE)
    plan = goal.plan_version.plan
    forms = PlanForms(session, plan, goal.plan_version)
    form = forms.posted("remove", goal)
    _post(plan, form, forms, None)
    goals.remove_goal(session, user, goal, expected_version=plan.version)
    return _done(plan, _("Målet är borttaget ur utkastet."))


@bp.page("/plans/<int:plan_id>/views", methods=["POST"])
def views(plan_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    plan = plan_for(session, user, plan_id, Need.WRITE)
    latest = services.latest_version(plan)
    forms = PlanForms(session, plan, latest)
    form = ViewsForm(prefix="views")
    _post(plan, form, forms, "views")
    services.set_views(
        session,
        user,
        latest,
        form.youth_view.data,
        form.guardian_view.data,
        expected_version=plan.version,
        shares=share_choices(),
        assessment=form.assessment.data,
    )
    return _done(plan, _("Synpunkterna är sparade."))


@bp.page("/plans/<int:plan_id>/evaluation-date", methods=["POST"])
def evaluation_date(plan_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    plan = plan_for(session, user, plan_id, Need.WRITE)
    latest = services.latest_version(plan)
    forms = PlanForms(session, plan, latest)
    form = EvaluationDateForm(prefix="evaluation")
    _post(plan, form, forms, "evaluate_on")
    services.set_evaluation_date(
        session, user, latest, form.evaluate_on.data, expected_version=plan.version
    )
    return _done(plan, _("Uppföljningsdatumet är sparat."))


@bp.page("/plans/<int:plan_id>/revise", methods=["POST"])
def revise(plan_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    plan = plan_for(session, user, plan_id, Need.WRITE)
    forms = PlanForms(session, plan, services.latest_version(plan))
    form = ReviseForm(prefix="revise")
    _post(plan, form, forms, "revise")
    services.revise_plan(
        session,
        user,
        plan,
        form.reason.data or "",
        expected_version=plan.version,
        shares=share_choices(),
    )
    return _done(plan, _("En ny version av planen är upprättad som utkast."))


@bp.page("/plans/<int:plan_id>/agree", methods=["POST"])
def agree(plan_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    plan = plan_for(session, user, plan_id, Need.WRITE)
    latest = services.latest_version(plan)
    forms = PlanForms(session, plan, latest)
    form = AgreeForm(prefix="agree")
    form.meeting_id.choices = forms.agree.meeting_id.choices
    _post(plan, form, forms, "agree")
    meeting_id = bounded_int(form.meeting_id.data, low=1, high=2**31 - 1)
    if meeting_id is None:
        form.meeting_id.errors = [_("Välj mötet där planen fastställs.")]
        return render_plan(session, plan, latest, forms), 422
    meeting = meeting_for(session, user, meeting_id, Need.WRITE)
    services.agree_version(session, user, latest, meeting, expected_version=plan.version)
    return _done(plan, _("Planen är fastställd och antecknad i mötets protokoll."))


@bp.page("/plans/goals/<int:goal_id>/measures", methods=["POST"])
def link_measure(goal_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    goal = goal_for(session, user, goal_id, Need.WRITE)
    plan = goal.plan_version.plan
    forms = PlanForms(session, plan, goal.plan_version)
    form = forms.posted("measure", goal)
    _post(plan, form, forms, None)
    action = session.get(AgreedAction, bounded_int(form.action_id.data, low=1, high=2**31 - 1) or 0)
    if action is None:
        form.action_id.errors = [_("Välj en åtgärd.")]
        return render_plan(session, plan, goal.plan_version, forms), 422
    goals.link_measure(session, user, goal, action, expected_version=plan.version)
    return _done(plan, _("Åtgärden är en insats för målet."))


@bp.page("/plans/goals/<int:goal_id>/measures/new", methods=["POST"])
def add_measure(goal_id: int) -> ResponseReturnValue:
    """A new agreed action at a meeting, made a measure of the goal (recorded in that
    meeting's minutes)."""
    session = db_session()
    user = actor()
    goal = goal_for(session, user, goal_id, Need.WRITE)
    plan = goal.plan_version.plan
    forms = PlanForms(session, plan, goal.plan_version)
    form = forms.posted("new_measure", goal)
    _post(plan, form, forms, None)
    meeting_id = bounded_int(form.meeting_id.data, low=1, high=2**31 - 1)
    if meeting_id is None:
        form.meeting_id.errors = [_("Välj mötet där insatsen beslutas.")]
        return render_plan(session, plan, goal.plan_version, forms), 422
    meeting = meeting_for(session, user, meeting_id, Need.WRITE)
    agency_id = bounded_int(form.responsible_agency_id.data, low=1, high=2**31 - 1)
    user_id = bounded_int(form.responsible_user_id.data, low=1, high=2**31 - 1)
    goals.add_measure(
        session,
        user,
        goal,
        meeting,
        form.text.data or "",
        session.get(Agency, agency_id) if agency_id else None,
        session.get(User, user_id) if user_id else None,
        form.due_on.data,
        shares=share_choices(),
        assessment=form.assessment.data,
        expected_version=plan.version,
    )
    return _done(plan, _("Insatsen är sparad och antecknad i mötets protokoll."))


@bp.page("/plans/goals/<int:goal_id>/evaluate", methods=["POST"])
def evaluate(goal_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    goal = goal_for(session, user, goal_id, Need.WRITE)
    plan = goal.plan_version.plan
    forms = PlanForms(session, plan, goal.plan_version)
    form = forms.posted("evaluate", goal)
    _post(plan, form, forms, None)
    outcome = form.outcome.data
    evaluation.evaluate_goal(
        session,
        user,
        goal,
        EvaluationOutcome(outcome) if outcome in {o.value for o in EvaluationOutcome} else None,
        form.comment.data or "",
        expected_version=plan.version,
        shares=share_choices(),
        assessment=form.assessment.data,
    )
    return _done(plan, _("Uppföljningen av målet är sparad."))
