"""Rate-limit counters in Redis, as several app servers behind a load balancer share them.

Runs against a real Redis when ``REDIS_URL`` is set (``.ci/run`` and ``make test-redis`` set
``redis://127.0.0.1:6379/<n>``). With the variable set, an unreachable Redis fails the test; it
is never skipped then. Without it (a laptop without Redis) the module is skipped as a whole.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis
from flask import Flask
from sqlalchemy.orm import Session

from app import create_app
from coordination.db import get_database
from coordination.models import AgencyKind
from coordination.tokens.services import Scope, create_token, hash_secret
from coordination.web.extensions import limiter
from tests.conftest import Council3, make_test_config
from tests.coordination.conftest import reachable_redis

REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="REDIS_URL is not set; .ci/run sets it to the machine's Redis"
)


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    with reachable_redis(REDIS_URL) as client:
        yield client


@pytest.fixture
def redis_app(
    database_url: str, app: Flask, db: Session, redis_client: redis.Redis
) -> Iterator[tuple[Flask, str]]:
    """An app whose limiter counts in Redis under a key prefix of its own. The Limiter is one
    object per process (``coordination.web.extensions``); its storage is put back afterwards
    so the other tests keep counting in memory."""
    prefix = f"samverkan-test-{uuid.uuid4().hex}"
    saved = (limiter._storage, limiter._limiter, limiter._key_prefix)
    limiter._key_prefix = ""  # taken from the new app's config
    redis_backed = create_app(
        make_test_config(
            database_url,
            RATELIMIT_STORAGE_URI=REDIS_URL,
            RATELIMIT_KEY_PREFIX=prefix,
            LOGIN_RATE_LIMIT="3 per minute",
            API_RATE_LIMIT="2 per minute",
            WTF_CSRF_ENABLED=False,
        )
    )
    get_database(redis_backed).session_factory = get_database(app).session_factory
    try:
        yield redis_backed, prefix
    finally:
        limiter._storage, limiter._limiter, limiter._key_prefix = saved
        for key in redis_client.scan_iter(match=f"*{prefix}*"):
            redis_client.delete(key)
        get_database(redis_backed).engine.dispose()


def test_the_limiter_counts_in_redis(
    redis_app: tuple[Flask, str], redis_client: redis.Redis
) -> None:
    app, prefix = redis_app
    assert type(limiter._storage).__name__ == "RedisStorage"
    client = app.test_client()
    statuses = [
        client.post("/login", data={"email": f"n{n}@example.com", "password": "fel"}).status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    keys = [key.decode() for key in redis_client.scan_iter(match=f"*{prefix}*")]
    assert keys, "the counters are in Redis"
    assert not any("@example.com" in key for key in keys), "no e-mail address in a key"
    # A second client from the same address shares the count kept in Redis.
    assert app.test_client().post("/login", data={"email": "x@example.com"}).status_code == 429


def test_the_api_limit_in_redis_is_keyed_on_the_whole_token(
    redis_app: tuple[Flask, str], redis_client: redis.Redis, world: Council3, db: Session
) -> None:
    app, prefix = redis_app
    token = create_token(db, world.members[AgencyKind.POLICE], "it", {Scope.READ}).secret
    db.flush()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert [client.get("/api/v1/me", headers=headers).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    keys = [key.decode() for key in redis_client.scan_iter(match=f"*{prefix}*")]
    assert any(hash_secret(token) in key for key in keys)
    assert not any(token in key for key in keys), "never the token itself"
