"""API test helpers: tokens for the world's users, and responses checked against the
generated OpenAPI document (so every endpoint test is also a contract test)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordination.api.openapi import document
from coordination.models import AgencyKind, User
from coordination.tokens.services import Scope, create_token
from tests.conftest import Council3
from tests.factories import CouncilFactory, MembershipFactory, UserFactory

PROBLEM = "application/problem+json"


@dataclass
class Api:
    """A test client that sends a bearer token and checks every answer against the schema."""

    app: Flask
    client: FlaskClient
    token: str | None

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        merged = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        merged.update(headers or {})
        return merged

    def _send(
        self, method: str, path: str, headers: dict[str, str] | None, **kw: Any
    ) -> TestResponse:
        response = self.client.open(
            path, method=method.upper(), headers=self._headers(headers), **kw
        )
        assert_conforms(self.app, method, path, response)
        return response

    def get(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> TestResponse:
        return self._send("get", path, headers, **kw)

    def post(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kw: Any
    ) -> TestResponse:
        return self._send("post", path, headers, json=json, **kw)

    def patch(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kw: Any
    ) -> TestResponse:
        return self._send("patch", path, headers, json=json, **kw)

    def delete(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> TestResponse:
        return self._send("delete", path, headers, **kw)


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(template)) + "$")


def assert_conforms(app: Flask, method: str, path: str, response: TestResponse) -> None:
    """The response's status is documented for the operation and its body matches the schema
    (problem details for errors). Unknown paths must answer 404 or 405 as problem details."""
    doc = document(app)
    bare = path.split("?", 1)[0]
    operation = None
    for template, methods in doc["paths"].items():
        if _template_regex(template).match(bare) and method in methods:
            operation = methods[method]
            break
    if operation is None:
        assert response.status_code in (404, 405), (method, path, response.status_code)
        assert response.mimetype == PROBLEM
        return
    responses = operation["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method.upper()} {path}: {status} is not documented"
    content = responses[status].get("content")
    if not content:
        return
    media_type, spec = next(iter(content.items()))
    assert response.mimetype == media_type, (response.mimetype, media_type)
    schema = {**spec["schema"], "components": doc["components"]}
    jsonschema.validate(
        response.get_json(),
        schema,
        cls=jsonschema.Draft202012Validator,
    )


@pytest.fixture
def issue_token(db: Session) -> Callable[..., str]:
    def issue(user: User, *scopes: Scope, days: int = 90) -> str:
        wanted = set(scopes) or {Scope.READ, Scope.WRITE}
        secret = create_token(db, user, "test", wanted, days).secret
        db.flush()
        return secret

    return issue


@pytest.fixture
def api_for(app: Flask, world: Council3, issue_token: Callable[..., str]) -> Callable[..., Api]:
    """An API client for the member of the given agency kind (read and write)."""

    def make(kind: AgencyKind, *scopes: Scope) -> Api:
        return Api(app, app.test_client(), issue_token(world.members[kind], *scopes))

    return make


@pytest.fixture
def api_as(app: Flask, issue_token: Callable[..., str]) -> Callable[..., Api]:
    """An API client for any user."""

    def make(user: User, *scopes: Scope) -> Api:
        return Api(app, app.test_client(), issue_token(user, *scopes))

    return make


def stranger(db: Session, world: Council3) -> User:
    """A school user who sits on another council only."""
    other = CouncilFactory(
        agencies=[world.agencies[AgencyKind.SCHOOL]], name="Annat råd", code="ANNAT"
    )
    user = UserFactory(agency=world.agencies[AgencyKind.SCHOOL], email="stranger@example.com")
    MembershipFactory(council=other, user=user)
    db.flush()
    return user


@pytest.fixture
def stranger_api(db: Session, world: Council3, api_as: Callable[..., Api]) -> Callable[[], Api]:
    """An API client for ``stranger`` (made when called: inside the test's own clock)."""
    return lambda: api_as(stranger(db, world))


@pytest.fixture
def anonymous_api(app: Flask, db: Session) -> Api:
    return Api(app, app.test_client(), None)


def problem(response: TestResponse, status: int) -> dict[str, Any]:
    """Assert a problem document with this status and return it."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status
    assert body["detail"]
    return body


def field_errors(response: TestResponse) -> dict[str, str]:
    body = problem(response, 422)
    return {error["field"]: error["detail"] for error in body.get("errors", [])}
