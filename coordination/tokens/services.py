"""Personal access tokens for the JSON API.

A token is shown once, when it is created, and stored as the SHA-256 of its secret part: the
secret is 256 random bits, so a plain hash is as strong as a slow one and lets a request find
its token with one indexed lookup. The first characters are kept in clear (``prefix``) so the
owner can tell tokens apart; rate limits count per token by the hash of the whole token
(``coordination.api.core``), never by the prefix, which is not secret.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from coordination.audit.log import record_event
from coordination.db import Base, UTCDateTime, created_at, intpk, utcnow
from coordination.errors import ServiceError
from coordination.models import User

TOKEN_PREFIX = "svk_"  # noqa: S105 - the public marker of our tokens, not a secret
PREFIX_LENGTH = 12  # "svk_" and 8 characters of the secret: shown in lists
DEFAULT_LIFETIME_DAYS = 90
MAX_LIFETIME_DAYS = 366
MAX_ACTIVE_TOKENS = 20
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


class Scope(enum.StrEnum):
    READ = "read"
    WRITE = "write"


class ApiTokenTag(enum.StrEnum):
    CREATE = "auth:api_token:create"
    REVOKE = "auth:api_token:revoke"


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(PREFIX_LENGTH))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Space-separated scopes ("read" or "read write"): few values, read with every request.
    scopes: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def scope_set(self) -> frozenset[Scope]:
        return frozenset(Scope(value) for value in self.scopes.split())

    def allows(self, scope: Scope) -> bool:
        return scope in self.scope_set

    def is_usable(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at and self.user.is_active


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the whole token; shown once, never stored


def tokens_of(session: Session, user: User) -> Sequence[ApiToken]:
    return session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()


def create_token(
    session: Session,
    actor: User,
    name: str,
    scopes: set[Scope],
    lifetime_days: int = DEFAULT_LIFETIME_DAYS,
) -> IssuedToken:
    name = name.strip()
    if not name or len(name) > 80:
        raise ServiceError(_l("Ange ett namn på högst 80 tecken."), field="name")
    if Scope.READ not in scopes:
        # Writing through the API needs reading (every write answers with what it changed).
        raise ServiceError(_l("En token måste minst kunna läsa."), field="scopes")
    if not 1 <= lifetime_days <= MAX_LIFETIME_DAYS:
        raise ServiceError(
            _l("Giltighetstiden ska vara 1–%(max)s dagar.", max=MAX_LIFETIME_DAYS),
            field="lifetime_days",
        )
    now = utcnow()
    active = [t for t in tokens_of(session, actor) if t.revoked_at is None and t.expires_at > now]
    if len(active) >= MAX_ACTIVE_TOKENS:
        raise ServiceError(
            _l("Du har redan %(n)s giltiga tokens. Återkalla någon först.", n=MAX_ACTIVE_TOKENS)
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=actor.id,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        secret_hash=hash_secret(secret),
        scopes=" ".join(sorted(str(scope) for scope in scopes)),
        expires_at=now + dt.timedelta(days=lifetime_days),
    )
    token.user = actor
    session.add(token)
    session.flush()
    record_event(
        session,
        actor,
        ApiTokenTag.CREATE,
        on=token,
        details={"scopes": token.scopes, "days": lifetime_days},
    )
    return IssuedToken(token, secret)


def revoke_token(session: Session, actor: User, token: ApiToken) -> None:
    if token.user_id != actor.id:
        raise ServiceError(_l("Du kan bara återkalla dina egna tokens."))
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    record_event(session, actor, ApiTokenTag.REVOKE, on=token)


def revoke_tokens_of(session: Session, actor: User | None, user: User, reason: str) -> int:
    """Revoke every token of ``user`` that still works, as its sessions end: at a password
    reset and at deactivation (a reactivated account gets no old token back). Returns the
    number revoked; one audit event per token, with the reason code."""
    now = utcnow()
    live = session.scalars(
        select(ApiToken).where(
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
        )
    ).all()
    for token in live:
        token.revoked_at = now
        record_event(session, actor, ApiTokenTag.REVOKE, on=token, details={"reason": reason})
    session.flush()
    return len(live)


def authenticate_token(session: Session, presented: str) -> ApiToken | None:
    """The usable token behind ``presented``, or None (unknown, expired, revoked, or its
    user or agency deactivated). Touches ``last_used_at`` at most every few minutes, so a
    busy integration does not turn every read into a write."""
    if not presented.startswith(TOKEN_PREFIX) or len(presented) > 100:
        return None
    digest = hash_secret(presented)
    # The user's roles in the same statement (every call asks for them); the hash is unique,
    # so one_or_none sees every role row of the one token.
    token = (
        session.scalars(
            select(ApiToken)
            .where(ApiToken.secret_hash == digest)
            .options(
                joinedload(ApiToken.user).joinedload(User.role_rows),
                joinedload(ApiToken.user).joinedload(User.memberships),
            )
        )
        .unique()
        .one_or_none()
    )
    if token is None:
        return None
    now = utcnow()
    if not token.is_usable(now):
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token
