"""Server-side sessions: the signed cookie carries a random session id whose row can be revoked.

The cookie stays stateless for everything else (user id, login time, idle time); the row only
says whether the session still holds. Every page request checks it in the statement that loads
the user (``coordination.web.hooks``): one primary-key lookup, nothing written.

The row keeps no last-seen time: a GET never writes (docs/architecture.md), and the idle limit
is already enforced from the signed cookie's ``seen_at``. The report of unused accounts reads
``User.last_login_at``, which is written at log-in (a POST), and sessions end within
``SESSION_MAX_HOURS`` of it.

The row is shaped for single sign-on: how the session was authenticated (``method``) is
stored, and the identity provider and the assurance level of the log-in can be added as two
nullable columns (``identity_provider_id``, ``assurance_level``) without changing the check.
Only the SHA-256 of the session id is stored, so a copy of the table opens no session.

With ``SESSION_REDIS_URL`` set, the per-request check reads Redis instead of the table
(``coordination.accounts.session_redis``); opening and ending a session below do both.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ForeignKey, String, delete, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from coordination.accounts.session_redis import redis_sessions
from coordination.db import Base, UTCDateTime, created_at, execute_bulk, utcnow
from coordination.models import User
from coordination.tokens.services import revoke_tokens_of

# The signed cookie's login time enforces SESSION_MAX_HOURS (with its audit event and message);
# the row's own expiry is the backstop, an hour later, and what the nightly prune goes by.
EXPIRY_GRACE = dt.timedelta(hours=1)
# Revoked and expired rows are kept this long for the administrator's questions, then pruned.
KEEP_ENDED = dt.timedelta(days=7)


class EndReason(enum.StrEnum):
    LOGOUT = "logout"
    LOGOUT_EVERYWHERE = "logout_everywhere"
    EXPIRED = "expired"
    PASSWORD_CHANGE = "password_change"  # noqa: S105 - a reason code, not a secret
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a reason code, not a secret
    TWO_FACTOR_RESET = "two_factor_reset"
    DEACTIVATED = "deactivated"
    # The identity provider said the user's session there has ended (SAML single logout,
    # OIDC back-channel logout).
    PROVIDER_LOGOUT = "provider_logout"
    # The administrator removed the user's link to the provider the session came from.
    IDENTITY_UNLINKED = "identity_unlinked"


class UserSession(Base):
    __tablename__ = "user_sessions"

    # SHA-256 of the cookie's session id: the primary key the request looks up.
    sid_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(20))
    # A log-in through an identity provider: which provider, and what the provider calls the
    # user and the session (SAML: the NameID and the SessionIndex; OIDC: ``sub`` and ``sid``).
    # What a provider's logout request names, found server-side (its POST carries no cookie).
    identity_provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_providers.id", ondelete="SET NULL"), index=True
    )
    provider_subject: Mapped[str | None] = mapped_column(String(255))
    provider_session: Mapped[str | None] = mapped_column(String(255))


@dataclass(frozen=True)
class ProviderOrigin:
    """Where a session's log-in came from: the provider and its names for the user and the
    session (for single logout)."""

    provider_id: int
    subject: str | None = None
    session: str | None = None


def hash_session_id(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def open_session(
    session: Session,
    user: User,
    *,
    method: str,
    lifetime: dt.timedelta,
    origin: ProviderOrigin | None = None,
) -> str:
    """A new session row; returns the session id for the cookie (never stored in clear)."""
    sid = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        sid_hash=hash_session_id(sid),
        user_id=user.id,
        method=method[:40],
        created_at=now,
        expires_at=now + lifetime + EXPIRY_GRACE,
    )
    if origin is not None:
        row.identity_provider_id = origin.provider_id
        row.provider_subject = (origin.subject or "")[:255] or None
        row.provider_session = (origin.session or "")[:255] or None
    session.add(row)
    session.flush()
    store = redis_sessions()
    if store is not None:
        store.remember(row.sid_hash, user.id, row.expires_at)
    return sid


def end_session_row(session: Session, sid: str | None, reason: EndReason) -> None:
    """End one session (log-out, the idle or absolute limit)."""
    if not sid:
        return
    sid_hash = hash_session_id(sid)
    store = redis_sessions()
    if store is not None:
        store.forget([sid_hash])
    execute_bulk(
        session,
        update(UserSession)
        .where(UserSession.sid_hash == sid_hash, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=str(reason)),
    )


def end_sessions_of(session: Session, user: User, reason: EndReason) -> int:
    """End every open session of ``user`` (log out everywhere, a password change or reset,
    two-factor reset, deactivation) and raise ``session_epoch``, so a cookie issued before
    this change fails both checks. Returns the number ended."""
    user.session_epoch += 1
    store = redis_sessions()
    if store is not None:
        store.forget(
            session.scalars(
                select(UserSession.sid_hash).where(
                    UserSession.user_id == user.id, UserSession.ended_at.is_(None)
                )
            )
        )
    return execute_bulk(
        session,
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=str(reason)),
    )


@dataclass(frozen=True)
class Stopped:
    """How many sessions ended and API tokens were revoked when an account's access stopped."""

    sessions: int
    tokens: int


def stop_access(
    session: Session,
    actor: User | None,
    user: User,
    reason: EndReason,
    *,
    revoke_reason: str | None = None,
) -> Stopped:
    """Every way in of ``user`` stops at once: the login cookie (epoch), the server-side
    sessions and the API tokens (a token is a log-in too: one left working would keep the
    account open). The tokens' revocation events name ``revoke_reason``, by default the
    sessions' ``reason``; ``actor`` is who stopped them (None: the system)."""
    sessions = end_sessions_of(session, user, reason)
    tokens = revoke_tokens_of(session, actor, user, revoke_reason or str(reason))
    return Stopped(sessions, tokens)


def session_has_ended(session: Session, sid: str) -> bool:
    """Whether the session this cookie's id names has ended (or is unknown)."""
    ended_at = session.execute(
        select(UserSession.ended_at).where(UserSession.sid_hash == hash_session_id(sid))
    ).one_or_none()
    return ended_at is None or ended_at[0] is not None


def end_provider_sessions(
    session: Session,
    provider_ids: Collection[int],
    reason: EndReason,
    *,
    subject: str | None = None,
    provider_sessions: Collection[str] = (),
    user_id: int | None = None,
) -> dict[int, int]:
    """End the open sessions that came from one of ``provider_ids``: those of the provider's
    ``subject`` and/or with one of ``provider_sessions`` (both narrow), or those of ``user_id``.
    Returns the number ended per user."""
    if not provider_ids or (subject is None and user_id is None and not provider_sessions):
        return {}
    query = select(UserSession.sid_hash, UserSession.user_id).where(
        UserSession.identity_provider_id.in_(list(provider_ids)),
        UserSession.ended_at.is_(None),
    )
    if subject is not None:
        query = query.where(UserSession.provider_subject == subject)
    if provider_sessions:
        query = query.where(UserSession.provider_session.in_(list(provider_sessions)))
    if user_id is not None:
        query = query.where(UserSession.user_id == user_id)
    rows = session.execute(query).all()
    if not rows:
        return {}
    store = redis_sessions()
    if store is not None:
        store.forget([row.sid_hash for row in rows])
    execute_bulk(
        session,
        update(UserSession)
        .where(UserSession.sid_hash.in_([row.sid_hash for row in rows]))
        .values(ended_at=utcnow(), end_reason=str(reason)),
    )
    ended: dict[int, int] = {}
    for row in rows:
        ended[row.user_id] = ended.get(row.user_id, 0) + 1
    return ended


def prune_sessions(session: Session, now: dt.datetime) -> int:
    """Nightly: forget sessions that ended or expired more than ``KEEP_ENDED`` ago."""
    cutoff = now - KEEP_ENDED
    return execute_bulk(
        session,
        delete(UserSession).where(
            or_(UserSession.expires_at < cutoff, UserSession.ended_at < cutoff)
        ),
    )
