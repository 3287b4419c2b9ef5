"""Calendar files and the secret feed: valid RFC 5545, stable UIDs, Swedish time zone with its
summer-time rules, nothing about children, and a token that only its hash remembers."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import icalendar
import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.db import LOCAL_ZONE
from coordination.models import AgencyKind
from meetings.agenda.items import add_agenda_item
from meetings.calendar.services import stockholm_timezone
from meetings.models import Attendance, CalendarFeedToken, MeetingStatus
from tests.conftest import Council3, csrf_token_from, log_in
from tests.factories import CouncilFactory, MembershipFactory, UserFactory, enrol, make_meeting

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
WINTER_START = dt.datetime(2026, 3, 11, 8, 0, tzinfo=dt.UTC)  # 09:00 CET
SUMMER_START = dt.datetime(2026, 6, 10, 7, 30, tzinfo=dt.UTC)  # 09:30 CEST
FEED_URL = re.compile(r"/calendar/([A-Za-z0-9_-]{20,})\.ics")


def parse(body: bytes) -> icalendar.Calendar:
    calendar = icalendar.Calendar.from_ical(body)
    assert isinstance(calendar, icalendar.Calendar)
    return calendar


def events(calendar: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


@time_machine.travel(NOW, tick=False)
def test_meeting_ics_is_valid_rfc5545_with_the_stockholm_time_zone(
    app: Flask, world: Council3, client_for, db: Session
) -> None:
    meeting = make_meeting(
        db,
        world.council,
        SUMMER_START,
        location="Stadshuset, rum 3",
        video_link="https://video.example/abc",
        sequence=3,
    )
    client = client_for(AgencyKind.POLICE)
    first = client.get(f"/meetings/{meeting.id}/meeting.ics")
    assert first.status_code == 200
    assert first.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in first.headers["Content-Disposition"]
    assert b"\r\n" in first.data  # RFC 5545 line endings

    calendar = parse(first.data)
    assert calendar["VERSION"] == "2.0"
    assert str(calendar["PRODID"]) == "-//Samverkan//Möten//SV"

    (timezone,) = calendar.walk("VTIMEZONE")
    assert timezone["TZID"] == "Europe/Stockholm"
    (summer,) = timezone.walk("DAYLIGHT")
    (winter,) = timezone.walk("STANDARD")
    assert summer["RRULE"]["BYMONTH"] == [3] and summer["RRULE"]["BYDAY"] == ["-1SU"]
    assert winter["RRULE"]["BYMONTH"] == [10] and winter["RRULE"]["BYDAY"] == ["-1SU"]
    assert summer["TZOFFSETTO"].td == dt.timedelta(hours=2)
    assert winter["TZOFFSETTO"].td == dt.timedelta(hours=1)

    (event,) = calendar.walk("VEVENT")
    assert event["UID"] == f"meeting-{meeting.id}@samverkan"
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert event["DTEND"].params["TZID"] == "Europe/Stockholm"
    assert "DTSTART;TZID=Europe/Stockholm:20260610T093000" in first.text
    assert event.decoded("DTSTART") == SUMMER_START  # same instant
    assert event.decoded("DTEND") == SUMMER_START + dt.timedelta(hours=2)
    assert event["SEQUENCE"] == 3
    assert event["STATUS"] == "CONFIRMED"
    assert "DTSTAMP" in event
    assert str(event["SUMMARY"]) == "Testrådet – möte"
    assert str(event["LOCATION"]) == "Stadshuset, rum 3"
    assert "https://video.example/abc" in str(event["DESCRIPTION"])
    assert str(event["URL"]).endswith(f"/meetings/{meeting.id}")

    # The UID is stable across renders, so calendars update the event instead of doubling it.
    second = parse(client.get(f"/meetings/{meeting.id}/meeting.ics").data)
    assert list(events(second)) == [f"meeting-{meeting.id}@samverkan"]
    assert "meetings:calendar:export" in list(db.scalars(select(AuditEvent.tag)))


@time_machine.travel(NOW, tick=False)
def test_a_cancelled_meeting_is_cancelled_in_the_calendar(
    app: Flask, world: Council3, client_for, db: Session
) -> None:
    meeting = make_meeting(db, world.council, WINTER_START)
    meeting.status = MeetingStatus.CANCELLED
    meeting.sequence = 2
    db.flush()
    body = client_for(AgencyKind.SCHOOL).get(f"/meetings/{meeting.id}/meeting.ics").data
    (event,) = parse(body).walk("VEVENT")
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 2
    assert b"DTSTART;TZID=Europe/Stockholm:20260311T090000" in body
    assert b"STATUS:CANCELLED" in body


@time_machine.travel(NOW, tick=False)
def test_nothing_about_children_ever_reaches_a_calendar(
    app: Flask, world: Council3, client_for, db: Session
) -> None:
    social_user = world.members[AgencyKind.SOCIAL_SERVICES]
    meeting = make_meeting(db, world.council, WINTER_START, location="Rum 1")
    child = enrol(db, social_user, world.council)
    add_agenda_item(db, social_user, meeting, child, "family", "ICSMARK brief")
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    assert "ICSMARK" in social.get(f"/meetings/{meeting.id}").text  # the owner sees it here

    ics = social.get(f"/meetings/{meeting.id}/meeting.ics").text
    page = social.post("/calendar/token").text
    match = FEED_URL.search(page)
    assert match is not None
    feed = app.test_client().get(match.group(0)).text
    for body in (ics, feed):
        assert f"meeting-{meeting.id}@samverkan" in body
        for secret in ("ICSMARK", child.pseudonym, "Kalle", "Hemligsson", "Familj"):
            assert secret not in body
        for user in [*world.members.values(), world.coordinator]:
            assert user.display_name not in body


@time_machine.travel(NOW, tick=False)
def test_feed_token_is_shown_once_stored_as_a_hash_and_revocable(
    app: Flask, world: Council3, client_for, db: Session
) -> None:
    police_user = world.members[AgencyKind.POLICE]
    inside = make_meeting(db, world.council, WINTER_START)
    recent = make_meeting(db, world.council, NOW - dt.timedelta(days=60))
    too_old = make_meeting(db, world.council, NOW - dt.timedelta(days=100))
    too_far = make_meeting(db, world.council, NOW + dt.timedelta(days=200))
    cancelled = make_meeting(
        db, world.council, NOW + dt.timedelta(days=40), status=MeetingStatus.CANCELLED
    )
    other_council = CouncilFactory(agencies=[world.agencies[AgencyKind.POLICE]])
    not_mine = make_meeting(db, other_council, WINTER_START)
    # A meeting of a council the user is not in, but where they are a guest.
    guest_council = CouncilFactory(agencies=[world.agencies[AgencyKind.POLICE]])
    MembershipFactory(
        council=guest_council,
        user=UserFactory(agency=world.agencies[AgencyKind.POLICE], email="c@example.com"),
    )
    as_guest = make_meeting(db, guest_council, WINTER_START + dt.timedelta(days=1))
    db.flush()

    police = client_for(AgencyKind.POLICE)
    page = police.get("/calendar")
    assert page.status_code == 200
    assert "Du har ingen aktiv kalenderlänk." in page.text
    assert 'href="/calendar"' in police.get(f"/meetings/{inside.id}").text  # linked from there

    created = police.post("/calendar/token")
    assert created.status_code == 200
    match = FEED_URL.search(created.text)
    assert match is not None
    token = match.group(1)
    row = db.scalars(select(CalendarFeedToken)).one()
    assert row.user_id == police_user.id
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.token_hash, str(row.id))
    assert row.last_used_at is None
    # Shown once: the account page does not show it again, and the log holds no token.
    again = police.get("/calendar").text
    assert token not in again and "Du har en aktiv kalenderlänk" in again
    assert all(token not in str(details) for details in db.scalars(select(AuditEvent.details)))

    db.add(Attendance(meeting_id=as_guest.id, user_id=police_user.id, guest=True))
    db.flush()

    anonymous = app.test_client()  # calendar apps do not log in
    response = anonymous.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = parse(response.data)
    assert calendar["X-WR-CALNAME"] == "Samverkan – möten"
    assert len(calendar.walk("VTIMEZONE")) == 1
    found = events(calendar)
    uid = "meeting-{}@samverkan".format
    assert set(found) == {uid(m.id) for m in (inside, recent, cancelled, as_guest)}
    assert uid(too_old.id) not in found and uid(too_far.id) not in found
    assert uid(not_mine.id) not in found
    assert found[uid(cancelled.id)]["STATUS"] == "CANCELLED"
    db.expire_all()
    used = db.get(CalendarFeedToken, row.id)
    assert used is not None
    assert used.last_used_at == NOW

    # A new link ends the old one; revoking ends the new one.
    renewed = FEED_URL.search(police.post("/calendar/token").text)
    assert renewed is not None
    assert anonymous.get(f"/calendar/{token}.ics").status_code == 410
    assert anonymous.get(f"{renewed.group(0)}").status_code == 200
    revoked = police.post("/calendar/token/revoke", follow_redirects=True)
    assert "Kalenderlänken är återkallad" in revoked.text
    assert anonymous.get(f"{renewed.group(0)}").status_code == 410
    assert anonymous.get("/calendar/not-a-real-token-at-all-123456.ics").status_code == 404
    db.expire_all()
    assert all(r.revoked_at is not None for r in db.scalars(select(CalendarFeedToken)))
    tags = list(db.scalars(select(AuditEvent.tag)))
    assert tags.count("meetings:feed_token:create") == 2
    assert tags.count("meetings:feed_token:revoke") == 1


@time_machine.travel(NOW, tick=False)
def test_a_deactivated_users_feed_stops(app: Flask, world: Council3, db: Session) -> None:
    user = world.members[AgencyKind.SCHOOL]
    make_meeting(db, world.council, WINTER_START)
    page = log_in(app.test_client(), user).post("/calendar/token").text
    match = FEED_URL.search(page)
    assert match is not None
    assert app.test_client().get(match.group(0)).status_code == 200
    user.active = False
    db.flush()
    assert app.test_client().get(match.group(0)).status_code == 410


def test_summer_time_rules_give_the_right_offsets() -> None:
    """The VTIMEZONE's rules agree with the zone database on both sides of each switch."""
    tz = stockholm_timezone()
    (summer,) = tz.walk("DAYLIGHT")
    (winter,) = tz.walk("STANDARD")
    starts = summer["RRULE"].to_ical().decode()
    ends = winter["RRULE"].to_ical().decode()
    assert "FREQ=YEARLY" in starts and "FREQ=YEARLY" in ends
    for year in (2026, 2027, 2030):
        march = max(
            dt.date(year, 3, d) for d in range(25, 32) if dt.date(year, 3, d).weekday() == 6
        )
        before = dt.datetime.combine(march, dt.time(1, 59), tzinfo=LOCAL_ZONE)
        after = dt.datetime.combine(march, dt.time(3, 0), tzinfo=LOCAL_ZONE)
        assert before.utcoffset() == summer["TZOFFSETFROM"].td
        assert after.utcoffset() == summer["TZOFFSETTO"].td


@pytest.mark.csrf
@time_machine.travel(NOW, tick=False)
def test_feed_token_forms_need_their_csrf_token(
    app: Flask, world: Council3, client_for, db: Session
) -> None:
    police = client_for(AgencyKind.POLICE)
    assert police.post("/calendar/token").status_code == 400
    assert db.scalars(select(CalendarFeedToken)).all() == []
    token = csrf_token_from(police.get("/calendar").text)
    assert police.post("/calendar/token", data={"csrf_token": token}).status_code == 200
    assert len(db.scalars(select(CalendarFeedToken)).all()) == 1
    assert police.post("/calendar/token/revoke").status_code == 400
    assert db.scalars(select(CalendarFeedToken)).one().revoked_at is None


def test_calendar_links_use_the_configured_base_url(
    app: Flask, world: Council3, client_for, db: Session
) -> None:
    meeting = make_meeting(db, world.council, SUMMER_START)
    client = client_for(AgencyKind.POLICE)
    app.config["BASE_URL"] = "https://samverkan.exempelstad.se/"
    try:
        body = client.get(f"/meetings/{meeting.id}/meeting.ics").data.decode()
    finally:
        app.config["BASE_URL"] = None
    unfolded = body.replace("\r\n ", "")
    assert f"https://samverkan.exempelstad.se/meetings/{meeting.id}" in unfolded
    assert "localhost" not in unfolded
