"""The start page and the council pages members see; member management for coordinators."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from coordination.councils.access import council_for, membership_for
from coordination.councils.forms import AddMemberForm, MemberRoleForm
from coordination.councils.services import add_members, remove_member, update_member_role
from coordination.db import db_session
from coordination.models import Council, CouncilMembership, CouncilRole, User
from coordination.policy import (
    Need,
    Permission,
    can_manage_members,
    can_view_council,
    has_permission,
)
from coordination.web.forms import COUNCIL_KIND_LABELS, COUNCIL_ROLE_LABELS, ConfirmForm, choices
from coordination.web.page import PageBlueprint, actor, on_refusal, require_valid
from coordination.web.registries import council_panels

bp = PageBlueprint("councils", __name__, template_folder="templates")


@bp.page("/")
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


@bp.page("/councils/<int:council_id>")
def council(council_id: int) -> ResponseReturnValue:
    session = db_session()
    # Members see the council; those who manage its members (administrators) see it too.
    council = council_for(session, actor(), council_id, (Need.VIEW, Need.MANAGE), members=True)
    return _render_council(session, council)


@bp.page("/councils/<int:council_id>/members", methods=["POST"])
def add_council_member(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = council_for(session, actor(), council_id, Need.MANAGE, members=True)
    form = _add_member_form(session, council)
    on_refusal(form, lambda message: _render_council(session, council, form, message, 422))
    require_valid(form)
    users = list(session.scalars(select(User).where(User.id.in_(form.user_id.data or []))))
    added = add_members(session, actor(), council, users, CouncilRole(form.council_role.data))
    flash(
        ngettext("%(num)s medlem är tillagd.", "%(num)s medlemmar är tillagda.", len(added)),
        "success",
    )
    return redirect(url_for("councils.council", council_id=council.id))


@bp.page("/councils/<int:council_id>/members/<int:membership_id>/role", methods=["POST"])
def change_member_role(council_id: int, membership_id: int) -> ResponseReturnValue:
    session = db_session()
    membership = membership_for(session, actor(), council_id, membership_id)
    form = MemberRoleForm()
    back = url_for("councils.council", council_id=council_id)
    if not form.validate_on_submit():
        return redirect(back)
    on_refusal(redirect_to=back)
    update_member_role(session, actor(), membership, CouncilRole(form.council_role.data))
    flash(_("Rollen är ändrad."), "success")
    return redirect(back)


@bp.page("/councils/<int:council_id>/members/<int:membership_id>/remove", methods=["POST"])
def remove_council_member(council_id: int, membership_id: int) -> ResponseReturnValue:
    session = db_session()
    membership = membership_for(session, actor(), council_id, membership_id)
    back = url_for("councils.council", council_id=council_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(back)
    on_refusal(redirect_to=back)
    remove_member(session, actor(), membership)
    flash(_("Medlemmen är borttagen."), "success")
    return redirect(back)
