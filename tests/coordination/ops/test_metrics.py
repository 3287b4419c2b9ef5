"""/metrics: refused without the token, route patterns (never ids) in labels, and the counts of
reveals, audit appends, job runs and the outbox; summed across processes in multiprocess mode."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.audit.sequencer import chain_events
from coordination.models import AgencyKind, Child
from coordination.scheduler import JobSpec, nightly, run_job
from meetings.models import EmailStatus, Notification
from secrecy.models import Record
from secrecy.records.reveal import reveal_records
from secrecy.tags import SecrecyTag
from tests.conftest import ROOT, Council3
from tests.secrecy.test_pages import enrol_via_page

TOKEN = "metrics-test-token-0123456789"


@pytest.fixture
def metrics_on(app: Flask) -> Iterator[None]:
    app.config["METRICS_TOKEN"] = TOKEN
    yield
    app.config["METRICS_TOKEN"] = None


def scrape(client: Any) -> dict[str, list[Any]]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    families: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(response.text):
        families.setdefault(family.name, []).extend(family.samples)
    return families


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_are_off_without_a_token_setting(client: Any) -> None:
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_metrics_refuse_a_request_without_the_right_token(client: Any, metrics_on: None) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "samverkan_" not in response.text
    assert "Set-Cookie" not in response.headers


def test_requests_are_counted_by_route_pattern_never_by_id(
    client_for: Any, world: Council3, db: Session, metrics_on: None
) -> None:
    client = client_for(AgencyKind.SOCIAL_SERVICES)
    council_id = world.council.id
    route = "/councils/<int:council_id>"
    before = value("samverkan_http_requests_total", method="GET", route=route, status="200")
    assert client.get(f"/councils/{council_id}?q=Hemligsson").status_code == 200
    assert enrol_via_page(client, council_id).status_code == 302
    child = db.scalars(select(Child)).one()
    assert client.get(f"/children/{child.id}").status_code == 200
    families = scrape(client)
    after = value("samverkan_http_requests_total", method="GET", route=route, status="200")
    assert after == before + 1
    routes = {s.labels["route"] for s in families["samverkan_http_requests"]}
    assert {route, "/children/<int:child_id>", "/councils/<int:council_id>/children/new"} <= routes
    latency = families["samverkan_http_request_duration_seconds"]
    assert any(s.labels.get("route") == route and s.name.endswith("_count") for s in latency)
    for samples in families.values():
        for sample in samples:
            for label, text in sample.labels.items():
                if label in ("le", "status", "quantile"):
                    continue
                assert not re.search(r"/\d+(/|$)", text), f"an id in {sample.name}{{{label}}}"
                assert "Hemligsson" not in text and "?" not in text


def test_reveals_are_counted_by_verdict_and_another_agency_is_withheld(
    world: Council3, social: FlaskClient, db: Session
) -> None:
    enrol_via_page(social, world.council.id)
    child = db.scalars(select(Child)).one()
    social.post(f"/children/{child.id}/records", data={"category": "family", "text": "X"})
    record = db.scalars(select(Record).where(Record.category == "family")).one()
    revealed = value("samverkan_records_revealed_total", verdict="revealed")
    withheld = value("samverkan_records_revealed_total", verdict="withheld")
    owner = reveal_records(db, world.members[AgencyKind.SOCIAL_SERVICES], [record])
    other = reveal_records(db, world.members[AgencyKind.POLICE], [record])
    assert not owner[0].withheld and other[0].withheld
    assert value("samverkan_records_revealed_total", verdict="revealed") == revealed + 1
    assert value("samverkan_records_revealed_total", verdict="withheld") == withheld + 1


def test_audit_appends_and_chaining_are_timed(db: Session, world: Council3) -> None:
    count = value("samverkan_audit_append_duration_seconds_count")
    events = value("samverkan_audit_events_appended_total")
    chained = value("samverkan_audit_events_chained_total")
    lags = value("samverkan_audit_chain_lag_seconds_count")
    record_event(db, world.coordinator, SecrecyTag.RECORD_REVEAL, object_type="record")
    record_event(db, world.coordinator, SecrecyTag.RECORD_REVEAL, object_type="record")
    db.commit()
    assert value("samverkan_audit_append_duration_seconds_count") == count + 2
    assert value("samverkan_audit_events_appended_total") == events + 2
    done = chain_events(db)
    assert done >= 2
    assert value("samverkan_audit_events_chained_total") == chained + done
    assert value("samverkan_audit_chain_lag_seconds_count") == lags + done


def test_job_runs_are_counted_and_timed_by_outcome(app: Flask, db: Session) -> None:
    def works(_session: Session, _now: Any) -> int:
        return 3

    def breaks(_session: Session, _now: Any) -> int:
        raise RuntimeError("boom")

    ok = value("samverkan_job_runs_total", job="test.works", outcome="ok")
    error = value("samverkan_job_runs_total", job="test.breaks", outcome="error")
    assert run_job(app, JobSpec("test.works", works, nightly(1, 0), 60)) == "ok"
    assert run_job(app, JobSpec("test.breaks", breaks, nightly(1, 0), 60)) == "error"
    assert value("samverkan_job_runs_total", job="test.works", outcome="ok") == ok + 1
    assert value("samverkan_job_runs_total", job="test.breaks", outcome="error") == error + 1
    assert value("samverkan_job_duration_seconds_count", job="test.works") >= 1


def test_outbox_depth_and_failures_are_read_from_the_database(
    client: Any, db: Session, world: Council3, metrics_on: None
) -> None:
    def count(status: EmailStatus) -> int:
        query = select(func.count()).where(Notification.email_status == status)
        return int(db.scalar(query) or 0)

    member = world.members[AgencyKind.SCHOOL]
    for status in (EmailStatus.PENDING, EmailStatus.PENDING, EmailStatus.FAILED):
        db.add(
            Notification(
                recipient_id=member.id,
                kind="meeting_reminder",
                subject="Påminnelse",
                body="Ett möte närmar sig.",
                link="/meetings/1",
                dedup_key=f"test-{status}-{count(status)}",
                email_status=status,
            )
        )
        db.flush()
    families = scrape(client)
    (pending,) = families["samverkan_outbox_pending"]
    (failed,) = families["samverkan_outbox_failed"]
    assert pending.value == count(EmailStatus.PENDING) >= 2
    assert failed.value == count(EmailStatus.FAILED) >= 1
    assert "samverkan_scheduler_last_run_age_seconds" in families


WORKER = """
import sys
from coordination.ops import metrics
from tests.conftest import make_test_config
from app import create_app

kind = sys.argv[1]
if kind == "web":
    app = create_app(make_test_config("sqlite://"))
    client = app.test_client()
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
else:
    metrics.observe_job("test.in_scheduler", "ok", 0.25)
"""


def run_process(kind: str, directory: Path) -> None:
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(directory), PYTHONPATH=str(ROOT))
    subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", WORKER, kind], cwd=ROOT, env=env, check=True, timeout=120
    )


def test_multiprocess_mode_sums_the_workers_and_merges_the_scheduler(
    app: Flask,
    client: Any,
    db: Session,
    metrics_on: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two web workers and the scheduler, each its own process, write their files; one
    scrape (by a third process) sums them."""
    web, scheduler = tmp_path / "web", tmp_path / "scheduler"
    web.mkdir()
    scheduler.mkdir()
    run_process("web", web)
    run_process("web", web)
    run_process("scheduler", scheduler)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(web))
    monkeypatch.setitem(app.config, "METRICS_SCHEDULER_DIR", str(scheduler))
    families = scrape(client)
    healthz = [
        s
        for s in families["samverkan_http_requests"]
        if s.labels["route"] == "/healthz" and s.name.endswith("_total")
    ]
    assert [s.value for s in healthz] == [6.0]
    jobs = [s for s in families["samverkan_job_runs"] if s.name.endswith("_total")]
    assert [(s.labels["job"], s.value) for s in jobs] == [("test.in_scheduler", 1.0)]
