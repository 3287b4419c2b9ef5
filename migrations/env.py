"""Alembic environment: the same database the app is configured for.

Order: a connection handed in by the caller (tests), ``-x url=...``, then the app's settings
(``SAMVERKAN_DATABASE_URL``, ``instance/config.py``, or the development SQLite file).
"""

from __future__ import annotations

import os
from logging.config import fileConfig
from pathlib import Path

from alembic import context
from sqlalchemy import Connection

import coordination.accounts.providers.models
import coordination.accounts.scim.models
import coordination.accounts.sessions
import coordination.audit.checkpoints
import coordination.audit.log
import coordination.logreview.models
import coordination.models
import coordination.tokens.services
import meetings.models
import meetings.network.models
import minutes.assessments.models
import minutes.models
import minutes.plans.models
import secrecy.models
from coordination.config import load_settings
from coordination.db import Base, make_engine

config = context.config
if config.config_file_name is not None and not config.attributes.get("connection"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# Importing the model modules registers their tables on Base.metadata.
MODEL_MODULES = (
    coordination.accounts.scim.models,
    coordination.tokens.services,
    coordination.audit.log,
    coordination.audit.checkpoints,
    coordination.logreview.models,
    coordination.accounts.providers.models,
    coordination.models,
    secrecy.models,
    meetings.models,
    meetings.network.models,
    minutes.models,
    minutes.plans.models,
)
target_metadata = Base.metadata

INSTANCE = Path(
    os.environ.get("SAMVERKAN_INSTANCE_PATH") or Path(__file__).resolve().parent.parent / "instance"
)


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    return url or str(load_settings(INSTANCE)["DATABASE_URL"])


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
