"""Login with password and a second factor, logout, password change and two-factor enrolment."""

from __future__ import annotations

import base64
import binascii
import time

import segno
from cryptography.exceptions import InvalidTag
from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from coordination import security
from coordination.accounts.forms import (
    ChangePasswordForm,
    EnrolTwoFactorForm,
    LocaleForm,
    LoginForm,
    TwoFactorForm,
)
from coordination.accounts.services import (
    LoginSettings,
    authenticate,
    change_password,
    complete_login,
    enrol_two_factor,
    record_logout,
    replace_recovery_codes,
    unused_recovery_code_count,
    verify_second_factor,
)
from coordination.db import db_session
from coordination.models import User
from coordination.web.extensions import limiter
from coordination.web.forms import ConfirmForm
from coordination.web.hooks import end_session, start_session
from coordination.web.page import PageBlueprint, actor, on_refusal, require_valid

bp = PageBlueprint("auth", __name__, template_folder="templates")

PENDING_SECONDS = 300


def _settings() -> LoginSettings:
    config = current_app.config
    return LoginSettings(
        lockout_threshold=config["LOCKOUT_THRESHOLD"],
        lockout_minutes=config["LOCKOUT_MINUTES"],
        require_two_factor=config["REQUIRE_2FA"],
    )


def _ring() -> security.MasterKeyRing:
    return security.MasterKeyRing.from_config(current_app.config)


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _safe_next(target: str | None) -> str:
    """Only a local path: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("councils.start")


def _pending_user() -> User | None:
    """The user who passed the password step in this browser, within the last five minutes."""
    pending = session.get("pending")
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = db_session().get(User, pending["user_id"])
    if user is None or user.session_epoch != pending.get("epoch") or not user.is_active:
        return None
    return user


def _finish_login(user: User, method: str) -> ResponseReturnValue:
    dbs = db_session()
    complete_login(dbs, user, method)  # committed by the page wrapper with the response
    next_url = _safe_next(session.get("pending", {}).get("next"))
    start_session(dbs, user)
    return redirect(next_url)


@bp.page("/login", methods=["GET", "POST"], public=True)
@limiter.limit(_login_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("councils.start"))
    form = LoginForm()
    if form.validate_on_submit():
        dbs = db_session()
        outcome = authenticate(dbs, form.email.data or "", form.password.data or "", _settings())
        if outcome.user is None:
            # A refusal that raises nothing: the wrapper commits the recorded failure.
            flash(
                _(
                    "Inloggningen misslyckades. Kontrollera e-postadress och lösenord. "
                    "Efter många misslyckade försök spärras kontot en kort tid."
                ),
                "error",
            )
            return render_template("coordination/login.html", form=form), 200
        if outcome.needs_two_factor or outcome.needs_enrolment:
            session["pending"] = {
                "user_id": outcome.user.id,
                "epoch": outcome.user.session_epoch,
                "at": time.time(),
                "next": request.args.get("next"),
                "stage": "two_factor" if outcome.needs_two_factor else "enrol",
            }
            endpoint = "auth.two_factor" if outcome.needs_two_factor else "auth.enrol"
            return redirect(url_for(endpoint))
        session["pending"] = {"next": request.args.get("next")}
        return _finish_login(outcome.user, "password")
    return render_template("coordination/login.html", form=form)


@bp.page("/login/two-factor", methods=["GET", "POST"], public=True)
@limiter.limit(_login_limit, methods=["POST"])
def two_factor() -> ResponseReturnValue:
    user = _pending_user()
    if user is None or session["pending"].get("stage") != "two_factor":
        flash(_("Logga in på nytt."), "info")
        return redirect(url_for("auth.login"))
    form = TwoFactorForm()
    if form.validate_on_submit():
        dbs = db_session()
        # A wrong code is counted and logged; the page is shown again and the wrapper commits.
        method = verify_second_factor(dbs, user, form.code.data or "", _ring(), _settings())
        if method is not None:
            if method == "recovery_code":
                flash(_("Du loggade in med en reservkod. Den kan inte användas igen."), "warning")
            return _finish_login(user, "password+" + method)
        form.code.errors = [*form.code.errors, _("Koden stämmer inte.")]
    return render_template("coordination/two_factor.html", form=form)


def _enrolment_secret(user: User) -> bytes:
    """The not yet confirmed secret, kept sealed in the signed session until it is confirmed."""
    ring = _ring()
    sealed = session.get("enrol_secret")
    if sealed:
        try:
            return security.open_totp_secret(ring, user.id, base64.b64decode(sealed))
        except (InvalidTag, binascii.Error, ValueError):
            session.pop("enrol_secret", None)  # a stale or foreign value: start over
    secret = security.new_totp_secret()
    session["enrol_secret"] = base64.b64encode(
        security.seal_totp_secret(ring, user.id, secret)
    ).decode()
    return secret


def _render_enrolment(user: User, form: EnrolTwoFactorForm, logged_in: bool) -> str:
    secret = _enrolment_secret(user)
    uri = security.totp_uri(secret, user.email)
    qr_svg = segno.make(uri, error="m").svg_inline(
        scale=5, title=_("QR-kod för autentiseringsappen")
    )
    return render_template(
        "coordination/enrol_two_factor.html",
        form=form,
        qr_svg=qr_svg,
        secret=security.totp_base32(secret),
        logged_in=logged_in,
    )


@bp.page("/login/enrol", methods=["GET", "POST"], public=True)
@limiter.limit(_login_limit, methods=["POST"])
def enrol() -> ResponseReturnValue:
    """First login when two-factor is required and the account has none yet."""
    user = _pending_user()
    if user is None or session["pending"].get("stage") != "enrol":
        flash(_("Logga in på nytt."), "info")
        return redirect(url_for("auth.login"))
    form = EnrolTwoFactorForm()
    if request.method == "GET":
        return _render_enrolment(user, form, logged_in=False)
    on_refusal(form, lambda message: _render_enrolment(user, form, logged_in=False))
    require_valid(form)
    dbs = db_session()
    codes = enrol_two_factor(dbs, user, _enrolment_secret(user), form.code.data or "", _ring())
    complete_login(dbs, user, "password+totp_enrolment")
    start_session(dbs, user)
    return render_template("coordination/recovery_codes.html", codes=codes)


@bp.page("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    form = ConfirmForm()
    if form.validate_on_submit():
        record_logout(db_session(), actor())
        end_session()
        flash(_("Du är utloggad."), "info")
    return redirect(url_for("auth.login"))


@bp.page("/account")
def account() -> ResponseReturnValue:
    return render_template(
        "coordination/account.html",
        password_form=ChangePasswordForm(),
        confirm_form=ConfirmForm(),
        recovery_left=unused_recovery_code_count(db_session(), actor()),
    )


@bp.page("/account/password", methods=["POST"])
def password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    dbs = db_session()
    on_refusal(
        form,
        lambda message: render_template(
            "coordination/account.html",
            password_form=form,
            confirm_form=ConfirmForm(),
            recovery_left=unused_recovery_code_count(dbs, actor()),
        ),
    )
    require_valid(form)
    user = actor()
    change_password(
        dbs,
        user,
        form.current_password.data or "",
        form.password.data or "",
        current_app.config["PASSWORD_MIN_LENGTH"],
    )
    start_session(dbs, user)  # the epoch changed: a new cookie for this browser only
    flash(_("Lösenordet är bytt. Andra inloggningar med ditt konto har avslutats."), "success")
    return redirect(url_for("auth.account"))


@bp.page("/account/two-factor", methods=["GET", "POST"])
def account_two_factor() -> ResponseReturnValue:
    """Set up (or replace) the authenticator while logged in."""
    user = actor()
    form = EnrolTwoFactorForm()
    if request.method == "GET":
        return _render_enrolment(user, form, logged_in=True)
    on_refusal(form, lambda message: _render_enrolment(user, form, logged_in=True))
    require_valid(form)
    codes = enrol_two_factor(
        db_session(), user, _enrolment_secret(user), form.code.data or "", _ring()
    )
    session.pop("enrol_secret", None)
    return render_template("coordination/recovery_codes.html", codes=codes)


@bp.page("/account/recovery-codes", methods=["POST"])
def recovery_codes() -> ResponseReturnValue:
    form = ConfirmForm()
    user = actor()
    if not form.validate_on_submit() or not user.has_two_factor:
        return redirect(url_for("auth.account"))
    codes = replace_recovery_codes(db_session(), user)
    return render_template("coordination/recovery_codes.html", codes=codes)


@bp.page("/locale", methods=["POST"], public=True)
def locale() -> ResponseReturnValue:
    form = LocaleForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            actor().locale = form.locale.data
    return redirect(_safe_next(request.form.get("next")))
