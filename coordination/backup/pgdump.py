"""pg_dump and pg_restore for ``flask backup``: the connection settings from the SQLAlchemy URL
(password through ``PGPASSWORD``, never on the command line), an emptiness check and row counts.

PostgreSQL only: :func:`require_postgresql` refuses anything else with a clear message.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import URL, make_url


class BackupError(RuntimeError):
    """The backup or restore stopped; the message says why and what to do."""


def require_postgresql(database_url: str) -> URL:
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise BackupError(
            "Säkerhetskopiering och återläsning finns bara för PostgreSQL; den här installationen "
            f"använder {url.get_backend_name()}. / Backup and restore need PostgreSQL."
        )
    return url


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} saknas: installera PostgreSQL-klienten (Debian: postgresql-client) i "
            f"samma version som servern eller nyare. / {name} is missing."
        )
    return path


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """Command-line options and environment for the libpq tools."""
    args = ["--dbname", str(url.database or "")]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    for key, value in url.query.items():
        if key in {"sslmode", "sslrootcert", "sslcert", "sslkey"} and isinstance(value, str):
            env["PG" + key.upper()] = value
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    completed = subprocess.run(  # noqa: S603 - fixed tool, no shell
        command, env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        # The tools' messages name tables and options, not data.
        raise BackupError(
            f"{Path(command[0]).name} misslyckades (status {completed.returncode}):\n"
            + completed.stderr.strip()
        )


def dump(url: URL, target: Path, snapshot: str | None = None) -> None:
    """pg_dump in custom format (compressed; pg_restore reads it table by table), into a new
    file readable by its owner only (the dump holds ciphertext and wrapped keys)."""
    args, env = _libpq(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    command = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
    if snapshot:
        command.append(f"--snapshot={snapshot}")
    _run([*command, "--file", str(target), *args], env)


def restore(url: URL, source: Path) -> None:
    """pg_restore into an (empty) database, all or nothing."""
    args, env = _libpq(url)
    command = [
        _tool("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
    ]
    _run([*command, *args, str(source)], env)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def user_tables(connection: Connection) -> list[str]:
    """The tables outside PostgreSQL's own schemas, as schema.name."""
    rows = connection.execute(
        text(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
            "AND table_type = 'BASE TABLE' ORDER BY 1"
        )
    )
    return [str(row[0]) for row in rows]


def row_counts(connection: Connection) -> dict[str, int]:
    """Exact row counts of every user table (the restore drill compares them)."""
    counts = {}
    for table in user_tables(connection):
        schema, name = table.split(".", 1)
        quoted = f'"{schema}"."{name}"'
        counts[table] = int(connection.execute(text(f"SELECT count(*) FROM {quoted}")).scalar_one())  # noqa: S608
    return counts
