"""The minutes' lifecycle guards and confirmation pages, and the notifications the approval and
the actions send: nothing before the meeting has started, a confirmation page that writes
nothing, the chair and adjuster told of a submission, the secretary of the outcome, the
responsible person of a new action; overdue carried-over actions marked."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.errors import PermissionDenied, ServiceError
from coordination.models import AgencyKind
from meetings.agenda.attendance import set_attendance
from meetings.agenda.items import add_agenda_item
from meetings.models import (
    AgendaItem,
    AgendaSource,
    AttendanceStatus,
    Meeting,
    MeetingStatus,
    Notification,
)
from minutes.actions.services import create_action
from minutes.models import Minutes, MinutesApproval, MinutesStatus
from minutes.workspace import approval
from tests.conftest import Council3, log_in
from tests.factories import AgencyFactory, UserFactory
from tests.minutes.test_approval import minutes_row, with_entry
from tests.minutes.test_workspace import NOW, TODAY, Setting, count, make_setting, tags

BEFORE_START = NOW - dt.timedelta(hours=3)  # the setting's meeting starts at NOW - 1 h
NOT_STARTED = "Mötet har inte börjat än"


@pytest.fixture
def setting(db: Session, world: Council3) -> Setting:
    with time_machine.travel(NOW, tick=False):
        found = make_setting(db, world)
        found.meeting.minute_taker_id = found.social.id
        db.flush()
        return found


def notifications(db: Session, kind: str) -> list[Notification]:
    db.expire_all()
    return list(
        db.scalars(select(Notification).where(Notification.kind == kind).order_by(Notification.id))
    )


def secrets_of(setting: Setting) -> list[str]:
    return ["Brief-Hemlig-1", "Original-Hemlig", setting.child.pseudonym, "Vilgot", "Provsson"]


def assert_content_free(rows: list[Notification], setting: Setting) -> None:
    for row in rows:
        for secret in secrets_of(setting):
            assert secret not in row.subject + row.body + row.link


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
        approval.submit_for_approval(
            db, world.coordinator, setting.meeting, setting.police, minutes_row(db).version
        )
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
    before = tags(db)
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
    assert [t for t in tags(db) if t.startswith("minutes:")] == [
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
        # Absences may be given ahead.
        set_attendance(db, world.coordinator, setting.meeting, school.id, AttendanceStatus.EXCUSED)
    db.expire_all()
    statuses = {a.user_id: a.status for a in db.get_one(Meeting, setting.meeting.id).attendances}
    assert statuses[school.id] is AttendanceStatus.EXCUSED
    with time_machine.travel(NOW, tick=False):
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
    before = (len(tags(db)), count(db, Notification))
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
    assert (len(tags(db)), count(db, Notification)) == before
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
    with_entry(db, setting)
    approval.submit_for_approval(
        db, world.coordinator, setting.meeting, setting.police, minutes_row(db).version
    )
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
        before = tags(db).count("access:denied")
        response = client.get(path)
        assert response.status_code == 403
        assert tags(db).count("access:denied") == before + 1
        assert setting.police.display_name not in response.text


# --- Notifications --------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_chair_and_adjuster_hear_of_a_submission_and_the_secretary_of_the_approval(
    db: Session, world: Council3, setting: Setting
) -> None:
    with_entry(db, setting)
    approval.submit_for_approval(
        db, world.coordinator, setting.meeting, setting.police, minutes_row(db).version
    )
    submitted = notifications(db, "minutes_submitted")
    # The coordinator chairs and sent them: only the adjuster is told.
    assert [n.recipient_id for n in submitted] == [setting.police.id]
    assert submitted[0].link == f"/meetings/{setting.meeting.id}/minutes"
    assert "Testrådet" in submitted[0].subject

    approval.approve(db, world.coordinator, setting.meeting)
    assert notifications(db, "minutes_approved") == []  # one approval locks nothing
    approval.approve(db, setting.police, setting.meeting)
    approved = notifications(db, "minutes_approved")
    # The secretary (minute taker) and the coordinator who sent them.
    assert sorted(n.recipient_id for n in approved) == sorted(
        [setting.social.id, world.coordinator.id]
    )
    assert_content_free(submitted + approved, setting)


@time_machine.travel(NOW, tick=False)
def test_the_adjuster_sends_the_minutes_back_and_the_secretary_hears_of_it(
    app: Flask, db: Session, world: Council3, setting: Setting, client_for
) -> None:
    with_entry(db, setting)
    approval.submit_for_approval(
        db, world.coordinator, setting.meeting, setting.police, minutes_row(db).version
    )
    approval.approve(db, world.coordinator, setting.meeting)
    with pytest.raises(PermissionDenied), db.begin_nested():
        approval.send_back(db, setting.leisure, setting.meeting)  # neither chair nor adjuster
    police = client_for(AgencyKind.POLICE)
    workspace = police.get(f"/meetings/{setting.meeting.id}/minutes")
    assert f"/meetings/{setting.meeting.id}/minutes/send-back" in workspace.text
    assert police.post(f"/meetings/{setting.meeting.id}/minutes/send-back").status_code == 302
    after = minutes_row(db)
    assert after.status is MinutesStatus.DRAFT
    assert count(db, MinutesApproval) == 0
    assert "minutes:minutes:send_back" in tags(db)
    sent_back = notifications(db, "minutes_sent_back")
    assert sorted(n.recipient_id for n in sent_back) == sorted(
        [setting.social.id, world.coordinator.id]
    )
    assert_content_free(sent_back, setting)
    # Sent again later: a new submission notifies the adjuster again (a new version).
    approval.submit_for_approval(
        db, world.coordinator, setting.meeting, setting.police, after.version
    )
    assert len(notifications(db, "minutes_submitted")) == 2


@time_machine.travel(NOW, tick=False)
def test_the_responsible_person_hears_of_a_new_action(
    db: Session, world: Council3, setting: Setting
) -> None:
    action = create_action(
        db,
        setting.social,
        setting.meeting,
        setting.child,
        "Åtgärd-Hemlig",
        setting.social.agency,
        world.coordinator,
        TODAY + dt.timedelta(days=14),
        "",
        (),
    )
    assigned = notifications(db, "action_assigned")
    assert [(n.recipient_id, n.link) for n in assigned] == [
        (world.coordinator.id, f"/actions/{action.id}")
    ]
    assert "Åtgärd-Hemlig" not in assigned[0].subject + assigned[0].body
    assert_content_free(assigned, setting)
    # Nobody is told of what they assigned to themselves.
    create_action(
        db, setting.social, setting.meeting, setting.child, "Egen", setting.social.agency,
        setting.social, TODAY + dt.timedelta(days=14), "", (),
    )  # fmt: skip
    assert len(notifications(db, "action_assigned")) == 1


# --- Overdue carried-over actions -----------------------------------------------------------------


def test_overdue_carried_over_actions_are_marked_in_the_workspace(
    app: Flask, db: Session, world: Council3, setting: Setting
) -> None:
    with time_machine.travel(NOW, tick=False):
        create_action(
            db, setting.social, setting.meeting, setting.child, "Uppföljning",
            setting.social.agency, None, TODAY + dt.timedelta(days=7), "", (),
        )  # fmt: skip
        later = Meeting(
            council_id=world.council.id,
            starts_at=NOW + dt.timedelta(days=28),
            ends_at=NOW + dt.timedelta(days=28, hours=2),
        )
        db.add(later)
        db.flush()
        add_agenda_item(db, world.coordinator, later, setting.child, "risk_protective", "Ny")
    url = f"/meetings/{later.id}/minutes"
    with time_machine.travel(NOW + dt.timedelta(days=3), tick=False):
        in_time = log_in(app.test_client(), setting.social).get(url).text
    with time_machine.travel(NOW + dt.timedelta(days=10), tick=False):
        social = log_in(app.test_client(), setting.social)
        late = social.get(url).text
        child_page = social.get(f"{url}/children/{setting.child.id}").text
    assert "Öppna åtgärder från tidigare möten" in in_time and "Försenad" not in in_time
    assert "Försenad" in late and "Försenad" in child_page
    assert (
        db.scalars(select(AuditEvent).where(AuditEvent.tag == "minutes:minutes:lock")).all() == []
    )
    assert db.scalars(select(Minutes).where(Minutes.meeting_id == later.id)).all() == []


# --- A brief for a carried-over child -------------------------------------------------------------


def test_a_carried_over_child_can_be_given_a_brief(
    app: Flask, db: Session, world: Council3, setting: Setting
) -> None:
    with time_machine.travel(NOW, tick=False):
        create_action(
            db, setting.social, setting.meeting, setting.child, "Uppföljning",
            setting.social.agency, None, TODAY + dt.timedelta(days=14), "", (),
        )  # fmt: skip
        later = Meeting(
            council_id=world.council.id,
            starts_at=NOW + dt.timedelta(days=28),
            ends_at=NOW + dt.timedelta(days=28, hours=2),
        )
        db.add(later)
        db.flush()
        url = f"/meetings/{later.id}"
        brief_url = f"{url}/agenda/children/{setting.child.id}/brief"
        field = f"b{setting.child.id}-brief"
        social = log_in(app.test_client(), setting.social)
        page = social.get(url).text
        # Shown on the agenda by its open actions, not written yet, with a form for its brief.
        assert setting.child.pseudonym in page and brief_url in page
        assert count(db, AgendaItem) == 1

        empty = social.post(brief_url, data={field: " "})
        assert empty.status_code == 422
        outsider = UserFactory(agency=AgencyFactory(kind=AgencyKind.POLICE, name="Annan polis"))
        db.flush()
        denied_before = tags(db).count("access:denied")
        refused = log_in(app.test_client(), outsider).post(brief_url, data={field: "Utifrån"})
        assert refused.status_code == 403
        assert tags(db).count("access:denied") == denied_before + 1

        done = social.post(brief_url, data={field: "Läget-Hemligt"})
        assert done.status_code == 302
        item = db.scalars(select(AgendaItem).where(AgendaItem.meeting_id == later.id)).one()
        assert item.source is AgendaSource.OPEN_ACTIONS and item.brief_record_id is not None
        assert "meetings:agenda:brief" in tags(db)
        assert "Läget-Hemligt" in social.get(url).text
        # The police have no disclosure of it: withheld, like any other brief.
        police_page = log_in(app.test_client(), setting.police).get(url).text
        assert "Läget-Hemligt" not in police_page and "Undanhållen" in police_page
        twice = social.post(brief_url, data={field: "Igen"})
        assert twice.status_code == 422 and "redan en lägesbeskrivning" in twice.text
