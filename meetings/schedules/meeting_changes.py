"""Single meetings: moving or cancelling one (it then leaves its schedule's rule), and adding an
extra meeting outside any schedule."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.db import LOCAL_ZONE
from coordination.errors import ConflictError, ServiceError
from coordination.models import Council, User
from meetings.agenda.contributors import add_contributed_items
from meetings.models import Meeting, MeetingStatus
from meetings.schedules.checks import check_duration, check_place, require_coordinator
from meetings.schedules.invitations import active_members, invite_members
from meetings.schedules.rules import local_span
from meetings.schedules.swedish_holidays import holiday_name
from meetings.tags import MeetingTag


@dataclass(frozen=True)
class MeetingTimeData:
    day: dt.date
    start_time: dt.time
    duration_minutes: int
    location: str | None = None
    video_link: str | None = None


def _check_meeting_time(
    data: MeetingTimeData, today: dt.date
) -> tuple[dt.datetime, dt.datetime, str | None, str | None]:
    if data.day < today:
        raise ServiceError(_l("Datumet har redan varit."), field="day")
    duration = check_duration(data.duration_minutes)
    location, video_link = check_place(data.location, data.video_link)
    start_time = data.start_time.replace(second=0, microsecond=0, tzinfo=None)
    starts_at, ends_at = local_span(data.day, start_time, duration)
    return starts_at, ends_at, location, video_link


def _require_changeable(meeting: Meeting, expected_version: int | None, today: dt.date) -> None:
    if expected_version != meeting.version:
        raise ConflictError()
    if meeting.status is not MeetingStatus.PLANNED:
        raise ServiceError(_l("Bara planerade möten kan flyttas eller ställas in."))
    if meeting.starts_at.astimezone(LOCAL_ZONE).date() < today:
        raise ServiceError(_l("Mötet har redan varit."))


def move_meeting(
    session: Session,
    actor: User,
    meeting: Meeting,
    data: MeetingTimeData,
    *,
    expected_version: int | None,
    today: dt.date,
) -> Meeting:
    """Move one meeting. It leaves its schedule's rule (detached), so the others and later
    runs of the schedule never touch it; its occurrence date stays its identity."""
    require_coordinator(actor, meeting.council)
    _require_changeable(meeting, expected_version, today)
    starts_at, ends_at, location, video_link = _check_meeting_time(data, today)
    meeting.starts_at, meeting.ends_at = starts_at, ends_at
    meeting.location, meeting.video_link = location, video_link
    meeting.holiday = holiday_name(data.day)
    return _detached_change(session, actor, meeting, MeetingTag.MEETING_MOVE)


def cancel_meeting(
    session: Session, actor: User, meeting: Meeting, *, expected_version: int | None, today: dt.date
) -> Meeting:
    """Cancel one meeting; it stays (cancelled) so calendars and members see that it is off."""
    require_coordinator(actor, meeting.council)
    _require_changeable(meeting, expected_version, today)
    meeting.status = MeetingStatus.CANCELLED
    return _detached_change(session, actor, meeting, MeetingTag.MEETING_CANCEL)


def _detached_change(session: Session, actor: User, meeting: Meeting, tag: MeetingTag) -> Meeting:
    """A changed meeting leaves its schedule's rule (later runs never touch it) and calendars
    see a new version of it (SEQUENCE)."""
    meeting.detached = True
    meeting.sequence += 1
    session.flush()
    details = {"council_id": meeting.council_id, "schedule_id": meeting.schedule_id}
    record_event(session, actor, tag, on=meeting, details=details)
    return meeting


def unscheduled_meeting(
    council: Council,
    day: dt.date,
    span: tuple[dt.datetime, dt.datetime],
    location: str | None,
    video_link: str | None,
) -> Meeting:
    """A planned meeting outside any schedule (an extra meeting, a network meeting) on the
    local ``day``, not yet added to the session."""
    starts_at, ends_at = span
    return Meeting(
        council=council,
        schedule_id=None,
        occurrence_on=None,
        starts_at=starts_at,
        ends_at=ends_at,
        status=MeetingStatus.PLANNED,
        location=location,
        video_link=video_link,
        holiday=holiday_name(day),
        detached=False,
        sequence=0,
    )


def add_meeting(
    session: Session, actor: User, council: Council, data: MeetingTimeData, *, today: dt.date
) -> Meeting:
    """An extra meeting outside any schedule; the council's members are invited, and the
    children the agenda contributors name (open agreed actions) put on its agenda."""
    require_coordinator(actor, council)
    if not council.active:
        raise ServiceError(_l("Forumet är inaktiverat."))
    starts_at, ends_at, location, video_link = _check_meeting_time(data, today)
    meeting = unscheduled_meeting(council, data.day, (starts_at, ends_at), location, video_link)
    session.add(meeting)
    session.flush()
    invited = invite_members(
        session, [meeting.id], active_members(session, [council.id])[council.id]
    )
    record_event(
        session,
        actor,
        MeetingTag.MEETING_CREATE,
        on=meeting,
        details={"council_id": council.id, "invited": invited},
    )
    add_contributed_items(session, meeting)
    return meeting
