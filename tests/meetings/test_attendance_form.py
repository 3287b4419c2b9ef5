"""The whole meeting's attendance in one form: one transaction, one audit event per person
changed (as when set one by one), a refusal for anyone leaves everyone as they were; a member
sets only their own."""

from __future__ import annotations

import datetime as dt

import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.models import AgencyKind
from meetings.models import Attendance, AttendanceStatus
from tests.conftest import Council3, log_in
from tests.meetings.test_agenda import MEETING_START, make_meeting

DURING = MEETING_START + dt.timedelta(minutes=30)


def statuses(db: Session, meeting_id: int) -> dict[int, AttendanceStatus]:
    db.expire_all()
    rows = db.scalars(select(Attendance).where(Attendance.meeting_id == meeting_id))
    return {row.user_id: row.status for row in rows}


def set_events(db: Session) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.tag == "meetings:attendance:set")))


@time_machine.travel(DURING, tick=False)
def test_the_coordinator_sets_everyones_attendance_in_one_form(
    app: Flask, db: Session, world: Council3
) -> None:
    meeting = make_meeting(db, world.council)
    coordinator = log_in(app.test_client(), world.coordinator)
    page = coordinator.get(f"/meetings/{meeting.id}")
    assert page.text.count('name="status-') == len(world.members) + 1
    assert page.text.count('id="attendance-form"') == 1
    social, police, school = (
        world.members[k] for k in (AgencyKind.SOCIAL_SERVICES, AgencyKind.POLICE, AgencyKind.SCHOOL)
    )
    response = coordinator.post(
        f"/meetings/{meeting.id}/attendance",
        data={
            f"status-{social.id}": "present",
            f"status-{police.id}": "excused",
            f"status-{school.id}": "absent",
            f"status-{world.coordinator.id}": "present",
            f"status-{world.members[AgencyKind.LEISURE].id}": "",  # left as invited
        },
    )
    assert response.status_code == 302
    assert "#" not in response.headers["Location"]
    shown = coordinator.get(response.headers["Location"]).text
    assert "Närvaron är sparad. 4 personer ändrade." in shown
    found = statuses(db, meeting.id)
    assert found[social.id] is AttendanceStatus.PRESENT
    assert found[police.id] is AttendanceStatus.EXCUSED
    assert found[school.id] is AttendanceStatus.ABSENT
    assert found[world.members[AgencyKind.LEISURE].id] is AttendanceStatus.INVITED
    events = set_events(db)
    assert sorted(e.details["user_id"] for e in events) == sorted(
        [social.id, police.id, school.id, world.coordinator.id]
    )
    # The same form again changes nothing and logs nothing more.
    again = coordinator.post(
        f"/meetings/{meeting.id}/attendance", data={f"status-{social.id}": "present"}
    )
    assert again.status_code == 302
    assert len(set_events(db)) == 4


@time_machine.travel(DURING, tick=False)
def test_one_refused_person_leaves_everyone_as_they_were(
    app: Flask, db: Session, world: Council3
) -> None:
    meeting = make_meeting(db, world.council)
    coordinator = log_in(app.test_client(), world.coordinator)
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    coordinator.get(f"/meetings/{meeting.id}")
    bad_value = coordinator.post(
        f"/meetings/{meeting.id}/attendance",
        data={f"status-{social.id}": "present", f"status-{world.coordinator.id}": "maybe"},
    )
    assert bad_value.status_code == 302
    page = coordinator.get(bad_value.headers["Location"]).text
    assert "Välj närvarande, frånvarande eller anmält förhinder." in page
    not_invited = coordinator.post(
        f"/meetings/{meeting.id}/attendance",
        data={f"status-{social.id}": "present", "status-999999": "present"},
    )
    assert not_invited.status_code == 302
    assert (
        "Personen är inte kallad till mötet."
        in coordinator.get(not_invited.headers["Location"]).text
    )
    assert AttendanceStatus.PRESENT not in statuses(db, meeting.id).values()
    assert set_events(db) == []
    bad_id = coordinator.post(
        f"/meetings/{meeting.id}/attendance", data={"status-99999999999999999999": "present"}
    )
    assert bad_id.status_code == 400


@time_machine.travel(DURING, tick=False)
def test_a_member_sets_only_their_own_attendance(app: Flask, db: Session, world: Council3) -> None:
    meeting = make_meeting(db, world.council)
    police_user = world.members[AgencyKind.POLICE]
    police = log_in(app.test_client(), police_user)
    page = police.get(f"/meetings/{meeting.id}").text
    assert page.count('name="status-') == 1
    assert (
        police.post(
            f"/meetings/{meeting.id}/attendance", data={f"status-{police_user.id}": "present"}
        ).status_code
        == 302
    )
    assert statuses(db, meeting.id)[police_user.id] is AttendanceStatus.PRESENT
    other = world.members[AgencyKind.SCHOOL]
    refused = police.post(
        f"/meetings/{meeting.id}/attendance",
        data={f"status-{police_user.id}": "absent", f"status-{other.id}": "present"},
    )
    assert refused.status_code == 403
    after = statuses(db, meeting.id)
    assert after[police_user.id] is AttendanceStatus.PRESENT  # not changed by the refused form
    assert after[other.id] is AttendanceStatus.INVITED
