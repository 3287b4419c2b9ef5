"""API: disclosure decisions, consents and the legal bases (the rule set).

The same doors as ``secrecy.disclosure.views``: decisions for the owner agency only, the
policy engine decides which bases apply, and content only through ``secrecy.records.reveal``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Literal

from flask import Flask
from flask_babel import lazy_gettext as _l
from pydantic import Field, field_validator
from sqlalchemy import select

from coordination.api.core import (
    ApiBlueprint,
    ApiModel,
    DbId,
    OutModel,
    Page,
    PageQuery,
    api_user,
    encode_offset,
    forbidden,
    not_found,
    page_window,
    paginate,
)
from coordination.db import db_session, today_local
from coordination.errors import ServiceError
from coordination.models import Agency, AgencyKind
from coordination.policy import can_view_council
from coordination.tokens.services import Scope
from secrecy.disclosure import services as service
from secrecy.models import Consent, ConsentRevokeReason, Disclosure, DisclosureEndReason, Record
from secrecy.policy.categories import categories
from secrecy.policy.engine import Signer
from secrecy.policy.facts import is_weakly_protected
from secrecy.policy.reasons import explain
from secrecy.policy.rules import Duty, Review, legal_bases, recipient_protection
from secrecy.records.api import (
    DisclosureOut,
    child_for_member,
    disclosure_out,
    fields_named,
    record_of_owner,
)
from secrecy.records.api_models import AgencyRef, RecordOut, record_out
from secrecy.records.reveal import reveal_records

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
    query=OptionsQuery,
    response=DisclosureOptionsOut,
)
def disclosure_options(record_id: int, query: OptionsQuery) -> DisclosureOptionsOut:
    """För den myndighet som äger uppgiften: vilka rättsliga grunder som medger att den lämnas
    till varje mottagare, vad som ska bekräftas, och varför de andra grunderna inte gäller."""
    session = db_session()
    record = record_of_owner(record_id)
    user = api_user()
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


@bp.operation(
    "/records/<int:record_id>/disclosures",
    method="POST",
    scope=Scope.WRITE,
    summary="Lämna ut en uppgift",
    body=DisclosureIn,
    response=DisclosureOut,
    status=201,
)
def decide_disclosure(record_id: int, body: DisclosureIn) -> DisclosureOut:
    """Den ägande myndighetens beslut att mottagaren får se uppgiften, med stöd av en grund
    som policymotorn godtar och med varje förutsättning bekräftad. Beslutet loggas."""
    session = db_session()
    record = record_of_owner(record_id)
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
        )
    return disclosure_out(decided)


class DisclosureRevokeIn(ApiModel):
    reason: DisclosureEndReason = Field(description="Skälet, som på sidan.")


@bp.operation(
    "/disclosures/<int:disclosure_id>/revoke",
    method="POST",
    scope=Scope.WRITE,
    summary="Återkalla ett utlämnande",
    body=DisclosureRevokeIn,
    response=DisclosureOut,
)
def revoke_disclosure(disclosure_id: int, body: DisclosureRevokeIn) -> DisclosureOut:
    """Mottagaren ser inte längre uppgiften; beslutet finns kvar i historiken."""
    found = db_session().get(Disclosure, disclosure_id)
    if found is None:
        raise not_found()
    record_of_owner(found.record_id)
    service.revoke_disclosure(db_session(), api_user(), found, body.reason)
    return disclosure_out(found)


# --- Consents -----------------------------------------------------------------------------------


ConsentState = Literal["in_force", "incomplete", "expired", "revoked"]


class ConsentOut(OutModel):
    id: int
    child_id: int
    state: ConsentState = Field(
        description="Som på sidan Samtycken: gäller, ofullständigt, har gått ut, återkallat."
    )
    signers: list[Signer] = Field(description="Vilka som har skrivit under.")
    missing_signers: list[Signer] = Field(description="Underskrifter som saknas i dag.")
    two_guardians: bool
    agency_ids: list[int] = Field(description="Mottagare som samtycket omfattar.")
    agency_kinds: list[AgencyKind] = Field(description="… eller alla mottagare av typen.")
    categories: list[str]
    valid_from: dt.date
    valid_to: dt.date | None
    registered_by_agency: AgencyRef
    registered_at: dt.datetime
    revoked_on: dt.date | None
    revoke_reason: ConsentRevokeReason | None
    details: RecordOut = Field(
        description="Förseglat: namnen på dem som skrivit under, syftet och var blanketten "
        "förvaras; undanhållet för andra än den registrerande myndigheten."
    )


class ConsentRevokedOut(ConsentOut):
    ended_disclosures: int = Field(description="Utlämnanden som vilade på samtycket och upphörde.")


def _consent_state(consent: Consent, missing: frozenset[Signer], today: dt.date) -> ConsentState:
    if consent.revoked_on is not None:
        return "revoked"
    if consent.valid_to is not None and consent.valid_to < today:
        return "expired"
    return "incomplete" if missing else "in_force"


def _consents_out(consents: Sequence[Consent]) -> list[ConsentOut]:
    """The consents with their sealed details, revealed in one call (like the page)."""
    if not consents:
        return []
    session = db_session()
    details = session.scalars(
        select(Record).where(Record.id.in_([c.details_record_id for c in consents]))
    ).all()
    results = reveal_records(session, api_user(), details, purpose="consent")
    revealed = {r.record.id: r for r in results}
    today = today_local()
    items = []
    for consent in consents:
        missing = service.missing_signers(session, consent, today)
        agency = consent.registered_by_agency
        items.append(
            ConsentOut(
                id=consent.id,
                child_id=consent.child_id,
                state=_consent_state(consent, missing, today),
                signers=[Signer(s) for s in consent.signers],
                missing_signers=sorted(missing),
                two_guardians=consent.two_guardians,
                agency_ids=list(consent.agency_ids),
                agency_kinds=[AgencyKind(k) for k in consent.agency_kinds],
                categories=list(consent.categories),
                valid_from=consent.valid_from,
                valid_to=consent.valid_to,
                registered_by_agency=AgencyRef(id=agency.id, name=agency.name),
                registered_at=consent.registered_at,
                revoked_on=consent.revoked_on,
                revoke_reason=consent.revoke_reason,
                details=record_out(revealed[consent.details_record_id]),
            )
        )
    return items


@bp.operation(
    "/children/<int:child_id>/consents",
    summary="Barnets samtycken",
    query=PageQuery,
    response=Page[ConsentOut],
)
def consents(child_id: int, query: PageQuery) -> Page[ConsentOut]:
    """Samtyckena med vad de omfattar och om de gäller. Namn och syfte är förseglade."""
    found = child_for_member(child_id)
    offset, fetch = page_window(query)
    window = list(service.consents_of(db_session(), found))[offset : offset + fetch]
    more = len(window) > query.limit
    return Page(
        items=_consents_out(window[: query.limit]),  # reveal only what this page shows
        next_cursor=encode_offset(offset + query.limit) if more else None,
    )


class ConsentIn(ApiModel):
    signers: dict[Signer, Annotated[str, Field(max_length=200)]] = Field(
        description="Vem som har skrivit under: guardian_1, guardian_2, young_person -> namn."
    )
    two_guardians: bool = Field(description="Gemensam vårdnad (två vårdnadshavare).")
    agency_ids: list[DbId] = Field(
        default_factory=list, max_length=100, description="Mottagare som samtycket omfattar."
    )
    agency_kinds: list[AgencyKind] = Field(
        default_factory=list, max_length=20, description="… eller alla mottagare av typen."
    )
    categories: list[str] = Field(
        default_factory=list, max_length=50, description="Slags uppgifter (kategorinycklar)."
    )
    valid_from: dt.date = Field(description="Gäller från.")
    valid_to: dt.date | None = Field(None, description="Gäller till och med.")
    purpose: str = Field(min_length=1, max_length=500, description="Syfte.")
    form_location: str = Field(
        "", max_length=300, description="Var den underskrivna blanketten förvaras."
    )

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: list[str]) -> list[str]:
        # The consent form offers every category but the consents' own.
        if any(key not in categories() or key == "consent" for key in value):
            raise ValueError(str(_l("Okänd kategori.")))
        return value


@bp.operation(
    "/children/<int:child_id>/consents",
    method="POST",
    scope=Scope.WRITE,
    summary="Registrera ett samtycke",
    body=ConsentIn,
    response=ConsentOut,
    status=201,
)
def register_consent(child_id: int, body: ConsentIn) -> ConsentOut:
    """Ett samtycke som saknar en underskrift registreras som ofullständigt och kan inte
    användas för uppgiftslämning (missing_signers)."""
    found = child_for_member(child_id)
    data = service.ConsentData(
        signers=dict(body.signers),
        two_guardians=body.two_guardians,
        agency_ids=list(body.agency_ids),
        agency_kinds=[str(k) for k in body.agency_kinds],
        categories=list(body.categories),
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        purpose=body.purpose,
        form_location=body.form_location,
    )
    consent = service.register_consent(db_session(), api_user(), found, data)
    return _consents_out([consent])[0]


class ConsentRevokeIn(ApiModel):
    reason: ConsentRevokeReason = Field(description="Skälet, som på sidan.")


@bp.operation(
    "/consents/<int:consent_id>/revoke",
    method="POST",
    scope=Scope.WRITE,
    summary="Återkalla ett samtycke",
    body=ConsentRevokeIn,
    response=ConsentRevokedOut,
)
def revoke_consent(consent_id: int, body: ConsentRevokeIn) -> ConsentRevokedOut:
    """Med omedelbar verkan: varje utlämnande som vilar på samtycket upphör nu. Alla
    medlemmar i forumet kan registrera en återkallelse."""
    session = db_session()
    found = session.get(Consent, consent_id)
    if found is None:
        raise not_found()
    if not can_view_council(api_user(), found.child.council):
        raise forbidden("consent", consent_id)
    ended = service.revoke_consent(session, api_user(), found, body.reason)
    (out,) = _consents_out([found])
    return ConsentRevokedOut(**out.model_dump(), ended_disclosures=ended)


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
    confirmations: list[str]
    duty: Duty
    review: Review
    enabled: bool
    effective_from: dt.date | None
    effective_to: dt.date | None
    note: str


@bp.operation(
    "/legal-bases", summary="De rättsliga grunderna", query=PageQuery, response=Page[LegalBasisOut]
)
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
