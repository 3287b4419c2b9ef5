"""The door's system reads: child facts the engine and the statistics need (a birth date, an
assessment's overall level), opened without a viewer because nothing of them is shown to anyone,
and the key check that opens every record with its owner's key and discards the content. Part of
``secrecy.records.reveal``; nothing outside the package imports it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from secrecy.models import Record, RecordKey
from secrecy.records import crypto

logger = logging.getLogger(__name__)


def child_birth_date(session: Session, child_id: int, sealed: bytes | None) -> dt.date | None:
    """The birth date the policy engine needs for age limits. Never shown to anyone."""
    if sealed is None:
        return None
    value = crypto.open_child_fact(crypto.keyring(session), child_id, "birth_date", sealed)
    return dt.date.fromisoformat(value)


class SealedLevel(NamedTuple):
    """An assessment's sealed overall level and what it is bound to."""

    child_id: int
    overall_record_id: int
    sealed: bytes


def assessment_levels(session: Session, sealed: Sequence[SealedLevel]) -> list[str | None]:
    """The overall level codes of assessments, in order, for a council's statistics: counted
    there, with every count under five suppressed, never shown per child; so, like the birth
    date, opened without a viewer or an audit event. None where one fails to open (logged)."""
    if not sealed:
        return []
    ring = crypto.keyring(session)
    # A key ring that cannot open the child-facts key fails the count here, not as zero counts.
    ring.system_cipher(crypto.CHILD_FACTS_PURPOSE)
    levels: list[str | None] = []
    for child_id, overall_record_id, blob in sealed:
        try:
            levels.append(crypto.open_assessment_level(ring, child_id, overall_record_id, blob))
        except crypto.SealingError:
            # One damaged level must not take the council's report down; the count misses it.
            logger.exception(
                "the level of assessment record %s could not be opened", overall_record_id
            )
            levels.append(None)
    return levels


@dataclass(frozen=True)
class KeyProblem:
    record_id: int
    problem: str


def check_owner_keys(
    session: Session, progress: Callable[[int], None] | None = None, batch: int = 500
) -> tuple[int, list[KeyProblem]]:
    """Open every unshredded record with its owner's key (content is discarded at once).
    Returns (records checked, problems)."""
    ring = crypto.keyring(session)
    checked = 0
    problems: list[KeyProblem] = []
    last_id = 0
    while True:
        records = session.scalars(
            select(Record)
            .where(Record.shredded_at.is_(None), Record.id > last_id)
            .order_by(Record.id)
            .limit(batch)
        ).all()
        if not records:
            break
        keys = {
            (k.record_id, k.agency_id): k
            for k in session.scalars(
                select(RecordKey).where(RecordKey.record_id.in_([r.id for r in records]))
            )
        }
        for record in records:
            key = keys.get((record.id, record.owner_agency_id))
            if key is None:
                problems.append(KeyProblem(record.id, "the owner agency has no wrapped key"))
                continue
            try:
                crypto.open_record(ring, record, key)
            except (crypto.SealingError, LookupError) as exc:
                problems.append(KeyProblem(record.id, str(exc)))
        checked += len(records)
        last_id = records[-1].id
        if progress is not None:
            progress(len(records))
    return checked, problems
