"""Follow-up of agreed actions: status changes with sealed comments, and the action lists.

An action's metadata (child, responsible agency, due date, status) is visible to every member of
the child's council; its description and the comments on it are sealed records read only through
``secrecy.records.reveal``. Users of the responsible agency update the actions their agency owns;
the council's coordinators may cancel. Ended actions (done, not done, cancelled) stay ended.

Services take ``(session, actor, ...)``, validate, change, flush and append their audit event in
the caller's transaction; they never commit.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVarTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, Select, bindparam, func, null, select
from sqlalchemy.orm import Session, aliased, joinedload, lazyload, load_only

from coordination.audit.log import record_event
from coordination.db import utcnow
from coordination.errors import ConflictError, PermissionDenied, ServiceError
from coordination.models import Agency, Child, Council, CouncilMembership, CouncilRole, User
from coordination.policy import can_view_council, membership_in
from meetings.models import Meeting
from minutes.models import OPEN_STATUSES, ActionStatus, ActionUpdate, AgreedAction, NotDoneReason
from minutes.tags import MinutesTag
from secrecy.disclosure.services import decide_disclosure
from secrecy.models import Record
from secrecy.records.services import create_record

ACTION_CATEGORY = "agreed_action"
PAGE_SIZE = 25
MAX_COMMENT = 5000

# Ended is ended: a wrongly closed action is followed up as a new action at the next meeting.
TRANSITIONS: dict[ActionStatus, frozenset[ActionStatus]] = {
    ActionStatus.OPEN: frozenset(
        {
            ActionStatus.IN_PROGRESS,
            ActionStatus.DONE,
            ActionStatus.NOT_DONE,
            ActionStatus.CANCELLED,
        }
    ),
    ActionStatus.IN_PROGRESS: frozenset(
        {ActionStatus.DONE, ActionStatus.NOT_DONE, ActionStatus.CANCELLED}
    ),
    ActionStatus.DONE: frozenset(),
    ActionStatus.NOT_DONE: frozenset(),
    ActionStatus.CANCELLED: frozenset(),
}


# --- Who may do what ----------------------------------------------------------------------------


def can_view_action(user: User, action: AgreedAction) -> bool:
    """Metadata: every member of the child's council."""
    return can_view_council(user, action.child.council)


def is_council_coordinator(user: User, council: Council) -> bool:
    membership = membership_in(user, council)
    return (
        user.is_active
        and membership is not None
        and membership.council_role is CouncilRole.COORDINATOR
    )


def can_update_action(user: User, action: AgreedAction) -> bool:
    """Members of the council who belong to the responsible agency."""
    return can_view_action(user, action) and user.agency_id == action.responsible_agency_id


def can_cancel_action(user: User, action: AgreedAction) -> bool:
    return is_council_coordinator(user, action.child.council)


def allowed_statuses(user: User, action: AgreedAction | ActionRow) -> list[ActionStatus]:
    """The statuses this user may move the action to now, in workflow order: members of the
    council who belong to the responsible agency update, the council's coordinators cancel."""
    if not user.is_active:
        return []
    if isinstance(action, ActionRow):
        role: CouncilRole | None = action.viewer_council_role  # the list was made for the user
    else:
        membership = membership_in(user, action.child.council)
        role = membership.council_role if membership is not None else None
    if role is None:
        return []
    may_update = user.agency_id == action.responsible_agency_id
    may_cancel = role is CouncilRole.COORDINATOR
    allowed = TRANSITIONS[action.status]
    return [
        status
        for status in ActionStatus
        if status in allowed and (may_cancel if status is ActionStatus.CANCELLED else may_update)
    ]


def comment_recipient(actor: User, action: AgreedAction, description: Record) -> Agency | None:
    """The agency a comment may be disclosed to: the agency that owns the description (the
    action's owner), or else the responsible agency; None when the actor's agency is both."""
    if description.owner_agency_id != actor.agency_id:
        return description.owner_agency
    if action.responsible_agency_id != actor.agency_id:
        return action.responsible_agency
    return None


# --- Follow-up ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusChange:
    to_status: ActionStatus
    comment: str
    version: int
    reason: NotDoneReason | None = None
    # The actor's own decision to disclose the comment, under a basis the engine must accept.
    share_basis: str | None = None
    confirmed: Sequence[int] = ()


def update_action(
    session: Session, actor: User, action: AgreedAction, change: StatusChange
) -> ActionUpdate:
    """Move the action to a new status with a sealed comment of the actor's agency."""
    if not can_view_action(actor, action):
        raise PermissionDenied()
    if change.version != action.version:
        raise ConflictError()
    if change.to_status is ActionStatus.CANCELLED:
        if not can_cancel_action(actor, action):
            raise PermissionDenied()
    elif not can_update_action(actor, action):
        raise PermissionDenied()
    if change.to_status not in TRANSITIONS[action.status]:
        raise ServiceError(_l("Åtgärden kan inte få den statusen nu."), field="status")
    if change.to_status is ActionStatus.NOT_DONE and change.reason is None:
        raise ServiceError(_l("Ange varför åtgärden inte blev utförd."), field="reason")
    text = change.comment.strip()
    if not text:
        raise ServiceError(_l("Skriv en kommentar."), field="comment")
    if len(text) > MAX_COMMENT:
        raise ServiceError(_l("Kommentaren är för lång (högst 5 000 tecken)."), field="comment")
    description = session.get_one(Record, action.description_record_id)
    comment = create_record(session, actor, action.child, ACTION_CATEGORY, text)
    shared_with: int | None = None
    if change.share_basis:
        recipient = comment_recipient(actor, action, description)
        if recipient is None:
            raise ServiceError(
                _l("Kommentaren behöver inte lämnas ut: din myndighet äger åtgärden."),
                field="share_basis",
            )
        disclosure = decide_disclosure(
            session, actor, comment, recipient, change.share_basis, change.confirmed
        )
        shared_with = disclosure.recipient_agency_id
    update = ActionUpdate(
        action_id=action.id,
        from_status=action.status,
        to_status=change.to_status,
        comment_record_id=comment.id,
        author_id=actor.id,
    )
    session.add(update)
    action.status = change.to_status
    action.not_done_reason = change.reason if change.to_status is ActionStatus.NOT_DONE else None
    action.closed_at = None if change.to_status in OPEN_STATUSES else utcnow()
    session.flush()
    record_event(
        session,
        actor,
        MinutesTag.ACTION_UPDATE,
        object_type="agreed_action",
        object_ids=[action.id],
        details={
            "child_id": action.child_id,
            "from": str(update.from_status),
            "to": str(update.to_status),
            "comment_record_id": comment.id,
            "shared_with_agency_id": shared_with,
        },
    )
    return update


# --- Lists --------------------------------------------------------------------------------------


class ListScope(enum.StrEnum):
    MINE = "mine"  # responsible user is the viewer
    AGENCY = "agency"  # responsible agency is the viewer's
    COUNCIL = "council"  # every action of one council


class StatusFilter(enum.StrEnum):
    ACTIVE = "active"  # open or in progress
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_DONE = "not_done"
    CANCELLED = "cancelled"
    ALL = "all"


class DueFilter(enum.StrEnum):
    ALL = "all"
    OVERDUE = "overdue"
    NEXT_7 = "7"
    NEXT_30 = "30"


class SortKey(enum.StrEnum):
    DUE = "due"
    STATUS = "status"
    COUNCIL = "council"


@dataclass(frozen=True)
class ListQuery:
    status: StatusFilter = StatusFilter.ACTIVE
    due: DueFilter = DueFilter.ALL
    council_id: int | None = None
    sort: SortKey = SortKey.DUE
    page: int = 1


@dataclass(frozen=True)
class ActionRow:
    """One line of an action list: the action's metadata as plain values, and its description
    record loaded with what ``reveal_records`` reads (the child and the owner agency)."""

    id: int
    child_id: int
    pseudonym: str
    council_id: int
    council_name: str
    meeting_id: int
    responsible_agency_id: int
    responsible_agency_name: str
    responsible_user_id: int | None
    responsible_user_name: str | None
    due_on: dt.date
    status: ActionStatus
    not_done_reason: NotDoneReason | None
    version: int
    created_at: dt.datetime
    description: Record
    # The role in the action's council of the viewer the list was made for.
    viewer_council_role: CouncilRole
    # When the action was last followed up (only when asked for: the API shows it).
    last_update: dt.datetime | None = None


@dataclass(frozen=True)
class ActionPage:
    actions: list[ActionRow]
    total: int
    page: int
    pages: int


def is_overdue(action: AgreedAction | ActionRow, today: dt.date) -> bool:
    return action.due_on < today and action.status in OPEN_STATUSES


Columns = TypeVarTuple("Columns")
# The responsible user in the list query. One alias for the worker: a new one per request costs
# about a millisecond the first time its columns are used.
RESPONSIBLE_USER = aliased(User, name="responsible")


def _filtered(
    stmt: Select[*Columns], scope: ListScope, status: StatusFilter, due: DueFilter, by_council: bool
) -> Select[*Columns]:
    """The list's conditions, with the viewer, the councils and the dates as bound parameters
    (see ``_parameters``): a statement of one shape serves every viewer and day."""
    # Only councils the viewer is a member of, whatever the scope: leaving a council ends sight
    # of its actions.
    member_of = select(CouncilMembership.council_id).where(
        CouncilMembership.user_id == bindparam("viewer_id")
    )
    stmt = stmt.where(Child.council_id.in_(member_of))
    if scope is ListScope.MINE:
        stmt = stmt.where(AgreedAction.responsible_user_id == bindparam("viewer_id"))
    elif scope is ListScope.AGENCY:
        stmt = stmt.where(AgreedAction.responsible_agency_id == bindparam("agency_id"))
    else:
        stmt = stmt.where(Child.council_id == bindparam("scope_council_id"))
    if by_council:
        stmt = stmt.where(Child.council_id == bindparam("council_id"))
    if status is StatusFilter.ACTIVE:
        stmt = stmt.where(AgreedAction.status.in_(OPEN_STATUSES))
    elif status is not StatusFilter.ALL:
        stmt = stmt.where(AgreedAction.status == ActionStatus(status.value))
    if due is DueFilter.OVERDUE:
        stmt = stmt.where(
            AgreedAction.due_on < bindparam("today"), AgreedAction.status.in_(OPEN_STATUSES)
        )
    elif due in (DueFilter.NEXT_7, DueFilter.NEXT_30):
        stmt = stmt.where(
            AgreedAction.due_on >= bindparam("today"),
            AgreedAction.due_on <= bindparam("due_until"),
        )
    return stmt


def _parameters(
    viewer: User, scope: ListScope, query: ListQuery, today: dt.date, council: Council | None
) -> dict[str, Any]:
    if scope is ListScope.COUNCIL and council is None:
        raise ValueError("the council scope needs a council")
    days = int(query.due.value) if query.due in (DueFilter.NEXT_7, DueFilter.NEXT_30) else 0
    return {
        "viewer_id": viewer.id,
        "agency_id": viewer.agency_id,
        "scope_council_id": council.id if council is not None else None,
        "council_id": query.council_id,
        "today": today,
        "due_until": today + dt.timedelta(days=days),
    }


def list_actions(
    session: Session,
    viewer: User,
    scope: ListScope,
    query: ListQuery,
    today: dt.date,
    council: Council | None = None,
) -> ActionPage:
    """One page of actions and the number of all that match, in one statement (a page past
    the end, from a hand-edited URL or a list that shrank, shows the last page instead)."""
    page = max(1, query.page)
    rows, total = _window(
        session,
        viewer,
        scope,
        query,
        today,
        council,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    if not rows and page > 1:
        counted = _filtered(
            select(func.count(AgreedAction.id)).join(AgreedAction.child),
            scope,
            query.status,
            query.due,
            query.council_id is not None,
        )
        total = session.scalar(counted, _parameters(viewer, scope, query, today, council)) or 0
        page = max(1, math.ceil(total / PAGE_SIZE))
        if total:
            rows, total = _window(
                session,
                viewer,
                scope,
                query,
                today,
                council,
                offset=(page - 1) * PAGE_SIZE,
                limit=PAGE_SIZE,
            )
    return ActionPage(
        actions=rows, total=total, page=page, pages=max(1, math.ceil(total / PAGE_SIZE))
    )


def actions_window(
    session: Session,
    viewer: User,
    scope: ListScope,
    query: ListQuery,
    today: dt.date,
    council: Council | None,
    *,
    offset: int,
    limit: int,
    authors: bool = False,
    last_updates: bool = False,
) -> list[ActionRow]:
    """``limit`` actions from ``offset`` in the list's order, in one statement (the API asks
    for its own window; ``query.page`` is not used here). ``authors`` loads the descriptions'
    authors too, ``last_updates`` each action's latest follow-up time."""
    rows, _total = _window(
        session,
        viewer,
        scope,
        query,
        today,
        council,
        offset=offset,
        limit=limit,
        authors=authors,
        last_updates=last_updates,
    )
    return rows


@functools.lru_cache(maxsize=64)
def _window_statement(
    scope: ListScope,
    status: StatusFilter,
    due: DueFilter,
    by_council: bool,
    sort: SortKey,
    authors: bool,
    last_updates: bool,
) -> Select[Record, *tuple[Any, ...]]:
    """The list statement of one shape, built once per worker (building it costs more than
    running it; it holds no data: viewer, councils, dates and window are parameters).

    The inner query filters, counts (a window function, before the LIMIT), orders and cuts
    the window as ids; only those rows are joined to their child, council, agency,
    responsible user, the viewer's membership and the description record, as columns and one
    ORM entity per row."""
    order = {
        SortKey.DUE: (AgreedAction.due_on, AgreedAction.id),
        SortKey.STATUS: (AgreedAction.status, AgreedAction.due_on, AgreedAction.id),
        SortKey.COUNCIL: (Council.name, AgreedAction.due_on, AgreedAction.id),
    }[sort]
    ids = select(AgreedAction.id, func.count().over().label("total")).join(AgreedAction.child)
    if sort is SortKey.COUNCIL:
        ids = ids.join(Child.council)
    window = (
        _filtered(ids, scope, status, due, by_council)
        .order_by(*order)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery("window")
    )
    responsible = RESPONSIBLE_USER
    last_update = (
        select(func.max(ActionUpdate.created_at))
        .where(ActionUpdate.action_id == AgreedAction.id)
        .correlate(AgreedAction)
        .scalar_subquery()
        if last_updates
        else null()
    )
    author = (
        joinedload(Record.author).options(
            load_only(User.id, User.display_name),
            lazyload(User.agency),
            lazyload(User.role_rows),
        )
        if authors
        else lazyload(Record.author)
    )
    return (
        select(
            Record,
            AgreedAction.id,
            AgreedAction.child_id,
            Child.pseudonym,
            Child.council_id,
            Council.name.label("council_name"),
            AgreedAction.meeting_id,
            AgreedAction.responsible_agency_id,
            Agency.name.label("agency_name"),
            AgreedAction.responsible_user_id,
            responsible.display_name.label("user_name"),
            AgreedAction.due_on,
            AgreedAction.status,
            AgreedAction.not_done_reason,
            AgreedAction.version,
            AgreedAction.created_at,
            CouncilMembership.council_role,
            last_update.label("last_update"),
            window.c.total,
        )
        .select_from(window)
        .join(AgreedAction, AgreedAction.id == window.c.id)
        .join(Child, Child.id == AgreedAction.child_id)
        .join(Council, Council.id == Child.council_id)
        .join(
            CouncilMembership,
            (CouncilMembership.council_id == Child.council_id)
            & (CouncilMembership.user_id == bindparam("viewer_id")),
        )
        .join(Agency, Agency.id == AgreedAction.responsible_agency_id)
        .outerjoin(responsible, responsible.id == AgreedAction.responsible_user_id)
        .join(Record, Record.id == AgreedAction.description_record_id)
        # The reveal reads the record's child (its council and birth date) and owner agency
        # (joined by default): loaded here, not lazily per row. Nothing else of theirs.
        .options(joinedload(Record.child).lazyload(Child.council), author)
        .order_by(*order)
    )


def _window(
    session: Session,
    viewer: User,
    scope: ListScope,
    query: ListQuery,
    today: dt.date,
    council: Council | None,
    *,
    offset: int,
    limit: int,
    authors: bool = False,
    last_updates: bool = False,
) -> tuple[list[ActionRow], int]:
    """The rows of one window and the number of all matching actions (0 when the window is
    empty)."""
    stmt = _window_statement(
        scope,
        query.status,
        query.due,
        query.council_id is not None,
        query.sort,
        authors,
        last_updates,
    )
    parameters = {
        **_parameters(viewer, scope, query, today, council),
        "offset": offset,
        "limit": limit,
    }
    rows: list[ActionRow] = []
    total = 0
    for row in session.execute(stmt, parameters):
        rows.append(
            ActionRow(
                id=row.id,
                child_id=row.child_id,
                pseudonym=row.pseudonym,
                council_id=row.council_id,
                council_name=row.council_name,
                meeting_id=row.meeting_id,
                responsible_agency_id=row.responsible_agency_id,
                responsible_agency_name=row.agency_name,
                responsible_user_id=row.responsible_user_id,
                responsible_user_name=row.user_name,
                due_on=row.due_on,
                status=row.status,
                not_done_reason=row.not_done_reason,
                version=row.version,
                created_at=row.created_at,
                description=row.Record,
                viewer_council_role=row.council_role,
                last_update=row.last_update,
            )
        )
        total = row.total
    return rows, total


def action_history(session: Session, action: AgreedAction) -> list[ActionUpdate]:
    return list(
        session.scalars(
            select(ActionUpdate)
            .where(ActionUpdate.action_id == action.id)
            .order_by(ActionUpdate.id)
        )
    )


# --- The agenda seam ----------------------------------------------------------------------------


# Built once: an alias made per call spent ~3 ms of every agenda and meeting page building
# its adapted attributes anew.
_AGREED_AT = aliased(Meeting, name="agreed_at")


def children_with_open_actions(session: Session, meeting: Meeting) -> list[int]:
    """Children of the meeting's council with open or in-progress actions agreed at an earlier
    meeting: they come back on this meeting's agenda by themselves."""
    agreed_at = _AGREED_AT
    return list(
        session.scalars(
            select(AgreedAction.child_id)
            .join(agreed_at, AgreedAction.meeting_id == agreed_at.id)
            .join(Child, AgreedAction.child_id == Child.id)
            .where(
                Child.council_id == meeting.council_id,
                agreed_at.council_id == meeting.council_id,
                agreed_at.starts_at < meeting.starts_at,
                AgreedAction.status.in_(OPEN_STATUSES),
            )
            .group_by(AgreedAction.child_id)
            .order_by(func.min(AgreedAction.due_on), AgreedAction.child_id)
        )
    )
