"""Consents: registered with their sealed details, checked for missing signatures, revoked with
immediate effect (every disclosure resting on one ends at once), and those about to expire.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from coordination.audit.log import record_event
from coordination.db import today_local, utcnow
from coordination.errors import ServiceError
from coordination.models import Child, Council, User
from secrecy.disclosure.lapse import end_lapsed
from secrecy.models import (
    Consent,
    ConsentRevokeReason,
    Disclosure,
)
from secrecy.policy.engine import MATURITY_MIN_AGE, Signer, age_on, required_signers
from secrecy.records.reveal import child_birth_date
from secrecy.records.services import add_sealed_record, require_child_access
from secrecy.tags import SecrecyTag


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
    # A maturity assessment (12 kap. 3 § OSL), sealed with the details: where the council's
    # policy allows it, a young person of 15–17 then consents alone.
    maturity_assessment: str = ""


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
    birth = child_birth_date(session, child.id, child.birth_date_sealed)
    assessment = data.maturity_assessment.strip()
    if len(assessment) > MATURITY_MAX_LENGTH:
        raise ServiceError(
            _l("Mognadsbedömningen är för lång (högst %(n)s tecken).", n=MATURITY_MAX_LENGTH),
            field="maturity_assessment",
        )
    if assessment:
        _require_maturity_allowed(child, birth, valid_from)
    sealed: dict[str, object] = {
        "signers": {s.value: n for s, n in names.items()},
        "purpose": data.purpose.strip(),
        "form_location": data.form_location.strip(),
    }
    if assessment:
        sealed["maturity_assessment"] = assessment
    details = add_sealed_record(
        session,
        actor,
        child,
        "consent",
        sealed,
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
        maturity_assessed_on=today_local() if assessment else None,
        maturity_assessed_by_id=actor.id if assessment else None,
    )
    session.add(consent)
    session.flush()
    missing = (
        required_signers(birth, today_local(), data.two_guardians, mature_alone=bool(assessment))
        - set(names)
        if birth
        else set()
    )
    record_event(
        session,
        actor,
        SecrecyTag.CONSENT_REGISTER,
        on=consent,
        details={
            "child_id": child.id,
            "signers": consent.signers,
            "complete": not missing,
            "agency_ids": consent.agency_ids,
            "agency_kinds": consent.agency_kinds,
            "categories": consent.categories,
            "maturity_assessed": bool(assessment),
        },
    )
    return consent


MATURITY_MAX_LENGTH = 2000


def _require_maturity_allowed(child: Child, birth: dt.date | None, valid_from: dt.date) -> None:
    """A maturity assessment only where the council's policy allows it, and only for a young
    person of 15–17 (younger: the guardians decide; 18 and over: the young person alone)."""
    if not child.council.maturity_consent:
        raise ServiceError(
            _l(
                "Forumets lokala regel tillåter inte att den unge samtycker ensam efter en "
                "mognadsbedömning."
            )
        )
    if birth is None:
        raise ServiceError(
            _l("Barnets ålder är okänd: en mognadsbedömning kan inte registreras."),
            field="maturity_assessment",
        )
    if not MATURITY_MIN_AGE <= age_on(birth, max(valid_from, today_local())) < 18:
        raise ServiceError(
            _l("En mognadsbedömning registreras bara för unga som är 15–17 år."),
            field="maturity_assessment",
        )


def missing_signers(session: Session, consent: Consent, on: dt.date) -> frozenset[Signer]:
    child = consent.child
    birth = child_birth_date(session, child.id, child.birth_date_sealed)
    if birth is None:
        return frozenset()
    mature_alone = (
        consent.maturity_assessed_on is not None and consent.child.council.maturity_consent
    )
    required = required_signers(birth, on, consent.two_guardians, mature_alone=mature_alone)
    return required - {Signer(s) for s in consent.signers}


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
        on=consent,
        details={"child_id": consent.child_id, "reason": str(reason)},
    )
    resting = session.scalars(
        select(Disclosure).where(
            Disclosure.consent_id == consent.id,
            Disclosure.revoked_at.is_(None),
            Disclosure.lapsed_at.is_(None),
        )
    ).all()
    return end_lapsed(session, actor, [(d, "consent_revoked") for d in resting])


def expiring_consents(
    session: Session, council: Council, within_days: int = 30, on: dt.date | None = None
) -> Sequence[Consent]:
    """Consents in force that end within the next ``within_days`` days (for the council page),
    each with its child (the panel shows the pseudonym: no query per row)."""
    today = on or today_local()
    return session.scalars(
        select(Consent)
        .join(Child, Consent.child_id == Child.id)
        .options(contains_eager(Consent.child))
        .where(
            Child.council_id == council.id,
            Consent.revoked_on.is_(None),
            Consent.valid_to.is_not(None),
            Consent.valid_to >= today,
            Consent.valid_to <= today + dt.timedelta(days=within_days),
        )
        .order_by(Consent.valid_to)
    ).all()
