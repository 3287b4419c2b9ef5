"""Shared by the bench scripts: where their files live, the bench installation's settings, and
the app that talks to the bench database.

The bench database is a PostgreSQL database of its own (``samverkan_bench`` by default). Its
secret key and master key are generated once and kept in ``bench/out/<database>/settings.json``
next to the results, so the generator, gunicorn and the measurements all open the same sealed
records.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
VENV_BIN = Path(sys.executable).parent
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/samverkan_bench"
# Every bench user's password (fictitious people in a fictitious region).
PASSWORD = "bench-region-password-2026"  # noqa: S105 - a fixed password of generated test users

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


@dataclass
class BenchSettings:
    database_url: str
    secret_key: str
    master_key: str

    @property
    def database_name(self) -> str:
        return self.database_url.rsplit("/", 1)[-1].split("?", 1)[0]

    @property
    def folder(self) -> Path:
        return OUT / self.database_name

    def environment(self) -> dict[str, str]:
        """The SAMVERKAN_* variables of a production-mode process on this database. Cookies are
        not Secure-only (the load runs over plain HTTP on loopback) and two-factor is off
        (the load generator logs in with a password); everything else is production."""
        return {
            "SAMVERKAN_ENV": "production",
            "SAMVERKAN_DATABASE_URL": self.database_url,
            "SAMVERKAN_SECRET_KEY": self.secret_key,
            "SAMVERKAN_MASTER_KEY": self.master_key,
            "SAMVERKAN_REQUIRE_2FA": "false",
            "SAMVERKAN_SESSION_COOKIE_SECURE": "false",
            "SAMVERKAN_LOGIN_RATE_LIMIT": "1000 per minute",
            "SAMVERKAN_LOGIN_ACCOUNT_RATE_LIMIT": "1000 per minute",
            "SAMVERKAN_API_RATE_LIMIT": "1000000 per minute",
            "SAMVERKAN_INSTANCE_PATH": str(self.folder / "instance"),
        }


def load_settings(database_url: str) -> BenchSettings:
    """The settings of this bench database, created on first use."""
    name = database_url.rsplit("/", 1)[-1].split("?", 1)[0]
    path = OUT / name / "settings.json"
    if path.exists():
        data: dict[str, Any] = json.loads(path.read_text())
        settings = BenchSettings(**data)
        settings.database_url = database_url
        return settings
    settings = BenchSettings(
        database_url=database_url,
        secret_key=secrets.token_urlsafe(48),
        master_key=base64.b64encode(secrets.token_bytes(32)).decode(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "instance").mkdir(exist_ok=True)
    path.write_text(json.dumps(asdict(settings), indent=2))
    path.chmod(0o600)
    return settings


def apply_environment(settings: BenchSettings) -> None:
    os.environ.update(settings.environment())


def run_flask(
    settings: BenchSettings, *arguments: str
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """``flask --app app ARGUMENTS`` as its own production-mode process on this database: the
    seconds it took and what it answered (its output captured, a failure not raised)."""
    env = {**os.environ, **settings.environment()}
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
        [str(VENV_BIN / "flask"), "--app", "app", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return time.perf_counter() - started, result


def make_app(settings: BenchSettings) -> Any:
    """The real application, configured from the environment like gunicorn's workers."""
    apply_environment(settings)
    from app import create_app

    return create_app()


def ensure_database(database_url: str) -> None:
    """Create the bench database if it does not exist yet (never drops anything)."""
    from sqlalchemy import create_engine, text

    base, name = database_url.rsplit("/", 1)
    engine = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def drop_database(database_url: str) -> None:
    from sqlalchemy import create_engine, text

    base, name = database_url.rsplit("/", 1)
    if not name.startswith("samverkan_bench"):
        raise SystemExit(
            "refusing to drop a database whose name does not start with samverkan_bench"
        )
    engine = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def migrate(app: Any) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from coordination.db import get_database

    config = AlembicConfig(str(ROOT / "alembic.ini"))
    with get_database(app).engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
