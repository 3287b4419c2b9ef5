"""The one door: record content is decrypted here and nowhere else.

``reveal_records`` decides per record with the policy, and opens only what the policy allows
*and* the viewer's agency holds a wrapped key for: policy and keys must agree. Each call appends
one audit event naming the revealed record ids (never content).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit import record_event
from coordination.models import CouncilMembership, User
from secrecy import crypto
from secrecy.models import Record, RecordKey
from secrecy.policy import RecordFacts, ViewerFacts, WithheldReason, visibility
from secrecy.tags import SecrecyTag

REASON_TEXTS = {
    WithheldReason.NOT_MEMBER: _l("Du är inte medlem i barnets forum."),
    WithheldReason.NO_DISCLOSURE: _l("Ingen uppgiftslämning till din myndighet."),
    WithheldReason.SHREDDED: _l("Uppgiften är gallrad."),
    WithheldReason.NO_KEY: _l("Din myndighet har ingen nyckel till uppgiften."),
    WithheldReason.KEY_ERROR: _l(
        "Uppgiften kunde inte öppnas (nyckelfel). Kontakta administratören."
    ),
}

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Revealed:
    record: Record
    content: dict[str, Any]

    withheld = False


@dataclass(frozen=True)
class Withheld:
    record: Record
    reason_code: WithheldReason

    withheld = True

    @property
    def reason(self) -> str:
        return str(REASON_TEXTS[self.reason_code])


RevealResult = Revealed | Withheld


def viewer_facts(session: Session, viewer: User) -> ViewerFacts:
    council_ids = session.scalars(
        select(CouncilMembership.council_id).where(CouncilMembership.user_id == viewer.id)
    ).all()
    return ViewerFacts(agency_id=viewer.agency_id, council_ids=frozenset(council_ids))


def reveal_records(
    session: Session, viewer: User, records: Sequence[Record], *, purpose: str = "view"
) -> list[RevealResult]:
    """For each record, its content or a ``Withheld`` with the reason; one audit event."""
    if not records:
        return []
    facts = viewer_facts(session, viewer) if viewer.is_active else ViewerFacts(0, frozenset())
    ids = [r.id for r in records]
    keys = {
        key.record_id: key
        for key in session.scalars(
            select(RecordKey).where(
                RecordKey.record_id.in_(ids), RecordKey.agency_id == viewer.agency_id
            )
        )
    }
    ring = crypto.keyring(session)
    results: list[RevealResult] = []
    for record in records:
        reason = visibility(
            RecordFacts(
                owner_agency_id=record.owner_agency_id,
                council_id=record.child.council_id,
                shredded=record.is_shredded,
            ),
            facts,
        )
        key = keys.get(record.id)
        if reason is None and key is None:
            reason = WithheldReason.NO_KEY
        if reason is not None or key is None:
            results.append(Withheld(record, reason or WithheldReason.NO_KEY))
            continue
        try:
            results.append(Revealed(record, crypto.open_record(ring, record, key)))
        except (crypto.SealingError, LookupError):
            # One damaged key must not take the whole page down; `flask keys check` finds it.
            logger.exception(
                "record %s could not be opened for agency %s", record.id, key.agency_id
            )
            results.append(Withheld(record, WithheldReason.KEY_ERROR))
    revealed = [r.record.id for r in results if isinstance(r, Revealed)]
    record_event(
        session,
        viewer,
        SecrecyTag.RECORD_REVEAL,
        object_type="record",
        object_ids=revealed,
        details={
            "purpose": purpose,
            "child_ids": sorted({r.child_id for r in records}),
            "withheld": len(results) - len(revealed),
        },
    )
    return results


def reveal_one(
    session: Session, viewer: User, record: Record, *, purpose: str = "view"
) -> RevealResult:
    return reveal_records(session, viewer, [record], purpose=purpose)[0]


def child_birth_date(session: Session, child_id: int, sealed: bytes | None) -> dt.date | None:
    """The birth date the policy engine needs for age limits. Never shown to anyone."""
    if sealed is None:
        return None
    value = crypto.open_child_fact(crypto.keyring(session), child_id, "birth_date", sealed)
    return dt.date.fromisoformat(value)


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
