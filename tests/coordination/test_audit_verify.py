"""The audit log's verification (coordination.audit.verify): its fast canonical form is
``canonical_form``'s, byte for byte, and its one pass finds what each check finds alone, on the
database the tests run on (the PostgreSQL reader or the portable one)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Delete, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from coordination.audit.fast_hash import (
    UNSURE,
    canonical_timestamp,
    fast_canonical_form,
    load_details,
    load_object_ids,
)
from coordination.audit.log import (
    AuditEvent,
    AuditEventObject,
    AuditTag,
    canonical_form,
    compute_hash,
    record_event,
)
from coordination.audit.sequencer import chain_events
from coordination.audit.verify import (
    BROKEN_CONTENT,
    INDEX_MISMATCH,
    verify_chain,
    verify_log,
    verify_object_index,
)
from coordination.models import User
from tests.factories import UserFactory

# What record_event lets into details: str (any code point; lone surrogates as a Python str can
# hold them), int of any size, bool, None, and lists of these.
AWKWARD_TEXT = st.sampled_from(["\ud800", "a\udfffb", "\x7f", "\x00\x1f\x08\x0c", "§ é 😀", "\\/"])
TEXT = st.one_of(st.text(max_size=30), AWKWARD_TEXT)
INTEGERS = st.one_of(
    st.integers(),
    st.integers(min_value=2**63 - 3, max_value=2**64 + 3),
    st.integers(min_value=-(2**63) - 3, max_value=-(2**63) + 3),
    st.sampled_from([2**100, -(2**100), 10**19, 0]),
)
SCALARS = st.one_of(TEXT, INTEGERS, st.booleans(), st.none())
DETAILS = st.dictionaries(st.text(max_size=12), st.one_of(SCALARS, st.lists(SCALARS, max_size=5)))


def orjson_reads_as_json(value: Any) -> bool:
    """No integer beyond 64 bits (orjson reads it as a float) and no lone surrogate (orjson
    refuses it): where this holds, the fast form must not give up."""
    if isinstance(value, dict):
        return all(orjson_reads_as_json(k) and orjson_reads_as_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(orjson_reads_as_json(v) for v in value)
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**64
    assert isinstance(value, str)
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in value)


@settings(max_examples=400, deadline=None)
@given(
    details=DETAILS,
    object_ids=st.lists(INTEGERS, max_size=6),
    tag=st.text(max_size=20),
    object_type=st.none() | st.text(max_size=12),
    when=st.datetimes(min_value=dt.datetime(1000, 1, 1)),  # noqa: DTZ001 - naive UTC, as read
    seq=st.integers(min_value=1, max_value=2**40),
    actor_user_id=st.none() | st.integers(min_value=1, max_value=2**31),
    prev_hash=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
)
def test_the_fast_canonical_form_is_canonical_form(
    details: dict[str, Any],
    object_ids: list[int],
    tag: str,
    object_type: str | None,
    when: dt.datetime,
    seq: int,
    actor_user_id: int | None,
    prev_hash: str,
) -> None:
    fields: dict[str, Any] = {
        "seq": seq,
        "actor_user_id": actor_user_id,
        "actor_agency_id": 7,
        "tag": tag,
        "object_type": object_type,
        "prev_hash": prev_hash,
    }
    expected = canonical_form(
        occurred_at=when.replace(tzinfo=dt.UTC), object_ids=object_ids, details=details, **fields
    )
    timestamp = canonical_timestamp(when)
    assert timestamp is not None
    # As the database gives the JSON columns back: the text SQLAlchemy's json.dumps stored.
    fast = fast_canonical_form(
        occurred_at=timestamp,
        object_ids=load_object_ids(json.dumps(object_ids)),
        details=load_details(json.dumps(details)),
        **fields,
    )
    if orjson_reads_as_json(details) and orjson_reads_as_json(object_ids):
        assert fast == expected
    else:
        assert fast is None or fast == expected


@settings(max_examples=300, deadline=None)
@given(when=st.datetimes())
def test_canonical_timestamps_are_canonical_forms_or_left_to_it(when: dt.datetime) -> None:
    text = canonical_timestamp(when)
    if when.year >= 1000:
        assert text == when.replace(tzinfo=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    else:
        assert text is None


def test_readers_leave_what_orjson_reads_differently_to_json() -> None:
    assert load_details('{"n": 123456789012345678901234567890}') is UNSURE  # a float in orjson
    assert load_details('{"n": 1.5}') is UNSURE
    assert load_details('{"n": NaN}') is UNSURE
    assert load_details('{"s": "\\ud800"}') is UNSURE
    assert load_details('{"nested": {"a": 1}}') is UNSURE
    assert load_details("[1]") is UNSURE
    assert load_object_ids("[1, true]") is UNSURE
    assert load_object_ids("[18446744073709551616]") is UNSURE
    assert load_details('{"s": "\\u00a7", "ids": [1, null, "x", false]}') == {
        "s": "§",
        "ids": [1, None, "x", False],
    }
    assert load_object_ids("[3, 1, 2]") == [3, 1, 2]


AWKWARD_DETAILS: list[dict[str, Any]] = [
    {"reference": "10 kap. 18 a § OSL", "child_id": 4},  # non-ASCII: escaped after orjson
    {"big": 2**70, "negative": -(2**65), "child_ids": [1, 3]},  # beyond 64 bits: json
    {"control": 'a\x00\x1f\x7f\n\t"\\/', "emoji": "😀"},
    {"mixed": [1, "x", None, True], "child_ids": [5, 5, 2], "child_id": 9},
    {"child_id": True, "child_ids": "7"},  # neither is an id
    {},
]


def record_awkward_events(db: Session) -> list[AuditEvent]:
    user = UserFactory()
    events = [
        record_event(
            db,
            user,
            AuditTag.ADMIN_AGENCY_UPDATE,
            object_type="agency",
            object_ids=[3, 1],
            details=details,
        )
        for details in AWKWARD_DETAILS
    ]
    events.append(
        record_event(
            db, user, AuditTag.ADMIN_USER_UPDATE, object_type="child", object_ids=[8], details={}
        )
    )
    events.append(record_event(db, None, AuditTag.AUTH_LOGIN_FAILURE, details={"child_id": 2}))
    assert chain_events(db) >= len(events)  # every event has its place in the chain
    return events


def event_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_every_kind_of_detail_verifies(db: Session) -> None:
    record_awkward_events(db)
    total = event_count(db)
    for batch in (1, 2, 5000):
        result = verify_log(db, batch)
        assert result.chain.ok and result.chain.checked == total
        assert result.index.ok and result.index.checked == total
    # The checks on their own give the same.
    assert verify_chain(db).checked == verify_object_index(db).checked == total


def seq_of(db: Session, details: dict[str, Any]) -> int:
    """The chain position of the awkward event with these details."""
    events = db.execute(select(AuditEvent.chain_position, AuditEvent.details)).all()
    return next(seq for seq, stored in events if stored == details)


def id_at(db: Session, position: int) -> int:
    """The id of the event at a chain position (the object index refers to ids)."""
    found = db.scalar(select(AuditEvent.seq).where(AuditEvent.chain_position == position))
    assert found is not None
    return found


def test_edits_of_events_the_fast_form_leaves_to_json_are_found(db: Session) -> None:
    record_awkward_events(db)
    for details in AWKWARD_DETAILS[:3]:
        seq = seq_of(db, details)
        edited = {**details, "extra": 1}
        db.execute(
            update(AuditEvent).where(AuditEvent.chain_position == seq).values(details=edited)
        )
        db.expire_all()
        result = verify_chain(db)
        assert (result.first_broken_seq, result.problem) == (seq, BROKEN_CONTENT)
        assert result.checked == seq - 1
        db.execute(
            update(AuditEvent).where(AuditEvent.chain_position == seq).values(details=details)
        )
        db.expire_all()
        assert verify_chain(db).ok


def test_a_rehashed_edit_of_a_non_ascii_event_breaks_the_next_link(db: Session) -> None:
    record_awkward_events(db)
    seq = seq_of(db, AWKWARD_DETAILS[0])
    forged = db.get(AuditEvent, id_at(db, seq))
    assert forged is not None
    forged.details = {"reference": "10 kap. 18 b § OSL", "child_id": 4}
    db.execute(
        update(AuditEvent)
        .where(AuditEvent.chain_position == seq)
        .values(details=forged.details, hash=compute_hash(forged))
    )
    db.expire_all()
    result = verify_chain(db)
    assert result.first_broken_seq == seq + 1
    assert "link" in (result.problem or "")


def index_rows(db: Session, position: int) -> set[tuple[str, int]]:
    return set(
        db.execute(
            select(AuditEventObject.object_type, AuditEventObject.object_id).where(
                AuditEventObject.seq == id_at(db, position)
            )
        ).all()
    )


def test_index_rows_of_every_shape_are_checked(db: Session) -> None:
    events = record_awkward_events(db)
    mixed = seq_of(db, AWKWARD_DETAILS[3])
    assert index_rows(db, mixed) == {("agency", 1), ("agency", 3), ("child", 2), ("child", 5)} | {
        ("child", 9)
    }
    child_typed, untyped = events[-2].chain_position, events[-1].chain_position
    assert child_typed is not None and untyped is not None
    # Each change to the index rows of an event is found at that event, whatever its shape.
    changes: list[tuple[int, Any]] = [
        (mixed, delete(AuditEventObject).where(AuditEventObject.object_id == 9)),
        (child_typed, delete(AuditEventObject).where(AuditEventObject.object_type == "child")),
        (untyped, delete(AuditEventObject).where(AuditEventObject.object_id == 2)),
        (mixed, insert(AuditEventObject).values(object_type="record", object_id=1)),
        (untyped, insert(AuditEventObject).values(object_type="child", object_id=3)),
        (child_typed, insert(AuditEventObject).values(object_type="agency", object_id=8)),
    ]
    for seq, change in changes:
        savepoint = db.begin_nested()
        if isinstance(change, Delete):
            db.execute(change.where(AuditEventObject.seq == id_at(db, seq)))
        else:
            db.execute(change.values(seq=id_at(db, seq)))
        result = verify_object_index(db)
        assert (result.first_broken_seq, result.problem) == (seq, INDEX_MISMATCH)
        assert result.checked == seq - 1
        savepoint.rollback()
    assert verify_object_index(db).ok


def test_one_pass_reports_the_chain_and_the_index_apart(db: Session) -> None:
    events = record_awkward_events(db)
    broken_chain, broken_index = events[1].chain_position, events[4].chain_position
    assert broken_chain is not None and broken_index is not None
    db.execute(
        update(AuditEvent)
        .where(AuditEvent.chain_position == broken_chain)
        .values(details={**AWKWARD_DETAILS[1], "big": 1})
    )
    db.execute(
        delete(AuditEventObject).where(
            AuditEventObject.seq == events[4].seq, AuditEventObject.object_id == 1
        )
    )
    db.expire_all()
    for batch in (1, 3, 5000):
        result = verify_log(db, batch)
        assert result.chain == verify_chain(db, batch)
        assert result.index == verify_object_index(db, batch)
        assert (result.chain.first_broken_seq, result.chain.checked) == (
            broken_chain,
            broken_chain - 1,
        )
        assert (result.index.first_broken_seq, result.index.checked) == (
            broken_index,
            broken_index - 1,
        )


def test_each_edit_of_an_index_row_is_found_at_its_event(db: Session) -> None:
    """An index row deleted, added or changed (its id, its type, the event it names): found at
    that event, for events of the common shape (a record view naming children) and the
    awkward ones alike; an edit that leaves the same rows behind is no finding."""
    user: User = UserFactory()
    record_awkward_events(db)
    viewed = record_event(
        db,
        user,
        AuditTag.ADMIN_USER_UPDATE,
        object_type="record",
        object_ids=[12, 10, 11],
        details={"purpose": "view", "child_ids": [4, 6], "withheld": 0},
    )
    one_child = record_event(db, user, AuditTag.ADMIN_USER_UPDATE, on=user, details={"child_id": 7})
    later = record_event(db, user, AuditTag.ADMIN_USER_UPDATE, object_type="record", object_ids=[1])
    chain_events(db)
    mixed = seq_of(db, AWKWARD_DETAILS[3])
    view, single, last = viewed.chain_position, one_child.chain_position, later.chain_position
    assert view is not None and single is not None and last is not None
    assert index_rows(db, view) == {("record", 10), ("record", 11), ("record", 12)} | {
        ("child", 4),
        ("child", 6),
    }
    rows = AuditEventObject.__table__.c

    def row(seq: int, object_type: str, object_id: int) -> Any:
        return (
            (rows.seq == id_at(db, seq))
            & (rows.object_type == object_type)
            & (rows.object_id == object_id)
        )

    changes: list[tuple[int, Any]] = [
        (view, delete(AuditEventObject).where(row(view, "record", 11))),
        (view, delete(AuditEventObject).where(row(view, "child", 6))),
        (
            view,
            insert(AuditEventObject).values(
                seq=id_at(db, view), object_type="record", object_id=13
            ),
        ),
        (
            view,
            insert(AuditEventObject).values(seq=id_at(db, view), object_type="child", object_id=5),
        ),
        (view, update(AuditEventObject).where(row(view, "record", 12)).values(object_id=14)),
        (view, update(AuditEventObject).where(row(view, "child", 4)).values(object_id=3)),
        (view, update(AuditEventObject).where(row(view, "record", 10)).values(object_type="child")),
        (view, update(AuditEventObject).where(row(view, "child", 6)).values(object_type="user")),
        (single, update(AuditEventObject).where(row(single, "child", 7)).values(object_id=8)),
        (
            single,
            update(AuditEventObject)
            .where(row(single, "user", user.id))
            .values(object_id=user.id + 1),
        ),
        (single, delete(AuditEventObject).where(row(single, "user", user.id))),
        (mixed, update(AuditEventObject).where(row(mixed, "agency", 3)).values(object_id=2)),
        (
            mixed,
            insert(AuditEventObject).values(
                seq=id_at(db, mixed), object_type="agency", object_id=2
            ),
        ),
        # A row moved to a later event: missing where it belonged, found there first.
        (view, update(AuditEventObject).where(row(view, "record", 10)).values(seq=id_at(db, last))),
        (last, delete(AuditEventObject).where(row(last, "record", 1))),
    ]
    for seq, change in changes:
        savepoint = db.begin_nested()
        db.execute(change)
        for batch in (2, 5000):
            result = verify_log(db, batch)
            assert (result.index.first_broken_seq, result.index.problem) == (seq, INDEX_MISMATCH)
            assert result.index.checked == seq - 1
            assert result.chain.ok  # the index is not part of the hash
        savepoint.rollback()
    # Deleting and re-adding the same row changes nothing the index check could see.
    savepoint = db.begin_nested()
    db.execute(delete(AuditEventObject).where(row(view, "record", 11)))
    db.execute(
        insert(AuditEventObject).values(seq=id_at(db, view), object_type="record", object_id=11)
    )
    assert verify_log(db).index.ok
    savepoint.rollback()
    assert verify_object_index(db).ok


def test_verify_leaves_the_transactions_settings_as_it_found_them(db: Session) -> None:
    """On PostgreSQL the pass runs without JIT (set for the transaction only) and puts the
    setting back; the transaction goes on."""
    record_awkward_events(db)
    postgresql = db.get_bind().dialect.name == "postgresql"
    setting = "SELECT current_setting('jit')" if postgresql else "SELECT 'on'"
    db.execute(text("SELECT set_config('jit', 'on', true)" if postgresql else "SELECT 1"))
    assert verify_log(db).index.ok
    assert db.scalar(text(setting)) == "on"
    assert event_count(db) > 0
