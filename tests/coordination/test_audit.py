"""The hash chain: appends link up, any edit or deletion is found, and the CLI says where."""

from __future__ import annotations

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from coordination.audit import (
    GENESIS_HASH,
    AuditChainHead,
    AuditEvent,
    AuditTag,
    canonical_form,
    compute_hash,
    record_event,
)
from coordination.audit_verify import verify_chain
from tests.factories import UserFactory


def append_three(db: Session) -> list[AuditEvent]:
    user = UserFactory()
    return [
        record_event(
            db, user, AuditTag.AUTH_LOGIN_SUCCESS, object_type="user", object_ids=[user.id]
        ),
        record_event(
            db,
            user,
            AuditTag.ADMIN_AGENCY_UPDATE,
            object_ids=[3, 1, 3],
            details={"fields": ["name"]},
        ),
        record_event(db, None, AuditTag.AUTH_LOGIN_FAILURE, details={"reason": "unknown"}),
    ]


def test_events_form_a_chain(db: Session) -> None:
    first, second, third = append_three(db)
    assert first.seq == 1 and first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert second.object_ids == [1, 3]  # sorted, no duplicates
    assert second.actor_agency_id == first.actor_agency_id is not None
    head = db.get(AuditChainHead, 1)
    assert head is not None and (head.seq, head.hash) == (3, third.hash)
    result = verify_chain(db)
    assert result.ok and result.checked == 3


def test_an_edited_event_is_found(db: Session) -> None:
    append_three(db)
    db.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(details={"fields": ["email"]}))
    db.expire_all()
    result = verify_chain(db)
    assert not result.ok
    assert result.first_broken_seq == 2


def test_a_rehashed_edit_breaks_the_next_link(db: Session) -> None:
    events = append_three(db)
    forged = events[1]
    forged.details = {"fields": ["forged"]}
    forged.hash = compute_hash(forged)
    db.flush()
    db.expire_all()
    assert verify_chain(db).first_broken_seq == 3


def test_a_deleted_event_is_found(db: Session) -> None:
    append_three(db)
    db.execute(delete(AuditEvent).where(AuditEvent.seq == 2))
    db.expire_all()
    result = verify_chain(db)
    assert result.first_broken_seq == 2
    assert "missing" in (result.problem or "")


def test_deleting_the_newest_event_is_found(db: Session) -> None:
    append_three(db)
    db.execute(delete(AuditEvent).where(AuditEvent.seq == 3))
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
    db.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(tag="auth:logout"))
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
    from coordination.models import AgencyKind, Role
    from coordination.services import create_agency, create_user

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
    """Eight writers at once, each in its own connection and transaction (row lock on
    PostgreSQL, the write lock on SQLite): the chain stays one line."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy.orm import sessionmaker

    from coordination.db import get_database

    engine = get_database(app).engine
    factory = sessionmaker(bind=engine)
    with factory() as session:
        head = session.get(AuditChainHead, 1)
        assert head is not None
        start_seq, start_hash = head.seq, head.hash

    def append(worker: int) -> None:
        for n in range(10):
            with factory() as session, session.begin():
                record_event(session, None, AuditTag.ACCESS_DENIED, object_ids=[worker, n])

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(append, range(8)))
        with factory() as session:
            result = verify_chain(session)
            assert result.ok, result
            assert result.checked == start_seq + 80
    finally:
        with factory() as session, session.begin():
            session.execute(delete(AuditEvent).where(AuditEvent.seq > start_seq))
            session.execute(update(AuditChainHead).values(seq=start_seq, hash=start_hash))
