"""Single sign-on pages: "Logga in med <organisation>", the provider's callback, stepping up
the assurance level, ending the provider's session, the administrator's sign-in settings per
agency and the approval of accounts a provider's first log-in created."""

from __future__ import annotations

from typing import Any

from authlib.common.errors import AuthlibBaseError
from flask import (
    Flask,
    current_app,
    flash,
    make_response,
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
from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from coordination.accounts.providers import oidc, saml
from coordination.accounts.providers.access import (
    agency_sign_in_for,
    enabled_providers,
    identity_for,
    pending_user_for,
    provider_of_agency,
    provider_to_log_in_with,
    saml_providers,
)
from coordination.accounts.providers.assurance import (
    ACR_FOR_LEVEL,
    ASSURANCE_LABELS,
    Assurance,
    session_assurance,
)
from coordination.accounts.providers.forms import (
    AgencyAssuranceForm,
    LinkIdentityForm,
    ProviderForm,
    SamlResponseForm,
    parse_acr_levels,
)
from coordination.accounts.providers.models import IdentityProvider, ProviderKind, UserIdentity
from coordination.accounts.providers.services import (
    Failure,
    ProviderFields,
    approve_user,
    create_provider,
    end_sessions_at_provider_logout,
    link_identity,
    pending_accounts,
    refuse_login,
    refuse_provider_logout,
    refuse_unsolicited,
    set_agency_assurance,
    sign_in_external,
    unlink_identity,
    update_provider,
)
from coordination.accounts.sessions import ProviderOrigin, session_has_ended
from coordination.db import db_session
from coordination.errors import PermissionDenied, ServiceError
from coordination.models import Agency, Role, User
from coordination.policy import Permission, has_permission
from coordination.web.confirm import Confirmation, is_confirmed, render_confirmation
from coordination.web.extensions import csrf
from coordination.web.forms import ConfirmForm, parse_version
from coordination.web.hooks import end_session, start_session
from coordination.web.page import PageBlueprint, actor, on_refusal, require_valid
from coordination.web.registries import register_admin_section

bp = PageBlueprint("providers", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_admin_section(app, "providers.sign_in_settings", _l("Inloggning"))
    app.jinja_env.globals["sign_in_providers"] = _sign_in_providers
    app.jinja_env.globals["assurance_step_up"] = _assurance_step_up


def _timeout() -> float:
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
        return oidc.authorization_redirect(provider, callback, _timeout(), acr)
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
        claims = oidc.finish_authorization(provider, _timeout())
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


@bp.page("/saml/slo", methods=["GET", "POST"], public=True)
def saml_slo() -> ResponseReturnValue:
    """Single logout: the IdP's own LogoutRequest (IdP-initiated, over HTTP-Redirect or
    HTTP-POST), or its LogoutResponse after ours (the session here ended before)."""
    if request.method == "POST" or "SAMLRequest" in request.args:
        values = request.form if request.method == "POST" else request.args
        return _idp_logout(
            saml.BINDING_HTTP_POST if request.method == "POST" else saml.BINDING_HTTP_REDIRECT,
            values.get("SAMLRequest") or "",
            values.get("RelayState"),
            request.args.get("SigAlg"),
            request.args.get("Signature"),
        )
    provider_id = session.pop("slo_provider", None)
    provider = provider_to_log_in_with(db_session(), int(provider_id or 0))
    response = request.args.get("SAMLResponse")
    if (
        provider is not None
        and response
        and saml.logout_succeeded(provider, _service_provider(), response)
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


csrf.exempt(saml_acs)  # the provider's POST: its signature and InResponseTo protect it
csrf.exempt(saml_continue)  # carries the provider's signed response and this browser's request
csrf.exempt(saml_slo)  # the IdP's POST from its own site: the request's signature protects it


@bp.page("/logout/provider/<int:provider_id>", public=True)
def provider_logout(provider_id: int) -> ResponseReturnValue:
    """After the local log-out: end the session at the provider too (RP-initiated logout),
    where it offers that. A page that goes on by itself: the log-out form's answer may not
    redirect to another site (the CSP's form-action)."""
    provider = provider_to_log_in_with(db_session(), provider_id)
    url = None
    handle = session.pop("saml_logout", None)
    if provider is not None and provider.enabled and provider.kind is ProviderKind.OIDC:
        url = oidc.logout_url(provider, _timeout(), url_for("auth.login", _external=True))
    elif provider is not None and provider.enabled and provider.kind is ProviderKind.SAML:
        url = saml.logout_redirect(provider, _service_provider(), handle)
        if url:
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
    server, no browser); the sessions it names (``sub`` and/or ``sid``) end."""
    dbs = db_session()
    provider = provider_to_log_in_with(dbs, provider_id)
    headers = {"Cache-Control": "no-store"}
    if provider is None or provider.kind is not ProviderKind.OIDC:
        refuse_provider_logout(dbs, None, channel="oidc_backchannel", reason="unknown_provider")
        return {"error": "invalid_request"}, 400, headers
    try:
        sub, sid = oidc.validate_logout_token(
            provider, request.form.get("logout_token") or "", _timeout()
        )
    except oidc.LogoutTokenRefused as exc:
        refuse_provider_logout(dbs, provider, channel="oidc_backchannel", reason=str(exc))
        return {"error": "invalid_request"}, 400, headers
    end_sessions_at_provider_logout(
        dbs, [provider], sub, [sid] if sid else [], channel="oidc_backchannel"
    )
    return "", 200, headers


csrf.exempt(backchannel_logout)  # server to server: the token's signature protects it


# --- Administration -----------------------------------------------------------------------------


@bp.page("/admin/sign-in")
def sign_in_settings() -> ResponseReturnValue:
    if not has_permission(actor(), Permission.MANAGE_USERS):
        raise PermissionDenied()
    dbs = db_session()
    agencies = dbs.scalars(select(Agency).order_by(Agency.name)).all()
    providers = {p.agency_id: p for p in dbs.scalars(select(IdentityProvider))}
    return render_template(
        "coordination/providers/settings.html",
        agencies=agencies,
        providers=providers,
        levels=ASSURANCE_LABELS,
        levels_by_code={level.code: label for level, label in ASSURANCE_LABELS.items()},
        deployment_level=Assurance.parse(current_app.config["ASSURANCE_REQUIRED_FOR_RECORDS"]),
        local_level=Assurance.parse(current_app.config["LOCAL_TOTP_ASSURANCE"]),
    )


def _provider_form(provider: IdentityProvider | None) -> ProviderForm:
    if request.method == "POST":
        return ProviderForm()
    form = ProviderForm(obj=provider)
    if provider is not None:
        form.kind.data = str(provider.kind)
        form.claim_subject.data = provider.claim("subject")
        form.claim_name.data = provider.claim("name")
        form.claim_email.data = provider.claim("email")
        form.claim_acr.data = provider.claim("acr")
        form.acr_levels.data = "\n".join(
            f"{k} = {v}" for k, v in (provider.acr_levels or {}).items()
        )
        form.minimum_assurance.data = provider.minimum_assurance or ""
        form.version.data = str(provider.version)
    return form


def _render_agency(
    dbs: Session,
    agency: Agency,
    provider: IdentityProvider | None,
    form: ProviderForm,
    *,
    assurance_form: AgencyAssuranceForm | None = None,
    link_form: LinkIdentityForm | None = None,
    error: str | None = None,
) -> str:
    if assurance_form is None:
        assurance_form = AgencyAssuranceForm()
        assurance_form.required_assurance.data = agency.required_assurance or ""
        assurance_form.version.data = str(agency.version)
    identities: list[UserIdentity] = []
    if provider is not None:
        identities = list(
            dbs.scalars(
                select(UserIdentity)
                .where(UserIdentity.provider_id == provider.id)
                .join(UserIdentity.user)
                .options(contains_eager(UserIdentity.user))
                .order_by(User.display_name)
            )
        )
        if link_form is None:
            link_form = LinkIdentityForm()
        linked = {i.user_id for i in identities}
        link_form.user_id.choices = [
            (u.id, f"{u.display_name} ({u.email})")
            for u in dbs.scalars(
                select(User).where(User.agency_id == agency.id).order_by(User.display_name)
            )
            if u.id not in linked
        ]
    return render_template(
        "coordination/providers/agency.html",
        agency=agency,
        provider=provider,
        form=form,
        assurance_form=assurance_form,
        link_form=link_form,
        identities=identities,
        error=error,
        callback_url=(
            url_for("providers.callback", provider_id=provider.id, _external=True)
            if provider
            else None
        ),
    )


def _fields(form: ProviderForm) -> ProviderFields:
    mapped = {
        "subject": form.claim_subject.data,
        "name": form.claim_name.data,
        "email": form.claim_email.data,
        "acr": form.claim_acr.data,
    }
    return ProviderFields(
        kind=ProviderKind(form.kind.data),
        display_name=form.display_name.data or "",
        issuer=(form.issuer.data or "").strip(),
        client_id=form.client_id.data or "",
        client_secret_env=form.client_secret_env.data or "",
        # An empty field: the protocol's usual name (IdentityProvider.claim).
        claims={field: value.strip() for field, value in mapped.items() if value and value.strip()},
        acr_levels=parse_acr_levels(form.acr_levels.data or ""),
        requested_acr=form.requested_acr.data,
        minimum_assurance=form.minimum_assurance.data or None,
        jit_provisioning=bool(form.jit_provisioning.data),
        enabled=bool(form.enabled.data),
    )


@bp.page("/admin/sign-in/<int:agency_id>", methods=["GET", "POST"])
def agency_sign_in(agency_id: int) -> ResponseReturnValue:
    dbs = db_session()
    agency, provider = agency_sign_in_for(dbs, actor(), agency_id)
    form = _provider_form(provider)
    if request.method == "GET":
        return _render_agency(dbs, agency, provider, form)
    on_refusal(form, lambda message: _render_agency(dbs, agency, provider, form, error=message))
    require_valid(form)
    fields = _fields(form)
    discovery = _check(fields, form.metadata_xml.data)
    if provider is None:
        create_provider(dbs, actor(), agency, fields, discovery)
    else:
        update_provider(
            dbs,
            actor(),
            provider,
            fields,
            discovery,
            expected_version=parse_version(form.version.data),
        )
    flash(_("Inloggningstjänsten är kontrollerad och sparad."), "success")
    return redirect(url_for("providers.agency_sign_in", agency_id=agency.id))


def _check(fields: ProviderFields, metadata_xml: str | None) -> oidc.Discovery:
    """Checked before anything is saved: the discovery document and the secret's variable
    (OIDC), the metadata (SAML). A failure is the form's message, nothing is saved."""
    if fields.kind is ProviderKind.SAML:
        try:
            discovery = saml.check_metadata(fields.issuer or None, metadata_xml, _timeout())
        except oidc.ProviderUnusable as exc:
            raise ServiceError(str(exc), field="issuer") from exc
        if not fields.issuer:
            fields.issuer = str(discovery.metadata["entity_id"])[:500]
        return discovery
    for name in ("issuer", "client_id", "client_secret_env"):
        if not getattr(fields, name):
            raise ServiceError(_("Fyll i fältet för OpenID Connect."), field=name)
    try:
        discovery = oidc.check_discovery(fields.issuer, _timeout())
    except oidc.ProviderUnusable as exc:
        raise ServiceError(str(exc), field="issuer") from exc
    if not oidc.secret_is_set(fields.client_secret_env):
        raise ServiceError(
            _(
                "Miljövariabeln %(name)s med klienthemligheten är inte satt på servern.",
                name=fields.client_secret_env,
            ),
            field="client_secret_env",
        )
    return discovery


@bp.page("/admin/sign-in/<int:agency_id>/assurance", methods=["POST"])
def agency_assurance(agency_id: int) -> ResponseReturnValue:
    dbs = db_session()
    agency, provider = agency_sign_in_for(dbs, actor(), agency_id)
    form = AgencyAssuranceForm()
    on_refusal(
        form,
        lambda message: _render_agency(
            dbs, agency, provider, _provider_form(provider), assurance_form=form, error=message
        ),
    )
    require_valid(form)
    set_agency_assurance(
        dbs,
        actor(),
        agency,
        form.required_assurance.data or None,
        expected_version=parse_version(form.version.data),
    )
    flash(_("Tillitsnivån är sparad."), "success")
    return redirect(url_for("providers.agency_sign_in", agency_id=agency.id))


@bp.page("/admin/sign-in/<int:agency_id>/identities", methods=["POST"])
def link_user(agency_id: int) -> ResponseReturnValue:
    dbs = db_session()
    agency, provider = agency_sign_in_for(dbs, actor(), agency_id)
    if provider is None:
        return redirect(url_for("providers.agency_sign_in", agency_id=agency.id))
    form = LinkIdentityForm()
    # The choices are filled by the page; any user id is checked by the service.
    form.user_id.choices = [(form.user_id.data, "")] if form.user_id.data else []
    on_refusal(
        form,
        lambda message: _render_agency(
            dbs, agency, provider, _provider_form(provider), link_form=form, error=message
        ),
    )
    require_valid(form)
    user = dbs.get(User, form.user_id.data)
    if user is None:
        raise ServiceError(_("Användaren finns inte."), field="user_id")
    link_identity(dbs, actor(), provider, user, form.subject.data or "")
    flash(_("Användaren är kopplad till inloggningstjänsten."), "success")
    return redirect(url_for("providers.agency_sign_in", agency_id=agency.id))


@bp.page("/admin/sign-in/identities/<int:identity_id>/remove", methods=["GET", "POST"])
def unlink_user(identity_id: int) -> ResponseReturnValue:
    """Remove a user's link to the provider: the GET (and a POST without the confirmation)
    shows what it means; the confirmation page's button removes it."""
    dbs = db_session()
    identity = identity_for(dbs, actor(), identity_id)
    provider = identity.provider
    back = url_for("providers.agency_sign_in", agency_id=provider.agency_id)
    form = ConfirmForm()
    on_refusal(form, redirect_to=back)
    name = identity.user.display_name
    if not is_confirmed():
        return render_confirmation(
            Confirmation(
                title=_("Ta bort kopplingen till inloggningstjänsten"),
                lead=_(
                    "Du tar bort kopplingen mellan %(name)s och identiteten hos %(organisation)s.",
                    name=name,
                    organisation=provider.display_name,
                ),
                consequences=[
                    _(
                        "%(name)s kan inte längre logga in med %(organisation)s förrän "
                        "kopplingen görs på nytt.",
                        name=name,
                        organisation=provider.display_name,
                    ),
                    _(
                        "Inloggningar som %(name)s har gjort med %(organisation)s avslutas nu.",
                        name=name,
                        organisation=provider.display_name,
                    ),
                    _("Kontot, dess roller och forum finns kvar."),
                    _("Ändringen skrivs i loggen."),
                ],
                action=url_for("providers.unlink_user", identity_id=identity.id),
                button=_("Ta bort kopplingen"),
                cancel_url=back,
            )
        )
    require_valid(form)
    ended = unlink_identity(dbs, actor(), identity)
    flash(
        _(
            "Kopplingen för %(name)s är borttagen. Avslutade inloggningar: %(count)s.",
            name=name,
            count=ended,
        ),
        "success",
    )
    return redirect(back)


# --- Approval of provisioned accounts -----------------------------------------------------------


def _may_see_pending(user: User) -> bool:
    return has_permission(user, Permission.MANAGE_USERS) or user.has_role(Role.COORDINATOR)


@bp.page("/accounts/pending")
def pending() -> ResponseReturnValue:
    user = actor()
    if not _may_see_pending(user):
        raise PermissionDenied()
    return render_template(
        "coordination/providers/pending.html",
        users=pending_accounts(db_session(), user),
        form=ConfirmForm(),
    )


@bp.page("/accounts/pending/<int:user_id>/approve", methods=["POST"])
def approve(user_id: int) -> ResponseReturnValue:
    dbs = db_session()
    user = pending_user_for(dbs, actor(), user_id)
    form = ConfirmForm()
    on_refusal(form, redirect_to=url_for("providers.pending"))
    require_valid(form)
    approve_user(dbs, actor(), user)
    flash(
        _(
            "Kontot för %(name)s är godkänt. Det har inga roller eller forum ännu.",
            name=user.display_name,
        ),
        "success",
    )
    return redirect(url_for("providers.pending"))
