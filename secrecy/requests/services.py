"""Requests for information (begäran om uppgifter): a member of one agency asks another agency
of the child's council for information; the asked agency assesses and answers by disclosure
decisions under a basis the engine accepts, or refuses with a reason the requester sees.

The request's purpose is a sealed record of the requesting agency, wrapped for the asked agency;
the answer's note (or the refusal's reason) a sealed record of the asked agency, wrapped for
the requester. Both are read only through ``secrecy.records.reveal.reveal_exchanged``. Every
step appends an audit event of ids; the users told are told only that something waits for them
(``coordination.notices``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from coordination.audit.log import record_event
from coordination.councils.services import council_coordinators
from coordination.db import utcnow
from coordination.errors import PermissionDenied, ServiceError
from coordination.models import Agency, Child, CouncilMembership, User
from coordination.notices import Notice, send_notice
from coordination.policy import can_view_council
from secrecy.disclosure.services import decide_disclosures
from secrecy.models import Disclosure, InformationRequest, Record, RequestStatus, RequestUrgency
from secrecy.policy.categories import REQUEST_TEXT, categories, writable_by_hand
from secrecy.policy.rules import legal_bases
from secrecy.records import sealing
from secrecy.records.reveal import reveal_exchanged
from secrecy.records.services import add_sealed_record, child_records, require_child_access
from secrecy.tags import SecrecyTag

MIN_TEXT = 10
MAX_TEXT = 5_000
RECEIVED = "information_request_received"
CLOSED = "information_request_closed"
OVERDUE = "information_request_overdue"


def request_path(request_id: int) -> str:
    return f"/requests/{int(request_id)}"


def _text(value: str, field: str, message: str) -> str:
    text = (value or "").strip()
    if len(text) < MIN_TEXT:
        raise ServiceError(message, field=field)
    if len(text) > MAX_TEXT:
        raise ServiceError(_l("Texten är för lång (högst 5 000 tecken)."), field=field)
    return text


def council_users(session: Session, child: Child, agency_id: int) -> list[User]:
    """The agency's active users who sit in the child's council."""
    return list(
        session.scalars(
            select(User)
            .join(CouncilMembership, CouncilMembership.user_id == User.id)
            .where(CouncilMembership.council_id == child.council_id, User.agency_id == agency_id)
        )
    )


@dataclass(frozen=True)
class RequestData:
    owner_agency_id: int
    category: str | None  # None: what the agency holds about the child
    basis_id: str | None
    urgency: RequestUrgency
    purpose: str


def request_information(
    session: Session, actor: User, child: Child, data: RequestData
) -> InformationRequest:
    require_child_access(actor, child)
    owner = next(
        (
            a
            for a in child.council.agencies
            if a.id == data.owner_agency_id and a.active and a.id != actor.agency_id
        ),
        None,
    )
    if owner is None:
        raise ServiceError(_l("Välj en annan myndighet i barnets forum."), field="owner_agency")
    if data.category is not None and (
        data.category not in categories() or not writable_by_hand(data.category)
    ):
        raise ServiceError(_l("Okänd kategori."), field="category")
    if data.basis_id is not None and data.basis_id not in legal_bases():
        raise ServiceError(_l("Okänd rättslig grund."), field="basis")
    purpose = _text(
        data.purpose, "purpose", _l("Skriv vad uppgifterna behövs till (minst 10 tecken).")
    )
    details = add_sealed_record(
        session, actor, child, REQUEST_TEXT, {"text": purpose}, existence_secret=True
    )
    sealing.grant_record_key(session, details, owner.id)  # the asked agency reads the purpose
    request = InformationRequest(
        child_id=child.id,
        requesting_agency_id=actor.agency_id,
        requested_by_id=actor.id,
        owner_agency_id=owner.id,
        category=data.category,
        basis_id=data.basis_id,
        urgency=data.urgency,
        details_record_id=details.id,
        status=RequestStatus.OPEN,
    )
    session.add(request)
    session.flush()
    record_event(
        session,
        actor,
        SecrecyTag.REQUEST_CREATE,
        on=request,
        details={
            "child_id": child.id,
            "owner_agency_id": owner.id,
            "category": data.category,
            "basis": data.basis_id,
            "urgency": str(data.urgency),
            "details_record_id": details.id,
        },
    )
    send_notice(
        session,
        council_users(session, child, owner.id),
        Notice(RECEIVED, request_path(request.id), f"request:{request.id}:received"),
    )
    return request


def _require_owner(actor: User, request: InformationRequest) -> None:
    if not can_view_council(actor, request.child.council) or actor.agency_id != (
        request.owner_agency_id
    ):
        raise PermissionDenied(object_type="information_request", object_ids=[request.id])


def _require_open(request: InformationRequest) -> None:
    if not request.is_open:
        raise ServiceError(_l("Begäran är redan avslutad."))


def answerable_records(session: Session, request: InformationRequest) -> list[Record]:
    """The asked agency's current records about the child that an answer may disclose: of the
    category asked for, or all of them for "what you hold"."""
    return [
        r
        for r in child_records(session, request.child)
        if r.owner_agency_id == request.owner_agency_id
        and not r.is_superseded
        and not r.is_shredded
        and r.category != "consent"
        and (writable_by_hand(r.category) or r.category == "identity")
        and (request.category is None or r.category == request.category)
    ]


def answer_with_disclosures(
    session: Session,
    actor: User,
    request: InformationRequest,
    record_ids: Sequence[int],
    basis_id: str,
    confirmed: Sequence[int],
    assessment: str,
) -> list[Disclosure]:
    """Disclose chosen records to the requesting agency, as one batch decision with one
    assessment; the request stays open (a partial answer) until it is closed."""
    _require_owner(actor, request)
    _require_open(request)
    wanted = set(record_ids)
    chosen = [r for r in answerable_records(session, request) if r.id in wanted]
    if not chosen:
        raise ServiceError(_l("Välj minst en uppgift."), field="records")
    recipient = session.get_one(Agency, request.requesting_agency_id)
    decided = decide_disclosures(
        session, actor, chosen, recipient, basis_id, confirmed, assessment=assessment
    )
    for disclosure in decided:
        disclosure.request_id = request.id
    session.flush()
    record_event(
        session,
        actor,
        SecrecyTag.REQUEST_ANSWER,
        on=request,
        details={"disclosure_ids": [d.id for d in decided], "basis": basis_id},
    )
    return decided


def close_request(
    session: Session,
    actor: User,
    request: InformationRequest,
    outcome: RequestStatus,
    note: str,
    expected_version: int | None = None,
) -> InformationRequest:
    """Answered (with an optional note) or refused (with the reason the requester sees)."""
    _require_owner(actor, request)
    _require_open(request)
    if expected_version is not None and expected_version != request.version:
        raise ServiceError(_l("Begäran har ändrats av någon annan. Ladda om sidan."))
    if outcome is RequestStatus.OPEN:
        raise ServiceError(_l("Välj hur begäran besvaras."), field="outcome")
    text = note.strip()
    if outcome is RequestStatus.REFUSED:
        text = _text(text, "note", _l("Skriv skälet till att uppgifterna inte lämnas ut."))
    elif text:
        text = _text(text, "note", _l("Skriv en kort kommentar (minst 10 tecken) eller ingen."))
    if text:
        answer = add_sealed_record(
            session, actor, request.child, REQUEST_TEXT, {"text": text}, existence_secret=True
        )
        sealing.grant_record_key(session, answer, request.requesting_agency_id)
        request.answer_record_id = answer.id
    request.status = outcome
    request.closed_at = utcnow()
    request.closed_by_id = actor.id
    session.flush()
    record_event(
        session,
        actor,
        SecrecyTag.REQUEST_CLOSE,
        on=request,
        details={"outcome": str(outcome), "answer_record_id": request.answer_record_id},
    )
    send_notice(
        session,
        [request.requested_by],
        Notice(CLOSED, request_path(request.id), f"request:{request.id}:closed"),
    )
    return request


# --- Reading ------------------------------------------------------------------------------------


def request_texts(
    session: Session, actor: User, requests: Sequence[InformationRequest]
) -> dict[int, dict[str, str]]:
    """Per request the texts the actor's agency may read: ``purpose`` (requester and asked
    agency) and ``answer`` (both too), through the one door."""
    pairs: list[tuple[Record, frozenset[int]]] = []
    ids = [i for r in requests for i in (r.details_record_id, r.answer_record_id) if i]
    records = {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(ids)))}
    for request in requests:
        parties = frozenset({request.requesting_agency_id, request.owner_agency_id})
        for record_id in (request.details_record_id, request.answer_record_id):
            if record_id in records:
                pairs.append((records[record_id], parties))
    opened = reveal_exchanged(session, actor, pairs, purpose="request")
    texts: dict[int, dict[str, str]] = {}
    for request in requests:
        entry: dict[str, str] = {}
        if request.details_record_id in opened:
            entry["purpose"] = str(opened[request.details_record_id].get("text", ""))
        if request.answer_record_id and request.answer_record_id in opened:
            entry["answer"] = str(opened[request.answer_record_id].get("text", ""))
        texts[request.id] = entry
    return texts


def requests_of(session: Session, actor: User) -> list[InformationRequest]:
    """The requests to and from the actor's agency in the actor's councils, open ones first,
    oldest first among them."""
    member_of = select(CouncilMembership.council_id).where(CouncilMembership.user_id == actor.id)
    rows = session.scalars(
        select(InformationRequest)
        .join(Child, Child.id == InformationRequest.child_id)
        .where(
            Child.council_id.in_(member_of),
            (InformationRequest.owner_agency_id == actor.agency_id)
            | (InformationRequest.requesting_agency_id == actor.agency_id),
        )
        .options(
            selectinload(InformationRequest.child),
            selectinload(InformationRequest.requesting_agency),
            selectinload(InformationRequest.owner_agency),
        )
        .order_by(InformationRequest.created_at)
        .limit(500)
    ).all()
    return sorted(rows, key=lambda r: (not r.is_open, r.created_at))


def answering_disclosures(session: Session, request: InformationRequest) -> list[Disclosure]:
    return list(
        session.scalars(
            select(Disclosure)
            .where(Disclosure.request_id == request.id)
            .order_by(Disclosure.decided_at, Disclosure.id)
        )
    )


def answering_disclosure_ids(
    session: Session, requests: Sequence[InformationRequest]
) -> dict[int, list[int]]:
    """The ids of the disclosures answering each request, in one query."""
    found: dict[int, list[int]] = {r.id: [] for r in requests}
    if not found:
        return found
    for disclosure_id, request_id in session.execute(
        select(Disclosure.id, Disclosure.request_id)
        .where(Disclosure.request_id.in_(list(found)))
        .order_by(Disclosure.id)
    ):
        if request_id is not None:
            found[request_id].append(disclosure_id)
    return found


def age_in_days(request: InformationRequest, now: dt.datetime | None = None) -> int:
    return ((now or utcnow()) - request.created_at).days


# --- The overdue flag (a nightly job) -------------------------------------------------------------


def flag_overdue_requests(session: Session, now: dt.datetime) -> int:
    """Tell the asked agency's coordinators in the council (or, if it has none, the council's
    coordinators) about each open request older than the council's ``request_flag_days``;
    once per request. Returns the number flagged."""
    candidates = session.scalars(
        select(InformationRequest)
        .where(
            InformationRequest.status == RequestStatus.OPEN,
            InformationRequest.flagged_at.is_(None),
        )
        .options(selectinload(InformationRequest.child))
        .order_by(InformationRequest.id)
    ).all()
    flagged = 0
    for request in candidates:
        council = request.child.council
        if now - request.created_at <= dt.timedelta(days=council.request_flag_days):
            continue
        coordinators = council_coordinators(session, council.id)
        told = [u for u in coordinators if u.agency_id == request.owner_agency_id] or coordinators
        send_notice(
            session,
            told,
            Notice(
                OVERDUE,
                request_path(request.id),
                f"request:{request.id}:overdue",
                (("days", council.request_flag_days),),
            ),
        )
        request.flagged_at = now
        flagged += 1
        record_event(
            session,
            None,
            SecrecyTag.REQUEST_OVERDUE,
            on=request,
            details={
                "days": council.request_flag_days,
                "told": [u.id for u in told],
            },
        )
    session.flush()
    return flagged
