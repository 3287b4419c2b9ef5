"""The policy engine: pure functions, no I/O. Deny by default, and explain every answer.

Two questions:

- ``assess_bases``: for a record, a recipient, the child's birth date, the consents on file and
  a date, which legal bases can apply (with the statements to confirm) and, for every basis that
  cannot, why not.
- ``disclosure_in_force``: whether a disclosure made earlier still holds on a date (consent
  revoked or expired, age limit passed, rule ended) and, if not, why.

``visibility`` combines them with ownership and membership into what a viewer may read.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from secrecy.policy.rules import AuthorityRelation, LegalBasis


class WithheldReason(enum.StrEnum):
    NOT_MEMBER = "not_member"
    NO_DISCLOSURE = "no_disclosure"
    LAPSED = "lapsed"
    SHREDDED = "shredded"
    NO_KEY = "no_key"
    KEY_ERROR = "key_error"
    # The session's log-in is below the assurance level the viewer's agency requires.
    LOW_ASSURANCE = "low_assurance"


class Refusal(enum.StrEnum):
    """Why a basis cannot carry a disclosure (or no longer does)."""

    RECIPIENT_IS_OWNER = "recipient_is_owner"
    RULE_DISABLED = "rule_disabled"
    RULE_NOT_YET_IN_FORCE = "rule_not_yet_in_force"
    RULE_ENDED = "rule_ended"
    WRONG_OWNER_KIND = "wrong_owner_kind"
    OWNER_NOT_PUBLIC = "owner_not_public"
    WRONG_RECIPIENT_KIND = "wrong_recipient_kind"
    SAME_KIND = "same_kind"
    EXCLUDED_OWNER = "excluded_owner"
    CATEGORY_NOT_ALLOWED = "category_not_allowed"
    CATEGORY_DENIED = "category_denied"
    WEAK_RECIPIENT = "weak_recipient"
    AGE_UNKNOWN = "age_unknown"
    AGE_LIMIT = "age_limit"
    NO_CONSENT = "no_consent"
    CONSENT_INCOMPLETE = "consent_incomplete"
    CONSENT_NOT_YET_VALID = "consent_not_yet_valid"
    CONSENT_EXPIRED = "consent_expired"
    CONSENT_REVOKED = "consent_revoked"
    CONSENT_AGENCY = "consent_agency"
    CONSENT_CATEGORY = "consent_category"
    SAME_AUTHORITY = "same_authority"  # one authority, no independent branch: not disclosure
    OTHER_AUTHORITY = "other_authority"  # an inside-the-authority basis to another authority
    STATEMENT_MISSING = "statement_missing"  # the written statement the basis requires
    BASIS_UNKNOWN = "basis_unknown"
    ENDED = "ended"  # swept earlier; the basis no longer explains it (e.g. rules changed since)


class Signer(enum.StrEnum):
    GUARDIAN_1 = "guardian_1"
    GUARDIAN_2 = "guardian_2"
    YOUNG_PERSON = "young_person"


@dataclass(frozen=True)
class Reason:
    code: Refusal
    # Facts for the message: a date, an age, a signer, a category; never content.
    params: Mapping[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordFacts:
    owner_agency_id: int
    owner_kind: str
    category: str
    council_id: int
    shredded: bool = False
    # False for owners outside OSL (civil-society leisure, independent schools): the duties
    # that bind municipal bodies (concern reports, the duty to inform the police) do not apply.
    owner_public: bool = True
    # The authority (myndighet) the owner belongs to, None where not recorded (then each agency
    # counts as an authority of its own), and whether the owner is an independent branch of
    # activity inside it (8 kap. 2 § OSL: secrecy applies between such branches).
    owner_authority: str | None = None
    owner_independent_branch: bool = True


@dataclass(frozen=True)
class RecipientFacts:
    agency_id: int
    kind: str
    # Weak own protection: leisure, civil society, independent schools (outside OSL).
    weak_protection: bool
    authority: str | None = None
    independent_branch: bool = True


@dataclass(frozen=True)
class ConsentFacts:
    id: int
    signers: frozenset[Signer]
    two_guardians: bool  # joint custody: both guardians must sign
    agency_ids: frozenset[int]
    agency_kinds: frozenset[str]
    categories: frozenset[str]
    valid_from: dt.date
    valid_to: dt.date | None
    revoked_on: dt.date | None
    # A maturity assessment is recorded (12 kap. 3 § OSL): the young person may consent alone
    # from 15, where the council's local policy allows it (``maturity_allowed``).
    maturity_assessed: bool = False
    maturity_allowed: bool = False


@dataclass(frozen=True)
class Assessment:
    basis: LegalBasis
    reasons: tuple[Reason, ...]
    consent_ids: tuple[int, ...] = ()

    @property
    def applicable(self) -> bool:
        return not self.reasons


def age_on(birth_date: dt.date, on: dt.date) -> int:
    """Completed years on a date (a birthday counts from the day itself; 29 February
    birthdays count from 1 March in other years)."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def age_class(birth_date: dt.date | None, on: dt.date) -> int | None:
    """All the engine reads of a birth date on a date: the completed years (None: unknown).
    ``assess_basis`` and ``disclosure_in_force`` answer alike for two birth dates of the same
    age on the day (a property the tests hold), so an answer may be kept under the age."""
    return None if birth_date is None else age_on(birth_date, on)


MATURITY_MIN_AGE = 15
# From this age the young person consents alone (SECRECY.md section 3).
ADULT_AGE = 18


def birthday(birth_date: dt.date, age: int) -> dt.date:
    """The first day on which ``age_on`` gives ``age`` (29 February: 1 March in other years)."""
    year = birth_date.year + age
    try:
        return birth_date.replace(year=year)
    except ValueError:
        return dt.date(year, 3, 1)


def age_thresholds(bases: Iterable[LegalBasis]) -> tuple[int, ...]:
    """Every age at which the engine's answers can change: who signs a consent
    (``MATURITY_MIN_AGE``, ``ADULT_AGE``) and the enabled bases' age limits. The thresholds
    list and its notices read them from here, never from a table of their own."""
    ages = {MATURITY_MIN_AGE, ADULT_AGE}
    ages.update(b.age_limit for b in bases if b.enabled and b.age_limit is not None)
    return tuple(sorted(ages))


def required_signers(
    birth_date: dt.date, on: dt.date, two_guardians: bool, *, mature_alone: bool = False
) -> frozenset[Signer]:
    """SECRECY.md section 3, the default local policy: under 15 the guardian(s); 15–17 the
    guardian(s) and the young person; 18 and over the young person alone. The law sets no
    fixed age (12 kap. 3 § OSL): with ``mature_alone`` (a recorded maturity assessment that the
    council's policy accepts) a young person of 15–17 consents alone."""
    age = age_on(birth_date, on)
    guardians = {Signer.GUARDIAN_1, Signer.GUARDIAN_2} if two_guardians else {Signer.GUARDIAN_1}
    if age < MATURITY_MIN_AGE:
        return frozenset(guardians)
    if age < ADULT_AGE and not mature_alone:
        return frozenset(guardians | {Signer.YOUNG_PERSON})
    return frozenset({Signer.YOUNG_PERSON})


def signer_problems(consent: ConsentFacts, birth_date: dt.date, on: dt.date) -> tuple[Reason, ...]:
    """The signatures the consent lacks on this date for a child born on ``birth_date``."""
    mature_alone = consent.maturity_assessed and consent.maturity_allowed
    required = required_signers(birth_date, on, consent.two_guardians, mature_alone=mature_alone)
    return tuple(
        Reason(Refusal.CONSENT_INCOMPLETE, {"signer": signer.value})
        for signer in sorted(required - consent.signers)
    )


def consent_problems(
    consent: ConsentFacts,
    record: RecordFacts,
    recipient: RecipientFacts,
    birth_date: dt.date | None,
    on: dt.date,
) -> tuple[Reason, ...]:
    """Everything that keeps this consent from carrying this disclosure on this date."""
    reasons: list[Reason] = []
    if consent.revoked_on is not None and consent.revoked_on <= on:
        reasons.append(Reason(Refusal.CONSENT_REVOKED, {"date": consent.revoked_on.isoformat()}))
    if on < consent.valid_from:
        reasons.append(
            Reason(Refusal.CONSENT_NOT_YET_VALID, {"date": consent.valid_from.isoformat()})
        )
    if consent.valid_to is not None and on > consent.valid_to:
        reasons.append(Reason(Refusal.CONSENT_EXPIRED, {"date": consent.valid_to.isoformat()}))
    if birth_date is None:
        reasons.append(Reason(Refusal.AGE_UNKNOWN))
    else:
        reasons.extend(signer_problems(consent, birth_date, on))
    if recipient.agency_id not in consent.agency_ids and recipient.kind not in consent.agency_kinds:
        reasons.append(Reason(Refusal.CONSENT_AGENCY))
    if record.category not in consent.categories:
        reasons.append(Reason(Refusal.CONSENT_CATEGORY, {"category": record.category}))
    return tuple(reasons)


def inside_one_authority(record: RecordFacts, recipient: RecipientFacts) -> bool:
    """Owner and recipient are one authority with no secrecy between them: the same recorded
    authority, and neither an independent branch of activity (8 kap. 1–2 §§ OSL). Handing
    information over inside one authority is not disclosure."""
    return (
        record.owner_authority is not None
        and record.owner_authority == recipient.authority
        and not (record.owner_independent_branch or recipient.independent_branch)
    )


def statement_problem(basis: LegalBasis, statement: str | None) -> Reason | None:
    """The written statement a basis requires at the decision (own-task: the disclosing
    agency's own task need, 10 kap. 2 § OSL); None when given or not required."""
    if basis.requires_statement and not (statement or "").strip():
        return Reason(Refusal.STATEMENT_MISSING)
    return None


def _rule_problems(
    basis: LegalBasis,
    record: RecordFacts,
    recipient: RecipientFacts,
    birth_date: dt.date | None,
    on: dt.date,
) -> list[Reason]:
    reasons: list[Reason] = []
    if not basis.enabled:
        reasons.append(Reason(Refusal.RULE_DISABLED))
    if basis.effective_from is not None and on < basis.effective_from:
        reasons.append(
            Reason(Refusal.RULE_NOT_YET_IN_FORCE, {"date": basis.effective_from.isoformat()})
        )
    if basis.effective_to is not None and on > basis.effective_to:
        reasons.append(Reason(Refusal.RULE_ENDED, {"date": basis.effective_to.isoformat()}))
    if record.owner_kind in basis.excluded_owner_kinds:
        reasons.append(Reason(Refusal.EXCLUDED_OWNER, {"kind": record.owner_kind}))
    elif not basis.allows_from(record.owner_kind):
        reasons.append(Reason(Refusal.WRONG_OWNER_KIND, {"kind": record.owner_kind}))
    if (
        basis.public_owners_only
        and not record.owner_public
        and record.owner_kind not in basis.bound_private_kinds
    ):
        reasons.append(Reason(Refusal.OWNER_NOT_PUBLIC))
    if not basis.allows_to(recipient.kind):
        reasons.append(Reason(Refusal.WRONG_RECIPIENT_KIND, {"kind": recipient.kind}))
    if basis.different_kinds and recipient.kind == record.owner_kind:
        reasons.append(Reason(Refusal.SAME_KIND, {"kind": recipient.kind}))
    internal = inside_one_authority(record, recipient)
    if internal and basis.authority_relation is AuthorityRelation.SEPARATE:
        reasons.append(Reason(Refusal.SAME_AUTHORITY))
    elif not internal and basis.authority_relation is AuthorityRelation.INTERNAL:
        reasons.append(Reason(Refusal.OTHER_AUTHORITY))
    if record.category in basis.denied_categories:
        reasons.append(Reason(Refusal.CATEGORY_DENIED, {"category": record.category}))
    elif basis.allowed_categories is not None and record.category not in basis.allowed_categories:
        reasons.append(Reason(Refusal.CATEGORY_NOT_ALLOWED, {"category": record.category}))
    if recipient.weak_protection and not basis.weak_recipients:
        reasons.append(Reason(Refusal.WEAK_RECIPIENT))
    if basis.age_limit is not None:
        if birth_date is None:
            reasons.append(Reason(Refusal.AGE_UNKNOWN))
        elif age_on(birth_date, on) >= basis.age_limit:
            reasons.append(Reason(Refusal.AGE_LIMIT, {"age": basis.age_limit}))
    return reasons


def assess_basis(
    basis: LegalBasis,
    record: RecordFacts,
    recipient: RecipientFacts,
    birth_date: dt.date | None,
    consents: Sequence[ConsentFacts],
    on: dt.date,
) -> Assessment:
    if recipient.agency_id == record.owner_agency_id:
        return Assessment(basis, (Reason(Refusal.RECIPIENT_IS_OWNER),))
    reasons = _rule_problems(basis, record, recipient, birth_date, on)
    if not basis.requires_consent:
        return Assessment(basis, tuple(reasons))
    if not consents:
        return Assessment(basis, (*reasons, Reason(Refusal.NO_CONSENT)))
    usable: list[int] = []
    problems: list[Reason] = []
    for consent in consents:
        found = consent_problems(consent, record, recipient, birth_date, on)
        if found:
            problems.extend(r for r in found if r not in problems)
        else:
            usable.append(consent.id)
    if usable:
        return Assessment(basis, tuple(reasons), tuple(usable))
    return Assessment(basis, (*reasons, *problems))


def assess_bases(
    bases: Iterable[LegalBasis],
    record: RecordFacts,
    recipient: RecipientFacts,
    birth_date: dt.date | None,
    consents: Sequence[ConsentFacts],
    on: dt.date,
) -> list[Assessment]:
    """Every basis, applicable or not, in the order of the rules file."""
    return [assess_basis(b, record, recipient, birth_date, consents, on) for b in bases]


@dataclass(frozen=True)
class DisclosureFacts:
    basis_id: str
    recipient: RecipientFacts
    consent: ConsentFacts | None


def disclosure_in_force(
    disclosure: DisclosureFacts,
    bases: Mapping[str, LegalBasis],
    record: RecordFacts,
    birth_date: dt.date | None,
    on: dt.date,
) -> Reason | None:
    """None while the disclosure holds on ``on``; otherwise the first reason it lapsed.

    The basis is assessed again on that date with the consent the decision rested on, so a
    revoked or expired consent, a passed age limit or an ended rule ends it at once.
    """
    basis = bases.get(disclosure.basis_id)
    if basis is None:
        return Reason(Refusal.BASIS_UNKNOWN, {"basis": disclosure.basis_id})
    consents = [disclosure.consent] if disclosure.consent is not None else []
    assessment = assess_basis(basis, record, disclosure.recipient, birth_date, consents, on)
    return assessment.reasons[0] if assessment.reasons else None


@dataclass(frozen=True)
class ViewerFacts:
    agency_id: int
    council_ids: frozenset[int]


def visibility(
    record: RecordFacts,
    viewer: ViewerFacts,
    disclosure_verdicts: Sequence[Reason | None] = (),
) -> WithheldReason | None:
    """None when the viewer may read the record; otherwise why not.

    ``disclosure_verdicts`` holds, for each disclosure of the record to the viewer's agency, the
    result of ``disclosure_in_force`` (None = in force).
    """
    if record.council_id not in viewer.council_ids:
        return WithheldReason.NOT_MEMBER
    if record.shredded:
        return WithheldReason.SHREDDED
    if record.owner_agency_id == viewer.agency_id:
        return None
    if any(verdict is None for verdict in disclosure_verdicts):
        return None
    if disclosure_verdicts:
        return WithheldReason.LAPSED
    return WithheldReason.NO_DISCLOSURE
