"""Single sign-on pages: "Logga in med <organisation>", the provider's callback, stepping up
the assurance level and SAML's assertion consumer. The administrator's sign-in settings and the
approval of accounts are in ``admin_views``, single and back-channel logout in
``logout_views``."""

from __future__ import annotations

from typing import Any

from authlib.common.errors import AuthlibBaseError
from flask import (
    Flask,
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
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from joserfc.errors import JoseError
from sqlalchemy.orm import Session

from coordination.accounts.providers import oidc, saml
from coordination.accounts.providers.access import (
    enabled_providers,
    provider_of_agency,
    provider_to_log_in_with,
)
from coordination.accounts.providers.assurance import (
    ACR_FOR_LEVEL,
    Assurance,
    session_assurance,
)
from coordination.accounts.providers.forms import (
    SamlResponseForm,
)
from coordination.accounts.providers.models import IdentityProvider, ProviderKind
from coordination.accounts.providers.services import (
    Failure,
)
from coordination.accounts.providers.signin import (
    refuse_login,
    refuse_unsolicited,
    sign_in_external,
)
from coordination.accounts.sessions import ProviderOrigin
from coordination.db import db_session
from coordination.web.extensions import csrf
from coordination.web.hooks import start_session
from coordination.web.page import PageBlueprint, actor
from coordination.web.registries import register_admin_section

bp = PageBlueprint("providers", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # The administration and logout pages are declared on ``bp`` in their own modules.
    from coordination.accounts.providers import admin_views, logout_views  # noqa: F401

    app.register_blueprint(bp)
    register_admin_section(app, "providers.sign_in_settings", _l("Inloggning"))
    app.jinja_env.globals["sign_in_providers"] = _sign_in_providers
    app.jinja_env.globals["assurance_step_up"] = _assurance_step_up


def provider_timeout() -> float:
    return float(current_app.config["IDENTITY_PROVIDER_TIMEOUT"])


def _sign_in_providers() -> list[IdentityProvider]:
    return enabled_providers(db_session())


def _assurance_step_up() -> bool:
    """The page's banner: this session is below the level its agency requires."""
    if not current_user.is_authenticated:
        return False
    assurance = session_assurance(current_user._get_current_object())
    return assurance is not None and assurance.too_low


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


# --- Log-in through a provider ------------------------------------------------------------------


def _refused(message: Any) -> ResponseReturnValue:
    flash(message, "error")
    return redirect(url_for("auth.login"))


@bp.page("/login/provider/<int:provider_id>", public=True)
def start_login(provider_id: int) -> ResponseReturnValue:
    """To the provider (a GET: the log-in page's button is a link, and nothing is written; the
    state, nonce and PKCE verifier go into the signed session cookie)."""
    if current_user.is_authenticated:
        return redirect(url_for("councils.start"))
    provider = provider_to_log_in_with(db_session(), provider_id)
    if provider is None or not provider.enabled or not provider.agency.active:
        return _refused(_("Inloggning med den här tjänsten är avstängd för myndigheten."))
    return _redirect_to_provider(
        provider, provider.requested_acr, step_up=False, next_url=request.args.get("next")
    )


def _redirect_to_provider(
    provider: IdentityProvider, acr: str | None, *, step_up: bool, next_url: str | None
) -> ResponseReturnValue:
    pending: dict[str, Any] = {
        "provider_id": provider.id,
        "step_up": step_up,
        "next": _safe_next(next_url),
    }
    try:
        if provider.kind is ProviderKind.SAML:
            request_id, location = saml.authentication_redirect(
                provider, _service_provider(), "samverkan", acr
            )
            session["sso"] = {**pending, "request_id": request_id}
            return redirect(location)
        session["sso"] = pending
        callback = url_for("providers.callback", provider_id=provider.id, _external=True)
        return oidc.authorization_redirect(provider, callback, provider_timeout(), acr)
    except oidc.ProviderUnusable as exc:
        session.pop("sso", None)
        return _refused(str(exc))


@bp.page("/login/step-up")
def step_up() -> ResponseReturnValue:
    """Log in again through the agency's provider, asking for the level its records need."""
    user = actor()
    assurance = session_assurance(user)
    provider = provider_of_agency(db_session(), user.agency_id)
    if assurance is None or not assurance.too_low:
        return redirect(url_for("councils.start"))
    if provider is None or not user.agency.active:
        flash(
            _(
                "Din inloggning kan inte ge en högre tillitsnivå. Din myndighet behöver en "
                "inloggningstjänst med e-legitimation; kontakta administratören."
            ),
            "error",
        )
        return redirect(url_for("councils.start"))
    required = assurance.required or Assurance.LOA3
    acr = ACR_FOR_LEVEL.get(required, provider.requested_acr)
    # The provider's own value for the level, where its mapping names one.
    own = [value for value, code in (provider.acr_levels or {}).items() if code == required.code]
    return _redirect_to_provider(
        provider, own[0] if own else acr, step_up=True, next_url=request.args.get("next")
    )


@bp.page("/login/provider/<int:provider_id>/callback", public=True)
def callback(provider_id: int) -> ResponseReturnValue:
    """The provider's answer: Authlib checks state, PKCE, the ID token's signature, issuer,
    audience, expiry and nonce; then the subject is matched (or provisioned)."""
    dbs = db_session()
    provider = provider_to_log_in_with(dbs, provider_id)
    pending = session.pop("sso", None) or {}
    if provider is None:
        return _refused(_("Okänd inloggningstjänst."))
    if pending.get("provider_id") != provider.id:
        # No log-in of this browser was started with this provider (or it was used already).
        return _refused(refuse_login(dbs, provider, Failure.PROTOCOL, detail="no_state").message)
    if request.args.get("error"):
        return _refused(
            refuse_login(
                dbs, provider, Failure.PROVIDER_ERROR, detail=str(request.args.get("error"))
            ).message
        )
    try:
        claims = oidc.finish_authorization(provider, provider_timeout())
    except oidc.ProviderUnusable as exc:
        refuse_login(dbs, provider, Failure.PROTOCOL, detail="unusable")
        return _refused(str(exc))
    except (AuthlibBaseError, JoseError, ValueError) as exc:
        error = getattr(exc, "error", None) or type(exc).__name__
        return _refused(refuse_login(dbs, provider, Failure.PROTOCOL, detail=str(error)).message)
    origin = ProviderOrigin(
        provider.id, _text_claim(claims.get("sub")), _text_claim(claims.get("sid"))
    )
    return _complete_login(dbs, provider, claims, pending, origin)


def _text_claim(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _complete_login(
    dbs: Session,
    provider: IdentityProvider,
    claims: dict[str, Any],
    pending: dict[str, Any],
    origin: ProviderOrigin,
) -> ResponseReturnValue:
    """The provider's validated claims: the user by subject, a fresh session with the
    log-in's assurance level and what the provider's logout requests will name (``origin``)."""
    outcome = sign_in_external(dbs, provider, claims)
    if outcome.user is None:
        return _refused(outcome.message)
    user = outcome.user
    if pending.get("step_up") and current_user.is_authenticated and current_user.id != user.id:
        # Stepping up must be the same person: another account's log-in ends this session.
        return _refused(
            refuse_login(dbs, provider, Failure.PROTOCOL, user=user, detail="other_user").message
        )
    start_session(dbs, user, f"{provider.kind}:{provider.id}", origin)
    session["idp"] = provider.id
    if outcome.level is not None:
        session["assurance"] = outcome.level.code
    if pending.get("step_up"):
        flash(_("Du är inloggad med högre tillitsnivå."), "success")
    return redirect(_safe_next(pending.get("next")) or url_for("councils.start"))


# --- SAML 2.0 -----------------------------------------------------------------------------------


def _service_provider() -> saml.ServiceProvider:
    config = current_app.config
    return saml.ServiceProvider(
        entity_id=url_for("providers.saml_metadata", _external=True),
        acs_url=url_for("providers.saml_acs", _external=True),
        slo_url=url_for("providers.saml_slo", _external=True),
        key_file=config.get("SAML_SP_KEY_FILE"),
        cert_file=config.get("SAML_SP_CERT_FILE"),
    )


@bp.page("/saml/metadata", public=True)
def saml_metadata() -> ResponseReturnValue:
    """The deployment's service provider metadata, to register with a federation or an IdP."""
    return (
        saml.sp_metadata(_service_provider()),
        200,
        {"Content-Type": "application/samlmetadata+xml"},
    )


@bp.page("/saml/acs", methods=["POST"], public=True)
def saml_acs() -> ResponseReturnValue:
    """The provider's HTTP-POST arrives from another site, so the browser sends no session
    cookie with it (SameSite=Lax). The response is handed on, unread, to this site's own
    address in a form the browser posts at once (with the cookie, which holds the one request
    the response must answer). Nothing is stored and no cookie is set here."""
    form = SamlResponseForm()
    if not form.SAMLResponse.data:
        return redirect(url_for("auth.login"))
    return render_template("coordination/providers/saml_continue.html", form=form)


@bp.page("/saml/acs/continue", methods=["POST"], public=True)
def saml_continue() -> ResponseReturnValue:
    dbs = db_session()
    pending = session.pop("sso", None) or {}
    provider = provider_to_log_in_with(dbs, int(pending.get("provider_id") or 0) or 0)
    if provider is None or provider.kind is not ProviderKind.SAML:
        # An answer to no request of this browser: unsolicited, replayed, or another's.
        return _refused(refuse_unsolicited(dbs))
    form = SamlResponseForm()
    try:
        claims, logout = saml.consume_response(
            provider, _service_provider(), form.SAMLResponse.data or "", pending.get("request_id")
        )
    except saml.AssertionRefused as exc:
        return _refused(refuse_login(dbs, provider, Failure.PROTOCOL, detail=str(exc)).message)
    origin = ProviderOrigin(provider.id, logout.get("name_id"), logout.get("session_index"))
    answer = _complete_login(dbs, provider, claims, pending, origin)
    if current_user.is_authenticated and session.get("idp") == provider.id:
        # What the LogoutRequest names at log-out (single logout), in the signed cookie.
        session["saml_logout"] = logout
    return answer


csrf.exempt(saml_acs)  # the provider's POST: its signature and InResponseTo protect it
csrf.exempt(saml_continue)  # carries the provider's signed response and this browser's request
