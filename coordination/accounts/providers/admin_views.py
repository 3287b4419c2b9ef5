"""Sign-in administration: an agency's identity provider (checked when saved), the assurance it
requires, the links between users and the provider's subjects; and the approval of accounts a
provider created. Declared on the providers' blueprint (``views.bp``)."""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from coordination.accounts.providers import oidc, saml
from coordination.accounts.providers.access import (
    agency_sign_in_for,
    identity_for,
    pending_user_for,
)
from coordination.accounts.providers.assurance import (
    ASSURANCE_LABELS,
    Assurance,
)
from coordination.accounts.providers.forms import (
    AgencyAssuranceForm,
    LinkIdentityForm,
    ProviderForm,
    parse_acr_levels,
)
from coordination.accounts.providers.models import IdentityProvider, ProviderKind, UserIdentity
from coordination.accounts.providers.services import (
    ProviderFields,
    approve_user,
    create_provider,
    link_identity,
    pending_accounts,
    set_agency_assurance,
    unlink_identity,
    update_provider,
)
from coordination.accounts.providers.views import bp, provider_timeout
from coordination.db import db_session
from coordination.errors import PermissionDenied, ServiceError
from coordination.models import Agency, Role, User
from coordination.policy import Permission, has_permission
from coordination.web.confirm import Confirmation, is_confirmed, render_confirmation
from coordination.web.forms import ConfirmForm, parse_version
from coordination.web.page import actor, on_refusal, require_valid

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
            discovery = saml.check_metadata(fields.issuer or None, metadata_xml, provider_timeout())
        except oidc.ProviderUnusable as exc:
            raise ServiceError(str(exc), field="issuer") from exc
        if not fields.issuer:
            fields.issuer = str(discovery.metadata["entity_id"])[:500]
        return discovery
    for name in ("issuer", "client_id", "client_secret_env"):
        if not getattr(fields, name):
            raise ServiceError(_("Fyll i fältet för OpenID Connect."), field=name)
    try:
        discovery = oidc.check_discovery(fields.issuer, provider_timeout())
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
