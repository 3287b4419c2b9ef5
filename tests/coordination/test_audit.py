"""The hash chain: appends link up, any edit or deletion is found, and the CLI says where."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from coordination.audit.log import (
    GENESIS_HASH,
    AuditChainHead,
    AuditEvent,
    AuditTag,
    canonical_form,
    compute_hash,
    record_event,
)
from coordination.audit.sequencer import chain_events
from coordination.audit.verify import verify_chain, verify_log
from coordination.db import get_database
from tests.factories import UserFactory


def append_three(db: Session) -> list[AuditEvent]:
    """Three events, chained (as the sequencer chains them after the commit)."""
    user = UserFactory()
    events = [
        record_event(db, user, AuditTag.AUTH_LOGIN_SUCCESS, on=user),
        record_event(
            db,
            user,
            AuditTag.ADMIN_AGENCY_UPDATE,
            object_ids=[3, 1, 3],
            details={"fields": ["name"]},
        ),
        record_event(db, None, AuditTag.AUTH_LOGIN_FAILURE, details={"reason": "unknown"}),
    ]
    assert chain_events(db) == 3
    return events


@contextmanager
def chain_restored(app: Flask) -> Iterator[tuple[sessionmaker[Session], int]]:
    """Sessions of their own, which commit (the test's ``db`` never does), and the chain put
    back as it was afterwards: yields their factory and the head's sequence number at the
    start. Close the sessions made from it before the block ends."""
    factory = sessionmaker(bind=get_database(app).engine)
    with factory() as session:
        start_seq, start_hash = session.execute(
            select(AuditChainHead.seq, AuditChainHead.hash)
        ).one()
    try:
        yield factory, start_seq
    finally:
        with factory() as session, session.begin():
            session.execute(
                delete(AuditEvent).where(
                    (AuditEvent.chain_position > start_seq) | AuditEvent.chain_position.is_(None)
                )
            )
            session.execute(update(AuditChainHead).values(seq=start_seq, hash=start_hash))


def test_events_form_a_chain(db: Session) -> None:
    first, second, third = append_three(db)
    assert first.chain_position == 1 and first.prev_hash == GENESIS_HASH
    assert (second.chain_position, third.chain_position) == (2, 3)
    assert first.seq < second.seq < third.seq
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert second.object_ids == [1, 3]  # sorted, no duplicates
    assert second.actor_agency_id == first.actor_agency_id is not None
    head = db.get(AuditChainHead, 1)
    assert head is not None and (head.seq, head.hash) == (3, third.hash)
    result = verify_chain(db)
    assert result.ok and result.checked == 3


def test_an_edited_event_is_found(db: Session) -> None:
    append_three(db)
    db.execute(
        update(AuditEvent)
        .where(AuditEvent.chain_position == 2)
        .values(details={"fields": ["email"]})
    )
    db.expire_all()
    result = verify_chain(db)
    assert not result.ok
    assert result.first_broken_seq == 2


def test_a_rehashed_edit_breaks_the_next_link(db: Session) -> None:
    events = append_three(db)
    forged = events[1]
    forged.details = {"fields": ["forged"]}
    db.execute(
        update(AuditEvent)
        .where(AuditEvent.seq == forged.seq)
        .values(details=forged.details, hash=compute_hash(forged))
    )
    db.expire_all()
    assert verify_chain(db).first_broken_seq == 3


def test_a_deleted_event_is_found(db: Session) -> None:
    append_three(db)
    db.execute(delete(AuditEvent).where(AuditEvent.chain_position == 2))
    db.expire_all()
    result = verify_chain(db)
    assert result.first_broken_seq == 2
    assert "missing" in (result.problem or "")


def test_deleting_the_newest_event_is_found(db: Session) -> None:
    append_three(db)
    db.execute(delete(AuditEvent).where(AuditEvent.chain_position == 3))
    db.expire_all()
    assert verify_chain(db).first_broken_seq == 3


def test_details_refuse_free_text_and_nested_values(db: Session) -> None:
    with pytest.raises(TypeError):
        record_event(db, None, AuditTag.ACCESS_DENIED, details={"nested": {"a": 1}})
    with pytest.raises(ValueError, match="too long"):
        record_event(db, None, AuditTag.ACCESS_DENIED, details={"note": "x" * 500})


def test_flask_audit_verify_exits_non_zero_naming_the_broken_event(app: Flask, db: Session) -> None:
    append_three(db)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "3 händelser" in ok.output
    db.execute(update(AuditEvent).where(AuditEvent.chain_position == 2).values(tag="auth:logout"))
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert "händelse 2" in broken.output


@settings(max_examples=50, deadline=None)
@given(
    ids=st.lists(st.integers(min_value=0, max_value=10**9), max_size=5),
    details=st.dictionaries(
        st.text(min_size=1, max_size=10),
        st.one_of(st.integers(), st.booleans(), st.none(), st.text(max_size=30)),
        max_size=4,
    ),
    seq=st.integers(min_value=1, max_value=10**9),
)
def test_canonical_form_is_deterministic_and_sensitive(
    ids: list[int], details: dict[str, object], seq: int
) -> None:
    import datetime as dt

    when = dt.datetime(2026, 3, 4, 12, 0, 0, 123456, tzinfo=dt.UTC)
    args = {
        "seq": seq,
        "occurred_at": when,
        "actor_user_id": 1,
        "actor_agency_id": 2,
        "tag": "auth:logout",
        "object_type": "user",
        "object_ids": ids,
        "details": details,
        "prev_hash": GENESIS_HASH,
    }
    assert canonical_form(**args) == canonical_form(**args)  # type: ignore[arg-type]
    changed = dict(args, seq=seq + 1)
    assert canonical_form(**args) != canonical_form(**changed)  # type: ignore[arg-type]
    # The same instant in another zone serialises identically.
    shifted = dict(args, occurred_at=when.astimezone(dt.timezone(dt.timedelta(hours=2))))
    assert canonical_form(**args) == canonical_form(**shifted)  # type: ignore[arg-type]


def test_events_hold_no_personal_data_from_admin_changes(db: Session) -> None:
    from coordination.admin.services import create_agency, create_user
    from coordination.models import AgencyKind, Role

    admin = UserFactory(roles={Role.ADMIN})
    agency = create_agency(db, admin, kind=AgencyKind.POLICE, name="Polisen Hemlig")
    create_user(
        db,
        admin,
        agency=agency,
        email="kalle.karlsson@example.com",
        display_name="Kalle Karlsson",
        password="ett långt lösenord",
        roles={Role.MEMBER},
    )
    dumped = " ".join(f"{e.details} {e.object_ids}" for e in db.scalars(select(AuditEvent)))
    for secret in ("Kalle", "kalle.karlsson", "Hemlig"):
        assert secret not in dumped


def test_concurrent_appends_never_fork_the_chain(app: Flask) -> None:
    """Eight writers at once, each in its own connection and transaction (no lock; SQLite's
    write lock serialises them there), then the sequencer: the chain stays one line."""
    from concurrent.futures import ThreadPoolExecutor

    with chain_restored(app) as (factory, start_seq):

        def append(worker: int) -> None:
            for n in range(10):
                with factory() as session, session.begin():
                    record_event(session, None, AuditTag.ACCESS_DENIED, object_ids=[worker, n])

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(append, range(8)))
        with factory() as session, session.begin():
            assert chain_events(session) == 80
        with factory() as session:
            result = verify_chain(session)
            assert result.ok, result
            assert result.checked == start_seq + 80


def test_an_event_is_durable_at_once_and_chained_later(db: Session) -> None:
    start = db.execute(select(AuditChainHead.seq)).scalar_one()
    event = record_event(db, None, AuditTag.ACCESS_DENIED, object_type="user", object_ids=[7])
    assert event.seq is not None and event.chain_position is None and event.hash is None
    assert db.execute(select(AuditChainHead.seq)).scalar_one() == start  # no head touched
    log = verify_log(db)
    assert log.chain.ok and log.unchained.count == 1
    assert chain_events(db) == 1
    assert event.chain_position == start + 1 and event.chained_at is not None
    stored = db.get(AuditEvent, event.seq)
    assert stored is not None and stored.hash == event.hash == compute_hash(stored)
    log = verify_log(db)
    assert log.chain.ok and log.unchained.count == 0
    assert chain_events(db) == 0  # nothing twice


def test_a_rolled_back_savepoint_discards_its_events_and_keeps_the_others(db: Session) -> None:
    start = db.execute(select(AuditChainHead.seq)).scalar_one()
    record_event(db, None, AuditTag.ACCESS_DENIED, object_ids=[1])
    with db.begin_nested():
        record_event(db, None, AuditTag.ACCESS_DENIED, object_ids=[2])
    nested = db.begin_nested()
    record_event(db, None, AuditTag.ACCESS_DENIED, object_ids=[3])
    with db.begin_nested():
        record_event(db, None, AuditTag.ACCESS_DENIED, object_ids=[4])
    nested.rollback()  # discards 3 and the savepoint inside it that held 4
    assert chain_events(db) == 2
    kept = db.scalars(
        select(AuditEvent.object_ids)
        .where(AuditEvent.chain_position > start)
        .order_by(AuditEvent.chain_position)
    ).all()
    assert kept == [[1], [2]]
    assert verify_chain(db).ok


def test_a_rolled_back_transaction_leaves_nothing_in_the_log(app: Flask) -> None:
    with chain_restored(app) as (factory, before):
        with factory() as session:
            first = record_event(session, None, AuditTag.ACCESS_DENIED, object_ids=[1]).seq
            session.rollback()
            record_event(session, None, AuditTag.ACCESS_DENIED, object_ids=[2])
        with factory() as session:  # closed without commit: gone too
            assert session.scalar(select(AuditEvent.seq).where(AuditEvent.seq >= first)) is None
            assert chain_events(session) == 0
            assert session.execute(select(AuditChainHead.seq)).scalar_one() == before


def test_recording_an_event_inserts_it_and_its_index_and_touches_no_head(db: Session) -> None:
    from sqlalchemy import event

    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = db.get_bind()
    db.flush()
    event.listen(engine, "before_cursor_execute", count)
    try:
        record_event(db, None, AuditTag.ACCESS_DENIED, object_type="user", object_ids=[1, 2])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    statements = [s for s in statements if not s.startswith("SAVEPOINT")]  # the test's own
    if engine.dialect.name == "postgresql":  # one round trip: both inserts in one statement
        assert len(statements) == 1, statements
    else:
        assert len(statements) == 2, statements
    joined = " ".join(statements)
    assert "INSERT INTO audit_events" in joined and "INSERT INTO audit_event_objects" in joined
    assert "audit_chain_head" not in joined


def test_an_open_transaction_with_events_does_not_block_another_writer(app: Flask) -> None:
    """No writer takes a lock: a long request does not queue any other audited request, and
    the sequencer chains what is committed and leaves the open transaction's event for later."""
    engine = get_database(app).engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: its first write holds the database to the commit")
    with chain_restored(app) as (factory, start_seq):
        slow, fast = factory(), factory()
        try:
            record_event(slow, None, AuditTag.ACCESS_DENIED, object_ids=[1])
            fast.connection().exec_driver_sql("SET LOCAL lock_timeout = '2s'")  # fail fast
            record_event(fast, None, AuditTag.ACCESS_DENIED, object_ids=[2])
            fast.commit()  # would wait for `slow` (and time out) if recording took a lock
            with factory() as sequencer, sequencer.begin():
                assert chain_events(sequencer) == 1  # `slow` is in flight: left, not skipped
            slow.commit()
            with factory() as sequencer, sequencer.begin():
                chain_events(sequencer)
            with factory() as session:
                order = session.scalars(
                    select(AuditEvent.object_ids)
                    .where(AuditEvent.chain_position > start_seq)
                    .order_by(AuditEvent.chain_position)
                ).all()
                assert order == [[2], [1]]  # commit order
                assert verify_chain(session).ok
        finally:
            slow.close()
            fast.close()
    engine.dispose()


def test_a_large_commit_is_chained_in_several_statements_and_stays_whole(db: Session) -> None:
    from coordination.audit.log import AuditEventObject
    from coordination.audit.verify import verify_object_index

    start = db.execute(select(AuditChainHead.seq)).scalar_one()
    record_event(db, None, AuditTag.ACCESS_DENIED, object_type="record", object_ids=range(1200))
    for n in range(620):
        record_event(db, None, AuditTag.ACCESS_DENIED, object_type="user", object_ids=[n])
    db.commit()
    assert chain_events(db, batch=250) == 621
    assert db.execute(select(AuditChainHead.seq)).scalar_one() == start + 621
    first = db.scalar(select(AuditEvent.seq).where(AuditEvent.chain_position == start + 1))
    indexed = db.scalars(
        select(AuditEventObject.object_id).where(AuditEventObject.seq == first)
    ).all()
    assert sorted(indexed) == list(range(1200))
    assert verify_chain(db).ok and verify_object_index(db).ok


def test_an_append_committed_as_the_pass_ends_is_checked_not_reported_deleted(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No lock: an event that joins the chain after the pass read its last range (the head
    then names an event the pass did not see) is read and checked, and the chain holds.
    Reading the head from the session's identity map, or not reading on, reported it as
    deleted events. On PostgreSQL (READ COMMITTED) another connection commits it; SQLite's
    transactions hold the write lock, so there only the verifying transaction can add it."""
    from coordination.audit import verify as audit_verify
    from coordination.audit.verify import verify_log

    engine = get_database(app).engine
    fetch = audit_verify._RowSource._fetch
    appended: list[int] = []
    with chain_restored(app) as (factory, start_seq):
        with factory() as session, session.begin():
            for n in range(5):
                record_event(session, None, AuditTag.ACCESS_DENIED, object_ids=[n])
            chain_events(session)
        verifying = factory()

        def append_at_the_end(rows: object, after: int) -> list[object]:
            found = fetch(rows, after)  # type: ignore[arg-type]
            if not found and not appended:
                if engine.dialect.name == "postgresql":
                    with factory() as other, other.begin():
                        record_event(other, None, AuditTag.ACCESS_DENIED, object_ids=[99])
                        chain_events(other)
                else:
                    record_event(verifying, None, AuditTag.ACCESS_DENIED, object_ids=[99])
                    chain_events(verifying)
                appended.append(after)
            return found

        monkeypatch.setattr(audit_verify._RowSource, "_fetch", append_at_the_end)
        try:
            verifying.get(AuditChainHead, 1)  # in the identity map before the append
            log = verify_log(verifying, batch=2)
            assert appended == [start_seq + 5]
            assert log.chain.ok, log.chain
            assert log.chain.checked == start_seq + 6
            assert log.index.ok and log.index.checked == start_seq + 6
        finally:
            verifying.close()
    engine.dispose()


def test_an_event_beyond_the_head_is_found(db: Session) -> None:
    """An event inserted after the head, correctly linked, but not through the chain's
    append (the head was not moved): found, not taken as part of the chain."""
    third = append_three(db)[-1]
    forged = AuditEvent(
        chain_position=4,
        occurred_at=third.occurred_at,
        tag="auth:logout",
        object_ids=[],
        details={},
        prev_hash=third.hash,
    )
    forged.hash = compute_hash(forged)
    db.add(forged)
    db.flush()
    db.expire_all()
    result = verify_chain(db)
    assert (result.checked, result.first_broken_seq) == (3, 4)
    assert "outside the chain" in (result.problem or "")


def test_a_head_naming_another_last_event_is_found(db: Session) -> None:
    append_three(db)
    db.execute(update(AuditChainHead).values(hash="0" * 64))
    db.expire_all()
    result = verify_chain(db)
    assert (result.checked, result.first_broken_seq) == (2, 3)
    assert "does not name the last event" in (result.problem or "")
