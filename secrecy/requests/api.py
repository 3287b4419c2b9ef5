"""API: requests for information (begäran om uppgifter), through the same doors as the pages
(``secrecy.requests.access``, ``secrecy.records.access``) and the same services; the texts are
opened through ``secrecy.records.reveal``, for the two agencies only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from flask import Flask
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
from coordination.errors import fields_named
from coordination.policy import Need
from secrecy.models import InformationRequest, RequestStatus, RequestUrgency
from secrecy.records.access import child_for
from secrecy.records.api import AgencyRef, DisclosureOut, disclosure_out
from secrecy.requests import services
from secrecy.requests.access import request_for

bp = ApiBlueprint(
    "api_requests",
    __name__,
    tag="Begäran om uppgifter",
    description=(
        "En medlem av en myndighet i forumet begär uppgifter om ett barn från en annan "
        "myndighet; den tillfrågade bedömer och svarar med utlämnande eller avslag."
    ),
)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


class RequestIn(ApiModel):
    owner_agency_id: DbId = Field(description="Myndigheten som tillfrågas.")
    category: str | None = Field(
        None, max_length=40, description="Kategori (nyckel); null: allt ni har om barnet."
    )
    basis_id: str | None = Field(
        None, max_length=60, description="Den grund den som begär anser gäller; null: vet ej."
    )
    urgency: RequestUrgency = RequestUrgency.NORMAL
    purpose: str = Field(
        min_length=1, max_length=5000, description="Vad uppgifterna behövs till (krypteras)."
    )


class RequestOut(OutModel):
    id: int
    child_id: int
    requesting_agency: AgencyRef
    owner_agency: AgencyRef
    category: str | None
    basis_id: str | None
    urgency: RequestUrgency
    status: RequestStatus
    created_at: dt.datetime
    closed_at: dt.datetime | None
    age_days: int
    purpose: str | None = Field(
        description="Syftet; bara för den begärande och den tillfrågade myndigheten."
    )
    answer: str | None = Field(
        description="Svaret eller skälet till avslaget; bara för de två myndigheterna."
    )
    disclosure_ids: list[int] = Field(description="Utlämnanden som besvarar begäran.")


def request_out(request: InformationRequest, texts: dict[str, str], ids: list[int]) -> RequestOut:
    return RequestOut(
        id=request.id,
        child_id=request.child_id,
        requesting_agency=AgencyRef.model_validate(request.requesting_agency),
        owner_agency=AgencyRef.model_validate(request.owner_agency),
        category=request.category,
        basis_id=request.basis_id,
        urgency=request.urgency,
        status=request.status,
        created_at=request.created_at,
        closed_at=request.closed_at,
        age_days=services.age_in_days(request),
        purpose=texts.get("purpose"),
        answer=texts.get("answer"),
        disclosure_ids=ids,
    )


def _one(request: InformationRequest) -> RequestOut:
    session = db_session()
    texts = services.request_texts(session, api_user(), [request]).get(request.id, {})
    ids = [d.id for d in services.answering_disclosures(session, request)]
    return request_out(request, texts, ids)


@bp.operation(
    "/children/<int:child_id>/information-requests",
    method="POST",
    summary="Begär uppgifter om ett barn",
    status=201,
)
def create_request(child_id: int, body: RequestIn) -> RequestOut:
    """Den tillfrågade myndighetens användare i forumet får ett meddelande utan innehåll."""
    session = db_session()
    child = child_for(session, api_user(), child_id)
    with fields_named(
        {
            "owner_agency": "owner_agency_id",
            "category": "category",
            "basis": "basis_id",
            "purpose": "purpose",
        }
    ):
        created = services.request_information(
            session,
            api_user(),
            child,
            services.RequestData(
                owner_agency_id=body.owner_agency_id,
                category=body.category,
                basis_id=body.basis_id,
                urgency=body.urgency,
                purpose=body.purpose,
            ),
        )
    return _one(created)


@bp.operation(
    "/information-requests",
    summary="Begäranden till och från din myndighet",
)
def list_requests(query: PageQuery) -> Page[RequestOut]:
    """Öppna först, äldst först; texterna bara där din myndighet är part."""
    session = db_session()
    rows = services.requests_of(session, api_user())
    texts = services.request_texts(session, api_user(), rows)
    answering = services.answering_disclosure_ids(session, rows)
    return paginate([request_out(r, texts.get(r.id, {}), answering[r.id]) for r in rows], query)


@bp.operation(
    "/information-requests/<int:request_id>",
    summary="En begäran om uppgifter",
)
def get_request(request_id: int) -> RequestOut:
    return _one(request_for(db_session(), api_user(), request_id))


class AnswerIn(ApiModel):
    record_ids: list[DbId] = Field(min_length=1, max_length=200)
    basis_id: str = Field(min_length=1, max_length=60)
    confirmations: list[Annotated[int, Field(ge=0, le=99)]] = Field(max_length=100)
    assessment: str = Field(
        min_length=1, max_length=10_000, description="En bedömning för hela urvalet."
    )


class AnswerOut(OutModel):
    disclosures: list[DisclosureOut] = Field(description="Besluten, ett per uppgift.")


@bp.operation(
    "/information-requests/<int:request_id>/disclosures",
    method="POST",
    summary="Besvara en begäran med utlämnande",
    status=201,
)
def answer_request(request_id: int, body: AnswerIn) -> AnswerOut:
    """Den tillfrågade myndigheten lämnar ut valda uppgifter till den som begärde, med stöd
    av en grund som policymotorn godtar; begäran förblir öppen tills den avslutas."""
    session = db_session()
    found = request_for(session, api_user(), request_id, Need.MANAGE)
    with fields_named({"records": "record_ids", "basis": "basis_id"}):
        decided = services.answer_with_disclosures(
            session,
            api_user(),
            found,
            body.record_ids,
            body.basis_id,
            body.confirmations,
            body.assessment,
        )
    return AnswerOut(disclosures=[disclosure_out(d) for d in decided])


class CloseIn(ApiModel):
    outcome: RequestStatus = Field(description="answered eller refused.")
    note: str = Field("", max_length=5000, description="Kommentar; skälet vid avslag.")


@bp.operation(
    "/information-requests/<int:request_id>/close",
    method="POST",
    summary="Avsluta en begäran (besvarad eller avslagen)",
)
def close_request(request_id: int, body: CloseIn) -> RequestOut:
    session = db_session()
    found = request_for(session, api_user(), request_id, Need.MANAGE)
    services.close_request(session, api_user(), found, body.outcome, body.note)
    return _one(found)
