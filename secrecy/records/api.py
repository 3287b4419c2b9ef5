"""API: children and their records, and how every package's API shows a record.

The same doors as the pages in ``secrecy.records.views``: the same access functions
(``secrecy.records.access``: council members only; an unknown and a forbidden id answered alike,
403), the same services, and content only through ``secrecy.records.reveal``, once per request.
A record is shown as its content when the viewer may see it, otherwise as
``{"withheld": true, "reason": ...}`` and never a byte of content (``record_out``: agenda briefs,
minutes entries and action descriptions are records too).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from flask import Flask
from pydantic import Field, RootModel
from sqlalchemy import select

from coordination.api.core import (
    ApiBlueprint,
    ApiModel,
    OutModel,
    Page,
    PageQuery,
    api_user,
    make_page,
    page_window,
)
from coordination.councils.access import council_for
from coordination.db import db_session
from coordination.models import Child, ChildStatus, CloseReason
from secrecy.disclosure import services as service
from secrecy.models import Disclosure, DisclosureEndReason
from secrecy.policy.rules import legal_bases
from secrecy.records import services
from secrecy.records.access import child_for
from secrecy.records.reveal import Revealed, RevealResult, reveal_listed, reveal_one

bp = ApiBlueprint(
    "api_secrecy",
    __name__,
    tag="Barn och uppgifter",
    description=(
        "Barnen i ett forum och deras uppgifter: visade för den som får se dem, annars "
        "undanhållna med skälet."
    ),
)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


# --- How a record is shown -----------------------------------------------------------------


class AgencyRef(OutModel):
    id: int
    name: str


class DisclosedVia(OutModel):
    disclosure_id: int
    basis_id: str
    basis_title: str | None
    basis_reference: str | None = Field(description="Lagrum, t.ex. 10 kap. 18 a § OSL.")
    decided_at: dt.datetime
    assessment: str | None = Field(
        None,
        description="Den utlämnande myndighetens skriftliga bedömning bakom beslutet; null för "
        "äldre beslut.",
    )


class RecordMeta(OutModel):
    id: int
    child_id: int
    category: str = Field(description="Kategori (nyckel), se categories i dokumentationen.")
    owner_agency: AgencyRef = Field(description="Myndigheten som lämnade uppgiften.")
    created_at: dt.datetime
    supersedes_id: int | None = Field(description="Uppgiften som den här rättar.")
    superseded: bool


class RevealedRecordOut(RecordMeta):
    withheld: Literal[False] = False
    author: str = Field(description="Vem som skrev uppgiften.")
    content: dict[str, Any]
    disclosed_via: DisclosedVia | None = Field(
        description="Utlämnandet som ger din myndighet rätt att se uppgiften; null för egna."
    )


class WithheldRecordOut(RecordMeta):
    withheld: Literal[True] = True
    reason: str = Field(description="Varför uppgiften inte visas (svenska).")


RecordOut = Annotated[RevealedRecordOut | WithheldRecordOut, Field(discriminator="withheld")]


def _meta(result: RevealResult) -> dict[str, Any]:
    record = result.record
    return {
        "id": record.id,
        "child_id": record.child_id,
        "category": record.category,
        "owner_agency": AgencyRef.model_validate(record.owner_agency),
        "created_at": record.created_at,
        "supersedes_id": record.supersedes_id,
        "superseded": record.is_superseded,
    }


def record_out(result: RevealResult) -> RevealedRecordOut | WithheldRecordOut:
    """The API form of one ``reveal_records`` result."""
    if isinstance(result, Revealed):
        via = None
        if result.via is not None:
            basis = result.via.basis
            via = DisclosedVia(
                disclosure_id=result.via.disclosure.id,
                basis_id=result.via.disclosure.basis_id,
                basis_title=basis.title if basis else None,
                basis_reference=basis.reference if basis else None,
                decided_at=result.via.disclosure.decided_at,
                assessment=result.via.assessment,
            )
        return RevealedRecordOut(
            **_meta(result),
            author=result.record.author.display_name,
            content=result.content,
            disclosed_via=via,
        )
    return WithheldRecordOut(**_meta(result), reason=result.reason)


# --- Children and records -----------------------------------------------------------------------


class ChildSummaryOut(OutModel):
    id: int
    pseudonym: str = Field(description="Barnets pseudonym, t.ex. NORR-2026-014.")
    status: ChildStatus
    enrolled_on: dt.date
    closed_on: dt.date | None
    close_reason: CloseReason | None


class CaseloadQuery(PageQuery):
    status: Literal["active", "closed", "shredded", "proposed", "declined", "all"] = Field(
        "active",
        description=(
            "Ärenden med den här statusen, som på sidan Ärenden. all ger alla, även förslag "
            "om inskrivning från ärendeavstämningen (proposed)."
        ),
    )


def _summary(child: Child) -> ChildSummaryOut:
    return ChildSummaryOut.model_validate(child)


@bp.operation(
    "/councils/<int:council_id>/children",
    summary="Forumets ärenden",
)
def caseload(council_id: int, query: CaseloadQuery) -> Page[ChildSummaryOut]:
    """Barnen i forumet med pseudonym och status, i pseudonymordning."""
    session = db_session()
    council = council_for(session, api_user(), council_id)
    stmt = select(Child).where(Child.council_id == council.id)
    if query.status != "all":
        stmt = stmt.where(Child.status == ChildStatus(query.status))
    offset, fetch = page_window(query)
    children = session.scalars(
        stmt.order_by(Child.pseudonym, Child.id).offset(offset).limit(fetch)
    ).all()
    return make_page([_summary(c) for c in children], query, offset)


class DisclosureOut(OutModel):
    id: int
    record_id: int
    recipient_agency: AgencyRef
    basis_id: str
    basis_title: str | None = Field(description="Null om grunden inte längre finns i regelverket.")
    basis_reference: str | None = Field(description="Lagrum, t.ex. 10 kap. 18 a § OSL.")
    confirmations: list[str] = Field(description="Förutsättningarna som bekräftades, ordagrant.")
    consent_id: int | None
    decided_at: dt.datetime
    revoked_at: dt.datetime | None
    revoke_reason: DisclosureEndReason | None
    lapsed_at: dt.datetime | None = Field(description="När grunden föll bort (t.ex. samtycket).")
    assessment_record_id: int | None = Field(
        description="Den skriftliga bedömningen bakom beslutet (en krypterad uppgift hos den "
        "ägande myndigheten); null för äldre beslut."
    )
    ruleset_version: str | None = Field(description="Regelverkets version vid beslutet.")


def disclosure_out(disclosure: Disclosure) -> DisclosureOut:
    basis = legal_bases().get(disclosure.basis_id)
    recipient = disclosure.recipient_agency
    return DisclosureOut(
        id=disclosure.id,
        record_id=disclosure.record_id,
        recipient_agency=AgencyRef.model_validate(recipient),
        basis_id=disclosure.basis_id,
        basis_title=basis.title if basis else None,
        basis_reference=basis.reference if basis else None,
        confirmations=list(disclosure.confirmations),
        consent_id=disclosure.consent_id,
        decided_at=disclosure.decided_at,
        revoked_at=disclosure.revoked_at,
        revoke_reason=disclosure.revoke_reason,
        lapsed_at=disclosure.lapsed_at,
        assessment_record_id=disclosure.assessment_record_id,
        ruleset_version=disclosure.ruleset_version,
    )


class ChildOut(ChildSummaryOut):
    council_id: int
    records: list[RecordOut] = Field(
        description="Barnets uppgifter, äldst först, även identiteten: visade eller undanhållna."
    )
    disclosures: list[DisclosureOut] = Field(
        description="Gällande utlämnanden av din myndighets uppgifter om barnet."
    )


@bp.operation("/children/<int:child_id>", summary="Ett barn och dess uppgifter")
def child(child_id: int) -> ChildOut:
    """Som barnets sida: en uppgift visas om din myndighet äger den eller har fått den
    utlämnad, annars som undanhållen med skälet. Visningen loggas."""
    session = db_session()
    user = api_user()
    found = child_for(session, user, child_id)
    results = reveal_listed(session, user, services.child_records(session, found))
    own = [r.record for r in results if r.record.owner_agency_id == user.agency_id]
    live = service.disclosures_by_record(session, own)
    return ChildOut(
        **_summary(found).model_dump(),
        council_id=found.council_id,
        records=[record_out(r) for r in results],
        disclosures=[disclosure_out(d) for r in own for d in live.get(r.id, [])],
    )


class RecordIn(ApiModel):
    category: str = Field(
        min_length=1, max_length=40, description="Kategori (nyckel), ej identity."
    )
    text: str = Field(min_length=1, max_length=services.MAX_TEXT, description="Uppgiften.")


class RecordResult(RootModel[RecordOut]):
    """One record, shown or withheld."""


@bp.operation(
    "/children/<int:child_id>/records",
    method="POST",
    summary="Ny uppgift",
    status=201,
)
def add_record(child_id: int, body: RecordIn) -> RecordResult:
    """Uppgiften blir din myndighets och visas för andra myndigheter först efter beslut om
    uppgiftslämning."""
    session = db_session()
    user = api_user()
    found = child_for(session, user, child_id)
    record = services.create_record(session, user, found, body.category, body.text)
    return RecordResult(record_out(reveal_one(session, user, record)))
