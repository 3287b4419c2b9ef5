"""Pages: a child's structured assessments (history with a chart per area), one assessment, a
new assessment, and the summary part of the child page.

Members of the child's council only (``child_for`` / ``assessment_for``); scores and comments
are opened with one ``reveal_records`` call per page, so a reader sees an area that was not
disclosed to their agency as withheld, with the reason.
"""

from __future__ import annotations

from flask import Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from coordination.db import db_session, today_local
from coordination.errors import PermissionDenied
from coordination.logreview.scopes import register_tag_labels
from coordination.models import Child, User
from coordination.web.page import PageBlueprint, actor, on_refusal, require_valid
from coordination.web.registries import register_child_panel
from minutes.assessments import charts, services
from minutes.assessments.access import assessment_for, can_record_assessment
from minutes.assessments.forms import area_fields, assessment_form, assessment_input
from minutes.assessments.instruments import Instrument, catalogue
from minutes.tags import MinutesTag
from secrecy.records.access import child_for
from secrecy.retention import register_erasure

bp = PageBlueprint("assessments", __name__, template_folder="templates")

TAG_LABELS = {
    MinutesTag.ASSESSMENT_CREATE.value: _l("Strukturerad bedömning registrerad"),
}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_child_panel(app, child_panel)
    register_erasure(app, services.erase_levels)
    register_tag_labels(app, TAG_LABELS)


def _history(
    session: Session, user: User, child: Child, purpose: str
) -> tuple[list[services.AssessmentView], list[charts.Spark]]:
    views = services.assessment_views(
        session, user, services.assessments_of(session, child), purpose=purpose
    )
    return views, [charts.sparkline(h) for h in services.area_histories(views)]


def child_panel(session: Session, user: User, child: Child) -> str | None:
    """The child page's part: the latest assessment's date and the per-area charts."""
    views, sparks = _history(session, user, child, purpose="assessment_summary")
    if not views and not can_record_assessment(user, child):
        return None
    return render_template(
        "minutes/assessments/_panel.html", child=child, views=views, sparks=sparks
    )


@bp.page("/children/<int:child_id>/assessments")
def child_assessments(child_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    child = child_for(session, user, child_id)
    views, sparks = _history(session, user, child, purpose="assessments")
    found = catalogue()
    return render_template(
        "minutes/assessments/list.html",
        child=child,
        views=list(reversed(views)),
        sparks=sparks,
        instruments=found.all(),
        can_record=can_record_assessment(user, child),
    )


@bp.page("/assessments/<int:assessment_id>")
def assessment(assessment_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    found = assessment_for(session, user, assessment_id)
    view = services.assessment_views(session, user, [found], purpose="assessment")[0]
    return render_template("minutes/assessments/detail.html", view=view, user=user)


def _chosen_instrument() -> Instrument:
    instrument_id = request.args.get("instrument", "")
    version = request.args.get("version", "")
    found = catalogue().get(instrument_id, version)
    if found is None:
        current = catalogue().current()
        if instrument_id or not current:
            raise PermissionDenied()  # an unknown instrument: nothing to fill in
        found = current[0]
    return found


@bp.page("/children/<int:child_id>/assessments/new", methods=["GET", "POST"])
def new_assessment(child_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    child = child_for(session, user, child_id)
    if not can_record_assessment(user, child):
        raise PermissionDenied(object_type="child", object_ids=[child_id])
    instrument = _chosen_instrument()
    form = assessment_form(instrument)
    if request.method == "GET":
        form.assessed_on.data = today_local()

    def render(message: str | None, status: int = 422) -> ResponseReturnValue:
        return render_template(
            "minutes/assessments/new.html",
            child=child,
            instrument=instrument,
            form=form,
            areas=list(zip(instrument.areas, area_fields(form, instrument), strict=True)),
            error=message,
        ), status

    if request.method == "GET":
        return render(None, 200)
    on_refusal(form, render)
    require_valid(form)
    created = services.record_assessment(session, user, child, assessment_input(form, instrument))
    flash(_("Bedömningen är sparad."), "success")
    return redirect(url_for("assessments.assessment", assessment_id=created.id))
