"""Disclosures whose basis has lapsed: ended and their keys deleted.

``sweep_lapsed`` ends every disclosure whose basis no longer holds (consent revoked or expired,
age limit passed, rule ended) and deletes its wrapped key; visibility ends at once through the
policy anyway, the sweep makes the keys agree. ``end_lapsed`` is the ending itself, shared with
the revocation of a consent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload, selectinload

from coordination.audit.log import record_event
from coordination.db import today_local, utcnow
from coordination.models import Child, User
from secrecy.disclosure.assessments import withdraw_assessments
from secrecy.models import (
    Disclosure,
    Record,
)
from secrecy.policy.engine import DisclosureFacts, Reason, RecordFacts
from secrecy.policy.facts import (
    consent_facts,
    consents_with_maturity,
    recipient_facts,
    record_facts,
    verdict,
)
from secrecy.records import sealing
from secrecy.records.reveal import child_birth_date
from secrecy.tags import SecrecyTag


def end_lapsed(session: Session, actor: User | None, ended: list[tuple[Disclosure, str]]) -> int:
    now = utcnow()
    for disclosure, code in ended:
        disclosure.lapsed_at = now
        disclosure.lapse_reason = code
    session.flush()
    # Every ended disclosure's key in bulk (one statement per recipient and batch).
    sealing.withdraw_record_keys(
        session, [(disclosure.record, disclosure.recipient_agency_id) for disclosure, _ in ended]
    )
    withdraw_assessments(session, [disclosure for disclosure, _ in ended])
    if ended:
        record_event(
            session,
            actor,
            SecrecyTag.DISCLOSURE_LAPSE,
            object_type="disclosure",
            object_ids=[d.id for d, _ in ended],
            details={"reasons": sorted({code for _, code in ended})},
        )
    return len(ended)


@dataclass(frozen=True)
class SweepReport:
    checked: int
    lapsed: int


@dataclass(frozen=True)
class LiveDisclosure:
    """A disclosure not yet ended, with the facts its verdict reads."""

    disclosure: Disclosure
    disclosed: DisclosureFacts
    record: RecordFacts
    birth_date: dt.date | None

    def lapse_on(self, day: dt.date) -> Reason | None:
        """The one lapse verdict (``secrecy.policy.facts.verdict``) for ``day``."""
        return verdict(self.disclosed, self.record, self.birth_date, day, ended=False)


def live_disclosures(session: Session, batch: int = 500) -> Iterator[list[LiveDisclosure]]:
    """Every live (neither revoked nor lapsed) disclosure with its facts, a batch at a time."""
    last_id = 0
    while True:
        rows = session.scalars(
            select(Disclosure)
            .where(
                Disclosure.id > last_id,
                Disclosure.revoked_at.is_(None),
                Disclosure.lapsed_at.is_(None),
            )
            .order_by(Disclosure.id)
            .limit(batch)
            # What the verdict reads, loaded per batch rather than one query per disclosure,
            # and only that: not the records' ciphertexts, authors or the children's councils
            # (the consents come below, with their councils' maturity rule).
            .options(
                selectinload(Disclosure.record)
                .load_only(
                    Record.id,
                    Record.child_id,
                    Record.owner_agency_id,
                    Record.category,
                    Record.shredded_at,
                )
                .options(
                    lazyload(Record.author),
                    selectinload(Record.child)
                    .load_only(Child.id, Child.council_id, Child.birth_date_sealed)
                    .lazyload(Child.council),
                ),
                selectinload(Disclosure.recipient_agency),
            )
        ).all()
        if not rows:
            return
        # Not through each consent's child and council: a load per council in the batch.
        consents, maturity = consents_with_maturity(
            session, {d.consent_id for d in rows if d.consent_id is not None}
        )
        births: dict[int, dt.date | None] = {}
        live = []
        for disclosure in rows:
            record = disclosure.record
            child = record.child
            if child.id not in births:
                births[child.id] = child_birth_date(session, child.id, child.birth_date_sealed)
            disclosed = DisclosureFacts(
                basis_id=disclosure.basis_id,
                recipient=recipient_facts(disclosure.recipient_agency),
                consent=None
                if disclosure.consent_id is None
                else consent_facts(
                    consents[disclosure.consent_id], maturity[disclosure.consent_id]
                ),
            )
            live.append(
                LiveDisclosure(disclosure, disclosed, record_facts(record), births[child.id])
            )
        yield live
        last_id = rows[-1].id


def sweep_lapsed(session: Session, on: dt.date | None = None, batch: int = 500) -> SweepReport:
    """End every live disclosure whose basis no longer holds and delete its wrapped key.
    Idempotent: a second run finds nothing; safe to run after a crash in the middle."""
    today = on or today_local()
    checked = 0
    ended: list[tuple[Disclosure, str]] = []
    for live in live_disclosures(session, batch):
        for item in live:
            reason = item.lapse_on(today)
            if reason is not None:
                ended.append((item.disclosure, reason.code.value))
        checked += len(live)
    end_lapsed(session, None, ended)
    return SweepReport(checked=checked, lapsed=len(ended))


@dataclass(frozen=True)
class UpcomingLapse:
    disclosure: Disclosure
    on: dt.date  # the first day the disclosure no longer holds
    reason: Reason


def upcoming_lapses(
    session: Session, today: dt.date, within: dt.timedelta, batch: int = 500
) -> list[UpcomingLapse]:
    """The live disclosures that hold today but lapse by themselves within ``within`` (an age
    limit reached, a consent's end date, a rule's end), with the day: the same verdict as the
    sweep, asked for the coming days."""
    last = today + within
    found: list[UpcomingLapse] = []
    for live in live_disclosures(session, batch):
        for item in live:
            if item.lapse_on(today) is not None or item.lapse_on(last) is None:
                continue
            day = today + dt.timedelta(days=1)
            while (reason := item.lapse_on(day)) is None:
                day += dt.timedelta(days=1)
            found.append(UpcomingLapse(item.disclosure, day, reason))
    return found
