"""Ending sessions with an identity provider: single logout (SAML: the IdP's LogoutRequest and
its LogoutResponse to ours, over HTTP-Redirect or HTTP-POST), ending the provider's session
after ours, and OpenID Connect Back-Channel Logout. Declared on the sign-in pages' blueprint."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from coordination.accounts.providers import oidc, saml
from coordination.accounts.providers.access import provider_to_log_in_with, saml_providers
from coordination.accounts.providers.forms import SamlResponseForm
from coordination.accounts.providers.logout_tokens import remember_logout_token
from coordination.accounts.providers.models import ProviderKind
from coordination.accounts.providers.services import (
    end_sessions_at_provider_logout,
    refuse_provider_logout,
)
from coordination.accounts.providers.views import _service_provider, bp, provider_timeout
from coordination.accounts.sessions import session_has_ended
from coordination.db import db_session, utcnow
from coordination.web.extensions import csrf
from coordination.web.hooks import end_session


@bp.page("/saml/slo", methods=["GET", "POST"], public=True)
def saml_slo() -> ResponseReturnValue:
    """Single logout: the IdP's own LogoutRequest (IdP-initiated, over HTTP-Redirect or
    HTTP-POST), or its LogoutResponse after ours (the session here ended before), over
    HTTP-Redirect or HTTP-POST. A LogoutResponse posted from the IdP's site comes without the
    cookie that names our request (SameSite=Lax), so it is handed on, unread, like the ACS's."""
    posted = request.form if request.method == "POST" else {}
    if "SAMLResponse" in posted and "SAMLRequest" not in posted:
        return render_template(
            "coordination/providers/saml_continue.html",
            form=SamlResponseForm(),
            action=url_for("providers.saml_slo_continue"),
            heading=_("Utloggningen fortsätter"),
        )
    if request.method == "POST" or "SAMLRequest" in request.args:
        values = request.form if request.method == "POST" else request.args
        return _idp_logout(
            saml.BINDING_HTTP_POST if request.method == "POST" else saml.BINDING_HTTP_REDIRECT,
            values.get("SAMLRequest") or "",
            values.get("RelayState"),
            request.args.get("SigAlg"),
            request.args.get("Signature"),
        )
    return _logout_response(
        saml.BINDING_HTTP_REDIRECT,
        request.args.get("SAMLResponse") or "",
        request.args.get("RelayState"),
        request.args.get("SigAlg"),
        request.args.get("Signature"),
    )


@bp.page("/saml/slo/continue", methods=["POST"], public=True)
def saml_slo_continue() -> ResponseReturnValue:
    """The IdP's LogoutResponse by HTTP-POST, handed on by ``saml_slo`` with the cookie."""
    form = SamlResponseForm()
    return _logout_response(
        saml.BINDING_HTTP_POST, form.SAMLResponse.data or "", form.RelayState.data or None
    )


def _logout_response(
    binding: str,
    encoded: str,
    relay_state: str | None,
    sigalg: str | None = None,
    signature: str | None = None,
) -> ResponseReturnValue:
    """The IdP's LogoutResponse to the LogoutRequest this browser was sent with: the session
    here ended before it, so nothing changes; a confirmed logout at the provider is said."""
    provider_id = session.pop("slo_provider", None)
    request_id = session.pop("slo_request", None)
    provider = provider_to_log_in_with(db_session(), int(provider_id or 0))
    if provider is not None and saml.logout_succeeded(
        provider,
        _service_provider(),
        binding,
        encoded,
        request_id=request_id,
        relay_state=relay_state,
        sigalg=sigalg,
        signature=signature,
    ):
        flash(
            _("Du är utloggad även hos %(organisation)s.", organisation=provider.display_name),
            "info",
        )
    return redirect(url_for("auth.login"))


def _idp_logout(
    binding: str,
    encoded: str,
    relay_state: str | None,
    sigalg: str | None,
    signature: str | None,
) -> ResponseReturnValue:
    """The IdP ends the user's session there and tells us: pysaml2 checks the request against
    the metadata of the deployment's SAML providers; the sessions that signed in through the
    issuing provider as the NameID (with the SessionIndex) end, found in the table (the POST
    carries no cookie); the answer is our signed LogoutResponse, back to the IdP."""
    dbs = db_session()
    providers = saml_providers(dbs)
    try:
        seen = saml.read_logout_request(
            providers,
            _service_provider(),
            binding,
            encoded,
            relay_state=relay_state,
            sigalg=sigalg,
            signature=signature,
        )
    except saml.LogoutRefused as exc:
        refuse_provider_logout(dbs, None, channel="saml_slo", reason=str(exc))
        page = render_template("coordination/providers/provider_logout.html", refused=True)
        return page, 400
    issuers = [p for p in providers if p.discovered.get("entity_id") == seen.issuer]
    ended = end_sessions_at_provider_logout(
        dbs, issuers, seen.name_id, seen.session_indexes, channel="saml_slo"
    )
    if session.get("sid") and session_has_ended(dbs, session["sid"]):
        end_session()  # the browser came with the cookie of a session that just ended
    location = saml.logout_response_redirect(seen, ended=ended > 0)
    if location is None:
        return render_template("coordination/providers/provider_logout.html", refused=False)
    return redirect(location)


csrf.exempt(saml_slo)  # the IdP's POST from its own site: the request's signature protects it
csrf.exempt(saml_slo_continue)  # carries the IdP's signed response to this browser's request


@bp.page("/logout/provider/<int:provider_id>", public=True)
def provider_logout(provider_id: int) -> ResponseReturnValue:
    """After the local log-out: end the session at the provider too (RP-initiated logout),
    where it offers that. A page that goes on by itself: the log-out form's answer may not
    redirect to another site (the CSP's form-action)."""
    provider = provider_to_log_in_with(db_session(), provider_id)
    url = None
    handle = session.pop("saml_logout", None)
    if provider is not None and provider.enabled and provider.kind is ProviderKind.OIDC:
        url = oidc.logout_url(provider, provider_timeout(), url_for("auth.login", _external=True))
    elif provider is not None and provider.enabled and provider.kind is ProviderKind.SAML:
        started = saml.logout_redirect(provider, _service_provider(), handle)
        if started is not None:
            session["slo_request"], url = started
            session["slo_provider"] = provider.id
    if url is None:
        return redirect(url_for("auth.login"))
    response = make_response(
        render_template("coordination/providers/logged_out.html", provider=provider, logout_url=url)
    )
    response.headers["Refresh"] = f"0; url={url}"
    return response


@bp.page("/login/provider/<int:provider_id>/backchannel-logout", methods=["POST"], public=True)
def backchannel_logout(provider_id: int) -> ResponseReturnValue:
    """OpenID Connect Back-Channel Logout: the provider posts a signed logout token (server to
    server, no browser); the sessions it names (``sub`` and/or ``sid``) end, once: its ``jti``
    is remembered with the logout, and the same token again is refused."""
    dbs = db_session()
    provider = provider_to_log_in_with(dbs, provider_id)
    headers = {"Cache-Control": "no-store"}
    if provider is None or provider.kind is not ProviderKind.OIDC:
        refuse_provider_logout(dbs, None, channel="oidc_backchannel", reason="unknown_provider")
        return {"error": "invalid_request"}, 400, headers
    try:
        token = oidc.validate_logout_token(
            provider, request.form.get("logout_token") or "", provider_timeout()
        )
        remember_logout_token(dbs, provider, token.jti, utcnow())
    except oidc.LogoutTokenRefused as exc:
        refuse_provider_logout(dbs, provider, channel="oidc_backchannel", reason=str(exc))
        return {"error": "invalid_request"}, 400, headers
    end_sessions_at_provider_logout(
        dbs, [provider], token.sub, [token.sid] if token.sid else [], channel="oidc_backchannel"
    )
    return "", 200, headers


csrf.exempt(backchannel_logout)  # server to server: the token's signature protects it
