"""What the app does when things around it fail: the database is gone, a client streams an
oversized body, the app sits behind a proxy.

- A database that cannot be reached (``OperationalError``: refused, terminated, timed out,
  statement cancelled; or the pool exhausted) is answered with a 503 page and ``Retry-After``,
  rendered without the database: the page stands alone (the site template would load the user
  and the unread count) and the request forgets its user, so no later hook tries to load it.
- A chunked body (no ``Content-Length``) is read up to ``MAX_CONTENT_LENGTH`` before anything
  parses it; one byte more is a 413, as for a declared length. Without this, werkzeug hands the
  form parser the first ``MAX_CONTENT_LENGTH`` bytes and the rest is silently lost.
"""

from __future__ import annotations

import io
import logging

from flask import Flask, abort, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from coordination.api.problems import is_api_request, problem_response
from coordination.web.extensions import login_manager

logger = logging.getLogger("samverkan.ops")

RETRY_AFTER_SECONDS = 30
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_app(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_oversized_stream)
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(PoolTimeoutError, database_unavailable)
    app.register_error_handler(DBAPIError, _lost_connection)


def refuse_oversized_stream() -> None:
    environ = request.environ
    if (
        request.method not in BODY_METHODS
        or environ.get("CONTENT_LENGTH")
        or "wsgi.input_terminated" not in environ
    ):
        return
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is None:
        return
    body = environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        abort(413)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def _lost_connection(error: DBAPIError) -> ResponseReturnValue:
    """Other driver errors are bugs (a 500); a connection that broke mid-request is not."""
    if error.connection_invalidated:
        return database_unavailable(error)
    raise error


def database_unavailable(error: Exception) -> ResponseReturnValue:
    # The class only: a driver's message may quote SQL parameters.
    logger.error("database unavailable: %s", type(error).__name__)
    g._login_user = login_manager.anonymous_user()
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if is_api_request():
        return problem_response(503, headers=headers)
    return render_template("ops/unavailable.html"), 503, headers
