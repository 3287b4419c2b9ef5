"""The meetings API: a council's meetings by date, one meeting with its attendance, and the
agenda with its briefs revealed or withheld; reads that write nothing but the reveal's event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.api.core import encode_offset
from coordination.audit.log import AuditEvent
from coordination.models import AgencyKind
from meetings.agenda.attendance import add_guest, ensure_invitations
from meetings.agenda.deadline import agenda_deadline
from meetings.models import AgendaItem, Attendance, AttendanceStatus, Meeting, MeetingStatus
from secrecy.models import Record
from tests.api.conftest import Api, field_errors, problem
from tests.conftest import Council3, audit_tags, log_in, sql_statements
from tests.factories import (
    UserFactory,
    disclose_under_21_rule,
    enrol,
)
from tests.meetings.test_agenda import add_item
from tests.minutes.test_actions import make_action
from tests.minutes.test_actions import make_meeting as meeting_in

SOCIAL, POLICE, SCHOOL = AgencyKind.SOCIAL_SERVICES, AgencyKind.POLICE, AgencyKind.SCHOOL
WITHHELD = "Ingen uppgiftslämning till din myndighet."


def reveal_events(db: Session) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.tag == "secrecy:record:reveal")))


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


# --- A council's meetings -----------------------------------------------------------------------


def test_council_meetings_in_the_default_window_and_in_pages(
    api_for: Callable[..., Api], db: Session, world: Council3
) -> None:
    days = (-40, -10, 10, 100, 200)
    made = {d: meeting_in(db, world.council, d) for d in days}
    first = made[-10]
    first.location = "Stadshuset, rum 3"
    first.video_link = "https://video.example/abc"
    first.chair_id = world.coordinator.id
    made[10].status = MeetingStatus.CANCELLED
    db.flush()
    api = api_for(SCHOOL)

    body = api.get(f"/api/v1/councils/{world.council.id}/meetings").get_json()
    assert [m["id"] for m in body["items"]] == [made[d].id for d in (-10, 10, 100)]
    assert body["next_cursor"] is None
    shown = body["items"][0]
    assert shown["place"] == "Stadshuset, rum 3"
    assert shown["video_link"] == "https://video.example/abc"
    assert shown["chair"] == {"id": world.coordinator.id, "name": world.coordinator.display_name}
    assert shown["minute_taker"] is None
    assert shown["agenda_deadline"] == agenda_deadline(first).isoformat()
    assert shown["agenda_deadline_passed"] is True
    assert body["items"][1]["status"] == "cancelled"  # the page lists cancelled meetings too

    start = made[-40].starts_at.date() - dt.timedelta(days=1)
    end = made[200].starts_at.date() + dt.timedelta(days=1)
    url = f"/api/v1/councils/{world.council.id}/meetings?from={start}&to={end}&limit=3"
    page = api.get(url).get_json()
    assert len(page["items"]) == 3 and page["next_cursor"]
    rest = api.get(f"{url}&cursor={page['next_cursor']}").get_json()
    assert [m["id"] for m in page["items"] + rest["items"]] == [made[d].id for d in days]
    assert rest["next_cursor"] is None


def test_council_meetings_use_a_constant_number_of_queries(
    app: Flask, api_for: Callable[..., Api], db: Session, world: Council3
) -> None:
    api = api_for(POLICE)
    api.get("/api/v1/me")  # the token's first use is noted once (last_used_at)
    members = [*world.members.values(), world.coordinator]

    def queries_with(n: int) -> int:
        for i in range(count(db, Meeting), n):
            meeting = meeting_in(db, world.council, i + 1)
            meeting.chair_id, meeting.minute_taker_id = members[i % 7].id, members[-1].id
        db.flush()
        db.expire_all()
        with sql_statements(app) as seen:
            body = api.get(f"/api/v1/councils/{world.council.id}/meetings").get_json()
        assert len(body["items"]) == n
        return len(seen)

    assert queries_with(2) == queries_with(12)


def test_council_meetings_refusals(
    api_for: Callable[..., Api],
    anonymous_api: Api,
    db: Session,
    world: Council3,
    stranger_api: Callable[[], Api],
) -> None:
    url = f"/api/v1/councils/{world.council.id}/meetings"
    problem(anonymous_api.get(url), 401)
    outsider = stranger_api()
    problem(outsider.get(url), 403)
    denied = db.scalars(select(AuditEvent).where(AuditEvent.tag == "access:denied")).all()
    assert [(e.object_type, e.object_ids) for e in denied] == [("council", [world.council.id])]
    api = api_for(POLICE)
    problem(api.get("/api/v1/councils/999999/meetings"), 403)  # unknown == forbidden
    errors = field_errors(api.get(f"{url}?from=2026-05-01&to=2026-04-30"))
    assert errors == {"from": "Första dagen måste komma före den sista."}
    errors = field_errors(api.get(f"{url}?from=2026-02-30&to=igår"))
    assert set(errors) == {"from", "to"}
    assert errors["to"] == "Ange ett datum som ÅÅÅÅ-MM-DD."
    assert set(field_errors(api.get(f"{url}?to=1066-10-14"))) == {"to"}
    assert set(field_errors(api.get(f"{url}?month=2026-05"))) == {"month"}


def test_a_bad_cursor_is_refused_before_the_meetings_are_read(
    api_for: Callable[..., Api], app: Flask, db: Session, world: Council3
) -> None:
    meeting_in(db, world.council, 10)
    api = api_for(POLICE)
    url = f"/api/v1/councils/{world.council.id}/meetings"
    api.get("/api/v1/me")  # the token's first use is noted once (last_used_at)
    with sql_statements(app) as seen:
        errors = field_errors(api.get(f"{url}?cursor=nonsense"))
    assert errors == {"cursor": "Ogiltig cursor."}
    assert not [s for s in seen if "FROM meetings" in s]
    # The same request with a cursor a page hands out does read them.
    with sql_statements(app) as seen:
        assert len(api.get(f"{url}?cursor={encode_offset(0)}").get_json()["items"]) == 1
    assert [s for s in seen if "FROM meetings" in s]


# --- One meeting --------------------------------------------------------------------------------


def test_a_meeting_shows_attendance_as_the_page_does_without_writing(
    app: Flask,
    api_for: Callable[..., Api],
    api_as: Callable[..., Api],
    db: Session,
    world: Council3,
    stranger_api: Callable[[], Api],
) -> None:
    meeting = meeting_in(db, world.council, 10)
    meeting.minute_taker_id = world.members[POLICE].id
    guest = UserFactory(agency=world.agencies[SCHOOL], email="guest@example.com")
    db.flush()
    add_guest(db, world.coordinator, meeting, guest)
    police = world.members[POLICE]
    db.add(Attendance(meeting_id=meeting.id, user_id=police.id, status=AttendanceStatus.EXCUSED))
    db.flush()
    school = api_for(SCHOOL)
    before = (count(db, Attendance), audit_tags(db))

    body = school.get(f"/api/v1/meetings/{meeting.id}").get_json()
    # Nothing written, not even invitations.
    assert (count(db, Attendance), audit_tags(db)) == before
    assert body["council_name"] == "Testrådet"
    assert body["minute_taker"] == {"id": police.id, "name": police.display_name}
    rows = [(a["user"]["id"], a["status"], a["guest"]) for a in body["attendance"]]
    members = [*world.members.values(), world.coordinator]
    assert len(rows) == len(members) + 1
    assert rows[-1] == (guest.id, "invited", True)  # guests last, as on the page
    assert (police.id, "excused", False) in rows
    assert {r[1] for r in rows if r[0] != police.id} == {"invited"}
    police_row = next(a for a in body["attendance"] if a["user"]["id"] == police.id)
    assert police_row["agency"] == {"id": police.agency_id, "name": police.agency.name}

    # The page shows them without writing either; once the invitations are written (when
    # attendance is first set), the API shows the same rows.
    page = log_in(app.test_client(), world.members[SCHOOL]).get(f"/meetings/{meeting.id}")
    assert page.status_code == 200
    assert count(db, Attendance) == before[0]
    ensure_invitations(db, None, meeting)
    assert count(db, Attendance) == len(members) + 1
    again = school.get(f"/api/v1/meetings/{meeting.id}").get_json()
    assert [(a["user"]["id"], a["status"], a["guest"]) for a in again["attendance"]] == rows

    # The guest sees this meeting; a member of another council does not, and an unknown
    # meeting is answered the same (403).
    assert api_as(guest).get(f"/api/v1/meetings/{meeting.id}").status_code == 200
    problem(stranger_api().get(f"/api/v1/meetings/{meeting.id}"), 403)
    problem(api_for(POLICE).get("/api/v1/meetings/999999"), 403)


def test_meeting_needs_a_token(anonymous_api: Api, db: Session, world: Council3) -> None:
    meeting = meeting_in(db, world.council, 10)
    problem(anonymous_api.get(f"/api/v1/meetings/{meeting.id}"), 401)
    problem(anonymous_api.get(f"/api/v1/meetings/{meeting.id}/agenda"), 401)


# --- The agenda ---------------------------------------------------------------------------------


def test_agenda_briefs_are_revealed_once_or_withheld_and_open_actions_come_back(
    api_for: Callable[..., Api], db: Session, world: Council3
) -> None:
    social, police = world.members[SOCIAL], world.members[POLICE]
    earlier = meeting_in(db, world.council, -20)
    meeting = meeting_in(db, world.council, 20)
    first = enrol(db, social, world.council, "20121212-1212")
    second = enrol(db, police, world.council, "20100101-0014", "Stina")
    carried = enrol(db, social, world.council, "20100101-0022", "Pelle")
    item = add_item(db, social, meeting, first, "BRIEFMARK-social")
    add_item(db, police, meeting, second, "BRIEFMARK-police")
    make_action(db, world, carried, earlier)  # open: the child comes back on the next agenda
    record = db.get_one(Record, item.brief_record_id)
    disclose_under_21_rule(db, social, record, world.agencies[POLICE])
    db.flush()
    items_before, events_before = count(db, AgendaItem), len(reveal_events(db))

    response = api_for(SCHOOL).get(f"/api/v1/meetings/{meeting.id}/agenda")
    assert "BRIEFMARK" not in response.get_data(as_text=True)
    body = response.get_json()
    assert [(i["child_id"], i["position"], i["source"]) for i in body["items"]] == [
        (first.id, 1, "manual"),
        (second.id, 2, "manual"),
        (carried.id, 3, "open_actions"),
    ]
    assert body["items"][2]["reason_category"] == "agreed_action"
    assert body["items"][2]["brief"] is None
    assert body["items"][2]["pseudonym"] == carried.pseudonym
    for shown in body["items"][:2]:
        assert shown["brief"]["withheld"] is True and shown["brief"]["reason"] == WITHHELD
    assert count(db, AgendaItem) == items_before  # the carried-over child is shown, not written
    events = reveal_events(db)
    assert len(events) == events_before + 1  # one reveal for all the briefs
    assert events[-1].details["purpose"] == "agenda"

    text = api_for(POLICE).get(f"/api/v1/meetings/{meeting.id}/agenda").get_data(as_text=True)
    assert "BRIEFMARK-social" in text and "BRIEFMARK-police" in text  # disclosed, and own
    briefs = api_for(SOCIAL).get(f"/api/v1/meetings/{meeting.id}/agenda").get_json()["items"]
    assert briefs[0]["brief"]["content"] == {"text": "BRIEFMARK-social"}
    assert briefs[0]["brief"]["disclosed_via"] is None
    assert briefs[1]["brief"]["withheld"] is True


def test_agenda_refusals(
    api_for: Callable[..., Api], db: Session, world: Council3, stranger_api: Callable[[], Api]
) -> None:
    meeting = meeting_in(db, world.council, 20)
    problem(stranger_api().get(f"/api/v1/meetings/{meeting.id}/agenda"), 403)
    problem(api_for(POLICE).get("/api/v1/meetings/999999/agenda"), 403)
    assert api_for(POLICE).get(f"/api/v1/meetings/{meeting.id}/agenda").get_json()["items"] == []
