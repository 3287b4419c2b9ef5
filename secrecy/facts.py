"""From rows to the policy engine's plain facts (the engine itself never sees the database)."""

from __future__ import annotations

from coordination.models import Agency
from secrecy.models import Consent, Record
from secrecy.policy import ConsentFacts, RecipientFacts, RecordFacts, Signer
from secrecy.rules import Strength, recipient_protection


def record_facts(record: Record) -> RecordFacts:
    return RecordFacts(
        owner_agency_id=record.owner_agency_id,
        owner_kind=record.owner_agency.kind.value,
        category=record.category,
        council_id=record.child.council_id,
        shredded=record.is_shredded,
        owner_public=record.owner_agency.osl_applies,
    )


def is_weakly_protected(agency: Agency) -> bool:
    """The recipient's own secrecy is weak: leisure, other, or any body outside OSL."""
    return (
        not agency.osl_applies
        or recipient_protection()[agency.kind.value].strength is Strength.WEAK
    )


def recipient_facts(agency: Agency) -> RecipientFacts:
    return RecipientFacts(
        agency_id=agency.id, kind=agency.kind.value, weak_protection=is_weakly_protected(agency)
    )


def consent_facts(consent: Consent) -> ConsentFacts:
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
    )
