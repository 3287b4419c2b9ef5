"""The session check in Redis (``SESSION_REDIS_URL``), as several app servers share it.

Runs against the machine's Redis (database 2 of the server ``REDIS_URL`` names; ``.ci/run``
exports ``REDIS_URL``). With the variable set, an unreachable Redis fails the test; it is never
skipped then. Without it (a laptop without Redis) the module is skipped as a whole.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app import create_app
from coordination.accounts.providers.models import IdentityProvider, ProviderKind
from coordination.accounts.sessions import (
    EndReason,
    ProviderOrigin,
    UserSession,
    end_provider_sessions,
    hash_session_id,
    open_session,
)
from coordination.admin.services import reset_password
from coordination.db import get_database
from coordination.models import User
from tests.conftest import make_test_config
from tests.coordination.conftest import reachable_redis, signed_in
from tests.factories import UserFactory

REDIS_URL = os.environ.get("REDIS_URL", "")
COOKIE = "samverkan_session"

pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="REDIS_URL is not set; .ci/run sets it to the machine's Redis"
)


def session_redis_url() -> str:
    """Database 2 of the Redis that REDIS_URL names (the rate-limit tests use theirs)."""
    base, _, last = REDIS_URL.rstrip("/").rpartition("/")
    return f"{base}/2" if last.isdigit() and base.count("/") >= 2 else f"{REDIS_URL}/2"


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    with reachable_redis(session_redis_url()) as client:
        yield client


@pytest.fixture
def redis_app(
    database_url: str, app: Flask, db: Session, redis_client: redis.Redis
) -> Iterator[tuple[Flask, str]]:
    """An app whose sessions are checked in Redis under a key prefix of its own (its keys are
    deleted afterwards: a shared Redis is fine)."""
    prefix = f"samverkan-test-{uuid.uuid4().hex}:"
    backed = create_app(
        make_test_config(
            database_url,
            SESSION_REDIS_URL=session_redis_url(),
            SESSION_REDIS_PREFIX=prefix,
            REQUIRE_2FA=False,
            WTF_CSRF_ENABLED=False,
        )
    )
    get_database(backed).session_factory = get_database(app).session_factory
    try:
        yield backed, prefix
    finally:
        for key in redis_client.scan_iter(match=f"{prefix}*"):
            redis_client.delete(key)
        get_database(backed).engine.dispose()


def with_cookie_of(app: Flask, client: FlaskClient) -> FlaskClient:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie(COOKIE, cookie.value)
    return copy


def sid_hash_of(client: FlaskClient) -> str:
    with client.session_transaction() as cookie:
        return hash_session_id(cookie["sid"])


def test_a_log_in_is_a_key_in_redis_and_log_out_deletes_it(
    redis_app: tuple[Flask, str], redis_client: redis.Redis, db: Session, user: User
) -> None:
    app, prefix = redis_app
    client = signed_in(app)
    sid_hash = sid_hash_of(client)
    key = f"{prefix}{sid_hash}"
    assert redis_client.get(key) == str(user.id).encode()
    ttl = redis_client.ttl(key)
    assert 0 < ttl <= (app.config["SESSION_MAX_HOURS"] + 1) * 3600
    # The table keeps the record of the log-in; the session id is in neither in clear.
    row = db.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    assert row.sid_hash == sid_hash
    assert not any(sid_hash != k.decode()[len(prefix) :] for k in redis_client.keys(f"{prefix}*"))

    stolen = with_cookie_of(app, client)
    assert stolen.get("/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert redis_client.get(key) is None
    assert stolen.get("/").status_code == 302, "a copy of the cookie ends with the session"
    db.refresh(row)
    assert row.end_reason == EndReason.LOGOUT


def test_the_check_is_one_get_and_no_session_statement(
    app: Flask, redis_app: tuple[Flask, str], db: Session, user: User
) -> None:
    backed, _ = redis_app
    client = signed_in(backed)
    client.get("/account")  # warm up
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement.lower())

    engine = get_database(app).engine  # the backed app's sessions come from the test app's
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/account").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements, "the page still reads the user"
    assert not any("user_sessions" in s for s in statements)


def test_a_key_removed_from_redis_ends_the_session_even_with_the_row_open(
    redis_app: tuple[Flask, str], redis_client: redis.Redis, db: Session, user: User
) -> None:
    """Redis answers the check: a flushed or lost Redis logs people out (fails closed), and a
    key of another user's session does not open this one."""
    app, prefix = redis_app
    client = signed_in(app)
    key = f"{prefix}{sid_hash_of(client)}"
    redis_client.set(key, b"999999")  # someone else's id under this session's key
    assert client.get("/").status_code == 302
    second = signed_in(app)
    redis_client.delete(f"{prefix}{sid_hash_of(second)}")
    assert second.get("/").status_code == 302


def test_log_out_everywhere_and_a_password_reset_delete_every_key_of_the_user(
    redis_app: tuple[Flask, str],
    redis_client: redis.Redis,
    db: Session,
    user: User,
    admin: User,
) -> None:
    app, prefix = redis_app
    bystander = UserFactory(email="berit@example.com")
    db.flush()
    first, second = signed_in(app), signed_in(app)
    other = signed_in(app, bystander.email)
    assert first.post("/account/logout-everywhere").status_code == 302
    for client in (first, second):
        assert client.get("/").status_code == 302
    assert other.get("/").status_code == 200, "another account is not touched"
    keys = {k.decode() for k in redis_client.scan_iter(match=f"{prefix}*")}
    assert keys == {f"{prefix}{sid_hash_of(other)}"}

    third = signed_in(app)
    assert third.get("/").status_code == 200
    db.expire_all()  # the requests changed the user (its epoch and version)
    with app.app_context():  # as in the administrator's request
        reset_password(db, admin, user)
        db.flush()
    assert third.get("/").status_code == 302
    keys = {k.decode() for k in redis_client.scan_iter(match=f"{prefix}*")}
    assert keys == {f"{prefix}{sid_hash_of(other)}"}
    ended = db.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    assert {row.end_reason for row in ended} == {
        EndReason.LOGOUT_EVERYWHERE,
        EndReason.PASSWORD_RESET,
    }


def test_a_provider_s_logout_deletes_the_keys_of_the_sessions_it_names(
    redis_app: tuple[Flask, str], redis_client: redis.Redis, db: Session, user: User
) -> None:
    """What SAML single logout, OIDC back-channel logout and removing an identity link call."""
    app, prefix = redis_app
    provider = IdentityProvider(
        agency=user.agency,
        kind=ProviderKind.SAML,
        display_name="Federationen",
        issuer="https://idp.example.org/metadata",
        client_id="",
        client_secret_env="",
        claims={},
        acr_levels={},
        discovered={},
    )
    db.add(provider)
    db.flush()
    lifetime = dt.timedelta(hours=1)
    with app.test_request_context():
        named, other_index, password = (
            open_session(
                db,
                user,
                method="saml",
                lifetime=lifetime,
                origin=ProviderOrigin(provider.id, "n1", "s1"),
            ),
            open_session(
                db,
                user,
                method="saml",
                lifetime=lifetime,
                origin=ProviderOrigin(provider.id, "n1", "s2"),
            ),
            open_session(db, user, method="password", lifetime=lifetime),
        )
        ended = end_provider_sessions(
            db,
            [provider.id],
            EndReason.PROVIDER_LOGOUT,
            subject="n1",
            provider_sessions=["s1"],
        )
    assert ended == {user.id: 1}
    keys = {k.decode()[len(prefix) :] for k in redis_client.scan_iter(match=f"{prefix}*")}
    assert keys == {hash_session_id(other_index), hash_session_id(password)}
    assert hash_session_id(named) not in keys
