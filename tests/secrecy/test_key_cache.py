"""The worker's cache of unwrapped agency keys: filled only after a commit, emptied at once by
a key or master rotation, an agency's deactivation and a restore, and gone after its TTL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from coordination.admin.services import update_agency
from coordination.db import KEY_CACHE_INFO, get_database
from coordination.models import Agency, AgencyKind, KeyGeneration, Role, bump_key_generation
from coordination.security import WorkerKeyCache
from secrecy.models import AgencyKey
from secrecy.records import crypto, sealing
from tests.factories import AgencyFactory, UserFactory


@pytest.fixture
def cache(app: Flask, db: Session) -> Iterator[WorkerKeyCache]:
    """The app's worker cache, switched on for this test only (conftest keeps it off)."""
    worker_cache = get_database(app).session_factory.kw["info"][KEY_CACHE_INFO]
    assert isinstance(worker_cache, WorkerKeyCache)
    worker_cache.clear()
    worker_cache.ttl = 60
    try:
        yield worker_cache
    finally:
        worker_cache.ttl = 0
        worker_cache.clear()


def new_session(app: Flask) -> Session:
    """A session as a request gets it (on the test's connection: its commit is a savepoint's)."""
    return get_database(app).session_factory()


@pytest.fixture
def agency(app: Flask, db: Session) -> Agency:
    """An agency whose first key exists (created and committed by an app session)."""
    made = AgencyFactory(kind=AgencyKind.POLICE)
    db.flush()
    with new_session(app) as session:
        crypto.keyring(session).active_agency_key(made.id)
        session.commit()
    return made


class AgencyKeyReads:
    """Counts the statements that read agency_keys or the key generation."""

    def __init__(self, db: Session) -> None:
        self.keys = self.generation = 0
        self._engine = db.get_bind()

    def _count(self, *args: Any) -> None:
        sql = str(args[2])
        self.keys += "FROM agency_keys" in sql
        self.generation += "FROM key_generations" in sql

    def __enter__(self) -> AgencyKeyReads:
        event.listen(self._engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self._engine, "before_cursor_execute", self._count)


def ring_of_another_worker(session: Session, worker_cache: WorkerKeyCache) -> crypto.KeyRing:
    """The session's key ring as another worker process (with its own cache) would have it."""
    ring = crypto.KeyRing(session, crypto.keyring(session).master, worker_cache)
    session.info["samverkan.keyring"] = ring
    return ring


def load_key(app: Flask, agency_id: int, *, commit: bool = True) -> bytes:
    with new_session(app) as session:
        key = crypto.keyring(session).agency_key(agency_id, 1)
        if commit:
            session.commit()
        else:
            session.rollback()
    return key


def key_reads_to_load(app: Flask, db: Session, agency_id: int) -> int:
    """How many times loading the agency's key (in a committed transaction) reads agency_keys."""
    with AgencyKeyReads(db) as reads:
        load_key(app, agency_id)
    return reads.keys


def committed(app: Flask, change: Callable[[Session], object]) -> None:
    """Run ``change`` in a session of the app's own and commit it, as a request would."""
    with new_session(app) as session:
        change(session)
        session.commit()


def test_a_committed_load_serves_the_next_transaction_without_reading_the_key(
    app: Flask, db: Session, cache: WorkerKeyCache, agency: Agency
) -> None:
    cache.clear()
    first = load_key(app, agency.id)
    assert len(cache) == 1
    with AgencyKeyReads(db) as reads:
        again = load_key(app, agency.id)
    assert again == first
    # One read of the generation, no read (and no unwrap) of the key.
    assert (reads.keys, reads.generation) == (0, 1)


def test_a_rolled_back_load_is_not_cached(
    app: Flask, db: Session, cache: WorkerKeyCache, agency: Agency
) -> None:
    cache.clear()
    load_key(app, agency.id, commit=False)
    assert len(cache) == 0
    # A savepoint rolled back inside a committed transaction drops its ring too.
    with new_session(app) as session:
        nested = session.begin_nested()
        crypto.keyring(session).agency_key(agency.id, 1)
        nested.rollback()
        session.commit()
    assert len(cache) == 0


def test_a_key_created_in_a_rolled_back_transaction_never_reaches_the_cache(
    app: Flask, db: Session, cache: WorkerKeyCache
) -> None:
    fresh = AgencyFactory(kind=AgencyKind.SCHOOL)
    db.flush()
    with new_session(app) as session:
        crypto.keyring(session).active_agency_key(fresh.id)
        session.rollback()
    assert len(cache) == 0


def test_an_agency_key_rotation_empties_the_cache_at_once(
    app: Flask, db: Session, cache: WorkerKeyCache, agency: Agency
) -> None:
    old = load_key(app, agency.id)
    other_worker = WorkerKeyCache(60)
    with new_session(app) as session:  # another process loaded it too
        ring_of_another_worker(session, other_worker).agency_key(agency.id, 1)
        session.commit()
    assert len(cache) == len(other_worker) == 1
    with new_session(app) as session:
        version, _ = sealing.rotate_agency_key(session, agency.id)
        session.commit()
    assert version == 2
    assert len(cache) == 0  # this worker: at the rotation's commit
    with new_session(app) as session:  # the other: at its next transaction's first look
        ring = ring_of_another_worker(session, other_worker)
        with AgencyKeyReads(db) as reads:
            assert ring.agency_key(agency.id, 2) != old
        assert reads.keys == 1  # read from the database, not served from the cache
    assert len(other_worker) == 0


def test_a_master_rotation_and_a_restore_move_the_generation_on(
    app: Flask, db: Session, cache: WorkerKeyCache, agency: Agency
) -> None:
    load_key(app, agency.id)
    committed(app, sealing.rotate_master)
    assert key_reads_to_load(app, db, agency.id) == 1
    # A restore (or anything that calls bump_key_generation) does the same.
    committed(app, bump_key_generation)
    assert key_reads_to_load(app, db, agency.id) == 1


def rename_or_deactivate(app: Flask, agency: Agency, *, name: str | None, active: bool) -> None:
    """An administrator's change of the agency (``name=None`` keeps its name)."""
    admin = UserFactory(roles={Role.ADMIN})

    def change(session: Session) -> None:
        target = session.get(Agency, agency.id)
        assert target is not None
        update_agency(
            session,
            admin,
            target,
            name=target.name if name is None else name,
            active=active,
            expected_version=target.version,
        )

    committed(app, change)


def test_deactivating_an_agency_drops_its_keys_from_every_worker(
    app: Flask, db: Session, cache: WorkerKeyCache, agency: Agency
) -> None:
    load_key(app, agency.id)
    rename_or_deactivate(app, agency, name=None, active=False)
    assert key_reads_to_load(app, db, agency.id) == 1


def test_a_renamed_agency_keeps_its_cached_keys(
    app: Flask, db: Session, cache: WorkerKeyCache, agency: Agency
) -> None:
    load_key(app, agency.id)
    rename_or_deactivate(app, agency, name="Nytt namn", active=True)
    assert key_reads_to_load(app, db, agency.id) == 0


def test_entries_expire_after_the_ttl(
    app: Flask, db: Session, cache: WorkerKeyCache, agency: Agency
) -> None:
    cache.ttl = 0.05
    load_key(app, agency.id)
    assert len(cache) == 1
    time.sleep(0.1)
    assert key_reads_to_load(app, db, agency.id) == 1


def test_a_cached_key_opens_nothing_the_database_no_longer_wraps(
    app: Flask, db: Session, cache: WorkerKeyCache, agency: Agency
) -> None:
    """The cache holds agency keys only: a data key deleted (revoked disclosure, shredding)
    is gone whatever the cache holds, and a tampered wrapped key row is not consulted while
    the cached key serves (the generation, not the row, decides)."""
    load_key(app, agency.id)
    db.execute(
        update(AgencyKey).where(AgencyKey.agency_id == agency.id).values(wrapped_key=b"\0" * 60)
    )
    assert load_key(app, agency.id)  # served from the cache: the row is not read
    committed(app, bump_key_generation)
    with pytest.raises(crypto.SealingError):
        load_key(app, agency.id)


def test_the_cache_never_shows_its_keys(cache: WorkerKeyCache) -> None:
    cache.sync(7)
    cache.store(7, {(1, 1): b"k" * 32})
    assert "kkkk" not in repr(cache) and "kkkk" not in str(cache)


def test_a_generation_read_by_another_statement_stands_for_the_rings_own_read(
    app: Flask, db: Session, cache: WorkerKeyCache, agency: Agency
) -> None:
    """The reveal reads the generation as a column of its first statement and hands it to the
    ring (``adopt_generation``): the cached key then serves without a read of its own."""
    first = load_key(app, agency.id)
    with new_session(app) as session:
        ring = crypto.keyring(session)
        assert ring.wants_generation()
        current = session.scalar(select(KeyGeneration.generation).where(KeyGeneration.id == 1))
        with AgencyKeyReads(db) as reads:
            ring.adopt_generation(current)
            assert not ring.wants_generation()
            assert ring.agency_key(agency.id, 1) == first
        assert (reads.keys, reads.generation) == (0, 0)


def test_an_adopted_generation_that_moved_on_empties_the_cache(
    app: Flask, db: Session, cache: WorkerKeyCache, agency: Agency
) -> None:
    load_key(app, agency.id)
    assert len(cache) == 1
    with new_session(app) as session:
        current = session.scalar(select(KeyGeneration.generation).where(KeyGeneration.id == 1))
        assert current is not None
        crypto.keyring(session).adopt_generation(current + 1)
    assert len(cache) == 0
