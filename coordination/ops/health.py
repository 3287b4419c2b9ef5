"""``GET /healthz`` and ``GET /readyz``: probes for systemd, a load balancer or Kubernetes.

``/healthz`` says the process answers; it touches nothing else, so it stays green while the
database is down (restarting the web server would not help then). ``/readyz`` checks what
serving needs: the database answers, its schema is at this release's migration head, the
master key is loaded, the scheduler started a job recently (its runs are the heartbeat:
the outbox job runs every minute), and no audit event has waited longer than
``AUDIT_CHAIN_ALARM_SECONDS`` to be chained (the scheduler's sequencer chains them). Both
answer JSON without authentication, names or ids; neither writes to the audit log, reads the
session cookie or sets one.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, Response, current_app, json
from sqlalchemy import func, select, text

from coordination.audit.sequencer import unchained_tail
from coordination.db import db_session, utcnow
from coordination.models import JobRun

bp = Blueprint("ops_health", __name__, template_folder="templates")

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _answer(body: dict[str, Any], status: int) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz")
def healthz() -> Response:
    return _answer({"status": "ok"}, 200)


@functools.cache
def migration_heads() -> frozenset[str]:
    """This release's head revision(s), read once per process from migrations/."""
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


def _check_database() -> tuple[dict[str, Any], dict[str, Any], dt.datetime | None]:
    """Two reads in the request's session (closed, never committed, at the request's end):
    reachable, the schema's revision, and the scheduler's last run."""
    session = db_session()
    current = set(session.scalars(text("SELECT version_num FROM alembic_version")))
    last_run = session.scalar(select(func.max(JobRun.started_at)))
    heads = migration_heads()
    migrations = {"ok": current == heads, "current": sorted(current), "head": sorted(heads)}
    return {"ok": True}, migrations, last_run


def _check_scheduler(app: Flask, last_run: dt.datetime | None) -> dict[str, Any]:
    minutes = int(app.config.get("READINESS_SCHEDULER_MINUTES") or 0)
    if minutes <= 0:
        return {"ok": True, "checked": False}
    if last_run is None:
        return {"ok": False, "last_run_age_seconds": None}
    age = (utcnow() - last_run).total_seconds()
    return {"ok": age <= minutes * 60, "last_run_age_seconds": round(age)}


def _check_audit_chain(app: Flask) -> dict[str, Any]:
    limit = int(app.config.get("AUDIT_CHAIN_ALARM_SECONDS") or 0)
    if limit <= 0:
        return {"ok": True, "checked": False}
    tail = unchained_tail(db_session())
    age = tail.age_seconds(utcnow())
    return {"ok": age <= limit, "unchained": tail.count, "oldest_age_seconds": round(age)}


@bp.route("/readyz")
def readyz() -> Response:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    checks: dict[str, dict[str, Any]] = {}
    try:
        checks["database"], checks["migrations"], last_run = _check_database()
        checks["scheduler"] = _check_scheduler(app, last_run)
        checks["audit_chain"] = _check_audit_chain(app)
    except Exception as exc:  # noqa: BLE001 - any database failure means "not ready"
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    keys = app.config.get("MASTER_KEYS") or {}
    version = app.config.get("MASTER_KEY_VERSION")
    checks["master_key"] = {"ok": len(keys.get(int(version or 0), b"")) == 32}
    ready = all(check["ok"] for check in checks.values())
    return _answer({"status": "ok" if ready else "fail", "checks": checks}, 200 if ready else 503)
