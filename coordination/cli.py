"""``flask create-admin``, ``flask audit verify``, ``flask audit export``, ``flask config show``
and ``flask scheduler`` (run the job scheduler, list its jobs, or run one job now).

``flask audit checkpoint`` needs the signing key, so it lives in ``secrecy.cli`` and is
added to the ``audit`` group from there.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from types import FrameType

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from coordination.admin.services import create_agency, create_user
from coordination.audit.checkpoints import export_checkpoints, verify_checkpoints
from coordination.audit.log import AuditTag, record_event
from coordination.audit.sequencer import UnchainedTail, chain_events, sequencer_for
from coordination.audit.verify import verify_log
from coordination.db import db_session, transaction, utcnow
from coordination.errors import ServiceError
from coordination.models import Agency, AgencyKind, Role
from coordination.registry import SCHEDULER_CHECKS, StartupCheck
from coordination.scheduler import SchedulerRunner, job_specs, leader_lock_for, run_job
from coordination.settings import Settings, shown


def init_app(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(audit)
    app.cli.add_command(scheduler_group)
    app.cli.add_command(config_group)


@click.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", "display_name", prompt="Namn")
@click.option("--agency", "agency_name", prompt="Myndighet (skapas om den saknas)")
@click.option(
    "--agency-kind",
    type=click.Choice([k.value for k in AgencyKind]),
    default=AgencyKind.OTHER.value,
    show_default=True,
)
@click.password_option()
@with_appcontext
def create_admin(
    email: str, display_name: str, agency_name: str, agency_kind: str, password: str
) -> None:
    """Create an administrator (and their agency) without logging in."""
    session = db_session()
    try:
        with transaction(session):
            agency = session.scalars(select(Agency).where(Agency.name == agency_name)).one_or_none()
            if agency is None:
                agency = create_agency(
                    session, None, kind=AgencyKind(agency_kind), name=agency_name
                )
            create_user(
                session,
                None,
                agency=agency,
                email=email,
                display_name=display_name,
                password=password,
                roles={Role.ADMIN},
                min_password_length=current_app.config["PASSWORD_MIN_LENGTH"],
            )
    except ServiceError as error:
        raise click.ClickException(str(error.message)) from error
    click.echo(f"Administratören {email} är skapad.")


audit = AppGroup("audit", help="The audit log.")


@audit.command("chain")
def audit_chain() -> None:
    """Link every committed event not yet chained into the hash chain now (what the
    scheduler's sequencer does continuously); safe beside a running scheduler."""
    session = db_session()
    with transaction(session):
        chained = chain_events(session)
    click.echo(f"{chained} händelser länkades in i loggkedjan.")


@audit.command("verify")
@click.option(
    "--chain-first",
    is_flag=True,
    help="Link the events not yet chained first (as `flask audit chain`), then verify.",
)
def audit_verify(chain_first: bool) -> None:
    """Recompute the hash chain, its object index and every signed checkpoint; exit 1 naming
    the first broken event or checkpoint. Events not yet chained are reported apart (not a
    fault); older than AUDIT_CHAIN_ALARM_SECONDS, they are a warning on standard error."""
    session = db_session()
    if chain_first:
        with transaction(session):
            chain_events(session)
    log = verify_log(session)
    result, index = log.chain, log.index
    failed = False
    if result.ok:
        click.echo(f"Loggkedjan är hel: {result.checked} händelser kontrollerade.")
    else:
        click.echo(
            f"Loggkedjan är bruten vid händelse {result.first_broken_seq}: {result.problem} "
            f"({result.checked} händelser före den är hela).",
            err=True,
        )
        failed = True
    if not index.ok:
        click.echo(
            f"Objektindexet stämmer inte vid händelse {index.first_broken_seq}: {index.problem}.",
            err=True,
        )
        failed = True
    _report_unchained(log.unchained)
    checkpoints = verify_checkpoints(session)
    if checkpoints.ok:
        click.echo(f"Kontrollpunkter: {checkpoints.checked} kontrollerade, alla giltiga.")
    else:
        click.echo(
            f"Kontrollpunkt {checkpoints.first_bad_id} är ogiltig: {checkpoints.problem} "
            f"({checkpoints.checked} kontrollpunkter före den är giltiga).",
            err=True,
        )
        failed = True
    for key in checkpoints.public_keys:
        click.echo(f"  signerad med publik nyckel {key}")
    if failed:
        sys.exit(1)


def _report_unchained(tail: UnchainedTail) -> None:
    if tail.count == 0:
        return
    age = tail.age_seconds(utcnow())
    click.echo(
        f"Ännu inte kedjade: {tail.count} händelser (den äldsta {age:.1f} s gammal); "
        "schemaläggarens sekvenserare länkar in dem."
    )
    limit = int(current_app.config.get("AUDIT_CHAIN_ALARM_SECONDS") or 0)
    if limit and age > limit:
        click.echo(
            f"Varning: den äldsta okedjade händelsen är äldre än {limit} s. Kör schemaläggaren "
            "sekvenseraren? (flask audit chain länkar in dem nu.)",
            err=True,
        )


@audit.command("export")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def audit_export(path: Path | None) -> None:
    """Write the signed checkpoints and their public keys as JSON to PATH (or standard output).

    An outside party (the archive, the data protection officer) keeps the first export and
    pins its public key: later exports are checked against that key, not the one stored in
    the database beside the signatures, so a swapped-in key cannot pass unnoticed.
    """
    session = db_session()
    with transaction(session):
        exported = export_checkpoints(session)
        record_event(
            session,
            None,
            AuditTag.AUDIT_CHECKPOINTS_EXPORT,
            details={"checkpoints": len(exported["checkpoints"])},
        )
    text = json.dumps(exported, indent=2, sort_keys=True) + "\n"
    if path is None:
        click.echo(text, nl=False)
        return
    path.write_text(text, encoding="utf-8")
    click.echo(f"{len(exported['checkpoints'])} kontrollpunkter skrivna till {path}.", err=True)


config_group = AppGroup("config", help="The effective settings.")


@config_group.command("show")
def config_show() -> None:
    """Print every SAMVERKAN_* setting in effect and where it came from; secrets masked."""
    config = current_app.config
    sources = config.get("SETTING_SOURCES", {})
    width = max(len(name) for name in Settings.model_fields) + len("SAMVERKAN_")
    for name in Settings.model_fields:
        source = sources.get(name, "default")
        click.echo(f"SAMVERKAN_{name:<{width - 10}} = {shown(name, config.get(name))}  [{source}]")


# --- The job scheduler --------------------------------------------------------------------------

scheduler_group = AppGroup(
    "scheduler", help="The job scheduler: reminders, e-mail, nightly sweeps."
)


def register_scheduler_check(app: Flask, check: StartupCheck) -> None:
    """Upper layers refuse to start the scheduler with settings their jobs cannot use (the
    mail settings): ``check(app)`` raises ``click.ClickException`` with the reason."""
    SCHEDULER_CHECKS.add(app, check)


@scheduler_group.command("run")
def scheduler_run() -> None:
    """Run the scheduler until stopped (SIGTERM or Ctrl-C). With PostgreSQL, a second one
    waits as a standby and takes over if the first one stops."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    # Logging is set up by create_app (coordination.ops.logs): JSON lines on stderr.
    for check in SCHEDULER_CHECKS.of(app):
        check(app)
    runner = SchedulerRunner(
        app,
        leader_lock_for(app.config["DATABASE_URL"]),
        poll_seconds=float(app.config.get("SCHEDULER_STANDBY_POLL_SECONDS") or 15),
        sequencer=sequencer_for(app),
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        click.echo(f"Schemaläggaren stoppas ({signal.Signals(signum).name}) …", err=True)
        runner.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runner.run()


@scheduler_group.command("jobs")
def scheduler_jobs() -> None:
    """List the scheduled jobs and when they run."""
    for spec in job_specs(current_app._get_current_object()):  # type: ignore[attr-defined]
        click.echo(f"{spec.id:45} {spec.trigger}")


@scheduler_group.command("run-job")
@click.argument("job_id")
def scheduler_run_job(job_id: str) -> None:
    """Run one job now, once (it is an idempotent sweep, safe next to a running scheduler)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    specs = {spec.id: spec for spec in job_specs(app)}
    if job_id not in specs:
        raise click.BadParameter(
            f"okänt jobb; välj bland: {', '.join(sorted(specs))}", param_hint="JOB_ID"
        )
    outcome = run_job(app, specs[job_id])
    click.echo(f"{job_id}: {outcome}")
    if outcome != "ok":
        sys.exit(1)
