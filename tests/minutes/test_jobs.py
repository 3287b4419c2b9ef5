"""Reminder sweeps of the minutes package: actions due soon, overdue actions, minutes waiting
for approval. Idempotent, rate-limited by their dedup keys, and free of personal data."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.models import AgencyKind, Child, User
from coordination.scheduler import job_specs
from meetings.models import Meeting, MeetingStatus, Notification
from minutes import jobs
from minutes.models import (
    ActionStatus,
    AgreedAction,
    ApprovalRole,
    Minutes,
    MinutesApproval,
    MinutesStatus,
)
from secrecy.records.services import create_record
from tests import factories
from tests.conftest import Council3
from tests.factories import MembershipFactory, UserFactory

MARKER = "BESKRIVNING-HEMLIG-123"
PERSONNUMMER = "20121212-1212"
SOCIAL, POLICE, SCHOOL = AgencyKind.SOCIAL_SERVICES, AgencyKind.POLICE, AgencyKind.SCHOOL
# Monday 9 March 2026, noon in Stockholm (ISO week 11).
MONDAY = dt.datetime(2026, 3, 9, 11, 0, tzinfo=dt.UTC)
FRIDAY = MONDAY + dt.timedelta(days=4)
NEXT_MONDAY = MONDAY + dt.timedelta(days=7)


def make_meeting(db: Session, world: Council3, starts_at: dt.datetime, **fields: object) -> Meeting:
    """A held meeting of ``world``'s council unless ``fields`` say otherwise."""
    return factories.make_meeting(
        db, world.council, starts_at, **{"status": MeetingStatus.HELD, **fields}
    )


def make_child(db: Session, world: Council3) -> Child:
    return factories.enrol(db, world.members[SOCIAL], world.council, PERSONNUMMER)


def make_action(
    db: Session,
    world: Council3,
    meeting: Meeting,
    child: Child,
    due_on: dt.date,
    *,
    agency: AgencyKind = POLICE,
    responsible: User | None = None,
    status: ActionStatus = ActionStatus.OPEN,
    closed_at: dt.datetime | None = None,
    text: str = MARKER,
) -> AgreedAction:
    author = world.members[SOCIAL]
    record = create_record(db, author, child, "agreed_action", text)
    action = AgreedAction(
        child_id=child.id,
        meeting_id=meeting.id,
        description_record_id=record.id,
        responsible_agency_id=world.agencies[agency].id,
        responsible_user_id=responsible.id if responsible else None,
        due_on=due_on,
        status=status,
        created_by_id=author.id,
        closed_at=closed_at,
    )
    db.add(action)
    db.flush()
    return action


def outbox(db: Session) -> list[Notification]:
    return list(db.scalars(select(Notification).order_by(Notification.id)))


def assert_no_personal_data(rows: list[Notification], child: Child) -> None:
    secrets = [MARKER, child.pseudonym, "Kalle", "Hemligsson", PERSONNUMMER, "121212"]
    for row in rows:
        for secret in secrets:
            assert secret not in row.subject
            assert secret not in row.body
            assert secret not in row.link
        assert "Testrådet" in row.subject


@pytest.fixture
def meeting(db: Session, world: Council3) -> Meeting:
    return make_meeting(db, world, dt.datetime(2026, 2, 10, 8, 0, tzinfo=dt.UTC))


@pytest.fixture
def child(db: Session, world: Council3) -> Child:
    return make_child(db, world)


# --- Due in three days ----------------------------------------------------------------------------


def test_due_reminder_goes_to_the_responsible_user_once(
    db: Session, world: Council3, meeting: Meeting, child: Child
) -> None:
    police = world.members[POLICE]
    action = make_action(db, world, meeting, child, dt.date(2026, 3, 12), responsible=police)
    make_action(db, world, meeting, child, dt.date(2026, 3, 20), responsible=police)  # later
    make_action(
        db, world, meeting, child, dt.date(2026, 3, 11), responsible=police,
        status=ActionStatus.DONE,
    )  # fmt: skip

    assert jobs.action_due_reminders(db, MONDAY) == 1
    assert jobs.action_due_reminders(db, MONDAY) == 0
    assert jobs.action_due_reminders(db, MONDAY + dt.timedelta(hours=5)) == 0
    rows = outbox(db)
    assert [(r.recipient_id, r.kind) for r in rows] == [(police.id, "action_due")]
    assert rows[0].link == f"/actions/{action.id}"
    assert "12 mars 2026" in rows[0].subject
    assert rows[0].dedup_key == f"action-due:{action.id}:2026-03-12:{police.id}"
    assert_no_personal_data(rows, child)

    # A new due date is a new reminder.
    action.due_on = dt.date(2026, 3, 11)
    db.flush()
    assert jobs.action_due_reminders(db, MONDAY) == 1


def test_due_reminder_without_a_responsible_user_goes_to_the_agencys_members(
    db: Session, world: Council3, meeting: Meeting, child: Child
) -> None:
    second = UserFactory(agency=world.agencies[SCHOOL], email="school2@example.com")
    MembershipFactory(council=world.council, user=second)
    UserFactory(agency=world.agencies[SCHOOL], email="not-a-member@example.com")
    db.flush()
    make_action(db, world, meeting, child, dt.date(2026, 3, 9), agency=SCHOOL)

    assert jobs.action_due_reminders(db, MONDAY) == 2
    assert jobs.action_due_reminders(db, MONDAY) == 0
    assert {r.recipient_id for r in outbox(db)} == {world.members[SCHOOL].id, second.id}
    assert_no_personal_data(outbox(db), child)


def test_due_reminder_skips_overdue_and_later_actions(
    db: Session, world: Council3, meeting: Meeting, child: Child
) -> None:
    make_action(db, world, meeting, child, dt.date(2026, 3, 8))  # yesterday: overdue instead
    make_action(db, world, meeting, child, dt.date(2026, 3, 13))  # four days ahead
    assert jobs.action_due_reminders(db, MONDAY) == 0
    assert outbox(db) == []


# --- Overdue -------------------------------------------------------------------------------------


def test_overdue_reminder_at_most_once_per_iso_week(
    db: Session, world: Council3, meeting: Meeting, child: Child
) -> None:
    police = world.members[POLICE]
    action = make_action(db, world, meeting, child, dt.date(2026, 3, 2), responsible=police)
    make_action(
        db, world, meeting, child, dt.date(2026, 3, 2), responsible=police,
        status=ActionStatus.NOT_DONE,
    )  # fmt: skip

    assert jobs.action_overdue_reminders(db, MONDAY) == 1
    assert jobs.action_overdue_reminders(db, MONDAY) == 0
    assert jobs.action_overdue_reminders(db, FRIDAY) == 0
    assert len(outbox(db)) == 1
    assert jobs.action_overdue_reminders(db, NEXT_MONDAY) == 1
    rows = outbox(db)
    assert len(rows) == 2
    assert [r.dedup_key for r in rows] == [
        f"action-overdue:{action.id}:2026-11:{police.id}",
        f"action-overdue:{action.id}:2026-12:{police.id}",
    ]
    assert all(r.kind == "action_overdue" for r in rows)
    assert_no_personal_data(rows, child)

    action.status = ActionStatus.DONE
    db.flush()
    assert jobs.action_overdue_reminders(db, NEXT_MONDAY + dt.timedelta(days=7)) == 0


def test_inactive_responsible_user_falls_back_to_the_agency(
    db: Session, world: Council3, meeting: Meeting, child: Child
) -> None:
    gone = UserFactory(agency=world.agencies[POLICE], email="gone@example.com", active=False)
    db.flush()
    make_action(db, world, meeting, child, dt.date(2026, 3, 2), responsible=gone)
    assert jobs.action_overdue_reminders(db, MONDAY) == 1
    assert [r.recipient_id for r in outbox(db)] == [world.members[POLICE].id]


# --- Minutes awaiting approval --------------------------------------------------------------------


def make_minutes(
    db: Session, world: Council3, meeting: Meeting, submitted_at: dt.datetime
) -> Minutes:
    meeting.chair_id = world.coordinator.id
    minutes = Minutes(
        meeting_id=meeting.id,
        status=MinutesStatus.SUBMITTED,
        adjuster_id=world.members[POLICE].id,
        submitted_at=submitted_at,
        submitted_by_id=world.coordinator.id,
    )
    db.add(minutes)
    db.flush()
    return minutes


def test_approval_reminder_only_after_five_days(
    db: Session, world: Council3, meeting: Meeting, child: Child
) -> None:
    minutes = make_minutes(db, world, meeting, MONDAY - dt.timedelta(days=4))
    assert jobs.approval_reminders(db, MONDAY) == 0
    assert jobs.approval_reminders(db, MONDAY + dt.timedelta(days=1)) == 0  # exactly five days

    later = MONDAY + dt.timedelta(days=1, hours=1)
    assert jobs.approval_reminders(db, later) == 2
    assert jobs.approval_reminders(db, later + dt.timedelta(hours=3)) == 0  # same day
    rows = outbox(db)
    assert {r.recipient_id for r in rows} == {world.coordinator.id, world.members[POLICE].id}
    assert all(r.link == f"/meetings/{meeting.id}/minutes" for r in rows)
    assert all(r.kind == "minutes_approval" for r in rows)
    assert_no_personal_data(rows, child)

    # The chair has approved: the next day only the adjuster is reminded.
    db.add(
        MinutesApproval(
            minutes_id=minutes.id, user_id=world.coordinator.id, role=ApprovalRole.CHAIR
        )
    )
    db.flush()
    assert jobs.approval_reminders(db, later + dt.timedelta(days=1)) == 1
    assert outbox(db)[-1].recipient_id == world.members[POLICE].id

    minutes.status = MinutesStatus.APPROVED
    db.flush()
    assert jobs.approval_reminders(db, later + dt.timedelta(days=2)) == 0


def test_draft_minutes_are_not_reminded(db: Session, world: Council3, meeting: Meeting) -> None:
    minutes = make_minutes(db, world, meeting, MONDAY - dt.timedelta(days=30))
    minutes.status = MinutesStatus.DRAFT
    db.flush()
    assert jobs.approval_reminders(db, MONDAY) == 0


def test_the_scheduler_runs_the_three_sweeps(app: Flask) -> None:
    specs = {spec.id: spec for spec in job_specs(app)}
    assert specs["minutes.action_due_reminders"].func is jobs.action_due_reminders
    assert specs["minutes.action_overdue_reminders"].func is jobs.action_overdue_reminders
    assert specs["minutes.approval_reminders"].func is jobs.approval_reminders
