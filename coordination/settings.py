"""Every ``SAMVERKAN_*`` setting with its type, default and allowed range (pydantic-settings).

``coordination.config.load_settings`` validates the instance file, the environment (or a test's
mapping) through :class:`Settings` and hands the plain values to Flask. A value from the
environment is parsed for its field's type only: a string setting stays a string whatever it
looks like (``SAMVERKAN_SMTP_PASSWORD=1e3`` is the password ``"1e3"``), a number must be a
number, a switch ``true``/``false``/``1``/``0``; only ``MASTER_KEYS_RETIRED`` is JSON.

A bad value stops the start with one line per bad field, in Swedish and English, naming the
environment variable and never echoing a secret.
"""

from __future__ import annotations

import json
import os
import zoneinfo
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

import limits
from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PREFIX = "SAMVERKAN_"


def _parsed_by(
    parse: Callable[[str], object], errors: tuple[type[Exception], ...], message: str
) -> Callable[[str], str]:
    """A validator that keeps a text ``parse`` accepts; ``message`` (Swedish / English) when it
    raises one of ``errors``."""

    def check(value: str) -> str:
        try:
            parse(value)
        except errors as exc:
            raise ValueError(message) from exc
        return value

    return check


_rate_limit = _parsed_by(
    limits.parse_many,
    (ValueError,),
    "ska vara en gräns som '10 per minute;50 per hour' / must be a rate limit such as "
    "'10 per minute;50 per hour'",
)
_time_zone = _parsed_by(
    zoneinfo.ZoneInfo,
    (zoneinfo.ZoneInfoNotFoundError, ValueError),
    "ska vara en tidszon som 'Europe/Stockholm' / must be a time zone such as 'Europe/Stockholm'",
)


def _count(value: Any) -> Any:
    """A number of things, never a yes/no (pydantic would take True for 1)."""
    if isinstance(value, bool):
        raise ValueError("a whole number is expected, not true/false")
    return value


def _json_object(value: Any) -> Any:
    """MASTER_KEYS_RETIRED from the environment is JSON; a parse error is a field error."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(
                'ska vara ett JSON-objekt som {"1": "<base64>"} / must be a JSON object such as '
                '{"1": "<base64 key>"}'
            ) from exc
    return value


def _base_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("https://", "http://")):
        raise ValueError("ska börja med https:// / must start with https:// (or http://)")
    return value


RateLimit = Annotated[str, AfterValidator(_rate_limit)]


class Settings(BaseSettings):
    """Field name = Flask config key; environment variable = ``SAMVERKAN_`` + the name."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        case_sensitive=True,
        extra="ignore",
        env_ignore_empty=True,
        validate_default=True,
    )

    ENV: Literal["development", "testing", "production"] = "production"
    # Secrets: None means "read or generate the instance file" (development) or "refuse to
    # start" (production); see coordination.config.
    SECRET_KEY: SecretStr | None = None
    DATABASE_URL: str | None = None
    MASTER_KEY: SecretStr | None = None
    # Rotation: the current key's version, and older versions still needed to read old wraps
    # until `flask keys rotate-master` has re-wrapped everything ({"1": "<base64>"}).
    MASTER_KEY_VERSION: int = Field(1, ge=1, le=1_000_000)
    MASTER_KEYS_RETIRED: Annotated[
        dict[int, SecretStr], NoDecode, BeforeValidator(_json_object)
    ] = Field(default_factory=dict)
    RETENTION_DEFAULT_MONTHS: int = Field(12, ge=0, le=600)
    # Where every crypto-shredding is appended (JSON lines, child ids only), outside the
    # database so that a restore can re-apply it; None: instance/shred-log.jsonl (off in tests).
    SHRED_LOG: str | None = None
    # Bob case sync: an enrolment proposal nobody answered this many days after its meeting is
    # declined and crypto-shredded by the nightly job.
    CASE_SYNC_PROPOSAL_DAYS: int = Field(90, ge=1, le=3650)
    AGENDA_DEADLINE_WORKING_DAYS: int = Field(3, ge=0, le=30)
    REQUIRE_2FA: bool = True
    # Assurance (tillitsnivå) a session needs to open records about children (an agency can
    # require more), and what the local log-in counts as, with and without a second factor.
    ASSURANCE_REQUIRED_FOR_RECORDS: Literal["none", "loa2", "loa3", "loa4"] = "none"
    LOCAL_TOTP_ASSURANCE: Literal["none", "loa1", "loa2", "loa3"] = "loa2"
    LOCAL_PASSWORD_ASSURANCE: Literal["none", "loa1", "loa2", "loa3"] = "loa1"  # noqa: S105 - a level
    # SAML single logout: the service provider's signing key and certificate (PEM files, readable
    # by the app only). Without them a SAML session's log-out ends the Samverkan session only.
    SAML_SP_KEY_FILE: str | None = None
    SAML_SP_CERT_FILE: str | None = None
    # Seconds the app waits for an identity provider (discovery, keys, tokens).
    IDENTITY_PROVIDER_TIMEOUT: int = Field(10, ge=1, le=120)
    SESSION_IDLE_MINUTES: int = Field(30, ge=1, le=24 * 60)
    SESSION_MAX_HOURS: int = Field(12, ge=1, le=7 * 24)
    # Log-in attempts per client address (spraying many accounts from one place) and per
    # account (guessing one password); an office behind one NAT shares the first only.
    LOGIN_RATE_LIMIT: RateLimit = "60 per minute;600 per hour"
    LOGIN_ACCOUNT_RATE_LIMIT: RateLimit = "5 per minute;30 per hour"
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host/-Port/-Prefix
    # headers are trusted (Werkzeug's ProxyFix). 0: none, the socket's address is the client's.
    # Set it to exactly the number of proxies, or clients can forge their address.
    PROXY_FIX_HOPS: Annotated[int, BeforeValidator(_count)] = Field(0, ge=0, le=10)
    # The nightly report lists active accounts not logged in for this many days.
    UNUSED_ACCOUNT_DAYS: int = Field(90, ge=1, le=3650)
    RATELIMIT_STORAGE_URI: str = "memory://"
    # Redis for the per-request session check (several app servers); None: the table only.
    # E.g. redis://127.0.0.1:6379/2. SESSION_REDIS_PREFIX keeps deployments sharing one apart.
    SESSION_REDIS_URL: str | None = None
    SESSION_REDIS_PREFIX: str = Field("samverkan:session:", min_length=1, max_length=100)
    # Per API token (Flask-Limiter syntax); calls without a token count per address.
    API_RATE_LIMIT: RateLimit = "600 per minute"
    LOCKOUT_THRESHOLD: int = Field(10, ge=1, le=1000)
    LOCKOUT_MINUTES: int = Field(15, ge=1, le=24 * 60)
    PASSWORD_MIN_LENGTH: int = Field(12, ge=8, le=128)
    BABEL_DEFAULT_LOCALE: Literal["sv", "en"] = "sv"
    BABEL_DEFAULT_TIMEZONE: Annotated[str, AfterValidator(_time_zone)] = "Europe/Stockholm"
    # None: the CSRF token lives as long as the session, which has its own limits.
    WTF_CSRF_TIME_LIMIT: int | None = Field(None, ge=60)
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: Literal["Lax", "Strict"] = "Lax"
    SESSION_COOKIE_NAME: str = Field("samverkan_session", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    # None: secure cookies in production, plain elsewhere.
    SESSION_COOKIE_SECURE: bool | None = None
    MAX_CONTENT_LENGTH: int = Field(2 * 1024 * 1024, ge=64 * 1024, le=1024 * 1024 * 1024)
    # Outgoing e-mail (meetings.notifications.mail). Without SMTP_HOST nothing is e-mailed.
    SMTP_HOST: str | None = None
    # None picks the usual port for SMTP_SECURITY: 587 (starttls), 465 (ssl), 25 (none).
    SMTP_PORT: int | None = Field(None, ge=1, le=65535)
    SMTP_USER: str | None = None
    SMTP_PASSWORD: SecretStr | None = None
    SMTP_SECURITY: Literal["starttls", "ssl", "none"] = "starttls"
    SMTP_FROM: str | None = None
    SMTP_TIMEOUT: float = Field(10, gt=0, le=300)
    BASE_URL: Annotated[str | None, AfterValidator(_base_url)] = None
    SCHEDULER_STANDBY_POLL_SECONDS: float = Field(15, gt=0, le=3600)
    SCHEDULER_OUTBOX_SECONDS: float = Field(60, gt=0, le=3600)
    # The audit sequencer (coordination.audit.sequencer) runs in the leading scheduler and
    # looks for committed, unchained events this often when it found none the last time.
    AUDIT_CHAIN_INTERVAL_SECONDS: float = Field(0.25, gt=0, le=60)
    # GET /readyz fails, and the metric samverkan_audit_chain_alarm is 1, when the oldest
    # event not yet chained is older than this (0: not checked). docs/audit-checkpoints.md.
    AUDIT_CHAIN_ALARM_SECONDS: int = Field(120, ge=0, le=24 * 3600)
    # Seconds a worker process keeps an unwrapped agency key after the transaction that
    # loaded it committed (0: never kept beyond one transaction). docs/secrecy.md.
    KEY_CACHE_SECONDS: float = Field(60, ge=0, le=3600)
    # --- Runtime operations (coordination.ops; docs/operations.md) -------------------------------
    # Database pool of each process (PostgreSQL; SQLite ignores the sizes). Connections are
    # pinged before use, so the first request after a database restart gets a fresh one.
    DATABASE_POOL_SIZE: int = Field(5, ge=1, le=200)
    DATABASE_MAX_OVERFLOW: int = Field(10, ge=0, le=200)
    # Seconds to wait for a free pooled connection before the request fails (503).
    DATABASE_POOL_TIMEOUT: float = Field(10, gt=0, le=600)
    # Seconds after which a pooled connection is replaced (-1: never).
    DATABASE_POOL_RECYCLE: int = Field(1800, ge=-1)
    # Seconds to wait for PostgreSQL to accept a new connection.
    DATABASE_CONNECT_TIMEOUT: int = Field(5, ge=1, le=600)
    # Milliseconds one SQL statement of a web request may run on PostgreSQL (0: no limit).
    # Scheduler jobs and CLI commands are not limited.
    DATABASE_STATEMENT_TIMEOUT_MS: int = Field(30000, ge=0, le=3_600_000)
    # Bearer token Prometheus presents at GET /metrics; without it /metrics answers 404.
    METRICS_TOKEN: SecretStr | None = None
    # The scheduler's PROMETHEUS_MULTIPROC_DIR, when it differs from the web server's: /metrics
    # merges the scheduler's job metrics from there.
    METRICS_SCHEDULER_DIR: str | None = None
    # GET /readyz fails when the scheduler's last job run started longer ago than this (0: the
    # scheduler is not checked).
    READINESS_SCHEDULER_MINUTES: int = Field(10, ge=0, le=24 * 60)
    # --- Structured assessments (minutes.assessments; docs/assessments.md) ----------------------
    # A directory of instrument files (*.toml) to use instead of the shipped neutral instrument,
    # e.g. one holding a municipality's licensed instrument.
    ASSESSMENT_INSTRUMENTS_DIR: str | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over instance/config.py (passed as init values).
        return env_settings, init_settings


class _MappingOnly(Settings):
    """A test's mapping alone: the environment is not read."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


# Never printed: `flask config show` masks them, error messages never quote their values.
SECRET_FIELDS = frozenset(
    {"SECRET_KEY", "MASTER_KEY", "MASTER_KEYS_RETIRED", "SMTP_PASSWORD", "METRICS_TOKEN"}
)
# URLs whose password part is hidden when shown.
URL_FIELDS = frozenset({"DATABASE_URL", "RATELIMIT_STORAGE_URI", "SESSION_REDIS_URL"})


class SettingsError(ValueError):
    """One or more bad settings; ``problems`` holds one line per field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def validate(values: Mapping[str, Any], *, use_environment: bool) -> Settings:
    """The settings from ``values`` (instance file or a test's mapping) and, with
    ``use_environment``, the ``SAMVERKAN_*`` environment on top."""
    known = {key: value for key, value in values.items() if key in Settings.model_fields}
    cls = Settings if use_environment else _MappingOnly
    quoted = _json_quoted_in_environment() if use_environment else []
    try:
        validated = cls(**known)
    except ValidationError as error:
        raise SettingsError(quoted + [_describe(e) for e in error.errors()]) from None
    if quoted:
        raise SettingsError(quoted)
    return validated


def _json_quoted_in_environment() -> list[str]:
    """Before issue 21 values were parsed as JSON and a string had to be quoted
    (SAMVERKAN_SMTP_PASSWORD='"1e3"'). Now the quotes would become part of the value, so a
    value wrapped in double quotes is refused rather than silently changed."""
    problems = []
    for name in Settings.model_fields:
        value = os.environ.get(PREFIX + name, "")
        if name != "MASTER_KEYS_RETIRED" and len(value) >= 2 and value[0] == value[-1] == '"':
            problems.append(
                f"{PREFIX}{name}: ta bort JSON-citattecknen, värdet läses nu som det står / "
                "remove the JSON quotes, the value is now taken as written"
            )
    return problems


def plain_values(settings: Settings) -> dict[str, Any]:
    """The Flask config values: secrets unwrapped, retired keys as {version: base64}."""
    values: dict[str, Any] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif name == "MASTER_KEYS_RETIRED":
            value = {version: key.get_secret_value() for version, key in value.items()}
        values[name] = value
    return values


# Swedish for pydantic's error types; the English is pydantic's own message.
_SWEDISH = {
    "int_parsing": "ska vara ett heltal",
    "int_from_float": "ska vara ett heltal",
    "float_parsing": "ska vara ett tal",
    "bool_parsing": "ska vara true eller false",
    "greater_than_equal": "ska vara minst {ge}",
    "greater_than": "ska vara större än {gt}",
    "less_than_equal": "får vara högst {le}",
    "less_than": "ska vara mindre än {lt}",
    "literal_error": "ska vara ett av: {expected}",
    "string_pattern_mismatch": "har fel form ({pattern})",
    "dict_type": 'ska vara ett JSON-objekt, t.ex. {{"1": "<base64>"}}',
    "json_invalid": 'ska vara ett JSON-objekt, t.ex. {{"1": "<base64>"}}',
    "string_type": "ska vara en text",
    "value_error": "har ett ogiltigt värde",
}


def _describe(error: Mapping[str, Any]) -> str:
    location = error.get("loc") or ("?",)
    name = str(location[0])
    ctx = {key: value for key, value in (error.get("ctx") or {}).items() if key != "error"}
    if error.get("type") == "value_error" and "error" in (error.get("ctx") or {}):
        # Our own validators word their message in both languages.
        return f"{PREFIX}{name}: {error['ctx']['error']}"
    template = _SWEDISH.get(str(error.get("type")), "har ett ogiltigt värde")
    try:
        swedish = template.format(**ctx)
    except (KeyError, IndexError):
        swedish = "har ett ogiltigt värde"
    english = str(error.get("msg", "invalid value"))
    if (
        name not in SECRET_FIELDS | URL_FIELDS
        and "input" in error
        and not isinstance(error["input"], dict)
    ):
        english += f" (got {str(error['input'])[:60]!r})"
    return f"{PREFIX}{name}: {swedish} / {english}"


def shown(name: str, value: Any) -> str:
    """A setting's value as `flask config show` prints it: secrets masked, URL passwords
    hidden."""
    if name in SECRET_FIELDS:
        if not value:
            return "(inte satt / not set)"
        if name == "MASTER_KEYS_RETIRED":
            return "{" + ", ".join(f'"{version}": "********"' for version in value) + "}"
        return "******** (satt / set)"
    if value is None:
        return "(inte satt / not set)"
    if name in URL_FIELDS and "://" in str(value):
        return _hide_url_password(str(value))
    return str(value)


def _hide_url_password(url: str) -> str:
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:********@{host}"
