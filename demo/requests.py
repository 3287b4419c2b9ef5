"""The demo's requests for information: in Bob-råd Centrum the police ask social services about
Elias three times; one waits, one is answered, one is refused (every state the pages show)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.models import AgencyKind
from demo.coordination import POLICE, SECRETARY, demo_users
from demo.secrecy import demo_children
from secrecy.models import InformationRequest, RequestStatus, RequestUrgency
from secrecy.requests.services import RequestData, close_request, request_information

REQUESTS = (
    (
        "risk_protective",
        RequestUrgency.URGENT,
        "Vi har tips om att Elias kan dras in i en konflikt i helgen och behöver veta om ni "
        "ser en ökad risk.",
        None,
        "",
    ),
    (
        None,
        RequestUrgency.NORMAL,
        "Inför nästa Bob-möte: vad har ni om Elias som kan hjälpa oss att förebygga brott?",
        RequestStatus.ANSWERED,
        "Det vi kan lämna ut har redan lämnats ut i rådet; mer finns inte att tillföra nu.",
    ),
    (
        "family",
        RequestUrgency.NORMAL,
        "Vi vill veta mer om familjesituationen för att kunna planera ett orosbesök.",
        RequestStatus.REFUSED,
        "Uppgifterna om familjen rör en pågående utredning och lämnas inte ut nu.",
    ),
)


def load_requests_demo(session: Session) -> None:
    """Does nothing when the demo has requests already."""
    if session.scalar(select(InformationRequest.id).limit(1)) is not None:
        return
    users = demo_users(session)
    elias = demo_children(session).get("elias")
    if elias is None:
        return
    social = next(a for a in elias.council.agencies if a.kind is AgencyKind.SOCIAL_SERVICES)
    for category, urgency, purpose, outcome, note in REQUESTS:
        request = request_information(
            session,
            users[POLICE],
            elias,
            RequestData(social.id, category, "sol-police-u21", urgency, purpose),
        )
        if outcome is not None:
            close_request(session, users[SECRETARY], request, outcome, note)
    session.flush()
