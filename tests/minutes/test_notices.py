"""What the minutes tell people when it happens (content-free, like every notification): the
chair and adjuster of a submission, the secretary of the approval or of minutes sent back, the
responsible person of a new action; and what the next meeting shows of the children carried over
by their open actions: overdue actions marked, a brief like any other agenda item."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.errors import PermissionDenied
from coordination.models import AgencyKind
from meetings.agenda.items import add_agenda_item
from meetings.models import (
    AgendaItem,
    AgendaSource,
    Meeting,
    Notification,
)
from minutes.actions.services import create_action
from minutes.models import Minutes, MinutesApproval, MinutesStatus
from minutes.workspace import approval
from tests.conftest import Council3, audit_tags, log_in
from tests.factories import ASSESSED, AgencyFactory, UserFactory, make_meeting
from tests.minutes.test_approval import (
    minutes_row,
    notifications,
    setting_with_social_minute_taker,
    submit,
    submit_with_entry,
    with_entry,
)
from tests.minutes.test_workspace import NOW, TODAY, Setting, count


@pytest.fixture
def setting(db: Session, world: Council3) -> Setting:
    return setting_with_social_minute_taker(db, world)


def secrets_of(setting: Setting) -> list[str]:
    return ["Brief-Hemlig-1", "Original-Hemlig", setting.child.pseudonym, "Vilgot", "Provsson"]


def assert_content_free(rows: list[Notification], setting: Setting) -> None:
    for row in rows:
        for secret in secrets_of(setting):
            assert secret not in row.subject + row.body + row.link


# --- Notifications --------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_chair_and_adjuster_hear_of_a_submission_and_the_secretary_of_the_approval(
    db: Session, world: Council3, setting: Setting
) -> None:
    submit_with_entry(db, world, setting)
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
def test_a_chair_who_did_not_send_the_minutes_is_told_too(
    app: Flask, db: Session, world: Council3, setting: Setting
) -> None:
    with_entry(db, setting)
    setting.meeting.chair_id = setting.leisure.id  # present, and not the coordinator
    db.flush()
    submit(db, world, setting)
    submitted = notifications(db, "minutes_submitted")
    assert sorted(n.recipient_id for n in submitted) == sorted(
        [setting.leisure.id, setting.police.id]
    )
    assert_content_free(submitted, setting)
    # Their notification list shows it; the school member (absent) has nothing.
    page = log_in(app.test_client(), setting.leisure).get("/notifications").text
    assert "är skickat till dig för justering" in page
    assert notifications(db, "minutes_submitted")[0].recipient_id != setting.school.id


@time_machine.travel(NOW, tick=False)
def test_the_adjuster_sends_the_minutes_back_and_the_secretary_hears_of_it(
    app: Flask, db: Session, world: Council3, setting: Setting, client_for
) -> None:
    submit_with_entry(db, world, setting)
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
    assert "minutes:minutes:send_back" in audit_tags(db)
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
        assessment=ASSESSED,
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
        assessment=ASSESSED,
    )  # fmt: skip
    assert len(notifications(db, "action_assigned")) == 1


# --- Overdue carried-over actions -----------------------------------------------------------------


def open_action_and_next_meeting(
    db: Session, world: Council3, setting: Setting, *, due_in_days: int
) -> Meeting:
    """Social services take on a follow-up due in ``due_in_days``; the next meeting is four
    weeks on."""
    create_action(
        db, setting.social, setting.meeting, setting.child, "Uppföljning", setting.social.agency,
        None, TODAY + dt.timedelta(days=due_in_days), "", (), assessment=ASSESSED,
    )  # fmt: skip
    return make_meeting(db, world.council, NOW + dt.timedelta(days=28))


def test_overdue_carried_over_actions_are_marked_in_the_workspace(
    app: Flask, db: Session, world: Council3, setting: Setting
) -> None:
    with time_machine.travel(NOW, tick=False):
        later = open_action_and_next_meeting(db, world, setting, due_in_days=7)
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
        later = open_action_and_next_meeting(db, world, setting, due_in_days=14)
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
        denied_before = audit_tags(db).count("access:denied")
        refused = log_in(app.test_client(), outsider).post(brief_url, data={field: "Utifrån"})
        assert refused.status_code == 403
        assert audit_tags(db).count("access:denied") == denied_before + 1

        done = social.post(brief_url, data={field: "Läget-Hemligt"})
        assert done.status_code == 302
        item = db.scalars(select(AgendaItem).where(AgendaItem.meeting_id == later.id)).one()
        assert item.source is AgendaSource.OPEN_ACTIONS and item.brief_record_id is not None
        assert "meetings:agenda:brief" in audit_tags(db)
        assert "Läget-Hemligt" in social.get(url).text
        # The police have no disclosure of it: withheld, like any other brief.
        police_page = log_in(app.test_client(), setting.police).get(url).text
        assert "Läget-Hemligt" not in police_page and "Undanhållen" in police_page
        twice = social.post(brief_url, data={field: "Igen"})
        assert twice.status_code == 422 and "redan en lägesbeskrivning" in twice.text
