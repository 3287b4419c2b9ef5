"""Starting the test OpenID provider (``oidc_provider.py``) or SAML IdP (``saml_idp.py``) as a
process on loopback, and its controls: shared by the in-process tests and the browser tests, and
by the two providers themselves (their log-in page and their ``/test/`` routes)."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask import Flask, jsonify, request

CLIENT_ID = "samverkan-test"
LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
ROOT = Path(__file__).resolve().parents[3]

# A provider's log-in page: who to sign in as, at which assurance level. The SAML IdP posts to
# its own address with the pending request's key; the OpenID provider posts back to the page.
LOGIN_PAGE = """<!doctype html><html lang="sv"><head><title>{{ title }}</title></head><body>
<h1>{{ heading }}</h1>
<form method="post"{% if action %} action="{{ action }}"{% endif %}>
  {% if key %}<input type="hidden" name="key" value="{{ key }}">{% endif %}
  <label>Subjekt <input name="sub" id="sub" value=""></label>
  <label>Namn <input name="name" id="name" value=""></label>
  <label>E-post <input name="email" id="email" value=""></label>
  <label>Tillitsnivå <select name="acr" id="acr">
    {% for value in acrs %}
    <option value="{{ value }}" {% if value == chosen %}selected{% endif %}>{{ value }}</option>
    {% endfor %}
  </select></label>
  <button type="submit" id="sign-in">Logga in</button>
</form></body></html>"""


def add_test_controls(app: Flask, mode: dict[str, Any], logouts: list[Any]) -> None:
    """The routes a test drives a provider with: ``POST /test/mode`` (how it misbehaves),
    ``GET /test/logouts`` (the logouts it received) and ``GET /test/ready``."""

    @app.post("/test/mode")
    def set_mode() -> Any:
        mode.clear()
        mode.update(request.get_json(force=True) or {})
        return jsonify(mode)

    @app.get("/test/logouts")
    def list_logouts() -> Any:
        return jsonify(logouts)

    @app.get("/test/ready")
    def ready() -> Any:
        return "ok"


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


def start_provider(
    secret: str, module: str = "oidc_provider", arguments: tuple[str, ...] | None = None
) -> tuple[subprocess.Popen[bytes], RunningProvider]:
    """Start ``tests.coordination.providers.<module>`` on a free loopback port; returns when it
    answers."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-W",
            "ignore::DeprecationWarning",
            "-m",
            f"tests.coordination.providers.{module}",
            str(port),
            *(arguments if arguments is not None else (CLIENT_ID, secret)),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    provider = RunningProvider(f"http://127.0.0.1:{port}", secret)
    deadline = time.monotonic() + 60
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


def make_key_and_cert(folder: Path, name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = folder / f"{name}.key", folder / f"{name}.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_file), str(cert_file)
