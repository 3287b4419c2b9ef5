"""``flask backup create TARGET`` and ``flask backup restore BACKUP`` (PostgreSQL only).

Output names files, counts, ids and hashes, never content. Each step prints its time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from coordination.audit.log import record_event
from coordination.backup.pgdump import BackupError, require_postgresql, restore
from coordination.db import db_session, get_database, today_local, transaction
from secrecy.backup.restore import (
    RestoreReport,
    check_keys,
    create_backup,
    load_and_check,
    reapply_shredding,
    record_restore,
    require_empty,
    verify_copy,
)
from secrecy.shredlog import configured_path
from secrecy.tags import SecrecyTag

backup = AppGroup("backup", help="Back up the PostgreSQL database and restore a backup.")


def init_app(app: Flask) -> None:
    app.cli.add_command(backup)


def _step(name: str, seconds: float) -> None:
    click.echo(f"  {name}: {seconds:.2f} s")


@backup.command("create")
@click.argument("target", type=click.Path(path_type=Path))
def backup_create(target: Path) -> None:
    """pg_dump (custom format) of the database and a JSON manifest beside it.

    TARGET is a folder (a time-stamped name is made inside it) or a file name. The manifest
    holds the migration head, the audit chain's head, the master key's version (never a key),
    the app version, the time, the row counts and the dump's SHA-256.
    """
    config = current_app.config
    started = time.monotonic()
    try:
        dump_path, manifest_path, manifest = create_backup(
            get_database().engine,
            config["DATABASE_URL"],
            int(config["MASTER_KEY_VERSION"]),
            target,
            _step,
        )
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    session = db_session()
    with transaction(session):
        record_event(
            session,
            None,
            SecrecyTag.BACKUP_CREATE,
            object_type="backup",
            details={
                "audit_seq": manifest.audit.seq,
                "sha256": manifest.dump.sha256,
                "bytes": manifest.dump.bytes,
            },
        )
    click.echo(f"Säkerhetskopia: {dump_path} ({manifest.dump.bytes} byte)")
    click.echo(f"Manifest:       {manifest_path}")
    click.echo(
        f"Loggens huvud {manifest.audit.seq}, migrering {manifest.migration_head}, "
        f"huvudnyckel version {manifest.master_key['configured_version']}; "
        f"totalt {time.monotonic() - started:.2f} s."
    )


@backup.command("restore")
@click.argument("backup_path", metavar="BACKUP", type=click.Path(exists=True, path_type=Path))
def backup_restore(backup_path: Path) -> None:
    """Restore BACKUP (the .dump or its manifest) into the configured, EMPTY database.

    Then, on the copy: the dump's checksum, the migration head, the row counts and the audit
    chain's head against the manifest, the audit chain and its checkpoints (flask audit
    verify), the shred log and gallring re-applied, every record opened (flask keys check).
    Exits 1 if anything differs.
    """
    config = current_app.config
    database = get_database()
    started = time.monotonic()
    try:
        url = require_postgresql(config["DATABASE_URL"])
        mark = time.monotonic()
        dump_path, manifest = load_and_check(backup_path)
        _step("checksum", time.monotonic() - mark)
        require_empty(database.engine, str(url.database))
        mark = time.monotonic()
        restore(url, dump_path)
        _step("pg_restore", time.monotonic() - mark)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    database.engine.dispose()
    report = RestoreReport()
    session = db_session()
    mark = time.monotonic()
    with transaction(session):
        verify_copy(session, manifest, report)
    _step("audit verify and comparison", time.monotonic() - mark)
    shred_log = configured_path()
    if shred_log is None or not shred_log.exists():
        click.echo(
            f"Varning: ingen gallringslogg ({shred_log or 'SAMVERKAN_SHRED_LOG inte satt'}); "
            "gallringar efter säkerhetskopian kan inte göras om. Peka SAMVERKAN_SHRED_LOG på "
            "den aktuella loggen och kör flask retention reapply-log.",
            err=True,
        )
    mark = time.monotonic()
    with transaction(session):
        reapply_shredding(session, shred_log, today_local(), report)
        record_restore(session, manifest, report)
    _step("shred log and gallring", time.monotonic() - mark)
    mark = time.monotonic()
    with transaction(session):
        check_keys(session, report)
    _step("keys check", time.monotonic() - mark)
    click.echo(
        f"Återläst från {dump_path.name} (skapad {manifest.created_at}): "
        f"{report.audit_checked} logghändelser och {report.records_checked} uppgifter "
        "kontrollerade."
    )
    click.echo(
        f"Gallringsloggen: {len(report.reapplied)} barn gallrade på nytt"
        + (f" (id {', '.join(map(str, report.reapplied))})" if report.reapplied else "")
        + f"; gallring för dagen: {report.retention_shredded}."
    )
    if report.reapply_mismatched:
        click.echo(
            "Gallringsloggen nämner id som nu är andra barn (lämnade orörda): "
            + ", ".join(map(str, report.reapply_mismatched)),
            err=True,
        )
    click.echo(f"Totalt {time.monotonic() - started:.2f} s.")
    if report.problems:
        click.echo(f"Återläsningen skiljer sig från manifestet ({len(report.problems)}):", err=True)
        for problem in report.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    click.echo("Allt stämmer med manifestet.")
