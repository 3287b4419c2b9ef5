"""An agency's identity provider, and which user a provider's subject is."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.db import Base, Versioned, created_at, enum_type, intpk, str200, timestamp
from coordination.models import Agency, User


class ProviderKind(enum.StrEnum):
    OIDC = "oidc"
    SAML = "saml"


# Where each field is read from by default: the ID token's standard claims (OIDC); the
# assertion's persistent NameID, the attributes' friendly names and the AuthnContextClassRef
# (SAML).
DEFAULT_CLAIMS: dict[str, str] = {
    "subject": "sub",
    "name": "name",
    "email": "email",
    "acr": "acr",
}
DEFAULT_SAML_CLAIMS: dict[str, str] = {
    "subject": "NameID",
    "name": "displayName",
    "email": "mail",
    "acr": "AuthnContextClassRef",
}


class IdentityProvider(Versioned, Base):
    """One agency's provider. The client secret is never stored: only the name of the
    environment variable that holds it (``client_secret_env``)."""

    __tablename__ = "identity_providers"

    id: Mapped[intpk]
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), unique=True)
    kind: Mapped[ProviderKind] = mapped_column(enum_type(ProviderKind, "provider_kind"))
    # Shown on the log-in button: "Logga in med <display_name>".
    display_name: Mapped[str200]
    # OIDC: the issuer; its discovery document is <issuer>/.well-known/openid-configuration.
    # SAML: the address of the provider's metadata (empty when it was pasted in).
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200))
    client_secret_env: Mapped[str] = mapped_column(String(100))
    # {"subject": "sub", "name": "name", "email": "email", "acr": "acr"}
    claims: Mapped[dict[str, Any]] = mapped_column(JSON(), default=dict)
    # The provider's own acr values and the level each stands for: {"<acr>": "loa3"}.
    acr_levels: Mapped[dict[str, Any]] = mapped_column(JSON(), default=dict)
    # What to ask for at log-in (acr_values), empty: the provider's default.
    requested_acr: Mapped[str | None] = mapped_column(String(200))
    # Below this level a log-in through the provider is refused ("loa2".."loa4"; None: any).
    minimum_assurance: Mapped[str | None] = mapped_column(String(10))
    jit_provisioning: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    # The discovery document (OIDC: the endpoints, the signing algorithms) or the metadata
    # (SAML: the IdP's entity id and its metadata XML) as checked when saved: a log-in starts
    # without fetching it again. Saving the provider again re-reads it.
    discovered: Mapped[dict[str, Any]] = mapped_column(JSON(), default=dict)
    checked_at: Mapped[dt.datetime | None]
    created_at: Mapped[created_at]

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)

    @property
    def end_session_endpoint(self) -> str | None:
        value = (self.discovered or {}).get("end_session_endpoint")
        return str(value) if value else None

    def claim(self, field: str) -> str:
        defaults = DEFAULT_SAML_CLAIMS if self.kind is ProviderKind.SAML else DEFAULT_CLAIMS
        return str((self.claims or {}).get(field) or defaults[field])

    def __repr__(self) -> str:
        return f"<IdentityProvider {self.id} {self.kind}>"


class UserIdentity(Base):
    """A user is the provider's subject ``subject``: the only way a provider's log-in finds a
    user (never the e-mail address)."""

    __tablename__ = "user_identities"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("identity_providers.id", ondelete="CASCADE")
    )
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[created_at]
    last_login_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()
    provider: Mapped[IdentityProvider] = relationship()

    __table_args__ = (
        UniqueConstraint("provider_id", "subject"),
        UniqueConstraint("provider_id", "user_id"),
    )


class AcceptedLogoutToken(Base):
    """A back-channel logout token this deployment accepted, by its ``jti`` (hashed: SHA-256
    hex, a fixed length whatever the provider's identifier), kept while the same token could
    still be accepted (``oidc.LOGOUT_TOKEN_WINDOW``): the unique key refuses its replay, also
    one delivered to two workers at once."""

    __tablename__ = "accepted_logout_tokens"

    id: Mapped[intpk]
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("identity_providers.id", ondelete="CASCADE")
    )
    jti_hash: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[timestamp] = mapped_column(index=True)

    __table_args__ = (UniqueConstraint("provider_id", "jti_hash"),)
