"""Login with password and a second factor, logout, password change and two-factor enrolment."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable

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
    ReplaceTwoFactorForm,
    StartPasswordForm,
    TwoFactorForm,
)
from coordination.accounts.providers.services import local_login_allowed
from coordination.accounts.services import (
    LoginSettings,
    account_key,
    authenticate,
    change_password,
    complete_login,
    confirm_identity,
    enrol_two_factor,
    log_out_everywhere,
    record_logout,
    replace_recovery_codes,
    replace_start_password,
    unused_recovery_code_count,
    verify_second_factor,
)
from coordination.accounts.sessions import EndReason, end_session_row
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


def _account_limit() -> str:
    return str(current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"])


def _login_account_key() -> str:
    """The log-in form's account, hashed (no e-mail address in the rate-limit storage): many
    people behind one address each get their own count of mistyped passwords."""
    return "login-account:" + account_key(request.form.get("email", ""))


def _pending_account_key() -> str:
    """The second-factor steps count per account that passed the password step."""
    pending = session.get("pending") or {}
    return f"login-pending:{pending.get('user_id', request.remote_addr or 'unknown')}"


def _pending_step_limits(
    view: Callable[[], ResponseReturnValue],
) -> Callable[[], ResponseReturnValue]:
    """The rate limits of a step after the password: per address, and per pending account."""
    limited = limiter.limit(_account_limit, methods=["POST"], key_func=_pending_account_key)(view)
    return limiter.limit(_login_limit, methods=["POST"])(limited)


def _own_account_key() -> str:
    return f"account:{current_user.get_id() if current_user.is_authenticated else 'anonymous'}"


def _safe_next(target: str | None) -> str:
    """Only a local path: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("councils.start")


def _pending_user(stage: str) -> User | None:
    """The user who passed the password step in this browser, within the last five minutes,
    and whose next step is ``stage``."""
    pending = session.get("pending")
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = db_session().get(User, pending["user_id"])
    if user is None or user.session_epoch != pending.get("epoch") or not user.is_active:
        return None
    return user if pending.get("stage") == stage else None


def _log_in_again() -> ResponseReturnValue:
    """Back to the log-in page: the step that was pending has expired or is another one."""
    flash(_("Logga in på nytt."), "info")
    return redirect(url_for("auth.login"))


def _finish_login(user: User, method: str) -> ResponseReturnValue:
    dbs = db_session()
    complete_login(dbs, user, method)  # committed by the page wrapper with the response
    next_url = _safe_next(session.get("pending", {}).get("next"))
    start_session(dbs, user, method)
    return redirect(next_url)


@bp.page("/login", methods=["GET", "POST"], public=True)
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_account_limit, methods=["POST"], key_func=_login_account_key)
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
        if not local_login_allowed(dbs, outcome.user):
            flash(
                _(
                    "Din myndighet loggar in via sin inloggningstjänst. Använd knappen "
                    "”Logga in med …” ovan."
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
@_pending_step_limits
def two_factor() -> ResponseReturnValue:
    user = _pending_user("two_factor")
    if user is None:
        return _log_in_again()
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
@_pending_step_limits
def enrol() -> ResponseReturnValue:
    """First login when two-factor is required and the account has none yet."""
    user = _pending_user("enrol")
    if user is None:
        return _log_in_again()
    form = EnrolTwoFactorForm()
    if request.method == "GET":
        return _render_enrolment(user, form, logged_in=False)
    on_refusal(form, lambda message: _render_enrolment(user, form, logged_in=False))
    require_valid(form)
    dbs = db_session()
    codes = enrol_two_factor(dbs, user, _enrolment_secret(user), form.code.data or "", _ring())
    complete_login(dbs, user, "password+totp_enrolment")
    start_session(dbs, user, "password+totp_enrolment")
    return render_template("coordination/recovery_codes.html", codes=codes)


@bp.page("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    form = ConfirmForm()
    if form.validate_on_submit():
        dbs = db_session()
        provider_id = session.get("idp")
        saml_logout = session.get("saml_logout")
        record_logout(dbs, actor())
        end_session_row(dbs, session.get("sid"), EndReason.LOGOUT)
        end_session()
        flash(_("Du är utloggad."), "info")
        if saml_logout:
            # What the SAML LogoutRequest names (providers.provider_logout takes it).
            session["saml_logout"] = saml_logout
        if provider_id:
            # The local session has ended; now the provider's (single logout), where it can.
            return redirect(url_for("providers.provider_logout", provider_id=provider_id))
    return redirect(url_for("auth.login"))


@bp.page("/account/logout-everywhere", methods=["POST"])
def logout_everywhere() -> ResponseReturnValue:
    """End every session of the account, this one included (a lost or shared computer)."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.account"))
    log_out_everywhere(db_session(), actor())
    end_session()
    flash(_("Du är utloggad överallt där du var inloggad."), "info")
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
    # Every session ended with the change: a new one for this browser only.
    start_session(dbs, user, str(session.get("auth_method") or "password"))
    flash(_("Lösenordet är bytt. Andra inloggningar med ditt konto har avslutats."), "success")
    return redirect(url_for("auth.account"))


@bp.page("/account/two-factor", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_own_account_key)
def account_two_factor() -> ResponseReturnValue:
    """Set up (or replace) the authenticator while logged in. Replacing one asks for the
    password or a code from the current authenticator: a session left open on a shared
    computer must not be enough to move the second factor to someone else's phone."""
    user = actor()
    form: EnrolTwoFactorForm = (
        ReplaceTwoFactorForm() if user.has_two_factor else EnrolTwoFactorForm()
    )
    if request.method == "GET":
        return _render_enrolment(user, form, logged_in=True)
    on_refusal(form, lambda message: _render_enrolment(user, form, logged_in=True))
    require_valid(form)
    dbs = db_session()
    if isinstance(form, ReplaceTwoFactorForm):
        confirm_identity(dbs, user, form.current.data or "", _ring())
    codes = enrol_two_factor(dbs, user, _enrolment_secret(user), form.code.data or "", _ring())
    session.pop("enrol_secret", None)
    return render_template("coordination/recovery_codes.html", codes=codes)


@bp.page("/account/start-password", methods=["GET", "POST"])
def start_password() -> ResponseReturnValue:
    """The first page after a log-in with an administrator's start password."""
    user = actor()
    if not user.must_change_password:
        return redirect(url_for("councils.start"))
    form = StartPasswordForm()
    if request.method == "GET":
        return render_template("coordination/start_password.html", form=form)
    on_refusal(form, lambda message: render_template("coordination/start_password.html", form=form))
    require_valid(form)
    dbs = db_session()
    replace_start_password(
        dbs, user, form.password.data or "", current_app.config["PASSWORD_MIN_LENGTH"]
    )
    start_session(dbs, user, str(session.get("auth_method") or "password"))
    flash(_("Ditt lösenord är sparat."), "success")
    return redirect(url_for("councils.start"))


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
