"""API: agreed actions.

The action lists of "Mina åtgärder", "Min myndighets åtgärder" and a council's actions, one
action with its follow-up, and the status update: the same services and access rules as the
pages; action descriptions and comments are opened with one ``reveal_records`` call per request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from flask import Flask
from flask_babel import lazy_gettext as _l
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

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
from coordination.api.problems import ApiError, FieldProblem
from coordination.db import db_session, today_local
from coordination.errors import ConflictError, ServiceError
from coordination.models import Council, User
from coordination.policy import can_view_council
from coordination.tokens.services import Scope
from coordination.web.converters import MAX_DB_ID
from meetings.agenda.api import PersonRef, person
from minutes.actions.services import (
    MAX_COMMENT,
    PAGE_SIZE,
    ActionRow,
    DueFilter,
    ListQuery,
    ListScope,
    SortKey,
    StatusChange,
    StatusFilter,
    action_history,
    actions_window,
    allowed_statuses,
    can_view_action,
    comment_recipient,
    is_overdue,
    update_action,
)
from minutes.models import (
    ActionStatus,
    ActionUpdate,
    AgreedAction,
    NotDoneReason,
)
from secrecy.models import Record
from secrecy.records.api_models import AgencyRef, RecordOut, record_out
from secrecy.records.reveal import RevealResult, reveal_records

bp = ApiBlueprint(
    "api_actions",
    __name__,
    tag="Åtgärder",
    description=(
        "Överenskomna åtgärder: mina, min myndighets och ett forums, en åtgärd med dess "
        "uppföljning, och statusändring med kommentar."
    ),
)

# A status that has ended cannot be overdue: asking for both is a mistake, not an empty list.
ENDED_FILTERS = frozenset({StatusFilter.DONE, StatusFilter.NOT_DONE, StatusFilter.CANCELLED})
# The service's field names, as the body of PATCH /actions/{id} names them.
PATCH_FIELDS = {
    "basis": "share_basis",
    "recipient": "share_basis",
    "confirmations": "share_confirmations",
    "text": "comment",
}


# --- Models -------------------------------------------------------------------------------------


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


# --- Shared pieces ------------------------------------------------------------------------------


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


@contextmanager
def _patch_fields() -> Iterator[None]:
    """The service names the page's form fields; the API names the body's."""
    try:
        yield
    except ServiceError as exc:
        if exc.field not in PATCH_FIELDS:
            raise
        raise ServiceError(exc.message, field=PATCH_FIELDS[exc.field]) from exc


# --- Action lists -------------------------------------------------------------------------------


def _council_of(session: Session, query: ActionsQuery) -> Council | None:
    """The council the query names: 422 when the scope needs one or it does not exist, 403
    (logged) when the user is not a member."""
    if query.council_id is None:
        if query.scope is ListScope.COUNCIL:
            raise ApiError(
                422,
                errors=[FieldProblem("council_id", str(_l("Ange forum när scope är council.")))],
            )
        return None
    council = session.get(Council, query.council_id)
    if council is None:
        raise ApiError(422, errors=[FieldProblem("council_id", str(_l("Forumet finns inte.")))])
    if not can_view_council(api_user(), council):
        raise forbidden("council", council.id)
    return council


@bp.operation(
    "/actions",
    summary="Åtgärder: mina, min myndighets eller ett forums",
    query=ActionsQuery,
    response=Page[ActionOut],
)
def actions(query: ActionsQuery) -> Page[ActionOut]:
    """Samma listor och filter som sidorna Mina åtgärder, Min myndighets åtgärder och
    forumets åtgärder, bara i forum där du är medlem. Beskrivningar som inte har lämnats ut till
    din myndighet visas som undanhållna."""
    session = db_session()
    user = api_user()
    if query.due is DueFilter.OVERDUE and query.status in ENDED_FILTERS:
        raise ApiError(
            422,
            errors=[
                FieldProblem("due", str(_l("Bara öppna och pågående åtgärder kan vara försenade.")))
            ],
        )
    council = _council_of(session, query)
    scoped = council if query.scope is ListScope.COUNCIL else None
    offset, wanted = page_window(query)
    window = actions_window(
        session,
        user,
        query.scope,
        ListQuery(
            status=query.status,
            due=query.due,
            council_id=None if scoped else query.council_id,
            sort=query.sort,
        ),
        today_local(),
        scoped,
        offset=offset,
        limit=wanted,
        authors=True,
        last_updates=True,
    )
    revealed = {
        r.record.id: r
        for r in reveal_records(
            session, user, [row.description for row in window], purpose="action_list"
        )
    }
    return make_page(rows_out(user, window, revealed), query, offset)


# --- One action ---------------------------------------------------------------------------------


def _load_action(session: Session, action_id: int) -> AgreedAction:
    action = session.get(AgreedAction, action_id)
    if action is None:
        raise not_found()
    if not can_view_action(api_user(), action):
        raise forbidden("agreed_action", action_id)
    return action


def _action_detail(session: Session, viewer: User, action: AgreedAction) -> ActionDetailOut:
    """The action with its history, description and comments opened in one reveal."""
    history = action_history(session, action)
    record_ids = [action.description_record_id] + [
        u.comment_record_id for u in history if u.comment_record_id is not None
    ]
    records = {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(record_ids)))}
    revealed = {
        r.record.id: r
        for r in reveal_records(
            session, viewer, [records[i] for i in record_ids], purpose="agreed_action"
        )
    }
    authors = {
        u.id: u
        for u in session.scalars(select(User).where(User.id.in_({h.author_id for h in history})))
    }
    recipient = comment_recipient(viewer, action, records[action.description_record_id])
    fields = action_fields(
        action,
        revealed[action.description_record_id],
        viewer,
        today_local(),
        history[-1].created_at if history else None,
    )
    return ActionDetailOut.model_validate(
        {
            **fields,
            "meeting_starts_at": action.meeting.starts_at,
            "comment_recipient": (
                AgencyRef(id=recipient.id, name=recipient.name) if recipient else None
            ),
            "history": [
                ActionUpdateOut(
                    id=u.id,
                    from_status=u.from_status,
                    to_status=u.to_status,
                    author=PersonRef(id=u.author_id, name=authors[u.author_id].display_name),
                    author_agency=AgencyRef(
                        id=authors[u.author_id].agency.id, name=authors[u.author_id].agency.name
                    ),
                    created_at=u.created_at,
                    comment=(
                        record_out(revealed[u.comment_record_id])
                        if u.comment_record_id is not None
                        else None
                    ),
                )
                for u in history
            ],
        }
    )


@bp.operation(
    "/actions/<int:action_id>",
    summary="En åtgärd med uppföljning",
    response=ActionDetailOut,
)
def action(action_id: int) -> ActionDetailOut:
    """Åtgärden, dess status och uppföljningen (statusändringar med kommentarer). För
    forumets medlemmar; beskrivning och kommentarer visas bara för myndigheter som har fått
    dem utlämnade."""
    session = db_session()
    return _action_detail(session, api_user(), _load_action(session, action_id))


@bp.operation(
    "/actions/<int:action_id>",
    method="PATCH",
    scope=Scope.WRITE,
    summary="Uppdatera en åtgärds status",
    body=ActionPatch,
    response=ActionDetailOut,
    errors=(409,),
)
def update_action_status(action_id: int, body: ActionPatch) -> ActionDetailOut:
    """Ny status med kommentar, som på åtgärdens sida: den ansvariga myndighetens användare i
    forumet uppdaterar, forumets samordnare kan stryka. Avslutade åtgärder ändras inte. En
    version som inte längre gäller ger 409."""
    session = db_session()
    user = api_user()
    found = _load_action(session, action_id)
    allowed = allowed_statuses(user, found)
    if not allowed:
        raise forbidden("agreed_action", action_id)
    if body.version != found.version:
        raise ConflictError()
    if body.status not in allowed:
        raise ApiError(
            422,
            errors=[
                FieldProblem(
                    "status",
                    str(
                        _l(
                            "Ogiltigt värde. Tillåtna värden: %(values)s.",
                            values=", ".join(str(s) for s in allowed),
                        )
                    ),
                )
            ],
        )
    change = StatusChange(
        to_status=body.status,
        comment=body.comment,
        version=body.version,
        reason=body.reason,
        share_basis=body.share_basis or None,
        confirmed=tuple(body.share_confirmations),
    )
    with _patch_fields():
        update_action(session, user, found, change)
    return _action_detail(session, user, found)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
