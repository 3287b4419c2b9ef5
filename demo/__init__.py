"""The demo municipality Exempelstad and ``flask demo``.

Nothing in the product imports this package (an import-linter contract): the loaders write
through the same services a user's requests use, layer by layer, so the demo's audit log is as
real as production's. Running it twice changes nothing.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from coordination.audit.sequencer import chain_events
from coordination.db import db_session, transaction
from demo.assessments import load_assessments_demo
from demo.coordination import load_demo
from demo.logreview import load_log_review_demo
from demo.meetings import load_meetings_demo
from demo.minutes import load_minutes_demo
from demo.network import load_network_demo
from demo.requests import load_requests_demo
from demo.secrecy import load_secrecy_demo

# Upper layers' parts, in layer order: children, records and requests, meetings (with the
# network meeting), minutes, structured assessments; then the log reviews of the months they
# filled.
LOADERS = (
    load_secrecy_demo,
    load_requests_demo,
    load_meetings_demo,
    load_network_demo,
    load_minutes_demo,
    load_assessments_demo,
    load_log_review_demo,
)


def init_app(app: Flask) -> None:
    app.cli.add_command(demo)


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Load the fictitious municipality Exempelstad (running it twice changes nothing)."""
    session = db_session()
    with transaction(session):
        created, logins = load_demo(session)
        if created:
            for loader in LOADERS:
                loader(session)
        # The scheduler's sequencer would chain the demo's events moments after the commit;
        # chained here, a fresh demo's log review and `flask audit verify` show them at once.
        chain_events(session)
    click.echo("Demodata inläst." if created else "Demodata fanns redan; inget ändrades.")
    click.echo(f"Demoinloggningar (lösenord för alla: {logins.password}):")
    for email, description in logins.accounts:
        click.echo(f"  {email:<40} {description}")
