"""Login with password and a second factor, logout, password change and two-factor enrolment."""

from __future__ import annotations

import base64
import binascii
import time

import segno
from cryptography.exceptions import InvalidTag
from flask import (
    Blueprint,
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
from flask_login import current_user, login_required

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
from coordination.errors import ServiceError
from coordination.models import User
from coordination.web.extensions import limiter
from coordination.web.forms import ConfirmForm
from coordination.web.hooks import end_session, start_session
from coordination.web.page import actor, show_service_error

bp = Blueprint("auth", __name__, template_folder="templates")

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
    complete_login(dbs, user, method)
    dbs.commit()
    next_url = _safe_next(session.get("pending", {}).get("next"))
    start_session(dbs, user)
    return redirect(next_url)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("councils.start"))
    form = LoginForm()
    if form.validate_on_submit():
        dbs = db_session()
        outcome = authenticate(dbs, form.email.data or "", form.password.data or "", _settings())
        dbs.commit()
        if outcome.user is None:
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


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def two_factor() -> ResponseReturnValue:
    user = _pending_user()
    if user is None or session["pending"].get("stage") != "two_factor":
        flash(_("Logga in på nytt."), "info")
        return redirect(url_for("auth.login"))
    form = TwoFactorForm()
    if form.validate_on_submit():
        dbs = db_session()
        method = verify_second_factor(dbs, user, form.code.data or "", _ring(), _settings())
        dbs.commit()
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


@bp.route("/login/enrol", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def enrol() -> ResponseReturnValue:
    """First login when two-factor is required and the account has none yet."""
    user = _pending_user()
    if user is None or session["pending"].get("stage") != "enrol":
        flash(_("Logga in på nytt."), "info")
        return redirect(url_for("auth.login"))
    form = EnrolTwoFactorForm()
    if form.validate_on_submit():
        dbs = db_session()
        try:
            codes = enrol_two_factor(
                dbs,
                user,
                _enrolment_secret(user),
                form.code.data or "",
                _ring(),
            )
        except ServiceError as error:
            show_service_error(form, error)
        else:
            complete_login(dbs, user, "password+totp_enrolment")
            dbs.commit()
            start_session(dbs, user)
            return render_template("coordination/recovery_codes.html", codes=codes)
    return _render_enrolment(user, form, logged_in=False)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> ResponseReturnValue:
    form = ConfirmForm()
    if form.validate_on_submit():
        dbs = db_session()
        record_logout(dbs, actor())
        dbs.commit()
        end_session()
        flash(_("Du är utloggad."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account")
@login_required
def account() -> ResponseReturnValue:
    return render_template(
        "coordination/account.html",
        password_form=ChangePasswordForm(),
        confirm_form=ConfirmForm(),
        recovery_left=unused_recovery_code_count(db_session(), actor()),
    )


@bp.route("/account/password", methods=["POST"])
@login_required
def password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    dbs = db_session()
    if form.validate_on_submit():
        user = actor()
        try:
            change_password(
                dbs,
                user,
                form.current_password.data or "",
                form.password.data or "",
                current_app.config["PASSWORD_MIN_LENGTH"],
            )
        except ServiceError as error:
            show_service_error(form, error)
        else:
            dbs.commit()
            start_session(dbs, user)  # the epoch changed: a new cookie for this browser only
            flash(
                _("Lösenordet är bytt. Andra inloggningar med ditt konto har avslutats."), "success"
            )
            return redirect(url_for("auth.account"))
    return render_template(
        "coordination/account.html",
        password_form=form,
        confirm_form=ConfirmForm(),
        recovery_left=unused_recovery_code_count(dbs, actor()),
    ), 422


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def account_two_factor() -> ResponseReturnValue:
    """Set up (or replace) the authenticator while logged in."""
    user = actor()
    form = EnrolTwoFactorForm()
    if form.validate_on_submit():
        dbs = db_session()
        try:
            codes = enrol_two_factor(
                dbs,
                user,
                _enrolment_secret(user),
                form.code.data or "",
                _ring(),
            )
        except ServiceError as error:
            show_service_error(form, error)
        else:
            dbs.commit()
            session.pop("enrol_secret", None)
            return render_template("coordination/recovery_codes.html", codes=codes)
    return _render_enrolment(user, form, logged_in=True)


@bp.route("/account/recovery-codes", methods=["POST"])
@login_required
def recovery_codes() -> ResponseReturnValue:
    form = ConfirmForm()
    user = actor()
    if not form.validate_on_submit() or not user.has_two_factor:
        return redirect(url_for("auth.account"))
    dbs = db_session()
    codes = replace_recovery_codes(dbs, user)
    dbs.commit()
    return render_template("coordination/recovery_codes.html", codes=codes)


@bp.route("/locale", methods=["POST"])
def locale() -> ResponseReturnValue:
    form = LocaleForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            dbs = db_session()
            actor().locale = form.locale.data
            dbs.commit()
    return redirect(_safe_next(request.form.get("next")))
