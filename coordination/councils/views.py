"""The start page and the council pages members see; member management for coordinators."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager, selectinload

from coordination.councils.forms import AddMemberForm, MemberRoleForm
from coordination.councils.services import add_member, remove_member, update_member_role
from coordination.db import db_session
from coordination.errors import ServiceError
from coordination.models import Council, CouncilMembership, CouncilRole, User
from coordination.policy import (
    Permission,
    can_manage_members,
    can_view_council,
    has_permission,
)
from coordination.web.forms import COUNCIL_KIND_LABELS, COUNCIL_ROLE_LABELS, ConfirmForm, choices
from coordination.web.page import actor, deny, show_service_error
from coordination.web.registries import council_panels

bp = Blueprint("councils", __name__, template_folder="templates")


@bp.route("/")
@login_required
def start() -> ResponseReturnValue:
    user = actor()
    memberships = (
        db_session()
        .scalars(
            select(CouncilMembership)
            .where(CouncilMembership.user_id == user.id)
            .join(Council)
            .where(Council.active.is_(True))
            # The council from the join (not a second query), without its agencies.
            .options(contains_eager(CouncilMembership.council).lazyload(Council.agencies))
            .order_by(Council.name)
        )
        .all()
    )
    return render_template(
        "coordination/start.html",
        memberships=memberships,
        kind_labels=COUNCIL_KIND_LABELS,
        role_labels=COUNCIL_ROLE_LABELS,
        is_admin=has_permission(user, Permission.MANAGE_COUNCILS),
    )


def _load_council(session: Session, council_id: int, *, manage: bool = False) -> Council:
    """Load, then check access. An unknown id is refused like a forbidden one (no 404 oracle)."""
    council = session.scalars(
        select(Council)
        .where(Council.id == council_id)
        .options(selectinload(Council.memberships).selectinload(CouncilMembership.user))
    ).one_or_none()
    user = actor()
    allowed = council is not None and (
        can_manage_members(user, council)
        if manage
        else can_view_council(user, council) or can_manage_members(user, council)
    )
    if council is None or not allowed:
        deny(session, "council", council_id)
    return council


def _add_member_form(session: Session, council: Council) -> AddMemberForm:
    form = AddMemberForm()
    member_ids = {m.user_id for m in council.memberships}
    candidates = session.scalars(
        select(User)
        .where(User.agency_id.in_([a.id for a in council.agencies]), User.active.is_(True))
        .order_by(User.display_name)
    ).all()
    form.user_id.choices = choices(
        (u.id, f"{u.display_name} – {u.agency.name}") for u in candidates if u.id not in member_ids
    )
    return form


def _render_council(
    session: Session,
    council: Council,
    add_form: AddMemberForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    user = actor()
    manage = can_manage_members(user, council)
    member = can_view_council(user, council)
    memberships = sorted(
        council.memberships, key=lambda m: (m.user.agency.name, m.user.display_name)
    )
    return render_template(
        "coordination/council.html",
        council=council,
        memberships=memberships,
        manage=manage,
        member=member,
        panels=council_panels(session, user, council) if member else [],
        add_form=add_form or (_add_member_form(session, council) if manage else None),
        role_form=MemberRoleForm(),
        confirm_form=ConfirmForm(),
        kind_labels=COUNCIL_KIND_LABELS,
        role_labels=COUNCIL_ROLE_LABELS,
        error=error,
    ), status


@bp.route("/councils/<int:council_id>")
@login_required
def council(council_id: int) -> ResponseReturnValue:
    session = db_session()
    return _render_council(session, _load_council(session, council_id))


@bp.route("/councils/<int:council_id>/members", methods=["POST"])
@login_required
def add_council_member(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = _load_council(session, council_id, manage=True)
    form = _add_member_form(session, council)
    if form.validate_on_submit():
        user = session.get(User, form.user_id.data)
        try:
            if user is None:
                raise ServiceError(_("Välj en användare."), field="user_id")
            add_member(session, actor(), council, user, CouncilRole(form.council_role.data))
        except ServiceError as error:
            session.rollback()
            return _render_council(session, council, form, show_service_error(form, error), 422)
        session.commit()
        flash(_("Medlemmen är tillagd."), "success")
        return redirect(url_for("councils.council", council_id=council.id))
    return _render_council(session, council, form, None, 422)


def _load_membership(session: Session, council_id: int, membership_id: int) -> CouncilMembership:
    council = _load_council(session, council_id, manage=True)
    membership = next((m for m in council.memberships if m.id == membership_id), None)
    if membership is None:
        deny(session, "council", council_id)
    return membership


@bp.route("/councils/<int:council_id>/members/<int:membership_id>/role", methods=["POST"])
@login_required
def change_member_role(council_id: int, membership_id: int) -> ResponseReturnValue:
    session = db_session()
    membership = _load_membership(session, council_id, membership_id)
    form = MemberRoleForm()
    if form.validate_on_submit():
        try:
            update_member_role(session, actor(), membership, CouncilRole(form.council_role.data))
        except ServiceError as error:
            session.rollback()
            flash(str(error.message), "error")
        else:
            session.commit()
            flash(_("Rollen är ändrad."), "success")
    return redirect(url_for("councils.council", council_id=council_id))


@bp.route("/councils/<int:council_id>/members/<int:membership_id>/remove", methods=["POST"])
@login_required
def remove_council_member(council_id: int, membership_id: int) -> ResponseReturnValue:
    session = db_session()
    membership = _load_membership(session, council_id, membership_id)
    if ConfirmForm().validate_on_submit():
        try:
            remove_member(session, actor(), membership)
        except ServiceError as error:
            session.rollback()
            flash(str(error.message), "error")
        else:
            session.commit()
            flash(_("Medlemmen är borttagen."), "success")
    return redirect(url_for("councils.council", council_id=council_id))
