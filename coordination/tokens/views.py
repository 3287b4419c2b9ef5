"""The account page's API tokens: create (shown once), list, revoke."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from coordination.db import db_session, utcnow
from coordination.errors import ServiceError
from coordination.tokens.forms import ApiTokenForm
from coordination.tokens.services import (
    DEFAULT_LIFETIME_DAYS,
    ApiToken,
    Scope,
    create_token,
    revoke_token,
    tokens_of,
)
from coordination.web.forms import ConfirmForm
from coordination.web.page import actor, show_service_error

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens", template_folder="templates")


def _render(form: ApiTokenForm, status: int = 200, error: str | None = None) -> ResponseReturnValue:
    return render_template(
        "coordination/api_tokens.html",
        form=form,
        error=error,
        tokens=tokens_of(db_session(), actor()),
        confirm_form=ConfirmForm(),
        now=utcnow(),
    ), status


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    form = ApiTokenForm(lifetime_days=DEFAULT_LIFETIME_DAYS)
    return _render(form)


@bp.post("/")
@login_required
def create() -> ResponseReturnValue:
    form = ApiTokenForm()
    if not form.validate_on_submit():
        return _render(form, 422)
    session = db_session()
    scopes = {Scope.READ, Scope.WRITE} if form.write.data else {Scope.READ}
    try:
        issued = create_token(
            session, actor(), form.name.data or "", scopes, form.lifetime_days.data or 0
        )
    except ServiceError as error:
        session.rollback()
        return _render(form, 422, show_service_error(form, error))
    session.commit()
    # Rendered, not redirected: the secret exists only in this response (no-store).
    return render_template("coordination/api_token_created.html", issued=issued)


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> ResponseReturnValue:
    form = ConfirmForm()
    session = db_session()
    token = session.get(ApiToken, token_id)
    user = actor()
    if token is None or token.user_id != user.id:
        abort(404)
    if form.validate_on_submit():
        revoke_token(session, user, token)
        session.commit()
        flash(_("Token ”%(name)s” är återkallad.", name=token.name), "success")
    return redirect(url_for("tokens.index"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
