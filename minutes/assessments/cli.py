"""``flask assessments``: the JSON Schema of instrument files, and a check of a directory of
instrument files before a municipality points the application at it."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from minutes.assessments.instruments import (
    SCHEMA_PATH,
    InstrumentFileError,
    instruments_dir,
    load_directory,
    schema_text,
)

assessments = AppGroup("assessments", help="Structured assessments: instrument files.")


def init_app(app: Flask) -> None:
    app.cli.add_command(assessments)


@assessments.command("schema")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=SCHEMA_PATH,
    show_default=True,
    help="Where to write the JSON Schema ('-' for standard output).",
)
def schema(output: Path) -> None:
    """Write the JSON Schema of an instrument file (for editors)."""
    text = schema_text()
    if str(output) == "-":
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {output}")


@assessments.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def check(directory: Path | None) -> None:
    """Validate every instrument file in DIRECTORY (default: the configured one)."""
    target = directory or instruments_dir()
    try:
        found = load_directory(target)
    except InstrumentFileError as exc:
        raise click.ClickException(str(exc)) from exc
    for instrument in found.all():
        state = "replaced" if instrument.is_replaced else "current"
        click.echo(f"{instrument.id} {instrument.version} ({state}): {instrument.name}")
