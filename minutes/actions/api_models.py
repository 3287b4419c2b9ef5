"""The API's models of agreed actions and their fields, shared by the actions API and the
minutes API (the open actions in a meeting's minutes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.api.core import (
    ApiModel,
    OutModel,
    PageQuery,
)
from coordination.db import today_local
from coordination.models import User
from coordination.web.converters import MAX_DB_ID
from meetings.agenda.api import PersonRef, person
from minutes.actions.access import allowed_statuses
from minutes.actions.lists import (
    PAGE_SIZE,
    ActionRow,
    DueFilter,
    ListScope,
    SortKey,
    StatusFilter,
    is_overdue,
)
from minutes.actions.services import MAX_COMMENT
from minutes.models import (
    ActionStatus,
    ActionUpdate,
    AgreedAction,
    NotDoneReason,
)
from secrecy.records.api import AgencyRef, RecordOut, record_out
from secrecy.records.reveal import RevealResult


class ActionOut(OutModel):
    id: int
    council_id: int
    child_id: int
    pseudonym: str
    meeting_id: int = Field(description="Mötet där åtgärden beslutades.")
    responsible_agency: AgencyRef
    responsible_user: PersonRef | None = Field(description="Ansvarig person; null om ingen.")
    due_date: dt.date = Field(description="Klart senast.")
    status: ActionStatus
    not_done_reason: NotDoneReason | None = Field(description="Skälet när status är not_done.")
    overdue: bool = Field(description="Försenad: öppen eller pågående efter sista dagen.")
    version: int = Field(description="Skicka med i PATCH; ändras vid varje uppdatering.")
    description: RecordOut = Field(description="Vad som ska göras (en sekretessbelagd uppgift).")
    allowed_statuses: list[ActionStatus] = Field(description="Statusar du får sätta nu.")
    updated_at: dt.datetime = Field(description="Senaste uppföljningen, annars när den skapades.")


class ActionUpdateOut(OutModel):
    id: int
    from_status: ActionStatus
    to_status: ActionStatus
    author: PersonRef
    author_agency: AgencyRef
    created_at: dt.datetime
    comment: RecordOut | None = Field(description="Kommentaren (en sekretessbelagd uppgift).")


class ActionDetailOut(ActionOut):
    meeting_starts_at: dt.datetime
    comment_recipient: AgencyRef | None = Field(
        description="Myndigheten som en kommentar kan lämnas ut till med share_basis; null när "
        "din myndighet både äger beskrivningen och är ansvarig."
    )
    history: list[ActionUpdateOut] = Field(description="Uppföljningen, äldst först.")


class ActionsQuery(PageQuery):
    scope: ListScope = Field(
        description="mine: du är ansvarig; agency: din myndighet är ansvarig; council: alla "
        "åtgärder i forumet council_id."
    )
    council_id: int | None = Field(
        None, ge=1, le=MAX_DB_ID, description="Forum; krävs när scope är council."
    )
    status: StatusFilter = Field(
        StatusFilter.ACTIVE, description="active: öppna och pågående; all: alla."
    )
    due: DueFilter = Field(
        DueFilter.ALL, description="overdue: försenade; 7 och 30: klart senast inom så många dagar."
    )
    sort: SortKey = Field(SortKey.DUE, description="Sortering, som på sidorna.")
    limit: int = Field(PAGE_SIZE, ge=1, le=PAGE_SIZE, description="Högst så många poster.")


class ActionPatch(ApiModel):
    status: ActionStatus = Field(description="Ny status; se allowed_statuses.")
    comment: str = Field(
        min_length=1,
        max_length=MAX_COMMENT,
        description="Kommentar; sparas som en sekretessbelagd uppgift från din myndighet.",
    )
    version: int = Field(ge=1, le=MAX_DB_ID, description="Åtgärdens version när du läste den.")
    reason: NotDoneReason | None = Field(None, description="Krävs när status är not_done.")
    share_basis: str | None = Field(
        None,
        max_length=100,
        description="Lämna ut kommentaren till comment_recipient med stöd av denna grund (id).",
    )
    share_confirmations: list[int] = Field(
        default_factory=list,
        max_length=50,
        description="Förutsättningarna du bekräftar för grunden (index, 0 först); alla krävs.",
    )
    assessment: str | None = Field(
        None,
        max_length=10_000,
        description=(
            "Er skriftliga bedömning i det enskilda fallet (minst 20 tecken), krävs med "
            "share_basis: varför kommentaren lämnas till mottagaren nu. Krypteras som er "
            "myndighets uppgift och visas för mottagaren med kommentaren."
        ),
    )


def agency_of(user: User | None) -> AgencyRef | None:
    return AgencyRef(id=user.agency.id, name=user.agency.name) if user is not None else None


def action_fields(
    action: AgreedAction,
    description: RevealResult,
    viewer: User,
    today: dt.date,
    updated_at: dt.datetime | None,
) -> dict[str, object]:
    return {
        "id": action.id,
        "council_id": action.child.council_id,
        "child_id": action.child_id,
        "pseudonym": action.child.pseudonym,
        "meeting_id": action.meeting_id,
        "responsible_agency": AgencyRef(
            id=action.responsible_agency.id, name=action.responsible_agency.name
        ),
        "responsible_user": person(action.responsible_user),
        "due_date": action.due_on,
        "status": action.status,
        "not_done_reason": action.not_done_reason,
        "overdue": is_overdue(action, today),
        "version": action.version,
        "description": record_out(description),
        "allowed_statuses": allowed_statuses(viewer, action),
        "updated_at": updated_at or action.created_at,
    }


def row_fields(
    row: ActionRow, description: RevealResult, viewer: User, today: dt.date
) -> dict[str, object]:
    """``action_fields`` of one list row (plain values, no ORM graph)."""
    return {
        "id": row.id,
        "council_id": row.council_id,
        "child_id": row.child_id,
        "pseudonym": row.pseudonym,
        "meeting_id": row.meeting_id,
        "responsible_agency": AgencyRef(
            id=row.responsible_agency_id, name=row.responsible_agency_name
        ),
        "responsible_user": (
            PersonRef(id=row.responsible_user_id, name=row.responsible_user_name or "")
            if row.responsible_user_id is not None
            else None
        ),
        "due_date": row.due_on,
        "status": row.status,
        "not_done_reason": row.not_done_reason,
        "overdue": is_overdue(row, today),
        "version": row.version,
        "description": record_out(description),
        "allowed_statuses": allowed_statuses(viewer, row),
        "updated_at": row.last_update or row.created_at,
    }


def _last_updates(session: Session, actions: Sequence[AgreedAction]) -> dict[int, dt.datetime]:
    """When each action was last followed up, in one query."""
    last: dict[int, dt.datetime] = {}
    if not actions:
        return last
    rows = session.execute(
        select(ActionUpdate.action_id, ActionUpdate.created_at).where(
            ActionUpdate.action_id.in_([a.id for a in actions])
        )
    )
    for action_id, created_at in rows:
        if action_id not in last or created_at > last[action_id]:
            last[action_id] = created_at
    return last


def actions_out(
    session: Session,
    viewer: User,
    actions: Sequence[AgreedAction],
    revealed: dict[int, RevealResult],
) -> list[ActionOut]:
    today = today_local()
    last = _last_updates(session, actions)
    return [
        ActionOut.model_validate(
            action_fields(a, revealed[a.description_record_id], viewer, today, last.get(a.id))
        )
        for a in actions
    ]


def rows_out(
    viewer: User, rows: Sequence[ActionRow], revealed: dict[int, RevealResult]
) -> list[ActionOut]:
    """``actions_out`` of list rows (loaded with their last follow-up)."""
    today = today_local()
    return [
        ActionOut.model_validate(row_fields(row, revealed[row.description.id], viewer, today))
        for row in rows
    ]
