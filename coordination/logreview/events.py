"""The audit log as an auditor sees it: filtered, paged newest first, exported."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent, AuditEventObject, AuditTag, record_event
from coordination.db import LOCAL_ZONE
from coordination.logreview.scopes import AuditScope, require_reviewer, visible_to_agency
from coordination.models import Agency, Child, User, council_agencies

PAGE_SIZE = 50


def local_midnight(day: dt.date) -> dt.datetime:
    """The start of a Swedish calendar day, in UTC."""
    return dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_ZONE).astimezone(dt.UTC)


@dataclass(frozen=True)
class LogFilter:
    user_id: int | None = None
    child_id: int | None = None
    tag: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def as_details(self) -> dict[str, Any]:
        """The filters in an audit event's details (ids, tags and dates only)."""
        return {
            "user_id": self.user_id,
            "child_id": self.child_id,
            "tag": self.tag,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
        }


def _conditions(
    session: Session, actor: User, filters: LogFilter, scopes: Iterable[AuditScope]
) -> list[ColumnElement[bool]]:
    conditions = [visible_to_agency(session, actor.agency_id, scopes)]
    if filters.user_id is not None:
        conditions.append(AuditEvent.actor_user_id == filters.user_id)
    if filters.child_id is not None:
        conditions.append(
            AuditEvent.seq.in_(
                select(AuditEventObject.seq).where(
                    AuditEventObject.object_type == "child",
                    AuditEventObject.object_id == filters.child_id,
                )
            )
        )
    if filters.tag:
        conditions.append(AuditEvent.tag == filters.tag)
    if filters.date_from is not None:
        conditions.append(AuditEvent.occurred_at >= local_midnight(filters.date_from))
    if filters.date_to is not None:
        end = local_midnight(filters.date_to + dt.timedelta(days=1))
        conditions.append(AuditEvent.occurred_at < end)
    return conditions


@dataclass(frozen=True)
class UserName:
    name: str
    agency: str


def user_names(session: Session, user_ids: Iterable[int | None]) -> dict[int, UserName]:
    """Names of the users behind a list of events, in one query."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    rows = session.execute(
        select(User.id, User.display_name, Agency.name)
        .join(Agency, Agency.id == User.agency_id)
        .where(User.id.in_(ids))
    )
    return {user_id: UserName(name, agency) for user_id, name, agency in rows}


@dataclass(frozen=True)
class EventPage:
    events: Sequence[AuditEvent]
    users: dict[int, UserName]
    # Keyset cursors: pass as ``after=`` for newer events and ``before=`` for older ones.
    newer_than: int | None
    older_than: int | None


def _exists(session: Session, conditions: list[ColumnElement[bool]]) -> bool:
    return session.scalar(select(AuditEvent.seq).where(*conditions).limit(1)) is not None


def event_page(
    session: Session,
    actor: User,
    filters: LogFilter,
    scopes: Iterable[AuditScope],
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> EventPage:
    """One page of the visible, filtered log, newest first (keyset on the sequence number)."""
    require_reviewer(actor)
    conditions = _conditions(session, actor, filters, scopes)
    query = select(AuditEvent).where(*conditions)
    if after is not None:
        ascending = query.where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(size)
        events = list(reversed(session.scalars(ascending).all()))
    else:
        if before is not None:
            query = query.where(AuditEvent.seq < before)
        events = list(session.scalars(query.order_by(AuditEvent.seq.desc()).limit(size)))
    newer = older = None
    if events:
        if _exists(session, [*conditions, AuditEvent.seq > events[0].seq]):
            newer = events[0].seq
        if _exists(session, [*conditions, AuditEvent.seq < events[-1].seq]):
            older = events[-1].seq
    return EventPage(events, user_names(session, (e.actor_user_id for e in events)), newer, older)


def export_events(
    session: Session, actor: User, filters: LogFilter, scopes: Iterable[AuditScope]
) -> EventPage:
    """Every visible event matching the filters, newest first; the export itself is logged
    (after the query, so it is not part of what it exports)."""
    require_reviewer(actor)
    query = select(AuditEvent).where(*_conditions(session, actor, filters, scopes))
    events = list(session.scalars(query.order_by(AuditEvent.seq.desc())))
    record_event(
        session,
        actor,
        AuditTag.AUDIT_EXPORT,
        object_type="agency",
        object_ids=[actor.agency_id],
        details={**filters.as_details(), "rows": len(events)},
    )
    return EventPage(events, user_names(session, (e.actor_user_id for e in events)), None, None)


def agency_users(session: Session, actor: User) -> list[User]:
    """The users of the auditor's agency (the choices of the user filter)."""
    require_reviewer(actor)
    return list(
        session.scalars(
            select(User).where(User.agency_id == actor.agency_id).order_by(User.display_name)
        )
    )


def _in_agency_councils(agency_id: int) -> Any:
    """Children of councils the agency takes part in: the only ones its auditor may name."""
    return Child.council_id.in_(
        select(council_agencies.c.council_id).where(council_agencies.c.agency_id == agency_id)
    )


def child_by_pseudonym(session: Session, pseudonym: str, agency_id: int) -> Child | None:
    return session.scalars(
        select(Child).where(
            Child.pseudonym == pseudonym.strip().upper(), _in_agency_councils(agency_id)
        )
    ).one_or_none()


def child_for_filter(session: Session, child_id: int, agency_id: int) -> Child | None:
    return session.scalars(
        select(Child).where(Child.id == child_id, _in_agency_councils(agency_id))
    ).one_or_none()
