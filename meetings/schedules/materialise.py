"""Materialising: each schedule's meetings created ahead of time (``HORIZON_MONTHS``), kept in
line with its rule and invited to, with the children the agenda contributors name (open agreed
actions) on the new meetings' agendas; run nightly and after every schedule change."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

from dateutil.relativedelta import relativedelta
from sqlalchemy import Table, delete, exists, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from coordination.audit.log import record_event
from coordination.db import utcnow
from coordination.models import Council, User
from meetings.agenda.contributors import add_contributed_items, registered_contributors
from meetings.models import (
    AgendaItem,
    Attendance,
    AttendanceStatus,
    CaseSyncEntry,
    Meeting,
    MeetingStatus,
    Schedule,
)
from meetings.schedules.invitations import active_members, invite_members
from meetings.schedules.rules import local_span, occurrence_dates
from meetings.schedules.swedish_holidays import holiday_name
from meetings.tags import MeetingTag

HORIZON_MONTHS = 6


@dataclass
class CouncilCounts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    # Future meetings the rule no longer gives but that were moved, cancelled, prepared or
    # marked: they stay, and the coordinator decides.
    kept: int = 0
    invited: int = 0
    failed_schedules: list[int] = field(default_factory=list)


@dataclass
class MaterialiseReport:
    first_day: dt.date
    last_day: dt.date
    councils: dict[int, CouncilCounts] = field(default_factory=dict)

    def _total(self, name: str) -> int:
        return sum(getattr(counts, name) for counts in self.councils.values())

    @property
    def created(self) -> int:
        return self._total("created")

    @property
    def updated(self) -> int:
        return self._total("updated")

    @property
    def deleted(self) -> int:
        return self._total("deleted")

    @property
    def kept(self) -> int:
        return self._total("kept")

    @property
    def invited(self) -> int:
        return self._total("invited")


def _has_agenda() -> Any:
    return exists().where(AgendaItem.meeting_id == Meeting.id)


def _has_marked_attendance() -> Any:
    return exists().where(
        Attendance.meeting_id == Meeting.id, Attendance.status != AttendanceStatus.INVITED
    )


def _has_case_sync() -> Any:
    return exists().where(CaseSyncEntry.meeting_id == Meeting.id)


def _has_attendance() -> Any:
    return exists().where(Attendance.meeting_id == Meeting.id)


@dataclass
class _Existing:
    meeting: Meeting
    touched: bool  # has an agenda, marked attendance or a case sync: never deleted
    invited: bool  # has any attendance row (a run that crashed before inviting has none)


def materialise_meetings(
    session: Session,
    *,
    today: dt.date,
    horizon_months: int = HORIZON_MONTHS,
    council: Council | None = None,
    actor: User | None = None,
) -> MaterialiseReport:
    """Create the meetings of every schedule from ``today`` through ``today + horizon``.

    Idempotent and safe to re-run at any point: meetings are keyed by (council, schedule,
    occurrence date) and inserted with ON CONFLICT DO NOTHING, so a second or concurrent run
    adds nothing twice, and a run that stopped half-way is completed by the next. Untouched
    future meetings (not detached, planned, no agenda, nobody marked) that the rule no longer
    gives are deleted, and those whose time or place changed are updated (SEQUENCE raised).
    Detached meetings and meetings with an agenda are never deleted. One audit event per
    council with the counts. ``council`` limits the run to one council (after a schedule edit).
    """
    last_day = today + relativedelta(months=horizon_months)
    report = MaterialiseReport(first_day=today, last_day=last_day)
    query = select(Schedule).options(selectinload(Schedule.council)).order_by(Schedule.id)
    if council is not None:
        query = query.where(Schedule.council_id == council.id)
        report.councils[council.id] = CouncilCounts()
    schedules = session.scalars(query).all()
    for schedule in schedules:
        report.councils.setdefault(schedule.council_id, CouncilCounts())
    if not report.councils:
        return report

    existing = _existing_meetings(session, [s.id for s in schedules], today)
    members = active_members(session, list(report.councils))
    created: list[int] = []
    for schedule in schedules:
        counts = report.councils[schedule.council_id]
        created += _materialise_schedule(
            session,
            schedule,
            existing.get(schedule.id, {}),
            members.get(schedule.council_id, []),
            today,
            last_day,
            counts,
        )
    _add_contributed_items(session, created)
    for council_id, counts in report.councils.items():
        record_event(
            session,
            actor,
            MeetingTag.MEETINGS_MATERIALISE,
            object_type="council",
            object_ids=[council_id],
            details={
                "from": today.isoformat(),
                "through": last_day.isoformat(),
                "created": counts.created,
                "updated": counts.updated,
                "deleted": counts.deleted,
                "kept": counts.kept,
                "invited": counts.invited,
                "failed_schedule_ids": counts.failed_schedules,
            },
        )
    return report


def _add_contributed_items(session: Session, meeting_ids: list[int]) -> None:
    """New meetings get the contributed children on their agendas now, not on a first view."""
    contributors = registered_contributors()
    if not contributors:
        return
    for meeting_id in meeting_ids:
        meeting = session.get(Meeting, meeting_id)
        if meeting is not None:
            add_contributed_items(session, meeting, contributors)


def _existing_meetings(
    session: Session, schedule_ids: list[int], today: dt.date
) -> dict[int, dict[dt.date, _Existing]]:
    """Every schedule's meetings from today on, in one query, with what marks them touched."""
    rows = session.execute(
        select(
            Meeting,
            _has_agenda().label("has_agenda"),
            _has_marked_attendance().label("has_marks"),
            _has_case_sync().label("has_case_sync"),
            _has_attendance().label("has_attendance"),
        ).where(Meeting.schedule_id.in_(schedule_ids), Meeting.occurrence_on >= today)
    ).all()
    found: dict[int, dict[dt.date, _Existing]] = defaultdict(dict)
    for meeting, has_agenda, has_marks, has_case_sync, has_attendance in rows:
        if meeting.schedule_id is None or meeting.occurrence_on is None:
            continue  # the query selects scheduled meetings only
        found[meeting.schedule_id][meeting.occurrence_on] = _Existing(
            meeting=meeting,
            touched=bool(has_agenda or has_marks or has_case_sync),
            invited=bool(has_attendance),
        )
    return found


def _materialise_schedule(
    session: Session,
    schedule: Schedule,
    existing: dict[dt.date, _Existing],
    members: list[int],
    today: dt.date,
    last_day: dt.date,
    counts: CouncilCounts,
) -> list[int]:
    """Bring one schedule's meetings in line; returns the ids of the meetings it created."""
    wanted: list[dt.date] = []
    if schedule.active and schedule.council.active:
        try:
            # Meetings an earlier run with a longer horizon created are judged by the rule
            # too, so they are neither deleted for lying beyond this horizon nor left stale.
            wanted = occurrence_dates(schedule, today, max([last_day, *existing]))
        except (ValueError, TypeError, OverflowError):
            # A stored rule that no longer parses must not stop the other councils' run;
            # its meetings are left as they are and the event names the schedule.
            counts.failed_schedules.append(schedule.id)
            return []
    wanted_set = set(wanted)
    to_delete: list[int] = []
    to_invite: list[int] = []
    for day, found in existing.items():
        meeting = found.meeting
        if meeting.detached:
            continue  # moved or cancelled by hand: the rule no longer governs it
        if day in wanted_set:
            if meeting.status is MeetingStatus.PLANNED and _follow_schedule(meeting, schedule, day):
                counts.updated += 1
            if not found.invited and meeting.status is MeetingStatus.PLANNED:
                to_invite.append(meeting.id)
        elif found.touched or meeting.status is not MeetingStatus.PLANNED:
            counts.kept += 1
        else:
            to_delete.append(meeting.id)
    if to_delete:
        deleted = _delete_untouched(session, to_delete)
        counts.deleted += deleted
        counts.kept += len(to_delete) - deleted
    new_days = [day for day in wanted if day <= last_day and day not in existing]
    created = _insert_meetings(session, schedule, new_days)
    counts.created += len(created)
    counts.invited += invite_members(session, [*to_invite, *created], members)
    return created


def _follow_schedule(meeting: Meeting, schedule: Schedule, day: dt.date) -> bool:
    """Bring an untouched meeting in line with its schedule; True if time or place changed."""
    starts_at, ends_at = local_span(day, schedule.start_time, schedule.duration_minutes)
    holiday = holiday_name(day)
    if meeting.holiday != holiday:
        meeting.holiday = holiday
    changed = (meeting.starts_at, meeting.ends_at, meeting.location, meeting.video_link) != (
        starts_at,
        ends_at,
        schedule.location,
        schedule.video_link,
    )
    if changed:
        meeting.starts_at, meeting.ends_at = starts_at, ends_at
        meeting.location, meeting.video_link = schedule.location, schedule.video_link
        meeting.sequence += 1
    return changed


def _delete_untouched(session: Session, meeting_ids: list[int]) -> int:
    """Delete the meetings (their invitations go with them by ON DELETE CASCADE). The
    conditions are checked again in the statement, so a meeting someone prepared a moment
    ago is never swept away."""
    deleted = session.scalars(
        delete(Meeting)
        .where(
            Meeting.id.in_(meeting_ids),
            Meeting.detached.is_(False),
            Meeting.status == MeetingStatus.PLANNED,
            ~_has_agenda(),
            ~_has_marked_attendance(),
            ~_has_case_sync(),
        )
        .returning(Meeting.id)
        .execution_options(synchronize_session="fetch")
    ).all()
    # Also delete what the ORM may still hold for them (SQLite without the FK pragma).
    if deleted:
        session.execute(
            delete(Attendance)
            .where(Attendance.meeting_id.in_(deleted))
            .execution_options(synchronize_session="fetch")
        )
    return len(deleted)


def _insert_meetings(session: Session, schedule: Schedule, days: list[dt.date]) -> list[int]:
    """Insert the meetings; a day another run inserted meanwhile is skipped, not an error."""
    if not days:
        return []
    now = utcnow()
    rows = []
    for day in days:
        starts_at, ends_at = local_span(day, schedule.start_time, schedule.duration_minutes)
        rows.append(
            {
                "council_id": schedule.council_id,
                "schedule_id": schedule.id,
                "occurrence_on": day,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "status": MeetingStatus.PLANNED,
                "location": schedule.location,
                "video_link": schedule.video_link,
                "detached": False,
                "holiday": holiday_name(day),
                "sequence": 0,
                "created_at": now,
                "version": 1,
            }
        )
    table = cast(Table, Meeting.__table__)
    dialect = session.get_bind().dialect.name
    statement: Any
    if dialect == "postgresql":
        statement = postgresql_insert(table).values(rows).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite_insert(table).values(rows).on_conflict_do_nothing()
    else:  # pragma: no cover - PostgreSQL in production, SQLite in development
        statement = insert(table).values(rows)
    return list(session.scalars(statement.returning(table.c.id)))
