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
from coordination.db import today_local
from coordination.models import Child, CouncilMembership, User
from secrecy import crypto
from secrecy.facts import consent_facts, recipient_facts, record_facts
from secrecy.models import Consent, Disclosure, Record, RecordKey
from secrecy.policy import (
    DisclosureFacts,
    Reason,
    RecordFacts,
    Refusal,
    ViewerFacts,
    WithheldReason,
    disclosure_in_force,
    visibility,
)
from secrecy.reasons import explain
from secrecy.rules import LegalBasis, legal_bases
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
class Via:
    """Why a recipient sees a record: shown next to the content."""

    disclosure: Disclosure
    basis: LegalBasis | None


@dataclass(frozen=True)
class Revealed:
    record: Record
    content: dict[str, Any]
    via: Via | None = None  # None for the owner agency's own records

    withheld = False


@dataclass(frozen=True)
class Withheld:
    record: Record
    reason_code: WithheldReason
    lapse: Reason | None = None

    withheld = True

    @property
    def reason(self) -> str:
        if self.lapse is not None:
            return explain(self.lapse)
        return str(REASON_TEXTS[self.reason_code])


RevealResult = Revealed | Withheld


def viewer_facts(session: Session, viewer: User) -> ViewerFacts:
    council_ids = session.scalars(
        select(CouncilMembership.council_id).where(CouncilMembership.user_id == viewer.id)
    ).all()
    return ViewerFacts(agency_id=viewer.agency_id, council_ids=frozenset(council_ids))


def child_birth_dates(session: Session, children: Sequence[Child]) -> dict[int, dt.date | None]:
    """Birth dates for the policy engine's age limits, opened from their sealed form."""
    return {c.id: child_birth_date(session, c.id, c.birth_date_sealed) for c in children}


def live_disclosures(
    session: Session, record_ids: Sequence[int], agency_id: int
) -> dict[int, list[Disclosure]]:
    """Disclosures to one agency that have been neither revoked nor swept as lapsed."""
    rows = session.scalars(
        select(Disclosure).where(
            Disclosure.record_id.in_(record_ids),
            Disclosure.recipient_agency_id == agency_id,
            Disclosure.revoked_at.is_(None),
        )
    ).all()
    consent_ids = {d.consent_id for d in rows if d.consent_id is not None}
    if consent_ids:  # load them in one query; the relationship then finds them in the session
        session.scalars(select(Consent).where(Consent.id.in_(consent_ids))).all()
    by_record: dict[int, list[Disclosure]] = {}
    for disclosure in rows:
        by_record.setdefault(disclosure.record_id, []).append(disclosure)
    return by_record


def verdict(
    disclosure: Disclosure, record: Record, birth_date: dt.date | None, on: dt.date
) -> Reason | None:
    """None while the disclosure is in force on ``on``; otherwise why it lapsed. A disclosure
    the sweep has ended stays ended, with today's explanation when there is one."""
    return _verdict(disclosure, record_facts(record), birth_date, on)


def _verdict(
    disclosure: Disclosure, facts: RecordFacts, birth_date: dt.date | None, on: dt.date
) -> Reason | None:
    """``verdict`` with the record's facts worked out once by the caller."""
    disclosed = DisclosureFacts(
        basis_id=disclosure.basis_id,
        recipient=recipient_facts(disclosure.recipient_agency),
        consent=consent_facts(disclosure.consent) if disclosure.consent else None,
    )
    reason = disclosure_in_force(disclosed, legal_bases(), facts, birth_date, on)
    if disclosure.lapsed_at is not None and reason is None:
        return Reason(Refusal.ENDED)
    return reason


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
    disclosures = live_disclosures(session, ids, viewer.agency_id)
    children = {r.child_id: r.child for r in records if r.id in disclosures}
    birth_dates = child_birth_dates(session, list(children.values()))
    today = today_local()
    ring = crypto.keyring(session)
    results: list[RevealResult] = []
    for record in records:
        facts_of_record = record_facts(record)
        verdicts = [
            (d, _verdict(d, facts_of_record, birth_dates.get(record.child_id), today))
            for d in disclosures.get(record.id, [])
        ]
        reason = visibility(facts_of_record, facts, [v for _, v in verdicts])
        key = keys.get(record.id)
        if reason is None and key is None:
            reason = WithheldReason.NO_KEY
        if reason is not None or key is None:
            lapse = next((v for _, v in verdicts if v is not None), None)
            results.append(Withheld(record, reason or WithheldReason.NO_KEY, lapse))
            continue
        in_force = next((d for d, v in verdicts if v is None), None)
        via = Via(in_force, legal_bases().get(in_force.basis_id)) if in_force else None
        try:
            results.append(Revealed(record, crypto.open_record(ring, record, key), via))
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
            "via_disclosure": sorted(
                r.via.disclosure.id for r in results if isinstance(r, Revealed) and r.via
            ),
        },
    )
    return results


def reveal_one(
    session: Session, viewer: User, record: Record, *, purpose: str = "view"
) -> RevealResult:
    return reveal_records(session, viewer, [record], purpose=purpose)[0]


def reveal_listed(
    session: Session, viewer: User, records: Sequence[Record], *, purpose: str = "view"
) -> list[RevealResult]:
    """``reveal_records`` for a list shown to the viewer: records whose very existence is
    secret (``existence_secret``) are left out, not shown as withheld, for an agency that
    neither owns them nor holds a live disclosure; they are not even passed to the reveal, so
    its audit event does not count them either."""
    secret = [r.id for r in records if r.existence_secret and r.owner_agency_id != viewer.agency_id]
    disclosed = live_disclosures(session, secret, viewer.agency_id) if secret else {}
    shown = [r for r in records if r.id not in secret or r.id in disclosed]
    return [
        result
        for result in reveal_records(session, viewer, shown, purpose=purpose)
        if not (result.withheld and result.record.existence_secret)
    ]


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
