"""The minutes' lifecycle guards and confirmation pages: nothing sent, approved, locked or
marked present before the meeting has started; sending and approving each ask on a page of
their own that writes nothing, and that outsiders do not get."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from flask import Flask
from sqlalchemy.orm import Session

from coordination.errors import ServiceError
from coordination.models import AgencyKind
from meetings.agenda.attendance import set_attendance
from meetings.models import (
    AttendanceStatus,
    Meeting,
    MeetingStatus,
    Notification,
)
from minutes.models import MinutesApproval, MinutesStatus
from minutes.workspace import approval
from tests.conftest import Council3, audit_tags, log_in
from tests.factories import AgencyFactory, UserFactory
from tests.minutes.test_approval import (
    minutes_row,
    notifications,
    submit,
    submit_with_entry,
    with_entry,
)
from tests.minutes.test_notices import setting as setting  # a fixture, re-exported
from tests.minutes.test_workspace import NOW, Setting, count

BEFORE_START = NOW - dt.timedelta(hours=3)  # the setting's meeting starts at NOW - 1 h
NOT_STARTED = "Mötet har inte börjat än"


# --- Nothing before the meeting has started -------------------------------------------------------


def test_minutes_are_not_sent_for_approval_before_the_meeting_has_started(
    db: Session, world: Council3, setting: Setting
) -> None:
    with time_machine.travel(NOW, tick=False):
        with_entry(db, setting)
    version = minutes_row(db).version
    with (
        time_machine.travel(BEFORE_START, tick=False),
        pytest.raises(ServiceError) as refused,
        db.begin_nested(),
    ):
        approval.submit_for_approval(
            db, world.coordinator, setting.meeting, setting.police, version
        )
    assert NOT_STARTED in str(refused.value.message)
    after = minutes_row(db)
    assert (after.status, after.version) == (MinutesStatus.DRAFT, version)
    assert setting.meeting.status is MeetingStatus.PLANNED
    assert notifications(db, "minutes_submitted") == []


def test_minutes_are_not_approved_or_locked_before_the_meeting_has_started(
    db: Session, world: Council3, setting: Setting
) -> None:
    with time_machine.travel(NOW, tick=False):
        with_entry(db, setting)
        submit(db, world, setting)
        approval.approve(db, world.coordinator, setting.meeting)
    # Submitted minutes of a meeting whose start lies ahead (the clock of a server set wrong,
    # a meeting moved after the fact): neither approval nor the lock that the second gives.
    setting.meeting.starts_at = NOW + dt.timedelta(days=1)
    db.flush()
    with (
        time_machine.travel(NOW, tick=False),
        pytest.raises(ServiceError) as refused,
        db.begin_nested(),
    ):
        approval.approve(db, setting.police, setting.meeting)
    assert NOT_STARTED in str(refused.value.message)
    after = minutes_row(db)
    assert after.status is MinutesStatus.SUBMITTED and after.digest is None
    assert count(db, MinutesApproval) == 1


def test_the_pages_refuse_sending_before_the_start_and_change_nothing(
    app: Flask, db: Session, world: Council3, setting: Setting
) -> None:
    with time_machine.travel(NOW, tick=False):
        with_entry(db, setting)
    version = minutes_row(db).version
    url = f"/meetings/{setting.meeting.id}/minutes/submit"
    before = audit_tags(db)
    with time_machine.travel(BEFORE_START, tick=False):
        coordinator = log_in(app.test_client(), world.coordinator)
        asked = coordinator.get(f"{url}?adjuster_id={setting.police.id}&version={version}")
        posted = coordinator.post(
            url, data={"adjuster_id": setting.police.id, "version": version, "confirm": "yes"}
        )
    for response in (asked, posted):
        assert response.status_code == 422
        assert NOT_STARTED in response.text
    assert minutes_row(db).status is MinutesStatus.DRAFT
    assert [t for t in audit_tags(db) if t.startswith("minutes:")] == [
        t for t in before if t.startswith("minutes:")
    ]


def test_nobody_is_present_at_a_meeting_that_has_not_started(
    app: Flask, db: Session, world: Council3, setting: Setting
) -> None:
    school = setting.school  # marked absent by the setting
    with time_machine.travel(BEFORE_START, tick=False):
        with pytest.raises(ServiceError) as refused, db.begin_nested():
            set_attendance(
                db, world.coordinator, setting.meeting, school.id, AttendanceStatus.PRESENT
            )
        assert NOT_STARTED in str(refused.value.message)
        page = log_in(app.test_client(), school).post(
            f"/meetings/{setting.meeting.id}/attendance/{school.id}",
            data={"status": "present"},
            follow_redirects=True,
        )
        assert NOT_STARTED in page.text
        assert '<option value="present"' not in page.text  # not offered before the start
        # Absences may be given ahead.
        set_attendance(db, world.coordinator, setting.meeting, school.id, AttendanceStatus.EXCUSED)
    db.expire_all()
    statuses = {a.user_id: a.status for a in db.get_one(Meeting, setting.meeting.id).attendances}
    assert statuses[school.id] is AttendanceStatus.EXCUSED
    with time_machine.travel(NOW, tick=False):
        started = log_in(app.test_client(), school).get(f"/meetings/{setting.meeting.id}")
        assert '<option value="present"' in started.text
        set_attendance(db, world.coordinator, setting.meeting, school.id, AttendanceStatus.PRESENT)


# --- Confirmation pages ---------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_sending_for_approval_asks_for_confirmation_on_a_page_that_writes_nothing(
    app: Flask, db: Session, world: Council3, setting: Setting
) -> None:
    with_entry(db, setting)
    version = minutes_row(db).version
    coordinator = log_in(app.test_client(), world.coordinator)
    url = f"/meetings/{setting.meeting.id}/minutes/submit"
    before = (len(audit_tags(db)), count(db, Notification))
    asked = coordinator.get(f"{url}?adjuster_id={setting.police.id}&version={version}")
    from_form = coordinator.post(url, data={"adjuster_id": setting.police.id, "version": version})
    for page in (asked, from_form):
        assert page.status_code == 200
        assert "Skicka protokollet för justering" in page.text
        assert world.coordinator.display_name in page.text  # the chair
        assert setting.police.display_name in page.text  # the adjuster
        assert "kan inte ändras medan det väntar på justering" in page.text
        assert 'name="confirm" value="yes"' in page.text
        assert f'name="adjuster_id" value="{setting.police.id}"' in page.text
    assert (len(audit_tags(db)), count(db, Notification)) == before
    assert minutes_row(db).status is MinutesStatus.DRAFT

    done = coordinator.post(
        url, data={"adjuster_id": setting.police.id, "version": version, "confirm": "yes"}
    )
    assert done.status_code == 302
    assert minutes_row(db).status is MinutesStatus.SUBMITTED


@time_machine.travel(NOW, tick=False)
def test_approving_asks_for_confirmation_and_says_when_it_locks(
    app: Flask, db: Session, world: Council3, setting: Setting, client_for
) -> None:
    submit_with_entry(db, world, setting)
    url = f"/meetings/{setting.meeting.id}/minutes/approve"
    coordinator = log_in(app.test_client(), world.coordinator)
    first = coordinator.get(url)
    assert first.status_code == 200
    assert "som ordförande" in first.text and "låses när även den andra" in first.text
    assert count(db, MinutesApproval) == 0
    assert coordinator.post(url, data={"confirm": "yes"}).status_code == 302

    police = client_for(AgencyKind.POLICE)
    last = police.post(url)  # the workspace's button without confirm: the page again
    assert last.status_code == 200
    assert "som justerare" in last.text
    assert "Protokollet blir justerat och låses" in last.text
    assert count(db, MinutesApproval) == 1 and minutes_row(db).status is MinutesStatus.SUBMITTED
    assert police.post(url, data={"confirm": "yes"}).status_code == 302
    assert minutes_row(db).status is MinutesStatus.APPROVED


@time_machine.travel(NOW, tick=False)
def test_outsiders_get_no_confirmation_page(
    app: Flask, db: Session, world: Council3, setting: Setting
) -> None:
    with_entry(db, setting)
    outsider = UserFactory(agency=AgencyFactory(kind=AgencyKind.POLICE, name="Annan polis"))
    db.flush()
    client = log_in(app.test_client(), outsider)
    base = f"/meetings/{setting.meeting.id}/minutes"
    for path in (f"{base}/submit?adjuster_id={setting.police.id}&version=1", f"{base}/approve"):
        before = audit_tags(db).count("access:denied")
        response = client.get(path)
        assert response.status_code == 403
        assert audit_tags(db).count("access:denied") == before + 1
        assert setting.police.display_name not in response.text
