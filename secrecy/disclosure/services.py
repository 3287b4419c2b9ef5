"""Disclosure decisions: the owner agency decides, the engine must agree.

``disclosure_options`` asks the policy engine which bases can carry a record to a recipient;
``decide_disclosure`` stores the decision, wraps the record's key for the recipient and logs it;
revoking deletes that wrapped key. Lapsed bases are ended in ``secrecy.disclosure.lapse``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.db import today_local, utcnow
from coordination.errors import ServiceError
from coordination.models import Agency, Child, User
from secrecy.disclosure.assessments import (
    seal_assessment,
    share_assessment,
    validate_assessment,
    withdraw_assessments,
)
from secrecy.disclosure.consents import consents_of
from secrecy.models import (
    Consent,
    Disclosure,
    DisclosureEndReason,
    Record,
)
from secrecy.policy.categories import ASSESSMENT, NOT_BY_HAND
from secrecy.policy.engine import Assessment, assess_bases, statement_problem
from secrecy.policy.facts import consent_facts, recipient_facts, record_facts
from secrecy.policy.reasons import explain
from secrecy.policy.rules import LegalBasis, legal_bases, ruleset_version
from secrecy.records import sealing
from secrecy.records.reveal import child_birth_date
from secrecy.records.services import child_records, require_child_access
from secrecy.tags import SecrecyTag


def _require_owner(actor: User, record: Record) -> None:
    require_child_access(actor, record.child)
    if record.owner_agency_id != actor.agency_id:
        raise ServiceError(
            _l("Bara den myndighet som äger uppgiften kan besluta om uppgiftslämning.")
        )


def _require_written(basis: LegalBasis, basis_id: str, assessment: str) -> str:
    """The written assessment, checked, to be sealed.

    Where a basis requires a written statement (own-task: the disclosing agency's task need,
    the engine's ``statement_problem``) the assessment gives it: its question under that basis
    asks for exactly that, so the discloser writes one text."""
    text = validate_assessment(assessment, basis_id)
    problem = statement_problem(basis, text)
    if problem is not None:
        raise ServiceError(explain(problem), field="assessment")
    return text


def recipients_for(record: Record) -> list[Agency]:
    """The council's other active agencies."""
    return [a for a in record.child.council.agencies if a.id != record.owner_agency_id and a.active]


def disclosure_options(
    session: Session,
    actor: User,
    record: Record,
    recipient: Agency,
    on: dt.date | None = None,
    *,
    consents: Sequence[Consent] | None = None,
) -> list[Assessment]:
    """What the engine says about each basis for this record and recipient, today.

    ``consents`` are the child's consents when the caller has loaded them already (a page
    asking about many children, see ``consents_by_child``); otherwise they are loaded here."""
    _require_owner(actor, record)
    child = record.child
    on_file = consents_of(session, child) if consents is None else consents
    return assess_bases(
        legal_bases().values(),
        record_facts(record),
        recipient_facts(recipient),
        child_birth_date(session, child.id, child.birth_date_sealed),
        [consent_facts(c) for c in on_file],
        on or today_local(),
    )


def live_disclosures_of(session: Session, records: Iterable[Record]) -> list[Disclosure]:
    ids = [r.id for r in records]
    if not ids:
        return []
    return list(
        session.scalars(
            select(Disclosure)
            .where(
                Disclosure.record_id.in_(ids),
                Disclosure.revoked_at.is_(None),
                Disclosure.lapsed_at.is_(None),
            )
            .order_by(Disclosure.decided_at)
        ).all()
    )


def decide_disclosure(
    session: Session,
    actor: User,
    record: Record,
    recipient: Agency,
    basis_id: str,
    confirmed: Sequence[int],
    consent_id: int | None = None,
    *,
    assessment: str | Record,
) -> Disclosure:
    """Store the owner's decision under a basis the engine accepts now, with every statement
    confirmed and the written assessment of the individual case (a text, sealed here, or the
    sealed one a batch or a meeting form wrote for several decisions; under own-task it states
    the task need); wrap the record's key (and the assessment's) for the recipient; log it with
    the rule-set version. Every disclosure path passes its assessment: there is no decision
    without one."""
    _require_owner(actor, record)
    if record.is_shredded or record.is_superseded:
        raise ServiceError(_l("Uppgiften kan inte lämnas ut: den är ersatt eller gallrad."))
    if recipient.id not in {a.id for a in recipients_for(record)}:
        raise ServiceError(_l("Mottagaren deltar inte i barnets forum."), field="recipient")
    option = next(
        (
            a
            for a in disclosure_options(session, actor, record, recipient)
            if a.basis.id == basis_id
        ),
        None,
    )
    if option is None:
        raise ServiceError(_l("Okänd rättslig grund."), field="basis")
    if not option.applicable:
        raise ServiceError(
            _l(
                "Grunden kan inte användas: %(reason)s",
                reason=" ".join(explain(r) for r in option.reasons),
            ),
            field="basis",
        )
    statements = option.basis.confirmations
    if sorted(set(confirmed)) != list(range(len(statements))):
        raise ServiceError(
            _l("Bekräfta varje förutsättning för att kunna lämna ut uppgiften."),
            field="confirmations",
        )
    # A batch's sealed assessment was written and checked with the batch.
    text = (
        ""
        if isinstance(assessment, Record)
        else _require_written(option.basis, basis_id, assessment)
    )
    if option.basis.requires_consent:
        if consent_id is None:
            consent_id = option.consent_ids[0]
        elif consent_id not in option.consent_ids:
            raise ServiceError(_l("Det valda samtycket gäller inte för detta."), field="consent")
        # Lock the consent: a revocation at the same moment waits for this decision (and then
        # ends it with the others), or this decision sees the revocation and is refused.
        locked = session.scalars(
            select(Consent)
            .where(Consent.id == consent_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        if locked.revoked_on is not None:
            raise ServiceError(_l("Samtycket är återkallat."), field="consent")
    else:
        consent_id = None
    existing = session.scalars(
        select(Disclosure).where(
            Disclosure.record_id == record.id,
            Disclosure.recipient_agency_id == recipient.id,
            Disclosure.revoked_at.is_(None),
            Disclosure.lapsed_at.is_(None),
        )
    ).first()
    if existing is not None:
        raise ServiceError(_l("Uppgiften är redan utlämnad till mottagaren."), field="recipient")
    if isinstance(assessment, Record):
        if (assessment.category, assessment.child_id, assessment.owner_agency_id) != (
            ASSESSMENT,
            record.child_id,
            record.owner_agency_id,
        ):
            raise ValueError("a batch's assessment is the owner's, about the same child")
        written = assessment
    else:
        written = seal_assessment(session, actor, record.child, text, basis_id)
    version = ruleset_version()
    disclosure = Disclosure(
        record_id=record.id,
        recipient_agency_id=recipient.id,
        basis_id=basis_id,
        confirmations=list(statements),
        consent_id=consent_id,
        decided_by_id=actor.id,
        assessment_record_id=written.id,
        ruleset_version=version,
    )
    session.add(disclosure)
    session.flush()
    sealing.grant_record_key(session, record, recipient.id)
    share_assessment(session, written, recipient.id)
    record_event(
        session,
        actor,
        SecrecyTag.DISCLOSURE_DECIDE,
        on=record,
        details={
            "disclosure_id": disclosure.id,
            "recipient_agency_id": recipient.id,
            "basis": basis_id,
            "reference": option.basis.reference[:200],
            "consent_id": consent_id,
            "duty": str(option.basis.duty),
            "confirmed": len(statements),
            "batch_assessment": isinstance(assessment, Record),
            "child_id": record.child_id,
            "assessment_record_id": disclosure.assessment_record_id,
            "ruleset_version": version,
        },
    )
    return disclosure


def decide_disclosures(
    session: Session,
    actor: User,
    records: Sequence[Record],
    recipient: Agency,
    basis_id: str,
    confirmed: Sequence[int],
    consent_id: int | None = None,
    *,
    assessment: str,
) -> list[Disclosure]:
    """Several records of one child at once: all or nothing (the caller's one transaction),
    under one written assessment for the whole batch."""
    if not records:
        raise ServiceError(_l("Välj minst en uppgift."), field="records")
    if len({r.child_id for r in records}) != 1:
        raise ServiceError(_l("Uppgifterna måste gälla samma barn."), field="records")
    text = validate_assessment(assessment, basis_id)
    _require_owner(actor, records[0])
    written = seal_assessment(session, actor, records[0].child, text, basis_id, batch=len(records))
    return [
        decide_disclosure(
            session,
            actor,
            r,
            recipient,
            basis_id,
            confirmed,
            consent_id,
            assessment=written,
        )
        for r in records
    ]


def revoke_disclosure(
    session: Session, actor: User, disclosure: Disclosure, reason: DisclosureEndReason
) -> None:
    """The owner agency ends a disclosure: the recipient's wrapped key is deleted at once; the
    decision stays in the history."""
    _require_owner(actor, disclosure.record)
    if not disclosure.active:
        raise ServiceError(_l("Uppgiftslämningen har redan upphört."))
    disclosure.revoked_at = utcnow()
    disclosure.revoked_by_id = actor.id
    disclosure.revoke_reason = reason
    session.flush()
    sealing.withdraw_record_key(session, disclosure.record, disclosure.recipient_agency_id)
    withdraw_assessments(session, [disclosure])
    record_event(
        session,
        actor,
        SecrecyTag.DISCLOSURE_REVOKE,
        object_type="record",
        object_ids=[disclosure.record_id],
        details={
            "disclosure_id": disclosure.id,
            "recipient_agency_id": disclosure.recipient_agency_id,
            "reason": str(reason),
        },
    )


def disclosures_by_record(
    session: Session, records: Sequence[Record]
) -> dict[int, list[Disclosure]]:
    result: dict[int, list[Disclosure]] = {}
    for disclosure in live_disclosures_of(session, records):
        result.setdefault(disclosure.record_id, []).append(disclosure)
    return result


# --- Several records to one recipient -----------------------------------------------------------


@dataclass(frozen=True)
class BatchDisclosure:
    """What the page for disclosing several of the agency's records about one child offers."""

    records: list[Record]  # the agency's own records that can be disclosed
    recipients: list[Agency]  # the council's other active agencies
    recipient: Agency | None  # the one chosen, if it is one of them
    bases: list[LegalBasis]  # the bases that apply to at least one of the records, in order


def batch_disclosure(
    session: Session, actor: User, child: Child, recipient_id: int | None
) -> BatchDisclosure:
    """The agency's disclosable records about the child and, for the chosen recipient, the
    bases that apply to at least one of them (the decision refuses the whole set, naming the
    reason, if a basis does not apply to every chosen one). The child's consents are read once
    for all the records."""
    require_child_access(actor, child)
    own = [
        r
        for r in child_records(session, child)
        if r.owner_agency_id == actor.agency_id
        and not r.is_superseded
        and not r.is_shredded
        and r.category not in NOT_BY_HAND
        and r.category != "consent"
    ]
    recipients = [a for a in child.council.agencies if a.id != actor.agency_id and a.active]
    recipient = next((a for a in recipients if a.id == recipient_id), None)
    applicable: set[str] = set()
    if recipient is not None and own:
        on_file = consents_of(session, child)
        today = today_local()
        for record in own:
            applicable.update(
                a.basis.id
                for a in disclosure_options(
                    session, actor, record, recipient, today, consents=on_file
                )
                if a.applicable
            )
    bases = [b for b in legal_bases().values() if b.id in applicable]
    return BatchDisclosure(own, recipients, recipient, bases)
