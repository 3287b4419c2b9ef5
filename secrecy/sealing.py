"""Sealing and key management: encrypt new content, wrap keys, rotate, shred.

With ``secrecy.reveal`` this is the only module that imports ``secrecy.crypto``. It never opens
content: rotation re-wraps keys, shredding deletes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from coordination.db import utcnow
from coordination.models import Child
from secrecy import crypto
from secrecy.models import AgencyKey, Record, RecordKey, SystemKey

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


def shred_child(session: Session, child: Child) -> int:
    """Crypto-shredding: delete every wrapped key and ciphertext of the child's records, and
    the blind index and sealed birth date. Returns the number of records shredded."""
    now = utcnow()
    record_ids = select(Record.id).where(Record.child_id == child.id)
    session.execute(
        RecordKey.__table__.delete().where(RecordKey.record_id.in_(record_ids))  # type: ignore[attr-defined]
    )
    result = session.execute(
        update(Record)
        .where(Record.child_id == child.id, Record.shredded_at.is_(None))
        .values(ciphertext=None, shredded_at=now)
    )
    child.identity_index = None
    child.birth_date_sealed = None
    child.shredded_at = now
    session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


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
    session.flush()
    return MasterRotation(agency_count, system_count)


def count_keys(session: Session) -> int:
    return (session.scalar(select(func.count()).select_from(AgencyKey)) or 0) + (
        session.scalar(select(func.count()).select_from(SystemKey)) or 0
    )


def count_agency_record_keys(session: Session, agency_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(RecordKey).where(RecordKey.agency_id == agency_id)
        )
        or 0
    )


def rotate_agency_key(
    session: Session, agency_id: int, progress: Progress = _no_progress, batch: int = 1000
) -> tuple[int, int]:
    """A new key version for the agency; every data key it holds is re-wrapped under it and
    the old version retired. Returns (new version, keys re-wrapped)."""
    ring = crypto.keyring(session)
    current = session.scalars(
        select(AgencyKey).where(AgencyKey.agency_id == agency_id, AgencyKey.active.is_(True))
    ).one_or_none()
    new_version = (current.version + 1) if current else 1
    if current is not None:
        current.active = False
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
    return new_version, rewrapped
