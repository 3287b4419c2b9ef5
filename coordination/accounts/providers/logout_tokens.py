"""Back-channel logout tokens seen before: OpenID Connect Back-Channel Logout 1.0 §2.6 lets the
relying party refuse a token whose ``jti`` it received recently. The accepted ``jti`` is written
in the transaction that ends the sessions, under a unique key per provider, so a replay (or the
same token delivered to two workers at once: the second insert waits for the first's commit and
fails) is refused and ends nothing."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coordination.accounts.providers.models import AcceptedLogoutToken, IdentityProvider
from coordination.accounts.providers.oidc import LOGOUT_TOKEN_WINDOW, LogoutTokenRefused
from coordination.db import execute_bulk
from coordination.errors import lost_a_race


def jti_hash(jti: str) -> str:
    return hashlib.sha256(jti.encode()).hexdigest()


def remember_logout_token(
    session: Session, provider: IdentityProvider, jti: str, now: dt.datetime
) -> None:
    """Record the accepted token's ``jti``, or refuse it ("replayed") when the provider's token
    with that ``jti`` was accepted within the window. A row of the same ``jti`` older than the
    window (the nightly prune had not run) is no replay of a token still acceptable: it goes."""
    hashed = jti_hash(jti)
    execute_bulk(
        session,
        delete(AcceptedLogoutToken).where(
            AcceptedLogoutToken.provider_id == provider.id,
            AcceptedLogoutToken.jti_hash == hashed,
            AcceptedLogoutToken.seen_at < now - LOGOUT_TOKEN_WINDOW,
        ),
    )
    try:
        with session.begin_nested():
            session.add(AcceptedLogoutToken(provider_id=provider.id, jti_hash=hashed, seen_at=now))
    except IntegrityError as exc:
        if not lost_a_race(exc):
            raise
        raise LogoutTokenRefused("replayed") from None


def prune_logout_tokens(session: Session, now: dt.datetime) -> int:
    """Nightly: forget the tokens that can no longer be accepted anyway."""
    return execute_bulk(
        session,
        delete(AcceptedLogoutToken).where(AcceptedLogoutToken.seen_at < now - LOGOUT_TOKEN_WINDOW),
    )
