"""The OpenAPI 3.1 document, generated from the declared operations, and its HTML page.

Schemas come from the pydantic models the views parse and return (OpenAPI 3.1 uses JSON Schema
2020-12, which is what pydantic writes), paths from the Flask rules, so the document cannot
drift from the code. ``tests/api/test_openapi.py`` checks it against the URL map and validates
it; every endpoint test checks its responses against it.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Flask, current_app, render_template
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from coordination.api.core import (
    API_PREFIX,
    ApiBlueprint,
    ApiModel,
    Operation,
    json_response,
    unreachable_address_is_not_found,
)
from coordination.api.problems import DEFAULT_DETAILS, PROBLEM_MEDIA_TYPE
from coordination.web.converters import MAX_DB_ID

bp = Blueprint("api_docs", __name__, url_prefix=API_PREFIX, template_folder="templates")

REF_TEMPLATE = "#/components/schemas/{model}"
_RULE_PARAM = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>\w+)>")


class FieldError(ApiModel):
    field: str
    detail: str


class Problem(ApiModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


def operations(app: Flask) -> list[Operation]:
    found = [
        op
        for blueprint in app.blueprints.values()
        if isinstance(blueprint, ApiBlueprint)
        for op in blueprint.operations
    ]
    return sorted(found, key=lambda op: (op.rule, op.method))


def openapi_path(rule: str) -> str:
    return _RULE_PARAM.sub(lambda m: "{" + m.group("name") + "}", rule)


def _path_parameters(rule: str) -> list[dict[str, Any]]:
    params = []
    for match in _RULE_PARAM.finditer(rule):
        schema: dict[str, Any] = (
            {"type": "integer", "minimum": 0, "maximum": MAX_DB_ID}
            if match.group("converter") == "int"
            else {"type": "string"}
        )
        params.append(
            {"name": match.group("name"), "in": "path", "required": True, "schema": schema}
        )
    return params


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a string, never JSON null: ``X | None = None`` in a
    query model becomes plain ``X`` (not required) here."""
    options = schema.get("anyOf")
    if not options:
        return schema
    kept = [option for option in options if option.get("type") != "null"]
    rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
    if schema.get("default") is not None:
        rest["default"] = schema["default"]
    if len(kept) == 1:
        return {**kept[0], **rest}
    return {**rest, "anyOf": kept}


def build_document(app: Flask) -> dict[str, Any]:
    ops = operations(app)
    inputs: set[type[BaseModel]] = {Problem}
    outputs: set[type[BaseModel]] = set()
    for op in ops:
        inputs.update(m for m in (op.query, op.body) if m is not None)
        if isinstance(op.response, type) and issubclass(op.response, BaseModel):
            outputs.add(op.response)
    keys: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        *((m, "validation") for m in sorted(inputs, key=lambda m: m.__name__)),
        *((m, "serialization") for m in sorted(outputs, key=lambda m: m.__name__)),
    ]
    refs, top = models_json_schema(keys, ref_template=REF_TEMPLATE)
    schemas: dict[str, Any] = top.get("$defs", {})

    def ref(model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        return dict(refs[(model, mode)])

    def schema_of(model: type[BaseModel]) -> dict[str, Any]:
        name = ref(model, "validation")["$ref"].rsplit("/", 1)[1]
        return dict(schemas[name])

    problem = ref(Problem, "validation")
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        parameters = _path_parameters(op.rule)
        if op.query is not None:
            query_schema = schema_of(op.query)
            required = set(query_schema.get("required", []))
            for name, prop in query_schema.get("properties", {}).items():
                prop = _without_null(prop)
                parameter: dict[str, Any] = {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "schema": prop,
                }
                if prop.get("type") == "array":
                    parameter.update(style="form", explode=True)
                if "description" in prop:
                    parameter["description"] = prop["description"]
                parameters.append(parameter)
        responses: dict[str, Any] = {}
        if op.response is None:
            responses[str(op.status)] = {"description": "OK"}
        else:
            responses[str(op.status)] = {
                "description": "OK",
                "content": {"application/json": {"schema": ref(op.response, "serialization")}},
            }
        for code in op.errors:
            responses[str(code)] = {
                "description": str(DEFAULT_DETAILS.get(code, "")),
                "content": {PROBLEM_MEDIA_TYPE: {"schema": problem}},
            }
        operation: dict[str, Any] = {
            "operationId": op.endpoint.replace(".", "_"),
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": parameters,
            "responses": responses,
            "security": [{"bearerAuth": [str(op.scope)]}] if op.scope is not None else [],
        }
        if op.description:
            operation["description"] = op.description
        if op.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref(op.body, "validation")}},
            }
        paths.setdefault(openapi_path(op.rule), {})[op.method.lower()] = operation

    tags = [
        {"name": blueprint.tag, "description": blueprint.tag_description}
        for blueprint in app.blueprints.values()
        if isinstance(blueprint, ApiBlueprint)
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Samverkan API",
            "version": "1.0.0",
            "description": (
                "JSON API för Samverkan. Samma behörigheter och samma sekretessprövning som i "
                "webbgränssnittet: en uppgift som inte har lämnats ut till din myndighet visas "
                'som {"withheld": true, "reason": "..."}. Skapa en personlig token under '
                "Mitt konto och skicka den som Authorization: Bearer <token>."
            ),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": "/"}],
        "tags": sorted(tags, key=lambda t: t["name"]),
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Personlig token (svk_…) från Mitt konto → API-tokens.",
                }
            },
        },
    }


def document(app: Flask) -> dict[str, Any]:
    """Built once per app (the declarations do not change while it runs)."""
    cached: dict[str, Any] | None = app.extensions.get("samverkan.openapi")
    if cached is None:
        cached = build_document(app)
        app.extensions["samverkan.openapi"] = cached
    return cached


@bp.get("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    response = json_response(document(current_app._get_current_object()))  # type: ignore[attr-defined]
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/docs")
def docs() -> ResponseReturnValue:
    doc = document(current_app._get_current_object())  # type: ignore[attr-defined]
    return render_template("coordination/api_docs.html", doc=doc)


def schema_name(schema: dict[str, Any]) -> str | None:
    reference = schema.get("$ref")
    return reference.rsplit("/", 1)[1] if isinstance(reference, str) else None


def type_label(schema: dict[str, Any]) -> str:
    """A short human label for a JSON Schema, for the HTML page."""
    if name := schema_name(schema):
        return name
    if "anyOf" in schema:
        return " | ".join(type_label(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        return f"[{type_label(schema.get('items', {}))}]"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind or "any")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(unreachable_address_is_not_found)
    app.jinja_env.globals["api_type_label"] = type_label
    app.jinja_env.globals["api_schema_name"] = schema_name
