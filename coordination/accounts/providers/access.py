"""What the sign-in pages load: an agency's provider for the administrator, a provider to log
in with for anybody, a pending account for whoever may approve it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.accounts.providers.models import IdentityProvider, ProviderKind, UserIdentity
from coordination.accounts.providers.services import may_approve
from coordination.admin.access import administered, agency_for
from coordination.errors import PermissionDenied
from coordination.models import Agency, User


def agency_sign_in_for(
    session: Session, actor: User, agency_id: int
) -> tuple[Agency, IdentityProvider | None]:
    """The agency and its provider (if any), for an administrator."""
    agency = agency_for(session, actor, agency_id)
    provider = session.scalars(
        select(IdentityProvider).where(IdentityProvider.agency_id == agency.id)
    ).one_or_none()
    return agency, provider


def identity_for(session: Session, actor: User, identity_id: int) -> UserIdentity:
    """One user's link to a provider, for an administrator."""
    return administered(session, actor, UserIdentity, "user_identity", identity_id)


def provider_to_log_in_with(session: Session, provider_id: int) -> IdentityProvider | None:
    """Any provider by id (the log-in page offers the enabled ones); None if unknown."""
    return session.get(IdentityProvider, provider_id)


def enabled_providers(session: Session) -> list[IdentityProvider]:
    """The providers the log-in page offers: enabled, of an active agency."""
    return list(
        session.scalars(
            select(IdentityProvider)
            .join(IdentityProvider.agency)
            .where(IdentityProvider.enabled.is_(True), Agency.active.is_(True))
            .order_by(IdentityProvider.display_name)
        )
    )


def saml_providers(session: Session) -> list[IdentityProvider]:
    """Every SAML provider (switched off too: a logout request only ends sessions)."""
    return list(
        session.scalars(
            select(IdentityProvider)
            .where(IdentityProvider.kind == ProviderKind.SAML)
            .order_by(IdentityProvider.id)
        )
    )


def pending_user_for(session: Session, actor: User, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.pending_approval or not may_approve(actor, user):
        raise PermissionDenied(object_type="user", object_ids=[user_id])
    return user


def provider_of_agency(session: Session, agency_id: int) -> IdentityProvider | None:
    return session.scalars(
        select(IdentityProvider).where(
            IdentityProvider.agency_id == agency_id, IdentityProvider.enabled.is_(True)
        )
    ).one_or_none()
