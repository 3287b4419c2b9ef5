"""API: disclosure decisions and the legal bases (the rule set); the consents' operations, on
the same blueprint, are in ``secrecy.disclosure.consent_api``.

The same doors as ``secrecy.disclosure.views``: decisions for the owner agency only
(``secrecy.records.access.record_for`` MANAGE), the policy engine decides which bases apply.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from flask import Flask
from flask_babel import lazy_gettext as _l
from pydantic import Field

from coordination.api.core import (
    ApiBlueprint,
    ApiModel,
    DbId,
    OutModel,
    Page,
    PageQuery,
    api_user,
    paginate,
)
from coordination.db import db_session
from coordination.errors import ServiceError, fields_named
from coordination.models import Agency, AgencyKind
from coordination.policy import Need
from secrecy.disclosure import services as service
from secrecy.models import DisclosureEndReason
from secrecy.policy.facts import is_weakly_protected
from secrecy.policy.reasons import explain
from secrecy.policy.rules import Duty, Review, legal_bases, recipient_protection, ruleset_version
from secrecy.records.access import disclosure_for, record_for
from secrecy.records.api import (
    AgencyRef,
    DisclosureOut,
    disclosure_out,
)

bp = ApiBlueprint(
    "api_disclosures",
    __name__,
    tag="Uppgiftslämnande och samtycken",
    description=(
        "Vilka rättsliga grunder som går att använda för en uppgift och en mottagare, beslut "
        "om uppgiftslämnande och återkallelse, samtycken och regelverket."
    ),
)


def init_app(app: Flask) -> None:
    # The consents' operations are declared on this blueprint in their own module.
    from secrecy.disclosure import consent_api  # noqa: F401

    app.register_blueprint(bp)


# --- Disclosure decisions -----------------------------------------------------------------------


class RecipientRef(AgencyRef):
    kind: AgencyKind


class BasisOptionOut(OutModel):
    basis_id: str
    title: str
    reference: str
    applicable: bool = Field(description="Grunden kan användas för uppgiften och mottagaren i dag.")
    duty: Duty = Field(description="may: får lämnas ut; must: ska lämnas ut.")
    review: Review = Field(description="to_confirm: lydelsen är inte slutligt bekräftad.")
    confirmations: list[str] = Field(
        description="Förutsättningarna att bekräfta; ange deras index (från 0) i beslutet."
    )
    consent_ids: list[int] = Field(description="Samtycken som grunden kan vila på.")
    reasons: list[str] = Field(description="Varför grunden inte kan användas (svenska).")
    statement_label: str | None = Field(
        None,
        description="Grunden kräver en skriftlig redogörelse: frågan, som bedömningen (assessment) "
        "ska besvara.",
    )


class RecipientOptionsOut(OutModel):
    recipient: RecipientRef
    weak_protection: bool = Field(
        description="Mottagarens eget sekretesskydd är svagt: uppgifter lämnas dit bara med "
        "samtycke."
    )
    protection_note: str
    live_disclosure_id: int | None = Field(description="Redan utlämnad hit: det beslutet.")
    bases: list[BasisOptionOut]


class DisclosureOptionsOut(OutModel):
    record_id: int
    recipients: list[RecipientOptionsOut]


class OptionsQuery(ApiModel):
    recipient_agency_id: DbId | None = Field(
        None, description="Bara den här mottagaren; utan: alla forumets andra myndigheter."
    )


_NOT_A_RECIPIENT = _l("Mottagaren deltar inte i barnets forum.")


@bp.operation(
    "/records/<int:record_id>/disclosure-options",
    summary="Grunder för att lämna ut en uppgift",
)
def disclosure_options(record_id: int, query: OptionsQuery) -> DisclosureOptionsOut:
    """För den myndighet som äger uppgiften: vilka rättsliga grunder som medger att den lämnas
    till varje mottagare, vad som ska bekräftas, och varför de andra grunderna inte gäller."""
    session = db_session()
    user = api_user()
    record = record_for(session, user, record_id, Need.MANAGE)
    recipients = service.recipients_for(record)
    if query.recipient_agency_id is not None:
        recipients = [a for a in recipients if a.id == query.recipient_agency_id]
        if not recipients:
            raise ServiceError(_NOT_A_RECIPIENT, field="recipient_agency_id")
    live = {d.recipient_agency_id: d.id for d in service.live_disclosures_of(session, [record])}
    rows = []
    for recipient in recipients:
        assessments = service.disclosure_options(session, user, record, recipient)
        rows.append(
            RecipientOptionsOut(
                recipient=RecipientRef(id=recipient.id, name=recipient.name, kind=recipient.kind),
                weak_protection=is_weakly_protected(recipient),
                protection_note=recipient_protection()[recipient.kind.value].note,
                live_disclosure_id=live.get(recipient.id),
                bases=[
                    BasisOptionOut(
                        basis_id=a.basis.id,
                        title=a.basis.title,
                        reference=a.basis.reference,
                        applicable=a.applicable,
                        duty=a.basis.duty,
                        review=a.basis.review,
                        confirmations=list(a.basis.confirmations),
                        consent_ids=list(a.consent_ids),
                        reasons=[explain(r) for r in a.reasons],
                        statement_label=(
                            a.basis.statement_label if a.basis.requires_statement else None
                        ),
                    )
                    for a in assessments
                ],
            )
        )
    return DisclosureOptionsOut(record_id=record.id, recipients=rows)


class DisclosureIn(ApiModel):
    recipient_agency_id: DbId
    basis_id: str = Field(min_length=1, max_length=60, description="Grundens id, t.ex. consent.")
    confirmations: list[Annotated[int, Field(ge=0, le=99)]] = Field(
        max_length=100,
        description="Index (från 0) för varje förutsättning du bekräftar; alla måste bekräftas.",
    )
    consent_id: DbId | None = Field(
        None, description="Samtycket beslutet vilar på (grunden consent); utan: det första."
    )
    assessment: str = Field(
        min_length=1,
        max_length=10_000,
        description=(
            "Er skriftliga bedömning i det enskilda fallet (minst 20 tecken): varför just den "
            "här uppgiften lämnas till mottagaren nu; med generalklausulen varför intresset av "
            "utlämnandet uppenbart har företräde, med own-task vilken egen uppgift som kräver "
            "det. Krypteras som den ägande myndighetens uppgift och visas för mottagaren."
        ),
    )


@bp.operation(
    "/records/<int:record_id>/disclosures",
    method="POST",
    summary="Lämna ut en uppgift",
    status=201,
)
def decide_disclosure(record_id: int, body: DisclosureIn) -> DisclosureOut:
    """Den ägande myndighetens beslut att mottagaren får se uppgiften, med stöd av en grund
    som policymotorn godtar och med varje förutsättning bekräftad. Beslutet loggas."""
    session = db_session()
    record = record_for(session, api_user(), record_id, Need.MANAGE)
    recipient = session.get(Agency, body.recipient_agency_id)
    if recipient is None:
        raise ServiceError(_NOT_A_RECIPIENT, field="recipient_agency_id")
    with fields_named(
        {"recipient": "recipient_agency_id", "basis": "basis_id", "consent": "consent_id"}
    ):
        decided = service.decide_disclosure(
            session,
            api_user(),
            record,
            recipient,
            body.basis_id,
            body.confirmations,
            body.consent_id,
            assessment=body.assessment,
        )
    return disclosure_out(decided)


class DisclosureRevokeIn(ApiModel):
    reason: DisclosureEndReason = Field(description="Skälet, som på sidan.")


@bp.operation(
    "/disclosures/<int:disclosure_id>/revoke",
    method="POST",
    summary="Återkalla ett utlämnande",
)
def revoke_disclosure(disclosure_id: int, body: DisclosureRevokeIn) -> DisclosureOut:
    """Mottagaren ser inte längre uppgiften; beslutet finns kvar i historiken."""
    session = db_session()
    found = disclosure_for(session, api_user(), disclosure_id)
    service.revoke_disclosure(session, api_user(), found, body.reason)
    return disclosure_out(found)


# --- The rule set -------------------------------------------------------------------------------


class LegalBasisOut(OutModel):
    id: str
    title: str
    reference: str
    from_kinds: list[str] = Field(description="Agency kinds som får lämna ut; * för alla.")
    to_kinds: list[str] = Field(description="Agency kinds som får ta emot; * för alla.")
    different_kinds: bool
    age_limit: int | None = Field(description="Barnet ska vara yngre än så här många år.")
    allowed_categories: list[str] | None = Field(description="Bara dessa kategorier; null: alla.")
    denied_categories: list[str]
    excluded_owner_kinds: list[str]
    weak_recipients: bool
    requires_consent: bool
    public_owners_only: bool
    bound_private_kinds: list[str] = Field(
        description="Med public_owners_only: verksamhetstyper vars enskilda huvudmän också binds."
    )
    authority_relation: str = Field(
        description="separate: mellan myndigheter eller självständiga verksamhetsgrenar; "
        "internal: bara inom samma myndighet."
    )
    statement_label: str | None = Field(
        description="Grunden kräver en skriftlig redogörelse: frågan, som bedömningen (assessment) "
        "ska besvara."
    )
    ruleset_version: str = Field(description="Regelversionen i kraft.")
    confirmations: list[str]
    duty: Duty
    review: Review
    enabled: bool
    effective_from: dt.date | None
    effective_to: dt.date | None
    note: str


@bp.operation("/legal-bases", summary="De rättsliga grunderna")
def legal_bases_list(query: PageQuery) -> Page[LegalBasisOut]:
    """Regelverket som policymotorn tillämpar, i filens ordning."""
    items = [
        LegalBasisOut(
            id=b.id,
            title=b.title,
            reference=b.reference,
            from_kinds=sorted(b.from_kinds),
            to_kinds=sorted(b.to_kinds),
            different_kinds=b.different_kinds,
            age_limit=b.age_limit,
            allowed_categories=(
                sorted(b.allowed_categories) if b.allowed_categories is not None else None
            ),
            denied_categories=sorted(b.denied_categories),
            excluded_owner_kinds=sorted(b.excluded_owner_kinds),
            weak_recipients=b.weak_recipients,
            requires_consent=b.requires_consent,
            public_owners_only=b.public_owners_only,
            bound_private_kinds=sorted(b.bound_private_kinds),
            authority_relation=b.authority_relation.value,
            statement_label=b.statement_label if b.requires_statement else None,
            ruleset_version=ruleset_version(),
            confirmations=list(b.confirmations),
            duty=b.duty,
            review=b.review,
            enabled=b.enabled,
            effective_from=b.effective_from,
            effective_to=b.effective_to,
            note=b.note,
        )
        for b in legal_bases().values()
    ]
    return paginate(items, query)
