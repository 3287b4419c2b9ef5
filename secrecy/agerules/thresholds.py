"""Age thresholds ahead: which children of a council turn an age within the coming days at
which the policy engine's answers change (who signs a consent, a basis's age limit), and what
of each child's disclosures and consents will lapse on that day.

Nothing here keeps a table of ages or of lapses: the ages come from ``age_thresholds`` (the
engine's signer ages and the rule set's age limits), and a disclosure or consent is listed when
the engine holds it on the day before and refuses it on the day itself, the same verdict the
reveal and the lapse sweep use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from coordination.audit.log import record_event
from coordination.models import Child, ChildStatus, Council, CouncilMembership, User
from coordination.notices import Notice, send_notice
from secrecy.models import Consent, Disclosure, Record
from secrecy.policy.engine import (
    ConsentFacts,
    DisclosureFacts,
    Reason,
    RecordFacts,
    Signer,
    age_thresholds,
    birthday,
    required_signers,
    signer_problems,
)
from secrecy.policy.facts import consent_facts, recipient_facts, record_facts, verdict
from secrecy.policy.rules import LegalBasis, legal_bases
from secrecy.records.reveal import child_birth_date, readable_record_ids
from secrecy.records.services import current_identity_records
from secrecy.tags import SecrecyTag

WINDOW_DAYS = 60
NOTICE_DAYS = 14
THRESHOLD_AHEAD = "age_threshold_ahead"

K = TypeVar("K", bound=Hashable)


def thresholds_path(council_id: int) -> str:
    return f"/councils/{int(council_id)}/age-thresholds"


# --- The pure part: what the engine says lapses on a day ---------------------------------------


def lapsing_on(
    day: dt.date,
    birth_date: dt.date,
    disclosures: Mapping[K, tuple[DisclosureFacts, RecordFacts]],
    consents: Mapping[K, ConsentFacts],
    bases: Mapping[str, LegalBasis],
) -> dict[K, Reason]:
    """The disclosures and consents (by key) that hold on the day before ``day`` and not on
    ``day``, each with the engine's reason. A consent is judged on its signatures (who must
    sign changes with age); its own dates are its own matter."""
    before = day - dt.timedelta(days=1)
    found: dict[K, Reason] = {}
    for key, (disclosed, facts) in disclosures.items():
        if verdict(disclosed, facts, birth_date, before, ended=False, bases=bases) is not None:
            continue
        reason = verdict(disclosed, facts, birth_date, day, ended=False, bases=bases)
        if reason is not None:
            found[key] = reason
    for ckey, consent in consents.items():
        if signer_problems(consent, birth_date, before):
            continue
        after = signer_problems(consent, birth_date, day)
        if after:
            found[ckey] = after[0]
    return found


def upcoming_thresholds(
    birth_date: dt.date, on: dt.date, days: int, ages: Sequence[int]
) -> list[tuple[int, dt.date]]:
    """(age, day) for each threshold age the child reaches after ``on`` and within ``days``."""
    last = on + dt.timedelta(days=days)
    found = []
    for age in ages:
        day = birthday(birth_date, age)
        if on < day <= last:
            found.append((age, day))
    return found


# --- The list ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lapse:
    reason: Reason
    owner_agency_id: int  # who decided it: the record's owner, the consent's registering agency
    concerns: frozenset[int]  # the agencies the item is about (owner, recipient, named)
    disclosure: Disclosure | None = None
    consent: Consent | None = None


@dataclass
class Threshold:
    child: Child
    age: int
    day: dt.date
    lapses: list[Lapse] = field(default_factory=list)
    # The bases whose age limit is this age (they can carry nothing from the day).
    bases_ending: list[LegalBasis] = field(default_factory=list)
    # Who signs a consent, the day before and on the day (None: no change).
    signers: tuple[frozenset[Signer], frozenset[Signer]] | None = None

    def lapses_for(self, agency_id: int) -> list[Lapse]:
        """The lapses an agency may be told of: those about it (as owner, recipient, or named
        in the consent). Others see only how many there are."""
        return [lapse for lapse in self.lapses if agency_id in lapse.concerns]

    @property
    def owner_agency_ids(self) -> set[int]:
        return {lapse.owner_agency_id for lapse in self.lapses} | {self.child.enrolling_agency_id}


def _live_disclosures(session: Session, child_ids: Sequence[int]) -> Sequence[Disclosure]:
    return session.scalars(
        select(Disclosure)
        .join(Record, Record.id == Disclosure.record_id)
        .where(
            Record.child_id.in_(child_ids),
            Record.shredded_at.is_(None),
            Disclosure.revoked_at.is_(None),
            Disclosure.lapsed_at.is_(None),
        )
        .options(
            selectinload(Disclosure.record),
            selectinload(Disclosure.recipient_agency),
            selectinload(Disclosure.consent),
        )
        .order_by(Disclosure.id)
    ).all()


def _live_consents(session: Session, child_ids: Sequence[int], on: dt.date) -> Sequence[Consent]:
    return session.scalars(
        select(Consent)
        .where(
            Consent.child_id.in_(child_ids),
            Consent.revoked_on.is_(None),
            or_(Consent.valid_to.is_(None), Consent.valid_to > on),
        )
        .order_by(Consent.id)
    ).all()


def thresholds_ahead(
    session: Session, council: Council, on: dt.date, days: int = WINDOW_DAYS
) -> list[Threshold]:
    """The council's active children who reach a threshold age after ``on`` and within
    ``days``, soonest first, each with what lapses on that day. A handful of queries
    whatever the number of children."""
    bases = legal_bases()
    ages = age_thresholds(bases.values())
    children = session.scalars(
        select(Child)
        .where(Child.council_id == council.id, Child.status == ChildStatus.ACTIVE)
        .order_by(Child.pseudonym)
    ).all()
    birth_dates: dict[int, dt.date] = {}
    upcoming: list[tuple[Child, int, dt.date]] = []
    for child in children:
        birth_date = child_birth_date(session, child.id, child.birth_date_sealed)
        if birth_date is None:
            continue
        birth_dates[child.id] = birth_date
        upcoming += [(child, a, d) for a, d in upcoming_thresholds(birth_date, on, days, ages)]
    if not upcoming:
        return []
    child_ids = sorted({child.id for child, _, _ in upcoming})
    disclosures: dict[int, list[Disclosure]] = {}
    for disclosure in _live_disclosures(session, child_ids):
        disclosures.setdefault(disclosure.record.child_id, []).append(disclosure)
    consents: dict[int, list[Consent]] = {}
    for consent in _live_consents(session, child_ids, on):
        consents.setdefault(consent.child_id, []).append(consent)
    result: list[Threshold] = []
    for child, age, day in sorted(upcoming, key=lambda u: (u[2], u[0].pseudonym, u[1])):
        birth_date = birth_dates[child.id]
        by_key_d = {
            ("d", d.id): (
                DisclosureFacts(
                    basis_id=d.basis_id,
                    recipient=recipient_facts(d.recipient_agency),
                    consent=consent_facts(d.consent) if d.consent is not None else None,
                ),
                record_facts(d.record),
            )
            for d in disclosures.get(child.id, [])
        }
        by_key_c = {("c", c.id): consent_facts(c) for c in consents.get(child.id, [])}
        found = lapsing_on(day, birth_date, by_key_d, by_key_c, bases)
        threshold = Threshold(child, age, day)
        for d in disclosures.get(child.id, []):
            reason = found.get(("d", d.id))
            if reason is not None:
                threshold.lapses.append(
                    Lapse(
                        reason,
                        d.record.owner_agency_id,
                        frozenset({d.record.owner_agency_id, d.recipient_agency_id}),
                        disclosure=d,
                    )
                )
        for c in consents.get(child.id, []):
            reason = found.get(("c", c.id))
            if reason is not None:
                threshold.lapses.append(
                    Lapse(
                        reason,
                        c.registered_by_agency_id,
                        frozenset({c.registered_by_agency_id, *c.agency_ids}),
                        consent=c,
                    )
                )
        threshold.bases_ending = [b for b in bases.values() if b.enabled and b.age_limit == age]
        mature = False
        before = required_signers(birth_date, day - dt.timedelta(days=1), True, mature_alone=mature)
        after = required_signers(birth_date, day, True, mature_alone=mature)
        if before != after:
            threshold.signers = (before, after)
        result.append(threshold)
    return result


def exact_dates_for(session: Session, viewer: User, thresholds: Sequence[Threshold]) -> set[int]:
    """The children whose threshold days the viewer may see to the day: those whose identity
    record (with the birth date) the viewer's agency may read. Everyone else sees the month,
    so the list never tells a birth date to an agency that may not know it."""
    children = list({t.child.id: t.child for t in thresholds}.values())
    if not children:
        return set()
    identities = current_identity_records(session, children)
    readable = readable_record_ids(session, viewer, list(identities))
    return {r.child_id for r in identities if r.id in readable}


# --- The notice 14 days ahead ------------------------------------------------------------------


def notify_thresholds(session: Session, on: dt.date, days: int = NOTICE_DAYS) -> int:
    """Tell the agencies concerned (the owners of what lapses, and the agency responsible for
    the case) that a child of their council reaches a threshold within ``days``; each agency's
    members of the council once per child and age (the dedup key). Returns how many
    thresholds were notified now."""
    councils = session.scalars(
        select(Council).where(Council.active.is_(True)).order_by(Council.id)
    ).all()
    notified = 0
    for council in councils:
        thresholds = [
            t for t in thresholds_ahead(session, council, on, days) if t.lapses or t.signers
        ]
        if not thresholds:
            continue
        members = session.scalars(
            select(User)
            .join(CouncilMembership, CouncilMembership.user_id == User.id)
            .where(CouncilMembership.council_id == council.id)
            .order_by(User.id)
        ).all()
        for threshold in thresholds:
            agencies = sorted(threshold.owner_agency_ids)
            told: list[int] = []
            for agency_id in agencies:
                users = [u for u in members if u.agency_id == agency_id]
                sent = send_notice(
                    session,
                    users,
                    Notice(
                        THRESHOLD_AHEAD,
                        thresholds_path(council.id),
                        f"age-threshold:{threshold.child.id}:{threshold.age}:{agency_id}",
                        (("days", (threshold.day - on).days),),
                    ),
                )
                if sent:
                    told.append(agency_id)
            if told:
                notified += 1
                record_event(
                    session,
                    None,
                    SecrecyTag.AGE_THRESHOLD_NOTIFY,
                    on=threshold.child,
                    details={"threshold": threshold.age, "agency_ids": told},
                )
    session.flush()
    return notified
