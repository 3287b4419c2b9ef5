"""A real OpenID provider (tests/coordination/providers/oidc_provider.py) on loopback, started
once per test session as its own process, and the helpers to sign in through it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordination.accounts.providers import oidc
from coordination.accounts.providers.models import IdentityProvider
from coordination.accounts.providers.services import ProviderFields, create_provider
from coordination.models import Agency, User

CLIENT_ID = "samverkan-test"
SECRET_ENV = "SAMVERKAN_TEST_IDP_SECRET"
LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningProvider:
    """The running provider: its issuer URL and its test controls."""

    issuer: str
    secret: str

    def set_mode(self, **mode: object) -> None:
        requests.post(f"{self.issuer}/test/mode", json=mode, timeout=5).raise_for_status()

    def logouts(self) -> list[dict[str, str]]:
        answer = requests.get(f"{self.issuer}/test/logouts", timeout=5)
        result: list[dict[str, str]] = answer.json()
        return result


def start_provider(secret: str) -> tuple[subprocess.Popen[bytes], RunningProvider]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "tests.coordination.providers.oidc_provider",
            str(port),
            CLIENT_ID,
            secret,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    provider = RunningProvider(f"http://127.0.0.1:{port}", secret)
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(f"{provider.issuer}/test/ready", timeout=1).raise_for_status()
            break
        except requests.RequestException:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the test OpenID provider did not start") from None
            time.sleep(0.1)
    return process, provider


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
    if "openid_provider" in request.fixturenames:
        request.getfixturevalue("openid_provider").set_mode()


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
