"""The SCIM endpoints' plumbing: the bearer token, the JSON body, the SCIM error documents,
and the one commit per request (the counterpart of ``coordination.api.core`` for SCIM, whose
clients expect SCIM's own media type and error format rather than problem details).

A request without a live token of a SCIM client answers 401 and logs ``scim:auth:failure``;
a refused request answers the SCIM error (RFC 7644 §3.12) and changes nothing.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, request
from pydantic import ValidationError
from scim2_models import Error, SCIMException

from coordination.accounts.scim.services import (
    ScimClient,
    ScimRefusal,
    authenticate_client,
    record_auth_failure,
)
from coordination.db import db_session
from coordination.web.extensions import csrf, limiter

SCIM_MEDIA_TYPE = "application/scim+json"
SCIM_PREFIX = "/scim/v2"
RATE_LIMIT = "600 per minute"
MAX_BODY = 64 * 1024
MAX_DEPTH = 20

bp = Blueprint("scim", __name__, url_prefix=SCIM_PREFIX)
csrf.exempt(bp)


def scim_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = body if isinstance(body, str) else json.dumps(body)
    return Response(text, status=status, mimetype=SCIM_MEDIA_TYPE, headers=headers)


def scim_error(status: int, detail: str, scim_type: str | None = None) -> Response:
    error = Error(status=status, detail=detail, scim_type=scim_type)
    headers = {"WWW-Authenticate": 'Bearer realm="samverkan-scim"'} if status == 401 else None
    return scim_response(error.model_dump_json(exclude_none=True), status, headers)


def _token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _rate_key() -> str:
    """Per client: the hash of the whole token (a guessed prefix shares no bucket)."""
    token = _token()
    if token is None:
        return f"scim-anon:{request.remote_addr}"
    return "scim:" + hashlib.sha256(token.encode()).hexdigest()


def client() -> ScimClient:
    found: ScimClient = g.scim_client
    return found


def _depth(value: Any, limit: int) -> bool:
    """Whether ``value`` nests deeper than ``limit`` (checked without recursion)."""
    stack = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if level > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return False


def body() -> dict[str, Any]:
    """The request's JSON object, or a 400 ``invalidSyntax``."""
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY:
        raise ScimRefusal("Request body too large.", 413)
    try:
        payload = json.loads(raw or b"null")
    except (ValueError, RecursionError) as error:
        raise ScimRefusal("The body is not valid JSON.", 400, "invalidSyntax") from error
    if not isinstance(payload, dict) or _depth(payload, MAX_DEPTH):
        raise ScimRefusal("The body must be a JSON object.", 400, "invalidSyntax")
    return payload


def operation(rule: str, methods: list[str]) -> Callable[[Callable[..., Response]], Any]:
    """Declare a SCIM endpoint: token, rate limit, one commit, SCIM errors."""

    def decorate(view: Callable[..., Response]) -> Any:
        @functools.wraps(view)
        def run(**kwargs: Any) -> Response:
            session = db_session()
            token = _token()
            found = authenticate_client(session, token) if token else None
            if found is None:
                record_auth_failure(session)
                session.commit()
                return scim_error(401, "Authentication required.")
            g.scim_client = found
            try:
                response = view(**kwargs)
            except ScimRefusal as refusal:
                session.rollback()
                return scim_error(refusal.status, str(refusal.message), refusal.scim_type)
            except SCIMException as error:
                session.rollback()
                return scim_response(
                    error.to_error().model_dump_json(exclude_none=True), error.status
                )
            except ValidationError as error:
                session.rollback()
                return scim_error(400, _validation_detail(error), "invalidValue")
            except BaseException:
                session.rollback()
                raise
            session.commit()
            return response

        limited = limiter.limit(RATE_LIMIT, key_func=_rate_key)(run)
        bp.add_url_rule(rule, view.__name__, limited, methods=methods)
        return limited

    return decorate


def _validation_detail(error: ValidationError) -> str:
    problems = error.errors()
    if not problems:
        return "Invalid value."
    where = ".".join(str(part) for part in problems[0]["loc"])
    return f"{where}: {problems[0]['msg']}" if where else problems[0]["msg"]
