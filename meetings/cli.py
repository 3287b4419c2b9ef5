"""``flask scheduler``: run the job scheduler, list its jobs, or run one job now."""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from coordination.scheduler import SchedulerRunner, job_specs, leader_lock_for, run_job
from meetings.notifications.mail import MailConfigurationError, MailSettings

scheduler_group = AppGroup(
    "scheduler", help="The job scheduler: reminders, e-mail, nightly sweeps."
)


def init_app(app: Flask) -> None:
    app.cli.add_command(scheduler_group)


def _check_mail_settings(app: Flask) -> None:
    try:
        MailSettings.from_config(app.config)
    except MailConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc


@scheduler_group.command("run")
def run() -> None:
    """Run the scheduler until stopped (SIGTERM or Ctrl-C). With PostgreSQL, a second one
    waits as a standby and takes over if the first one stops."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # APScheduler logs every start and end of every run; ours logs one line per run with work.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    _check_mail_settings(app)
    runner = SchedulerRunner(
        app,
        leader_lock_for(app.config["DATABASE_URL"]),
        poll_seconds=float(app.config.get("SCHEDULER_STANDBY_POLL_SECONDS") or 15),
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        click.echo(f"Schemaläggaren stoppas ({signal.Signals(signum).name}) …", err=True)
        runner.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runner.run()


@scheduler_group.command("jobs")
def list_jobs() -> None:
    """List the scheduled jobs and when they run."""
    for spec in job_specs(current_app._get_current_object()):  # type: ignore[attr-defined]
        click.echo(f"{spec.id:45} {spec.trigger}")


@scheduler_group.command("run-job")
@click.argument("job_id")
def run_one(job_id: str) -> None:
    """Run one job now, once (it is an idempotent sweep, safe next to a running scheduler)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    specs = {spec.id: spec for spec in job_specs(app)}
    if job_id not in specs:
        raise click.BadParameter(
            f"okänt jobb; välj bland: {', '.join(sorted(specs))}", param_hint="JOB_ID"
        )
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    outcome = run_job(app, specs[job_id])
    click.echo(f"{job_id}: {outcome}")
    if outcome != "ok":
        sys.exit(1)
