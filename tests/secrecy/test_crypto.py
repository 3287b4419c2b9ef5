"""Sealing: content opens only with its own key, on its own row, under the keys in force.

Records are made through ``secrecy.records.services``; keys are handled through
``secrecy.records.crypto`` and ``secrecy.records.sealing``, the modules that own them.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coordination.db import MASTER_KEYS_INFO, get_database
from coordination.models import Agency, AgencyKind, Child, CloseReason, User
from coordination.security import MasterKeyRing
from secrecy.models import AgencyKey, Record, RecordKey, SystemKey
from secrecy.policy.categories import categories
from secrecy.records import children as child_cases
from secrecy.records import crypto, reveal, sealing, services
from secrecy.records.reveal import Revealed
from tests.conftest import MASTER_KEY, Council3
from tests.factories import member_of_new_agency
from tests.numbers import personnummer

SOCIAL = AgencyKind.SOCIAL_SERVICES
POLICE = AgencyKind.POLICE
RING_CACHE = "samverkan.keyring"
OLD_MASTER = bytes(range(32))
NEW_MASTER = bytes(range(100, 132))
MARKER = "HEMLIG-MARKÖR-7f3a åäö"

HYPOTHESIS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def enrol(db: Session, actor: User, council_of: Council3, serial: int = 101) -> Child:
    data = child_cases.EnrolmentData(
        given_names="Kim",
        family_name="Testsson",
        personnummer=personnummer(dt.date(2012, 3, 15), serial),
    )
    return child_cases.enrol_child(db, actor, council_of.council, data)


def owner_key(db: Session, record: Record) -> RecordKey:
    key = db.get(RecordKey, (record.id, record.owner_agency_id))
    assert key is not None
    return key


def sealed_record(db: Session, author: User, child: Child, content: dict[str, Any]) -> Record:
    """A record with arbitrary JSON content (the services only write ``{"text": ...}``)."""
    record = Record(
        child_id=child.id, owner_agency_id=author.agency_id, category="school", author_id=author.id
    )
    db.add(record)
    db.flush()
    sealing.seal_record(db, record, content)
    db.flush()
    return record


def use_master_ring(db: Session, ring: MasterKeyRing) -> None:
    """Switch the session to other configured master keys; forget every unwrapped key."""
    db.info[MASTER_KEYS_INFO] = ring
    db.info.pop(RING_CACHE, None)


def fresh_ring(db: Session) -> crypto.KeyRing:
    """A key ring that knows nothing yet: every key is unwrapped again from the database."""
    db.info.pop(RING_CACHE, None)
    db.expire_all()
    return crypto.keyring(db)


def flipped(blob: bytes, position: int) -> bytes:
    changed = bytearray(blob)
    changed[position] ^= 0x01
    return bytes(changed)


@pytest.fixture
def child(db: Session, world: Council3) -> Child:
    return enrol(db, world.members[SOCIAL], world)


@pytest.fixture
def record(db: Session, world: Council3, child: Child) -> Record:
    return services.create_record(db, world.members[SOCIAL], child, "school", MARKER)


# --- Round trip ---------------------------------------------------------------------------------


def test_the_owner_key_opens_the_content(db: Session, record: Record) -> None:
    assert crypto.open_record(crypto.keyring(db), record, owner_key(db, record)) == {"text": MARKER}
    # A second key ring reads every key back from the database, not from a cache.
    reloaded = db.get(Record, record.id)
    assert reloaded is not None
    assert crypto.open_record(fresh_ring(db), reloaded, owner_key(db, reloaded)) == {"text": MARKER}


def test_ciphertext_and_wrapped_keys_hold_no_plaintext(
    db: Session, world: Council3, child: Child
) -> None:
    author = world.members[SOCIAL]
    record = Record(
        child_id=child.id, owner_agency_id=author.agency_id, category="school", author_id=author.id
    )
    db.add(record)
    db.flush()
    data_key = sealing.seal_record(db, record, {"text": MARKER})
    db.flush()
    assert record.ciphertext is not None
    assert len(data_key) == crypto.KEY_BYTES
    for secret in (MARKER.encode(), "HEMLIG-MARKÖR".encode(), json.dumps(MARKER).encode()):
        assert secret not in record.ciphertext
    assert data_key not in record.ciphertext
    assert data_key not in owner_key(db, record).wrapped_key
    agency_row = db.scalars(select(AgencyKey).where(AgencyKey.agency_id == author.agency_id)).one()
    assert OLD_MASTER not in agency_row.wrapped_key
    agency_version, agency_key = crypto.keyring(db).active_agency_key(author.agency_id)
    assert agency_version == agency_row.version == 1
    assert agency_key not in agency_row.wrapped_key


def test_equal_content_seals_differently(
    db: Session, world: Council3, child: Child, record: Record
) -> None:
    twin = services.create_record(db, world.members[SOCIAL], child, "school", MARKER)
    assert record.ciphertext != twin.ciphertext
    assert owner_key(db, record).wrapped_key != owner_key(db, twin).wrapped_key


def test_sealing_needs_a_flushed_record(db: Session, world: Council3, child: Child) -> None:
    author = world.members[SOCIAL]
    record = Record(
        child_id=child.id, owner_agency_id=author.agency_id, category="school", author_id=author.id
    )
    with pytest.raises(ValueError, match="flush the record first"):
        crypto.seal_new_record(crypto.keyring(db), record, {"text": "x"})


# --- Tampering and moving -----------------------------------------------------------------------


@pytest.mark.parametrize("position", [0, crypto.NONCE_BYTES, crypto.NONCE_BYTES + 3, -1])
def test_a_flipped_ciphertext_byte_fails(db: Session, record: Record, position: int) -> None:
    assert record.ciphertext is not None
    record.ciphertext = flipped(record.ciphertext, position)
    db.flush()
    db.expire(record)
    with pytest.raises(crypto.SealingError, match=f"record {record.id} failed to open"):
        crypto.open_record(crypto.keyring(db), record, owner_key(db, record))


def test_a_truncated_ciphertext_fails(db: Session, record: Record) -> None:
    assert record.ciphertext is not None
    record.ciphertext = record.ciphertext[: crypto.NONCE_BYTES + 4]
    with pytest.raises(crypto.SealingError):
        crypto.open_record(crypto.keyring(db), record, owner_key(db, record))


@pytest.mark.parametrize("change", ["category", "owner"])
def test_changed_record_metadata_fails(
    db: Session, world: Council3, record: Record, change: str
) -> None:
    key = owner_key(db, record)
    ring = crypto.keyring(db)
    original = (record.category, record.owner_agency_id)
    with db.no_autoflush:
        if change == "category":
            record.category = "health"
        else:
            record.owner_agency_id = world.agencies[POLICE].id
        with pytest.raises(crypto.SealingError):
            crypto.open_record(ring, record, key)
        record.category, record.owner_agency_id = original
    assert crypto.open_record(ring, record, key) == {"text": MARKER}


def test_ciphertext_bound_to_its_record_id(db: Session, world: Council3, record: Record) -> None:
    """Even with the data key correctly wrapped for another id, the content does not open
    there: the record id is part of the content's associated data."""
    ring = crypto.keyring(db)
    data_key = crypto.unwrap_data_key(ring, owner_key(db, record))
    moved = Record(
        id=record.id + 1_000_000,
        owner_agency_id=record.owner_agency_id,
        category=record.category,
        ciphertext=record.ciphertext,
    )
    moved_key = crypto.wrap_data_key(ring, moved, data_key, record.owner_agency_id)
    db.expunge(moved_key)
    assert crypto.unwrap_data_key(ring, moved_key) == data_key
    with pytest.raises(crypto.SealingError, match=f"record {moved.id} failed to open"):
        crypto.open_record(ring, moved, moved_key)


def test_swapped_ciphertexts_fail(
    db: Session, world: Council3, child: Child, record: Record
) -> None:
    other = services.create_record(db, world.members[SOCIAL], child, "school", "annan uppgift")
    record.ciphertext, other.ciphertext = other.ciphertext, record.ciphertext
    db.flush()
    ring = fresh_ring(db)
    for row in (db.get(Record, record.id), db.get(Record, other.id)):
        assert row is not None
        with pytest.raises(crypto.SealingError):
            crypto.open_record(ring, row, owner_key(db, row))


def test_the_key_of_another_record_is_refused(
    db: Session, world: Council3, child: Child, record: Record
) -> None:
    other = services.create_record(db, world.members[POLICE], child, "crime_police", "polis")
    with pytest.raises(crypto.SealingError, match="another record"):
        crypto.open_record(crypto.keyring(db), record, owner_key(db, other))


def test_a_wrapped_key_claimed_by_another_agency_fails(
    db: Session, world: Council3, record: Record
) -> None:
    ring = crypto.keyring(db)
    police_id = world.agencies[POLICE].id
    ring.active_agency_key(police_id)  # the police has a key of its own
    stolen = RecordKey(
        record_id=record.id,
        agency_id=police_id,
        agency_key_version=1,
        wrapped_key=owner_key(db, record).wrapped_key,
    )
    with pytest.raises(crypto.SealingError, match=f"for agency {police_id}"):
        crypto.open_record(ring, record, stolen)


def test_a_data_key_wrapped_under_another_agency_key_fails(
    db: Session, world: Council3, record: Record
) -> None:
    ring = crypto.keyring(db)
    police_id = world.agencies[POLICE].id
    data_key = crypto.unwrap_data_key(ring, owner_key(db, record))
    police_key = crypto.wrap_data_key(ring, record, data_key, police_id)
    db.flush()
    # The legitimately wrapped key opens (so the failure below is the key, not the content).
    assert crypto.open_record(ring, record, police_key) == {"text": MARKER}
    owners = owner_key(db, record)
    owners.wrapped_key = police_key.wrapped_key
    db.flush()
    with pytest.raises(crypto.SealingError):
        crypto.open_record(fresh_ring(db), record, owner_key(db, record))


@pytest.mark.parametrize("position", [0, crypto.NONCE_BYTES + 1, -1])
def test_a_tampered_agency_key_fails(db: Session, record: Record, position: int) -> None:
    row = db.scalars(select(AgencyKey).where(AgencyKey.agency_id == record.owner_agency_id)).one()
    db.execute(
        update(AgencyKey)
        .where(AgencyKey.id == row.id)
        .values(wrapped_key=flipped(row.wrapped_key, position))
    )
    ring = fresh_ring(db)
    with pytest.raises(crypto.SealingError, match=f"agency key {record.owner_agency_id}/1"):
        crypto.open_record(ring, record, owner_key(db, record))


def test_agency_keys_swapped_between_agencies_fail(
    db: Session, world: Council3, record: Record
) -> None:
    police_id = world.agencies[POLICE].id
    crypto.keyring(db).active_agency_key(police_id)
    social_row = db.scalars(
        select(AgencyKey).where(AgencyKey.agency_id == record.owner_agency_id)
    ).one()
    police_row = db.scalars(select(AgencyKey).where(AgencyKey.agency_id == police_id)).one()
    social_row.wrapped_key, police_row.wrapped_key = police_row.wrapped_key, social_row.wrapped_key
    db.flush()
    with pytest.raises(crypto.SealingError):
        crypto.open_record(fresh_ring(db), record, owner_key(db, record))


def test_an_agency_key_version_that_does_not_exist_fails(db: Session, record: Record) -> None:
    ring = fresh_ring(db)
    key = owner_key(db, record)
    key.agency_key_version = 9
    with pytest.raises(crypto.SealingError, match=f"agency key {key.agency_id}/9 does not exist"):
        crypto.open_record(ring, record, key)


def test_unknown_master_version_is_a_lookup_error(db: Session, record: Record) -> None:
    db.execute(
        update(AgencyKey)
        .where(AgencyKey.agency_id == record.owner_agency_id)
        .values(master_version=7)
    )
    with pytest.raises(LookupError, match="master key version 7 is not configured"):
        crypto.open_record(fresh_ring(db), record, owner_key(db, record))


def test_a_ring_without_the_sealing_master_version_cannot_open(db: Session, record: Record) -> None:
    use_master_ring(db, MasterKeyRing(2, {2: NEW_MASTER}))
    db.expire_all()
    with pytest.raises(LookupError, match="version 1"):
        crypto.open_record(crypto.keyring(db), record, owner_key(db, record))


def test_a_wrong_master_key_under_the_same_version_fails(db: Session, record: Record) -> None:
    use_master_ring(db, MasterKeyRing(1, {1: NEW_MASTER}))
    db.expire_all()
    with pytest.raises(crypto.SealingError):
        crypto.open_record(crypto.keyring(db), record, owner_key(db, record))


def test_a_shredded_record_does_not_open(db: Session, world: Council3, record: Record) -> None:
    key = owner_key(db, record)
    db.expunge(key)  # keep the key in hand: shredding deletes its row
    child_cases.close_case(db, world.members[SOCIAL], record.child, CloseReason.AGE_LIMIT)
    sealing.shred_child(db, record.child)
    db.refresh(record)
    assert record.ciphertext is None and record.is_shredded
    assert db.scalars(select(RecordKey).where(RecordKey.record_id == record.id)).all() == []
    with pytest.raises(crypto.SealingError, match="shredded"):
        crypto.open_record(crypto.keyring(db), record, key)


def test_the_keyring_needs_the_app_session(db: Session) -> None:
    bare = Session(bind=db.get_bind())
    try:
        with pytest.raises(RuntimeError, match="session factory"):
            crypto.keyring(bare)
    finally:
        bare.close()


# --- Rotation -----------------------------------------------------------------------------------


def test_agency_rotation_keeps_records_readable(
    db: Session, world: Council3, child: Child, record: Record
) -> None:
    social = world.members[SOCIAL]
    second = services.create_record(db, social, child, "family", "andra")
    police_record = services.create_record(db, world.members[POLICE], child, "crime_police", "p")
    agency_id = social.agency_id
    identity = services.current_identity_record(db, child)
    assert identity is not None
    before = {r.id: owner_key(db, r).wrapped_key for r in (identity, record, second)}

    new_version, rewrapped = sealing.rotate_agency_key(db, agency_id, batch=2)

    assert (new_version, rewrapped) == (2, 3)
    rows = {
        row.version: row
        for row in db.scalars(select(AgencyKey).where(AgencyKey.agency_id == agency_id))
    }
    assert rows[2].active is True
    # The old version is retired: inactive, or deleted once no data key needs it.
    assert 1 not in rows or rows[1].active is False
    assert [v for v, row in rows.items() if row.active] == [2]
    for rec in (identity, record, second):
        key = owner_key(db, rec)
        assert key.agency_key_version == 2
        assert key.wrapped_key != before[rec.id]
    police_key = owner_key(db, police_record)
    assert police_key.agency_key_version == 1  # another agency's keys are not touched
    # The same session seals new records under the new version.
    third = services.create_record(db, social, child, "school", "efter rotation")
    assert owner_key(db, third).agency_key_version == 2

    ring = fresh_ring(db)
    assert ring.active_agency_key(agency_id)[0] == 2
    results = reveal.reveal_records(
        db, social, [r for r in services.child_records(db, child) if r.owner_agency_id == agency_id]
    )
    assert all(isinstance(r, Revealed) for r in results)
    contents = [r.content for r in results if isinstance(r, Revealed)]
    assert contents[1:] == [{"text": MARKER}, {"text": "andra"}, {"text": "efter rotation"}]
    assert contents[0]["family_name"] == "Testsson"
    # Nothing is wrapped under the retired version any more.
    assert (
        db.scalars(
            select(RecordKey).where(
                RecordKey.agency_id == agency_id, RecordKey.agency_key_version == 1
            )
        ).all()
        == []
    )


def test_agency_rotation_twice_and_progress(db: Session, world: Council3, record: Record) -> None:
    agency_id = record.owner_agency_id
    seen: list[int] = []
    assert sealing.rotate_agency_key(db, agency_id, progress=seen.append) == (2, 2)
    assert sum(seen) == 2  # the identity record and the school record
    assert sealing.rotate_agency_key(db, agency_id) == (3, 2)
    active = db.scalars(
        select(AgencyKey.version).where(
            AgencyKey.agency_id == agency_id, AgencyKey.active.is_(True)
        )
    ).all()
    assert active == [3]
    assert crypto.open_record(fresh_ring(db), record, owner_key(db, record)) == {"text": MARKER}


def test_rotating_an_agency_without_keys_creates_version_one(db: Session, world: Council3) -> None:
    agency_id = world.agencies[AgencyKind.LEISURE].id
    assert sealing.rotate_agency_key(db, agency_id) == (1, 0)
    assert crypto.keyring(db).active_agency_key(agency_id)[0] == 1


def test_master_rotation_rewraps_everything(
    db: Session, world: Council3, child: Child, record: Record
) -> None:
    police_record = services.create_record(db, world.members[POLICE], child, "crime_police", "p")
    index_before = sealing.personnummer_index(db, "201203151019")
    birth_before = reveal.child_birth_date(db, child.id, child.birth_date_sealed)
    assert birth_before == dt.date(2012, 3, 15)
    agency_rows = db.scalars(select(AgencyKey)).all()
    system_rows = db.scalars(select(SystemKey)).all()
    assert len(agency_rows) == 2 and len(system_rows) == 2
    assert sealing.count_keys(db) == 4

    use_master_ring(db, MasterKeyRing(2, {1: OLD_MASTER, 2: NEW_MASTER}))
    progress: list[int] = []
    result = sealing.rotate_master(db, progress=progress.append)
    assert result == sealing.MasterRotation(agency_keys=2, system_keys=2)
    assert sum(progress) == 4
    assert {row.master_version for row in db.scalars(select(AgencyKey))} == {2}
    assert {row.master_version for row in db.scalars(select(SystemKey))} == {2}
    # Nothing left to do the second time.
    assert sealing.rotate_master(db) == sealing.MasterRotation(0, 0)

    use_master_ring(db, MasterKeyRing(2, {2: NEW_MASTER}))
    db.expire_all()
    ring = crypto.keyring(db)
    for rec, text in ((record, MARKER), (police_record, "p")):
        assert crypto.open_record(ring, rec, owner_key(db, rec)) == {"text": text}
    assert sealing.personnummer_index(db, "201203151019") == index_before
    assert reveal.child_birth_date(db, child.id, child.birth_date_sealed) == birth_before

    # The old master alone no longer opens anything.
    use_master_ring(db, MasterKeyRing(1, {1: OLD_MASTER}))
    db.expire_all()
    with pytest.raises(LookupError, match="version 2"):
        crypto.open_record(crypto.keyring(db), record, owner_key(db, record))


def test_new_keys_after_master_rotation_use_the_current_version(
    db: Session, world: Council3, child: Child
) -> None:
    use_master_ring(db, MasterKeyRing(2, {1: OLD_MASTER, 2: NEW_MASTER}))
    police_record = services.create_record(db, world.members[POLICE], child, "crime_police", "p")
    police_row = db.scalars(
        select(AgencyKey).where(AgencyKey.agency_id == world.agencies[POLICE].id)
    ).one()
    assert police_row.master_version == 2
    use_master_ring(db, MasterKeyRing(2, {2: NEW_MASTER}))
    db.expire_all()
    assert crypto.open_record(crypto.keyring(db), police_record, owner_key(db, police_record)) == {
        "text": "p"
    }


def test_the_test_master_key_is_the_configured_one(db: Session) -> None:
    ring = db.info[MASTER_KEYS_INFO]
    assert isinstance(ring, MasterKeyRing)
    assert ring.current_version == 1
    assert ring.current == OLD_MASTER == base64.b64decode(MASTER_KEY)


# --- The key ring forgets what was rolled back --------------------------------------------------


def new_member(db: Session, world: Council3) -> User:
    return member_of_new_agency(
        db, world.council, AgencyKind.SCHOOL, "Nya skolan", email="ny@example.com"
    )


def test_a_key_from_a_rolled_back_savepoint_is_forgotten(
    db: Session, world: Council3, child: Child
) -> None:
    author = new_member(db, world)
    agency_id = author.agency_id
    savepoint = db.begin_nested()
    services.create_record(db, author, child, "school", "försvinner")
    doomed_ring = crypto.keyring(db)
    assert doomed_ring.active_agency_key(agency_id)[0] == 1
    savepoint.rollback()

    assert db.scalars(select(AgencyKey).where(AgencyKey.agency_id == agency_id)).all() == []
    assert crypto.keyring(db) is not doomed_ring
    kept = services.create_record(db, author, child, "school", "stannar")
    rows = db.scalars(select(AgencyKey).where(AgencyKey.agency_id == agency_id)).all()
    assert [row.version for row in rows] == [1]
    # Opened by a ring that unwraps the agency key from the database, as the next request does.
    assert crypto.open_record(fresh_ring(db), kept, owner_key(db, kept)) == {"text": "stannar"}


def as_seen_by(session: Session, author: User, child: Child) -> tuple[User, Child]:
    """The author and the child loaded in ``session`` (another session than the test's)."""
    actor = session.get(User, author.id)
    again = session.get(Child, child.id)
    assert actor is not None and again is not None
    return actor, again


def test_a_key_from_a_rolled_back_transaction_is_forgotten(
    app: Flask, db: Session, world: Council3, child: Child
) -> None:
    author = new_member(db, world)
    session = get_database(app).session_factory()
    try:
        actor, again = as_seen_by(session, author, child)
        services.create_record(session, actor, again, "school", "försvinner")
        session.rollback()
        assert RING_CACHE not in session.info
        actor, again = as_seen_by(session, author, child)
        kept = services.create_record(session, actor, again, "school", "stannar")
        key = session.get(RecordKey, (kept.id, author.agency_id))
        assert key is not None
        session.info.pop(RING_CACHE)
        assert crypto.open_record(crypto.keyring(session), kept, key) == {"text": "stannar"}
    finally:
        session.close()


def test_a_key_from_a_transaction_ended_by_close_is_forgotten(
    app: Flask, db: Session, world: Council3, child: Child
) -> None:
    """crypto's docstring: keys are "forgotten when the session rolls back or closes". A
    session closed without an explicit rollback abandons its transaction too, and may be used
    again afterwards."""
    author = new_member(db, world)
    session = get_database(app).session_factory()
    try:
        actor, again = as_seen_by(session, author, child)
        services.create_record(session, actor, again, "school", "försvinner")
        session.close()  # the uncommitted agency key is gone from the database

        actor, again = as_seen_by(session, author, child)
        kept = services.create_record(session, actor, again, "school", "stannar")
        key = session.get(RecordKey, (kept.id, author.agency_id))
        assert key is not None
        session.info.pop(RING_CACHE, None)
        assert crypto.open_record(crypto.keyring(session), kept, key) == {"text": "stannar"}
    finally:
        session.close()


# --- Properties ---------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
contents = st.one_of(
    st.builds(lambda text: {"text": text}, st.text()),
    st.dictionaries(st.text(), json_values, max_size=6),
)


@HYPOTHESIS
@given(content=contents)
def test_seal_then_open_returns_the_content(
    db: Session, world: Council3, child: Child, content: dict[str, Any]
) -> None:
    record = sealed_record(db, world.members[SOCIAL], child, content)
    assert crypto.open_record(crypto.keyring(db), record, owner_key(db, record)) == content


@HYPOTHESIS
@given(
    content=contents,
    mutation=st.sampled_from(["category", "owner", "id"]),
    choice=st.integers(min_value=1, max_value=10_000),
)
def test_open_under_changed_associated_data_fails(
    db: Session,
    world: Council3,
    child: Child,
    content: dict[str, Any],
    mutation: str,
    choice: int,
) -> None:
    record = sealed_record(db, world.members[SOCIAL], child, content)
    ring = crypto.keyring(db)
    key = owner_key(db, record)
    others = [c for c in categories() if c != record.category]
    agencies = [a.id for a in world.agencies.values() if a.id != record.owner_agency_id]
    moved = Record(
        id=record.id + 1_000_000 + choice if mutation == "id" else record.id,
        owner_agency_id=(
            agencies[choice % len(agencies)] if mutation == "owner" else record.owner_agency_id
        ),
        category=others[choice % len(others)] if mutation == "category" else record.category,
        ciphertext=record.ciphertext,
    )
    if mutation == "id":
        # A correctly wrapped data key for the other id: only the content's AAD can object.
        key = crypto.wrap_data_key(ring, moved, crypto.unwrap_data_key(ring, key), key.agency_id)
        db.expunge(key)
    with pytest.raises(crypto.SealingError):
        crypto.open_record(ring, moved, key)
    assert crypto.open_record(ring, record, owner_key(db, record)) == content


# --- Blind index --------------------------------------------------------------------------------


def test_blind_index(db: Session) -> None:
    number, other = "201203151019", "201203151027"
    index = sealing.personnummer_index(db, number)
    assert re.fullmatch(r"[0-9a-f]{64}", index)
    assert sealing.personnummer_index(db, number) == index
    assert sealing.personnummer_index(db, other) != index
    for part in (number, number[2:], number[:8], number[8:]):
        assert part not in index
    # Keyed: not a plain hash of the number.
    assert index != hashlib.sha256(number.encode()).hexdigest()
    # The key is stored (wrapped): a new key ring gives the same index.
    fresh_ring(db)
    assert sealing.personnummer_index(db, number) == index
    row = db.get(SystemKey, crypto.BLIND_INDEX_PURPOSE)
    assert row is not None and row.master_version == 1


def test_a_system_key_created_by_another_session_at_the_same_moment_is_used(
    app: Flask, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers' first enrolments at once: both read no blind-index key and both create
    one. The second insert fails on the purpose and its session uses the first one's key (the
    bench generator's second worker died of this), so both index a number alike."""
    number = "201203151019"
    first = get_database(app).session_factory()
    second = get_database(app).session_factory()
    try:
        real_get = second.get
        reads: list[str] = []

        def read_before_the_other_committed(entity: Any, ident: Any, **kwargs: Any) -> Any:
            if entity is SystemKey and not reads:
                reads.append(ident)
                return None  # what it read before the first session's commit
            return real_get(entity, ident, **kwargs)

        monkeypatch.setattr(second, "get", read_before_the_other_committed)
        index = sealing.personnummer_index(first, number)
        first.commit()
        assert sealing.personnummer_index(second, number) == index
        assert reads == [crypto.BLIND_INDEX_PURPOSE]
        second.commit()
        assert db.scalars(select(SystemKey.purpose)).all() == [crypto.BLIND_INDEX_PURPOSE]
    finally:
        first.close()
        second.close()


@HYPOTHESIS
@given(a=st.from_regex(r"\A[0-9]{12}\Z"), b=st.from_regex(r"\A[0-9]{12}\Z"))
def test_blind_index_equal_exactly_for_equal_numbers(db: Session, a: str, b: str) -> None:
    index_a, index_b = sealing.personnummer_index(db, a), sealing.personnummer_index(db, b)
    assert (index_a == index_b) == (a == b)
    assert a not in index_a


def test_child_facts_are_bound_to_their_child(db: Session, world: Council3, child: Child) -> None:
    other = enrol(db, world.members[SOCIAL], world, serial=202)
    assert child.birth_date_sealed is not None
    assert b"2012-03-15" not in child.birth_date_sealed
    with pytest.raises(crypto.SealingError):
        reveal.child_birth_date(db, other.id, child.birth_date_sealed)
    assert reveal.child_birth_date(db, other.id, None) is None


@HYPOTHESIS
@given(level=st.from_regex(r"\A[a-z0-9][a-z0-9_]{0,39}\Z"))
def test_an_assessment_level_opens_only_for_its_child_and_record_and_its_length_says_nothing(
    db: Session, child: Child, level: str
) -> None:
    sealed = sealing.seal_assessment_level(db, child.id, 7, level)
    assert level.encode() not in sealed or len(level) < 4  # a short code may occur by chance
    assert len(sealed) == len(sealing.seal_assessment_level(db, child.id, 7, "x"))
    opened = reveal.assessment_levels(
        db,
        [
            reveal.SealedLevel(child.id, 7, sealed),
            reveal.SealedLevel(child.id, 8, sealed),  # another assessment's row
            reveal.SealedLevel(child.id + 1, 7, sealed),  # another child's
        ],
    )
    assert opened == [level, None, None]


def test_assessment_levels_fail_loudly_when_the_child_facts_key_does_not_open(
    db: Session, child: Child
) -> None:
    sealed = reveal.SealedLevel(child.id, 7, sealing.seal_assessment_level(db, child.id, 7, "low"))
    use_master_ring(db, MasterKeyRing(1, {1: NEW_MASTER}))
    db.expire_all()
    with pytest.raises(crypto.SealingError, match="system key child-facts"):
        reveal.assessment_levels(db, [sealed])


def test_an_assessment_level_is_a_level_code(db: Session, child: Child) -> None:
    for bad in ("", "x" * 41, " low"):
        with pytest.raises(ValueError, match="a level code has") as refused:
            sealing.seal_assessment_level(db, child.id, 7, bad)
        assert not bad.strip() or bad.strip() not in str(refused.value)


def test_agencies_in_world_have_no_keys_until_they_seal(db: Session, world: Council3) -> None:
    assert db.scalars(select(AgencyKey)).all() == []
    agency = db.get(Agency, world.agencies[POLICE].id)
    assert agency is not None
    version, key = crypto.keyring(db).active_agency_key(agency.id)
    assert version == 1 and len(key) == crypto.KEY_BYTES
    assert crypto.keyring(db).active_agency_key(agency.id) == (version, key)
