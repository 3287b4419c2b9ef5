"""API: the council coordinators' queue of possible duplicates (``secrecy.duplicates``) and
their decision on each, through the same doors as the pages: the council or the child loaded
by the same access functions, then the coordinator check, then the same services.

Only the council's coordinators may be told that a number is a case, so everyone else is
refused alike (403, logged as ``access:denied``), whatever the id: a member who is not a
coordinator, another council's member and an unknown id get the same answer, and a refusal
never says whether a case is held. The answers carry pseudonyms, the enrolling agency and
dates: no identity, no content.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask import Flask
from pydantic import Field
from sqlalchemy.orm import Session

from coordination.api.core import ApiBlueprint, ApiModel, OutModel, api_user
from coordination.councils.access import council_for
from coordination.db import db_session
from coordination.models import Child, User
from secrecy.duplicates import services
from secrecy.records.access import child_for
from secrecy.records.api import AgencyRef

bp = ApiBlueprint(
    "api_duplicates",
    __name__,
    tag="Möjliga dubbletter",
    description=(
        "Ärenden som skrevs in (eller föreslogs i ärendeavstämningen) med ett personnummer "
        "som redan är ett ärende i forumet, av en myndighet som inte får veta det. Bara "
        "forumets samordnare ser listan och beslutar; alla andra får 403."
    ),
)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


class CaseRef(OutModel):
    id: int
    pseudonym: str


class PossibleDuplicateOut(OutModel):
    held: CaseRef = Field(description="Det nya ärendet, som väntar på beslut.")
    holder: CaseRef = Field(description="Ärendet som redan har personnumret.")
    enrolling_agency: AgencyRef = Field(description="Myndigheten som skrev in det nya ärendet.")
    enrolled_on: dt.date
    version: int = Field(description="Det nya ärendets version; skicka den med beslutet.")


class PossibleDuplicatesOut(OutModel):
    items: list[PossibleDuplicateOut]


class DuplicateDecisionIn(ApiModel):
    version: int = Field(
        description="Det nya ärendets version från listan; ändrat sedan dess: 409."
    )


class DuplicateDecisionOut(OutModel):
    id: int
    pseudonym: str
    status: str = Field(description="closed efter avslut som dubblett, annars active.")
    close_reason: str | None = Field(description="duplicate efter avslut som dubblett.")
    kept: bool = Field(description="Behållet som eget ärende.")
    version: int


def _decide(
    child_id: int,
    body: DuplicateDecisionIn,
    decision: Callable[[Session, User, Child, int], object],
) -> DuplicateDecisionOut:
    """A coordinator's decision on a held case: the case loaded and the coordinator checked,
    the decision taken on the version the coordinator saw, the case as it now stands."""
    session = db_session()
    user = api_user()
    child = child_for(session, user, child_id)
    services.require_council_coordinator(user, child.council)
    decision(session, user, child, body.version)
    return DuplicateDecisionOut(
        id=child.id,
        pseudonym=child.pseudonym,
        status=child.status.value,
        close_reason=child.close_reason.value if child.close_reason else None,
        kept=child.duplicate_kept_at is not None,
        version=child.version,
    )


@bp.operation(
    "/councils/<int:council_id>/possible-duplicates",
    summary="Möjliga dubbletter i forumet",
)
def list_possible_duplicates(council_id: int) -> PossibleDuplicatesOut:
    """Forumets samordnare: de ärenden som väntar på beslut, äldst först, med ärendet som
    redan har personnumret. Inga identitetsuppgifter."""
    session = db_session()
    user = api_user()
    council = council_for(session, user, council_id)
    services.require_council_coordinator(user, council)
    return PossibleDuplicatesOut(
        items=[
            PossibleDuplicateOut(
                held=CaseRef.model_validate(pair.held),
                holder=CaseRef.model_validate(pair.holder),
                enrolling_agency=AgencyRef.model_validate(pair.held.enrolling_agency),
                enrolled_on=pair.held.enrolled_on,
                version=pair.held.version,
            )
            for pair in services.possible_duplicates(session, council)
        ]
    )


@bp.operation(
    "/children/<int:child_id>/duplicate/close",
    method="POST",
    summary="Avsluta ett ärende som dubblett",
)
def close_as_duplicate(child_id: int, body: DuplicateDecisionIn) -> DuplicateDecisionOut:
    """Forumets samordnare. Ärendet avslutas med skälet duplicate och gallras sedan som andra
    avslutade ärenden. Ett ärende som inte väntar på beslut avvisas (422)."""
    return _decide(child_id, body, services.close_as_duplicate)


@bp.operation(
    "/children/<int:child_id>/duplicate/keep",
    method="POST",
    summary="Behåll ett ärende som eget ärende",
)
def keep_separate(child_id: int, body: DuplicateDecisionIn) -> DuplicateDecisionOut:
    """Forumets samordnare. Ärendet lämnar listan och fortsätter som vanligt. Ett ärende som
    inte väntar på beslut avvisas (422)."""
    return _decide(child_id, body, services.keep_separate)
