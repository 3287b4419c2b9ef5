"""Typed settings (coordination.settings): values taken as their field's type, one message per
bad field, secrets masked by `flask config show`."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from app import create_app
from coordination.config import ConfigurationError, load_settings
from tests.conftest import make_test_config

MASTER = base64.b64encode(bytes(range(32))).decode()
SECRET_MARKER = "topsecret-marker-42"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A clean production environment with the three required settings."""
    import os

    for name in list(os.environ):
        if name.startswith("SAMVERKAN_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SAMVERKAN_ENV", "production")
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    monkeypatch.setenv("SAMVERKAN_SECRET_KEY", SECRET_MARKER)
    monkeypatch.setenv("SAMVERKAN_MASTER_KEY", MASTER)
    return monkeypatch


def test_a_password_that_looks_like_a_number_stays_a_string(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("SAMVERKAN_SMTP_PASSWORD", "1e3")
    env.setenv("SAMVERKAN_SMTP_USER", "true")
    config = load_settings(tmp_path)
    assert config["SMTP_PASSWORD"] == "1e3"
    assert config["SMTP_USER"] == "true"


def test_numbers_and_switches_from_the_environment_are_typed(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("SAMVERKAN_SESSION_IDLE_MINUTES", "45")
    env.setenv("SAMVERKAN_REQUIRE_2FA", "false")
    env.setenv("SAMVERKAN_SCHEDULER_STANDBY_POLL_SECONDS", "0.5")
    env.setenv("SAMVERKAN_MASTER_KEYS_RETIRED", '{"1": "' + MASTER + '"}')
    env.setenv("SAMVERKAN_MASTER_KEY_VERSION", "2")
    config = load_settings(tmp_path)
    assert config["SESSION_IDLE_MINUTES"] == 45
    assert config["REQUIRE_2FA"] is False
    assert config["SCHEDULER_STANDBY_POLL_SECONDS"] == 0.5
    assert set(config["MASTER_KEYS"]) == {1, 2}


def test_every_bad_field_gets_its_own_line_in_swedish_and_english(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("SAMVERKAN_SESSION_IDLE_MINUTES", "abc")
    env.setenv("SAMVERKAN_LOCKOUT_THRESHOLD", "0")
    env.setenv("SAMVERKAN_SMTP_PORT", "70000")
    env.setenv("SAMVERKAN_SMTP_SECURITY", "tls")
    env.setenv("SAMVERKAN_LOGIN_RATE_LIMIT", "often")
    env.setenv("SAMVERKAN_REQUIRE_2FA", "maybe")
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings(tmp_path)
    lines = str(excinfo.value).splitlines()
    problems = [line.strip() for line in lines[1:]]
    assert len(problems) == 6
    by_name = {line.split(":", 1)[0]: line for line in problems}
    assert "ska vara ett heltal" in by_name["SAMVERKAN_SESSION_IDLE_MINUTES"]
    assert "valid integer" in by_name["SAMVERKAN_SESSION_IDLE_MINUTES"]
    assert "ska vara minst 1" in by_name["SAMVERKAN_LOCKOUT_THRESHOLD"]
    assert "får vara högst 65535" in by_name["SAMVERKAN_SMTP_PORT"]
    assert "starttls" in by_name["SAMVERKAN_SMTP_SECURITY"]
    assert "10 per minute" in by_name["SAMVERKAN_LOGIN_RATE_LIMIT"]
    assert "true eller false" in by_name["SAMVERKAN_REQUIRE_2FA"]


def test_a_bad_secret_is_named_but_never_quoted(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("SAMVERKAN_MASTER_KEYS_RETIRED", SECRET_MARKER)
    env.setenv("SAMVERKAN_DATABASE_URL", f"postgresql://u:{SECRET_MARKER}@h/db?x=")
    env.setenv("SAMVERKAN_ENV", "staging")
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings(tmp_path)
    message = str(excinfo.value)
    assert "SAMVERKAN_MASTER_KEYS_RETIRED" in message
    assert "SAMVERKAN_ENV" in message
    assert SECRET_MARKER not in message


def test_json_quoted_values_of_old_deployments_are_refused(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("SAMVERKAN_SMTP_PASSWORD", '"1e3"')
    with pytest.raises(ConfigurationError, match="SAMVERKAN_SMTP_PASSWORD: ta bort JSON"):
        load_settings(tmp_path)


def test_environment_wins_over_the_instance_file(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "config.py").write_text("LOCKOUT_MINUTES = 20\nPASSWORD_MIN_LENGTH = 14\n")
    env.setenv("SAMVERKAN_LOCKOUT_MINUTES", "25")
    config = load_settings(tmp_path)
    assert config["LOCKOUT_MINUTES"] == 25
    assert config["PASSWORD_MIN_LENGTH"] == 14
    assert config["SETTING_SOURCES"]["LOCKOUT_MINUTES"] == "environment"
    assert config["SETTING_SOURCES"]["PASSWORD_MIN_LENGTH"] == "instance/config.py"
    assert config["SETTING_SOURCES"]["SESSION_MAX_HOURS"] == "default"


def test_the_instance_file_is_validated_too(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "config.py").write_text("RETENTION_DEFAULT_MONTHS = 1000\n")
    with pytest.raises(ConfigurationError, match="SAMVERKAN_RETENTION_DEFAULT_MONTHS"):
        load_settings(tmp_path)


def test_a_test_mapping_ignores_the_environment_and_passes_flask_keys_through(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("SAMVERKAN_LOCKOUT_MINUTES", "not a number")
    config = load_settings(
        tmp_path, make_test_config("sqlite://", WTF_CSRF_ENABLED=False, LOCKOUT_MINUTES=7)
    )
    assert config["LOCKOUT_MINUTES"] == 7
    assert config["WTF_CSRF_ENABLED"] is False
    with pytest.raises(ConfigurationError, match="SAMVERKAN_LOCKOUT_MINUTES"):
        load_settings(tmp_path, make_test_config("sqlite://", LOCKOUT_MINUTES=-1))


def test_config_show_masks_secrets(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("SAMVERKAN_SMTP_PASSWORD", SECRET_MARKER)
    env.setenv("SAMVERKAN_DATABASE_URL", f"postgresql+psycopg://samverkan:{SECRET_MARKER}@db/x")
    env.setenv("SAMVERKAN_MASTER_KEYS_RETIRED", '{"1": "' + MASTER + '"}')
    env.setenv("SAMVERKAN_MASTER_KEY_VERSION", "2")
    env.setenv("SAMVERKAN_INSTANCE_PATH", str(tmp_path))
    application: Flask = create_app()
    result = CliRunner().invoke(application.cli, ["config", "show"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert SECRET_MARKER not in result.output
    assert MASTER not in result.output
    lines = {line.split("=", 1)[0].strip(): line for line in result.output.splitlines()}
    assert "********" in lines["SAMVERKAN_SMTP_PASSWORD"]
    assert "samverkan:********@db/x" in lines["SAMVERKAN_DATABASE_URL"]
    assert '{"1": "********"}' in lines["SAMVERKAN_MASTER_KEYS_RETIRED"]
    assert lines["SAMVERKAN_MASTER_KEY_VERSION"].split("=")[1].split()[0] == "2"
    assert "= True  [default]" in lines["SAMVERKAN_SESSION_COOKIE_SECURE"]  # production
    assert len(lines) >= 35


def test_every_setting_is_documented_in_the_operations_runbook() -> None:
    from coordination.settings import Settings

    runbook = (Path(__file__).resolve().parent.parent / "docs" / "operations.md").read_text()
    missing = [name for name in Settings.model_fields if f"`SAMVERKAN_{name}`" not in runbook]
    assert missing == []


def test_the_flask_command_stops_with_the_message_and_no_traceback(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    env.setenv("SAMVERKAN_SESSION_IDLE_MINUTES", "abc")
    env.setenv("SAMVERKAN_INSTANCE_PATH", str(tmp_path))
    root = Path(__file__).resolve().parent.parent
    completed = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "config", "show"],
        cwd=root,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 1
    assert "SAMVERKAN_SESSION_IDLE_MINUTES: ska vara ett heltal" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert SECRET_MARKER not in completed.stderr + completed.stdout
