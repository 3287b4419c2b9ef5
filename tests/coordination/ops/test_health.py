"""/healthz and /readyz: JSON, no authentication, no cookie, no audit event, no personal data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import create_app
from coordination.audit.log import AuditEvent
from coordination.db import get_database, utcnow
from coordination.models import AgencyKind, JobRun
from coordination.ops import health
from tests.conftest import Council3, make_test_config

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"


def audit_count(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_healthz_answers_ok_without_cookie_or_audit_event(
    client_for: Any, world: Council3, db: Session
) -> None:
    client = client_for(AgencyKind.POLICE)  # a signed-in user's cookie comes along
    before = audit_count(db)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert audit_count(db) == before


@pytest.fixture
def recent_run(db: Session) -> None:
    """A scheduler heartbeat: a job run started a minute ago (rolled back with the test)."""
    db.add(JobRun(job_id="test.heartbeat", started_at=utcnow() - dt.timedelta(minutes=1)))
    db.flush()


def test_readyz_is_ok_when_database_migrations_key_and_scheduler_are(
    client_for: Any, world: Council3, db: Session, recent_run: None
) -> None:
    client = client_for(AgencyKind.POLICE)
    before = audit_count(db)
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {
        "database",
        "migrations",
        "master_key",
        "scheduler",
        "audit_chain",
    }
    assert body["checks"]["audit_chain"]["ok"] is True
    assert body["checks"]["migrations"]["current"] == body["checks"]["migrations"]["head"]
    assert body["checks"]["scheduler"]["last_run_age_seconds"] < 120
    assert "Set-Cookie" not in response.headers
    assert audit_count(db) == before
    assert world.members[AgencyKind.POLICE].display_name not in response.text


def test_readyz_fails_when_the_scheduler_has_not_run_for_too_long(
    client: Any, db: Session, recent_run: None
) -> None:
    with time_machine.travel(utcnow() + dt.timedelta(days=3650)):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["scheduler"]["ok"] is False
    assert response.get_json()["checks"]["database"]["ok"] is True


def test_readyz_fails_when_an_event_waits_too_long_to_be_chained(
    app: Flask, client: Any, db: Session, recent_run: None
) -> None:
    """The sequencer stopped (or lags): an event durable but not chained for longer than
    AUDIT_CHAIN_ALARM_SECONDS is an alarm, not a broken chain."""
    from coordination.audit.log import AuditTag, record_event
    from coordination.audit.sequencer import chain_events

    record_event(db, None, AuditTag.ACCESS_DENIED, object_ids=[1])
    with time_machine.travel(
        utcnow() + dt.timedelta(seconds=app.config["AUDIT_CHAIN_ALARM_SECONDS"] + 5)
    ):
        db.add(JobRun(job_id="test.heartbeat", started_at=utcnow()))
        db.flush()
        response = client.get("/readyz")
        check = response.get_json()["checks"]["audit_chain"]
        assert response.status_code == 503
        assert check["ok"] is False and check["unchained"] >= 1
        assert check["oldest_age_seconds"] > app.config["AUDIT_CHAIN_ALARM_SECONDS"]
        chain_events(db)
        response = client.get("/readyz")
        assert response.status_code == 200
        assert response.get_json()["checks"]["audit_chain"]["unchained"] == 0


def test_readyz_skips_the_scheduler_when_its_check_is_off(
    app: Flask, client: Any, db: Session
) -> None:
    app.config["READINESS_SCHEDULER_MINUTES"] = 0
    try:
        with time_machine.travel(utcnow() + dt.timedelta(days=3650)):
            response = client.get("/readyz")
    finally:
        app.config["READINESS_SCHEDULER_MINUTES"] = 10
    assert response.status_code == 200
    assert response.get_json()["checks"]["scheduler"] == {"ok": True, "checked": False}


def test_readyz_fails_when_the_schema_is_not_at_this_releases_head(
    client: Any, db: Session, recent_run: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "migration_heads", lambda: frozenset({"a_newer_head"}))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["migrations"]["ok"] is False


def test_readyz_fails_without_the_current_master_key(
    app: Flask, client: Any, db: Session, recent_run: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MASTER_KEY_VERSION", 99)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["master_key"] == {"ok": False}


def test_with_the_database_unreachable_healthz_is_ok_and_readyz_is_503() -> None:
    app = create_app(make_test_config(UNREACHABLE, DATABASE_CONNECT_TIMEOUT=2))
    try:
        client = app.test_client()
        assert client.get("/healthz").status_code == 200
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["checks"]["database"] == {
            "ok": False,
            "error": "OperationalError",
        }
        # A signed-in user's cookie does not make /healthz touch the database either.
        signed_in = app.test_client()
        with signed_in.session_transaction() as session:
            session["_user_id"] = "1.0"
        assert signed_in.get("/healthz").status_code == 200
    finally:
        get_database(app).engine.dispose()


def test_probes_answer_no_personal_data_and_no_session(app: Flask, client: Any) -> None:
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.mimetype == "application/json"
        assert "Set-Cookie" not in response.headers
