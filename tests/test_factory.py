"""The application factory and its refusal to start without secrets in production."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from coordination.config import ConfigurationError, load_settings


def test_testing_config_is_applied(app: Flask) -> None:
    assert app.testing
    assert app.config["ENV"] == "testing"
    assert app.config["MASTER_KEY_BYTES"] == bytes(range(32))


def test_production_refuses_to_start_without_secrets(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings(tmp_path, {"ENV": "production"})
    message = str(excinfo.value)
    for name in ("SAMVERKAN_DATABASE_URL", "SAMVERKAN_SECRET_KEY", "SAMVERKAN_MASTER_KEY"):
        assert name in message
    assert not list(tmp_path.iterdir()), "production must not generate secrets on its own"


def test_production_starts_with_everything_set(tmp_path: Path) -> None:
    config = load_settings(
        tmp_path,
        {
            "ENV": "production",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
            "SECRET_KEY": "s" * 40,
            "MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        },
    )
    assert config["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_a_malformed_master_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="32 bytes"):
        load_settings(
            tmp_path,
            {
                "ENV": "production",
                "DATABASE_URL": "sqlite://",
                "SECRET_KEY": "s" * 40,
                "MASTER_KEY": base64.b64encode(b"short").decode(),
            },
        )


def test_development_generates_secrets_once_with_owner_only_mode(tmp_path: Path) -> None:
    first = load_settings(tmp_path, {"ENV": "development"})
    second = load_settings(tmp_path, {"ENV": "development"})
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert first["MASTER_KEY"] == second["MASTER_KEY"]
    assert first["DATABASE_URL"].startswith("sqlite:///")
    for name in ("secret.key", "master.key"):
        mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
        assert mode == 0o600, name
    assert first["SESSION_COOKIE_SECURE"] is False


def test_environment_overrides_instance_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.py").write_text("SESSION_IDLE_MINUTES = 20\nREQUIRE_2FA = True\n")
    monkeypatch.setenv("SAMVERKAN_ENV", "development")
    monkeypatch.setenv("SAMVERKAN_REQUIRE_2FA", "false")
    config = load_settings(tmp_path)
    assert config["SESSION_IDLE_MINUTES"] == 20
    assert config["REQUIRE_2FA"] is False


def test_unknown_environment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="SAMVERKAN_ENV"):
        load_settings(tmp_path, {"ENV": "staging"})


def test_create_app_in_production_mode_stops_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAMVERKAN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SAMVERKAN_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="SAMVERKAN_SECRET_KEY"):
        create_app({"ENV": "production", "DATABASE_URL": "sqlite://"})


def test_security_headers_on_every_response(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/login")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers  # not outside production


def _standalone_app(tmp_path: Path, **overrides: object) -> Flask:
    from tests.conftest import make_test_config

    return create_app(make_test_config(f"sqlite:///{tmp_path / 'standalone.sqlite'}", **overrides))


def test_error_pages_are_swedish_and_reveal_nothing(tmp_path: Path) -> None:
    application = _standalone_app(tmp_path, TESTING=False)
    application.config["TESTING"] = False
    application.config["PROPAGATE_EXCEPTIONS"] = False

    @application.route("/boom")
    def boom() -> str:
        raise RuntimeError("secret-marker SELECT * FROM users WHERE email='kalle@example.com'")

    client = application.test_client()
    response = client.get("/boom")
    assert response.status_code == 500
    assert "Något gick fel" in response.text
    for leak in ("secret-marker", "Traceback", "SELECT", "kalle@example.com", "RuntimeError"):
        assert leak not in response.text
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert "Sidan finns inte" in missing.text
    wrong_method = client.delete("/login")
    assert wrong_method.status_code == 405


def test_production_sends_hsts_and_secure_cookies(tmp_path: Path) -> None:
    application = _standalone_app(tmp_path, ENV="production")
    response = application.test_client().get("/login", base_url="https://samverkan.example.com")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = response.headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
