"""``flask keys rotate-master|rotate-agency|check``, ``flask retention run`` and
``flask audit checkpoint``.

The checkpoint joins coordination's ``audit`` group (``verify``, ``export``) but lives here:
signing needs the installation's key, and only ``secrecy`` holds keys (through
``secrecy.records.sealing``).

Each command is one transaction and appends its audit event in it (actor: the system). Output
names records, agencies and children by id and pseudonym only, never by content or name. Keys
are handled through ``secrecy.records.sealing`` and ``secrecy.records.reveal``; this module never
sees one.
"""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.accounts.services import reseal_totp_secrets
from coordination.audit.log import record_event
from coordination.cli import audit
from coordination.db import count_rows, db_session, today_local, transaction
from coordination.models import Agency
from coordination.numbers import plain_int
from coordination.security import MasterKeyRing
from secrecy import shredlog
from secrecy.backup.restore import RestoreReport, reapply_shredding
from secrecy.disclosure.lapse import sweep_lapsed
from secrecy.models import Record
from secrecy.records import reveal, sealing
from secrecy.retention import apply_retention, retention_erasures
from secrecy.tags import SecrecyTag


def init_app(app: Flask) -> None:
    app.cli.add_command(keys)
    app.cli.add_command(retention)
    app.cli.add_command(secrecy_group)
    # The group is shared by every app in the process; adding the command again replaces it.
    audit.add_command(audit_checkpoint)


keys = AppGroup("keys", help="Agency keys, the master key and checks of the sealed records.")


@keys.command("rotate-master")
def keys_rotate_master() -> None:
    """Re-wrap every agency and system key and every TOTP secret under the current master key.

    Run it after setting the new SAMVERKAN_MASTER_KEY and SAMVERKAN_MASTER_KEY_VERSION, with
    the old key still listed in SAMVERKAN_MASTER_KEYS_RETIRED.
    """
    session = db_session()
    ring = MasterKeyRing.from_config(current_app.config)
    try:
        with transaction(session):
            total = sealing.count_keys(session)
            with click.progressbar(length=total, label="Lindar om nycklar") as bar:
                rotation = sealing.rotate_master(session, bar.update)
            totp_secrets = reseal_totp_secrets(session, ring)
            record_event(
                session,
                None,
                SecrecyTag.KEYS_ROTATE_MASTER,
                object_type="master_key",
                details={
                    "master_version": ring.current_version,
                    "agency_keys": rotation.agency_keys,
                    "system_keys": rotation.system_keys,
                    "totp_secrets": totp_secrets,
                },
            )
    except LookupError as error:
        # A wrap under a master version that is not configured: nothing was changed.
        raise click.ClickException(str(error)) from error
    if rotation.agency_keys + rotation.system_keys + totp_secrets == 0:
        click.echo(
            f"Inget att göra: alla nycklar är redan förseglade med huvudnyckel version "
            f"{ring.current_version}."
        )
        return
    click.echo(
        f"Huvudnyckel version {ring.current_version}: {rotation.agency_keys} myndighetsnycklar, "
        f"{rotation.system_keys} systemnycklar och {totp_secrets} TOTP-hemligheter omförseglade."
    )
    click.echo(
        "Databasen behöver inte längre de äldre huvudnycklarna; behåll dem så länge det finns "
        "säkerhetskopior från före rotationen."
    )


def _find_agency(session: Session, value: str) -> Agency:
    """By id, or else by exact name."""
    agency_id = plain_int(value)
    agency = session.get(Agency, agency_id) if agency_id is not None else None
    if agency is None:
        agency = session.scalars(select(Agency).where(Agency.name == value)).one_or_none()
    if agency is None:
        raise click.ClickException(f"Det finns ingen myndighet med id eller namn {value!r}.")
    return agency


@keys.command("rotate-agency")
@click.argument("agency_ref", metavar="AGENCY")
def keys_rotate_agency(agency_ref: str) -> None:
    """Give AGENCY (id or exact name) a new key version and re-wrap every data key it holds."""
    session = db_session()
    with transaction(session):
        agency = _find_agency(session, agency_ref)
        agency_id, agency_name = agency.id, agency.name
        total = sealing.count_agency_record_keys(session, agency_id)
        with click.progressbar(length=total, label="Lindar om uppgiftsnycklar") as bar:
            version, rewrapped = sealing.rotate_agency_key(session, agency_id, bar.update)
        record_event(
            session,
            None,
            SecrecyTag.KEYS_ROTATE_AGENCY,
            object_type="agency",
            object_ids=[agency_id],
            details={"agency_id": agency_id, "version": version, "rewrapped": rewrapped},
        )
    click.echo(
        f"{agency_name} (id {agency_id}): nyckelversion {version}, "
        f"{rewrapped} uppgiftsnycklar omförseglade."
    )


@keys.command("check")
def keys_check() -> None:
    """Open every unshredded record with its owner's key; exit 1 listing those that fail."""
    session = db_session()
    with transaction(session):
        total = count_rows(session, Record, Record.shredded_at.is_(None))
        with click.progressbar(length=total, label="Kontrollerar uppgifter") as bar:
            checked, problems = reveal.check_owner_keys(session, bar.update)
        record_event(
            session,
            None,
            SecrecyTag.KEYS_CHECK,
            object_type="record",
            object_ids=[problem.record_id for problem in problems],
            details={"checked": checked, "problems": len(problems)},
        )
    if not problems:
        click.echo(f"{checked} uppgifter kontrollerade, inga fel")
        return
    click.echo(f"{checked} uppgifter kontrollerade, {len(problems)} med fel:", err=True)
    for problem in problems:
        click.echo(f"  uppgift {problem.record_id}: {problem.problem}", err=True)
    # After the transaction: the check itself is logged even when it finds problems.
    sys.exit(1)


retention = AppGroup("retention", help="Gallring of closed cases.")


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Show what would be shredded; change nothing.")
def retention_run(dry_run: bool) -> None:
    """Crypto-shred the records of closed cases whose retention period has ended."""
    session = db_session()
    today = today_local()
    with transaction(session):
        report = apply_retention(
            session, today, dry_run=dry_run, erasures=retention_erasures(current_app)
        )
    if not report.children:
        click.echo(f"Inga avslutade ärenden att gallra per {today.isoformat()}.")
        return
    for child in report.children:
        verb = "skulle gallras" if dry_run else "gallrade"
        click.echo(f"  {child.pseudonym}: {child.records} uppgifter {verb}")
    summary = "Torrkörning, inget ändrat" if dry_run else "Gallrat"
    click.echo(
        f"{summary}: {report.children_count} ärenden, {report.records_count} uppgifter "
        f"(per {today.isoformat()})."
    )


@retention.command("sync-log")
def retention_sync_log() -> None:
    """Append every shredded child the shred log (SAMVERKAN_SHRED_LOG) does not list yet."""
    path = shredlog.configured_path()
    if path is None:
        raise click.ClickException(
            "SAMVERKAN_SHRED_LOG är inte satt; det finns ingen gallringslogg."
        )
    session = db_session()
    with transaction(session):
        appended = shredlog.sync(session, path)
    click.echo(f"Gallringsloggen {path}: {appended} barn tillagda.")


@retention.command("reapply-log")
def retention_reapply_log() -> None:
    """Shred again every child the shred log lists that the database holds unshredded, then run
    gallring for today: after a point-in-time recovery or a restore by other tools."""
    path = shredlog.configured_path()
    if path is None:
        raise click.ClickException("SAMVERKAN_SHRED_LOG är inte satt: ingen gallringslogg.")
    session = db_session()
    report = RestoreReport()
    with transaction(session):
        reapply_shredding(session, path, today_local(), report)
        record_event(
            session,
            None,
            SecrecyTag.RETENTION_SHRED,
            object_type="child",
            object_ids=list(report.reapplied),
            details={"reapplied_from_log": len(report.reapplied)},
        )
    click.echo(
        f"Gallringsloggen {path}: {len(report.reapplied)} barn gallrade på nytt; gallring för "
        f"dagen: {report.retention_shredded}."
    )
    if report.reapply_mismatched:
        click.echo(
            "Id som nu är andra barn (lämnade orörda): "
            + ", ".join(map(str, report.reapply_mismatched)),
            err=True,
        )


secrecy_group = AppGroup("secrecy", help="Disclosures and their legal bases.")


@secrecy_group.command("sweep")
def sweep() -> None:
    """End disclosures whose basis has lapsed (consent revoked or expired, age limit passed,
    rule ended) and delete their wrapped keys. Safe to run at any time, and twice."""
    session = db_session()
    with transaction(session):
        report = sweep_lapsed(session, today_local())
    click.echo(
        f"{report.checked} gällande uppgiftslämningar kontrollerade, {report.lapsed} avslutade."
    )


# --- The audit chain's signed checkpoints ------------------------------------------------------


@click.command("checkpoint")
@with_appcontext
def audit_checkpoint() -> None:
    """Sign the chain's current head (sequence number and hash) with the Ed25519 audit key.

    Run it on a schedule (e.g. nightly) and hand `flask audit export` to an outside party:
    an edit that rewrites the whole chain after a checkpoint no longer matches the signature.
    """
    session = db_session()
    try:
        with transaction(session):
            checkpoint = sealing.sign_chain_head(session)
    except ValueError as error:
        raise click.ClickException("Loggen är tom; det finns inget att signera.") from error
    click.echo(
        f"Kontrollpunkt {checkpoint.id}: händelse {checkpoint.seq} ({checkpoint.chain_hash}) "
        f"signerad med publik nyckel {checkpoint.public_key}."
    )
