"""Reading: a council's meetings and schedules for the lists, the month calendar and the council
panel, and the path of a meeting's page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from coordination.db import LOCAL_ZONE
from coordination.models import Council
from meetings.models import Meeting, MeetingStatus, Schedule


def meeting_path(meeting_id: int) -> str:
    """The meeting page (blueprint ``meetings``, built by its own module); ids only in paths."""
    return f"/meetings/{meeting_id}"


def _council_meetings(council: Council) -> Select[Any]:
    return (
        select(Meeting)
        .where(Meeting.council_id == council.id)
        .options(selectinload(Meeting.schedule))
    )


def meetings_page(
    session: Session, council: Council, *, now: dt.datetime, past: bool, page: int, size: int
) -> tuple[list[Meeting], int]:
    """Upcoming (soonest first) or past (latest first) meetings, one page, and the total."""
    query = _council_meetings(council)
    if past:
        query = query.where(Meeting.ends_at < now).order_by(
            Meeting.starts_at.desc(), Meeting.id.desc()
        )
    else:
        query = query.where(Meeting.ends_at >= now).order_by(Meeting.starts_at, Meeting.id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.limit(size).offset((page - 1) * size)).all()
    return list(rows), total


def meetings_between(
    session: Session, council: Council, first: dt.datetime, last: dt.datetime
) -> list[Meeting]:
    """Meetings starting in [first, last)."""
    query = _council_meetings(council).where(Meeting.starts_at >= first, Meeting.starts_at < last)
    return list(session.scalars(query.order_by(Meeting.starts_at, Meeting.id)))


def meeting_months(session: Session, council: Council) -> tuple[dt.date | None, dt.date | None]:
    """The first and last local month (as its first day) with a meeting of the council."""
    first, last = session.execute(
        select(func.min(Meeting.starts_at), func.max(Meeting.starts_at)).where(
            Meeting.council_id == council.id
        )
    ).one()

    def month_of(value: dt.datetime | None) -> dt.date | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite drops the offset in aggregates; stored as UTC
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(LOCAL_ZONE).date().replace(day=1)

    return month_of(first), month_of(last)


def next_meetings(
    session: Session, council: Council, *, now: dt.datetime, limit: int = 3
) -> list[Meeting]:
    query = _council_meetings(council).where(
        Meeting.ends_at >= now, Meeting.status != MeetingStatus.CANCELLED
    )
    return list(session.scalars(query.order_by(Meeting.starts_at, Meeting.id).limit(limit)))


def council_schedules(session: Session, council: Council) -> list[Schedule]:
    query = select(Schedule).where(Schedule.council_id == council.id)
    return list(session.scalars(query.order_by(Schedule.active.desc(), Schedule.name)))


def upcoming_holiday_meetings(
    session: Session, council: Council, *, now: dt.datetime
) -> list[Meeting]:
    """Planned meetings on a public holiday or eve, for the coordinator to move or cancel."""
    query = _council_meetings(council).where(
        Meeting.ends_at >= now,
        Meeting.status == MeetingStatus.PLANNED,
        Meeting.holiday.is_not(None),
    )
    return list(session.scalars(query.order_by(Meeting.starts_at, Meeting.id)))
