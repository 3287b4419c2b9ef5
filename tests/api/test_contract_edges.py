"""Edges of the API's plumbing that contract fuzzing (``.ci/api-fuzz``) ran into: every answer
is one the OpenAPI document names."""

from __future__ import annotations

from collections.abc import Callable

import pytest

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
