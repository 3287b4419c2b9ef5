"""Structured logs: one JSON line per request and per job run, with the handler attached in
every process, and nothing personal in any line."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from coordination.db import get_database
from coordination.models import AgencyKind, Child, JobRun
from coordination.ops.logs import HANDLER_MARK, configure_logging
from secrecy.models import Record
from tests.conftest import ROOT, Council3, process_env
from tests.secrecy.test_pages import enrol_via_page


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON lines of captured stderr (pytest prints nothing else there)."""
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def request_lines(text: str) -> list[dict[str, Any]]:
    return [line for line in json_lines(text) if line.get("logger") == "samverkan.request"]


def test_one_json_line_per_request_with_route_pattern_status_and_ids(
    client_for: Any, world: Council3, capsys: pytest.CaptureFixture[str]
) -> None:
    client = client_for(AgencyKind.POLICE)
    capsys.readouterr()
    response = client.get(f"/councils/{world.council.id}?page=1")
    assert response.status_code == 200
    lines = request_lines(capsys.readouterr().err)
    assert len(lines) == 1
    line = lines[0]
    member = world.members[AgencyKind.POLICE]
    assert line["method"] == "GET"
    assert line["route"] == "/councils/<int:council_id>"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0
    assert line["user_id"] == member.id
    assert line["agency_id"] == member.agency_id
    assert line["level"] == "INFO"
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert "page=1" not in json.dumps(line)


def test_a_sane_request_id_from_the_proxy_is_kept_and_anything_else_replaced(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "3f2a9c1e-77aa-4b1e-9e0b-1c2d3e4f5a6b"})
    assert kept.headers["X-Request-ID"] == "3f2a9c1e-77aa-4b1e-9e0b-1c2d3e4f5a6b"
    for bad in ("Kalle Andersson 20121212-1212", "x", "a" * 300, "<script>"):
        replaced = client.get("/healthz", headers={"X-Request-ID": bad})
        assert replaced.headers["X-Request-ID"] != bad
        assert len(replaced.headers["X-Request-ID"]) == 32
    text = capsys.readouterr().err
    assert "Kalle" not in text and "<script>" not in text
    assert request_lines(text)[0]["request_id"] == kept.headers["X-Request-ID"]


def test_an_unknown_url_is_logged_as_unmatched_never_its_path(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    client.get("/nowhere/Kalle-Andersson")
    (line,) = request_lines(capsys.readouterr().err)
    assert line["route"] == "<unmatched>" and line["status"] == 404
    assert "Kalle" not in json.dumps(line)


MARKER = "LOGGMARKÖR-7Q"
NAME = "Hemligsson"
PERSONNUMMER = "20121212-1212"


def test_no_log_line_holds_record_content_names_personnummer_or_query_strings(
    app: Flask,
    db: Session,
    world: Council3,
    client_for: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Walk the pages that show and take personal data, with a marker in the content, the
    name, the personnummer and the query strings; then read every line logged."""
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    police = client_for(AgencyKind.POLICE)
    capsys.readouterr()
    caught: list[logging.LogRecord] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            caught.append(record)

    catcher = Catch(level=logging.DEBUG)
    logging.getLogger().addHandler(catcher)
    try:
        enrolled = enrol_via_page(
            social, world.council.id, family_name=NAME, personnummer=PERSONNUMMER
        )
        assert enrolled.status_code == 302
        child = db.scalars(select(Child)).one()
        added = social.post(
            f"/children/{child.id}/records",
            data={"category": "family", "text": f"Uppgift {MARKER}"},
        )
        assert added.status_code == 302
        record = db.scalars(select(Record).where(Record.category == "family")).one()
        pages = [
            f"/children/{child.id}",
            f"/children/{child.id}?q={MARKER}&namn={NAME}&pnr={PERSONNUMMER}",
            f"/records/{record.id}/correct?x={MARKER}",
            f"/councils/{world.council.id}?q={NAME}",
            f"/councils/{world.council.id}/children?q={PERSONNUMMER}",
            f"/nowhere?q={MARKER}",
        ]
        for page in pages:
            assert social.get(page).status_code in (200, 404)
        # Another agency without a disclosure: withheld, and still nothing in the log.
        withheld = police.get(f"/children/{child.id}?q={MARKER}")
        assert withheld.status_code in (200, 403)
        assert MARKER not in withheld.text
    finally:
        logging.getLogger().removeHandler(catcher)
    err = capsys.readouterr().err
    logged = request_lines(err)
    assert len(logged) >= len(pages) + 3
    formatted = [err] + [r.getMessage() + json.dumps(r.__dict__, default=str) for r in caught]
    for text in formatted:
        for secret in (MARKER, NAME, PERSONNUMMER, "20121212", "q=", "pnr"):
            assert secret not in text, f"{secret!r} leaked into the log"


def test_configuring_twice_adds_one_handler() -> None:
    configure_logging()
    configure_logging()
    root = logging.getLogger()
    assert sum(1 for h in root.handlers if getattr(h, HANDLER_MARK, False)) == 1
    assert logging.getLogger("samverkan").getEffectiveLevel() == logging.INFO


def forget_job_runs(app: Flask, job_id: str) -> None:
    """Runs another process committed to the shared test database."""
    with get_database(app).engine.begin() as connection:
        connection.execute(delete(JobRun).where(JobRun.job_id == job_id))


def test_the_cli_logs_a_json_line_per_job_run(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    """A fresh CLI process (no test harness around it): the job's INFO line reaches stderr."""
    command = ["scheduler", "run-job", "coordination.prune_job_runs"]
    try:
        result = subprocess.run(  # noqa: S603 - our own interpreter and app
            [sys.executable, "-m", "flask", "--app", "app", *command],
            cwd=ROOT,
            env=process_env(database_url, tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    finally:
        forget_job_runs(app, "coordination.prune_job_runs")
    runs = [line for line in json_lines(result.stderr) if line.get("message") == "job run"]
    assert len(runs) == 1
    assert runs[0]["job"] == "coordination.prune_job_runs"
    assert runs[0]["outcome"] == "ok"
    assert runs[0]["logger"] == "samverkan.scheduler"
    assert isinstance(runs[0]["duration_ms"], float)


def test_a_logged_traceback_names_frames_and_classes_never_the_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging()

    def fails() -> None:
        try:
            raise KeyError(f"{NAME} {PERSONNUMMER}")
        except KeyError as error:
            raise ValueError(f"value {MARKER}") from error

    try:
        fails()
    except ValueError:
        logging.getLogger("samverkan.test").exception("something failed")
    (line,) = json_lines(capsys.readouterr().err)
    assert line["message"] == "something failed"
    assert line["exc_info"].startswith("ValueError < KeyError at test_logs.py:")
    assert "in fails" in line["exc_info"]
    text = json.dumps(line, ensure_ascii=False)
    for secret in (MARKER, NAME, PERSONNUMMER):
        assert secret not in text
