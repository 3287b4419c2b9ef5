"""Creating a backup and restoring one into an empty PostgreSQL database, with its checks.

Create: one REPEATABLE READ, read-only transaction exports its snapshot; pg_dump dumps exactly
that snapshot while the manifest (migration head, audit head, row counts, master key versions)
is read in it, so the two describe the same moment.

Restore: checksum, an empty target, pg_restore in one transaction, then on the copy the same
checks as ``flask audit verify`` and ``flask keys check``, the manifest's migration head, audit
head and row counts compared, and finally the shred log re-applied and gallring run for the
day (``secrecy.shredlog``), so a restored older backup does not bring shredded children back.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from coordination.audit.checkpoints import verify_checkpoints
from coordination.audit.log import record_event
from coordination.audit.sequencer import chain_events
from coordination.audit.verify import verify_log
from coordination.backup import manifest as manifests
from coordination.backup import pgdump
from coordination.backup.manifest import Manifest
from coordination.backup.pgdump import BackupError
from coordination.db import utcnow
from coordination.models import Child, ChildStatus, CloseReason, bump_key_generation
from secrecy import shredlog
from secrecy.records import reveal, sealing
from secrecy.retention import apply_retention, retention_erasures
from secrecy.tags import SecrecyTag

Step = Callable[[str, float], None]


def _no_step(_name: str, _seconds: float) -> None:
    return None


def _master_versions(connection: Connection) -> list[int]:
    rows = connection.execute(
        text("SELECT master_version FROM agency_keys UNION SELECT master_version FROM system_keys")
    )
    return sorted(int(row[0]) for row in rows)


def create_backup(
    engine: Engine, database_url: str, master_version: int, target: Path, step: Step = _no_step
) -> tuple[Path, Path, Manifest]:
    url = pgdump.require_postgresql(database_url)
    now = utcnow()
    dump_path, manifest_path = manifests.paths_for(target, now)
    started = time.monotonic()
    # Events committed and not yet chained join the chain first, so that the manifest's audit
    # head covers everything committed before the backup (safe beside a running sequencer).
    with Session(engine) as session, session.begin():
        chain_events(session)
    with engine.connect() as plain:
        connection = plain.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            connection.execute(text("SET TRANSACTION READ ONLY"))
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            state = manifests.database_state(connection)
            versions = _master_versions(connection)
            step("manifest", time.monotonic() - started)
            started = time.monotonic()
            try:
                pgdump.dump(url, dump_path, str(snapshot))
            except BaseException:
                dump_path.unlink(missing_ok=True)
                raise
    step("pg_dump", time.monotonic() - started)
    started = time.monotonic()
    manifest = Manifest(
        created_at=now.isoformat(),
        app_version=manifests.app_version(),
        database=str(url.database),
        migration_head=state["migration_head"],
        audit=state["audit"],
        master_key={"configured_version": master_version, "versions_in_use": versions},
        dump=manifests.DumpFile(
            dump_path.name, pgdump.sha256_of(dump_path), dump_path.stat().st_size
        ),
        row_counts=state["row_counts"],
    )
    manifest.write(manifest_path)
    step("sha256", time.monotonic() - started)
    return dump_path, manifest_path, manifest


def load_and_check(backup: Path) -> tuple[Path, Manifest]:
    """The dump and its manifest, the dump's SHA-256 checked against the manifest."""
    dump_path, manifest_path = manifests.locate(backup)
    manifest = Manifest.read(manifest_path)
    actual = pgdump.sha256_of(dump_path)
    if actual != manifest.dump.sha256:
        raise BackupError(
            f"Kontrollsumman för {dump_path} stämmer inte med manifestet (SHA-256 {actual}, "
            f"väntat {manifest.dump.sha256}): filen är skadad eller utbytt. / Checksum mismatch."
        )
    return dump_path, manifest


def require_empty(engine: Engine, database: str) -> None:
    with engine.connect() as connection:
        tables = pgdump.user_tables(connection)
    if tables:
        raise BackupError(
            f"Databasen {database} är inte tom ({len(tables)} tabeller, t.ex. {tables[0]}). "
            "Återläs bara till en tom databas: skapa en ny (createdb) och peka "
            "SAMVERKAN_DATABASE_URL på den. / The target database is not empty."
        )


@dataclass
class RestoreReport:
    problems: list[str] = field(default_factory=list)
    audit_checked: int = 0
    records_checked: int = 0
    reapplied: tuple[int, ...] = ()
    reapply_absent: int = 0
    reapply_mismatched: tuple[int, ...] = ()
    retention_shredded: int = 0


def verify_copy(session: Session, manifest: Manifest, report: RestoreReport) -> None:
    """What ``flask audit verify`` checks, plus the manifest's heads and row counts."""
    connection = session.connection()
    head = manifests.migration_head(connection)
    if head != manifest.migration_head:
        report.problems.append(
            f"migreringsversion {head}, manifestet säger {manifest.migration_head}"
        )
    counts = pgdump.row_counts(connection)
    for table in sorted(set(counts) | set(manifest.row_counts)):
        if counts.get(table) != manifest.row_counts.get(table):
            report.problems.append(
                f"tabell {table}: {counts.get(table)} rader, manifestet säger "
                f"{manifest.row_counts.get(table)}"
            )
    log = verify_log(session)
    report.audit_checked = log.chain.checked
    if not log.chain.ok:
        report.problems.append(
            f"loggkedjan är bruten vid händelse {log.chain.first_broken_seq}: {log.chain.problem}"
        )
    if not log.index.ok:
        report.problems.append(f"objektindexet stämmer inte vid {log.index.first_broken_seq}")
    checkpoints = verify_checkpoints(session)
    if not checkpoints.ok:
        report.problems.append(
            f"kontrollpunkt {checkpoints.first_bad_id} är ogiltig: {checkpoints.problem}"
        )
    audit = manifests.audit_head(connection)
    if audit != manifest.audit:
        report.problems.append(
            f"loggens huvud är händelse {audit.seq} ({audit.hash[:12]}…), manifestet säger "
            f"{manifest.audit.seq} ({manifest.audit.hash[:12]}…)"
        )


def reapply_shredding(
    session: Session, shred_log: Path | None, today: dt.date, report: RestoreReport
) -> None:
    """The shred log, then gallring for ``today``; one audit event for the restore."""
    erasures = retention_erasures(current_app)
    if shred_log is not None:
        reapplied = reapply(session, shred_log, today)
        report.reapplied = reapplied.children
        if reapplied.children:
            for erase in erasures:
                erase(session, reapplied.children)
        report.reapply_absent = reapplied.absent
        report.reapply_mismatched = reapplied.mismatched
    report.retention_shredded = apply_retention(
        session, today, dry_run=False, erasures=erasures
    ).children_count


def check_keys(session: Session, report: RestoreReport) -> None:
    checked, problems = reveal.check_owner_keys(session)
    report.records_checked = checked
    for problem in problems:
        report.problems.append(f"uppgift {problem.record_id} går inte att öppna: {problem.problem}")


def record_restore(session: Session, manifest: Manifest, report: RestoreReport) -> None:
    # Workers that cached keys of the database this one replaces must not use them here.
    bump_key_generation(session)
    record_event(
        session,
        None,
        SecrecyTag.BACKUP_RESTORE,
        object_type="child",
        object_ids=list(report.reapplied),
        details={
            "backup_created_at": manifest.created_at,
            "backup_audit_seq": manifest.audit.seq,
            "reapplied": len(report.reapplied),
            "retention_shredded": report.retention_shredded,
            "problems": len(report.problems),
        },
    )


@dataclass(frozen=True)
class Reapplied:
    children: tuple[int, ...]
    already: int
    absent: int
    mismatched: tuple[int, ...]


def reapply(session: Session, path: Path, today: dt.date) -> Reapplied:
    """Shred again every logged child that the (restored) database still holds unshredded.

    An open case is closed first (it was shredded in the timeline the log comes from). A
    child the database does not know (enrolled after the backup) is counted as absent; one
    whose pseudonym does not match is left alone and reported. Flushes, never commits.
    """
    shredded: list[int] = []
    already = absent = 0
    mismatched: list[int] = []
    seen: set[int] = set()
    for entry in shredlog.read(path):
        child_id = entry["child_id"]
        if child_id in seen:
            continue
        seen.add(child_id)
        child = session.get(Child, child_id, with_for_update=True)
        if child is None:
            absent += 1
            continue
        if shredlog.pseudonym_hash(child.pseudonym) != entry["pseudonym_sha256"]:
            mismatched.append(child_id)
            continue
        if child.status is ChildStatus.SHREDDED:
            already += 1
            continue
        if child.status is not ChildStatus.CLOSED:
            child.status = ChildStatus.CLOSED
            child.closed_on = today
            child.close_reason = CloseReason.OTHER
        sealing.shred_child(session, child)
        shredded.append(child_id)
    # Already in the log: not appended a second time.
    session.info.pop(shredlog.PENDING, None)
    return Reapplied(tuple(shredded), already, absent, tuple(mismatched))
