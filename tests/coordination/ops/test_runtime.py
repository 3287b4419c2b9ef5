"""Runtime settings: systemd credentials, the connection pool, the web statement timeout and
the proxy headers."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, request
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix

from app import create_app
from coordination.config import ConfigurationError, load_settings, read_credentials
from coordination.db import db_session, get_database, pool_options
from tests.conftest import make_test_config

OTHER_KEY = base64.b64encode(bytes(range(100, 132))).decode()


def write_credentials(directory: Path, **values: str) -> None:
    directory.mkdir(exist_ok=True)
    for name, value in values.items():
        (directory / name).write_text(value + "\n")


def production_env(monkeypatch: pytest.MonkeyPatch, credentials: Path) -> None:
    for name in ("SAMVERKAN_SECRET_KEY", "SAMVERKAN_MASTER_KEY", "SAMVERKAN_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SAMVERKAN_ENV", "production")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))


def test_secrets_are_read_from_the_systemd_credentials_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    write_credentials(
        credentials,
        secret_key="secret-from-a-credential",
        master_key=OTHER_KEY,
        database_url="postgresql+psycopg://samverkan@db.example/samverkan",
    )
    production_env(monkeypatch, credentials)
    config = load_settings(tmp_path / "instance")
    assert config["SECRET_KEY"] == "secret-from-a-credential"
    assert config["MASTER_KEY_BYTES"] == bytes(range(100, 132))
    assert config["DATABASE_URL"] == "postgresql+psycopg://samverkan@db.example/samverkan"


def test_the_environment_wins_over_a_credential_and_empty_files_are_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    write_credentials(credentials, secret_key="from-credential", master_key="", smtp_password="pw")
    assert read_credentials({"CREDENTIALS_DIRECTORY": str(credentials)}) == {
        "SECRET_KEY": "from-credential",
        "SMTP_PASSWORD": "pw",
    }
    assert read_credentials({}) == {}
    production_env(monkeypatch, credentials)
    monkeypatch.setenv("SAMVERKAN_SECRET_KEY", "from-environment")
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", "postgresql+psycopg://u@h/d")
    # No master key anywhere: production refuses to start, naming the setting.
    with pytest.raises(ConfigurationError, match="SAMVERKAN_MASTER_KEY"):
        load_settings(tmp_path / "instance")
    monkeypatch.setenv("SAMVERKAN_MASTER_KEY", OTHER_KEY)
    assert load_settings(tmp_path / "instance")["SECRET_KEY"] == "from-environment"


def test_postgresql_pools_ping_and_take_their_sizes_from_the_settings() -> None:
    config = make_test_config(
        "postgresql+psycopg://u@h/d",
        DATABASE_POOL_SIZE=7,
        DATABASE_MAX_OVERFLOW=3,
        DATABASE_POOL_TIMEOUT=4,
        DATABASE_POOL_RECYCLE=600,
        DATABASE_CONNECT_TIMEOUT=2,
    )
    options = pool_options(config)
    assert options == {
        "pool_pre_ping": True,
        "pool_size": 7,
        "max_overflow": 3,
        "pool_timeout": 4.0,
        "pool_recycle": 600,
        "connect_args": {"connect_timeout": 2},
    }
    assert pool_options(make_test_config("sqlite:///x.sqlite")) == {"pool_pre_ping": True}


@pytest.fixture
def timed_app(app: Flask, database_url: str) -> Iterator[Flask]:
    application = create_app(make_test_config(database_url, DATABASE_STATEMENT_TIMEOUT_MS=200))
    yield application
    get_database(application).engine.dispose()


def test_web_requests_have_a_statement_timeout_and_jobs_do_not(timed_app: Flask) -> None:
    engine = get_database(timed_app).engine
    assert engine.pool._pre_ping  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        # SQLite has no statement timeout: nothing is set, nothing fails.
        with timed_app.test_request_context("/"):
            assert db_session().scalar(text("SELECT 1")) == 1
        return
    with timed_app.test_request_context("/"):
        session = db_session()
        assert session.scalar(text("SHOW statement_timeout")) == "200ms"
        with pytest.raises(OperationalError, match="statement timeout"):
            session.execute(text("SELECT pg_sleep(1)"))
        session.rollback()
    with timed_app.app_context():  # a job or CLI command: no request, no limit
        session = db_session()
        assert session.scalar(text("SHOW statement_timeout")) == "0"
        session.execute(text("SELECT pg_sleep(0.3)"))
        session.rollback()
    # The same pooled connection back in a request: the limit again.
    with timed_app.test_request_context("/"):
        assert db_session().scalar(text("SHOW statement_timeout")) == "200ms"
    # One connection served all of it: the setting follows the connection's use.
    assert engine.pool.checkedin() == 1


def test_a_slow_statement_in_a_request_is_a_503(timed_app: Flask) -> None:
    engine = get_database(timed_app).engine
    if engine.dialect.name != "postgresql":
        return

    @timed_app.get("/slow")
    def slow() -> str:
        db_session().execute(text("SELECT pg_sleep(1)"))
        return "done"

    response = timed_app.test_client().get("/slow")
    assert response.status_code == 503
    assert "Tillfälligt otillgänglig" in response.text


def test_trusted_proxies_turn_forwarded_headers_into_the_client_and_scheme(
    database_url: str,
) -> None:
    plain = create_app(make_test_config(database_url))
    proxied = create_app(make_test_config(database_url, PROXY_FIX_HOPS=1))
    try:
        assert not isinstance(plain.wsgi_app, ProxyFix)
        assert isinstance(proxied.wsgi_app, ProxyFix)
        seen: dict[str, object] = {}

        @proxied.get("/who")
        def who() -> str:
            seen.update(addr=request.remote_addr, scheme=request.scheme, host=request.host)
            return "ok"

        proxied.test_client().get(
            "/who",
            headers={
                "X-Forwarded-For": "198.51.100.7",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "samverkan.kommun.example",
            },
        )
        assert seen == {
            "addr": "198.51.100.7",
            "scheme": "https",
            "host": "samverkan.kommun.example",
        }
    finally:
        get_database(plain).engine.dispose()
        get_database(proxied).engine.dispose()
