"""Administration: agencies, users and councils. Structure only, never children's information."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from coordination.admin.access import (
    agency_for,
    council_for_admin,
    require_administrator,
    user_for,
)
from coordination.admin.forms import AgencyForm, CouncilForm, UserForm
from coordination.admin.services import (
    AuthorityFields,
    create_agency,
    create_user,
    update_agency,
    update_user,
)
from coordination.councils.services import CouncilFields, create_council, update_council
from coordination.db import db_session, utcnow
from coordination.errors import ServiceError
from coordination.models import (
    Agency,
    AgencyKind,
    Council,
    CouncilKind,
    CouncilMembership,
    Role,
    User,
)
from coordination.numbers import page_count
from coordination.web.forms import (
    AGENCY_KIND_LABELS,
    COUNCIL_KIND_LABELS,
    ROLE_LABELS,
    ConfirmForm,
    choices,
    parse_version,
)
from coordination.web.page import PageBlueprint, actor, on_refusal, require_valid
from coordination.web.params import arg_int, page_number

bp = PageBlueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

PAGE_SIZE = 50


@bp.page("/")
def index() -> ResponseReturnValue:
    require_administrator(actor())
    return redirect(url_for("admin.agencies"))


# --- Agencies -----------------------------------------------------------------------------------


def _render_agencies(
    session: Session, form: AgencyForm, error: str | None = None
) -> ResponseReturnValue:
    counts = dict(
        session.execute(select(User.agency_id, func.count()).group_by(User.agency_id)).all()
    )
    rows = session.scalars(select(Agency).order_by(Agency.name)).all()
    return render_template(
        "coordination/admin/agencies.html",
        agencies=rows,
        form=form,
        user_counts=counts,
        kind_labels=AGENCY_KIND_LABELS,
        error=error,
    )


@bp.page("/agencies", methods=["GET", "POST"])
def agencies() -> ResponseReturnValue:
    session = db_session()
    require_administrator(actor())
    form = AgencyForm()
    if request.method == "GET":
        return _render_agencies(session, form)
    on_refusal(form, lambda message: _render_agencies(session, form, message))
    require_valid(form)
    agency = create_agency(
        session,
        actor(),
        kind=AgencyKind(form.kind.data),
        name=form.name.data or "",
        osl_applies=bool(form.osl_applies.data),
    )
    flash(_("Myndigheten %(name)s är skapad.", name=agency.name), "success")
    return redirect(url_for("admin.agencies"))


def _render_agency(agency: Agency, form: AgencyForm, error: str | None = None) -> str:
    return render_template(
        "coordination/admin/agency.html",
        agency=agency,
        form=form,
        error=error,
        kind_labels=AGENCY_KIND_LABELS,
    )


@bp.page("/agencies/<int:agency_id>", methods=["GET", "POST"])
def agency(agency_id: int) -> ResponseReturnValue:
    session = db_session()
    agency = agency_for(session, actor(), agency_id)
    form = AgencyForm(obj=agency if request.method == "GET" else None)
    del form.kind  # the kind decides which secrecy rules apply; it never changes
    if request.method == "GET":
        form.version.data = str(agency.version)
        return _render_agency(agency, form)
    on_refusal(form, lambda message: _render_agency(agency, form, message))
    require_valid(form)
    update_agency(
        session,
        actor(),
        agency,
        name=form.name.data or "",
        active=form.active.data,
        osl_applies=bool(form.osl_applies.data),
        authority=AuthorityFields(
            name=form.authority_name.data or "",
            org_number=form.authority_org_number.data or "",
            independent_branch=bool(form.independent_branch.data),
        ),
        expected_version=parse_version(form.version.data),
    )
    flash(_("Ändringarna är sparade."), "success")
    return redirect(url_for("admin.agencies"))


# --- Users --------------------------------------------------------------------------------------


def _user_form(session: Session, user: User | None = None) -> UserForm:
    form = UserForm(obj=user if request.method == "GET" else None)
    form.agency_id.choices = choices(
        (a.id, a.name)
        for a in session.scalars(
            select(Agency).where(Agency.active.is_(True)).order_by(Agency.name)
        )
    )
    if request.method == "GET" and user is not None:
        form.roles.data = [r.value for r in user.roles]
        form.version.data = str(user.version)
    return form


@bp.page("/users")
def users() -> ResponseReturnValue:
    session = db_session()
    require_administrator(actor())
    page = page_number()
    agency_id = arg_int("agency")
    query = select(User).order_by(User.display_name, User.id)
    if agency_id:
        query = query.where(User.agency_id == agency_id)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template(
        "coordination/admin/users.html",
        users=rows,
        agencies=session.scalars(select(Agency).order_by(Agency.name)).all(),
        agency_id=agency_id,
        page=page,
        pages=page_count(total, PAGE_SIZE),
        total=total,
        role_labels=ROLE_LABELS,
        now=utcnow(),
    )


def _render_new_user(form: UserForm, error: str | None = None) -> str:
    return render_template("coordination/admin/user_form.html", form=form, user=None, error=error)


@bp.page("/users/new", methods=["GET", "POST"])
def new_user() -> ResponseReturnValue:
    session = db_session()
    require_administrator(actor())
    form = _user_form(session)
    if request.method == "GET":
        return _render_new_user(form)
    on_refusal(form, lambda message: _render_new_user(form, message))
    require_valid(form)
    agency = session.get(Agency, form.agency_id.data)
    if agency is None:
        raise ServiceError(_("Välj en myndighet."), field="agency_id")
    user = create_user(
        session,
        actor(),
        agency=agency,
        email=form.email.data or "",
        display_name=form.display_name.data or "",
        password=form.password.data or "",
        roles={Role(r) for r in form.roles.data or []},
        min_password_length=current_app.config["PASSWORD_MIN_LENGTH"],
    )
    flash(
        _("Kontot är skapat. Lämna startlösenordet till användaren på ett säkert sätt."),
        "success",
    )
    return redirect(url_for("admin.user", user_id=user.id))


def _render_user(session: Session, user: User, form: UserForm, error: str | None = None) -> str:
    memberships = session.scalars(
        select(CouncilMembership)
        .where(CouncilMembership.user_id == user.id)
        .options(selectinload(CouncilMembership.council))
    ).all()
    return render_template(
        "coordination/admin/user_form.html",
        form=form,
        user=user,
        error=error,
        confirm_form=ConfirmForm(),
        memberships=memberships,
        now=utcnow(),
    )


@bp.page("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int) -> ResponseReturnValue:
    session = db_session()
    user = user_for(session, actor(), user_id)
    form = _user_form(session, user)
    del form.agency_id  # an account belongs to one agency for good
    del form.password
    if request.method == "GET":
        return _render_user(session, user, form)
    on_refusal(form, lambda message: _render_user(session, user, form, message))
    require_valid(form)
    update_user(
        session,
        actor(),
        user,
        email=form.email.data or "",
        display_name=form.display_name.data or "",
        roles={Role(r) for r in form.roles.data or []},
        expected_version=parse_version(form.version.data),
    )
    flash(_("Ändringarna är sparade."), "success")
    return redirect(url_for("admin.user", user_id=user.id))


# --- Councils -----------------------------------------------------------------------------------


def _council_form(session: Session, council: Council | None = None) -> CouncilForm:
    form = CouncilForm(obj=council if request.method == "GET" else None)
    form.agency_ids.choices = choices(
        (a.id, a.name)
        for a in session.scalars(
            select(Agency).where(Agency.active.is_(True)).order_by(Agency.name)
        )
    )
    if request.method == "GET" and council is None:
        form.retention_months.data = current_app.config["RETENTION_DEFAULT_MONTHS"]
    if request.method == "GET" and council is not None:
        form.agency_ids.data = [a.id for a in council.agencies]
        form.version.data = str(council.version)
        form.kind.data = council.kind.value
    return form


def _council_fields(form: CouncilForm, *, new: bool = False) -> CouncilFields:
    """``new``: the create form has no "Aktivt" box (a new council is active); an unticked box
    on the edit form deactivates."""
    return CouncilFields(
        kind=CouncilKind(form.kind.data),
        name=form.name.data or "",
        area=form.area.data or "",
        code=form.code.data or "",
        agency_ids=list(form.agency_ids.data or []),
        active=True if new else bool(form.active.data),
        retention_months=int(form.retention_months.data or 0),
        maturity_consent=bool(form.maturity_consent.data),
        request_flag_days=form.request_flag_days.data,
        assessment_interval_days=form.assessment_interval_days.data,
        set_assessment_interval=True,
    )


@bp.page("/councils")
def councils() -> ResponseReturnValue:
    session = db_session()
    require_administrator(actor())
    member_counts = dict(
        session.execute(
            select(CouncilMembership.council_id, func.count()).group_by(
                CouncilMembership.council_id
            )
        ).all()
    )
    rows = session.scalars(select(Council).order_by(Council.name)).all()
    return render_template(
        "coordination/admin/councils.html",
        councils=rows,
        member_counts=member_counts,
        kind_labels=COUNCIL_KIND_LABELS,
    )


def _render_council_form(
    form: CouncilForm, council: Council | None, error: str | None = None
) -> str:
    return render_template(
        "coordination/admin/council_form.html", form=form, council=council, error=error
    )


@bp.page("/councils/new", methods=["GET", "POST"])
def new_council() -> ResponseReturnValue:
    session = db_session()
    require_administrator(actor())
    form = _council_form(session)
    if request.method == "GET":
        return _render_council_form(form, None)
    on_refusal(form, lambda message: _render_council_form(form, None, message))
    require_valid(form)
    council = create_council(session, actor(), _council_fields(form, new=True))
    flash(_("Forumet är skapat. Lägg nu till medlemmar."), "success")
    return redirect(url_for("councils.council", council_id=council.id))


@bp.page("/councils/<int:council_id>", methods=["GET", "POST"])
def council(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = council_for_admin(session, actor(), council_id)
    form = _council_form(session, council)
    if request.method == "GET":
        return _render_council_form(form, council)
    on_refusal(form, lambda message: _render_council_form(form, council, message))
    require_valid(form)
    update_council(
        session,
        actor(),
        council,
        _council_fields(form),
        expected_version=parse_version(form.version.data),
    )
    flash(_("Ändringarna är sparade."), "success")
    return redirect(url_for("councils.council", council_id=council.id))
