"""Schedules: recurrence rules in Stockholm wall-clock time, Swedish holidays, and the meetings
materialised from them ahead of time; moving, cancelling and adding single meetings.

Services take ``(session, actor, ...)``, validate, change, flush and append their audit event in
the caller's transaction; they never commit. The modules, each importing only those above it:

- ``checks``: who may plan a council's meetings, and the checks on time and place;
- ``rules``: the presets, checking a recurrence rule, its local dates and their UTC times;
- ``swedish_holidays``: public holidays and eves, by date, with their Swedish names;
- ``invitations``: the council's active members and their invitations, in bulk;
- ``materialise``: each schedule's meetings created ahead of time and kept in line with its rule;
- ``schedule_changes``: creating and changing schedules;
- ``meeting_changes``: moving, cancelling and adding single meetings;
- ``queries``: reading meetings and schedules for the pages, and a meeting's path.
"""

from meetings.schedules.checks import (
    MAX_DURATION_MINUTES,
    MIN_DURATION_MINUTES,
    can_manage_schedules,
    check_video_link,
)
from meetings.schedules.materialise import (
    HORIZON_MONTHS,
    CouncilCounts,
    MaterialiseReport,
    materialise_meetings,
)
from meetings.schedules.meeting_changes import (
    MeetingTimeData,
    add_meeting,
    cancel_meeting,
    move_meeting,
)
from meetings.schedules.queries import (
    council_schedules,
    meeting_months,
    meeting_path,
    meetings_between,
    meetings_page,
    next_meetings,
    upcoming_holiday_meetings,
)
from meetings.schedules.rules import (
    WEEKDAY_CODES,
    Preset,
    RuleError,
    check_rule,
    local_span,
    normalise_rule,
    occurrence_dates,
    preset_of,
    preset_rule,
)
from meetings.schedules.schedule_changes import ScheduleData, create_schedule, update_schedule
from meetings.schedules.swedish_holidays import holiday_name, holidays_between, holidays_of_year

__all__ = [
    "HORIZON_MONTHS",
    "MAX_DURATION_MINUTES",
    "MIN_DURATION_MINUTES",
    "WEEKDAY_CODES",
    "CouncilCounts",
    "MaterialiseReport",
    "MeetingTimeData",
    "Preset",
    "RuleError",
    "ScheduleData",
    "add_meeting",
    "can_manage_schedules",
    "cancel_meeting",
    "check_rule",
    "check_video_link",
    "council_schedules",
    "create_schedule",
    "holiday_name",
    "holidays_between",
    "holidays_of_year",
    "local_span",
    "materialise_meetings",
    "meeting_months",
    "meeting_path",
    "meetings_between",
    "meetings_page",
    "move_meeting",
    "next_meetings",
    "normalise_rule",
    "occurrence_dates",
    "preset_of",
    "preset_rule",
    "upcoming_holiday_meetings",
    "update_schedule",
]
