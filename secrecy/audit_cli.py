"""``flask audit checkpoint``: sign the audit chain's head.

The command joins coordination's ``audit`` group (``verify``, ``export``) but lives here: signing
needs the installation's key, and only ``secrecy`` holds keys (through ``secrecy.records.sealing``).
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from coordination.cli import audit
from coordination.db import db_session, transaction
from secrecy.records import sealing


def init_app(app: Flask) -> None:
    # The group is shared by every app in the process; adding the command again replaces it.
    audit.add_command(audit_checkpoint)


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
