"""The action lists ("Mina åtgärder", "Min myndighets åtgärder", a council's actions): one
statement per page, built once per shape, with the viewer, councils and dates as parameters.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from dataclasses import dataclass
from typing import Any, TypeVarTuple

from sqlalchemy import Integer, Select, bindparam, func, null, select
from sqlalchemy.orm import Session, aliased, joinedload, lazyload, load_only

from coordination.models import Agency, Child, Council, CouncilMembership, CouncilRole, User
from coordination.numbers import page_count
from minutes.models import OPEN_STATUSES, ActionStatus, ActionUpdate, AgreedAction, NotDoneReason
from secrecy.models import Record, RecordKey

PAGE_SIZE = 25


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
    # The viewer's agency's wrapped key to the description (version, key), None where it holds
    # none: loaded with the row for ``reveal_records(wrapped_keys=...)``, never opened here.
    description_key: tuple[int, bytes] | None = None


@dataclass(frozen=True)
class ActionPage:
    actions: list[ActionRow]
    total: int
    page: int
    pages: int


def description_keys(rows: list[ActionRow]) -> dict[int, tuple[int, bytes]]:
    """The viewer's agency's wrapped keys to the rows' descriptions, as ``reveal_records``
    takes them (``wrapped_keys``): every one it holds, loaded with the rows."""
    return {
        row.description.id: row.description_key for row in rows if row.description_key is not None
    }


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

    def page_of(number: int) -> tuple[list[ActionRow], int]:
        offset = (number - 1) * PAGE_SIZE
        return actions_window(
            session, viewer, scope, query, today, council, offset=offset, limit=PAGE_SIZE
        )

    page = max(1, query.page)
    rows, total = page_of(page)
    if not rows and page > 1:
        counted = _filtered(
            select(func.count(AgreedAction.id)).join(AgreedAction.child),
            scope,
            query.status,
            query.due,
            query.council_id is not None,
        )
        total = session.scalar(counted, _parameters(viewer, scope, query, today, council)) or 0
        page = page_count(total, PAGE_SIZE)
        if total:
            rows, total = page_of(page)
    return ActionPage(actions=rows, total=total, page=page, pages=page_count(total, PAGE_SIZE))


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
    responsible user, the viewer's membership, the description record and the viewer's
    agency's wrapped key to it, as columns and one ORM entity per row."""
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
            RecordKey.agency_key_version,
            RecordKey.wrapped_key,
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
        # The viewer's agency's key to the description, so the reveal need not look it up.
        .outerjoin(
            RecordKey,
            (RecordKey.record_id == Record.id) & (RecordKey.agency_id == bindparam("agency_id")),
        )
        # The reveal reads the record's child (its council and birth date) and owner agency
        # (joined by default): loaded here, not lazily per row. Nothing else of theirs.
        .options(joinedload(Record.child).lazyload(Child.council), author)
        .order_by(*order)
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
) -> tuple[list[ActionRow], int]:
    """``limit`` actions from ``offset`` in the list's order, in one statement, and the number
    of all matching actions (0 when the window is empty). The API asks for its own window;
    ``query.page`` is not used here. ``authors`` loads the descriptions' authors too,
    ``last_updates`` each action's latest follow-up time."""
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
                description_key=(
                    (row.agency_key_version, row.wrapped_key)
                    if row.agency_key_version is not None
                    else None
                ),
            )
        )
        total = row.total
    return rows, total
