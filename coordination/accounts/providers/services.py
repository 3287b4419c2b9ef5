"""Identity providers: saving one (checked), linking users, the log-in through one, approvals.

Every function takes ``(session, actor, ...)``, flushes and never commits, and records its audit
event in the same transaction. A refused log-in raises nothing: it returns the refusal with its
Swedish message, and its audit event is committed by the page wrapper with the page.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.accounts.providers.assurance import Assurance
from coordination.accounts.providers.models import (
    DEFAULT_CLAIMS,
    IdentityProvider,
    ProviderKind,
    UserIdentity,
)
from coordination.accounts.providers.oidc import Discovery
from coordination.accounts.sessions import EndReason, end_provider_sessions
from coordination.audit.log import record_event
from coordination.db import utcnow
from coordination.errors import PermissionDenied, ServiceError, check_version
from coordination.models import Agency, Role, User
from coordination.policy import Permission, has_permission


class ProviderTag(enum.StrEnum):
    CREATE = "auth:provider:create"
    UPDATE = "auth:provider:update"
    LOGIN_FAILURE = "auth:provider:login_failure"
    PROVISION = "auth:provider:provision"
    LINK = "auth:provider:link"
    APPROVE = "auth:account:approve"
    ASSURANCE = "auth:agency:assurance"
    UNLINK = "auth:provider:unlink"
    # The provider ended the user's session there (SAML single logout, OIDC back-channel).
    PROVIDER_LOGOUT = "auth:provider:logout"
    PROVIDER_LOGOUT_REFUSED = "auth:provider:logout_refused"


class Failure(enum.StrEnum):
    """Why a log-in through a provider was refused (the audit event's reason)."""

    PROTOCOL = "protocol"  # state, nonce, issuer, signature, expiry: Authlib refused the answer
    PROVIDER_ERROR = "provider_error"  # the provider answered with an error
    DISABLED = "disabled"  # the provider or its agency is switched off
    NO_SUBJECT = "no_subject"
    ASSURANCE = "assurance"
    UNKNOWN_SUBJECT = "unknown_subject"
    EMAIL_TAKEN = "email_taken"
    PENDING = "pending"
    INACTIVE = "inactive"


FAILURE_MESSAGES: Mapping[Failure, LazyString] = {
    Failure.PROTOCOL: _l(
        "Svaret från inloggningstjänsten kunde inte godtas (det var ändrat, för gammalt, redan "
        "använt eller inte utfärdat av rätt tjänst). Försök logga in igen."
    ),
    Failure.PROVIDER_ERROR: _l("Inloggningstjänsten avbröt inloggningen. Försök igen."),
    Failure.DISABLED: _l("Inloggning med den här tjänsten är avstängd för myndigheten."),
    Failure.NO_SUBJECT: _l("Inloggningstjänsten skickade ingen identitet för dig."),
    Failure.ASSURANCE: _l(
        "Inloggningen har för låg tillitsnivå för den här tjänsten. Logga in med en starkare "
        "e-legitimation."
    ),
    Failure.UNKNOWN_SUBJECT: _l(
        "Det finns inget konto i Samverkan för dig. Be en administratör att lägga upp eller "
        "koppla ditt konto."
    ),
    Failure.EMAIL_TAKEN: _l(
        "Det finns redan ett konto med din e-postadress. Be en administratör koppla det till "
        "inloggningstjänsten."
    ),
    Failure.PENDING: _l(
        "Ditt konto väntar på att en administratör eller samordnare godkänner det."
    ),
    Failure.INACTIVE: _l("Kontot är inaktiverat. Kontakta en administratör."),
}


@dataclass
class ProviderFields:
    display_name: str
    issuer: str
    client_id: str
    client_secret_env: str
    claims: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CLAIMS))
    acr_levels: dict[str, str] = field(default_factory=dict)
    requested_acr: str | None = None
    minimum_assurance: str | None = None
    jit_provisioning: bool = False
    enabled: bool = True
    kind: ProviderKind = ProviderKind.OIDC


def _require_admin(actor: User) -> None:
    if not has_permission(actor, Permission.MANAGE_USERS):
        raise PermissionDenied()


def _apply(provider: IdentityProvider, fields: ProviderFields, discovery: Discovery) -> None:
    provider.kind = fields.kind
    provider.display_name = fields.display_name.strip()
    provider.issuer = fields.issuer.strip()
    provider.client_id = fields.client_id.strip()
    provider.client_secret_env = fields.client_secret_env.strip()
    provider.claims = dict(fields.claims)
    provider.acr_levels = dict(fields.acr_levels)
    provider.requested_acr = (fields.requested_acr or "").strip() or None
    provider.minimum_assurance = fields.minimum_assurance or None
    provider.jit_provisioning = fields.jit_provisioning
    provider.enabled = fields.enabled
    provider.discovered = dict(discovery.metadata)
    provider.checked_at = utcnow()


def _details(provider: IdentityProvider) -> dict[str, Any]:
    """What the audit event says about a provider: its settings, never a secret."""
    return {
        "kind": str(provider.kind),
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "secret_env": provider.client_secret_env,
        "jit": provider.jit_provisioning,
        "enabled": provider.enabled,
        "minimum_assurance": provider.minimum_assurance,
    }


def create_provider(
    session: Session, actor: User, agency: Agency, fields: ProviderFields, discovery: Discovery
) -> IdentityProvider:
    """Bind a provider to an agency (one per agency); ``discovery`` is the checked document."""
    _require_admin(actor)
    taken = session.scalar(
        select(IdentityProvider.id).where(IdentityProvider.agency_id == agency.id)
    )
    if taken is not None:
        raise ServiceError(
            _l("Myndigheten har redan en inloggningstjänst. Ändra den i stället."), field="agency"
        )
    provider = IdentityProvider(agency=agency, kind=fields.kind)
    _apply(provider, fields, discovery)
    session.add(provider)
    _flush_and_log(session, actor, provider, ProviderTag.CREATE)
    return provider


def _flush_and_log(
    session: Session, actor: User, provider: IdentityProvider, tag: ProviderTag
) -> None:
    """The provider's settings written, and the event with them (no secrets) in the agency's
    log."""
    session.flush()
    record_event(
        session,
        actor,
        tag,
        on=provider,
        details=_details(provider),
        agency_id=provider.agency_id,
    )


def update_provider(
    session: Session,
    actor: User,
    provider: IdentityProvider,
    fields: ProviderFields,
    discovery: Discovery,
    *,
    expected_version: int | None,
) -> IdentityProvider:
    _require_admin(actor)
    check_version(provider, expected_version)
    _apply(provider, fields, discovery)
    _flush_and_log(session, actor, provider, ProviderTag.UPDATE)
    return provider


def link_identity(
    session: Session, actor: User, provider: IdentityProvider, user: User, subject: str
) -> UserIdentity:
    """The administrator says which of the provider's subjects an existing account is."""
    _require_admin(actor)
    subject = subject.strip()
    if not subject:
        raise ServiceError(_l("Ange identiteten hos inloggningstjänsten."), field="subject")
    if user.agency_id != provider.agency_id:
        raise ServiceError(
            _l("Användaren hör till en annan myndighet än inloggningstjänsten."), field="user_id"
        )
    existing = session.scalars(
        select(UserIdentity)
        .where(UserIdentity.provider_id == provider.id)
        .where((UserIdentity.subject == subject) | (UserIdentity.user_id == user.id))
    ).first()
    if existing is not None:
        raise ServiceError(
            _l("Användaren eller identiteten är redan kopplad till inloggningstjänsten."),
            field="subject",
        )
    identity = UserIdentity(user=user, provider=provider, subject=subject)
    session.add(identity)
    session.flush()
    record_event(
        session,
        actor,
        ProviderTag.LINK,
        on=user,
        details={"provider_id": provider.id},
        agency_id=user.agency_id,
    )
    return identity


def unlink_identity(session: Session, actor: User, identity: UserIdentity) -> int:
    """Remove a user's link to a provider's subject: the provider's log-in no longer finds the
    user, and the user's sessions that came from the provider end. Returns how many ended."""
    _require_admin(actor)
    user, provider_id = identity.user, identity.provider_id
    ended = end_provider_sessions(
        session, [provider_id], EndReason.IDENTITY_UNLINKED, user_id=user.id
    )
    session.delete(identity)
    session.flush()
    record_event(
        session,
        actor,
        ProviderTag.UNLINK,
        on=user,
        details={"provider_id": provider_id, "sessions_ended": ended.get(user.id, 0)},
        agency_id=user.agency_id,
    )
    return ended.get(user.id, 0)


def end_sessions_at_provider_logout(
    session: Session,
    providers: list[IdentityProvider],
    subject: str | None,
    provider_sessions: list[str],
    *,
    channel: str,
) -> int:
    """A provider's validated logout request (``channel``: "saml_slo", "oidc_backchannel"):
    end the open sessions that signed in through one of ``providers`` as ``subject`` and/or with
    one of ``provider_sessions`` (the request names one or both). One audit event per user
    whose sessions ended, or one saying none matched. Returns the number ended."""
    ids = [provider.id for provider in providers]
    ended = (
        end_provider_sessions(
            session,
            ids,
            EndReason.PROVIDER_LOGOUT,
            subject=subject,
            provider_sessions=provider_sessions,
        )
        if subject or provider_sessions
        else {}
    )
    agency_of = {provider.id: provider.agency_id for provider in providers}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(list(ended))))}
    for user_id, count in ended.items():
        user = users[user_id]
        record_event(
            session,
            None,
            ProviderTag.PROVIDER_LOGOUT,
            on=user,
            details={"provider_ids": ids, "channel": channel, "sessions_ended": count},
            agency_id=user.agency_id,
        )
    if not ended:
        record_event(
            session,
            None,
            ProviderTag.PROVIDER_LOGOUT,
            details={"provider_ids": ids, "channel": channel, "sessions_ended": 0},
            agency_id=agency_of[ids[0]] if len(set(agency_of.values())) == 1 else None,
        )
    return sum(ended.values())


def refuse_provider_logout(
    session: Session, provider: IdentityProvider | None, *, channel: str, reason: str
) -> None:
    """A logout request that was not accepted (unsigned, a bad signature, an unknown issuer):
    nothing ended, the refusal audited (without the request's content)."""
    details: dict[str, Any] = {"channel": channel, "reason": reason[:100]}
    if provider is not None:
        details["provider_id"] = provider.id
    record_event(
        session,
        None,
        ProviderTag.PROVIDER_LOGOUT_REFUSED,
        details=details,
        agency_id=provider.agency_id if provider is not None else None,
    )


def may_approve(actor: User, user: User) -> bool:
    """Administrators approve any account; a coordinator those of their own agency."""
    if has_permission(actor, Permission.MANAGE_USERS):
        return True
    return (
        actor.is_active and actor.has_role(Role.COORDINATOR) and actor.agency_id == user.agency_id
    )


def approve_user(session: Session, actor: User, user: User) -> None:
    """Open a pending account. It still has no roles or memberships: those are given as for any
    account, on the administration and council pages."""
    if not user.pending_approval or not may_approve(actor, user):
        raise PermissionDenied(object_type="user", object_ids=[user.id])
    user.pending_approval = False
    user.active = True
    session.flush()
    record_event(session, actor, ProviderTag.APPROVE, on=user, agency_id=user.agency_id)


def pending_accounts(session: Session, actor: User) -> list[User]:
    query = select(User).where(User.pending_approval.is_(True)).order_by(User.created_at)
    if not has_permission(actor, Permission.MANAGE_USERS):
        query = query.where(User.agency_id == actor.agency_id)
    return list(session.scalars(query))


def set_agency_assurance(
    session: Session,
    actor: User,
    agency: Agency,
    level: str | None,
    *,
    expected_version: int | None,
) -> None:
    """The level the agency's users' sessions need to open records about children."""
    _require_admin(actor)
    check_version(agency, expected_version)
    if level is not None and Assurance.parse(level) is None:
        raise ServiceError(_l("Okänd tillitsnivå."), field="required_assurance")
    agency.required_assurance = level
    session.flush()
    record_event(
        session,
        actor,
        ProviderTag.ASSURANCE,
        on=agency,
        details={"required_assurance": level},
        agency_id=agency.id,
    )


def local_login_allowed(session: Session, user: User) -> bool:
    """The password + TOTP path is for agencies without an enabled provider, and for
    administrators everywhere (break-glass when the provider is down). A refusal is audited."""
    if user.has_role(Role.ADMIN):
        return True
    bound = session.scalar(
        select(IdentityProvider.id).where(
            IdentityProvider.agency_id == user.agency_id, IdentityProvider.enabled.is_(True)
        )
    )
    if bound is None:
        return True
    record_event(
        session,
        None,
        ProviderTag.LOGIN_FAILURE,
        on=user,
        details={"provider_id": bound, "reason": "use_provider"},
        agency_id=user.agency_id,
    )
    return False
