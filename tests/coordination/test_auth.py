"""Login, lockout, rate limit, two-factor, recovery codes, sessions and CSRF, through the pages."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination import security
from coordination.audit.log import AuditEvent, AuditTag
from coordination.models import RecoveryCode, User
from tests.conftest import audit_events, audit_tags, csrf_token_from, log_in
from tests.coordination.conftest import enrol_totp
from tests.factories import PASSWORD, UserFactory


def post_login(client: FlaskClient, email: str, password: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


def test_login_without_two_factor_when_optional(
    client: FlaskClient, user: User, db: Session, optional_2fa: None
) -> None:
    response = post_login(client, "Anna@Example.com ", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Mina forum" in page.text
    assert AuditTag.AUTH_LOGIN_SUCCESS in audit_tags(db)


def test_wrong_password_and_unknown_email_get_the_same_message(
    client: FlaskClient, user: User, db: Session
) -> None:
    wrong = post_login(client, "anna@example.com", "fel lösenord här")
    unknown = post_login(client, "nobody@example.com", "fel lösenord här")
    assert wrong.status_code == unknown.status_code == 200
    message = "Inloggningen misslyckades"
    assert message in wrong.text and message in unknown.text
    assert "finns inte" not in unknown.text
    assert client.get("/").status_code == 302  # still not logged in
    failures = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.AUTH_LOGIN_FAILURE)
    ).all()
    assert [e.details["reason"] for e in failures] == ["password", "unknown"]
    assert failures[0].object_ids == [user.id]
    assert all("example.com" not in str(e.details) for e in failures)
    db.refresh(user)
    assert user.failed_logins == 1


@contextlib.contextmanager
def login_limits(app: Flask, per_address: str, per_account: str) -> Iterator[None]:
    saved = app.config["LOGIN_RATE_LIMIT"], app.config["LOGIN_ACCOUNT_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"], app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = (
        per_address,
        per_account,
    )
    try:
        yield
    finally:
        app.config["LOGIN_RATE_LIMIT"], app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = saved


def test_lockout_after_ten_failures_refuses_even_the_right_password(
    app: Flask, client: FlaskClient, user: User, db: Session, optional_2fa: None
) -> None:
    with login_limits(app, "1000 per minute", "1000 per minute"):
        for _ in range(10):
            post_login(client, "anna@example.com", "fel lösenord här")
        db.refresh(user)
        assert user.locked_until is not None
        assert AuditTag.AUTH_LOCKOUT in audit_tags(db)
        response = post_login(client, "anna@example.com", PASSWORD)
        assert "Inloggningen misslyckades" in response.text
        assert client.get("/").status_code == 302
        # After the lockout period the right password works again.
        with time_machine.travel(time.time() + 16 * 60, tick=False):
            assert post_login(client, "anna@example.com", PASSWORD).status_code == 302


def test_rate_limit_per_address_stops_spraying_many_accounts(
    app: Flask, client: FlaskClient, user: User
) -> None:
    with login_limits(app, "10 per minute", "5 per minute"):
        statuses = [
            post_login(client, f"x{n}@example.com", "whatever-12345").status_code for n in range(11)
        ]
        assert statuses[:10] == [200] * 10
        assert statuses[10] == 429
        assert "För många försök" in client.post("/login", data={}).text


def test_rate_limit_per_account_leaves_the_office_behind_one_address_alone(
    app: Flask, client: FlaskClient, user: User, db: Session, optional_2fa: None
) -> None:
    """One colleague mistyping a password is stopped; the next one at the same address (one
    office behind one NAT) logs in."""
    colleague = UserFactory(email="berit@example.com", agency=user.agency)
    db.flush()
    with login_limits(app, "20 per minute", "3 per minute"):
        statuses = [
            post_login(client, "Anna@example.com", "fel lösenord här").status_code for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        other = app.test_client()
        assert post_login(other, colleague.email, PASSWORD).status_code == 302
        assert other.get("/").status_code == 200
        # The limit is the account's, whoever asks and however the address is written.
        assert post_login(app.test_client(), " anna@EXAMPLE.com", PASSWORD).status_code == 429


def test_inactive_user_cannot_log_in(
    client: FlaskClient, user: User, db: Session, optional_2fa: None
) -> None:
    user.active = False
    db.flush()
    assert "Inloggningen misslyckades" in post_login(client, "anna@example.com", PASSWORD).text


def test_first_login_requires_two_factor_enrolment(
    app: Flask, client: FlaskClient, user: User, db: Session
) -> None:
    response = post_login(client, "anna@example.com", PASSWORD)
    assert response.headers["Location"] == "/login/enrol"
    assert client.get("/").status_code == 302, "not logged in before the second factor"
    page = client.get("/login/enrol")
    assert page.status_code == 200
    assert "<svg" in page.text  # the QR code, inline (no external service)
    with client.session_transaction() as session:
        sealed = session["enrol_secret"]
    import base64

    secret = security.open_totp_secret(
        security.MasterKeyRing.from_config(app.config), user.id, base64.b64decode(sealed)
    )
    wrong = client.post("/login/enrol", data={"code": "000000"})
    assert "Koden stämmer inte" in wrong.text
    done = client.post("/login/enrol", data={"code": security.totp_code(secret)})
    assert done.status_code == 200
    codes = [line.strip() for line in done.text.split("<li>")[1:]]
    assert len(db.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all()) == 10
    assert len(codes) >= 10
    assert client.get("/").status_code == 200
    db.refresh(user)
    assert user.has_two_factor
    assert AuditTag.AUTH_TWO_FACTOR_ENROL in audit_tags(db)


def test_login_with_totp_and_replay_is_refused(
    app: Flask, client: FlaskClient, user: User, db: Session
) -> None:
    secret = enrol_totp(db, app, user)
    response = post_login(client, "anna@example.com", PASSWORD)
    assert response.headers["Location"] == "/login/two-factor"
    code = security.totp_code(secret)
    assert client.post("/login/two-factor", data={"code": code}).status_code == 302
    assert client.get("/").status_code == 200
    (success,) = audit_events(db, AuditTag.AUTH_LOGIN_SUCCESS)
    assert success.details == {"method": "password+totp"}

    other = FlaskClient(app, app.response_class, use_cookies=True)
    post_login(other, "anna@example.com", PASSWORD)
    replay = other.post("/login/two-factor", data={"code": code})
    assert "Koden stämmer inte" in replay.text
    assert AuditTag.AUTH_TWO_FACTOR_FAILURE in audit_tags(db)


def test_recovery_code_works_exactly_once(
    app: Flask, client: FlaskClient, user: User, db: Session
) -> None:
    from coordination.accounts.services import replace_recovery_codes

    enrol_totp(db, app, user)
    codes = replace_recovery_codes(db, user)
    db.flush()
    post_login(client, "anna@example.com", PASSWORD)
    first = client.post("/login/two-factor", data={"code": codes[0].upper()})
    assert first.status_code == 302
    assert AuditTag.AUTH_RECOVERY_CODE_USE in audit_tags(db)

    again = app.test_client()
    post_login(again, "anna@example.com", PASSWORD)
    second = again.post("/login/two-factor", data={"code": codes[0]})
    assert second.status_code == 200
    assert "Koden stämmer inte" in second.text


def test_two_factor_step_without_password_step_is_refused(client: FlaskClient) -> None:
    response = client.post("/login/two-factor", data={"code": "123456"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_logout_ends_the_session(client: FlaskClient, user: User, db: Session) -> None:
    log_in(client, user)
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302
    assert AuditTag.AUTH_LOGOUT in audit_tags(db)


def test_idle_timeout_logs_out(app: Flask, client: FlaskClient, user: User, db: Session) -> None:
    log_in(client, user)
    assert client.get("/").status_code == 200
    with time_machine.travel(time.time() + 31 * 60, tick=False):
        response = client.get("/")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
        assert client.get("/").status_code == 302
    expired = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.AUTH_SESSION_EXPIRED)
    ).one()
    assert expired.details == {"limit": "idle"}


def test_activity_keeps_the_session_until_the_absolute_limit(
    client: FlaskClient, user: User, db: Session
) -> None:
    log_in(client, user)
    start = time.time()
    for step in range(1, 36):  # a request every 20 minutes for 11 h 40 min
        with time_machine.travel(start + step * 20 * 60, tick=False):
            assert client.get("/").status_code == 200
    # Active every 20 minutes is not enough past 12 hours.
    with time_machine.travel(start + 12 * 3600 + 60, tick=False):
        assert client.get("/").status_code == 302
    expired = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.AUTH_SESSION_EXPIRED)
    ).one()
    assert expired.details == {"limit": "absolute"}


def test_password_change_rules_and_other_sessions_end(
    app: Flask, client: FlaskClient, user: User, db: Session
) -> None:
    other = log_in(app.test_client(), user)
    log_in(client, user)
    short = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": "kort", "confirm": "kort"},
    )
    assert short.status_code == 422
    assert "minst 12 tecken" in short.text
    wrong = client.post(
        "/account/password",
        data={
            "current_password": "inte rätt alls",
            "password": "ett nytt långt lösen",
            "confirm": "ett nytt långt lösen",
        },
    )
    assert "Nuvarande lösenord stämmer inte" in wrong.text
    ok = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": "ett nytt långt lösen",
            "confirm": "ett nytt långt lösen",
        },
    )
    assert ok.status_code == 302
    assert client.get("/").status_code == 200, "this browser stays logged in"
    assert other.get("/").status_code == 302, "every other session has ended"
    db.refresh(user)
    assert security.verify_password(user.password_hash, "ett nytt långt lösen")
    assert AuditTag.AUTH_PASSWORD_CHANGE in audit_tags(db)


def test_open_redirect_after_login_is_refused(
    client: FlaskClient, user: User, optional_2fa: None
) -> None:
    response = client.post(
        "/login?next=//evil.example/x", data={"email": "anna@example.com", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_login_page_keeps_personal_data_out_of_the_url(client: FlaskClient, user: User) -> None:
    response = post_login(client, "anna@example.com", "fel lösenord här")
    assert "anna@example.com" not in (response.headers.get("Location") or "")


@pytest.mark.csrf
def test_csrf_token_is_required(client: FlaskClient, user: User, db: Session) -> None:
    refused = post_login(client, "anna@example.com", PASSWORD)
    assert refused.status_code == 400
    assert "säkerhetstoken" in refused.text
    assert not db.scalars(select(AuditEvent).where(AuditEvent.tag.like("auth:login%"))).all()
    page = client.get("/login")
    accepted = client.post(
        "/login",
        data={
            "email": "anna@example.com",
            "password": PASSWORD,
            "csrf_token": csrf_token_from(page.text),
        },
    )
    assert accepted.status_code == 302


@pytest.mark.csrf
def test_csrf_on_logged_in_forms(app: Flask, client: FlaskClient, user: User) -> None:
    log_in(client, user)
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200, "a forged logout does nothing"
