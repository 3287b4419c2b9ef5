"""Configuration: defaults, then ``instance/config.py``, then ``SAMVERKAN_*`` environment variables.

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

from flask import Config

ENVIRONMENTS = ("development", "testing", "production")

DEFAULTS: dict[str, Any] = {
    "ENV": "production",
    "SECRET_KEY": None,
    "DATABASE_URL": None,
    "MASTER_KEY": None,
    # Rotation: the current key's version, and older versions still needed to read old wraps
    # until `flask keys rotate-master` has re-wrapped everything ({"1": "<base64>"}).
    "MASTER_KEY_VERSION": 1,
    "MASTER_KEYS_RETIRED": {},
    "RETENTION_DEFAULT_MONTHS": 12,
    # Bob case sync: an enrolment proposal nobody answered this many days after its meeting is
    # declined and crypto-shredded by the nightly job.
    "CASE_SYNC_PROPOSAL_DAYS": 90,
    "REQUIRE_2FA": True,
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_MAX_HOURS": 12,
    # Log-in attempts per client address (spraying many accounts from one place) and per
    # account (guessing one password); an office behind one NAT shares the first only.
    "LOGIN_RATE_LIMIT": "60 per minute;600 per hour",
    "LOGIN_ACCOUNT_RATE_LIMIT": "5 per minute;30 per hour",
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host/-Port/-Prefix
    # headers are trusted (Werkzeug's ProxyFix). 0: none, the socket's address is the client's.
    # Set it to exactly the number of proxies, or clients can forge their address.
    "PROXY_FIX_HOPS": 0,
    # The nightly report lists active accounts not logged in for this many days.
    "UNUSED_ACCOUNT_DAYS": 90,
    "RATELIMIT_STORAGE_URI": "memory://",
    # Per API token (Flask-Limiter syntax); calls without a token count per address.
    "API_RATE_LIMIT": "600 per minute",
    "LOCKOUT_THRESHOLD": 10,
    "LOCKOUT_MINUTES": 15,
    "PASSWORD_MIN_LENGTH": 12,
    "BABEL_DEFAULT_LOCALE": "sv",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session, which has its own limits
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "samverkan_session",
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    # Outgoing e-mail of notifications (meetings.notifications.mail). Without SMTP_HOST nothing is
    # e-mailed: notifications stay in the app only (their e-mail status becomes "skipped").
    "SMTP_HOST": None,
    # None picks the usual port for SMTP_SECURITY: 587 (starttls), 465 (ssl), 25 (none).
    "SMTP_PORT": None,
    # Log-in at the mail server; leave SMTP_USER unset for a relay without authentication.
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    # "starttls": plain connection upgraded to TLS (submission, port 587); "ssl": TLS from the
    # start (port 465); "none": no encryption, only for a relay on the same host (and tests).
    "SMTP_SECURITY": "starttls",
    # The sender, e.g. "Samverkan <noreply@kommun.example>"; required with SMTP_HOST. Its domain
    # also names the Message-IDs.
    "SMTP_FROM": None,
    # Seconds to wait for the mail server per connect or command.
    "SMTP_TIMEOUT": 10,
    # The address users reach the app at, e.g. "https://samverkan.kommun.example": e-mails link
    # to BASE_URL + the notification's path. Required with SMTP_HOST.
    "BASE_URL": None,
    # How often a standby scheduler tries to take over, and the leader re-checks its lock.
    "SCHEDULER_STANDBY_POLL_SECONDS": 15,
    # How often the scheduler e-mails due notifications.
    "SCHEDULER_OUTBOX_SECONDS": 60,
    # --- Runtime operations (coordination.ops; docs/operations.md "Drift") -------------------
    # Database pool of each process (PostgreSQL; SQLite ignores the sizes). Connections are
    # pinged before use, so the first request after a database restart gets a fresh one.
    "DATABASE_POOL_SIZE": 5,
    "DATABASE_MAX_OVERFLOW": 10,
    # Seconds to wait for a free pooled connection before the request fails (503).
    "DATABASE_POOL_TIMEOUT": 10,
    # Seconds after which a pooled connection is replaced (-1: never).
    "DATABASE_POOL_RECYCLE": 1800,
    # Seconds to wait for PostgreSQL to accept a new connection.
    "DATABASE_CONNECT_TIMEOUT": 5,
    # Milliseconds one SQL statement of a web request may run on PostgreSQL (0: no limit).
    # Scheduler jobs and CLI commands are not limited.
    "DATABASE_STATEMENT_TIMEOUT_MS": 30000,
    # Bearer token Prometheus presents at GET /metrics; without it /metrics answers 404.
    "METRICS_TOKEN": None,
    # The scheduler's PROMETHEUS_MULTIPROC_DIR, when it differs from the web server's: /metrics
    # merges the scheduler's job metrics from there.
    "METRICS_SCHEDULER_DIR": None,
    # GET /readyz fails when the scheduler's last job run started longer ago than this (0: the
    # scheduler is not checked).
    "READINESS_SCHEDULER_MINUTES": 10,
    # --- end of runtime operations ------------------------------------------------------------
}


class ConfigurationError(RuntimeError):
    """Start-up refused: the message tells the operator what to set."""


def load_settings(
    instance_path: str | os.PathLike[str], test_config: Mapping[str, Any] | None = None
) -> Config:
    """Resolve the configuration for one process.

    With ``test_config`` the instance file and the environment are ignored, so tests never pick up
    a developer's local settings.
    """
    instance = Path(instance_path)
    config = Config(str(instance))
    config.from_mapping(DEFAULTS)
    if test_config is None:
        config.from_pyfile(str(instance / "config.py"), silent=True)
        config.from_mapping(read_credentials(os.environ))
        config.from_prefixed_env("SAMVERKAN")
    else:
        config.from_mapping(test_config)
    _complete(config, instance)
    return config


# --- systemd credentials (LoadCredential=; deploy/samverkan-web.service) -------------------------
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


def _complete(config: Config, instance: Path) -> None:
    env = config["ENV"]
    if env not in ENVIRONMENTS:
        raise ConfigurationError(f"SAMVERKAN_ENV={env!r} is not one of {', '.join(ENVIRONMENTS)}.")
    production = env == "production"
    missing = []
    if not config.get("DATABASE_URL"):
        if production:
            missing.append("SAMVERKAN_DATABASE_URL")
        else:
            instance.mkdir(parents=True, exist_ok=True)
            config["DATABASE_URL"] = f"sqlite:///{instance / 'samverkan.sqlite'}"
    for key, filename, make in (
        ("SECRET_KEY", "secret.key", lambda: secrets.token_urlsafe(48)),
        ("MASTER_KEY", "master.key", lambda: base64.b64encode(secrets.token_bytes(32)).decode()),
    ):
        if config.get(key):
            continue
        path = instance / filename
        if path.exists():
            config[key] = path.read_text().strip()
        elif production:
            missing.append(f"SAMVERKAN_{key}")
        else:
            config[key] = _create_secret_file(path, make())
    if missing:
        raise ConfigurationError(
            "Samverkan will not start in production without "
            + ", ".join(missing)
            + ". Set them in the environment (or instance/config.py); for local development set "
            "SAMVERKAN_ENV=development."
        )
    for key in ("PROXY_FIX_HOPS", "UNUSED_ACCOUNT_DAYS"):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigurationError(f"SAMVERKAN_{key} must be a whole number, 0 or more.")
    if config["UNUSED_ACCOUNT_DAYS"] == 0:
        raise ConfigurationError("SAMVERKAN_UNUSED_ACCOUNT_DAYS must be at least 1.")
    config["MASTER_KEY_BYTES"] = decode_master_key(config["MASTER_KEY"])
    config["MASTER_KEYS"] = _master_keys(config)
    config["SESSION_COOKIE_SECURE"] = config.get("SESSION_COOKIE_SECURE", production)
    config["PREFERRED_URL_SCHEME"] = "https" if production else "http"


def _master_keys(config: Config) -> dict[int, bytes]:
    """Every configured master key by version; the current one under MASTER_KEY_VERSION."""
    try:
        current = int(config["MASTER_KEY_VERSION"])
        retired = {
            int(v): decode_master_key(k) for v, k in dict(config["MASTER_KEYS_RETIRED"]).items()
        }
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            "SAMVERKAN_MASTER_KEY_VERSION must be a number and SAMVERKAN_MASTER_KEYS_RETIRED a "
            'JSON object such as {"1": "<base64 key>"}.'
        ) from exc
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
