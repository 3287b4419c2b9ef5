"""RFC 9457 problem details: every error the API returns, in one shape.

``{"type", "title", "status", "detail", "errors": [{"field", "detail"}]}`` as
``application/problem+json``. ``detail`` is Swedish (the UI language); ``title`` is the HTTP
phrase. Nothing here names a person or echoes the input. A refused query string or body
(pydantic's ValidationError) becomes one Swedish message per field (``field_problems``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Response, request
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from werkzeug.http import HTTP_STATUS_CODES

PROBLEM_MEDIA_TYPE = "application/problem+json"
API_PREFIX = "/api/"

DEFAULT_DETAILS: dict[int, Any] = {
    400: _l("Begäran kunde inte tolkas."),
    401: _l("Ange en giltig token i Authorization: Bearer."),
    403: _l("Du har inte behörighet till detta."),
    404: _l("Det finns inget sådant."),
    405: _l("Metoden kan inte användas här."),
    409: _l("Någon annan har ändrat uppgifterna sedan du läste dem. Läs igen och försök på nytt."),
    413: _l("Det du skickade är för stort."),
    415: _l("Skicka JSON (Content-Type: application/json)."),
    422: _l("Uppgifterna är inte giltiga."),
    429: _l("För många anrop på kort tid. Vänta en stund och försök igen."),
    500: _l("Ett oväntat fel inträffade. Felet är loggat; försök igen om en stund."),
    503: _l("Tjänsten är tillfälligt otillgänglig. Ingenting har sparats; försök igen snart."),
}


@dataclass(frozen=True)
class FieldProblem:
    field: str
    detail: str


class ApiError(Exception):
    """Raised anywhere below an API view; rendered as a problem document."""

    def __init__(
        self,
        status: int,
        detail: Any = None,
        *,
        errors: Sequence[FieldProblem] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status)
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})


def invalid_field(field: str, detail: Any) -> ApiError:
    """422 naming one field of the query string or body, with why it is refused (Swedish)."""
    return ApiError(422, errors=[FieldProblem(field, str(detail))])


def field_problems(exc: ValidationError) -> list[FieldProblem]:
    """One problem per field pydantic refused, with the reason in Swedish."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in error["loc"]) or "body"
        problems.append(FieldProblem(location, str(_message(error))))
    return problems


_MESSAGES: dict[str, Any] = {
    "missing": _l("Uppgiften saknas."),
    "extra_forbidden": _l("Okänd uppgift."),
    "int_parsing": _l("Ange ett heltal."),
    "int_type": _l("Ange ett heltal."),
    "int_from_float": _l("Ange ett heltal."),
    "bool_parsing": _l("Ange true eller false."),
    "bool_type": _l("Ange true eller false."),
    "string_type": _l("Ange text."),
    "list_type": _l("Ange en lista."),
    "dict_type": _l("Ange ett JSON-objekt."),
    "model_type": _l("Ange ett JSON-objekt."),
    "model_attributes_type": _l("Ange ett JSON-objekt."),
    "date_parsing": _l("Ange ett datum som ÅÅÅÅ-MM-DD."),
    "date_type": _l("Ange ett datum som ÅÅÅÅ-MM-DD."),
    "date_from_datetime_parsing": _l("Ange ett datum som ÅÅÅÅ-MM-DD."),
    "date_from_datetime_inexact": _l("Ange ett datum som ÅÅÅÅ-MM-DD."),
    "datetime_parsing": _l("Ange en tidpunkt enligt ISO 8601."),
    "datetime_type": _l("Ange en tidpunkt enligt ISO 8601."),
    "datetime_from_date_parsing": _l("Ange en tidpunkt enligt ISO 8601."),
    "string_pattern_mismatch": _l("Värdet har fel form."),
}


def _message(error: ErrorDetails) -> Any:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return _l("Får inte vara tom.")
        return _l("Minst %(n)s tecken.", n=ctx.get("min_length"))
    if kind == "string_too_long":
        return _l("Högst %(n)s tecken.", n=ctx.get("max_length"))
    if kind == "too_short":
        return _l("Minst %(n)s värden.", n=ctx.get("min_length"))
    if kind == "too_long":
        return _l("Högst %(n)s värden.", n=ctx.get("max_length"))
    if kind in ("greater_than_equal", "greater_than"):
        return _l("Värdet är för litet.")
    if kind in ("less_than_equal", "less_than"):
        return _l("Värdet är för stort.")
    if kind in ("enum", "literal_error"):
        return _l("Ogiltigt värde. Tillåtna värden: %(values)s.", values=ctx.get("expected", ""))
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])  # our own validators raise ValueError with a Swedish message
    return _l("Ogiltigt värde.")


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def problem_response(
    status: int,
    detail: Any = None,
    *,
    errors: Sequence[FieldProblem] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": str(detail if detail is not None else DEFAULT_DETAILS.get(status, "")),
    }
    if errors:
        body["errors"] = [{"field": e.field, "detail": str(e.detail)} for e in errors]
    response = Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MEDIA_TYPE
    )
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def render_api_error(error: ApiError) -> Response:
    return problem_response(error.status, error.detail, errors=error.errors, headers=error.headers)
