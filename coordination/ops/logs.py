"""Structured logs: one JSON object per line on standard error, in every process.

``configure_logging`` attaches one handler to the root logger (once per process: web workers,
the scheduler, CLI commands all build the app through ``create_app``), so the ``samverkan``
loggers' INFO lines and other libraries' warnings reach journald or the container runtime.

Each request ends with one line (``request_log``): method, route pattern, status, duration in
milliseconds, the request id (also sent back as ``X-Request-ID``), and the user's and agency's
ids. Never the URL (its query string may hold anything typed), never a name, personnummer or
pseudonym: the route pattern has placeholders where the path has ids. Tracebacks are logged as
frames and exception classes, without the exceptions' messages.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import traceback
import uuid
from typing import Any, TextIO

from flask import Flask, g, request
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import inspect
from werkzeug.wrappers import Response

from coordination.ops.metrics import observe_request

logger = logging.getLogger("samverkan.request")

HANDLER_MARK = "_samverkan_json"
# A proxy's request id is kept if it looks like one (uuid, hex, nginx's $request_id, ...).
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
UNMATCHED = "<unmatched>"


class _CurrentStderr(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time of the record (test runners swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        return None


class _JsonWithoutMessages(JsonFormatter):
    """Tracebacks as frames and exception classes only: an exception's message may quote SQL
    parameters or a form value (Flask logs every unhandled exception with its traceback)."""

    def formatException(self, ei: Any) -> str:
        _type, error, tb = ei
        frames = [
            f"{os.path.basename(frame.filename)}:{frame.lineno} in {frame.name}"
            for frame in traceback.extract_tb(tb)
        ]
        causes: list[str] = []
        while error is not None and len(causes) < 10:
            causes.append(type(error).__name__)
            error = error.__cause__ or error.__context__
        return " < ".join(causes) + (" at " + " > ".join(frames) if frames else "")


def json_formatter() -> JsonFormatter:
    return _JsonWithoutMessages(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        json_ensure_ascii=False,
    )


def configure_logging() -> None:
    """Idempotent: the second app of a process (tests, CLI) adds no second handler."""
    root = logging.getLogger()
    if not any(getattr(h, HANDLER_MARK, False) for h in root.handlers):
        handler = _CurrentStderr()
        handler.setFormatter(json_formatter())
        setattr(handler, HANDLER_MARK, True)
        root.addHandler(handler)
    logging.getLogger("samverkan").setLevel(logging.INFO)
    # APScheduler logs every start and end of every run; ours logs one line per run.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def init_app(app: Flask) -> None:
    configure_logging()
    # First of all hooks: the time and id exist even when a later hook refuses the request.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(request_log)


def _start_request() -> None:
    g.request_started = time.perf_counter()
    presented = request.headers.get("X-Request-ID", "")
    g.request_id = presented if SANE_REQUEST_ID.fullmatch(presented) else uuid.uuid4().hex


def request_route() -> str:
    return request.url_rule.rule if request.url_rule is not None else UNMATCHED


def _actor_ids() -> tuple[int | None, int | None]:
    """The signed-in user's ids as already loaded: never a query (the database may be down,
    and a rolled-back request's user is expired)."""
    user: Any = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None, None
    try:
        state = inspect(user).dict
    except Exception:  # noqa: BLE001 - not a mapped object: no ids to give
        return None, None
    return state.get("id"), state.get("agency_id")


def request_log(response: Response) -> Response:
    started = g.get("request_started")
    seconds = time.perf_counter() - started if started is not None else 0.0
    request_id = g.get("request_id") or uuid.uuid4().hex
    route = request_route()
    response.headers["X-Request-ID"] = request_id
    observe_request(request.method, route, response.status_code, seconds)
    user_id, agency_id = _actor_ids()
    logger.info(
        "request",
        extra={
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 2),
            "request_id": request_id,
            "user_id": user_id,
            "agency_id": agency_id,
        },
    )
    return response
