"""Pages of individual plans: a council's plans, one plan (a version with its goals, measures,
views and evaluations, and the forms that change it), what changed between versions, and the
family's plan document (PDF).

Every page runs through the page wrapper and loads through ``minutes.plans.access`` (the API's
loaders too); texts are opened with one ``reveal_records`` call per page, so a withheld text
shows its reason.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from coordination.councils.access import council_for
from coordination.db import db_session, today_local
from coordination.errors import ServiceError
from coordination.logreview.scopes import register_tag_labels
from coordination.models import Child, ChildStatus, Council, CouncilMembership, User
from coordination.policy import Need
from coordination.web.forms import choices
from coordination.web.page import PageBlueprint, actor, on_refusal, require_valid
from coordination.web.params import bounded_int
from coordination.web.registries import register_council_section
from meetings.models import AgendaItem, Meeting, MeetingStatus
from meetings.network.projection import register_network_projection_part
from minutes.actions.forms import STATUS_LABELS as ACTION_STATUS_LABELS
from minutes.actions.services import ACTION_CATEGORY
from minutes.models import AgreedAction, Minutes, MinutesStatus
from minutes.plans import agenda_seam, document, evaluation, services
from minutes.plans.access import plan_for
from minutes.plans.areas import area_label, life_areas
from minutes.plans.forms import (
    FIELD_LABELS,
    OUTCOME_LABELS,
    STATUS_LABELS,
    AgreeForm,
    CoordinatorForm,
    EvaluateForm,
    EvaluationDateForm,
    GoalForm,
    MeasureForm,
    NewMeasureForm,
    NewPlanForm,
    ReviseForm,
    VersionedForm,
    ViewsForm,
)
from minutes.plans.models import (
    IndividualPlan,
    PlanGoal,
    PlanMeasure,
    PlanVersion,
    PlanVersionStatus,
)
from minutes.plans.projection import plan_projection
from minutes.plans.reading import read_version, version_changes
from minutes.tags import MinutesTag
from minutes.workspace.sharing import ShareOption, probe_record, share_option
from secrecy.policy.reasons import explain

bp = PageBlueprint("plans", __name__, template_folder="templates")

TAG_LABELS = {
    MinutesTag.PLAN_CREATE.value: _l("Individuell plan upprättad"),
    MinutesTag.PLAN_EDIT.value: _l("Individuell plan ändrad"),
    MinutesTag.PLAN_REVISE.value: _l("Ny version av individuell plan"),
    MinutesTag.PLAN_AGREE.value: _l("Individuell plan fastställd vid möte"),
    MinutesTag.PLAN_MEASURE.value: _l("Insats kopplad till mål"),
    MinutesTag.PLAN_EVALUATE.value: _l("Mål uppföljt"),
    MinutesTag.PLAN_EXPORT.value: _l("Plan för familjen exporterad som PDF"),
}


def init_app(app: Flask) -> None:
    # The plan page's forms are declared on ``bp`` in their own module.
    from minutes.plans import edit_views  # noqa: F401

    app.register_blueprint(bp)
    register_council_section(app, "plans.council_plans", _l("Planer"))
    register_tag_labels(app, TAG_LABELS)
    agenda_seam.init_app(app)
    # The network meeting's projector view shows the plan as every agency in the room may see it.
    register_network_projection_part(app, plan_projection)


def version_of(form: Any) -> int:
    return bounded_int(form.version.data, low=0, high=2**31 - 1) or 0


# --- A council's plans ----------------------------------------------------------------------------


def _member_choices(session: Session, council: Council) -> list[Any]:
    users = session.scalars(
        select(User)
        .join(CouncilMembership, CouncilMembership.user_id == User.id)
        .where(CouncilMembership.council_id == council.id, User.active.is_(True))
        .options(selectinload(User.agency))
        .order_by(User.display_name, User.id)
    )
    return choices(
        [("", "—"), *((str(u.id), f"{u.display_name} ({u.agency.name})") for u in users)]
    )


def _new_plan_form(session: Session, council: Council, formdata: Any = None) -> NewPlanForm:
    form = NewPlanForm(formdata)
    planned = select(IndividualPlan.child_id).where(IndividualPlan.council_id == council.id)
    children = session.scalars(
        select(Child)
        .where(
            Child.council_id == council.id,
            Child.status == ChildStatus.ACTIVE,
            Child.id.not_in(planned),
        )
        .order_by(Child.pseudonym)
    )
    form.child_id.choices = choices([("", "—"), *((str(c.id), c.pseudonym) for c in children)])
    form.coordinator_id.choices = _member_choices(session, council)
    return form


def _render_council(
    session: Session, council: Council, form: NewPlanForm, error: str | None = None
) -> str:
    plans = session.scalars(
        select(IndividualPlan)
        .where(IndividualPlan.council_id == council.id)
        .options(
            selectinload(IndividualPlan.child),
            selectinload(IndividualPlan.coordinator),
            selectinload(IndividualPlan.versions)
            .selectinload(PlanVersion.goals)
            .selectinload(PlanGoal.evaluation),
        )
    ).all()
    plans = sorted(plans, key=lambda p: p.child.pseudonym)
    return render_template(
        "minutes/plans/council.html",
        council=council,
        plans=plans,
        form=form,
        error=error,
        latest=services.latest_version,
        agreed=services.agreed_version,
        is_evaluated=evaluation.is_evaluated,
        status_labels=STATUS_LABELS,
    )


@bp.page("/councils/<int:council_id>/plans")
def council_plans(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = council_for(session, actor(), council_id, Need.VIEW)
    return _render_council(session, council, _new_plan_form(session, council))


@bp.page("/councils/<int:council_id>/plans", methods=["POST"])
def create(council_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    council = council_for(session, user, council_id, Need.VIEW)
    form = _new_plan_form(session, council, request.form)
    on_refusal(form, lambda message: _render_council(session, council, form, message))
    require_valid(form)
    child = session.get(Child, bounded_int(form.child_id.data, low=1, high=2**31 - 1) or 0)
    if child is None or child.council_id != council.id:
        form.child_id.errors = [_("Välj ett barn i forumet.")]
        return _render_council(session, council, form), 422
    coordinator = session.get(
        User, bounded_int(form.coordinator_id.data, low=1, high=2**31 - 1) or 0
    )
    plan = services.create_plan(session, user, child, coordinator)
    flash(_("Planen är upprättad som ett utkast."), "success")
    return redirect(url_for("plans.plan_page", plan_id=plan.id))


# --- One plan -------------------------------------------------------------------------------------


GOAL_FORMS: dict[str, type[Any]] = {
    "edit": GoalForm,
    "evaluate": EvaluateForm,
    "measure": MeasureForm,
    "new_measure": NewMeasureForm,
    "remove": VersionedForm,
}


class PlanForms:
    """Every form of the plan page, each with the plan's version; the forms of one goal have
    a prefix of their own (``edit-<goal id>``), so that no two fields on the page share an id."""

    def __init__(self, session: Session, plan: IndividualPlan, version: PlanVersion) -> None:
        self.plan = plan
        self.area_choices = choices(
            [("", "—"), *((a.key, a.label()) for a in life_areas().values())]
        )
        self.action_choices = _action_choices(session, plan)
        self.session = session
        self._measure_choices: tuple[list[Any], list[Any], list[Any]] | None = None
        self.coordinator = CoordinatorForm(prefix="coordinator", formdata=None)
        self.coordinator.coordinator_id.choices = _member_choices(session, plan.council)
        self.coordinator.coordinator_id.data = str(plan.coordinator_id or "")
        self.goal = GoalForm(prefix="goal", formdata=None)
        self.goal.area.choices = self.area_choices
        self.views = ViewsForm(prefix="views", formdata=None)
        self.evaluate_on = EvaluationDateForm(prefix="evaluation", formdata=None)
        self.evaluate_on.evaluate_on.data = version.evaluate_on
        self.revise = ReviseForm(prefix="revise", formdata=None)
        self.agree = AgreeForm(prefix="agree", formdata=None)
        self.agree.meeting_id.choices = _meeting_choices(session, plan)
        self.goal_forms: dict[tuple[str, int], Any] = {}
        for form in (
            self.coordinator,
            self.goal,
            self.views,
            self.evaluate_on,
            self.revise,
            self.agree,
        ):
            form.version.data = str(plan.version)

    def _make(self, kind: str, goal_id: int, formdata: Any) -> Any:
        form = GOAL_FORMS[kind](prefix=f"{kind}-{goal_id}", formdata=formdata)
        if kind == "edit":
            form.area.choices = self.area_choices
        elif kind == "measure":
            form.action_id.choices = self.action_choices
        elif kind == "new_measure":
            meetings, agencies, members = self.measure_choices()
            form.meeting_id.choices = meetings
            form.responsible_agency_id.choices = agencies
            form.responsible_user_id.choices = members
        return form

    def measure_choices(self) -> tuple[list[Any], list[Any], list[Any]]:
        """The new-measure forms' meetings, council agencies and members (loaded once)."""
        if self._measure_choices is None:
            agencies = sorted(
                (a for a in self.plan.council.agencies if a.active), key=lambda a: a.name
            )
            self._measure_choices = (
                _measure_meeting_choices(self.session, self.plan),
                choices([("", "—"), *((str(a.id), a.name) for a in agencies)]),
                _member_choices(self.session, self.plan.council),
            )
        return self._measure_choices

    def for_goal(self, kind: str, goal: PlanGoal) -> Any:
        """The goal's form of this kind, empty (or the one posted, after a refusal)."""
        key = (kind, goal.id)
        if key not in self.goal_forms:
            form = self._make(kind, goal.id, None)
            form.version.data = str(self.plan.version)
            if kind == "edit":
                form.area.data = goal.area
                form.target_on.data = goal.target_on
            self.goal_forms[key] = form
        return self.goal_forms[key]

    def posted(self, kind: str, goal: PlanGoal) -> Any:
        form = self._make(kind, goal.id, request.form)
        self.goal_forms[(kind, goal.id)] = form
        return form


def _meeting_choices(session: Session, plan: IndividualPlan) -> list[Any]:
    """Planned meetings of the council with the child on the agenda."""
    meetings = session.scalars(
        select(Meeting)
        .join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
        .where(
            Meeting.council_id == plan.council_id,
            Meeting.status == MeetingStatus.PLANNED,
            AgendaItem.child_id == plan.child_id,
        )
        .order_by(Meeting.starts_at)
    )
    return choices([("", "—"), *((str(m.id), m.starts_at.date().isoformat()) for m in meetings)])


def _measure_meeting_choices(session: Session, plan: IndividualPlan) -> list[Any]:
    """Meetings of the council, not cancelled, with the child on the agenda and minutes still
    being written (none yet, or a draft): where a new agreed action can be recorded."""
    meetings = session.scalars(
        select(Meeting)
        .join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
        .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
        .where(
            Meeting.council_id == plan.council_id,
            Meeting.status != MeetingStatus.CANCELLED,
            AgendaItem.child_id == plan.child_id,
            or_(Minutes.id.is_(None), Minutes.status == MinutesStatus.DRAFT),
        )
        .order_by(Meeting.starts_at.desc())
    )
    return choices([("", "—"), *((str(m.id), m.starts_at.date().isoformat()) for m in meetings)])


def _action_choices(session: Session, plan: IndividualPlan) -> list[Any]:
    """The child's agreed actions not yet a measure of a goal."""
    linked = select(PlanMeasure.action_id)
    actions = session.scalars(
        select(AgreedAction)
        .where(AgreedAction.child_id == plan.child_id, AgreedAction.id.not_in(linked))
        .options(selectinload(AgreedAction.responsible_agency))
        .order_by(AgreedAction.due_on, AgreedAction.id)
    )
    return choices(
        [
            ("", "—"),
            *(
                (str(a.id), f"#{a.id} {a.responsible_agency.name}, {a.due_on.isoformat()}")
                for a in actions
            ),
        ]
    )


def _share_options(
    session: Session, user: User, plan: IndividualPlan, category: str = services.PLAN_CATEGORY
) -> list[ShareOption]:
    """For each other agency of the council, the bases the engine accepts for a plan text (or
    a measure's description) of this child now (the forms' share block)."""
    probe = probe_record(user, plan.child, category)
    others = (a for a in plan.council.agencies if a.active and a.id != user.agency_id)
    return [share_option(session, user, probe, a) for a in sorted(others, key=lambda a: a.name)]


def _shown_version(plan: IndividualPlan) -> PlanVersion:
    wanted = request.args.get("version", "")
    number = bounded_int(wanted, low=1, high=10_000) if wanted else None
    if number is not None:
        for version in plan.versions:
            if version.number == number:
                return version
    return services.latest_version(plan)


def render_plan(
    session: Session,
    plan: IndividualPlan,
    version: PlanVersion | None = None,
    forms: PlanForms | None = None,
    error: str | None = None,
) -> str:
    user = actor()
    version = version or _shown_version(plan)
    view = read_version(session, user, version)
    latest = services.latest_version(plan)
    editable = version is latest and not view.locked and user.is_active
    if editable:
        try:
            services.require_editable(session, version)
        except ServiceError:  # minutes waiting for approval: shown, not editable
            editable = False
    forms = forms or PlanForms(session, plan, version)
    can_measure = version is latest and user.is_active and bool(view.goals)
    return render_template(
        "minutes/plans/plan.html",
        plan=plan,
        view=view,
        version=version,
        latest=latest,
        in_force=services.agreed_version(plan),
        editable=editable,
        forms=forms,
        error=error,
        share_options=_share_options(session, user, plan) if user.is_active else [],
        can_measure=can_measure,
        measure_share_options=(
            _share_options(session, user, plan, ACTION_CATEGORY) if can_measure else []
        ),
        explain=explain,
        area_label=area_label,
        status_labels=STATUS_LABELS,
        outcome_labels=OUTCOME_LABELS,
        action_status_labels=ACTION_STATUS_LABELS,
        PlanVersionStatus=PlanVersionStatus,
        today=today_local(),
    )


@bp.page("/plans/<int:plan_id>")
def plan_page(plan_id: int) -> ResponseReturnValue:
    session = db_session()
    plan = plan_for(session, actor(), plan_id, Need.VIEW)
    return render_plan(session, plan)


# --- Changes between versions ---------------------------------------------------------------------


@bp.page("/plans/<int:plan_id>/changes")
def changes(plan_id: int) -> ResponseReturnValue:
    """What changed from one version to the next (``?version=N``: N against N-1)."""
    session = db_session()
    plan = plan_for(session, actor(), plan_id, Need.VIEW)
    after = _shown_version(plan)
    before = next((v for v in plan.versions if v.number == after.number - 1), None)
    diff = version_changes(session, actor(), before, after) if before is not None else None
    return render_template(
        "minutes/plans/changes.html",
        plan=plan,
        after=after,
        before=before,
        diff=diff,
        area_label=area_label,
        field_labels=FIELD_LABELS,
    )


# --- The family's document ------------------------------------------------------------------------


@bp.page("/plans/<int:plan_id>/plan.pdf")
def family_pdf(plan_id: int) -> ResponseReturnValue:
    """The plan in force in plain Swedish for the young person and the guardians, with what
    the downloading agency may read; logged as an export."""
    session = db_session()
    user = actor()
    plan = plan_for(session, user, plan_id, Need.WRITE)
    on_refusal(redirect_to=url_for("plans.plan_page", plan_id=plan.id))
    view = document.family_document(session, user, plan)
    body = document.render_family_pdf(view)
    return Response(
        body,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="plan-{plan.id}.pdf"',
            "Cache-Control": "no-store",
        },
    )
