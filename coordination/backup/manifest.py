"""The manifest beside every backup: what the dump holds, read in the dump's own snapshot.

``<name>.dump`` (pg_dump custom format) and ``<name>.manifest.json``::

    {"format": 1, "created_at": "...", "app_version": "0.1.0", "database": "samverkan",
     "migration_head": "178d68aa082a", "audit": {"seq": 1234, "hash": "..."},
     "master_key": {"configured_version": 2, "versions_in_use": [2]},
     "dump": {"file": "x.dump", "sha256": "...", "bytes": 123}, "row_counts": {...}}

Never a key: only the master key's version number, so the operator knows which key from the
offline store opens the copy.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from coordination.backup.pgdump import BackupError, row_counts

FORMAT = 1
MANIFEST_SUFFIX = ".manifest.json"
DUMP_SUFFIX = ".dump"


@dataclass(frozen=True)
class AuditHead:
    seq: int
    hash: str


@dataclass(frozen=True)
class DumpFile:
    file: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class Manifest:
    created_at: str
    app_version: str
    database: str
    migration_head: str | None
    audit: AuditHead
    master_key: dict[str, Any]
    dump: DumpFile
    row_counts: dict[str, int] = field(default_factory=dict)
    format: int = FORMAT

    def write(self, path: Path) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text("utf-8"))
            if data.get("format") != FORMAT:
                raise BackupError(f"{path}: okänt manifestformat {data.get('format')!r}.")
            return cls(
                created_at=str(data["created_at"]),
                app_version=str(data["app_version"]),
                database=str(data["database"]),
                migration_head=data["migration_head"],
                audit=AuditHead(int(data["audit"]["seq"]), str(data["audit"]["hash"])),
                master_key=dict(data["master_key"]),
                dump=DumpFile(**data["dump"]),
                row_counts={str(k): int(v) for k, v in data.get("row_counts", {}).items()},
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"Manifestet {path} går inte att läsa: {exc}") from exc


def app_version() -> str:
    try:
        return metadata.version("samverkan")
    except metadata.PackageNotFoundError:
        return "unknown"


def migration_head(connection: Connection) -> str | None:
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return ",".join(sorted(str(r) for r in rows)) or None


def audit_head(connection: Connection) -> AuditHead:
    row = connection.execute(text("SELECT seq, hash FROM audit_chain_head WHERE id = 1")).first()
    if row is None:
        return AuditHead(0, "")
    return AuditHead(int(row[0]), str(row[1]))


def database_state(connection: Connection) -> dict[str, Any]:
    """The parts of the manifest read from the database (in the caller's snapshot)."""
    return {
        "migration_head": migration_head(connection),
        "audit": audit_head(connection),
        "row_counts": row_counts(connection),
    }


def paths_for(target: Path, now: dt.datetime) -> tuple[Path, Path]:
    """(dump, manifest) for ``flask backup create TARGET``: a name ending in ``.dump`` is the
    dump's file; anything else is a folder (created if missing) that gets a time-stamped name."""
    if target.suffix == DUMP_SUFFIX and not target.is_dir():
        dump = target
    else:
        target.mkdir(parents=True, exist_ok=True)
        dump = target / f"samverkan-{now.strftime('%Y%m%dT%H%M%SZ')}{DUMP_SUFFIX}"
    manifest = dump.with_name(dump.name.removesuffix(DUMP_SUFFIX) + MANIFEST_SUFFIX)
    if dump.exists() or manifest.exists():
        raise BackupError(f"{dump} eller {manifest} finns redan; välj ett annat namn.")
    return dump, manifest


def locate(backup: Path) -> tuple[Path, Path]:
    """(dump, manifest) from either file's path."""
    name = backup.name
    if name.endswith(MANIFEST_SUFFIX):
        manifest = backup
        dump = backup.with_name(name.removesuffix(MANIFEST_SUFFIX) + DUMP_SUFFIX)
    else:
        dump = backup
        manifest = backup.with_name(name.removesuffix(DUMP_SUFFIX) + MANIFEST_SUFFIX)
    for path in (dump, manifest):
        if not path.is_file():
            raise BackupError(f"{path} saknas; en säkerhetskopia är en .dump och dess manifest.")
    return dump, manifest
