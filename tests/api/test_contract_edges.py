"""Edges of the API's plumbing that contract fuzzing (``.ci/api-fuzz``) ran into: every answer
is one the OpenAPI document names."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from coordination.api.openapi import document
from coordination.models import AgencyKind
from coordination.web.converters import MAX_DB_ID
from tests.api.conftest import PROBLEM, Api, problem

TOO_BIG = MAX_DB_ID + 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        # Paths with one rule per method: werkzeug matched the other method's rule first.
        ("patch", f"/api/v1/actions/{TOO_BIG}"),
        ("get", f"/api/v1/actions/{TOO_BIG}"),
        ("post", f"/api/v1/children/{TOO_BIG}/consents"),
        ("get", f"/api/v1/children/{TOO_BIG}/consents"),
    ],
)
def test_an_id_beyond_the_database_range_is_404_whatever_the_method(
    api_for: Callable[..., Api], method: str, path: str
) -> None:
    api = api_for(AgencyKind.SOCIAL_SERVICES)
    response = getattr(api, method)(path, **({"json": {}} if method != "get" else {}))
    problem(response, 404)


def test_a_method_the_address_does_not_take_is_still_405(api_for: Callable[..., Api]) -> None:
    api = api_for(AgencyKind.SOCIAL_SERVICES)
    response = api.delete("/api/v1/me")
    assert response.status_code == 405
    assert response.mimetype == PROBLEM
    assert "GET" in response.headers["Allow"]


def test_every_write_documents_the_conflict_it_can_answer(app: Flask) -> None:
    """The wrapper answers a write that lost a race to a concurrent one (a stale version) with
    409 on any operation, so every write names it: the fuzzers' roles running side by side
    closed one information request at the same moment and got an undocumented 409."""
    paths = document(app)["paths"]
    writes = {
        (method, path): operation["responses"]
        for path, item in paths.items()
        for method, operation in item.items()
        if method in {"post", "put", "patch", "delete"}
    }
    assert ("post", "/api/v1/information-requests/{request_id}/close") in writes
    assert [key for key, responses in writes.items() if "409" not in responses] == []
    reads = [
        operation["responses"]
        for item in paths.values()
        for method, operation in item.items()
        if method == "get"
    ]
    assert reads and all("409" not in responses for responses in reads)
