"""Sessions that really end (a server-side session id), the address behind a reverse proxy,
the log-in limit per account, the API limit per whole token, and replacing the authenticator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app import create_app
from coordination import security
from coordination.accounts.sessions import EndReason, UserSession
from coordination.audit.log import AuditEvent, AuditTag
from coordination.db import get_database
from coordination.models import AgencyKind, User
from coordination.tokens.services import PREFIX_LENGTH, Scope, create_token
from coordination.web.extensions import limiter
from tests.conftest import Council3, log_in, make_test_config
from tests.coordination.conftest import enrol_totp, signed_in
from tests.factories import PASSWORD, UserFactory

COOKIE = "samverkan_session"


def cookie_of(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def with_cookie(app: Flask, value: str) -> FlaskClient:
    copy = app.test_client()
    copy.set_cookie(COOKIE, value)
    return copy


# --- Sessions end on the server ---------------------------------------------------------------


def test_a_copy_of_the_cookie_taken_before_log_out_no_longer_works(
    app: Flask, db: Session, user: User, optional_2fa: None
) -> None:
    client = signed_in(app)
    stolen = cookie_of(client)
    assert with_cookie(app, stolen).get("/").status_code == 200, "the copy works while logged in"
    assert client.post("/logout").status_code == 302
    replay = with_cookie(app, stolen).get("/")
    assert replay.status_code == 302
    assert replay.headers["Location"].startswith("/login")
    row = db.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    assert row.ended_at is not None and row.end_reason == EndReason.LOGOUT
    assert row.method == "password"


def test_the_session_id_is_stored_hashed_only(
    app: Flask, db: Session, user: User, optional_2fa: None
) -> None:
    client = signed_in(app)
    with client.session_transaction() as cookie:
        sid = cookie["sid"]
    row = db.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    assert sid not in row.sid_hash and len(row.sid_hash) == 64


def test_a_forged_or_missing_session_id_loads_no_user(app: Flask, user: User) -> None:
    client = log_in(app.test_client(), user)
    assert client.get("/").status_code == 200
    with client.session_transaction() as cookie:
        cookie["sid"] = "guessed-session-id"
    assert client.get("/").status_code == 302
    with client.session_transaction() as cookie:
        cookie.pop("sid")
    assert client.get("/").status_code == 302


def test_log_out_everywhere_ends_every_session_of_the_account(
    app: Flask, db: Session, user: User, optional_2fa: None
) -> None:
    first, second = signed_in(app), signed_in(app)
    bystander = UserFactory(email="berit@example.com")
    db.flush()
    other_account = signed_in(app, bystander.email)
    # The API tokens are log-ins too: the account's stop, another account's keep working.
    own_token = create_token(db, user, "integration", {Scope.READ}).secret
    others_token = create_token(db, bystander, "integration", {Scope.READ}).secret
    db.flush()
    api = app.test_client()

    def me(token: str) -> int:
        return api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code

    assert me(own_token) == me(others_token) == 200
    copy = cookie_of(first)
    page = first.get("/account").text
    assert "Logga ut överallt" in page and "API-tokens slutar gälla" in page
    response = first.post("/account/logout-everywhere")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    for client in (first, second, with_cookie(app, copy)):
        assert client.get("/").status_code == 302
    assert other_account.get("/").status_code == 200, "another account is not touched"
    assert me(own_token) == 401
    assert me(others_token) == 200
    ended = db.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    assert {row.end_reason for row in ended} == {EndReason.LOGOUT_EVERYWHERE}
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.AUTH_LOGOUT_EVERYWHERE)
    ).one()
    assert event.details == {"sessions": 2, "tokens_revoked": 1}
    revoked = db.scalars(select(AuditEvent).where(AuditEvent.tag == "auth:api_token:revoke")).one()
    assert revoked.details == {"reason": "logout_everywhere"}


def test_the_session_check_is_one_select_and_a_get_writes_nothing(
    app: Flask, db: Session, user: User
) -> None:
    client = log_in(app.test_client(), user)
    client.get("/account")  # warm up: the statement is built once per app
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement.lower())

    engine = get_database(app).engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/account").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    touching = [s for s in statements if "user_sessions" in s]
    assert len(touching) == 1 and touching[0].lstrip().startswith("select")
    assert "user_sessions.sid_hash = " in touching[0] and "from users" in touching[0]
    writes = [s for s in statements if s.lstrip().startswith(("insert", "update", "delete"))]
    assert writes == []


# --- Behind a reverse proxy -------------------------------------------------------------------


@pytest.fixture
def proxied_app(database_url: str, app: Flask, db: Session) -> Iterator[Flask]:
    """A second app on the same (rolled-back) database, behind one trusted proxy."""
    proxied = create_app(
        make_test_config(
            database_url,
            PROXY_FIX_HOPS=1,
            LOGIN_RATE_LIMIT="2 per minute",
            REQUIRE_2FA=False,
            WTF_CSRF_ENABLED=False,
        )
    )
    get_database(proxied).session_factory = get_database(app).session_factory
    limiter.reset()
    yield proxied
    limiter.reset()
    get_database(proxied).engine.dispose()


def test_proxy_fix_gives_each_client_behind_the_proxy_its_own_address(
    proxied_app: Flask, user: User
) -> None:
    client = proxied_app.test_client()

    def attempt(forwarded_for: str) -> int:
        return client.post(
            "/login",
            data={"email": f"{forwarded_for}@example.com", "password": "fel"},
            headers={"X-Forwarded-For": forwarded_for},
            environ_base={"REMOTE_ADDR": "10.0.0.1"},  # the proxy
        ).status_code

    assert [attempt("198.51.100.7") for _ in range(3)] == [200, 200, 429]
    assert attempt("203.0.113.9") == 200, "another client behind the same proxy"


def test_without_trusted_hops_a_forwarded_header_is_ignored(app: Flask, user: User) -> None:
    assert app.config["PROXY_FIX_HOPS"] == 0
    saved = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    try:
        client = app.test_client()
        statuses = [
            client.post(
                "/login",
                data={"email": f"n{n}@example.com", "password": "fel"},
                headers={"X-Forwarded-For": f"198.51.100.{n}"},  # forged by the client
            ).status_code
            for n in range(3)
        ]
    finally:
        app.config["LOGIN_RATE_LIMIT"] = saved
    assert statuses == [200, 200, 429]


@pytest.mark.parametrize("value", [-1, "two", True])
def test_a_bad_hop_count_stops_start_up(database_url: str, value: object) -> None:
    from coordination.config import ConfigurationError

    with pytest.raises(ConfigurationError, match="PROXY_FIX_HOPS"):
        create_app(make_test_config(database_url, PROXY_FIX_HOPS=value))


# --- The API limit belongs to the whole token --------------------------------------------------


def test_bogus_tokens_sharing_the_prefix_do_not_limit_the_real_token(
    app: Flask, world: Council3, db: Session
) -> None:
    from coordination.tokens.services import Scope, create_token

    victim = world.members[AgencyKind.POLICE]
    real = create_token(db, victim, "integration", {Scope.READ}).secret
    db.flush()
    prefix = real[:PREFIX_LENGTH]
    saved = app.config["API_RATE_LIMIT"]
    app.config["API_RATE_LIMIT"] = "5 per minute"
    try:
        attacker = app.test_client()
        for n in range(6):
            bogus = prefix + f"forged{n}".ljust(len(real) - PREFIX_LENGTH, "x")
            answer = attacker.get("/api/v1/me", headers={"Authorization": f"Bearer {bogus}"})
            assert answer.status_code in (401, 429)
        # The bogus tokens share one bucket only when they are the same token.
        same = prefix + "forged0".ljust(len(real) - PREFIX_LENGTH, "x")
        for _ in range(5):
            attacker.get("/api/v1/me", headers={"Authorization": f"Bearer {same}"})
        assert (
            attacker.get("/api/v1/me", headers={"Authorization": f"Bearer {same}"}).status_code
            == 429
        )
        owner = app.test_client()
        answer = owner.get("/api/v1/me", headers={"Authorization": f"Bearer {real}"})
        assert answer.status_code == 200
    finally:
        app.config["API_RATE_LIMIT"] = saved


# --- Replacing the authenticator --------------------------------------------------------------


@pytest.fixture
def enrolled(app: Flask, db: Session, user: User) -> bytes:
    return enrol_totp(db, app, user)


def new_secret_of(app: Flask, client: FlaskClient, user: User) -> bytes:
    import base64

    with client.session_transaction() as cookie:
        sealed = cookie["enrol_secret"]
    return security.open_totp_secret(
        security.MasterKeyRing.from_config(app.config), user.id, base64.b64decode(sealed)
    )


def test_replacing_the_authenticator_asks_for_the_password_or_a_current_code(
    app: Flask, db: Session, user: User, enrolled: bytes
) -> None:
    client = log_in(app.test_client(), user)
    page = client.get("/account/two-factor")
    assert "Ditt lösenord eller en kod från den nuvarande appen" in page.text
    new_secret = new_secret_of(app, client, user)
    before = user.totp_secret_sealed

    only_new = client.post("/account/two-factor", data={"code": security.totp_code(new_secret)})
    assert only_new.status_code == 422
    assert "Fältet måste fyllas i" in only_new.text
    wrong = client.post(
        "/account/two-factor",
        data={"current": "inte lösenordet", "code": security.totp_code(new_secret)},
    )
    assert wrong.status_code == 422
    assert "Lösenordet eller koden från den nuvarande appen stämmer inte" in wrong.text
    db.refresh(user)
    assert user.totp_secret_sealed == before, "nothing changed"

    with_current_code = client.post(
        "/account/two-factor",
        data={"current": security.totp_code(enrolled), "code": security.totp_code(new_secret)},
    )
    assert with_current_code.status_code == 200
    db.refresh(user)
    assert user.totp_secret_sealed != before
    ring = security.MasterKeyRing.from_config(app.config)
    assert security.open_totp_secret(ring, user.id, user.totp_secret_sealed or b"") == new_secret


def test_replacing_the_authenticator_with_the_password(
    app: Flask, db: Session, user: User, enrolled: bytes
) -> None:
    client = log_in(app.test_client(), user)
    client.get("/account/two-factor")
    new_secret = new_secret_of(app, client, user)
    done = client.post(
        "/account/two-factor", data={"current": PASSWORD, "code": security.totp_code(new_secret)}
    )
    assert done.status_code == 200
    db.refresh(user)
    ring = security.MasterKeyRing.from_config(app.config)
    assert security.open_totp_secret(ring, user.id, user.totp_secret_sealed or b"") == new_secret


def test_first_authenticator_while_logged_in_needs_only_its_code(
    app: Flask, db: Session, user: User
) -> None:
    client = log_in(app.test_client(), user)
    page = client.get("/account/two-factor")
    assert "nuvarande appen" not in page.text
    secret = new_secret_of(app, client, user)
    done = client.post("/account/two-factor", data={"code": security.totp_code(secret)})
    assert done.status_code == 200
    db.refresh(user)
    assert user.has_two_factor


def test_guessing_the_current_factor_is_rate_limited(
    app: Flask, user: User, enrolled: bytes
) -> None:
    saved = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    try:
        client = log_in(app.test_client(), user)
        client.get("/account/two-factor")
        statuses = [
            client.post(
                "/account/two-factor", data={"current": f"gissning {n}", "code": "123456"}
            ).status_code
            for n in range(4)
        ]
    finally:
        app.config["LOGIN_RATE_LIMIT"] = saved
    assert statuses == [422, 422, 422, 429]


def test_sessions_are_pruned_a_week_after_they_end(app: Flask, db: Session, user: User) -> None:
    import datetime as dt

    from coordination.accounts.sessions import KEEP_ENDED, prune_sessions
    from coordination.db import utcnow

    log_in(app.test_client(), user)
    live = log_in(app.test_client(), user)
    rows = db.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    rows[0].ended_at = utcnow() - KEEP_ENDED - dt.timedelta(minutes=1)
    db.flush()
    assert prune_sessions(db, utcnow()) == 1
    assert prune_sessions(db, utcnow()) == 0
    assert live.get("/").status_code == 200
