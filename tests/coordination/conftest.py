"""Fixtures of the sign-in tests (password log-in, sessions, account lifecycle)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordination import security
from coordination.models import Agency, AgencyKind, User
from tests.factories import PASSWORD, AgencyFactory, UserFactory


@pytest.fixture
def optional_2fa(app: Flask) -> Iterator[None]:
    """Two-factor authentication made optional for this test."""
    app.config["REQUIRE_2FA"] = False
    yield
    app.config["REQUIRE_2FA"] = True


@pytest.fixture
def user(db: Session) -> User:
    """Anna, who signs in with the shared test password (a module may define its own user)."""
    return UserFactory(email="anna@example.com")


def signed_in(app: Flask, email: str = "anna@example.com") -> FlaskClient:
    """A client that signed in through the log-in form with the test password."""
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.text
    return client


def post_new_user(
    admin_client: FlaskClient, agency: Agency, fields: Mapping[str, object]
) -> TestResponse:
    """The administrator's new-user form posted for a user of ``agency`` with ``fields``."""
    return admin_client.post("/admin/users/new", data={"agency_id": agency.id, **fields})


START_PASSWORD = "ett startlösenord"


def post_new_officer(admin_client: FlaskClient, email: str, roles: list[str]) -> TestResponse:
    """The administrator creates Ny Polis (``email``, ``roles``) in a new police agency, with
    START_PASSWORD as the start password."""
    fields = {"email": email, "display_name": "Ny Polis", "password": START_PASSWORD}
    police = AgencyFactory(kind=AgencyKind.POLICE)
    return post_new_user(admin_client, police, {**fields, "roles": roles})


def enrol_totp(db: Session, app: Flask, user: User) -> bytes:
    """Give ``user`` a confirmed authenticator; returns its secret (to compute codes with)."""
    secret = security.new_totp_secret()
    user.totp_secret_sealed = security.seal_totp_secret(
        security.MasterKeyRing.from_config(app.config), user.id, secret
    )
    user.totp_confirmed_at = user.created_at
    db.flush()
    return secret


@contextmanager
def reachable_redis(url: str) -> Iterator[redis.Redis]:
    """A client of the Redis at ``url``. Fails (ConnectionError), never skips, when CI asked
    for Redis and it is not there."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    assert client.ping()
    try:
        yield client
    finally:
        client.close()
