"""Database foundation: the typed declarative base, column types and the per-request session.

The engine and session factory live on the Flask app (``app.extensions["samverkan.db"]``), so
several apps (tests, CLI) never share module-level state. Views commit once per request; services
only flush.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Delete,
    Engine,
    Enum,
    MetaData,
    String,
    Update,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    declared_attr,
    mapped_column,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


LOCAL_ZONE = ZoneInfo("Europe/Stockholm")


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC; computed per call, never at import."""
    return dt.datetime.now(dt.UTC)


def today_local() -> dt.date:
    """Today's date in Sweden: the calendar day that deadlines, ages and retention count in."""
    return dt.datetime.now(LOCAL_ZONE).date()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every backend (SQLite drops the offset; we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where aware UTC is required")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


intpk = Annotated[int, mapped_column(primary_key=True)]
str100 = Annotated[str, mapped_column(String(100))]
str200 = Annotated[str, mapped_column(String(200))]
timestamp = Annotated[dt.datetime, mapped_column(UTCDateTime())]
created_at = Annotated[dt.datetime, mapped_column(UTCDateTime(), default=utcnow)]


def enum_type(
    cls: type[enum.Enum], name: str, *, length: int = 40, validate_strings: bool = True
) -> Enum:
    """Stored as the value in a VARCHAR with a CHECK constraint (portable, readable in SQL);
    ``validate_strings`` refuses a string that is no value of ``cls`` before it is written."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=validate_strings,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Versioned:
    """A row changed under optimistic locking: its ``version`` column (the table's last) is
    raised by every update, and an update of a row someone else changed first fails
    (``StaleDataError``, a conflict in the wrappers); forms carry it for ``check_version``."""

    version: Mapped[int] = mapped_column(default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}


def count_rows(session: Session, model: type[Any], *where: ColumnElement[bool]) -> int:
    """How many rows of ``model`` meet every ``where`` criterion (all rows without one)."""
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def execute_bulk(session: Session, statement: Update | Delete) -> int:
    """A bulk UPDATE or DELETE that leaves the session's loaded objects as they are (the caller
    has none of these rows loaded, or expires them itself); how many rows it changed."""
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass
class Database:
    engine: Engine
    session_factory: sessionmaker[Session]


def make_engine(url: str, **kwargs: Any) -> Engine:
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    """Real transactions and foreign keys on SQLite (pysqlite's defaults give neither)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 5000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: two writers queue on busy_timeout instead
        # of one failing with "database is locked" when both upgrade from a read.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def pool_options(config: Any) -> dict[str, Any]:
    """The engine options of the configured pool (``DATABASE_*`` settings).

    Every checkout is pinged first: after a database restart the pool hands out a fresh
    connection instead of one whose server went away (a failed ping costs one retry, never an
    error for the caller)."""
    options: dict[str, Any] = {"pool_pre_ping": True}
    if config["DATABASE_URL"].startswith("postgresql"):
        options.update(
            pool_size=int(config["DATABASE_POOL_SIZE"]),
            max_overflow=int(config["DATABASE_MAX_OVERFLOW"]),
            pool_timeout=float(config["DATABASE_POOL_TIMEOUT"]),
            pool_recycle=int(config["DATABASE_POOL_RECYCLE"]),
            connect_args={"connect_timeout": int(config["DATABASE_CONNECT_TIMEOUT"])},
        )
    return options


STATEMENT_TIMEOUT_INFO = "samverkan.statement_timeout_ms"


def limit_web_statements(engine: Engine, timeout_ms: int) -> None:
    """PostgreSQL: a connection handed out inside a web request runs each statement for at most
    ``timeout_ms``; a runaway query then ends with an error (a 503 page) instead of holding a
    worker and a connection. Outside a request (scheduler jobs, CLI commands) the same pool's
    connections have no limit.

    The setting is made on the connection when it is checked out in the other mode than it was
    last set for (once per connection in a web worker, never in the scheduler), not per
    transaction: a ``SET LOCAL`` in every transaction would cost every request a round trip."""
    if engine.dialect.name != "postgresql" or timeout_ms <= 0:
        return

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        wanted = int(timeout_ms) if has_request_context() else 0
        if record.info.get(STATEMENT_TIMEOUT_INFO, 0) == wanted:
            return
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"SET statement_timeout = {wanted}")
        finally:
            cursor.close()
        dbapi_connection.commit()  # outside any transaction of the caller: it stays set
        record.info[STATEMENT_TIMEOUT_INFO] = wanted


MASTER_KEYS_INFO = "samverkan.master_keys"
# The app's WorkerKeyCache (coordination.security): one object shared by every session of the
# process, so keys unwrapped in one request serve the next (secrecy.records.crypto).
KEY_CACHE_INFO = "samverkan.key_cache"


def init_app(app: Flask) -> None:
    from coordination.security import MasterKeyRing, WorkerKeyCache

    engine = make_engine(app.config["DATABASE_URL"], **pool_options(app.config))
    limit_web_statements(engine, int(app.config["DATABASE_STATEMENT_TIMEOUT_MS"]))
    # Every session carries the configured master keys (from the environment, never the
    # database), so services and jobs can seal and open without reaching for the app.
    info = {
        MASTER_KEYS_INFO: MasterKeyRing.from_config(app.config),
        KEY_CACHE_INFO: WorkerKeyCache(float(app.config.get("KEY_CACHE_SECONDS") or 0)),
    }
    app.extensions["samverkan.db"] = Database(
        engine=engine,
        session_factory=sessionmaker(bind=engine, expire_on_commit=False, info=info),
    )
    app.teardown_appcontext(_close_session)


def get_database(app: Flask | None = None) -> Database:
    database: Database = (app or current_app).extensions["samverkan.db"]
    return database


def db_session() -> Session:
    """The session of the current request or CLI command, created on first use."""
    if "db_session" not in g:
        g.db_session = get_database().session_factory()
    session: Session = g.db_session
    return session


def _close_session(exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is None:
        return
    # Anything not committed by the view is abandoned, never half-written: closing rolls the
    # open transaction back and hands the connection to the pool without a second ROLLBACK
    # (a rollback first, then a close, costs two round trips on every read-only request).
    session.close()


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """For CLI commands and jobs: one transaction, committed on success, rolled back on error."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
