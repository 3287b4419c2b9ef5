"""The per-request session check in Redis, when ``SESSION_REDIS_URL`` is set.

Several app servers behind a load balancer then answer "does this session still hold?" with
one ``GET`` on a key named by the SHA-256 of the session id (constant cost, no database
statement), instead of the correlated lookup of ``user_sessions`` in the user's statement.
The table stays the record of the log-ins (method, when, why they ended; what the nightly prune
and the administrator read): a session is opened in both, and every way a session ends
(log-out, log out everywhere, a password change or reset, two-factor reset, deactivation)
ends the row and deletes the key, in the same call. The key's value is the user's id and its
time to live the row's expiry, so an expired session is gone from Redis by itself.

Redis is not part of the database transaction: a key is deleted at once even if the request
is rolled back afterwards (the session then ends a moment early: it fails closed), and a key
written for a log-in that is rolled back names a session id nobody was given. An unreachable
Redis fails the request; it never lets a session through unchecked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import cast

import redis
from flask import Flask, current_app, has_app_context

from coordination.db import utcnow

EXTENSION = "samverkan.session_redis"


class RedisSessions:
    """The keys of one deployment (``prefix`` keeps deployments sharing a Redis apart)."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def key(self, sid_hash: str) -> str:
        return f"{self.prefix}{sid_hash}"

    def remember(self, sid_hash: str, user_id: int, expires_at: dt.datetime) -> None:
        seconds = max(int((expires_at - utcnow()).total_seconds()), 1)
        self.client.set(self.key(sid_hash), str(user_id), ex=seconds)

    def holds(self, sid_hash: str, user_id: int) -> bool:
        """One GET: the session is open, and it is this user's."""
        value = cast("bytes | None", self.client.get(self.key(sid_hash)))
        return value is not None and value == str(user_id).encode()

    def forget(self, sid_hashes: Iterable[str]) -> None:
        keys = [self.key(h) for h in sid_hashes]
        if keys:
            self.client.delete(*keys)


def init_app(app: Flask) -> None:
    url = app.config.get("SESSION_REDIS_URL")
    if url:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        app.extensions[EXTENSION] = RedisSessions(client, app.config["SESSION_REDIS_PREFIX"])


def redis_sessions() -> RedisSessions | None:
    """The app's Redis session keys, or None where sessions are checked in the table only
    (no ``SESSION_REDIS_URL``, or no app, as in a script that only reads)."""
    if not has_app_context():
        return None
    store: RedisSessions | None = current_app.extensions.get(EXTENSION)
    return store
