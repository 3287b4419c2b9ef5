"""An account's lifecycle, for administrators: deactivate, activate, reset the password, reset
two-factor, unlock (each confirmed on a page of its own, done by its POST, audited by its
service), and the list of accounts nobody has used for a while.

Who may: every administrator (``Permission.MANAGE_USERS``) for every account, as on the other
administration pages (``coordination.admin.access.user_for``); nobody else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import Session

from coordination.admin import unused
from coordination.admin.access import require_administrator, user_for
from coordination.admin.services import (
    reset_password,
    reset_two_factor,
    set_user_active,
    unlock_user,
)
from coordination.admin.unused import unused_accounts, unused_since
from coordination.db import db_session, utcnow
from coordination.models import User
from coordination.web.forms import ConfirmForm
from coordination.web.page import PageBlueprint, actor, on_refusal

bp = PageBlueprint("lifecycle", __name__, url_prefix="/admin", template_folder="templates")

UNUSED_LIST_LIMIT = 500


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    unused.init_app(app)


@bp.page("/users/unused")
def unused_users() -> ResponseReturnValue:
    """Accounts not used for ``UNUSED_ACCOUNT_DAYS`` days: the nightly report's list, live."""
    session = db_session()
    require_administrator(actor())
    days = current_app.config["UNUSED_ACCOUNT_DAYS"]
    now = utcnow()
    rows = unused_accounts(session, now, days, limit=UNUSED_LIST_LIMIT + 1)
    return render_template(
        "coordination/admin/unused_users.html",
        users=rows[:UNUSED_LIST_LIMIT],
        more=len(rows) > UNUSED_LIST_LIMIT,
        days=days,
        since=unused_since(now, days),
    )


@dataclass(frozen=True)
class UserAction:
    """One step of an account's lifecycle: asked on a confirmation page (GET, writes nothing),
    done by its POST."""

    run: Callable[[Session, User, User], object]
    title: LazyString
    question: LazyString
    done: LazyString


USER_ACTIONS = {
    "deactivate": UserAction(
        lambda s, a, u: set_user_active(s, a, u, False),
        _l("Inaktivera kontot"),
        _l("Användaren loggas ut direkt, och kontots API-tokens slutar gälla."),
        _l("Kontot är inaktiverat."),
    ),
    "activate": UserAction(
        lambda s, a, u: set_user_active(s, a, u, True),
        _l("Aktivera kontot"),
        _l("Användaren kan logga in igen. Tidigare API-tokens förblir återkallade."),
        _l("Kontot är aktiverat."),
    ),
    "reset-password": UserAction(
        reset_password,
        _l("Återställ lösenordet"),
        _l(
            "Ett nytt startlösenord skapas och visas en gång. Användaren loggas ut överallt, "
            "kontots API-tokens slutar gälla och användaren väljer ett eget lösenord vid nästa "
            "inloggning."
        ),
        _l("Lösenordet är återställt."),
    ),
    "reset-two-factor": UserAction(
        reset_two_factor,
        _l("Återställ tvåfaktor"),
        _l("Användaren loggas ut och måste ställa in tvåfaktorsinloggning igen."),
        _l("Tvåfaktorsinloggningen är återställd. Användaren ställer in den vid nästa inloggning."),
    ),
    "unlock": UserAction(
        unlock_user,
        _l("Lås upp kontot"),
        _l("Spärren efter misslyckade inloggningar tas bort."),
        _l("Kontot är upplåst."),
    ),
}


def _user_action(action: str) -> UserAction:
    if action not in USER_ACTIONS:
        abort(404)
    return USER_ACTIONS[action]


@bp.page("/users/<int:user_id>/<action>", methods=["GET", "POST"])
def user_action(user_id: int, action: str) -> ResponseReturnValue:
    session = db_session()
    user = user_for(session, actor(), user_id)
    step = _user_action(action)
    back = url_for("admin.user", user_id=user_id)
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render_template(
            "coordination/admin/user_confirm.html", user=user, step=step, form=form
        )
    on_refusal(redirect_to=back)
    result = step.run(session, actor(), user)
    if action == "reset-password":
        # Shown once, in this response only (no-store): never stored, mailed or logged.
        return render_template(
            "coordination/admin/start_password.html", user=user, start_password=result
        )
    flash(str(step.done), "success")
    return redirect(back)
