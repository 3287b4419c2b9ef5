"""What SCIM provisioning stores: the clients (an agency's identity provider, holding a bearer
token) and the link between a user and the provider's own id for them (``externalId``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.db import Base, UTCDateTime, created_at, intpk
from coordination.models import Agency


class ScimClient(Base):
    """One provisioning client of one agency (its identity provider: Entra ID, a municipal
    directory, a broker). Its bearer token is stored as the SHA-256 of the secret, as the API
    tokens are; the first characters are kept in clear so an administrator can tell them apart."""

    __tablename__ = "scim_clients"

    id: Mapped[intpk]
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(12))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[created_at]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)


class ScimLink(Base):
    """A user as the provisioning clients of their agency know them: the provider's id
    (``externalId``), whether the provider created the account, whether the provider (not an
    administrator) deactivated it, and whether the provider deleted it (then the user is no
    longer a SCIM resource: a GET answers 404, as RFC 7644 §3.6 asks)."""

    __tablename__ = "scim_links"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(200))
    provisioned: Mapped[bool] = mapped_column(default=False)
    deactivated_by_provider: Mapped[bool] = mapped_column(default=False)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("agency_id", "external_id"),)
