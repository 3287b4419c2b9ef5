"""Sealing primitives and key handling: the only module that touches keys.

- Content: AES-256-GCM under a fresh 256-bit data key per record, with the record's id, owner
  agency and category as associated data, so a ciphertext moved to another row fails to open.
- Data keys: wrapped (AES-256-GCM) per agency under that agency's key, bound to record, agency
  and key version.
- Agency and system keys: random 256-bit, wrapped under the master key, which comes from the
  configuration and never enters the database.

Unwrapped keys are cached per database session (one request or command) in a ``KeyRing`` and
forgotten when the session rolls back or closes. Unwrapped *agency* keys are also kept by the
worker process (``WorkerKeyCache``) for ``KEY_CACHE_SECONDS``: published only after the
transaction that loaded them committed, used only while the database's key generation is the
one they were loaded under (rotations, an agency's (de)activation and a restore move it on),
never written anywhere. docs/secrecy.md weighs what that trades.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from secrecy.models import Record, RecordKey
from secrecy.records.crypto.keyring import (
    AUDIT_SIGNING_PURPOSE,
    BLIND_INDEX_PURPOSE,
    CHILD_FACTS_PURPOSE,
    KEY_BYTES,
    NONCE_BYTES,
    KeyRing,
    SealingError,
    agency_key_aad,
    content_aad,
    decrypt,
    encrypt,
    keyring,
    open_blob,
    record_aad,
    record_key_aad,
    system_key_aad,
)

__all__ = [
    "AUDIT_SIGNING_PURPOSE",
    "BLIND_INDEX_PURPOSE",
    "CHILD_FACTS_PURPOSE",
    "KEY_BYTES",
    "NONCE_BYTES",
    "KeyRing",
    "SealingError",
    "agency_key_aad",
    "content_aad",
    "keyring",
    "record_aad",
    "record_key_aad",
    "system_key_aad",
]


# -- record content -------------------------------------------------------------------------------


def _encode(content: Mapping[str, Any]) -> bytes:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def seal_new_record(ring: KeyRing, record: Record, content: Mapping[str, Any]) -> bytes:
    """Encrypt a flushed record's content and wrap its data key for the owner. Returns the data
    key so the caller can wrap it for recipients in the same transaction."""
    if record.id is None:
        raise ValueError("flush the record first: its id is part of the associated data")
    data_key = os.urandom(KEY_BYTES)
    record.ciphertext = encrypt(data_key, _encode(content), record_aad(record))
    wrap_data_key(ring, record, data_key, record.owner_agency_id)
    return data_key


def wrap_data_key(ring: KeyRing, record: Record, data_key: bytes, agency_id: int) -> RecordKey:
    version, agency_key = ring.active_agency_key(agency_id)
    existing = ring.session.get(RecordKey, (record.id, agency_id))
    wrapped = encrypt(agency_key, data_key, record_key_aad(record.id, agency_id, version))
    if existing is not None:
        existing.agency_key_version, existing.wrapped_key = version, wrapped
        return existing
    row = RecordKey(
        record_id=record.id, agency_id=agency_id, agency_key_version=version, wrapped_key=wrapped
    )
    ring.session.add(row)
    return row


class WrappedKey(NamedTuple):
    """A ``RecordKey`` row's columns without the ORM object, for reads of many keys at once."""

    record_id: int
    agency_id: int
    agency_key_version: int
    wrapped_key: bytes


class DataKeyRow(Protocol):
    """A record's wrapped data key: a ``RecordKey`` or a ``WrappedKey``."""

    @property
    def record_id(self) -> int: ...
    @property
    def agency_id(self) -> int: ...
    @property
    def agency_key_version(self) -> int: ...
    @property
    def wrapped_key(self) -> bytes: ...


def unwrap_data_key(ring: KeyRing, record_key: DataKeyRow) -> bytes:
    record_id, agency_id, version = (
        record_key.record_id,
        record_key.agency_id,
        record_key.agency_key_version,
    )
    return open_blob(
        ring.agency_cipher(agency_id, version),
        record_key.wrapped_key,
        record_key_aad(record_id, agency_id, version),
        "data key of record %s for agency %s",
        record_id,
        agency_id,
    )


class SealedRow(Protocol):
    """What opening a record reads of it: a ``Record`` or a plain row of these columns."""

    @property
    def id(self) -> int: ...
    @property
    def child_id(self) -> int: ...
    @property
    def owner_agency_id(self) -> int: ...
    @property
    def category(self) -> str: ...
    @property
    def ciphertext(self) -> bytes | None: ...
    @property
    def shredded_at(self) -> Any: ...


def open_record(ring: KeyRing, record: SealedRow, record_key: DataKeyRow) -> dict[str, Any]:
    record_id, ciphertext = record.id, record.ciphertext
    if ciphertext is None:
        raise SealingError(f"record {record_id} has no content (shredded)")
    if record_key.record_id != record_id:
        raise SealingError("the key belongs to another record")
    aad = content_aad(record_id, record.child_id, record.owner_agency_id, record.category)
    plaintext = decrypt(unwrap_data_key(ring, record_key), ciphertext, aad, "record %s", record_id)
    # Sealed as UTF-8 (``_encode``); decoding first spares json the guess at the encoding.
    content: dict[str, Any] = json.loads(plaintext.decode())
    return content


def rewrap_record_key(ring: KeyRing, record_key: RecordKey, new_version: int) -> None:
    """Re-wrap one data key under another version of the same agency's key."""
    data_key = unwrap_data_key(ring, record_key)
    new_key = ring.agency_key(record_key.agency_id, new_version)
    record_key.wrapped_key = encrypt(
        new_key, data_key, record_key_aad(record_key.record_id, record_key.agency_id, new_version)
    )
    record_key.agency_key_version = new_version


# -- blind index and child facts --------------------------------------------------------------


def blind_index(ring: KeyRing, normalised_personnummer: str) -> str:
    """Keyed HMAC-SHA-256 of the 12-digit number: equal numbers match, nothing else is learnt."""
    key = ring.system_key(BLIND_INDEX_PURPOSE)
    return hmac.new(key, normalised_personnummer.encode(), hashlib.sha256).hexdigest()


def seal_child_fact(ring: KeyRing, child_id: int, name: str, value: str) -> bytes:
    aad = f"samverkan:child:{child_id}:{name}".encode()
    return encrypt(ring.system_key(CHILD_FACTS_PURPOSE), value.encode(), aad)


def open_child_fact(ring: KeyRing, child_id: int, name: str, blob: bytes) -> str:
    aad = f"samverkan:child:{child_id}:{name}".encode()
    return open_blob(
        ring.system_cipher(CHILD_FACTS_PURPOSE), blob, aad, f"{name} of child {child_id}"
    ).decode()


# An assessment's overall level is a child fact bound to the assessment's own overall record (a
# sealed level copied to another row fails to open), padded to the longest level code an
# instrument allows, so that the ciphertext's length does not tell "low" from "medium".
LEVEL_PADDED = 40


def _level_fact(overall_record_id: int) -> str:
    return f"assessment:{overall_record_id}:overall_level"


def seal_assessment_level(
    ring: KeyRing, child_id: int, overall_record_id: int, level: str
) -> bytes:
    if not level or len(level) > LEVEL_PADDED or level != level.strip():
        # Not the value: the error may be logged, and the level is the child's.
        raise ValueError("a level code has 1 to 40 characters, no spaces")
    padded = level.ljust(LEVEL_PADDED)
    return seal_child_fact(ring, child_id, _level_fact(overall_record_id), padded)


def open_assessment_level(ring: KeyRing, child_id: int, overall_record_id: int, blob: bytes) -> str:
    return open_child_fact(ring, child_id, _level_fact(overall_record_id), blob).rstrip(" ")


# -- audit checkpoint signing -----------------------------------------------------------------


def _audit_signing_key(ring: KeyRing) -> Ed25519PrivateKey:
    # The system key's 32 random bytes are the Ed25519 seed: created on first use, wrapped by
    # the master key like every system key and re-wrapped by a master rotation.
    return Ed25519PrivateKey.from_private_bytes(ring.system_key(AUDIT_SIGNING_PURPOSE))


def audit_public_key(ring: KeyRing) -> bytes:
    """The raw 32-byte public key of the installation's audit signing key."""
    return _audit_signing_key(ring).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign_audit_message(ring: KeyRing, message: bytes) -> tuple[bytes, bytes]:
    """(raw public key, Ed25519 signature) over ``message``; the private key stays here."""
    key = _audit_signing_key(ring)
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw), key.sign(message)
