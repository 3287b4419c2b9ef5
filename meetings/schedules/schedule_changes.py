"""Creating and changing a council's schedules; each change materialises its meetings at once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.errors import ConflictError, ServiceError
from coordination.models import Council, User
from meetings.models import Schedule
from meetings.schedules.checks import check_duration, check_place, require_coordinator
from meetings.schedules.materialise import MaterialiseReport, materialise_meetings
from meetings.schedules.rules import check_rule
from meetings.tags import MeetingTag


@dataclass(frozen=True)
class ScheduleData:
    name: str
    rrule: str
    start_time: dt.time
    duration_minutes: int
    starts_on: dt.date
    ends_on: dt.date | None = None
    location: str | None = None
    video_link: str | None = None
    active: bool = True


def _apply_schedule(schedule: Schedule, data: ScheduleData) -> None:
    name = data.name.strip()
    if not name:
        raise ServiceError(_l("Ange ett namn."), field="name")
    if len(name) > 200:
        raise ServiceError(_l("Namnet får vara högst 200 tecken."), field="name")
    if data.ends_on is not None and data.ends_on < data.starts_on:
        raise ServiceError(_l("Sista datum kan inte vara före första datum."), field="ends_on")
    start_time = data.start_time.replace(second=0, microsecond=0, tzinfo=None)
    rule = check_rule(data.rrule, data.starts_on, start_time)
    duration = check_duration(data.duration_minutes)
    location, video_link = check_place(data.location, data.video_link)
    schedule.name = name
    schedule.rrule = rule
    schedule.start_time = start_time
    schedule.duration_minutes = duration
    schedule.starts_on = data.starts_on
    schedule.ends_on = data.ends_on
    schedule.location = location
    schedule.video_link = video_link
    schedule.active = data.active


def _record_schedule_event(
    session: Session, actor: User, tag: MeetingTag, schedule: Schedule
) -> None:
    """The audit event of a schedule written: its council and the rule it now has."""
    record_event(
        session,
        actor,
        tag,
        on=schedule,
        details={"council_id": schedule.council_id, "rrule": schedule.rrule},
    )


def create_schedule(
    session: Session, actor: User, council: Council, data: ScheduleData, *, today: dt.date
) -> tuple[Schedule, MaterialiseReport]:
    """Add a schedule and materialise the council's meetings at once."""
    require_coordinator(actor, council)
    if not council.active:
        raise ServiceError(_l("Forumet är inaktiverat."))
    schedule = Schedule(council=council)
    _apply_schedule(schedule, data)
    session.add(schedule)
    session.flush()
    _record_schedule_event(session, actor, MeetingTag.SCHEDULE_CREATE, schedule)
    report = materialise_meetings(session, today=today, council=council, actor=actor)
    return schedule, report


def update_schedule(
    session: Session,
    actor: User,
    schedule: Schedule,
    data: ScheduleData,
    *,
    expected_version: int | None,
    today: dt.date,
) -> MaterialiseReport:
    """Change a schedule and re-materialise: untouched future meetings follow the new rule;
    moved, cancelled and prepared meetings stay as they are."""
    require_coordinator(actor, schedule.council)
    if expected_version != schedule.version:
        raise ConflictError()
    _apply_schedule(schedule, data)
    session.flush()
    _record_schedule_event(session, actor, MeetingTag.SCHEDULE_UPDATE, schedule)
    return materialise_meetings(session, today=today, council=schedule.council, actor=actor)
