"""API: a child's consents, registered and revoked, with their sealed details shown only
through ``secrecy.records.reveal``. The operations are on the blueprint of
``secrecy.disclosure.api`` (one tag, one set of operation ids), which registers them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Literal

from flask_babel import lazy_gettext as _l
from pydantic import Field, field_validator
from sqlalchemy import select

from coordination.api.core import (
    ApiModel,
    DbId,
    OutModel,
    Page,
    PageQuery,
    api_user,
    paginate_then_convert,
)
from coordination.db import db_session, today_local
from coordination.models import AgencyKind
from coordination.web.forms import DATE_OUT_OF_RANGE
from coordination.web.params import is_sane_date
from secrecy.disclosure import consents as service
from secrecy.disclosure.api import bp
from secrecy.models import Consent, ConsentRevokeReason, Record
from secrecy.policy.categories import NOT_BY_HAND, categories
from secrecy.policy.engine import Signer
from secrecy.records.access import child_for, consent_for
from secrecy.records.api import AgencyRef, RecordOut, record_out
from secrecy.records.reveal import reveal_records

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
                registered_by_agency=AgencyRef.model_validate(agency),
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
)
def consents(child_id: int, query: PageQuery) -> Page[ConsentOut]:
    """Samtyckena med vad de omfattar och om de gäller. Namn och syfte är förseglade."""
    found = child_for(db_session(), api_user(), child_id)
    return paginate_then_convert(
        list(service.consents_of(db_session(), found)), query, _consents_out
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

    @field_validator("valid_from", "valid_to")
    @classmethod
    def _sane_dates(cls, value: dt.date | None) -> dt.date | None:
        if not is_sane_date(value):
            raise ValueError(str(DATE_OUT_OF_RANGE))
        return value

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: list[str]) -> list[str]:
        # The consent form offers every category but the consents' own.
        if any(key not in categories() or key == "consent" or key in NOT_BY_HAND for key in value):
            raise ValueError(str(_l("Okänd kategori.")))
        return value


@bp.operation(
    "/children/<int:child_id>/consents",
    method="POST",
    summary="Registrera ett samtycke",
    status=201,
)
def register_consent(child_id: int, body: ConsentIn) -> ConsentOut:
    """Ett samtycke som saknar en underskrift registreras som ofullständigt och kan inte
    användas för uppgiftslämning (missing_signers)."""
    found = child_for(db_session(), api_user(), child_id)
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
    summary="Återkalla ett samtycke",
)
def revoke_consent(consent_id: int, body: ConsentRevokeIn) -> ConsentRevokedOut:
    """Med omedelbar verkan: varje utlämnande som vilar på samtycket upphör nu. Alla
    medlemmar i forumet kan registrera en återkallelse."""
    session = db_session()
    found = consent_for(session, api_user(), consent_id)
    ended = service.revoke_consent(session, api_user(), found, body.reason)
    (out,) = _consents_out([found])
    return ConsentRevokedOut(**out.model_dump(), ended_disclosures=ended)
