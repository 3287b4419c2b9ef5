"""The plan page's forms, each a POST: the coordinator, goals, the views, the evaluation date,
a new version, agreeing at a meeting, measures and evaluations. Each is declared with
:func:`plan_change`, which loads through ``minutes.plans.access``, validates the posted form
against the plan's version, and goes back to the plan page (or shows it again with the message
next to the field); the view itself only calls its one service. Declared on the plan pages'
blueprint (``views.bp``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from coordination.db import db_session
from coordination.errors import check_version
from coordination.models import Agency, User
from coordination.policy import Need
from coordination.web.converters import MAX_DB_ID
from coordination.web.page import actor, on_refusal, require_valid
from coordination.web.params import bounded_int
from meetings.agenda.access import meeting_for
from meetings.models import Meeting
from minutes.models import AgreedAction
from minutes.plans import evaluation, goals, services
from minutes.plans.access import PlanChange, change_for
from minutes.plans.forms import (
    AgreeForm,
    CoordinatorForm,
    EvaluationDateForm,
    GoalForm,
    ReviseForm,
    ViewsForm,
)
from minutes.plans.models import EvaluationOutcome
from minutes.plans.views import PlanForms, bp, render_plan, version_of
from minutes.workspace.forms import share_choices

# The plan's own forms: the attribute of ``PlanForms`` a posted one replaces, and its prefix.
PLAN_FORMS: dict[str, tuple[type[Any], str]] = {
    "coordinator": (CoordinatorForm, "coordinator"),
    "goal": (GoalForm, "goal"),
    "views": (ViewsForm, "views"),
    "evaluate_on": (EvaluationDateForm, "evaluation"),
    "revise": (ReviseForm, "revise"),
    "agree": (AgreeForm, "agree"),
}


@dataclass
class Posted(PlanChange):
    """A form of the plan page, posted, valid and made against the plan's current version."""

    forms: PlanForms
    form: Any

    def chosen_id(self, field: Any) -> int | None:
        """The id chosen in a select of the form (a 400 when it is no id)."""
        return bounded_int(field.data, low=1, high=MAX_DB_ID)

    def chosen_meeting(self, message: str) -> Meeting | None:
        """The meeting chosen in the form's ``meeting_id``, loaded for writing; None (with
        ``message`` next to the field) when none was chosen."""
        meeting_id = self.chosen_id(self.form.meeting_id)
        if meeting_id is None:
            self.form.meeting_id.errors = [message]
            return None
        return meeting_for(self.session, self.user, meeting_id, Need.WRITE)

    def shared(self) -> dict[str, Any]:
        """A service's keywords for a form with a share block: the plan's version the form was
        made against, the agencies chosen, and the written assessment."""
        return {
            "expected_version": self.plan.version,
            "shares": share_choices(),
            "assessment": self.form.assessment.data,
        }

    def shown_again(self) -> ResponseReturnValue:
        """The plan page again, with the messages put next to the form's fields."""
        return render_plan(self.session, self.plan, self.version, self.forms), 422


Change = Callable[[Posted], ResponseReturnValue | None]


def _plan_form(forms: PlanForms, name: str) -> Any:
    """The posted form of the plan, in place of the page's own and with the same choices."""
    form_class, prefix = PLAN_FORMS[name]
    form = form_class(prefix=prefix)
    for field in getattr(forms, name):
        if isinstance(field, SelectField):
            form[field.short_name].choices = field.choices
    setattr(forms, name, form)
    return form


def _posted(name: str, ids: dict[str, int]) -> Posted:
    """Load the plan (or the goal) for writing, put the posted form on the page, declare how a
    refusal is shown, and require the form valid and at the plan's version."""
    session = db_session()
    change = change_for(session, actor(), **ids)
    plan = change.plan
    forms = PlanForms(session, plan, change.version)
    goal = change.changed_goal
    form = forms.posted(name, goal) if goal is not None else _plan_form(forms, name)
    latest = services.latest_version(plan)
    on_refusal(form, lambda message: render_plan(session, plan, latest, forms, message))
    require_valid(form)
    check_version(plan, version_of(form))
    return Posted(**vars(change), forms=forms, form=form)


def plan_change(rule: str, form: str, done: Any) -> Callable[[Change], Change]:
    """Declare the POST of the plan page's form ``form`` (one of ``PLAN_FORMS``, or of
    ``views.GOAL_FORMS`` when ``rule`` names a ``goal_id``). The decorated function gets the
    form posted and valid and calls its service; it returns None for ``done`` to be flashed on
    the plan page, or the page shown again (:meth:`Posted.shown_again`)."""

    def decorator(change: Change) -> Change:
        @functools.wraps(change)
        def view(**ids: int) -> ResponseReturnValue:
            posted = _posted(form, ids)
            refused = change(posted)
            if refused is not None:
                return refused
            flash(str(done), "success")
            return redirect(url_for("plans.plan_page", plan_id=posted.plan.id))

        bp.page(rule, methods=["POST"])(view)
        return change

    return decorator


@plan_change("/plans/<int:plan_id>/coordinator", "coordinator", _l("Planens samordnare är ändrad."))
def coordinator(posted: Posted) -> None:
    chosen = posted.session.get(User, posted.chosen_id(posted.form.coordinator_id) or 0)
    posted.call(services.set_coordinator, posted.plan, chosen, expected_version=posted.plan.version)


def _goal_input(form: Any, *, new: bool) -> goals.GoalInput:
    """The goal as posted; on an edit an empty text or indicator keeps the current one."""
    blank = "" if new else None
    return goals.GoalInput(
        area=form.area.data or "",
        target_on=form.target_on.data,
        text=form.text.data or blank,
        indicator=form.indicator.data or blank,
    )


@plan_change("/plans/<int:plan_id>/goals", "goal", _l("Målet är tillagt."))
def add_goal(posted: Posted) -> None:
    posted.call(
        goals.add_goal, posted.version, _goal_input(posted.form, new=True), **posted.shared()
    )


@plan_change("/plans/goals/<int:goal_id>/edit", "edit", _l("Målet är ändrat."))
def edit_goal(posted: Posted) -> None:
    posted.call(
        goals.edit_goal, posted.goal, _goal_input(posted.form, new=False), **posted.shared()
    )


@plan_change("/plans/goals/<int:goal_id>/remove", "remove", _l("Målet är borttaget ur utkastet."))
def remove_goal(posted: Posted) -> None:
    posted.call(goals.remove_goal, posted.goal, expected_version=posted.plan.version)


@plan_change("/plans/<int:plan_id>/views", "views", _l("Synpunkterna är sparade."))
def views(posted: Posted) -> None:
    posted.call(
        services.set_views,
        posted.version,
        posted.form.youth_view.data,
        posted.form.guardian_view.data,
        **posted.shared(),
    )


@plan_change(
    "/plans/<int:plan_id>/evaluation-date", "evaluate_on", _l("Uppföljningsdatumet är sparat.")
)
def evaluation_date(posted: Posted) -> None:
    posted.call(
        services.set_evaluation_date,
        posted.version,
        posted.form.evaluate_on.data,
        expected_version=posted.plan.version,
    )


@plan_change(
    "/plans/<int:plan_id>/revise",
    "revise",
    _l("En ny version av planen är upprättad som utkast."),
)
def revise(posted: Posted) -> None:
    posted.call(
        services.revise_plan,
        posted.plan,
        posted.form.reason.data or "",
        expected_version=posted.plan.version,
        shares=share_choices(),
    )


@plan_change(
    "/plans/<int:plan_id>/agree",
    "agree",
    _l("Planen är fastställd och antecknad i mötets protokoll."),
)
def agree(posted: Posted) -> ResponseReturnValue | None:
    meeting = posted.chosen_meeting(_("Välj mötet där planen fastställs."))
    if meeting is None:
        return posted.shown_again()
    posted.call(
        services.agree_version, posted.version, meeting, expected_version=posted.plan.version
    )
    return None


@plan_change(
    "/plans/goals/<int:goal_id>/measures", "measure", _l("Åtgärden är en insats för målet.")
)
def link_measure(posted: Posted) -> ResponseReturnValue | None:
    action = posted.session.get(AgreedAction, posted.chosen_id(posted.form.action_id) or 0)
    if action is None:
        posted.form.action_id.errors = [_("Välj en åtgärd.")]
        return posted.shown_again()
    posted.call(goals.link_measure, posted.goal, action, expected_version=posted.plan.version)
    return None


@plan_change(
    "/plans/goals/<int:goal_id>/measures/new",
    "new_measure",
    _l("Insatsen är sparad och antecknad i mötets protokoll."),
)
def add_measure(posted: Posted) -> ResponseReturnValue | None:
    """A new agreed action at a meeting, made a measure of the goal (recorded in that
    meeting's minutes)."""
    meeting = posted.chosen_meeting(_("Välj mötet där insatsen beslutas."))
    if meeting is None:
        return posted.shown_again()
    agency_id = posted.chosen_id(posted.form.responsible_agency_id)
    user_id = posted.chosen_id(posted.form.responsible_user_id)
    posted.call(
        goals.add_measure,
        posted.goal,
        meeting,
        posted.form.text.data or "",
        posted.session.get(Agency, agency_id) if agency_id else None,
        posted.session.get(User, user_id) if user_id else None,
        posted.form.due_on.data,
        **posted.shared(),
    )
    return None


@plan_change(
    "/plans/goals/<int:goal_id>/evaluate", "evaluate", _l("Uppföljningen av målet är sparad.")
)
def evaluate(posted: Posted) -> None:
    outcome = posted.form.outcome.data
    posted.call(
        evaluation.evaluate_goal,
        posted.goal,
        EvaluationOutcome(outcome) if outcome in {o.value for o in EvaluationOutcome} else None,
        posted.form.comment.data or "",
        **posted.shared(),
    )
