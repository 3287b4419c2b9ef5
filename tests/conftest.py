"""Fixtures: one migrated database per run, one rolled-back transaction per test.

``TEST_DATABASE_URL`` selects the database (SQLite in a temporary folder by default). The
schema is built by running the Alembic migrations, never by ``create_all``.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session, object_session, sessionmaker

from app import create_app
from coordination.accounts.sessions import open_session
from coordination.audit.log import AuditEvent
from coordination.db import get_database
from coordination.models import Agency, AgencyKind, Council, CouncilRole, Role, User
from coordination.web.extensions import limiter
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
MASTER_KEY = base64.b64encode(bytes(range(32))).decode()


def migrate(engine: Engine, revision: str = "head", *, downgrade: bool = False) -> None:
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        if downgrade:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)


def reset_database(engine: Engine) -> None:
    """Start every run from an empty database, whatever an earlier run left behind."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    )


def make_test_config(database_url: str, **overrides: object) -> dict[str, object]:
    config: dict[str, object] = {
        "ENV": "testing",
        "SECRET_KEY": "test-secret-key-not-for-production",
        "MASTER_KEY": MASTER_KEY,
        "DATABASE_URL": database_url,
        "REQUIRE_2FA": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Each test's keys vanish with its rolled-back transaction; a worker cache kept across
        # tests would serve one test's keys to the next (tests/secrecy/test_key_cache.py turns
        # it on for itself).
        "KEY_CACHE_SECONDS": 0,
    }
    config.update(overrides)
    return config


def process_env(database_url: str, instance: Path) -> dict[str, str]:
    """The environment of a real process of the app (the CLI, gunicorn) on the test database:
    none of the caller's own SAMVERKAN_* settings and no metrics folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMVERKAN_")}
    env.update(
        SAMVERKAN_ENV="development",
        SAMVERKAN_DATABASE_URL=database_url,
        SAMVERKAN_MASTER_KEY=MASTER_KEY,
        SAMVERKAN_SECRET_KEY="test-secret-key-not-for-production",
        SAMVERKAN_INSTANCE_PATH=str(instance),
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    application = create_app(make_test_config(database_url))
    application.instance_path = str(tmp_path_factory.mktemp("instance"))
    engine = get_database(application).engine
    reset_database(engine)
    migrate(engine)
    yield application
    engine.dispose()


class _HandingOverSessionmaker(sessionmaker[Session]):
    """The app's sessions in a test, on the test's connection. Audit events are rows like any
    other: what the test recorded through ``db`` is visible to the app at once (chaining them
    is the sequencer's work: ``coordination.audit.sequencer.chain_events``)."""

    test_session: Session | None = None


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test.

    The app's own sessions join the same connection through savepoints, so a view's commit
    releases a savepoint and nothing reaches the database for good.
    """
    database = get_database(app)
    connection = database.engine.connect()
    transaction = connection.begin()
    original = database.session_factory
    database.session_factory = _HandingOverSessionmaker(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info=dict(original.kw["info"]),
    )
    session = database.session_factory()
    database.session_factory.test_session = session
    for factory in factories.ALL_FACTORIES:
        factory._meta.sqlalchemy_session = session
    limiter.reset()
    try:
        yield session
    finally:
        session.close()
        database.session_factory = original
        transaction.rollback()
        connection.close()


@pytest.fixture(autouse=True)
def _csrf_switch(request: pytest.FixtureRequest, app: Flask) -> Iterator[None]:
    """CSRF is off for most tests (they post directly); tests marked ``csrf`` keep it on."""
    enabled = request.node.get_closest_marker("csrf") is not None
    app.config["WTF_CSRF_ENABLED"] = enabled
    yield
    app.config["WTF_CSRF_ENABLED"] = True


@pytest.fixture
def client(app: Flask, db: Session) -> FlaskClient:
    return app.test_client()


def log_in(client: FlaskClient, user: User) -> FlaskClient:
    """Put a fully authenticated session in the client's cookie (password and 2FA are tested
    separately through the real forms)."""
    now = int(time.time())
    dbs = object_session(user)
    assert dbs is not None, "log_in needs a user that belongs to the test's session"
    sid = open_session(dbs, user, method="test", lifetime=dt.timedelta(hours=12))
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["sid"] = sid
        session["login_at"] = now
        session["seen_at"] = now
    return client


@dataclass
class Council3:
    """A council with one member per agency kind, and its coordinator."""

    council: Council
    agencies: dict[AgencyKind, Agency]
    members: dict[AgencyKind, User]
    coordinator: User


@pytest.fixture
def world(db: Session) -> Council3:
    return build_world(db)


def build_world(db: Session) -> Council3:
    """A council with one member per agency, in ``db`` (the factories' session)."""
    agencies = {
        kind: factories.AgencyFactory(kind=kind, name=f"Test {kind.value}") for kind in AgencyKind
    }
    council = factories.CouncilFactory(
        agencies=list(agencies.values()), name="Testrådet", code="TEST"
    )
    members = {}
    for kind, agency in agencies.items():
        user = factories.UserFactory(agency=agency, email=f"{kind.value}@example.com")
        factories.MembershipFactory(council=council, user=user)
        members[kind] = user
    coordinator = factories.UserFactory(
        agency=agencies[AgencyKind.SOCIAL_SERVICES],
        email="coordinator@example.com",
        roles={Role.COORDINATOR, Role.MEMBER},
    )
    factories.MembershipFactory(
        council=council, user=coordinator, council_role=CouncilRole.COORDINATOR
    )
    db.flush()
    db.expire_all()
    return Council3(council=council, agencies=agencies, members=members, coordinator=coordinator)


ClientFor = Callable[[AgencyKind], FlaskClient]


@pytest.fixture
def client_for(app: Flask, world: Council3) -> ClientFor:
    """A logged-in client for the member of the given agency kind."""

    def make(kind: AgencyKind) -> FlaskClient:
        return log_in(app.test_client(), world.members[kind])

    return make


@pytest.fixture
def social(client_for: ClientFor) -> FlaskClient:
    """The social services member of ``world``, logged in."""
    return client_for(AgencyKind.SOCIAL_SERVICES)


@pytest.fixture
def police(client_for: ClientFor) -> FlaskClient:
    """The police member of ``world``, logged in."""
    return client_for(AgencyKind.POLICE)


@pytest.fixture
def admin(db: Session) -> User:
    agency = factories.AgencyFactory(kind=AgencyKind.OTHER, name="Kommunledningen")
    return factories.UserFactory(agency=agency, email="admin@example.com", roles={Role.ADMIN})


@pytest.fixture
def admin_client(app: Flask, admin: User) -> FlaskClient:
    return log_in(app.test_client(), admin)


def audit_tags(db: Session) -> list[str]:
    """The tags of every audit event so far, oldest first."""
    return list(db.scalars(select(AuditEvent.tag).order_by(AuditEvent.seq)))


def audit_events(db: Session, tag: str) -> list[AuditEvent]:
    """The audit events of ``tag`` (any of the tag enums), oldest first."""
    query = select(AuditEvent).where(AuditEvent.tag == str(tag)).order_by(AuditEvent.seq)
    return list(db.scalars(query))


@contextmanager
def sql_statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block, in order."""
    seen: list[str] = []
    engine = get_database(app).engine

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def csrf_token_from(html: str) -> str:
    marker = 'name="csrf_token" type="hidden" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]
