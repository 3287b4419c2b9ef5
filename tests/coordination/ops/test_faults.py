"""The faults an outside probe met: a stale pooled connection after a database restart, job
runs left ``running``, the error page without a database, a chunked body past the limit, and
the scheduler's words when the database is gone."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, request
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from app import create_app
from coordination.db import get_database, utcnow
from coordination.models import JobRun
from coordination.scheduler import AlwaysLeader, JobSpec, SchedulerRunner, nightly, run_job
from tests.conftest import make_test_config
from tests.coordination.test_scheduler import Pinger

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"


# --- (c) the error page while the database is down -----------------------------------------------


@pytest.fixture
def app_without_database() -> Iterator[Flask]:
    application = create_app(make_test_config(UNREACHABLE, DATABASE_CONNECT_TIMEOUT=2))
    yield application
    get_database(application).engine.dispose()


def forged_sign_in(client: FlaskClient) -> FlaskClient:
    """A signed-in cookie made without a database (its session row cannot be checked)."""
    now = int(time.time())
    with client.session_transaction() as session:
        session.update(_user_id="7.0", _fresh=True, sid="x" * 43, login_at=now, seen_at=now)
    return client


def test_pages_answer_503_in_swedish_with_retry_after_when_the_database_is_down(
    app_without_database: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = forged_sign_in(app_without_database.test_client())
    with caplog.at_level(logging.ERROR):
        response = client.get("/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Tillfälligt otillgänglig" in response.text
    assert "Ingenting av det du skickade har sparats" in response.text
    assert "Traceback" not in response.text and "psycopg" not in response.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["database unavailable: OperationalError"]


def test_the_api_answers_a_503_problem_when_the_database_is_down(
    app_without_database: Flask,
) -> None:
    response = app_without_database.test_client().get(
        "/api/v1/councils", headers={"Authorization": "Bearer svk_" + "a" * 40}
    )
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["status"] == 503
    assert response.get_json()["detail"]


def test_a_post_while_the_database_is_down_is_503_too(app_without_database: Flask) -> None:
    app_without_database.config["WTF_CSRF_ENABLED"] = False
    client = forged_sign_in(app_without_database.test_client())
    response = client.post("/councils/1/children/new", data={"family_name": "X"})
    assert response.status_code == 503
    assert "Tillfälligt otillgänglig" in response.text


# --- (d) a chunked body past MAX_CONTENT_LENGTH -------------------------------------------------


@pytest.fixture
def echo_server(database_url: str) -> Iterator[tuple[str, int]]:
    """A real werkzeug server (chunked transfer decoded by the server, as gunicorn does) with a
    route that reports the form it received."""
    application = create_app(make_test_config(database_url, MAX_CONTENT_LENGTH=64 * 1024))

    @application.post("/echo")
    def echo() -> dict[str, Any]:
        return {"fields": sorted(request.form), "size": len(request.form.get("big", ""))}

    application.config["WTF_CSRF_ENABLED"] = False
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", server.server_port
    server.shutdown()
    thread.join(10)
    get_database(application).engine.dispose()


def post_chunked(address: tuple[str, int], body: bytes) -> tuple[int, bytes]:
    with socket.create_connection(address, timeout=20) as connection:
        connection.sendall(
            b"POST /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        for start in range(0, len(body), 8192):
            piece = body[start : start + 8192]
            try:
                connection.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered and closed before the end: what a 413 may do
        else:
            connection.sendall(b"0\r\n\r\n")
        reply = b""
        # Read the answer by its Content-Length: after a 413 the server may keep the
        # connection open (it did not read the whole body).
        while b"\r\n\r\n" not in reply or len(reply.partition(b"\r\n\r\n")[2]) < _length(reply):
            chunk = connection.recv(65536)
            if not chunk:
                break
            reply += chunk
    head, _, payload = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), payload


def _length(reply: bytes) -> int:
    head = reply.partition(b"\r\n\r\n")[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return int(value)
    return 0


def test_a_chunked_body_within_the_limit_arrives_whole(echo_server: tuple[str, int]) -> None:
    status, payload = post_chunked(echo_server, b"big=" + b"a" * 60_000 + b"&tail=yes")
    assert status == 200
    assert b'"fields":["big","tail"]' in payload.replace(b" ", b"")


def test_a_chunked_body_over_the_limit_is_refused_with_413(echo_server: tuple[str, int]) -> None:
    status, payload = post_chunked(echo_server, b"big=" + b"a" * 100_000 + b"&tail=yes")
    assert status == 413
    assert b"tail" not in payload


# --- (a) a stale pooled connection after the database came back ---------------------------------


def test_the_first_outbox_run_after_a_database_restart_succeeds(
    app: Flask, database_url: str
) -> None:
    """Every pooled connection of a separate app is ended by the server (what a restart does);
    the next job run still succeeds because the pool pings before handing one out."""
    fresh = create_app(make_test_config(database_url))
    engine = get_database(fresh).engine
    spec = JobSpec("test.outbox_after_restart", _outbox_like, nightly(1, 0), 60)
    try:
        assert run_job(fresh, spec) == "ok"
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                pid = connection.scalar(text("SELECT pg_backend_pid()"))
            killer = create_app(make_test_config(database_url))
            with get_database(killer).engine.connect() as connection:
                assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            get_database(killer).engine.dispose()
        assert run_job(fresh, spec) == "ok"
        with engine.connect() as connection:
            outcomes = connection.scalars(
                select(JobRun.outcome).where(JobRun.job_id == spec.id)
            ).all()
        assert outcomes == ["ok", "ok"]
    finally:
        with engine.begin() as connection:
            connection.execute(JobRun.__table__.delete().where(JobRun.job_id == spec.id))
        engine.dispose()


def _outbox_like(session: Session, _now: dt.datetime) -> int:
    from meetings.jobs import deliver_outbox_job

    return deliver_outbox_job(session, _now)


# --- (b) outcomes written when the database returns; dead leaders' runs abandoned ---------------


class DatabaseSwitch:
    """Makes every statement on the engine fail while off, as a stopped server would."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.down = False
        event.listen(engine, "before_cursor_execute", self._check)

    def _check(self, *_args: Any) -> None:
        if self.down:
            raise OperationalError("(statement)", {}, ConnectionRefusedError("database down"))

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._check)


@pytest.fixture
def own_app(app: Flask, database_url: str) -> Iterator[Flask]:
    """An app of its own on the test database (its job runs commit for real, then go)."""
    application = create_app(make_test_config(database_url))
    yield application
    engine = get_database(application).engine
    with engine.begin() as connection:
        connection.execute(JobRun.__table__.delete().where(JobRun.job_id.like("test.%")))
    engine.dispose()


def outcome_of(app: Flask, job_id: str) -> tuple[str | None, bool]:
    with get_database(app).engine.connect() as connection:
        row = connection.execute(
            select(JobRun.outcome, JobRun.finished_at).where(JobRun.job_id == job_id)
        ).one()
    return row.outcome, row.finished_at is not None


def test_a_run_that_lost_the_database_is_recorded_as_error_when_it_returns(
    own_app: Flask,
) -> None:
    switch = DatabaseSwitch(get_database(own_app).engine)

    def loses_the_database(_session: Session, _now: dt.datetime) -> int:
        switch.down = True
        raise OperationalError("(statement)", {}, ConnectionRefusedError("database down"))

    def works(_session: Session, _now: dt.datetime) -> int:
        return 0

    try:
        spec = JobSpec("test.loses_db", loses_the_database, nightly(1, 0), 60)
        assert run_job(own_app, spec) == "error"
    finally:
        switch.down = False
        switch.remove()
    assert outcome_of(own_app, "test.loses_db") == ("running", False)  # could not be written
    assert run_job(own_app, JobSpec("test.next", works, nightly(1, 0), 60)) == "ok"
    assert outcome_of(own_app, "test.loses_db") == ("error", True)


def test_a_scheduler_taking_the_lead_marks_a_dead_leaders_runs_abandoned(
    app: Flask, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    earlier = utcnow() - dt.timedelta(minutes=5)
    stale = JobRun(job_id="test.killed", started_at=earlier, outcome="running")
    done = JobRun(job_id="test.done", started_at=earlier, finished_at=earlier, outcome="ok")
    db.add_all([stale, done])
    db.flush()
    runner: SchedulerRunner

    def build(flask_app: Flask, executor: ThreadPoolExecutor) -> BlockingScheduler:
        runner.stop()
        return Pinger()(flask_app, executor)

    runner = SchedulerRunner(app, AlwaysLeader(), poll_seconds=0.1, build=build)
    with caplog.at_level(logging.INFO, logger="samverkan.scheduler"):
        runner.run()
    db.refresh(stale)
    db.refresh(done)
    assert stale.outcome == "abandoned" and stale.finished_at is not None
    assert done.outcome == "ok"
    assert "1 job runs of a stopped scheduler marked abandoned" in caplog.text


# --- (e) the scheduler says the database is unreachable ------------------------------------------


class UnreachableLock:
    def __init__(self, runner_stop: threading.Event) -> None:
        self.attempts = 0
        self.stop = runner_stop

    def try_acquire(self) -> bool:
        self.attempts += 1
        if self.attempts >= 3:
            self.stop.set()
        raise OperationalError("SELECT pg_try_advisory_lock", {}, ConnectionRefusedError())

    def still_held(self) -> bool:
        return False

    def release(self) -> None:
        return None


def test_the_scheduler_says_the_database_is_unreachable_not_standing_by(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    stop = threading.Event()
    lock = UnreachableLock(stop)
    runner = SchedulerRunner(app, lock, poll_seconds=0.01)
    runner._stopping = stop  # the lock ends the loop after three attempts
    with caplog.at_level(logging.INFO, logger="samverkan.scheduler"):
        runner.run()
    assert lock.attempts == 3
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("database unreachable (OperationalError); trying again every 0.01 s") == 1
    assert not any("standing by" in m for m in messages)
