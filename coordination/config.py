"""Configuration: defaults, then ``instance/config.py``, then ``SAMVERKAN_*`` environment variables,
all validated by ``coordination.settings``.

The same resolution is used by the web app, the CLI and Alembic, so every entry point talks to
the same database with the same keys.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from flask import Config

from coordination import settings


class ConfigurationError(click.ClickException):
    """Start-up refused: the message tells the operator what to set. A ClickException, so the
    ``flask`` commands print it as one clean message (exit status 1) instead of a traceback."""


def load_settings(
    instance_path: str | os.PathLike[str], test_config: Mapping[str, Any] | None = None
) -> Config:
    """Resolve the configuration for one process.

    Every ``SAMVERKAN_*`` setting is validated by ``coordination.settings.Settings``; a bad one
    stops the start with one line per field. With ``test_config`` the instance file and the
    environment are ignored, so tests never pick up a developer's local settings; keys that are
    not settings (``TESTING``, ``WTF_CSRF_ENABLED`` …) pass through to Flask unchanged, as they
    do from ``instance/config.py``.
    """
    instance = Path(instance_path)
    config = Config(str(instance))
    if test_config is None:
        raw = Config(str(instance))
        raw.from_pyfile(str(instance / "config.py"), silent=True)
        # systemd credentials over the instance file; the environment still wins over both.
        values: Mapping[str, Any] = {**dict(raw), **read_credentials(os.environ)}
    else:
        values = test_config
    try:
        validated = settings.validate(values, use_environment=test_config is None)
    except settings.SettingsError as error:
        raise ConfigurationError(
            "Samverkan startar inte: ogiltiga inställningar / Samverkan will not start: invalid "
            "settings\n" + "\n".join(f"  {line}" for line in error.problems)
        ) from None
    config.from_mapping(
        {k: v for k, v in values.items() if k not in settings.Settings.model_fields}
    )
    config.from_mapping(settings.plain_values(validated))
    config["SETTING_SOURCES"] = _sources(values, use_environment=test_config is None)
    _complete(config, instance)
    return config


# --- systemd credentials (LoadCredential=; deploy/systemd/samverkan-web.service) -----------------
# A unit hands secrets to the service as files in $CREDENTIALS_DIRECTORY, readable by the service
# only and never in its environment (which /proc and `systemctl show` expose). Each file is named
# after its setting in lower case; the environment still wins over a credential.
CREDENTIAL_SETTINGS = ("SECRET_KEY", "MASTER_KEY", "DATABASE_URL", "SMTP_PASSWORD", "METRICS_TOKEN")


def read_credentials(environ: Mapping[str, str]) -> dict[str, str]:
    """The settings found as credential files (``secret_key``, ``master_key``, ...)."""
    directory = environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return {}
    found = {}
    for key in CREDENTIAL_SETTINGS:
        path = Path(directory) / key.lower()
        if path.is_file():
            value = path.read_text().strip()
            if value:
                found[key] = value
    return found


def _sources(values: Mapping[str, Any], *, use_environment: bool) -> dict[str, str]:
    """Where each setting came from, for `flask config show`."""
    sources = {}
    for name in settings.Settings.model_fields:
        if use_environment and os.environ.get(settings.PREFIX + name):
            sources[name] = "environment"
        elif name in values:
            sources[name] = "instance/config.py" if use_environment else "mapping"
        else:
            sources[name] = "default"
    return sources


def _complete(config: Config, instance: Path) -> None:
    env = config["ENV"]
    production = env == "production"
    missing = []
    if not config.get("DATABASE_URL"):
        if production:
            missing.append("SAMVERKAN_DATABASE_URL")
        else:
            instance.mkdir(parents=True, exist_ok=True)
            config["DATABASE_URL"] = f"sqlite:///{instance / 'samverkan.sqlite'}"
            config["SETTING_SOURCES"]["DATABASE_URL"] = "development default"
    for key, filename, make in (
        ("SECRET_KEY", "secret.key", lambda: secrets.token_urlsafe(48)),
        ("MASTER_KEY", "master.key", lambda: base64.b64encode(secrets.token_bytes(32)).decode()),
    ):
        if config.get(key):
            continue
        path = instance / filename
        if path.exists():
            config[key] = path.read_text().strip()
            config["SETTING_SOURCES"][key] = f"instance/{filename}"
        elif production:
            missing.append(f"SAMVERKAN_{key}")
        else:
            config[key] = _create_secret_file(path, make())
            config["SETTING_SOURCES"][key] = f"instance/{filename} (generated)"
    if missing:
        names = ", ".join(missing)
        raise ConfigurationError(
            f"Samverkan startar inte i produktion utan {names}: sätt dem i miljön (eller "
            "instance/config.py), eller SAMVERKAN_ENV=development för lokal utveckling. / "
            f"Samverkan will not start in production without {names}. Set them in the "
            "environment (or instance/config.py); for local development set "
            "SAMVERKAN_ENV=development."
        )
    config["MASTER_KEY_BYTES"] = decode_master_key(config["MASTER_KEY"])
    config["MASTER_KEYS"] = _master_keys(config)
    if config.get("SESSION_COOKIE_SECURE") is None:
        config["SESSION_COOKIE_SECURE"] = production
    if not config.get("SHRED_LOG") and env != "testing":
        config["SHRED_LOG"] = str(instance / "shred-log.jsonl")
    config["PREFERRED_URL_SCHEME"] = "https" if production else "http"


def _master_keys(config: Config) -> dict[int, bytes]:
    """Every configured master key by version; the current one under MASTER_KEY_VERSION."""
    current = int(config["MASTER_KEY_VERSION"])
    retired = {int(v): decode_master_key(k) for v, k in dict(config["MASTER_KEYS_RETIRED"]).items()}
    if current in retired:
        raise ConfigurationError(
            f"Master key version {current} is both current and retired; give the new key a new "
            "version number."
        )
    return {**retired, current: config["MASTER_KEY_BYTES"]}


def decode_master_key(value: str) -> bytes:
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError("SAMVERKAN_MASTER_KEY must be base64 of 32 random bytes.") from exc
    if len(key) != 32:
        raise ConfigurationError("SAMVERKAN_MASTER_KEY must be base64 of exactly 32 bytes.")
    return key


def _create_secret_file(path: Path, value: str) -> str:
    """Write a generated development secret readable by the owner only, once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value
