"""From rows to the policy engine's plain facts (the engine itself never sees the database)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.models import Agency, Child, Council
from secrecy.models import Consent, Record
from secrecy.policy.engine import (
    ConsentFacts,
    DisclosureFacts,
    Reason,
    RecipientFacts,
    RecordFacts,
    Refusal,
    Signer,
    age_class,
    disclosure_in_force,
)
from secrecy.policy.rules import LegalBasis, Strength, legal_bases, recipient_protection


def record_facts(record: Record) -> RecordFacts:
    return RecordFacts(
        owner_agency_id=record.owner_agency_id,
        owner_kind=record.owner_agency.kind.value,
        category=record.category,
        council_id=record.child.council_id,
        shredded=record.is_shredded,
        owner_public=record.owner_agency.osl_applies,
        owner_authority=record.owner_agency.authority_key,
        owner_independent_branch=record.owner_agency.independent_branch,
    )


def is_weakly_protected(agency: Agency) -> bool:
    """The recipient's own secrecy is weak: leisure, other, or any body outside OSL."""
    return (
        not agency.osl_applies
        or recipient_protection()[agency.kind.value].strength is Strength.WEAK
    )


def recipient_facts(agency: Agency) -> RecipientFacts:
    return RecipientFacts(
        agency_id=agency.id,
        kind=agency.kind.value,
        weak_protection=is_weakly_protected(agency),
        authority=agency.authority_key,
        independent_branch=agency.independent_branch,
    )


def consents_with_maturity(
    session: Session, consent_ids: Collection[int]
) -> tuple[dict[int, Consent], dict[int, bool]]:
    """The consents by id, and each one's council rule on a mature young person's consent (the
    ``maturity_consent`` of the consent's child's council), in one statement: what
    ``consent_facts`` reads of many consents, without a child and council load per consent."""
    if not consent_ids:
        return {}, {}
    rows = session.execute(
        select(Consent, Council.maturity_consent)
        .join(Child, Child.id == Consent.child_id)
        .join(Council, Council.id == Child.council_id)
        .where(Consent.id.in_(consent_ids))
    )
    consents: dict[int, Consent] = {}
    maturity: dict[int, bool] = {}
    for consent, allowed in rows:
        consents[consent.id] = consent
        maturity[consent.id] = allowed
    return consents, maturity


def consent_facts(consent: Consent, maturity_allowed: bool | None = None) -> ConsentFacts:
    """The consent's facts; ``maturity_allowed`` is its council's rule when the caller read it
    with the consent (``consents_with_maturity``), else it is read through the consent's child
    (a load per consent unless the child and its council are in the session already)."""
    if maturity_allowed is None:
        maturity_allowed = consent.child.council.maturity_consent
    return ConsentFacts(
        id=consent.id,
        signers=frozenset(Signer(s) for s in consent.signers),
        two_guardians=consent.two_guardians,
        agency_ids=frozenset(consent.agency_ids),
        agency_kinds=frozenset(consent.agency_kinds),
        categories=frozenset(consent.categories),
        valid_from=consent.valid_from,
        valid_to=consent.valid_to,
        revoked_on=consent.revoked_on,
        maturity_assessed=consent.maturity_assessed_on is not None,
        maturity_allowed=maturity_allowed,
    )


def verdict(
    disclosed: DisclosureFacts,
    facts: RecordFacts,
    birth_date: dt.date | None,
    on: dt.date,
    *,
    ended: bool,
    bases: Mapping[str, LegalBasis] | None = None,
) -> Reason | None:
    """The one lapse verdict, for the reveal and the sweep alike: None while a disclosure
    holds on ``on`` for a record with these facts; otherwise why not. A disclosure the sweep
    has ended (``ended``) stays ended, with today's explanation when there is one."""
    reason = disclosure_in_force(
        disclosed, legal_bases() if bases is None else bases, facts, birth_date, on
    )
    if ended and reason is None:
        return Reason(Refusal.ENDED)
    return reason


class PolicyFacts:
    """The policy's facts and verdicts for one reveal call, each worked out once.

    The call's records share a few owner agencies, councils, categories and consents, and the
    recipient is always the viewer's agency; a verdict depends only on the basis, the
    recipient, the consent, the record's facts, the child's age (``age_class``: the engine
    reads nothing else of the birth date) and the day, so it is kept under exactly those.
    Records of two children share a verdict only when the children are of an age today: a
    child who turns 21 today never inherits the answer given for a 20-year-old.
    """

    def __init__(
        self,
        recipient: Agency,
        children: Mapping[int, Child],
        consents: Mapping[int, Consent],
        birth_date: Callable[[Child], dt.date | None],
        on: dt.date,
        maturity: Mapping[int, bool] | None = None,
    ) -> None:
        self.on = on
        self.bases = legal_bases()
        self._recipient_agency = recipient
        self._recipient: RecipientFacts | None = None
        self._children = children
        self._councils = {child_id: child.council_id for child_id, child in children.items()}
        self._consents = consents
        # Consent id -> its council's maturity rule, read with the consents (one statement),
        # not through each consent's child and council.
        self._maturity = maturity or {}
        self._open_birth_date = birth_date
        self._owners: dict[int, tuple[str, bool, str | None, bool]] = {}
        self._records: dict[tuple[int, str, int, bool], RecordFacts] = {}
        self._consent_facts: dict[int, ConsentFacts] = {}
        self._birth_dates: dict[int, dt.date | None] = {}
        self._verdicts: dict[
            tuple[str, int | None, RecordFacts, int | None, bool], Reason | None
        ] = {}

    def record_facts(self, record: Record) -> RecordFacts:
        """``record_facts(record)``, from the call's children and agencies."""
        owner_id = record.owner_agency_id
        key = (
            owner_id,
            record.category,
            self._councils[record.child_id],
            record.shredded_at is not None,
        )
        facts = self._records.get(key)
        if facts is None:
            owner = self._owners.get(owner_id)
            if owner is None:
                agency = record.owner_agency
                owner = self._owners[owner_id] = (
                    agency.kind.value,
                    agency.osl_applies,
                    agency.authority_key,
                    agency.independent_branch,
                )
            facts = self._records[key] = RecordFacts(
                owner_agency_id=owner_id,
                owner_kind=owner[0],
                category=key[1],
                council_id=key[2],
                shredded=key[3],
                owner_public=owner[1],
                owner_authority=owner[2],
                owner_independent_branch=owner[3],
            )
        return facts

    def verdict(
        self,
        basis_id: str,
        consent_id: int | None,
        lapsed: bool,
        facts: RecordFacts,
        child_id: int,
    ) -> Reason | None:
        """``verdict`` for a disclosure to the recipient under this basis (and consent), kept
        for every record with the same facts and every child of the same age today."""
        birth_date = self._birth_date(child_id)
        key = (basis_id, consent_id, facts, age_class(birth_date, self.on), lapsed)
        if key not in self._verdicts:
            disclosed = DisclosureFacts(
                basis_id=basis_id,
                recipient=self._recipient_facts(),
                consent=self._consent(consent_id),
            )
            self._verdicts[key] = verdict(
                disclosed, facts, birth_date, self.on, ended=lapsed, bases=self.bases
            )
        return self._verdicts[key]

    def _birth_date(self, child_id: int) -> dt.date | None:
        if child_id not in self._birth_dates:
            self._birth_dates[child_id] = self._open_birth_date(self._children[child_id])
        return self._birth_dates[child_id]

    def _recipient_facts(self) -> RecipientFacts:
        if self._recipient is None:
            self._recipient = recipient_facts(self._recipient_agency)
        return self._recipient

    def _consent(self, consent_id: int | None) -> ConsentFacts | None:
        if consent_id is None:
            return None
        facts = self._consent_facts.get(consent_id)
        if facts is None:
            facts = self._consent_facts[consent_id] = consent_facts(
                self._consents[consent_id], self._maturity.get(consent_id)
            )
        return facts
