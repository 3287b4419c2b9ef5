"""Signed checkpoints of the audit chain's head (Ed25519).

Signed in ``secrecy.records.sealing``, which holds the key; verified here with the public key
stored in clear, so ``flask audit verify`` and outside parties need no master key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from coordination.audit.log import AuditEvent, AuditTag, record_event
from coordination.db import Base, UTCDateTime, intpk


class AuditCheckpoint(Base):
    """A signed statement that the chain's head was (``seq``, ``chain_hash``) at ``signed_at``:
    ``seq`` is a chain position (``AuditEvent.chain_position``), never an event's id.

    Ed25519 over ``checkpoint_message``. The public key is stored in clear (hex) so anyone can
    verify without the master key; an outside party pins the key it was given (``flask audit
    export``) instead of trusting the one stored next to the signature.
    """

    __tablename__ = "audit_checkpoints"

    id: Mapped[intpk]
    seq: Mapped[int] = mapped_column(index=True)
    chain_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    public_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))


# --- Checkpoints --------------------------------------------------------------------------------


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def checkpoint_message(seq: int, chain_hash: str, signed_at: dt.datetime) -> bytes:
    """What a checkpoint signs: versioned, so the format can change without ambiguity."""
    return f"samverkan-audit-checkpoint:v1:{seq}:{chain_hash}:{_timestamp(signed_at)}".encode()


def add_checkpoint(
    session: Session,
    *,
    seq: int,
    chain_hash: str,
    signed_at: dt.datetime,
    public_key: bytes,
    signature: bytes,
) -> AuditCheckpoint:
    """Store a signed chain head (signed by ``secrecy.records.sealing.sign_chain_head``) and log it.

    The checkpoint's own event comes after the head it signs (the sequencer chains it
    later); the next checkpoint covers it.
    """
    checkpoint = AuditCheckpoint(
        seq=seq,
        chain_hash=chain_hash,
        signed_at=signed_at,
        public_key=public_key.hex(),
        signature=signature.hex(),
    )
    session.add(checkpoint)
    session.flush()
    record_event(
        session,
        None,
        AuditTag.AUDIT_CHECKPOINT,
        on=checkpoint,
        details={"seq": seq, "public_key": checkpoint.public_key},
    )
    return checkpoint


@dataclass(frozen=True)
class CheckpointResult:
    checked: int
    first_bad_id: int | None
    problem: str | None
    public_keys: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.first_bad_id is None


def checkpoint_signature_valid(checkpoint: AuditCheckpoint | Any, public_key: str) -> bool:
    """Whether the checkpoint's signature verifies under ``public_key`` (hex)."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
            bytes.fromhex(checkpoint.signature),
            checkpoint_message(checkpoint.seq, checkpoint.chain_hash, checkpoint.signed_at),
        )
    except (ValueError, InvalidSignature):
        return False
    return True


def verify_checkpoints(session: Session) -> CheckpointResult:
    """Check every checkpoint: its signature holds under its public key, and the chain's event
    at its ``seq`` still has the hash it signed. Names the first checkpoint that fails.

    Each checkpoint is verified with the key stored beside it; which keys were used is
    reported, so a swapped-in key shows (outside parties pin the exported key instead)."""
    checkpoints = AuditCheckpoint.__table__
    events = AuditEvent.__table__
    rows = session.execute(
        select(checkpoints, events.c.hash.label("event_hash"))
        .outerjoin(events, events.c.chain_position == checkpoints.c.seq)
        .order_by(checkpoints.c.id)
    ).all()
    keys: list[str] = []
    for checked, row in enumerate(rows):
        if row.public_key not in keys:
            keys.append(row.public_key)
        problem = None
        if not checkpoint_signature_valid(row, row.public_key):
            problem = "signature does not verify"
        elif row.event_hash is None:
            problem = f"event {row.seq} it signed is missing"
        elif row.event_hash != row.chain_hash:
            problem = f"event {row.seq} no longer has the hash it signed"
        if problem is not None:
            return CheckpointResult(checked, row.id, problem, tuple(keys))
    return CheckpointResult(len(rows), None, None, tuple(keys))


def export_checkpoints(session: Session) -> dict[str, Any]:
    """Everything an outside party needs to check the chain heads: the keys and checkpoints."""
    rows = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).all()
    keys = list(dict.fromkeys(row.public_key for row in rows))
    return {
        "format": "samverkan-audit-checkpoints/1",
        "algorithm": "Ed25519",
        "message": "samverkan-audit-checkpoint:v1:{seq}:{chain_hash}:{signed_at}",
        "public_keys": keys,
        "checkpoints": [
            {
                "id": row.id,
                "seq": row.seq,
                "chain_hash": row.chain_hash,
                "signed_at": _timestamp(row.signed_at),
                "public_key": row.public_key,
                "signature": row.signature,
            }
            for row in rows
        ],
    }
