"""Sealing and key management: encrypt new content, wrap keys, rotate, shred.

With ``secrecy.records.reveal`` this is the only module that imports ``secrecy.records.crypto``. It
never opens content: rotation re-wraps keys, shredding deletes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from coordination.audit.checkpoints import AuditCheckpoint, add_checkpoint, checkpoint_message
from coordination.audit.log import lock_chain_head
from coordination.audit.sequencer import chain_events
from coordination.db import count_rows, execute_bulk, utcnow
from coordination.models import Child, ChildStatus, bump_key_generation
from secrecy import shredlog
from secrecy.duplicates import services as duplicates
from secrecy.models import AgencyKey, Record, RecordKey, SystemKey
from secrecy.records import crypto

Progress = Callable[[int], None]


def _no_progress(_: int) -> None:
    return None


def seal_record(session: Session, record: Record, content: Mapping[str, Any]) -> bytes:
    """Encrypt a flushed record and wrap its key for the owner; returns the data key."""
    return crypto.seal_new_record(crypto.keyring(session), record, content)


def personnummer_index(session: Session, normalised: str) -> str:
    return crypto.blind_index(crypto.keyring(session), normalised)


def seal_birth_date(session: Session, child: Child, birth_date: dt.date) -> None:
    child.birth_date_sealed = crypto.seal_child_fact(
        crypto.keyring(session), child.id, "birth_date", birth_date.isoformat()
    )


def seal_assessment_level(
    session: Session, child_id: int, overall_record_id: int, level: str
) -> bytes:
    """An assessment's overall level code for the council's suppressed counts, sealed with the
    child-facts key like the birth date; only ``reveal.assessment_levels`` opens it. Gallring
    sets it to NULL (the key is the installation's, so deleting record keys would not do)."""
    return crypto.seal_assessment_level(crypto.keyring(session), child_id, overall_record_id, level)


def shred_child(session: Session, child: Child) -> int:
    """Crypto-shredding of a closed case: delete every wrapped key and ciphertext of the
    child's records, the blind index and the sealed birth date, and mark the child shredded.
    Returns the number of records shredded. The pseudonym row and the record metadata stay."""
    if child.status is not ChildStatus.CLOSED:
        raise ValueError(f"child {child.id} is {child.status}; only closed cases are shredded")
    now = utcnow()
    record_ids = list(session.scalars(select(Record.id).where(Record.child_id == child.id)))
    session.execute(delete(RecordKey).where(RecordKey.record_id.in_(record_ids)))
    shredded = execute_bulk(
        session,
        update(Record)
        .where(Record.child_id == child.id, Record.shredded_at.is_(None))
        .values(ciphertext=None, shredded_at=now),
    )
    # Bulk statements bypass the session: drop what it holds of the deleted keys and reload
    # the records on next access.
    wanted = set(record_ids)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, RecordKey) and obj.record_id in wanted:
            session.expunge(obj)
        elif isinstance(obj, Record) and obj.id in wanted:
            session.expire(obj)
    index = child.identity_index
    child.identity_index = None
    child.birth_date_sealed = None
    child.shredded_at = now
    child.status = ChildStatus.SHREDDED
    shredlog.note(session, child, now)
    session.flush()
    # A case held as its duplicate takes the number over, as if it had been enrolled alone.
    duplicates.release_number(session, child, index)
    return shredded


@dataclass(frozen=True)
class MasterRotation:
    agency_keys: int
    system_keys: int


def rotate_master(session: Session, progress: Progress = _no_progress) -> MasterRotation:
    """Re-wrap every agency and system key under the current master version."""
    ring = crypto.keyring(session)
    agency_rows = session.scalars(select(AgencyKey).order_by(AgencyKey.id)).all()
    system_rows = session.scalars(select(SystemKey)).all()
    agency_count = system_count = 0
    for row in agency_rows:
        agency_count += ring.rewrap_under_current_master(row)
        progress(1)
    for system_row in system_rows:
        system_count += ring.rewrap_under_current_master(system_row)
        progress(1)
    bump_key_generation(session)  # every worker drops its cached keys at the commit
    session.flush()
    return MasterRotation(agency_count, system_count)


def count_keys(session: Session) -> int:
    return count_rows(session, AgencyKey) + count_rows(session, SystemKey)


def count_agency_record_keys(session: Session, agency_id: int) -> int:
    return count_rows(session, RecordKey, RecordKey.agency_id == agency_id)


def rotate_agency_key(
    session: Session, agency_id: int, progress: Progress = _no_progress, batch: int = 1000
) -> tuple[int, int]:
    """A new key version for the agency; every data key it holds is re-wrapped under it and
    the old version retired. Returns (new version, keys re-wrapped)."""
    ring = crypto.keyring(session)
    # Locked for update: sealers share-lock the active key, so none can wrap under the old
    # version while (or after) its data keys are re-wrapped here.
    current = session.scalars(
        select(AgencyKey)
        .where(AgencyKey.agency_id == agency_id, AgencyKey.active.is_(True))
        .with_for_update()
    ).one_or_none()
    new_version = (current.version + 1) if current else 1
    if current is not None:
        current.active = False
    bump_key_generation(session)  # every worker drops its cached keys at the commit
    ring.create_agency_key(agency_id, new_version)
    ring.forget_active(agency_id)
    rewrapped = 0
    last_id = 0
    while True:
        rows = session.scalars(
            select(RecordKey)
            .where(
                RecordKey.agency_id == agency_id,
                RecordKey.agency_key_version != new_version,
                RecordKey.record_id > last_id,
            )
            .order_by(RecordKey.record_id)
            .limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            crypto.rewrap_record_key(ring, row, new_version)
        session.flush()
        rewrapped += len(rows)
        last_id = rows[-1].record_id
        progress(len(rows))
    retire_unused_agency_keys(session, agency_id)
    return new_version, rewrapped


def retire_unused_agency_keys(session: Session, agency_id: int) -> int:
    """Delete the agency's inactive key versions that no data key is wrapped under any more, so
    a leaked old key opens nothing that is still stored here."""
    in_use = select(RecordKey.agency_key_version).where(RecordKey.agency_id == agency_id)
    result = session.execute(
        delete(AgencyKey).where(
            AgencyKey.agency_id == agency_id,
            AgencyKey.active.is_(False),
            AgencyKey.version.not_in(in_use),
        )
    )
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def sign_chain_head(session: Session) -> AuditCheckpoint:
    """Chain what is committed (``chain_events``), then sign the audit chain's head with the
    installation's Ed25519 key and store the checkpoint (and its audit event). The head stays
    locked until the caller commits, so no sequencer moves it between reading and signing."""
    chain_events(session)
    head = lock_chain_head(session)
    if head.seq == 0:
        raise ValueError("the audit log is empty: there is no head to sign")
    seq, chain_hash, signed_at = head.seq, head.hash, utcnow()
    public_key, signature = crypto.sign_audit_message(
        crypto.keyring(session), checkpoint_message(seq, chain_hash, signed_at)
    )
    return add_checkpoint(
        session,
        seq=seq,
        chain_hash=chain_hash,
        signed_at=signed_at,
        public_key=public_key,
        signature=signature,
    )


def grant_record_key(session: Session, record: Record, agency_id: int) -> None:
    """Wrap the record's data key for a recipient agency (the owner's wrap opens it)."""
    ring = crypto.keyring(session)
    owner_key = session.get(RecordKey, (record.id, record.owner_agency_id))
    if owner_key is None:
        raise LookupError(f"record {record.id} has no key for its owner")
    crypto.wrap_data_key(ring, record, crypto.unwrap_data_key(ring, owner_key), agency_id)
    session.flush()


def withdraw_record_keys(session: Session, grants: Sequence[tuple[Record, int]]) -> int:
    """``withdraw_record_key`` for many (record, recipient agency) pairs: one DELETE per
    recipient agency and batch instead of a query and a delete per key (the nightly sweep may end
    thousands at once). Returns the number of keys deleted."""
    wanted: dict[int, set[int]] = {}
    for record, agency_id in grants:
        if agency_id == record.owner_agency_id:
            raise ValueError("the owner's key is never withdrawn (only shredding deletes it)")
        wanted.setdefault(agency_id, set()).add(record.id)
    deleted = 0
    for agency_id, record_ids in wanted.items():
        ids = sorted(record_ids)
        for start in range(0, len(ids), 500):
            deleted += execute_bulk(
                session,
                delete(RecordKey).where(
                    RecordKey.agency_id == agency_id,
                    RecordKey.record_id.in_(ids[start : start + 500]),
                ),
            )
    # The bulk statements bypass the session: forget the deleted keys it holds, and reload the
    # records' key lists on next access.
    records = {record.id: record for record, _ in grants}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, RecordKey) and obj.record_id in wanted.get(obj.agency_id, ()):
            session.expunge(obj)
    for record in records.values():
        session.expire(record, ["keys"])
    session.flush()
    return deleted


def withdraw_record_key(session: Session, record: Record, agency_id: int) -> bool:
    """Delete one recipient's wrapped key: without it that agency cannot open the record."""
    if agency_id == record.owner_agency_id:
        raise ValueError("the owner's key is never withdrawn (only shredding deletes it)")
    key = session.get(RecordKey, (record.id, agency_id))
    if key is None:
        return False
    session.delete(key)
    session.flush()
    return True
