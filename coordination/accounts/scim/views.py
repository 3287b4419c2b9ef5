"""An agency's SCIM clients, for administrators: create (the token shown once), list, revoke,
and the accounts the identity provider created that still wait for a role."""

from __future__ import annotations

from flask import Flask, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from coordination.accounts.scim import api
from coordination.accounts.scim.forms import ScimClientForm
from coordination.accounts.scim.models import ScimClient
from coordination.accounts.scim.services import (
    ScimTag,
    clients_of,
    create_client,
    revoke_client,
    waiting_for_roles,
)
from coordination.admin.access import agency_for
from coordination.db import db_session
from coordination.errors import NotFound
from coordination.logreview.scopes import register_tag_labels
from coordination.models import Agency
from coordination.web.forms import ConfirmForm
from coordination.web.page import PageBlueprint, actor, on_refusal, require_valid

bp = PageBlueprint("scim_admin", __name__, url_prefix="/admin", template_folder="templates")


TAG_LABELS = {
    ScimTag.CLIENT_CREATE: _l("SCIM-klient skapad"),
    ScimTag.CLIENT_REVOKE: _l("SCIM-klient återkallad"),
    ScimTag.AUTH_FAILURE: _l("SCIM-anrop utan giltig token"),
    ScimTag.USER_CREATE: _l("Konto skapat av katalogen (SCIM)"),
    ScimTag.USER_UPDATE: _l("Konto ändrat av katalogen (SCIM)"),
    ScimTag.USER_DEACTIVATE: _l("Konto inaktiverat av katalogen (SCIM)"),
    ScimTag.USER_ACTIVATE: _l("Konto aktiverat av katalogen (SCIM)"),
    ScimTag.USER_DELETE: _l("Konto borttaget i katalogen (SCIM)"),
}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    api.init_app(app)
    register_tag_labels(app, {str(tag): label for tag, label in TAG_LABELS.items()})


def _client_for(session: Session, agency: Agency, client_id: int) -> ScimClient:
    client = session.get(ScimClient, client_id)
    if client is None or client.agency_id != agency.id:
        raise NotFound(object_type="scim_client", object_ids=[client_id])
    return client


def _render(
    agency: Agency, form: ScimClientForm, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    session = db_session()
    return render_template(
        "coordination/scim/clients.html",
        agency=agency,
        form=form,
        error=error,
        clients=clients_of(session, agency),
        waiting=waiting_for_roles(session, agency.id),
        endpoint=url_for("scim.list_users", _external=True).removesuffix("/Users"),
        confirm_form=ConfirmForm(),
    ), status


@bp.page("/agencies/<int:agency_id>/scim")
def clients(agency_id: int) -> ResponseReturnValue:
    agency = agency_for(db_session(), actor(), agency_id)
    return _render(agency, ScimClientForm())


@bp.page("/agencies/<int:agency_id>/scim", methods=["POST"])
def create(agency_id: int) -> ResponseReturnValue:
    session = db_session()
    agency = agency_for(session, actor(), agency_id)
    form = ScimClientForm()
    on_refusal(form, lambda message: _render(agency, form, message, 422))
    require_valid(form)
    issued = create_client(session, actor(), agency, form.name.data or "")
    # Rendered, not redirected: the secret exists only in this response.
    return render_template("coordination/scim/created.html", agency=agency, issued=issued)


@bp.page("/agencies/<int:agency_id>/scim/<int:client_id>/revoke", methods=["POST"])
def revoke(agency_id: int, client_id: int) -> ResponseReturnValue:
    session = db_session()
    agency = agency_for(session, actor(), agency_id)
    client = _client_for(session, agency, client_id)
    if ConfirmForm().validate_on_submit():
        revoke_client(session, actor(), client)
        flash(_("SCIM-klienten ”%(name)s” är återkallad.", name=client.name), "success")
    return redirect(url_for("scim_admin.clients", agency_id=agency.id))
