"""A real OpenID provider (tests/coordination/providers/oidc_provider.py) on loopback, started
once per test session as its own process, and the helpers to sign in through it."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordination.accounts.providers import oidc
from coordination.accounts.providers.models import IdentityProvider
from coordination.accounts.providers.services import (
    ProviderFields,
    ProviderTag,
    create_provider,
    link_identity,
)
from coordination.accounts.sessions import UserSession
from coordination.audit.log import AuditEvent
from coordination.models import Agency, AgencyKind, User
from tests.conftest import Council3
from tests.coordination.providers.running import (
    CLIENT_ID,
    LOA2,
    LOA3,
    RunningProvider,
    make_key_and_cert,
    start_provider,
)

__all__ = [
    "CLIENT_ID",
    "LOA2",
    "LOA3",
    "SECRET_ENV",
    "RunningProvider",
    "bind_provider",
    "failures",
    "linked",
    "open_rows",
    "sign_in",
    "user_count",
]

SECRET_ENV = "SAMVERKAN_TEST_IDP_SECRET"


@pytest.fixture(scope="session")
def openid_provider() -> Iterator[RunningProvider]:
    secret = os.urandom(16).hex()
    process, provider = start_provider(secret)
    saved = {name: os.environ.get(name) for name in (SECRET_ENV, "AUTHLIB_INSECURE_TRANSPORT")}
    os.environ[SECRET_ENV] = secret
    # Authlib refuses a token endpoint over http unless told; the provider is on loopback.
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    try:
        yield provider
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(autouse=True)
def _normal_mode(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    for name in ("openid_provider", "saml_idp"):
        if name in request.fixturenames:
            request.getfixturevalue(name).set_mode()


def bind_provider(
    db: Session,
    admin: User,
    agency: Agency,
    provider: RunningProvider,
    **changes: object,
) -> IdentityProvider:
    fields = ProviderFields(
        display_name=f"Testorganisationen {agency.id}",
        issuer=provider.issuer,
        client_id=CLIENT_ID,
        client_secret_env=SECRET_ENV,
    )
    for name, value in changes.items():
        setattr(fields, name, value)
    discovery = oidc.check_discovery(provider.issuer, timeout=5)
    return create_provider(db, admin, agency, fields, discovery)


def sign_in(
    client: FlaskClient,
    idp: IdentityProvider,
    subject: str,
    *,
    acr: str = LOA2,
    name: str = "Tess Testsson",
    email: str | None = None,
    start: str | None = None,
) -> TestResponse:
    """Through the provider as a browser would: our redirect, the provider's log-in form, and
    the provider's redirect back to our callback. Returns the callback's answer."""
    started = client.get(start or f"/login/provider/{idp.id}")
    assert started.status_code == 302, started.status_code
    location = started.headers["Location"]
    assert location.startswith(idp.issuer + "/authorize?"), location
    answer = requests.post(
        location,
        data={"sub": subject, "name": name, "email": email or f"{subject}@example.org", "acr": acr},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


SP_ENTITY_ID = "http://localhost/saml/metadata"
SP_ACS = "http://localhost/saml/acs"
SP_SLO = "http://localhost/saml/slo"


@pytest.fixture(scope="session")
def saml_idp(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProvider]:
    """A pysaml2 identity provider on loopback that knows the test app's service provider, and
    the service provider's signing key for single logout (made now, never kept)."""
    key_file, cert_file = make_key_and_cert(tmp_path_factory.mktemp("sp-keys"), "sp")
    process, provider = start_provider("", "saml_idp", (SP_ENTITY_ID, SP_ACS, cert_file, SP_SLO))
    saved = {name: app.config.get(name) for name in ("SAML_SP_KEY_FILE", "SAML_SP_CERT_FILE")}
    app.config.update(SAML_SP_KEY_FILE=key_file, SAML_SP_CERT_FILE=cert_file)
    try:
        yield provider
    finally:
        app.config.update(saved)
        process.terminate()
        process.wait(timeout=10)


def bind_saml_provider(
    db: Session, admin: User, agency: Agency, provider: RunningProvider, **changes: object
) -> IdentityProvider:
    from coordination.accounts.providers import saml
    from coordination.accounts.providers.models import ProviderKind

    fields = ProviderFields(
        kind=ProviderKind.SAML,
        display_name=f"SAML-organisationen {agency.id}",
        issuer=provider.issuer + "/metadata",
        client_id="",
        client_secret_env="",
        claims={},
    )
    for name, value in changes.items():
        setattr(fields, name, value)
    discovery = saml.check_metadata(fields.issuer, None, timeout=10)
    return create_provider(db, admin, agency, fields, discovery)


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', html
    )
    assert found, f"no {name} in {html[:500]}"
    return found.group(1)


def saml_response_for(
    client: FlaskClient,
    idp: IdentityProvider,
    subject: str,
    *,
    acr: str = LOA2,
    email: str | None = None,
    start: str | None = None,
) -> dict[str, str]:
    """Our AuthnRequest, the provider's log-in page and its signed answer (the HTTP-POST form's
    fields, before the browser posts them to us)."""
    started = client.get(start or f"/login/provider/{idp.id}")
    assert started.status_code == 302, started.status_code
    location = started.headers["Location"]
    page = requests.get(location, timeout=10)
    assert page.status_code == 200, page.text
    base = location.split("/sso/", 1)[0]
    answer = requests.post(
        f"{base}/sso/login",
        data={
            "key": _hidden(page.text, "key"),
            "sub": subject,
            "name": "Sara Samlsson",
            "email": email or f"{subject}@example.org",
            "acr": acr,
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return {
        "SAMLResponse": _hidden(answer.text, "SAMLResponse"),
        "RelayState": _hidden(answer.text, "RelayState"),
    }


def post_saml_response(client: FlaskClient, fields: dict[str, str]) -> TestResponse:
    """As the browser: the provider's cross-site POST to our ACS (no cookie goes with it:
    SameSite=Lax), then this site's page that hands it on (with the cookie)."""
    assert client.application is not None
    handed = client.application.test_client().post("/saml/acs", data=fields)
    assert handed.status_code == 200, handed.status_code
    assert "Set-Cookie" not in handed.headers
    return client.post(
        "/saml/acs/continue",
        data={
            "SAMLResponse": _hidden(handed.text, "SAMLResponse"),
            "RelayState": _hidden(handed.text, "RelayState"),
        },
    )


Bind = Callable[[Session, User, Agency, RunningProvider], IdentityProvider]


def linked(
    db: Session,
    admin: User,
    world: Council3,
    kind: AgencyKind,
    bind: Bind,
    running: RunningProvider,
    subject: str,
) -> IdentityProvider:
    """The provider of ``world``'s agency of ``kind`` (bound through ``bind``), with that
    agency's member linked to it as ``subject``."""
    provider = bind(db, admin, world.agencies[kind], running)
    link_identity(db, admin, provider, world.members[kind], subject)
    db.flush()
    return provider


@pytest.fixture
def police_idp(
    db: Session, admin: User, world: Council3, openid_provider: RunningProvider
) -> IdentityProvider:
    """The police's OpenID provider, with the police member linked to it as ``polis-123``."""
    return linked(db, admin, world, AgencyKind.POLICE, bind_provider, openid_provider, "polis-123")


@pytest.fixture
def school_idp(
    db: Session, admin: User, world: Council3, saml_idp: RunningProvider
) -> IdentityProvider:
    """The school's SAML identity provider, with the school member linked to it as
    ``skola-42``."""
    return linked(db, admin, world, AgencyKind.SCHOOL, bind_saml_provider, saml_idp, "skola-42")


def failures(db: Session) -> list[dict[str, object]]:
    """The details of every refused provider log-in, oldest first."""
    rows = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.tag == str(ProviderTag.LOGIN_FAILURE))
        .order_by(AuditEvent.seq)
    )
    return [dict(row.details or {}) for row in rows]


def open_rows(db: Session, user: User) -> list[UserSession]:
    """The user's sessions that have not ended, as the database has them now."""
    db.expire_all()
    return list(
        db.scalars(
            select(UserSession).where(
                UserSession.user_id == user.id, UserSession.ended_at.is_(None)
            )
        )
    )


def user_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User)) or 0
