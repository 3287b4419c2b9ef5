"""Schedules: recurrence in Stockholm time across daylight saving, presets, Swedish holidays,
materialising (idempotent, crash-safe, six months ahead), moving and cancelling one meeting,
rule changes with and without agendas, and the pages members and coordinators use."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordination.audit.log import AuditEvent
from coordination.db import LOCAL_ZONE, today_local
from coordination.errors import ConflictError, PermissionDenied, ServiceError
from coordination.models import AgencyKind, CouncilRole
from meetings.models import (
    AgendaItem,
    Attendance,
    AttendanceStatus,
    Meeting,
    MeetingStatus,
    Schedule,
)
from meetings.schedules import materialise, swedish_holidays
from meetings.schedules import rules as rules_module
from meetings.schedules.checks import check_video_link
from meetings.schedules.materialise import MaterialiseReport, materialise_meetings
from meetings.schedules.meeting_changes import (
    MeetingTimeData,
    add_meeting,
    cancel_meeting,
    move_meeting,
)
from meetings.schedules.rules import (
    Preset,
    check_rule,
    local_span,
    occurrence_dates,
    preset_of,
    preset_rule,
)
from meetings.schedules.schedule_changes import ScheduleData, create_schedule, update_schedule
from meetings.schedules.swedish_holidays import holiday_name
from meetings.tags import MeetingTag
from secrecy.records.children import EnrolmentData, enrol_child
from tests.conftest import Council3, audit_events, log_in, sql_statements
from tests.crawling import ragged_tables
from tests.factories import AgencyFactory, MembershipFactory, UserFactory, make_meeting

NEW_YEAR = dt.date(2026, 1, 1)


def data(rule: str, **changes: Any) -> ScheduleData:
    values: dict[str, Any] = {
        "name": "Ordinarie",
        "rrule": rule,
        "start_time": dt.time(9, 0),
        "duration_minutes": 120,
        "starts_on": NEW_YEAR,
        "location": "Stadshuset, rum 3",
    }
    values.update(changes)
    return ScheduleData(**values)


def make_schedule(
    db: Session, world: Council3, rule: str, today: dt.date = NEW_YEAR, **changes: Any
) -> Schedule:
    schedule, _ = create_schedule(
        db, world.coordinator, world.council, data(rule, **changes), today=today
    )
    return schedule


def meetings_of(db: Session, schedule: Schedule) -> list[Meeting]:
    db.expire_all()
    return list(
        db.scalars(
            select(Meeting).where(Meeting.schedule_id == schedule.id).order_by(Meeting.starts_at)
        )
    )


def local(meeting: Meeting) -> dt.datetime:
    return meeting.starts_at.astimezone(LOCAL_ZONE)


def by_day(meetings: list[Meeting]) -> dict[dt.date, Meeting]:
    return {m.occurrence_on: m for m in meetings if m.occurrence_on is not None}


# --- Recurrence and daylight saving -------------------------------------------------------------


def test_weekly_sunday_keeps_the_local_hour_across_both_clock_changes(
    db: Session, world: Council3
) -> None:
    schedule = make_schedule(db, world, "FREQ=WEEKLY;BYDAY=SU", starts_on=dt.date(2026, 3, 1))
    materialise_meetings(db, today=dt.date(2026, 3, 1), horizon_months=8, council=world.council)
    days = by_day(meetings_of(db, schedule))
    # Winter (CET, UTC+1) before 2026-03-29, summer (CEST, UTC+2) from it, winter again from
    # 2026-10-25: the UTC hour moves, the wall-clock hour does not.
    expected_utc_hour = {
        dt.date(2026, 3, 22): 8,
        dt.date(2026, 3, 29): 7,
        dt.date(2026, 4, 5): 7,
        dt.date(2026, 10, 18): 7,
        dt.date(2026, 10, 25): 8,
        dt.date(2026, 11, 1): 8,
    }
    for day, hour in expected_utc_hour.items():
        meeting = days[day]
        assert meeting.starts_at.tzinfo is not None
        assert meeting.starts_at.astimezone(dt.UTC).hour == hour, day
        assert local(meeting).hour == 9 and local(meeting).date() == day
        assert meeting.ends_at - meeting.starts_at == dt.timedelta(hours=2)
    assert all(local(m).hour == 9 for m in days.values())
    assert {m.starts_at.astimezone(dt.UTC).hour for m in days.values()} == {7, 8}


def test_monthly_rule_straddling_the_changes_keeps_nine_local(db: Session, world: Council3) -> None:
    schedule = make_schedule(db, world, "FREQ=MONTHLY;BYDAY=+2WE")
    materialise_meetings(db, today=NEW_YEAR, horizon_months=12, council=world.council)
    days = by_day(meetings_of(db, schedule))
    assert sorted(days)[:4] == [
        dt.date(2026, 1, 14),
        dt.date(2026, 2, 11),
        dt.date(2026, 3, 11),
        dt.date(2026, 4, 8),
    ]
    utc_hours = {day: m.starts_at.astimezone(dt.UTC).hour for day, m in days.items()}
    assert utc_hours[dt.date(2026, 3, 11)] == 8  # before the last Sunday of March
    assert utc_hours[dt.date(2026, 4, 8)] == 7  # after it
    assert utc_hours[dt.date(2026, 10, 14)] == 7  # before the last Sunday of October
    assert utc_hours[dt.date(2026, 11, 11)] == 8  # after it
    assert {local(m).strftime("%H:%M") for m in days.values()} == {"09:00"}


def test_presets_are_the_documented_rules() -> None:
    wednesday = dt.date(2026, 1, 7)
    assert preset_rule(Preset.SECOND_WEDNESDAY, wednesday) == "FREQ=MONTHLY;BYDAY=+2WE"
    assert preset_rule(Preset.FIRST_TUESDAY, wednesday) == "FREQ=MONTHLY;BYDAY=+1TU"
    assert preset_rule(Preset.EVERY_OTHER_WEEK, wednesday) == "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"
    assert preset_rule(Preset.EVERY_OTHER_WEEK, dt.date(2026, 1, 9)).endswith("BYDAY=FR")
    assert preset_rule(Preset.CUSTOM, wednesday) is None
    assert preset_of("FREQ=MONTHLY;BYDAY=+1TU", wednesday) is Preset.FIRST_TUESDAY
    assert preset_of("FREQ=MONTHLY;BYDAY=-1TH", wednesday) is Preset.CUSTOM


def test_every_other_week_preset_skips_a_week(db: Session, world: Council3) -> None:
    thursday = dt.date(2026, 1, 8)
    rule = preset_rule(Preset.EVERY_OTHER_WEEK, thursday)
    assert rule is not None
    schedule = make_schedule(db, world, rule, starts_on=thursday)
    days = sorted(by_day(meetings_of(db, schedule)))
    assert days[:3] == [thursday, dt.date(2026, 1, 22), dt.date(2026, 2, 5)]
    assert all((b - a).days == 14 for a, b in itertools.pairwise(days))


def test_first_tuesday_preset(db: Session, world: Council3) -> None:
    schedule = make_schedule(db, world, "FREQ=MONTHLY;BYDAY=+1TU")
    days = sorted(by_day(meetings_of(db, schedule)))
    assert days[:3] == [dt.date(2026, 1, 6), dt.date(2026, 2, 3), dt.date(2026, 3, 3)]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=MONTHLY;BYDAY=XX", "Regeln kunde inte tolkas"),
        ("FREQ=SOMETIMES", "FREQ ska vara DAILY, WEEKLY, MONTHLY eller YEARLY"),
        ("FREQ=HOURLY", "FREQ ska vara DAILY, WEEKLY, MONTHLY eller YEARLY"),
        ("BYDAY=MO", "Regeln måste börja med FREQ"),
        ("FREQ=WEEKLY;UNTIL=20261231T000000Z", "Sista datum"),
        ("FREQ=WEEKLY;BYHOUR=10", "start- och sluttid"),
        ("FREQ=WEEKLY;FOO=1", "FOO, som inte stöds"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL ska vara ett heltal från 1 till 9999"),
        ("FREQ=WEEKLY;COUNT=-1", "COUNT ska vara ett heltal från 1 till 9999"),
        # Superscript digits pass str.isdigit but not int().
        ("FREQ=WEEKLY;INTERVAL=\N{SUPERSCRIPT TWO}", "INTERVAL ska vara ett heltal från 1"),
        ("FREQ=MONTHLY;BYMONTHDAY=+\N{SUPERSCRIPT TWO}", "BYMONTHDAY ska vara heltal skilda"),
        # One sign at most: str.lstrip("+-") let "--5" through to int(), which raised.
        ("FREQ=MONTHLY;BYMONTHDAY=--5", "BYMONTHDAY ska vara heltal skilda"),
        ("FREQ=MONTHLY;BYSETPOS=+-1", "BYSETPOS ska vara heltal skilda"),
        ("FREQ=WEEKLY;INTERVAL=1_0", "INTERVAL ska vara ett heltal från 1"),
        ("FREQ=MONTHLY;BYDAY=+6MO", "Regeln ger inga mötesdatum"),
        ("FREQ=MONTHLY;BYMONTHDAY=1,0", "BYMONTHDAY ska vara heltal skilda från 0"),
        ("FREQ=MONTHLY;BYSETPOS=X", "BYSETPOS ska vara heltal skilda från 0"),
        ("FREQ=WEEKLY;BYDAY", "NAMN=VÄRDE"),
        ("", "Ange en upprepningsregel"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "Regeln ger inga mötesdatum"),
    ],
)
def test_bad_rules_get_a_swedish_message(rule: str, message: str) -> None:
    with pytest.raises(ServiceError) as caught:
        check_rule(rule, NEW_YEAR, dt.time(9))
    assert message in str(caught.value.message)
    assert caught.value.field == "rrule"


def test_impossible_rule_is_refused_after_a_bounded_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # dateutil alone would search from 2026 to year 9999 (seconds for a daily rule). The search
    # is bounded by where the probe starts, not by a clock: at most 800 years before the end.
    built: list[rrule] = []

    def recording(rule: str, starts_on: dt.date, start_time: dt.time) -> rrule:
        made = build_rule(rule, starts_on, start_time)
        built.append(made)
        return made

    build_rule = rules_module._build_rule
    monkeypatch.setattr(rules_module, "_build_rule", recording)
    with pytest.raises(ServiceError, match="inga mötesdatum"):
        check_rule("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=31", NEW_YEAR, dt.time(9))
    probe_start = built[-1]._dtstart  # dateutil has no public accessor for the start
    assert dt.MAXYEAR - probe_start.year <= 800
    # The probe keeps weekdays and leap years: a whole number of 400-year cycles from the start.
    assert (probe_start.year - NEW_YEAR.year) % 400 == 0
    assert (probe_start.month, probe_start.day) == (NEW_YEAR.month, NEW_YEAR.day)


def test_rules_are_normalised() -> None:
    assert check_rule(" rrule:byday=+2we; freq=monthly ;", NEW_YEAR, dt.time(9)) == (
        "FREQ=MONTHLY;BYDAY=+2WE"
    )
    # A rare rule that does match (Monday 29 February, next in 2044) is accepted.
    assert check_rule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", NEW_YEAR, dt.time(9))


def test_schedule_end_date_and_count_limit_the_dates(db: Session, world: Council3) -> None:
    ending = make_schedule(db, world, "FREQ=WEEKLY;BYDAY=TH", ends_on=dt.date(2026, 1, 31))
    assert sorted(by_day(meetings_of(db, ending))) == [
        dt.date(2026, 1, d) for d in (1, 8, 15, 22, 29)
    ]
    counted = make_schedule(db, world, "FREQ=WEEKLY;BYDAY=FR;COUNT=3", name="Tre")
    assert len(meetings_of(db, counted)) == 3


# --- Holidays -----------------------------------------------------------------------------------


def test_swedish_holidays_and_eves_are_named() -> None:
    assert holiday_name(dt.date(2026, 12, 24)) == "Julafton"
    assert holiday_name(dt.date(2026, 12, 31)) == "Nyårsafton"
    assert holiday_name(dt.date(2026, 6, 19)) == "Midsommarafton"
    assert holiday_name(dt.date(2026, 6, 20)) == "Midsommardagen"
    assert holiday_name(dt.date(2026, 1, 6)) == "Trettondedag jul"
    assert holiday_name(dt.date(2026, 12, 23)) is None
    # The computed eves agree with the package (and stand in for an older one).
    for year in (2026, 2027, 2030):
        for day, name in swedish_holidays._eves(year).items():
            assert holiday_name(day) == name
            assert 19 <= day.day <= 25 or day.month == 12
    assert min(swedish_holidays._eves(2027)) == dt.date(2027, 6, 25)


def test_second_wednesday_never_lands_on_a_holiday_so_first_tuesday_shows_it(
    db: Session, world: Council3
) -> None:
    # Searched for a real example: the second Wednesday (8th-14th) is never a Swedish public
    # holiday or eve, so the monthly example uses the first Tuesday: 2026-01-06 is Epiphany.
    second_wednesdays = occurrence_dates(
        Schedule(
            rrule="FREQ=MONTHLY;BYDAY=+2WE",
            starts_on=NEW_YEAR,
            start_time=dt.time(9),
            ends_on=None,
        ),
        NEW_YEAR,
        dt.date(2045, 12, 31),
    )
    assert len(second_wednesdays) == 20 * 12
    assert not [day for day in second_wednesdays if holiday_name(day)]

    schedule = make_schedule(db, world, "FREQ=MONTHLY;BYDAY=+1TU")
    flagged = {m.occurrence_on: m.holiday for m in meetings_of(db, schedule) if m.holiday}
    assert flagged == {dt.date(2026, 1, 6): "Trettondedag jul"}


def test_weekly_thursday_flags_christmas_and_new_years_eve(db: Session, world: Council3) -> None:
    today = dt.date(2026, 11, 1)
    schedule = make_schedule(db, world, "FREQ=WEEKLY;BYDAY=TH", today=today, starts_on=today)
    flagged = {m.occurrence_on: m.holiday for m in meetings_of(db, schedule) if m.holiday}
    assert flagged[dt.date(2026, 12, 24)] == "Julafton"
    assert flagged[dt.date(2026, 12, 31)] == "Nyårsafton"
    assert set(flagged) == {dt.date(2026, 12, 24), dt.date(2026, 12, 31)}


def test_weekly_friday_flags_midsummer_eve(db: Session, world: Council3) -> None:
    today = dt.date(2026, 6, 1)
    schedule = make_schedule(db, world, "FREQ=WEEKLY;BYDAY=FR", today=today, starts_on=today)
    flagged = {m.occurrence_on: m.holiday for m in meetings_of(db, schedule) if m.holiday}
    assert flagged[dt.date(2026, 6, 19)] == "Midsommarafton"
    assert dt.date(2026, 6, 26) not in flagged


# --- Materialising ------------------------------------------------------------------------------


def test_materialise_is_idempotent(db: Session, world: Council3) -> None:
    schedule = make_schedule(db, world, "FREQ=WEEKLY;BYDAY=MO")
    first = [(m.id, m.occurrence_on, m.version, m.sequence) for m in meetings_of(db, schedule)]
    attendances = db.scalar(select(func.count()).select_from(Attendance))
    report = materialise_meetings(db, today=NEW_YEAR)
    again = materialise_meetings(db, today=NEW_YEAR, council=world.council)
    assert (report.created, report.updated, report.deleted) == (0, 0, 0)
    assert (again.created, again.updated, again.deleted) == (0, 0, 0)
    assert [
        (m.id, m.occurrence_on, m.version, m.sequence) for m in meetings_of(db, schedule)
    ] == first
    assert db.scalar(select(func.count()).select_from(Attendance)) == attendances
    assert len({day for _, day, _, _ in first}) == len(first)


def test_horizon_is_six_months(db: Session, world: Council3) -> None:
    schedule = make_schedule(db, world, "FREQ=WEEKLY;BYDAY=WE")
    days = sorted(by_day(meetings_of(db, schedule)))
    assert days[0] == dt.date(2026, 1, 7)
    assert days[-1] == dt.date(2026, 7, 1)  # today + six months, included
    assert len(days) == 26
    # A day later, the horizon moves with it.
    report = materialise_meetings(db, today=dt.date(2026, 1, 8), council=world.council)
    assert report.last_day == dt.date(2026, 7, 8)
    assert report.created == 1
    assert max(by_day(meetings_of(db, schedule))) == dt.date(2026, 7, 8)
    # A run with a longer horizon, then the usual one: nothing beyond six months is lost.
    assert materialise_meetings(db, today=dt.date(2026, 1, 8), horizon_months=9).created == 13
    usual = materialise_meetings(db, today=dt.date(2026, 1, 8))
    assert (usual.created, usual.deleted, usual.updated) == (0, 0, 0)
    assert max(by_day(meetings_of(db, schedule))) == dt.date(2026, 10, 7)


def test_new_meetings_invite_the_active_members(db: Session, world: Council3) -> None:
    gone = UserFactory(agency=world.agencies[AgencyKind.SCHOOL], active=False)
    MembershipFactory(council=world.council, user=gone)
    schedule = make_schedule(db, world, "FREQ=MONTHLY;BYDAY=+2WE")
    members = {m.id for m in world.members.values()} | {world.coordinator.id}
    for meeting in meetings_of(db, schedule):
        assert {a.user_id for a in meeting.attendances} == members
        assert {a.status for a in meeting.attendances} == {AttendanceStatus.INVITED}
        assert not any(a.guest for a in meeting.attendances)


def test_members_are_read_in_one_query(app: Flask, db: Session, world: Council3) -> None:
    for weekday in ("MO", "TU", "WE"):
        db.add(
            Schedule(
                council=world.council,
                name=weekday,
                rrule=f"FREQ=WEEKLY;BYDAY={weekday}",
                start_time=dt.time(9),
                duration_minutes=60,
                starts_on=NEW_YEAR,
                location="Rum 1",
            )
        )
    db.flush()
    with sql_statements(app) as statements:
        report = materialise_meetings(db, today=NEW_YEAR)
    assert report.created == 3 * 26
    member_reads = [s for s in statements if "FROM council_memberships" in s]
    assert len(member_reads) == 1
    # Fixed number of statements, whatever the number of meetings.
    assert len(statements) < 20


def test_one_audit_event_per_council_and_run(db: Session, world: Council3) -> None:
    make_schedule(db, world, "FREQ=MONTHLY;BYDAY=+2WE")
    other_council_coordinator = UserFactory(agency=world.agencies[AgencyKind.POLICE])
    from tests.factories import CouncilFactory

    other = CouncilFactory(agencies=[world.agencies[AgencyKind.POLICE]])
    MembershipFactory(
        council=other, user=other_council_coordinator, council_role=CouncilRole.COORDINATOR
    )
    db.flush()
    create_schedule(
        db, other_council_coordinator, other, data("FREQ=MONTHLY;BYDAY=+1TU"), today=NEW_YEAR
    )
    before = len(audit_events(db, MeetingTag.MEETINGS_MATERIALISE))
    report = materialise_meetings(db, today=dt.date(2026, 2, 1))
    after = audit_events(db, MeetingTag.MEETINGS_MATERIALISE)[before:]
    assert sorted(e.object_ids[0] for e in after) == sorted([world.council.id, other.id])
    assert all(e.object_type == "council" and e.actor_user_id is None for e in after)
    mine = next(e for e in after if e.object_ids == [world.council.id])
    assert mine.details["created"] == report.councils[world.council.id].created == 1
    assert mine.details["through"] == "2026-08-01"


def test_interrupted_run_is_completed_by_the_next(
    db: Session, world: Council3, monkeypatch: pytest.MonkeyPatch
) -> None:
    schedule = Schedule(
        council=world.council,
        name="Veckomöte",
        rrule="FREQ=WEEKLY;BYDAY=TU",
        start_time=dt.time(13),
        duration_minutes=90,
        starts_on=NEW_YEAR,
        video_link="https://video.example.se/rum",
    )
    db.add(schedule)
    db.flush()
    original_insert = materialise._insert_meetings

    def insert_some_then_crash(session: Session, s: Schedule, days: list[dt.date]) -> list[int]:
        original_insert(session, s, days[:5])
        raise RuntimeError("power cut")

    monkeypatch.setattr(materialise, "_insert_meetings", insert_some_then_crash)
    with pytest.raises(RuntimeError):
        materialise_meetings(db, today=NEW_YEAR)
    assert len(meetings_of(db, schedule)) == 5  # partly materialised, nobody invited yet

    def invite_then_crash(*args: Any) -> int:
        raise RuntimeError("power cut again")

    monkeypatch.setattr(materialise, "_insert_meetings", original_insert)
    monkeypatch.setattr(materialise, "invite_members", invite_then_crash)
    with pytest.raises(RuntimeError):
        materialise_meetings(db, today=NEW_YEAR)
    monkeypatch.undo()

    report = materialise_meetings(db, today=NEW_YEAR)
    meetings = meetings_of(db, schedule)
    assert len(meetings) == 26
    assert len({m.occurrence_on for m in meetings}) == 26
    assert report.created == 0  # the interrupted runs had inserted every meeting...
    assert report.invited == 26 * 8  # ...but invited no one: completed now
    assert all(len(m.attendances) == 8 for m in meetings)
    assert materialise_meetings(db, today=NEW_YEAR).invited == 0


# --- Moving, cancelling, changing the rule ------------------------------------------------------


def coordinator_updates(
    db: Session, world: Council3, schedule: Schedule, changed: ScheduleData, *, today: dt.date
) -> MaterialiseReport:
    """The coordinator's change of the schedule, at its current version."""
    return update_schedule(
        db, world.coordinator, schedule, changed, expected_version=schedule.version, today=today
    )


def snapshot(meetings: list[Meeting]) -> dict[int, tuple[Any, ...]]:
    return {
        m.id: (m.starts_at, m.ends_at, m.status, m.sequence, m.version, m.detached, m.location)
        for m in meetings
    }


def test_moving_one_occurrence_leaves_the_others(db: Session, world: Council3) -> None:
    schedule = make_schedule(db, world, "FREQ=WEEKLY;BYDAY=TH", starts_on=dt.date(2026, 12, 1))
    today = dt.date(2026, 12, 1)
    materialise_meetings(db, today=today, council=world.council)
    meetings = meetings_of(db, schedule)
    christmas = next(m for m in meetings if m.occurrence_on == dt.date(2026, 12, 24))
    assert christmas.holiday == "Julafton"
    before = snapshot([m for m in meetings if m.id != christmas.id])
    move_meeting(
        db,
        world.coordinator,
        christmas,
        MeetingTimeData(
            day=dt.date(2026, 12, 22),
            start_time=dt.time(10, 0),
            duration_minutes=90,
            location="Polishuset",
        ),
        expected_version=christmas.version,
        today=today,
    )
    moved = db.get(Meeting, christmas.id)
    assert moved is not None
    assert moved.detached and moved.sequence == 1
    assert moved.holiday is None
    assert local(moved) == dt.datetime(2026, 12, 22, 10, 0, tzinfo=LOCAL_ZONE)
    assert moved.occurrence_on == dt.date(2026, 12, 24)  # the identity stays
    # Re-running (and changing the schedule's place) never touches the moved one.
    coordinator_updates(
        db,
        world,
        schedule,
        data("FREQ=WEEKLY;BYDAY=TH", starts_on=dt.date(2026, 12, 1), location="Nytt rum"),
        today=today,
    )
    after = meetings_of(db, schedule)
    assert len(after) == len(meetings)
    moved = next(m for m in after if m.id == christmas.id)
    assert (moved.location, local(moved).hour, moved.sequence) == ("Polishuset", 10, 1)
    others = [m for m in after if m.id != christmas.id]
    assert {m.location for m in others} == {"Nytt rum"}
    assert all(m.sequence == before[m.id][3] + 1 for m in others)
    assert {e.object_ids[0] for e in audit_events(db, MeetingTag.MEETING_MOVE)} == {christmas.id}


def test_moving_leaves_other_meetings_exactly_as_they_were(db: Session, world: Council3) -> None:
    schedule = make_schedule(db, world, "FREQ=MONTHLY;BYDAY=+1TU")
    meetings = meetings_of(db, schedule)
    target = meetings[2]
    before = snapshot([m for m in meetings if m.id != target.id])
    with pytest.raises(ServiceError, match="plats, en videolänk"):
        move_meeting(
            db,
            world.coordinator,
            target,
            MeetingTimeData(day=dt.date(2026, 3, 5), start_time=dt.time(9), duration_minutes=60),
            expected_version=target.version,
            today=NEW_YEAR,
        )
    move_meeting(
        db,
        world.coordinator,
        target,
        MeetingTimeData(
            day=dt.date(2026, 3, 5),
            start_time=dt.time(9),
            duration_minutes=60,
            video_link="https://video.example.se/x",
        ),
        expected_version=target.version,
        today=NEW_YEAR,
    )
    materialise_meetings(db, today=NEW_YEAR)
    after = meetings_of(db, schedule)
    assert snapshot([m for m in after if m.id != target.id]) == before


def test_cancelling_one_occurrence(db: Session, world: Council3) -> None:
    schedule = make_schedule(db, world, "FREQ=MONTHLY;BYDAY=+1TU")
    meetings = meetings_of(db, schedule)
    epiphany = next(m for m in meetings if m.holiday)
    before = snapshot([m for m in meetings if m.id != epiphany.id])
    cancel_meeting(
        db, world.coordinator, epiphany, expected_version=epiphany.version, today=NEW_YEAR
    )
    report = materialise_meetings(db, today=NEW_YEAR)
    assert report.created == 0
    after = meetings_of(db, schedule)
    cancelled = next(m for m in after if m.id == epiphany.id)
    assert cancelled.status is MeetingStatus.CANCELLED
    assert cancelled.detached and cancelled.sequence == 1
    assert snapshot([m for m in after if m.id != epiphany.id]) == before
    assert len(after) == len(meetings)
    with pytest.raises(ServiceError, match="Bara planerade möten"):
        cancel_meeting(
            db, world.coordinator, cancelled, expected_version=cancelled.version, today=NEW_YEAR
        )
    assert len(audit_events(db, MeetingTag.MEETING_CANCEL)) == 1


def test_only_coordinators_plan(db: Session, world: Council3) -> None:
    member = world.members[AgencyKind.POLICE]
    with pytest.raises(PermissionDenied):
        create_schedule(db, member, world.council, data("FREQ=WEEKLY;BYDAY=MO"), today=NEW_YEAR)
    schedule = make_schedule(db, world, "FREQ=WEEKLY;BYDAY=MO")
    meeting = meetings_of(db, schedule)[0]
    with pytest.raises(PermissionDenied):
        cancel_meeting(db, member, meeting, expected_version=meeting.version, today=NEW_YEAR)


def test_stale_version_is_a_conflict(db: Session, world: Council3) -> None:
    schedule = make_schedule(db, world, "FREQ=WEEKLY;BYDAY=MO")
    with pytest.raises(ConflictError):
        update_schedule(
            db,
            world.coordinator,
            schedule,
            data("FREQ=WEEKLY;BYDAY=TU"),
            expected_version=schedule.version - 1,
            today=NEW_YEAR,
        )
    meeting = meetings_of(db, schedule)[0]
    with pytest.raises(ConflictError):
        cancel_meeting(
            db, world.coordinator, meeting, expected_version=meeting.version + 1, today=NEW_YEAR
        )


def test_changing_the_rule_without_agendas_replaces_future_meetings(
    db: Session, world: Council3
) -> None:
    schedule = make_schedule(db, world, "FREQ=MONTHLY;BYDAY=+2WE")
    old = meetings_of(db, schedule)
    later = dt.date(2026, 3, 1)
    # The January and February meetings are now in the past and stay.
    report = coordinator_updates(db, world, schedule, data("FREQ=MONTHLY;BYDAY=+1TU"), today=later)
    meetings = meetings_of(db, schedule)
    days = sorted(by_day(meetings))
    assert days[:2] == [dt.date(2026, 1, 14), dt.date(2026, 2, 11)]
    assert all(day.weekday() == 1 and day.day <= 7 for day in days[2:])
    assert report.deleted == 4  # March-June second Wednesdays
    # First Tuesdays March-August, and 1 September: the horizon's last day is included.
    assert report.created == 7
    assert days[-1] == dt.date(2026, 9, 1)
    old_days = {m.occurrence_on for m in old}
    assert old_days - set(days) == {
        dt.date(2026, m, d) for m, d in ((3, 11), (4, 8), (5, 13), (6, 10))
    }
    # Their invitations went with them: every remaining meeting has exactly its own eight.
    assert db.scalar(select(func.count()).select_from(Attendance)) == 8 * len(meetings)
    assert all(len(m.attendances) == 8 for m in meetings)


def test_changing_the_rule_keeps_meetings_with_an_agenda_or_marks(
    db: Session, world: Council3
) -> None:
    schedule = make_schedule(db, world, "FREQ=MONTHLY;BYDAY=+2WE")
    meetings = meetings_of(db, schedule)
    prepared, marked = meetings[1], meetings[2]
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    child = enrol_child(db, social, world.council, EnrolmentData("A", "B", "20121212-1212"))
    db.add(
        AgendaItem(
            meeting=prepared, child_id=child.id, position=1, reason_category="risk_protective"
        )
    )
    attendance = next(a for a in marked.attendances if a.user_id == social.id)
    attendance.status = AttendanceStatus.EXCUSED
    db.flush()
    report = coordinator_updates(
        db, world, schedule, data("FREQ=MONTHLY;BYDAY=+1TU"), today=NEW_YEAR
    )
    after = meetings_of(db, schedule)
    ids = {m.id for m in after}
    assert {prepared.id, marked.id} <= ids
    assert report.kept == 2
    assert report.deleted == len(meetings) - 2
    kept = next(m for m in after if m.id == prepared.id)
    assert kept.occurrence_on == dt.date(2026, 2, 11)
    assert [item.child_id for item in kept.agenda_items] == [child.id]
    assert len(after) == 2 + report.created


def test_changing_the_time_updates_untouched_meetings_and_raises_sequence(
    db: Session, world: Council3
) -> None:
    schedule = make_schedule(db, world, "FREQ=MONTHLY;BYDAY=+2WE")
    before = {m.id: m.sequence for m in meetings_of(db, schedule)}
    attendance_before = db.scalar(select(func.count()).select_from(Attendance))
    report = coordinator_updates(
        db,
        world,
        schedule,
        data("FREQ=MONTHLY;BYDAY=+2WE", start_time=dt.time(13, 30), duration_minutes=60),
        today=NEW_YEAR,
    )
    after = meetings_of(db, schedule)
    assert {m.id for m in after} == set(before)
    assert report.updated == len(before) and report.created == report.deleted == 0
    for m in after:
        assert (local(m).hour, local(m).minute) == (13, 30)
        assert m.ends_at - m.starts_at == dt.timedelta(hours=1)
        assert m.sequence == before[m.id] + 1
    assert db.scalar(select(func.count()).select_from(Attendance)) == attendance_before
    assert len(audit_events(db, MeetingTag.SCHEDULE_UPDATE)) == 1


def test_deactivating_a_schedule_removes_its_untouched_future_meetings(
    db: Session, world: Council3
) -> None:
    schedule = make_schedule(db, world, "FREQ=MONTHLY;BYDAY=+2WE")
    report = coordinator_updates(
        db,
        world,
        schedule,
        data("FREQ=MONTHLY;BYDAY=+2WE", active=False),
        today=dt.date(2026, 2, 1),
    )
    assert report.deleted == 5
    assert [m.occurrence_on for m in meetings_of(db, schedule)] == [dt.date(2026, 1, 14)]


def add_on_1_december(db: Session, world: Council3, day: dt.date, **fields: Any) -> Meeting:
    """The coordinator adds a 45-minute meeting of the council on 1 December 2026."""
    return add_meeting(
        db,
        world.coordinator,
        world.council,
        MeetingTimeData(day=day, duration_minutes=45, **fields),
        today=dt.date(2026, 12, 1),
    )


def test_ad_hoc_meeting_invites_members_and_flags_holidays(db: Session, world: Council3) -> None:
    meeting = add_on_1_december(
        db,
        world,
        dt.date(2026, 12, 24),
        start_time=dt.time(8, 30),
        video_link="https://video.example.se/extra",
    )
    assert meeting.schedule_id is None and meeting.occurrence_on is None
    assert meeting.holiday == "Julafton"
    assert local(meeting) == dt.datetime(2026, 12, 24, 8, 30, tzinfo=LOCAL_ZONE)
    assert len(meeting.attendances) == 8
    with pytest.raises(ServiceError, match="https://"):
        add_on_1_december(
            db,
            world,
            dt.date(2026, 12, 2),
            start_time=dt.time(8),
            video_link="http://video.example.se/extra",
        )
    with pytest.raises(ServiceError, match="redan varit"):
        add_on_1_december(db, world, dt.date(2026, 11, 30), start_time=dt.time(8), location="Rum")


@pytest.mark.parametrize(
    "link",
    ["http://x.se", "javascript:alert(1)", "https://", "https://user:pw@x.se", "https://x .se"],
)
def test_video_links_must_be_https(link: str) -> None:
    with pytest.raises(ServiceError) as caught:
        check_video_link(link)
    assert caught.value.field == "video_link"
    assert check_video_link(" https://meet.example.se/abc?pwd=1 ") == (
        "https://meet.example.se/abc?pwd=1"
    )


# --- Pages --------------------------------------------------------------------------------------


def page_form(**changes: str) -> dict[str, str]:
    form = {
        "name": "Ordinarie möten",
        "preset": "custom",
        "rrule": "FREQ=WEEKLY;BYDAY=MO,TH",
        "start_time": "09:00",
        "end_time": "11:00",
        "starts_on": today_local().isoformat(),
        "ends_on": "",
        "location": "Stadshuset",
        "video_link": "",
        "active": "y",
    }
    form.update(changes)
    return form


def coordinator_client(app: Flask, world: Council3) -> FlaskClient:
    return log_in(app.test_client(), world.coordinator)


def test_coordinator_creates_a_schedule_and_members_see_the_meetings(
    app: Flask, db: Session, world: Council3, client_for: Any
) -> None:
    coordinator = coordinator_client(app, world)
    assert coordinator.get(f"/councils/{world.council.id}/schedules/new").status_code == 200
    response = coordinator.post(
        f"/councils/{world.council.id}/schedules/new",
        data=page_form(preset="second_wednesday", rrule=""),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/councils/{world.council.id}/schedules"
    schedule = db.scalars(select(Schedule)).one()
    assert schedule.rrule == "FREQ=MONTHLY;BYDAY=+2WE"
    meetings = meetings_of(db, schedule)
    assert 5 <= len(meetings) <= 7
    listing = coordinator.get(f"/councils/{world.council.id}/schedules")
    assert "Andra onsdagen varje månad" in listing.text
    assert "Schemat är sparat" in listing.text

    police = client_for(AgencyKind.POLICE)
    page = police.get(f"/councils/{world.council.id}/meetings")
    assert page.status_code == 200
    first = meetings[0]
    assert f'href="/meetings/{first.id}"' in page.text
    assert "09:00–11:00" in page.text
    assert "Stadshuset" in page.text
    assert "Ställ in" not in page.text  # members see, coordinators change
    month = f"{local(first):%Y-%m}"
    calendar = police.get(f"/councils/{world.council.id}/meetings/calendar?month={month}")
    assert calendar.status_code == 200
    assert f'href="/meetings/{first.id}"' in calendar.text
    council_page = police.get(f"/councils/{world.council.id}")
    assert "Nästa möten" in council_page.text
    assert f'href="/meetings/{first.id}"' in council_page.text
    assert f'href="/councils/{world.council.id}/meetings"' in council_page.text


def add_raw_meeting(db: Session, world: Council3, day: dt.date, **changes: Any) -> Meeting:
    """An hour's meeting of ``world``'s council at 09:00 on ``day``, written as a row."""
    starts_at, ends_at = local_span(day, dt.time(9), 60)
    return make_meeting(db, world.council, starts_at, ends_at=ends_at, location="Rum", **changes)


def test_calendar_marks_holidays_and_links_months(
    app: Flask, db: Session, world: Council3, client_for: Any
) -> None:
    christmas = add_raw_meeting(db, world, dt.date(2026, 12, 24), holiday="Julafton")
    add_raw_meeting(db, world, dt.date(2026, 11, 10))
    add_raw_meeting(db, world, dt.date(2027, 2, 10), status=MeetingStatus.CANCELLED)
    school = client_for(AgencyKind.SCHOOL)
    url = f"/councils/{world.council.id}/meetings/calendar"
    page = school.get(f"{url}?month=2026-12")
    assert page.status_code == 200
    assert "december 2026" in page.text
    assert "Julafton" in page.text and "Nyårsafton" in page.text
    assert f'href="/meetings/{christmas.id}"' in page.text
    assert "?month=2026-11" in page.text and "?month=2027-01" in page.text
    assert "<table" in page.text and 'scope="col"' in page.text
    january = school.get(f"{url}?month=2027-01")
    assert "?month=2026-12" in january.text and "?month=2027-02" in january.text
    assert "Inställt" in school.get(f"{url}?month=2027-02").text
    for nonsense in (
        "nonsense",
        "9999-12",
        "0001-01",
        "2026-13",
        "1-2-3",
        "2026-\N{SUPERSCRIPT TWO}",
    ):
        assert school.get(f"{url}?month={nonsense}").status_code == 200, nonsense
    # Digits of other scripts are no month either: int() reads full-width "２１００" as 2100.
    assert "januari 2100" in school.get(f"{url}?month=2100-01").text
    wide = school.get(f"{url}?month=\N{FULLWIDTH DIGIT TWO}100-01")
    assert wide.status_code == 200 and "januari 2100" not in wide.text
    # The month links end: at the last month with a meeting or the planning horizon.
    this_month = today_local().replace(day=1)
    last = max(dt.date(2027, 2, 1), this_month + relativedelta(months=6))
    first = min(dt.date(2026, 11, 1), this_month)
    edge = school.get(f"{url}?month={last:%Y-%m}").text
    assert "Nästa månad" not in edge and "Föregående månad" in edge
    edge = school.get(f"{url}?month={first:%Y-%m}").text
    assert "Föregående månad" not in edge and "Nästa månad" in edge


def test_outsider_gets_403_everywhere(app: Flask, db: Session, world: Council3) -> None:
    schedule = make_schedule(
        db, world, "FREQ=WEEKLY;BYDAY=MO", today=today_local(), starts_on=today_local()
    )
    meeting = meetings_of(db, schedule)[0]
    outsider = UserFactory(agency=AgencyFactory(name="Annan kommun"))
    client = log_in(app.test_client(), outsider)
    cid = world.council.id
    for path in (
        f"/councils/{cid}/meetings",
        f"/councils/{cid}/meetings/calendar",
        f"/councils/{cid}/schedules",
        f"/councils/{cid}/schedules/new",
        f"/councils/{cid}/meetings/new",
        f"/schedules/{schedule.id}",
        f"/occurrences/{meeting.id}/move",
    ):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/occurrences/{meeting.id}/cancel", data={"version": "1"}).status_code == (
        403
    )
    denied = audit_events(db, "access:denied")
    assert len(denied) == 8
    assert {e.actor_user_id for e in denied} == {outsider.id}


def test_member_cannot_change_schedules(
    app: Flask, db: Session, world: Council3, client_for: Any
) -> None:
    schedule = make_schedule(
        db, world, "FREQ=WEEKLY;BYDAY=MO", today=today_local(), starts_on=today_local()
    )
    meeting = meetings_of(db, schedule)[0]
    member = client_for(AgencyKind.SOCIAL_SERVICES)
    cid = world.council.id
    assert member.get(f"/councils/{cid}/schedules").status_code == 403
    assert member.post(f"/councils/{cid}/schedules/new", data=page_form()).status_code == 403
    assert (
        member.post(
            f"/schedules/{schedule.id}",
            data=page_form(rrule="FREQ=WEEKLY;BYDAY=FR", version=str(schedule.version)),
        ).status_code
        == 403
    )
    assert member.post(f"/councils/{cid}/meetings/new", data={}).status_code == 403
    assert (
        member.post(f"/occurrences/{meeting.id}/cancel", data={"version": "1"}).status_code == 403
    )
    db.expire_all()
    assert db.get(Schedule, schedule.id).rrule == "FREQ=WEEKLY;BYDAY=MO"  # type: ignore[union-attr]
    assert db.get(Meeting, meeting.id).status is MeetingStatus.PLANNED  # type: ignore[union-attr]
    assert db.scalar(select(func.count()).select_from(Schedule)) == 1


def test_admin_who_is_not_a_coordinator_cannot_plan(
    db: Session, world: Council3, admin_client: FlaskClient
) -> None:
    assert admin_client.get(f"/councils/{world.council.id}/schedules").status_code == 403


def test_bad_rule_on_the_page_is_422_in_swedish_and_changes_nothing(
    app: Flask, db: Session, world: Council3
) -> None:
    coordinator = coordinator_client(app, world)
    cid = world.council.id
    events_before = db.scalar(select(func.count()).select_from(AuditEvent))
    response = coordinator.post(
        f"/councils/{cid}/schedules/new", data=page_form(rrule="FREQ=MONTHLY;BYDAY=2XY")
    )
    assert response.status_code == 422
    assert "Regeln kunde inte tolkas" in response.text
    assert 'id="rrule-error"' in response.text
    assert db.scalar(select(func.count()).select_from(Schedule)) == 0
    assert db.scalar(select(func.count()).select_from(Meeting)) == 0
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == events_before

    schedule = make_schedule(
        db, world, "FREQ=WEEKLY;BYDAY=MO", today=today_local(), starts_on=today_local()
    )
    count = len(meetings_of(db, schedule))
    edit = coordinator.post(
        f"/schedules/{schedule.id}",
        data=page_form(rrule="FREQ=WEEKLY;UNTIL=20270101", version=str(schedule.version)),
    )
    assert edit.status_code == 422
    assert "Ange slutdatum i fältet Sista datum" in edit.text
    db.expire_all()
    assert db.get(Schedule, schedule.id).rrule == "FREQ=WEEKLY;BYDAY=MO"  # type: ignore[union-attr]
    assert len(meetings_of(db, schedule)) == count
    for bad, message in (
        ({"end_time": "08:00"}, "Sluttiden måste vara efter starttiden"),
        ({"video_link": "http://insecure.example"}, "https://"),
        ({"location": "", "video_link": ""}, "plats, en videolänk"),
        ({"starts_on": "inte ett datum"}, ""),
    ):
        refused = coordinator.post(f"/councils/{cid}/schedules/new", data=page_form(**bad))
        assert refused.status_code == 422, bad
        assert message in refused.text
    assert db.scalar(select(func.count()).select_from(Schedule)) == 1


def test_stale_schedule_edit_shows_a_conflict(app: Flask, db: Session, world: Council3) -> None:
    schedule = make_schedule(
        db, world, "FREQ=WEEKLY;BYDAY=MO", today=today_local(), starts_on=today_local()
    )
    loaded = str(schedule.version)
    coordinator = coordinator_client(app, world)
    form = coordinator.get(f"/schedules/{schedule.id}")
    assert form.status_code == 200
    assert f'name="version" type="hidden" value="{loaded}"' in form.text
    assert "FREQ=WEEKLY;BYDAY=MO" in form.text
    first = coordinator.post(
        f"/schedules/{schedule.id}",
        data=page_form(rrule="FREQ=WEEKLY;BYDAY=TU", version=loaded),
    )
    assert first.status_code == 302
    second = coordinator.post(
        f"/schedules/{schedule.id}",
        data=page_form(rrule="FREQ=WEEKLY;BYDAY=WE", version=loaded),
    )
    assert second.status_code == 409
    assert "Någon annan har ändrat uppgifterna" in second.text
    db.expire_all()
    assert db.get(Schedule, schedule.id).rrule == "FREQ=WEEKLY;BYDAY=TU"  # type: ignore[union-attr]
    assert len(audit_events(db, MeetingTag.SCHEDULE_UPDATE)) == 1


def test_coordinator_moves_and_cancels_through_the_pages(
    app: Flask, db: Session, world: Council3
) -> None:
    today = today_local()
    schedule = make_schedule(db, world, "FREQ=WEEKLY;BYDAY=MO", today=today, starts_on=today)
    meetings = meetings_of(db, schedule)
    target, victim = meetings[1], meetings[2]
    untouched = snapshot(meetings[3:])
    coordinator = coordinator_client(app, world)
    form = coordinator.get(f"/occurrences/{target.id}/move")
    assert form.status_code == 200
    new_day = target.occurrence_on + dt.timedelta(days=1)  # type: ignore[operator]

    def move(start_time: str, end_time: str, **more: str) -> TestResponse:
        return coordinator.post(
            f"/occurrences/{target.id}/move",
            data={
                "day": new_day.isoformat(),
                "start_time": start_time,
                "end_time": end_time,
                "location": "Skolan",
                **more,
                "version": str(target.version),
            },
        )

    moved = move("14:00", "15:30", video_link="")
    assert moved.status_code == 302
    stale = move("15:00", "16:00")
    assert stale.status_code == 409
    assert "Någon annan har ändrat uppgifterna" in stale.text
    cancelled = coordinator.post(
        f"/occurrences/{victim.id}/cancel", data={"version": str(victim.version)}
    )
    assert cancelled.status_code == 302
    db.expire_all()
    target_after = db.get(Meeting, target.id)
    victim_after = db.get(Meeting, victim.id)
    assert target_after is not None and victim_after is not None
    assert local(target_after) == dt.datetime.combine(new_day, dt.time(14), tzinfo=LOCAL_ZONE)
    assert target_after.detached and target_after.sequence == 1
    assert victim_after.status is MeetingStatus.CANCELLED and victim_after.detached
    assert snapshot(meetings_of(db, schedule)[3:]) == untouched
    listing = coordinator.get(f"/councils/{world.council.id}/meetings")
    assert "Inställt" in listing.text and "Flyttat" in listing.text


def test_ad_hoc_meeting_page(app: Flask, db: Session, world: Council3) -> None:
    coordinator = coordinator_client(app, world)
    cid = world.council.id
    assert coordinator.get(f"/councils/{cid}/meetings/new").status_code == 200
    day = today_local() + dt.timedelta(days=3)
    url = f"/councils/{cid}/meetings/new"
    ten_to_eleven = {"day": day.isoformat(), "start_time": "10:00", "end_time": "11:00"}
    response = coordinator.post(
        url,
        data={**ten_to_eleven, "location": "", "video_link": "https://video.example.se/extra"},
    )
    assert response.status_code == 302
    meeting = db.scalars(select(Meeting)).one()
    assert meeting.schedule_id is None
    assert local(meeting) == dt.datetime.combine(day, dt.time(10), tzinfo=LOCAL_ZONE)
    refused = coordinator.post(url, data={**ten_to_eleven, "video_link": "ftp://x"})
    assert refused.status_code == 422
    assert db.scalar(select(func.count()).select_from(Meeting)) == 1


def test_lists_paginate_without_a_query_per_row(
    app: Flask, db: Session, world: Council3, client_for: Any
) -> None:
    today = today_local()
    # From tomorrow: a meeting at 09:00 today would be past (and off the list) after 09:00.
    tomorrow = today + dt.timedelta(days=1)
    make_schedule(db, world, "FREQ=DAILY", today=today, starts_on=tomorrow)
    police = client_for(AgencyKind.POLICE)
    url = f"/councils/{world.council.id}/meetings"
    with sql_statements(app) as full_page:
        first = police.get(url)
    assert first.status_code == 200
    assert "Sida 1 av" in first.text and "page=2" in first.text
    assert first.text.count('href="/meetings/') == 25
    # A page with a single row costs the same number of statements as one with 25.
    db.execute(
        Meeting.__table__.delete().where(  # type: ignore[attr-defined]
            Meeting.id.not_in(select(Meeting.id).order_by(Meeting.starts_at).limit(1))
        )
    )
    with sql_statements(app) as one_row:
        single = police.get(url)
    assert single.text.count('href="/meetings/') == 1
    assert len(one_row) == len(full_page)
    past = police.get(f"{url}?when=past")
    assert "Inga tidigare möten." in past.text
    assert ragged_tables(past.text) == []  # the sentence spans the past list's four columns


@time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, tzinfo=LOCAL_ZONE), tick=False)
def test_pages_show_no_children(app: Flask, db: Session, world: Council3, client_for: Any) -> None:
    # A Sunday: the weekly Monday meeting is ahead whatever the hour the test runs at.
    today = today_local()
    schedule = make_schedule(db, world, "FREQ=WEEKLY;BYDAY=MO", today=today, starts_on=today)
    meeting = meetings_of(db, schedule)[0]
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    child = enrol_child(
        db, social, world.council, EnrolmentData("Sekretessa", "Hemligsson", "20121212-1212")
    )
    db.add(AgendaItem(meeting=meeting, child_id=child.id, position=1, reason_category="family"))
    db.flush()
    police = client_for(AgencyKind.POLICE)
    month = f"{local(meeting):%Y-%m}"
    for path in (
        f"/councils/{world.council.id}/meetings",
        f"/councils/{world.council.id}/meetings/calendar?month={month}",
        f"/councils/{world.council.id}",
    ):
        page = police.get(path)
        assert page.status_code == 200
        assert f'href="/meetings/{meeting.id}"' in page.text
        for secret in ("Sekretessa", "Hemligsson", "20121212", child.pseudonym):
            assert secret not in page.text, (path, secret)


@pytest.mark.csrf
def test_forms_need_the_csrf_token(app: Flask, db: Session, world: Council3) -> None:
    coordinator = coordinator_client(app, world)
    response = coordinator.post(f"/councils/{world.council.id}/schedules/new", data=page_form())
    assert response.status_code == 400
    assert db.scalar(select(func.count()).select_from(Schedule)) == 0
