"""Schedules: recurrence rules in Stockholm wall-clock time, Swedish holidays, and the meetings
materialised from them ahead of time; moving, cancelling and adding single meetings.

A schedule's rule (RFC 5545 RRULE body, python-dateutil) is evaluated on *local dates*; each
date is then combined with the local start time in Europe/Stockholm and converted to UTC. So a
09:00 meeting stays at 09:00 on the wall clock all year (08:00 UTC in winter, 07:00 UTC in
summer). A start time that does not exist on the day clocks go forward (02:00-03:00 on the
last Sunday of March) is read with the offset before the change, i.e. an hour later on the
wall clock; an ambiguous one (the last Sunday of October) is the first of the two.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

import holidays
from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule, rrulestr
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, Table, delete, exists, func, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from coordination.audit import record_event
from coordination.db import LOCAL_ZONE, utcnow
from coordination.models import Council, CouncilMembership, CouncilRole, User
from coordination.policy import membership_in
from coordination.services import ConflictError, PermissionDenied, ServiceError
from meetings.models import (
    AgendaItem,
    Attendance,
    AttendanceStatus,
    CaseSyncEntry,
    Meeting,
    MeetingStatus,
    Schedule,
)
from meetings.tags import MeetingTag

HORIZON_MONTHS = 6
MIN_DURATION_MINUTES = 5
MAX_DURATION_MINUTES = 12 * 60


def meeting_path(meeting_id: int) -> str:
    """The meeting page (blueprint ``meetings``, built by its own module); ids only in paths."""
    return f"/meetings/{meeting_id}"


# --- Who may plan -------------------------------------------------------------------------------


def can_manage_schedules(user: User | None, council: Council) -> bool:
    """The council's coordinators own its schedule and meetings. Administrators manage the
    structure (councils, members) but plan no meetings unless they are a coordinator too."""
    if user is None or not user.is_active:
        return False
    membership = membership_in(user, council)
    return membership is not None and membership.council_role is CouncilRole.COORDINATOR


def _require_coordinator(actor: User, council: Council) -> None:
    if not can_manage_schedules(actor, council):
        raise PermissionDenied()


# --- Recurrence rules ---------------------------------------------------------------------------

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class Preset(enum.StrEnum):
    SECOND_WEDNESDAY = "second_wednesday"
    FIRST_TUESDAY = "first_tuesday"
    EVERY_OTHER_WEEK = "every_other_week"
    CUSTOM = "custom"


def preset_rule(preset: Preset, starts_on: dt.date) -> str | None:
    """The RRULE of a preset; ``None`` for a custom rule."""
    if preset is Preset.SECOND_WEDNESDAY:
        return "FREQ=MONTHLY;BYDAY=+2WE"
    if preset is Preset.FIRST_TUESDAY:
        return "FREQ=MONTHLY;BYDAY=+1TU"
    if preset is Preset.EVERY_OTHER_WEEK:
        return f"FREQ=WEEKLY;INTERVAL=2;BYDAY={WEEKDAY_CODES[starts_on.weekday()]}"
    return None


def preset_of(rule: str, starts_on: dt.date) -> Preset:
    """Which preset a stored rule is (for the edit form), or custom."""
    for preset in Preset:
        if preset is not Preset.CUSTOM and preset_rule(preset, starts_on) == rule:
            return preset
    return Preset.CUSTOM


_ALLOWED_PARTS = frozenset(
    {"FREQ", "INTERVAL", "COUNT", "WKST", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS"}
    | {"BYWEEKNO", "BYYEARDAY"}
)
_TIME_PARTS = frozenset({"BYHOUR", "BYMINUTE", "BYSECOND", "DTSTART"})
# Meetings are at most daily: each occurrence is one local date at the schedule's start time.
_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_RULE_EXAMPLE = "FREQ=MONTHLY;BYDAY=+2WE"


class RuleError(ServiceError):
    def __init__(self, message: Any) -> None:
        super().__init__(message, field="rrule")


def normalise_rule(text: str) -> str:
    """The rule as stored: upper case, no spaces, no ``RRULE:`` prefix, FREQ first."""
    body = "".join(text.split()).upper()
    body = body.removeprefix("RRULE:").strip(";")
    if not body:
        raise RuleError(_l("Ange en upprepningsregel, till exempel %(e)s.", e=_RULE_EXAMPLE))
    parts: dict[str, str] = {}
    for part in body.split(";"):
        key, sep, value = part.partition("=")
        if not sep or not key or not value:
            raise RuleError(
                _l(
                    "Regeln kunde inte tolkas: skriv delarna som NAMN=VÄRDE med semikolon "
                    "emellan, till exempel %(e)s.",
                    e=_RULE_EXAMPLE,
                )
            )
        if key == "UNTIL":
            raise RuleError(_l("Ange slutdatum i fältet Sista datum i stället för UNTIL."))
        if key in _TIME_PARTS:
            raise RuleError(_l("Tiden anges i fälten för start- och sluttid, inte i regeln."))
        if key not in _ALLOWED_PARTS:
            raise RuleError(_l("Regeln innehåller %(part)s, som inte stöds.", part=key[:20]))
        if key in parts:
            raise RuleError(_l("%(part)s står mer än en gång i regeln.", part=key))
        parts[key] = value
    for key in ("INTERVAL", "COUNT"):
        # INTERVAL=0 would make dateutil repeat the first date for ever.
        if key in parts and not (parts[key].isdigit() and 1 <= int(parts[key]) <= 9999):
            raise RuleError(_l("%(part)s ska vara ett heltal från 1 till 9999.", part=key))
    for key in ("BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYSETPOS"):
        # RFC 5545 forbids 0 here; dateutil would silently drop it (monthly becomes daily).
        if key in parts and not all(
            value.lstrip("+-").isdigit() and int(value) != 0 for value in parts[key].split(",")
        ):
            raise RuleError(_l("Värdena i %(part)s ska vara heltal skilda från 0.", part=key))
    freq = parts.pop("FREQ", None)
    if freq is None:
        raise RuleError(_l("Regeln måste börja med FREQ, till exempel %(e)s.", e=_RULE_EXAMPLE))
    if freq not in _FREQUENCIES:
        raise RuleError(
            _l("FREQ ska vara DAILY, WEEKLY, MONTHLY eller YEARLY (högst ett möte per dag).")
        )
    return ";".join([f"FREQ={freq}", *(f"{key}={value}" for key, value in parts.items())])


def _build_rule(rule: str, starts_on: dt.date, start_time: dt.time) -> rrule:
    # Naive local wall time: the rule counts calendar days in Sweden, never UTC hours.
    built = rrulestr(rule, dtstart=dt.datetime.combine(starts_on, start_time))
    if not isinstance(built, rrule):  # a single RRULE body never parses to a set
        raise ValueError("not a single rule")
    return built


def check_rule(rule: str, starts_on: dt.date, start_time: dt.time) -> str:
    """Normalise and prove the rule: dateutil parses it and it yields dates at all.

    A rule that can never match (``BYMONTH=2;BYMONTHDAY=31``) makes dateutil search until year
    9999, which takes seconds. So the rule is tried once with its start moved a whole number
    of 400-year Gregorian cycles (same weekdays, same leap years) close to year 9999: a search
    of at most ~800 years that answers whether it ever matches.
    """
    normal = normalise_rule(rule)
    cycles = (dt.MAXYEAR - 400 - starts_on.year) // 400
    try:
        _build_rule(normal, starts_on, start_time)
        probe = _build_rule(
            normal, starts_on.replace(year=starts_on.year + 400 * cycles), start_time
        ).replace(count=None)
        first = next(iter(probe), None)
    except (ValueError, TypeError, OverflowError) as error:
        raise RuleError(
            _l(
                "Regeln kunde inte tolkas. Skriv en regel enligt RFC 5545, till exempel %(e)s.",
                e=_RULE_EXAMPLE,
            )
        ) from error
    if first is None:
        raise RuleError(
            _l("Regeln ger inga mötesdatum. Kontrollera till exempel att dagen finns i månaden.")
        )
    return normal


def occurrence_dates(schedule: Schedule, first: dt.date, last: dt.date) -> list[dt.date]:
    """The schedule's local dates from ``first`` to ``last`` (both included)."""
    first = max(first, schedule.starts_on)
    if schedule.ends_on is not None:
        last = min(last, schedule.ends_on)
    if first > last:
        return []
    rule = _build_rule(schedule.rrule, schedule.starts_on, schedule.start_time)
    window = (
        dt.datetime.combine(first, dt.time.min),  # local wall time
        dt.datetime.combine(last, dt.time.max),
    )
    return sorted({occurrence.date() for occurrence in rule.between(*window, inc=True)})


def local_span(day: dt.date, start_time: dt.time, minutes: int) -> tuple[dt.datetime, dt.datetime]:
    """Start and end in UTC of a meeting at ``start_time`` Stockholm time on ``day``."""
    starts_at = dt.datetime.combine(day, start_time, tzinfo=LOCAL_ZONE).astimezone(dt.UTC)
    return starts_at, starts_at + dt.timedelta(minutes=minutes)


# --- Swedish holidays and eves ------------------------------------------------------------------


def _eves(year: int) -> dict[dt.date, str]:
    """The eves Swedes take off although they are not public holidays. ``holidays`` lists them
    under its ``de_facto`` category; computed here too so an older package still flags them."""
    june19 = dt.date(year, 6, 19)
    midsummer_eve = june19 + dt.timedelta(days=(4 - june19.weekday()) % 7)  # Friday 19-25 June
    return {
        midsummer_eve: "Midsommarafton",
        dt.date(year, 12, 24): "Julafton",
        dt.date(year, 12, 31): "Nyårsafton",
    }


@functools.lru_cache(maxsize=32)
def holidays_of_year(year: int) -> dict[dt.date, str]:
    try:
        found = holidays.country_holidays(
            "SE", years=year, language="sv", categories=("public", "de_facto")
        )
    except ValueError:  # a version without the de_facto category: the eves are computed below
        found = holidays.country_holidays("SE", years=year, language="sv")
    names = {day: str(name)[:100] for day, name in found.items()}
    for day, name in _eves(year).items():
        names.setdefault(day, name)
    return names


def holiday_name(day: dt.date) -> str | None:
    """The public holiday or eve on ``day`` (Swedish name), or None."""
    return holidays_of_year(day.year).get(day)


def holidays_between(first: dt.date, last: dt.date) -> dict[dt.date, str]:
    found: dict[dt.date, str] = {}
    for year in range(first.year, last.year + 1):
        found.update(
            (day, name) for day, name in holidays_of_year(year).items() if first <= day <= last
        )
    return found


# --- Input checks -------------------------------------------------------------------------------


def check_video_link(link: str | None) -> str | None:
    link = (link or "").strip()
    if not link:
        return None
    parts = urlsplit(link)
    if (
        parts.scheme != "https"
        or not parts.hostname
        or parts.username is not None
        or any(char.isspace() for char in link)
        or len(link) > 500
    ):
        raise ServiceError(
            _l("Ange en fullständig videolänk som börjar med https://."), field="video_link"
        )
    return link


def _check_place(location: str | None, video_link: str | None) -> tuple[str | None, str | None]:
    place = (location or "").strip() or None
    if place is not None and len(place) > 300:
        raise ServiceError(_l("Platsen får vara högst 300 tecken."), field="location")
    link = check_video_link(video_link)
    if place is None and link is None:
        raise ServiceError(_l("Ange en plats, en videolänk eller båda."), field="location")
    return place, link


def _check_duration(minutes: int) -> int:
    # The form asks for an end time; the duration is the difference.
    if not MIN_DURATION_MINUTES <= minutes <= MAX_DURATION_MINUTES:
        raise ServiceError(
            _l("Mötet ska vara mellan 5 minuter och 12 timmar långt."), field="end_time"
        )
    return minutes


# --- Schedules ----------------------------------------------------------------------------------


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
    duration = _check_duration(data.duration_minutes)
    location, video_link = _check_place(data.location, data.video_link)
    schedule.name = name
    schedule.rrule = rule
    schedule.start_time = start_time
    schedule.duration_minutes = duration
    schedule.starts_on = data.starts_on
    schedule.ends_on = data.ends_on
    schedule.location = location
    schedule.video_link = video_link
    schedule.active = data.active


def create_schedule(
    session: Session, actor: User, council: Council, data: ScheduleData, *, today: dt.date
) -> tuple[Schedule, MaterialiseReport]:
    """Add a schedule and materialise the council's meetings at once."""
    _require_coordinator(actor, council)
    if not council.active:
        raise ServiceError(_l("Forumet är inaktiverat."))
    schedule = Schedule(council=council)
    _apply_schedule(schedule, data)
    session.add(schedule)
    session.flush()
    record_event(
        session,
        actor,
        MeetingTag.SCHEDULE_CREATE,
        object_type="schedule",
        object_ids=[schedule.id],
        details={"council_id": council.id, "rrule": schedule.rrule},
    )
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
    _require_coordinator(actor, schedule.council)
    if expected_version != schedule.version:
        raise ConflictError()
    _apply_schedule(schedule, data)
    session.flush()
    record_event(
        session,
        actor,
        MeetingTag.SCHEDULE_UPDATE,
        object_type="schedule",
        object_ids=[schedule.id],
        details={"council_id": schedule.council_id, "rrule": schedule.rrule},
    )
    return materialise_meetings(session, today=today, council=schedule.council, actor=actor)


# --- Materialising ------------------------------------------------------------------------------


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
    members = _active_members(session, list(report.councils))
    for schedule in schedules:
        counts = report.councils[schedule.council_id]
        _materialise_schedule(
            session,
            schedule,
            existing.get(schedule.id, {}),
            members.get(schedule.council_id, []),
            today,
            last_day,
            counts,
        )
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


def _active_members(session: Session, council_ids: list[int]) -> dict[int, list[int]]:
    """The user ids to invite, per council: one query for all councils."""
    rows = session.execute(
        select(CouncilMembership.council_id, CouncilMembership.user_id)
        .join(User, User.id == CouncilMembership.user_id)
        .where(CouncilMembership.council_id.in_(council_ids), User.active.is_(True))
        .order_by(CouncilMembership.user_id)
    ).all()
    members: dict[int, list[int]] = defaultdict(list)
    for council_id, user_id in rows:
        members[council_id].append(user_id)
    return members


def _materialise_schedule(
    session: Session,
    schedule: Schedule,
    existing: dict[dt.date, _Existing],
    members: list[int],
    today: dt.date,
    last_day: dt.date,
    counts: CouncilCounts,
) -> None:
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
            return
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
    counts.invited += _invite(session, [*to_invite, *created], members)


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


def _invite(session: Session, meeting_ids: list[int], members: list[int]) -> int:
    if not meeting_ids or not members:
        return 0
    rows = [
        {
            "meeting_id": meeting_id,
            "user_id": user_id,
            "status": AttendanceStatus.INVITED,
            "guest": False,
        }
        for meeting_id in meeting_ids
        for user_id in members
    ]
    session.execute(insert(cast(Table, Attendance.__table__)), rows)
    return len(rows)


# --- Single meetings ----------------------------------------------------------------------------


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
    duration = _check_duration(data.duration_minutes)
    location, video_link = _check_place(data.location, data.video_link)
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
    _require_coordinator(actor, meeting.council)
    _require_changeable(meeting, expected_version, today)
    starts_at, ends_at, location, video_link = _check_meeting_time(data, today)
    meeting.starts_at, meeting.ends_at = starts_at, ends_at
    meeting.location, meeting.video_link = location, video_link
    meeting.holiday = holiday_name(data.day)
    meeting.detached = True
    meeting.sequence += 1
    session.flush()
    record_event(
        session,
        actor,
        MeetingTag.MEETING_MOVE,
        object_type="meeting",
        object_ids=[meeting.id],
        details={"council_id": meeting.council_id, "schedule_id": meeting.schedule_id},
    )
    return meeting


def cancel_meeting(
    session: Session, actor: User, meeting: Meeting, *, expected_version: int | None, today: dt.date
) -> Meeting:
    """Cancel one meeting; it stays (cancelled) so calendars and members see that it is off."""
    _require_coordinator(actor, meeting.council)
    _require_changeable(meeting, expected_version, today)
    meeting.status = MeetingStatus.CANCELLED
    meeting.detached = True
    meeting.sequence += 1
    session.flush()
    record_event(
        session,
        actor,
        MeetingTag.MEETING_CANCEL,
        object_type="meeting",
        object_ids=[meeting.id],
        details={"council_id": meeting.council_id, "schedule_id": meeting.schedule_id},
    )
    return meeting


def add_meeting(
    session: Session, actor: User, council: Council, data: MeetingTimeData, *, today: dt.date
) -> Meeting:
    """An extra meeting outside any schedule; the council's members are invited."""
    _require_coordinator(actor, council)
    if not council.active:
        raise ServiceError(_l("Forumet är inaktiverat."))
    starts_at, ends_at, location, video_link = _check_meeting_time(data, today)
    meeting = Meeting(
        council=council,
        schedule_id=None,
        occurrence_on=None,
        starts_at=starts_at,
        ends_at=ends_at,
        status=MeetingStatus.PLANNED,
        location=location,
        video_link=video_link,
        holiday=holiday_name(data.day),
        detached=False,
        sequence=0,
    )
    session.add(meeting)
    session.flush()
    invited = _invite(session, [meeting.id], _active_members(session, [council.id])[council.id])
    record_event(
        session,
        actor,
        MeetingTag.MEETING_CREATE,
        object_type="meeting",
        object_ids=[meeting.id],
        details={"council_id": council.id, "invited": invited},
    )
    return meeting


# --- Reading ------------------------------------------------------------------------------------


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
