"""``flask create-admin``, ``flask demo`` and ``flask audit verify``."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit import verify_chain
from coordination.db import db_session, transaction
from coordination.demo import load_demo
from coordination.models import Agency, AgencyKind, Role
from coordination.services import ServiceError, create_agency, create_user

DEMO_LOADERS = "samverkan.demo_loaders"


def register_demo_loader(app: Flask, loader: Callable[[Session], None]) -> None:
    """Upper layers add to the demo without coordination importing them."""
    app.extensions.setdefault(DEMO_LOADERS, []).append(loader)


def init_app(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(demo)
    app.cli.add_command(audit)


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


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Load the fictitious municipality Exempelstad (running it twice changes nothing)."""
    session = db_session()
    with transaction(session):
        created, logins = load_demo(session)
        if created:
            # Upper layers add their part (children, meetings, minutes) in layer order.
            for loader in current_app.extensions.get(DEMO_LOADERS, []):
                loader(session)
    click.echo("Demodata inläst." if created else "Demodata fanns redan; inget ändrades.")
    click.echo(f"Demoinloggningar (lösenord för alla: {logins.password}):")
    for email, description in logins.accounts:
        click.echo(f"  {email:<40} {description}")


audit = AppGroup("audit", help="The audit log.")


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit 1 naming the first broken event."""
    result = verify_chain(db_session())
    if result.ok:
        click.echo(f"Loggkedjan är hel: {result.checked} händelser kontrollerade.")
        return
    click.echo(
        f"Loggkedjan är bruten vid händelse {result.first_broken_seq}: {result.problem} "
        f"({result.checked} händelser före den är hela).",
        err=True,
    )
    sys.exit(1)
