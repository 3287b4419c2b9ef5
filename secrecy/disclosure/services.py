"""Consents and disclosure decisions: the owner agency decides, the engine must agree.

``disclosure_options`` asks the policy engine which bases can carry a record to a recipient;
``decide_disclosure`` stores the decision, wraps the record's key for the recipient and logs it;
revoking deletes that wrapped key. ``sweep_lapsed`` ends disclosures whose basis has lapsed
(consent revoked or expired, age limit passed, rule ended) and deletes their keys; visibility
ends at once through the policy anyway, the sweep makes the keys agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload, selectinload

from coordination.audit.log import record_event
from coordination.db import today_local, utcnow
from coordination.errors import ServiceError
from coordination.models import Agency, Child, Council, User
from secrecy.models import (
    Consent,
    ConsentRevokeReason,
    Disclosure,
    DisclosureEndReason,
    Record,
)
from secrecy.policy.engine import Assessment, Signer, assess_bases, required_signers
from secrecy.policy.facts import consent_facts, recipient_facts, record_facts
from secrecy.policy.reasons import explain
from secrecy.policy.rules import legal_bases
from secrecy.records import sealing
from secrecy.records.reveal import child_birth_date, verdict
from secrecy.records.services import add_sealed_record, require_child_access
from secrecy.tags import SecrecyTag

# --- Consent ------------------------------------------------------------------------------------


@dataclass
class ConsentData:
    signers: dict[Signer, str]  # who signed -> their name (sealed)
    two_guardians: bool
    agency_ids: list[int] = field(default_factory=list)
    agency_kinds: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    purpose: str = ""
    form_location: str = ""


def consents_of(session: Session, child: Child) -> Sequence[Consent]:
    return session.scalars(
        select(Consent).where(Consent.child_id == child.id).order_by(Consent.valid_from)
    ).all()


def consents_by_child(session: Session, children: Sequence[Child]) -> dict[int, list[Consent]]:
    """``consents_of`` for several children in one query (a page that asks the engine about
    many children passes each child's list to ``disclosure_options``)."""
    result: dict[int, list[Consent]] = {c.id: [] for c in children}
    if result:
        for consent in session.scalars(
            select(Consent)
            .where(Consent.child_id.in_(list(result)))
            .order_by(Consent.valid_from, Consent.id)
        ):
            result[consent.child_id].append(consent)
    return result


def register_consent(session: Session, actor: User, child: Child, data: ConsentData) -> Consent:
    require_child_access(actor, child)
    names = {signer: name.strip() for signer, name in data.signers.items() if name.strip()}
    if not names:
        raise ServiceError(_l("Ange vem som har skrivit under samtycket."), field="signers")
    if not data.agency_ids and not data.agency_kinds:
        raise ServiceError(_l("Välj vilka mottagare samtycket omfattar."), field="agency_ids")
    if not data.categories:
        raise ServiceError(_l("Välj vilka slags uppgifter samtycket omfattar."), field="categories")
    council_agencies = {a.id for a in child.council.agencies}
    if not set(data.agency_ids) <= council_agencies:
        raise ServiceError(_l("Mottagarna måste delta i forumet."), field="agency_ids")
    valid_from = data.valid_from or today_local()
    if data.valid_to is not None and data.valid_to < valid_from:
        raise ServiceError(_l("Slutdatumet ligger före startdatumet."), field="valid_to")
    if not data.purpose.strip():
        raise ServiceError(_l("Ange syftet med samtycket."), field="purpose")
    details = add_sealed_record(
        session,
        actor,
        child,
        "consent",
        {
            "signers": {s.value: n for s, n in names.items()},
            "purpose": data.purpose.strip(),
            "form_location": data.form_location.strip(),
        },
    )
    consent = Consent(
        child_id=child.id,
        registered_by_agency_id=actor.agency_id,
        registered_by_id=actor.id,
        signers=sorted(s.value for s in names),
        two_guardians=data.two_guardians,
        agency_ids=sorted(set(data.agency_ids)),
        agency_kinds=sorted(set(data.agency_kinds)),
        categories=sorted(set(data.categories)),
        valid_from=valid_from,
        valid_to=data.valid_to,
        details_record_id=details.id,
    )
    session.add(consent)
    session.flush()
    birth = child_birth_date(session, child.id, child.birth_date_sealed)
    missing = (
        required_signers(birth, today_local(), data.two_guardians) - set(names) if birth else set()
    )
    record_event(
        session,
        actor,
        SecrecyTag.CONSENT_REGISTER,
        object_type="consent",
        object_ids=[consent.id],
        details={
            "child_id": child.id,
            "signers": consent.signers,
            "complete": not missing,
            "agency_ids": consent.agency_ids,
            "agency_kinds": consent.agency_kinds,
            "categories": consent.categories,
        },
    )
    return consent


def missing_signers(session: Session, consent: Consent, on: dt.date) -> frozenset[Signer]:
    child = consent.child
    birth = child_birth_date(session, child.id, child.birth_date_sealed)
    if birth is None:
        return frozenset()
    return required_signers(birth, on, consent.two_guardians) - {Signer(s) for s in consent.signers}


def revoke_consent(
    session: Session, actor: User, consent: Consent, reason: ConsentRevokeReason
) -> int:
    """Revoked with immediate effect: every disclosure resting on it ends now. Any member of
    the council may record a revocation (the young person may tell any of them)."""
    require_child_access(actor, consent.child)
    session.scalars(  # serialise with decisions resting on it (see decide_disclosure)
        select(Consent)
        .where(Consent.id == consent.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if consent.revoked_on is not None:
        raise ServiceError(_l("Samtycket är redan återkallat."))
    consent.revoked_on = today_local()
    consent.revoked_at = utcnow()
    consent.revoked_by_id = actor.id
    consent.revoke_reason = reason
    session.flush()
    record_event(
        session,
        actor,
        SecrecyTag.CONSENT_REVOKE,
        object_type="consent",
        object_ids=[consent.id],
        details={"child_id": consent.child_id, "reason": str(reason)},
    )
    resting = session.scalars(
        select(Disclosure).where(
            Disclosure.consent_id == consent.id,
            Disclosure.revoked_at.is_(None),
            Disclosure.lapsed_at.is_(None),
        )
    ).all()
    return _lapse(session, actor, [(d, "consent_revoked") for d in resting])


def expiring_consents(
    session: Session, council: Council, within_days: int = 30, on: dt.date | None = None
) -> Sequence[Consent]:
    """Consents in force that end within the next ``within_days`` days (for the council page)."""
    today = on or today_local()
    return session.scalars(
        select(Consent)
        .join(Child, Consent.child_id == Child.id)
        .where(
            Child.council_id == council.id,
            Consent.revoked_on.is_(None),
            Consent.valid_to.is_not(None),
            Consent.valid_to >= today,
            Consent.valid_to <= today + dt.timedelta(days=within_days),
        )
        .order_by(Consent.valid_to)
    ).all()


# --- Disclosure ---------------------------------------------------------------------------------


def _require_owner(actor: User, record: Record) -> None:
    require_child_access(actor, record.child)
    if record.owner_agency_id != actor.agency_id:
        raise ServiceError(
            _l("Bara den myndighet som äger uppgiften kan besluta om uppgiftslämning.")
        )


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
) -> Disclosure:
    """Store the owner's decision under a basis the engine accepts now, with every statement
    confirmed; wrap the record's key for the recipient; log it."""
    _require_owner(actor, record)
    if record.is_shredded or record.is_superseded:
        raise ServiceError(_l("Uppgiften kan inte lämnas ut: den är ersatt eller gallrad."))
    if recipient.id not in {a.id for a in recipients_for(record)}:
        raise ServiceError(_l("Mottagaren deltar inte i barnets forum."), field="recipient")
    assessment = next(
        (
            a
            for a in disclosure_options(session, actor, record, recipient)
            if a.basis.id == basis_id
        ),
        None,
    )
    if assessment is None:
        raise ServiceError(_l("Okänd rättslig grund."), field="basis")
    if not assessment.applicable:
        raise ServiceError(
            _l(
                "Grunden kan inte användas: %(reason)s",
                reason=" ".join(explain(r) for r in assessment.reasons),
            ),
            field="basis",
        )
    statements = assessment.basis.confirmations
    if sorted(set(confirmed)) != list(range(len(statements))):
        raise ServiceError(
            _l("Bekräfta varje förutsättning för att kunna lämna ut uppgiften."),
            field="confirmations",
        )
    if assessment.basis.requires_consent:
        if consent_id is None:
            consent_id = assessment.consent_ids[0]
        elif consent_id not in assessment.consent_ids:
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
    disclosure = Disclosure(
        record_id=record.id,
        recipient_agency_id=recipient.id,
        basis_id=basis_id,
        confirmations=list(statements),
        consent_id=consent_id,
        decided_by_id=actor.id,
    )
    session.add(disclosure)
    session.flush()
    sealing.grant_record_key(session, record, recipient.id)
    record_event(
        session,
        actor,
        SecrecyTag.DISCLOSURE_DECIDE,
        object_type="record",
        object_ids=[record.id],
        details={
            "disclosure_id": disclosure.id,
            "recipient_agency_id": recipient.id,
            "basis": basis_id,
            "reference": assessment.basis.reference[:200],
            "consent_id": consent_id,
            "duty": str(assessment.basis.duty),
            "confirmed": len(statements),
            "child_id": record.child_id,
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
) -> list[Disclosure]:
    """Several records of one child at once: all or nothing (the caller's one transaction)."""
    if not records:
        raise ServiceError(_l("Välj minst en uppgift."), field="records")
    if len({r.child_id for r in records}) != 1:
        raise ServiceError(_l("Uppgifterna måste gälla samma barn."), field="records")
    return [
        decide_disclosure(session, actor, r, recipient, basis_id, confirmed, consent_id)
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


def _lapse(session: Session, actor: User | None, ended: list[tuple[Disclosure, str]]) -> int:
    now = utcnow()
    for disclosure, code in ended:
        disclosure.lapsed_at = now
        disclosure.lapse_reason = code
    session.flush()
    # Every ended disclosure's key in bulk (one statement per recipient and batch).
    sealing.withdraw_record_keys(
        session, [(disclosure.record, disclosure.recipient_agency_id) for disclosure, _ in ended]
    )
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


def sweep_lapsed(session: Session, on: dt.date | None = None, batch: int = 500) -> SweepReport:
    """End every live disclosure whose basis no longer holds and delete its wrapped key.
    Idempotent: a second run finds nothing; safe to run after a crash in the middle."""
    today = on or today_local()
    checked = 0
    ended: list[tuple[Disclosure, str]] = []
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
            # and only that: not the records' ciphertexts, authors or the children's councils.
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
                selectinload(Disclosure.consent),
            )
        ).all()
        if not rows:
            break
        births: dict[int, dt.date | None] = {}
        for disclosure in rows:
            record = disclosure.record
            child = record.child
            if child.id not in births:
                births[child.id] = child_birth_date(session, child.id, child.birth_date_sealed)
            reason = verdict(disclosure, record, births[child.id], today)
            if reason is not None:
                ended.append((disclosure, reason.code.value))
        checked += len(rows)
        last_id = rows[-1].id
    _lapse(session, None, ended)
    return SweepReport(checked=checked, lapsed=len(ended))


def disclosures_by_record(
    session: Session, records: Sequence[Record]
) -> dict[int, list[Disclosure]]:
    result: dict[int, list[Disclosure]] = {}
    for disclosure in live_disclosures_of(session, records):
        result.setdefault(disclosure.record_id, []).append(disclosure)
    return result
