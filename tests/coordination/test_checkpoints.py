"""Signed checkpoints of the audit chain: `flask audit checkpoint` signs the head, `flask audit
verify` checks every signature and the chain under it, `flask audit export` hands an outside
party what it needs to verify on its own with a pinned key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import Flask
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from coordination.audit.checkpoints import AuditCheckpoint, checkpoint_message, verify_checkpoints
from coordination.audit.log import (
    GENESIS_HASH,
    AuditChainHead,
    AuditEvent,
    AuditTag,
    compute_hash,
    record_event,
)
from coordination.audit.sequencer import chain_events
from coordination.audit.verify import verify_chain
from secrecy.models import SystemKey
from secrecy.records import crypto, sealing
from tests.factories import UserFactory


@pytest.fixture
def chain(db: Session) -> list[AuditEvent]:
    """A chain of exactly three events (earlier ones, if any, removed inside the test)."""
    db.execute(delete(AuditEvent))
    head = db.get(AuditChainHead, 1)
    assert head is not None
    head.seq, head.hash = 0, GENESIS_HASH
    db.flush()
    user = UserFactory()
    events = [
        record_event(db, user, AuditTag.AUTH_LOGIN_SUCCESS, object_type="user", object_ids=[1]),
        record_event(db, user, AuditTag.ADMIN_AGENCY_UPDATE, details={"fields": ["name"]}),
        record_event(db, user, AuditTag.AUTH_LOGOUT),
    ]
    assert chain_events(db) == 3
    return events


def run(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def sign(app: Flask, db: Session) -> AuditCheckpoint:
    code, output = run(app, "audit", "checkpoint")
    assert code == 0, output
    return db.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc())).first()  # type: ignore[return-value]


def rewrite_chain_from(db: Session, seq: int, details: dict[str, object]) -> None:
    """A thorough forger: edit one event and recompute every hash after it, and the head."""
    events = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.chain_position >= seq)
        .order_by(AuditEvent.chain_position)
    )
    previous = db.scalars(select(AuditEvent.hash).where(AuditEvent.chain_position == seq - 1)).one()
    for event in events:
        if event.chain_position == seq:
            event.details = details
        event.prev_hash = previous
        event.hash = compute_hash(event)
        previous = event.hash
    head = db.get(AuditChainHead, 1)
    assert head is not None
    head.hash = previous
    db.flush()


def test_checkpoint_signs_the_head_and_verify_passes(
    app: Flask, db: Session, chain: list[AuditEvent]
) -> None:
    checkpoint = sign(app, db)
    assert (checkpoint.seq, checkpoint.chain_hash) == (3, chain[-1].hash)
    public_key = crypto.audit_public_key(crypto.keyring(db))
    assert checkpoint.public_key == public_key.hex()
    Ed25519PublicKey.from_public_bytes(public_key).verify(
        bytes.fromhex(checkpoint.signature),
        checkpoint_message(checkpoint.seq, checkpoint.chain_hash, checkpoint.signed_at),
    )
    logged = db.scalars(select(AuditEvent).where(AuditEvent.tag == AuditTag.AUDIT_CHECKPOINT)).one()
    assert logged.chain_position is None  # durable, chained by the sequencer after the head
    code, output = run(app, "audit", "verify")
    assert code == 0, output
    assert "3 händelser" in output and "Ännu inte kedjade: 1 händelser" in output
    assert chain_events(db) == 1
    assert logged.chain_position == 4
    assert logged.object_ids == [checkpoint.id]
    assert logged.details == {"seq": 3, "public_key": checkpoint.public_key}

    code, output = run(app, "audit", "verify")
    assert code == 0, output
    assert "4 händelser" in output
    assert "Kontrollpunkter: 1 kontrollerade, alla giltiga." in output
    assert checkpoint.public_key in output
    # A second checkpoint covers the first one's event, signed with the same key.
    second = sign(app, db)
    assert (second.seq, second.public_key) == (4, checkpoint.public_key)
    assert verify_checkpoints(db).checked == 2


def test_the_signing_key_is_stored_wrapped_by_the_master_key(
    app: Flask, db: Session, chain: list[AuditEvent]
) -> None:
    sign(app, db)
    row = db.get(SystemKey, crypto.AUDIT_SIGNING_PURPOSE)
    assert row is not None
    seed = crypto.keyring(db).system_key(crypto.AUDIT_SIGNING_PURPOSE)
    assert seed not in row.wrapped_key
    assert len(row.wrapped_key) == crypto.NONCE_BYTES + 32 + 16  # nonce, key, GCM tag
    derived = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    assert derived.public_bytes(Encoding.Raw, PublicFormat.Raw) == crypto.audit_public_key(
        crypto.keyring(db)
    )


def test_an_empty_log_has_nothing_to_sign(app: Flask, db: Session) -> None:
    db.execute(delete(AuditEvent))
    db.execute(update(AuditChainHead).values(seq=0, hash=GENESIS_HASH))
    code, output = run(app, "audit", "checkpoint")
    assert code == 1
    assert "Loggen är tom" in output
    assert not db.scalars(select(AuditCheckpoint)).all()
    with pytest.raises(ValueError, match="empty"):
        sealing.sign_chain_head(db)


def test_a_tampered_signature_is_named(app: Flask, db: Session, chain: list[AuditEvent]) -> None:
    first = sign(app, db)
    second = sign(app, db)
    forged = bytes.fromhex(second.signature)
    second.signature = (bytes([forged[0] ^ 1]) + forged[1:]).hex()
    db.flush()
    result = verify_checkpoints(db)
    assert (result.first_bad_id, result.checked) == (second.id, 1)
    assert result.problem == "signature does not verify"
    code, output = run(app, "audit", "verify")
    assert code == 1
    assert f"Kontrollpunkt {second.id} är ogiltig" in output
    assert f"Kontrollpunkt {first.id} " not in output


def test_a_tampered_checkpoint_hash_is_named(
    app: Flask, db: Session, chain: list[AuditEvent]
) -> None:
    checkpoint = sign(app, db)
    checkpoint.chain_hash = chain[1].hash
    db.flush()
    code, output = run(app, "audit", "verify")
    assert code == 1
    assert f"Kontrollpunkt {checkpoint.id} är ogiltig: signature does not verify" in output


def test_an_edited_event_is_named_by_the_chain(
    app: Flask, db: Session, chain: list[AuditEvent]
) -> None:
    sign(app, db)
    db.execute(
        update(AuditEvent).where(AuditEvent.chain_position == 2).values(details={"fields": ["x"]})
    )
    db.expire_all()
    code, output = run(app, "audit", "verify")
    assert code == 1
    assert "Loggkedjan är bruten vid händelse 2" in output


def test_a_rewritten_chain_passes_the_hashes_but_not_the_checkpoint(
    app: Flask, db: Session, chain: list[AuditEvent]
) -> None:
    checkpoint = sign(app, db)
    rewrite_chain_from(db, 2, {"fields": ["forged"]})
    db.expire_all()
    assert verify_chain(db).ok  # every link recomputed: the chain alone cannot tell
    result = verify_checkpoints(db)
    assert result.first_bad_id == checkpoint.id
    assert result.problem == "event 3 no longer has the hash it signed"
    code, output = run(app, "audit", "verify")
    assert code == 1
    assert f"Kontrollpunkt {checkpoint.id} är ogiltig: event 3" in output


def test_a_deleted_signed_event_is_named(app: Flask, db: Session, chain: list[AuditEvent]) -> None:
    checkpoint = sign(app, db)
    db.execute(delete(AuditEvent).where(AuditEvent.seq >= chain[2].seq))
    db.expire_all()
    result = verify_checkpoints(db)
    assert (result.first_bad_id, result.problem) == (checkpoint.id, "event 3 it signed is missing")


def test_export_lets_an_outside_party_verify_with_a_pinned_key(
    app: Flask, db: Session, chain: list[AuditEvent], tmp_path: Path
) -> None:
    sign(app, db)
    sign(app, db)
    target = tmp_path / "checkpoints.json"
    code, output = run(app, "audit", "export", str(target))
    assert code == 0, output
    exported = json.loads(target.read_text(encoding="utf-8"))

    pinned = crypto.audit_public_key(crypto.keyring(db))
    assert exported["public_keys"] == [pinned.hex()]
    assert [c["seq"] for c in exported["checkpoints"]] == [3, 4]
    assert exported["checkpoints"][0]["chain_hash"] == chain[-1].hash
    # The outside party's own check: its pinned key, the documented message, nothing of ours.
    key = Ed25519PublicKey.from_public_bytes(pinned)
    for checkpoint in exported["checkpoints"]:
        message = exported["message"].format(**checkpoint).encode()
        assert message.startswith(b"samverkan-audit-checkpoint:v1:")
        key.verify(bytes.fromhex(checkpoint["signature"]), message)
    logged = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.AUDIT_CHECKPOINTS_EXPORT)
    ).one()
    assert logged.details == {"checkpoints": 2}


def test_export_to_standard_output(app: Flask, db: Session, chain: list[AuditEvent]) -> None:
    checkpoint = sign(app, db)
    code, output = run(app, "audit", "export")
    assert code == 0
    assert json.loads(output)["checkpoints"][0]["signature"] == checkpoint.signature


def test_a_swapped_in_key_shows_and_fails_the_pinned_check(
    app: Flask, db: Session, chain: list[AuditEvent]
) -> None:
    """Someone with database access re-signs a rewritten chain with a key of their own: the
    stored-key check passes, but the report lists a second key and the pinned key refuses."""
    honest = sign(app, db)
    pinned = bytes.fromhex(honest.public_key)
    rewrite_chain_from(db, 2, {"fields": ["forged"]})
    forger = Ed25519PrivateKey.generate()
    honest.chain_hash = db.scalars(
        select(AuditEvent.hash).where(AuditEvent.chain_position == 3)
    ).one()
    honest.public_key = forger.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    honest.signature = forger.sign(
        checkpoint_message(honest.seq, honest.chain_hash, honest.signed_at)
    ).hex()
    sign(app, db)  # a later honest checkpoint
    db.expire_all()

    result = verify_checkpoints(db)
    assert result.ok
    assert len(result.public_keys) == 2
    code, output = run(app, "audit", "verify")
    assert code == 0
    assert output.count("signerad med publik nyckel") == 2

    exported = json.loads(run(app, "audit", "export")[1])
    first = exported["checkpoints"][0]
    with pytest.raises(InvalidSignature):
        Ed25519PublicKey.from_public_bytes(pinned).verify(
            bytes.fromhex(first["signature"]), exported["message"].format(**first).encode()
        )
