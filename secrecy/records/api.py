"""API: children and their records.

The same doors as the pages in ``secrecy.records.views`` and ``secrecy.disclosure.views``: the same
access checks (council members only; disclosure decisions for the owner agency only), the same
services, and content only through ``secrecy.records.reveal``, once per request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Literal

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
    forbidden,
    make_page,
    not_found,
    page_window,
)
from coordination.db import db_session
from coordination.errors import ServiceError
from coordination.models import Child, ChildStatus, CloseReason, Council
from coordination.policy import can_view_council
from coordination.tokens.services import Scope
from secrecy.disclosure import services as service
from secrecy.models import Disclosure, DisclosureEndReason, Record
from secrecy.policy.rules import legal_bases
from secrecy.records import services
from secrecy.records.api_models import AgencyRef, RecordOut, record_out
from secrecy.records.reveal import reveal_listed, reveal_one

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


@contextmanager
def fields_named(names: Mapping[str, str]) -> Iterator[None]:
    """A service names the form field at fault; the API names the body field instead."""
    try:
        yield
    except ServiceError as exc:
        if exc.field is None or exc.field not in names:
            raise
        raise ServiceError(exc.message, field=names[exc.field]) from exc


# --- Loading, with the pages' access checks -----------------------------------------------------


def child_for_member(child_id: int) -> Child:
    """Like the child page: any member of the child's council, whatever the case's status."""
    child = db_session().get(Child, child_id)
    if child is None:
        raise not_found()
    if not can_view_council(api_user(), child.council):
        raise forbidden("child", child_id)
    return child


def record_of_owner(record_id: int) -> Record:
    """Like the disclosure page: the owner agency's users in the child's council."""
    record = db_session().get(Record, record_id)
    if record is None:
        raise not_found()
    user = api_user()
    if not can_view_council(user, record.child.council) or record.owner_agency_id != user.agency_id:
        raise forbidden("record", record_id)
    return record


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
    return ChildSummaryOut(
        id=child.id,
        pseudonym=child.pseudonym,
        status=child.status,
        enrolled_on=child.enrolled_on,
        closed_on=child.closed_on,
        close_reason=child.close_reason,
    )


@bp.operation(
    "/councils/<int:council_id>/children",
    summary="Forumets ärenden",
    query=CaseloadQuery,
    response=Page[ChildSummaryOut],
)
def caseload(council_id: int, query: CaseloadQuery) -> Page[ChildSummaryOut]:
    """Barnen i forumet med pseudonym och status, i pseudonymordning."""
    session = db_session()
    council = session.get(Council, council_id)
    if council is None:
        raise not_found()
    if not can_view_council(api_user(), council):
        raise forbidden("council", council_id)
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


def disclosure_out(disclosure: Disclosure) -> DisclosureOut:
    basis = legal_bases().get(disclosure.basis_id)
    recipient = disclosure.recipient_agency
    return DisclosureOut(
        id=disclosure.id,
        record_id=disclosure.record_id,
        recipient_agency=AgencyRef(id=recipient.id, name=recipient.name),
        basis_id=disclosure.basis_id,
        basis_title=basis.title if basis else None,
        basis_reference=basis.reference if basis else None,
        confirmations=list(disclosure.confirmations),
        consent_id=disclosure.consent_id,
        decided_at=disclosure.decided_at,
        revoked_at=disclosure.revoked_at,
        revoke_reason=disclosure.revoke_reason,
        lapsed_at=disclosure.lapsed_at,
    )


class ChildOut(ChildSummaryOut):
    council_id: int
    records: list[RecordOut] = Field(
        description="Barnets uppgifter, äldst först, även identiteten: visade eller undanhållna."
    )
    disclosures: list[DisclosureOut] = Field(
        description="Gällande utlämnanden av din myndighets uppgifter om barnet."
    )


@bp.operation("/children/<int:child_id>", summary="Ett barn och dess uppgifter", response=ChildOut)
def child(child_id: int) -> ChildOut:
    """Som barnets sida: en uppgift visas om din myndighet äger den eller har fått den
    utlämnad, annars som undanhållen med skälet. Visningen loggas."""
    session = db_session()
    found = child_for_member(child_id)
    user = api_user()
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
    scope=Scope.WRITE,
    summary="Ny uppgift",
    body=RecordIn,
    response=RecordResult,
    status=201,
)
def add_record(child_id: int, body: RecordIn) -> RecordResult:
    """Uppgiften blir din myndighets och visas för andra myndigheter först efter beslut om
    uppgiftslämning."""
    session = db_session()
    found = child_for_member(child_id)
    user = api_user()
    record = services.create_record(session, user, found, body.category, body.text)
    return RecordResult(record_out(reveal_one(session, user, record)))
