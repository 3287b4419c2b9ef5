"""An account's lifecycle: the administrator resets the password or two-factor, unlocks,
deactivates (each confirmed, audited, for administrators only); a start password is replaced
at the first log-in; tokens stop with the sessions; the nightly report of unused accounts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination import security
from coordination.accounts.sessions import UserSession
from coordination.admin.unused import report_unused_accounts, unused_accounts_job
from coordination.audit.log import AuditTag
from coordination.db import utcnow
from coordination.models import AgencyKind, Role, User
from coordination.tokens.services import ApiToken, Scope, create_token
from meetings.models import Notification
from tests.conftest import Council3, audit_events, log_in
from tests.coordination.conftest import START_PASSWORD, post_new_officer
from tests.factories import PASSWORD, AgencyFactory, UserFactory


def bearer(app: Flask, token: str) -> int:
    client = app.test_client()
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code


def start_password_from(html: str) -> str:
    match = re.search(r'<code class="codes">([^<]+)</code>', html)
    assert match is not None
    return match.group(1)


def log_in_by_form(app: Flask, email: str, password: str) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.text
    return client


def test_reset_password_is_confirmed_shown_once_and_stops_sessions_and_tokens(
    app: Flask, db: Session, admin_client: FlaskClient, optional_2fa: None
) -> None:
    user = UserFactory(email="anna@example.com")
    session_before = log_in(app.test_client(), user)
    token = create_token(db, user, "integration", {Scope.READ}).secret
    db.flush()
    assert session_before.get("/").status_code == 200 and bearer(app, token) == 200

    confirm = admin_client.get(f"/admin/users/{user.id}/reset-password")
    assert confirm.status_code == 200
    assert "Återställ lösenordet" in confirm.text and "visas en gång" in confirm.text
    db.refresh(user)
    assert not user.must_change_password, "the confirmation page changes nothing"
    assert not audit_events(db, AuditTag.ADMIN_USER_RESET_PASSWORD)

    shown = admin_client.post(f"/admin/users/{user.id}/reset-password")
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    start_password = start_password_from(shown.text)
    assert len(start_password) >= 20
    assert start_password not in admin_client.get(f"/admin/users/{user.id}").text
    db.refresh(user)
    assert user.must_change_password
    assert security.verify_password(user.password_hash, start_password)
    assert session_before.get("/").status_code == 302, "every session ended"
    assert bearer(app, token) == 401, "API tokens stop as sessions do"
    assert db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one().revoked_at
    [event] = audit_events(db, AuditTag.ADMIN_USER_RESET_PASSWORD)
    assert event.object_ids == [user.id]
    assert event.details == {"sessions_ended": 1, "tokens_revoked": 1}
    assert start_password not in str(event.details)

    # The start password works once, for choosing one's own.
    client = log_in_by_form(app, "anna@example.com", start_password)
    forced = client.get("/councils/")
    assert forced.status_code == 302 and forced.headers["Location"] == "/account/start-password"
    assert client.get("/account").headers["Location"] == "/account/start-password"
    page = client.get("/account/start-password")
    assert "Välj ett eget lösenord" in page.text
    same = client.post(
        "/account/start-password", data={"password": start_password, "confirm": start_password}
    )
    assert same.status_code == 422 and "annat lösenord än startlösenordet" in same.text
    short = client.post("/account/start-password", data={"password": "kort", "confirm": "kort"})
    assert short.status_code == 422 and "minst 12 tecken" in short.text
    own = "mitt eget långa lösenord"
    done = client.post("/account/start-password", data={"password": own, "confirm": own})
    assert done.status_code == 302
    assert client.get("/").status_code == 200, "this browser goes on with a new session"
    db.refresh(user)
    assert not user.must_change_password
    assert security.verify_password(user.password_hash, own)
    assert not security.verify_password(user.password_hash, start_password)
    assert audit_events(db, AuditTag.AUTH_PASSWORD_CHANGE)[-1].details == {"start_password": True}


def test_a_new_local_account_changes_its_start_password_at_first_log_in(
    app: Flask, db: Session, admin_client: FlaskClient, optional_2fa: None
) -> None:
    created = post_new_officer(admin_client, "ny.polis@example.com", ["member"])
    assert created.status_code == 302
    user = db.scalars(select(User).where(User.email == "ny.polis@example.com")).one()
    assert user.must_change_password
    client = log_in_by_form(app, "ny.polis@example.com", START_PASSWORD)
    assert client.get("/").headers["Location"] == "/account/start-password"
    # Log-out stays reachable.
    assert client.post("/logout").headers["Location"] == "/login"


def test_the_bootstrap_administrator_keeps_the_password_they_chose(
    app: Flask, db: Session, optional_2fa: None
) -> None:
    from coordination.admin.services import create_user

    user = create_user(
        db,
        None,
        agency=AgencyFactory(),
        email="drift@example.com",
        display_name="Drift",
        password="driftens eget lösen",
        roles={Role.ADMIN},
    )
    assert not user.must_change_password


def test_deactivation_stops_sessions_and_tokens_at_once_and_reactivation_revives_no_token(
    app: Flask, db: Session, admin_client: FlaskClient
) -> None:
    user = UserFactory()
    client = log_in(app.test_client(), user)
    token = create_token(db, user, "integration", {Scope.READ}).secret
    db.flush()
    assert admin_client.get(f"/admin/users/{user.id}/deactivate").status_code == 200
    assert client.get("/").status_code == 200, "asking is not doing"
    assert admin_client.post(f"/admin/users/{user.id}/deactivate").status_code == 302
    assert client.get("/").status_code == 302
    assert bearer(app, token) == 401
    ended = db.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    assert ended.end_reason == "deactivated"
    assert admin_client.post(f"/admin/users/{user.id}/activate").status_code == 302
    db.refresh(user)
    assert user.active
    assert bearer(app, token) == 401, "a reactivated account gets no old token back"
    assert client.get("/").status_code == 302, "nor an old session"
    assert [e.object_ids for e in audit_events(db, AuditTag.ADMIN_USER_DEACTIVATE)] == [[user.id]]


def test_reset_two_factor_and_unlock_are_confirmed_and_audited(
    app: Flask, db: Session, admin_client: FlaskClient
) -> None:
    user = UserFactory()
    client = log_in(app.test_client(), user)
    user.locked_until = utcnow() + dt.timedelta(minutes=10)
    user.totp_confirmed_at = utcnow()
    user.totp_secret_sealed = b"sealed"
    db.flush()
    page = admin_client.get(f"/admin/users/{user.id}")
    for action in ("reset-two-factor", "unlock", "reset-password", "deactivate"):
        assert f"/admin/users/{user.id}/{action}" in page.text
    for action, question in (
        ("reset-two-factor", "ställa in tvåfaktorsinloggning igen"),
        ("unlock", "Spärren efter misslyckade inloggningar tas bort"),
    ):
        confirm = admin_client.get(f"/admin/users/{user.id}/{action}")
        assert question in confirm.text
        assert admin_client.post(f"/admin/users/{user.id}/{action}").status_code == 302
    db.refresh(user)
    assert user.locked_until is None and not user.has_two_factor
    assert client.get("/").status_code == 302, "a two-factor reset ends the sessions"
    assert audit_events(db, AuditTag.ADMIN_USER_RESET_TWO_FACTOR)
    assert audit_events(db, AuditTag.ADMIN_USER_UNLOCK)
    assert admin_client.get(f"/admin/users/{user.id}/explode").status_code == 404


@pytest.mark.csrf
def test_lifecycle_posts_need_the_csrf_token(
    app: Flask, db: Session, admin_client: FlaskClient
) -> None:
    user = UserFactory()
    forged = admin_client.post(f"/admin/users/{user.id}/reset-password")
    assert forged.status_code == 400
    assert "<code" not in forged.text
    db.refresh(user)
    assert not user.must_change_password
    assert not audit_events(db, AuditTag.ADMIN_USER_RESET_PASSWORD)


def test_an_administrator_may_not_reset_their_own_password_here(
    db: Session, admin_client: FlaskClient, admin: User
) -> None:
    refused = admin_client.post(f"/admin/users/{admin.id}/reset-password", follow_redirects=True)
    assert "Byt ditt eget lösenord under Mitt konto." in refused.text
    db.refresh(admin)
    assert not admin.must_change_password


def test_any_administrator_administers_any_account_and_nobody_else_does(
    app: Flask, db: Session, world: Council3, admin: User
) -> None:
    """Today's rule, kept: the admin role (MANAGE_USERS) for every account of every agency;
    a coordinator or member is refused (403, logged) even within their own agency."""
    target = world.members[AgencyKind.POLICE]
    assert admin.agency_id != target.agency_id
    other_admin = log_in(app.test_client(), admin)
    for refused_user in (world.coordinator, world.members[AgencyKind.SOCIAL_SERVICES]):
        colleague = UserFactory(agency=refused_user.agency)
        client = log_in(app.test_client(), refused_user)
        for action in ("reset-password", "deactivate", "unlock", "reset-two-factor"):
            assert client.get(f"/admin/users/{colleague.id}/{action}").status_code == 403
            assert client.post(f"/admin/users/{colleague.id}/{action}").status_code == 403
        assert client.get("/admin/users/unused").status_code == 403
        db.refresh(colleague)
        assert colleague.active and not colleague.must_change_password
    denied = audit_events(db, AuditTag.ACCESS_DENIED)
    assert len(denied) == 2 * 4 * 2 + 2
    assert other_admin.post(f"/admin/users/{target.id}/reset-password").status_code == 200
    db.refresh(target)
    assert target.must_change_password


# --- Unused accounts ---------------------------------------------------------------------------


def test_unused_accounts_page_and_nightly_report_tell_the_administrators_without_names(
    app: Flask, db: Session, admin: User, admin_client: FlaskClient
) -> None:
    now = utcnow()
    days = app.config["UNUSED_ACCOUNT_DAYS"]
    stale = UserFactory(display_name="Gammal Användare", email="gammal@example.com")
    stale.last_login_at = now - dt.timedelta(days=days + 1)
    never = UserFactory(display_name="Aldrig Inloggad")
    never.created_at = now - dt.timedelta(days=days + 5)
    fresh = UserFactory(display_name="Färsk Användare")
    fresh.last_login_at = now - dt.timedelta(days=days - 1)
    gone = UserFactory(display_name="Redan Inaktiv", active=False)
    gone.last_login_at = now - dt.timedelta(days=days + 100)
    admin.last_login_at = now
    db.flush()

    page = admin_client.get("/admin/users/unused")
    assert page.status_code == 200
    assert "Gammal Användare" in page.text and "Aldrig Inloggad" in page.text
    assert "Färsk Användare" not in page.text and "Redan Inaktiv" not in page.text
    assert page.text.index("Aldrig Inloggad") < page.text.index("Gammal Användare")

    with app.app_context():  # as the scheduler's runner gives it
        assert unused_accounts_job(db, now) == 2
    [event] = audit_events(db, AuditTag.ADMIN_UNUSED_ACCOUNTS_REPORT)
    assert sorted(event.object_ids) == sorted([stale.id, never.id])
    assert event.details == {"days": days, "count": 2}
    [notice] = db.scalars(select(Notification).where(Notification.recipient_id == admin.id))
    assert notice.link == "/admin/users/unused"
    assert "2 konton" in notice.body and str(days) in notice.subject
    for secret in ("Gammal", "gammal@example.com", "Aldrig"):
        assert secret not in notice.subject + notice.body + notice.link
    # Idempotent per night for the notices.
    with app.app_context():
        unused_accounts_job(db, now)
    assert db.scalar(select(func.count()).select_from(Notification)) == 1
    assert notice.recipient_id == admin.id


def test_unused_report_reaches_only_active_administrators_and_nobody_when_all_are_used(
    app: Flask, db: Session, admin: User
) -> None:
    now = utcnow()
    retired = UserFactory(roles={Role.ADMIN}, active=False)
    member = UserFactory()
    for user in (admin, retired, member):
        user.last_login_at = now
    db.flush()
    assert report_unused_accounts(db, now, 30) == 0
    assert db.scalar(select(func.count()).select_from(Notification)) == 0
    member.last_login_at = now - dt.timedelta(days=31)
    db.flush()
    with app.app_context():
        assert report_unused_accounts(db, now, 30) == 1
    recipients = db.scalars(select(Notification.recipient_id)).all()
    assert recipients == [admin.id]


def test_the_unused_accounts_job_is_registered_with_the_scheduler(app: Flask) -> None:
    from coordination.scheduler import job_specs

    ids = {spec.id for spec in job_specs(app)}
    assert {"coordination.unused_accounts", "coordination.prune_sessions"} <= ids


def test_a_member_sees_a_password_reset_only_as_logged_out(
    app: Flask, db: Session, admin_client: FlaskClient, optional_2fa: None
) -> None:
    """The old password stops working after a reset."""
    user = UserFactory(email="anna@example.com")
    db.flush()
    admin_client.post(f"/admin/users/{user.id}/reset-password")
    refused = app.test_client().post(
        "/login", data={"email": "anna@example.com", "password": PASSWORD}
    )
    assert "Inloggningen misslyckades" in refused.text
