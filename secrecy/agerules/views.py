"""Pages: the council's target age range, its exceptions (avsteg), an exception for a child on
the caseload, and the age thresholds ahead.

Every page runs through the page wrapper, loads through ``secrecy.agerules.access`` (or
``secrecy.records.access`` for a child) and calls one service; exception texts are opened only
through ``secrecy.records.reveal``.
"""

from __future__ import annotations

from flask import Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from coordination.db import db_session, today_local
from coordination.models import Council, User
from coordination.web.forms import parse_version
from coordination.web.page import PageBlueprint, actor, on_refusal, page_locale, require_valid
from coordination.web.registries import register_council_section
from secrecy.agerules import agenda, services
from secrecy.agerules.access import may_set_range, members_council, range_council
from secrecy.agerules.forms import AgeExceptionForm, AgeRangeForm
from secrecy.agerules.ranges import STIGMA_AGE, age_range, default_range
from secrecy.agerules.thresholds import WINDOW_DAYS, exact_dates_for, thresholds_ahead
from secrecy.policy.categories import categories
from secrecy.policy.engine import age_thresholds
from secrecy.policy.reasons import SIGNER_LABELS, explain
from secrecy.policy.rules import legal_bases
from secrecy.records.access import child_for

bp = PageBlueprint("agerules", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_council_section(app, "agerules.settings", _l("Målgruppsålder"))
    agenda.init_app(app)


def _for_members(council_id: int) -> tuple[Session, User, Council]:
    """The request's session and user, and the council its members' pages are about."""
    session, user = db_session(), actor()
    return session, user, members_council(session, user, council_id)


@bp.page("/councils/<int:council_id>/age-rules", methods=["GET", "POST"])
def settings(council_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    council = range_council(session, user, council_id)
    current = age_range(council)
    form = AgeRangeForm()
    if request.method == "GET":
        form.min_age.data = current.min_age
        form.max_age.data = current.max_age
        form.version.data = str(council.version)

    def render(error: str | None, status: int = 422) -> ResponseReturnValue:
        return render_template(
            "secrecy/agerules/settings.html",
            council=council,
            current=current,
            default=default_range(council.kind),
            form=form,
            may_set=may_set_range(user, council),
            error=error,
        ), status

    if request.method == "GET":
        return render(None, 200)
    on_refusal(form, render)
    require_valid(form)
    version = form.version.data
    services.set_age_range(
        session,
        user,
        council,
        form.min_age.data,
        form.max_age.data,
        expected_version=parse_version(version),
    )
    flash(_("Forumets målgruppsålder är sparad."), "success")
    return redirect(url_for("agerules.settings", council_id=council.id))


@bp.page("/councils/<int:council_id>/age-exceptions")
def exceptions(council_id: int) -> ResponseReturnValue:
    session, user, council = _for_members(council_id)
    views = services.exception_views(session, user, services.council_exceptions(session, council))
    return render_template(
        "secrecy/agerules/exceptions.html",
        council=council,
        views=views,
        today=today_local(),
    )


@bp.page("/children/<int:child_id>/age-exception", methods=["GET", "POST"])
def add_exception(child_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    child = child_for(session, user, child_id)
    form = AgeExceptionForm()

    def render(error: str | None, status: int = 422) -> ResponseReturnValue:
        return render_template(
            "secrecy/agerules/new_exception.html",
            child=child,
            form=form,
            age_range=age_range(child.council),
            stigma_age=STIGMA_AGE,
            error=error,
        ), status

    if request.method == "GET":
        return render(None, 200)
    on_refusal(form, render)
    require_valid(form)
    services.record_exception(
        session,
        user,
        child,
        services.ExceptionData(
            reason=form.exception_reason.data or "",
            decided_by=form.exception_decided_by.data or "",
            stigmatisation=form.exception_stigmatisation.data or "",
            review_on=form.exception_review_on.data,
        ),
    )
    flash(_("Avsteget är registrerat."), "success")
    return redirect(url_for("agerules.exceptions", council_id=child.council_id))


@bp.page("/councils/<int:council_id>/age-thresholds")
def thresholds(council_id: int) -> ResponseReturnValue:
    session, user, council = _for_members(council_id)
    found = thresholds_ahead(session, council, today_local())
    return render_template(
        "secrecy/agerules/thresholds.html",
        council=council,
        thresholds=found,
        exact=exact_dates_for(session, user, found),
        agency_id=user.agency_id,
        days=WINDOW_DAYS,
        ages=", ".join(str(a) for a in age_thresholds(legal_bases().values())),
        explain=explain,
        signer_labels=SIGNER_LABELS,
        categories=categories(),
        locale=page_locale(),
    )
