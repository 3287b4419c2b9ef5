"""The account page's API tokens: create (shown once), list, revoke."""

from __future__ import annotations

from flask import Flask, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from coordination.db import db_session, utcnow
from coordination.tokens.access import token_for
from coordination.tokens.forms import ApiTokenForm
from coordination.tokens.services import (
    DEFAULT_LIFETIME_DAYS,
    Scope,
    create_token,
    revoke_token,
    tokens_of,
)
from coordination.web.forms import ConfirmForm
from coordination.web.page import PageBlueprint, actor, on_refusal, require_valid

bp = PageBlueprint("tokens", __name__, url_prefix="/account/tokens", template_folder="templates")


def _render(form: ApiTokenForm, status: int = 200, error: str | None = None) -> ResponseReturnValue:
    return render_template(
        "coordination/api_tokens.html",
        form=form,
        error=error,
        tokens=tokens_of(db_session(), actor()),
        confirm_form=ConfirmForm(),
        now=utcnow(),
    ), status


@bp.page("/")
def index() -> ResponseReturnValue:
    form = ApiTokenForm(lifetime_days=DEFAULT_LIFETIME_DAYS)
    return _render(form)


@bp.page("/", methods=["POST"])
def create() -> ResponseReturnValue:
    form = ApiTokenForm()
    on_refusal(form, lambda message: _render(form, 422, message))
    require_valid(form)
    scopes = {Scope.READ, Scope.WRITE} if form.write.data else {Scope.READ}
    issued = create_token(
        db_session(), actor(), form.name.data or "", scopes, form.lifetime_days.data or 0
    )
    # Rendered, not redirected: the secret exists only in this response (no-store).
    return render_template("coordination/api_token_created.html", issued=issued)


@bp.page("/<int:token_id>/revoke", methods=["POST"])
def revoke(token_id: int) -> ResponseReturnValue:
    session = db_session()
    token = token_for(session, actor(), token_id)
    if ConfirmForm().validate_on_submit():
        revoke_token(session, actor(), token)
        flash(_("Token ”%(name)s” är återkallad.", name=token.name), "success")
    return redirect(url_for("tokens.index"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
