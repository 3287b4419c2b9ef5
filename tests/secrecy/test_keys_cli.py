"""Key management and retention from the command line: ``flask keys ...`` and
``flask retention run``; master rotation also at service level with a second master key."""

from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coordination import security
from coordination.accounts.services import reseal_totp_secrets
from coordination.audit.verify import verify_chain
from coordination.db import MASTER_KEYS_INFO, get_database, today_local, utcnow
from coordination.models import AgencyKind, Child, ChildStatus, CloseReason, Council, User
from coordination.security import MasterKeyRing
from secrecy.models import AgencyKey, Record, RecordKey, SystemKey
from secrecy.policy.engine import WithheldReason
from secrecy.records import sealing
from secrecy.records.children import EnrolmentData, close_case, enrol_child
from secrecy.records.reveal import (
    Revealed,
    Withheld,
    check_owner_keys,
    child_birth_date,
    reveal_records,
)
from secrecy.records.services import create_record
from secrecy.tags import SecrecyTag
from tests.conftest import Council3, audit_events

KEYRING_INFO = "samverkan.keyring"  # where secrecy.records.crypto caches a session's unwrapped keys


def enrol(db: Session, actor: User, council: Council, given: str, personnummer: str) -> Child:
    return enrol_child(
        db,
        actor,
        council,
        EnrolmentData(given_names=given, family_name="Provsson", personnummer=personnummer),
    )


def marker() -> str:
    return f"MARKÖR-{uuid.uuid4().hex}"


def assert_all_reveal(db: Session, viewer: User, expected: dict[int, str]) -> None:
    """Every record id in ``expected`` opens for ``viewer`` and contains its marker."""
    records = db.scalars(select(Record).where(Record.id.in_(expected))).all()
    results = reveal_records(db, viewer, records)
    assert len(results) == len(expected)
    for result in results:
        assert isinstance(result, Revealed), result
        assert expected[result.record.id] in str(result.content)


def fresh_keys(db: Session, master: MasterKeyRing) -> None:
    """Give the test session other master keys and drop its cached unwrapped keys, so the next
    operation unwraps everything again from the database."""
    db.info[MASTER_KEYS_INFO] = master
    db.info.pop(KEYRING_INFO, None)
    db.expire_all()


@pytest.fixture
def sealed(db: Session, world: Council3) -> dict[int, str]:
    """Two children with records of the social services and the police: record id -> marker
    (the identity records are keyed by their child's given name)."""
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    police = world.members[AgencyKind.POLICE]
    first = enrol(db, social, world.council, "Tindra", "20120315-1236")
    second = enrol(db, social, world.council, "Melker", "20110807-4566")
    expected: dict[int, str] = {}
    for child in (first, second):
        for actor, category in ((social, "family"), (police, "crime_police")):
            text = marker()
            expected[create_record(db, actor, child, category, text).id] = text
    for record in db.scalars(select(Record).where(Record.category == "identity")):
        expected[record.id] = "Tindra" if record.child_id == first.id else "Melker"
    db.flush()
    return expected


def owned_by(db: Session, expected: dict[int, str], agency_id: int) -> dict[int, str]:
    owners = dict(db.execute(select(Record.id, Record.owner_agency_id)).all())
    return {rid: text for rid, text in expected.items() if owners[rid] == agency_id}


# --- keys check -----------------------------------------------------------------------------------


def test_keys_check_passes_when_every_record_opens(
    app: Flask, db: Session, sealed: dict[int, str]
) -> None:
    result = app.test_cli_runner().invoke(args=["keys", "check"])
    assert result.exit_code == 0, result.output
    assert f"{len(sealed)} uppgifter kontrollerade, inga fel" in result.output
    db.expire_all()
    (event,) = audit_events(db, SecrecyTag.KEYS_CHECK)
    assert event.details == {"checked": len(sealed), "problems": 0}
    assert event.actor_user_id is None
    assert verify_chain(db).ok


def test_keys_check_names_broken_records_and_exits_1(
    app: Flask, db: Session, world: Council3, sealed: dict[int, str]
) -> None:
    social_id = world.agencies[AgencyKind.SOCIAL_SERVICES].id
    tampered, unkeyed = sorted(owned_by(db, sealed, social_id))[:2]
    blob = db.scalar(select(Record.ciphertext).where(Record.id == tampered))
    assert blob is not None
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    db.execute(update(Record).where(Record.id == tampered).values(ciphertext=flipped))
    db.execute(
        RecordKey.__table__.delete().where(  # type: ignore[attr-defined]
            RecordKey.record_id == unkeyed, RecordKey.agency_id == social_id
        )
    )
    db.flush()

    result = app.test_cli_runner().invoke(args=["keys", "check"])

    assert result.exit_code == 1, result.output
    assert f"uppgift {tampered}: record {tampered} failed to open" in result.output
    assert f"uppgift {unkeyed}: the owner agency has no wrapped key" in result.output
    assert "inga fel" not in result.output
    db.expire_all()
    (event,) = audit_events(db, SecrecyTag.KEYS_CHECK)
    assert event.details == {"checked": len(sealed), "problems": 2}
    assert event.object_ids == sorted([tampered, unkeyed])


# --- keys rotate-agency ---------------------------------------------------------------------------


def test_rotate_agency_by_id_rewraps_every_key_and_everything_still_opens(
    app: Flask, db: Session, world: Council3, sealed: dict[int, str]
) -> None:
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    agency_id = social.agency_id
    mine = owned_by(db, sealed, agency_id)
    before = dict(
        db.execute(
            select(RecordKey.record_id, RecordKey.wrapped_key).where(
                RecordKey.agency_id == agency_id
            )
        ).all()
    )
    assert set(before) == set(mine) and len(mine) == 4  # two identity, two family records

    result = app.test_cli_runner().invoke(args=["keys", "rotate-agency", str(agency_id)])

    assert result.exit_code == 0, result.output
    assert f"nyckelversion 2, {len(mine)} uppgiftsnycklar omförseglade" in result.output
    fresh_keys(db, db.info[MASTER_KEYS_INFO])
    versions = db.execute(
        select(AgencyKey.version, AgencyKey.active)
        .where(AgencyKey.agency_id == agency_id)
        .order_by(AgencyKey.version)
    ).all()
    # The retired version wraps nothing any more, so it is deleted: a leaked copy opens nothing.
    assert [tuple(v) for v in versions] == [(2, True)]
    after = db.execute(
        select(RecordKey.record_id, RecordKey.agency_key_version, RecordKey.wrapped_key).where(
            RecordKey.agency_id == agency_id
        )
    ).all()
    assert {row.record_id for row in after} == set(before)
    assert all(row.agency_key_version == 2 for row in after)
    assert all(row.wrapped_key != before[row.record_id] for row in after)
    (event,) = audit_events(db, SecrecyTag.KEYS_ROTATE_AGENCY)
    assert event.details == {"agency_id": agency_id, "version": 2, "rewrapped": len(mine)}
    assert event.object_ids == [agency_id]

    assert_all_reveal(db, social, mine)
    police = world.members[AgencyKind.POLICE]
    assert_all_reveal(db, police, owned_by(db, sealed, police.agency_id))
    # New records are sealed under the new version, and the check agrees.
    text = marker()
    child = db.scalars(select(Child).order_by(Child.id)).first()
    assert child is not None
    record = create_record(db, social, child, "school", text)
    db.flush()
    key = db.get(RecordKey, (record.id, agency_id))
    assert key is not None and key.agency_key_version == 2
    assert_all_reveal(db, social, {record.id: text})
    assert check_owner_keys(db) == (len(sealed) + 1, [])


def test_rotate_agency_by_name_and_an_unknown_agency(
    app: Flask, db: Session, world: Council3, sealed: dict[int, str]
) -> None:
    police = world.agencies[AgencyKind.POLICE]
    runner = app.test_cli_runner()

    result = runner.invoke(args=["keys", "rotate-agency", police.name])
    assert result.exit_code == 0, result.output
    assert f"{police.name} (id {police.id}): nyckelversion 2, 2 uppgiftsnycklar" in result.output

    # A superscript digit passes str.isdigit but is no id, nor are more digits than an id
    # column holds: each is looked up as a name, not found.
    for name in ("Ingen sådan myndighet", "\N{SUPERSCRIPT TWO}", "9" * 30):
        unknown = runner.invoke(args=["keys", "rotate-agency", name])
        assert unknown.exit_code != 0
        assert "Det finns ingen myndighet" in unknown.output
    db.expire_all()
    assert [e.details["agency_id"] for e in audit_events(db, SecrecyTag.KEYS_ROTATE_AGENCY)] == [
        police.id
    ]
    fresh_keys(db, db.info[MASTER_KEYS_INFO])
    assert_all_reveal(db, world.members[AgencyKind.POLICE], owned_by(db, sealed, police.id))


# --- master rotation ------------------------------------------------------------------------------


def give_two_factor(db: Session, user: User, master: MasterKeyRing) -> bytes:
    secret = security.new_totp_secret()
    user.totp_secret_sealed = security.seal_totp_secret(master, user.id, secret)
    user.totp_confirmed_at = utcnow()
    db.flush()
    return secret


def test_rotate_master_rewraps_every_key_so_only_the_new_master_is_needed(
    db: Session, world: Council3, sealed: dict[int, str]
) -> None:
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    police = world.members[AgencyKind.POLICE]
    old_ring: MasterKeyRing = db.info[MASTER_KEYS_INFO]
    assert old_ring.current_version == 1
    totp_secret = give_two_factor(db, police, old_ring)
    child = db.scalars(select(Child).order_by(Child.id)).first()
    assert child is not None
    index_before = child.identity_index
    birth = child_birth_date(db, child.id, child.birth_date_sealed)
    assert birth == dt.date(2012, 3, 15)
    agency_keys = len(db.scalars(select(AgencyKey)).all())
    system_keys = len(db.scalars(select(SystemKey)).all())
    assert (agency_keys, system_keys) == (2, 2)  # social, police; blind index, child facts

    new_key = os.urandom(32)
    fresh_keys(db, MasterKeyRing(2, {1: old_ring.current, 2: new_key}))
    rotation = sealing.rotate_master(db)
    assert (rotation.agency_keys, rotation.system_keys) == (2, 2)
    assert reseal_totp_secrets(db, db.info[MASTER_KEYS_INFO]) == 1
    # A second rotation has nothing left to do.
    again = sealing.rotate_master(db)
    assert (again.agency_keys, again.system_keys) == (0, 0)
    assert reseal_totp_secrets(db, db.info[MASTER_KEYS_INFO]) == 0
    db.flush()
    assert set(db.scalars(select(AgencyKey.master_version))) == {2}
    assert set(db.scalars(select(SystemKey.master_version))) == {2}

    only_new = MasterKeyRing(2, {2: new_key})
    fresh_keys(db, only_new)
    assert_all_reveal(db, social, owned_by(db, sealed, social.agency_id))
    assert_all_reveal(db, police, owned_by(db, sealed, police.agency_id))
    assert child_birth_date(db, child.id, child.birth_date_sealed) == birth
    assert sealing.personnummer_index(db, "201203151236") == index_before
    sealed_totp = db.scalar(select(User.totp_secret_sealed).where(User.id == police.id))
    assert sealed_totp is not None and security.totp_sealed_version(sealed_totp) == 2
    assert security.open_totp_secret(only_new, police.id, sealed_totp) == totp_secret
    assert check_owner_keys(db) == (len(sealed), [])

    # The old master alone opens nothing any more.
    only_old = MasterKeyRing(1, {1: old_ring.current})
    fresh_keys(db, only_old)
    records = db.scalars(select(Record).where(Record.owner_agency_id == social.agency_id)).all()
    results = reveal_records(db, social, records)
    assert results and all(
        isinstance(r, Withheld) and r.reason_code is WithheldReason.KEY_ERROR for r in results
    )
    with pytest.raises(LookupError, match="master key version 2"):
        security.open_totp_secret(only_old, police.id, sealed_totp)
    checked, problems = check_owner_keys(db)
    assert checked == len(sealed)
    assert sorted(p.record_id for p in problems) == sorted(sealed)


def test_keys_rotate_master_with_nothing_to_do(
    app: Flask, db: Session, sealed: dict[int, str]
) -> None:
    result = app.test_cli_runner().invoke(args=["keys", "rotate-master"])
    assert result.exit_code == 0, result.output
    assert "Inget att göra" in result.output
    assert "version 1" in result.output
    db.expire_all()
    (event,) = audit_events(db, SecrecyTag.KEYS_ROTATE_MASTER)
    assert event.details == {
        "master_version": 1,
        "agency_keys": 0,
        "system_keys": 0,
        "totp_secrets": 0,
    }


def test_keys_rotate_master_command_rotates_keys_and_totp_secrets(
    app: Flask,
    db: Session,
    world: Council3,
    sealed: dict[int, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    police = world.members[AgencyKind.POLICE]
    old_ring: MasterKeyRing = db.info[MASTER_KEYS_INFO]
    totp_secret = give_two_factor(db, police, old_ring)
    new_key = os.urandom(32)
    new_ring = MasterKeyRing(2, {1: old_ring.current, 2: new_key})
    # What a restart with SAMVERKAN_MASTER_KEY_VERSION=2 and the old key retired would give.
    monkeypatch.setitem(app.config, "MASTER_KEY_VERSION", 2)
    monkeypatch.setitem(app.config, "MASTER_KEYS", dict(new_ring.keys))
    monkeypatch.setitem(get_database(app).session_factory.kw["info"], MASTER_KEYS_INFO, new_ring)

    result = app.test_cli_runner().invoke(args=["keys", "rotate-master"])

    assert result.exit_code == 0, result.output
    assert (
        "Huvudnyckel version 2: 2 myndighetsnycklar, 2 systemnycklar och 1 TOTP-hemligheter"
        in result.output
    )
    only_new = MasterKeyRing(2, {2: new_key})
    fresh_keys(db, only_new)
    (event,) = audit_events(db, SecrecyTag.KEYS_ROTATE_MASTER)
    assert event.details == {
        "master_version": 2,
        "agency_keys": 2,
        "system_keys": 2,
        "totp_secrets": 1,
    }
    sealed_totp = db.scalar(select(User.totp_secret_sealed).where(User.id == police.id))
    assert sealed_totp is not None
    assert security.open_totp_secret(only_new, police.id, sealed_totp) == totp_secret
    assert check_owner_keys(db) == (len(sealed), [])


# --- retention run --------------------------------------------------------------------------------


def test_retention_run_dry_run_then_for_real_shows_pseudonyms_never_names(
    app: Flask, db: Session, world: Council3
) -> None:
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    child = enrol(db, social, world.council, "Tindra", "20120315-1236")
    create_record(db, social, child, "family", marker())
    close_case(db, social, child, CloseReason.MOVED)
    # Closed long enough ago for the default 12 months, whatever today is.
    child.closed_on = dt.date(today_local().year - 2, 1, 1)
    db.flush()
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["retention", "run", "--dry-run"])

    assert dry.exit_code == 0, dry.output
    assert f"{child.pseudonym}: 2 uppgifter skulle gallras" in dry.output
    assert "Torrkörning, inget ändrat: 1 ärenden, 2 uppgifter" in dry.output
    assert "Tindra" not in dry.output and "Provsson" not in dry.output
    assert "20120315" not in dry.output
    db.expire_all()
    assert child.status is ChildStatus.CLOSED and child.identity_index is not None
    assert audit_events(db, SecrecyTag.RETENTION_SHRED) == []

    real = runner.invoke(args=["retention", "run"])

    assert real.exit_code == 0, real.output
    assert f"{child.pseudonym}: 2 uppgifter gallrade" in real.output
    assert "Gallrat: 1 ärenden, 2 uppgifter" in real.output
    assert "Tindra" not in real.output and "Provsson" not in real.output
    db.expire_all()
    assert child.status is ChildStatus.SHREDDED and child.identity_index is None
    assert len(audit_events(db, SecrecyTag.RETENTION_SHRED)) == 1

    again = runner.invoke(args=["retention", "run"])
    assert again.exit_code == 0, again.output
    assert "Inga avslutade ärenden att gallra" in again.output
    db.expire_all()
    assert len(audit_events(db, SecrecyTag.RETENTION_SHRED)) == 1
