"""Dashboards across councils, overdue at midnight in Stockholm, and the leak test extended to
the workspace, print view, action lists, reports and reminders."""

from __future__ import annotations

import datetime as dt

import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.db import today_local
from coordination.models import AgencyKind, Council, User
from meetings.agenda.items import add_agenda_item
from meetings.models import Meeting, Notification
from minutes.actions.services import create_action
from minutes.jobs import action_due_reminders, action_overdue_reminders
from minutes.models import EntryKind
from minutes.workspace.services import add_entry
from secrecy.records.children import EnrolmentData, enrol_child
from secrecy.records.services import create_record
from tests.conftest import Council3, log_in
from tests.factories import CouncilFactory, MembershipFactory, days_from_now, make_meeting
from tests.minutes.test_actions import make_action
from tests.secrecy.test_leak import crawl

SOCIAL, POLICE, SCHOOL = AgencyKind.SOCIAL_SERVICES, AgencyKind.POLICE, AgencyKind.SCHOOL


def meeting_in(db: Session, council: Council, days: int) -> Meeting:
    """A two-hour meeting of ``council``, ``days`` days from now."""
    return make_meeting(db, council, days_from_now(days))


def test_the_police_dashboard_spans_their_councils_and_nothing_else(
    app: Flask, world: Council3, db: Session
) -> None:
    officer = world.members[POLICE]
    social = world.members[SOCIAL]
    second = CouncilFactory(agencies=[world.agencies[SOCIAL], world.agencies[POLICE]])
    third = CouncilFactory(agencies=[world.agencies[SOCIAL], world.agencies[POLICE]])
    MembershipFactory(council=second, user=officer)
    MembershipFactory(council=second, user=social)
    MembershipFactory(council=third, user=social)  # the officer is not in the third council
    actions = {}
    for council, number in (
        (world.council, "20121212-1212"),
        (second, "20100101-0014"),
        (third, "20080510-1235"),
    ):
        child = enrol_child(db, social, council, EnrolmentData("A", "B", number))
        meeting = meeting_in(db, council, -10)
        actions[council.id] = make_action(db, world, child, meeting, text=f"Åtgärd-{council.code}")
    page = log_in(app.test_client(), officer).get("/actions/agency").text
    assert f"Åtgärd-{world.council.code}" in page and f"Åtgärd-{second.code}" in page
    assert f"Åtgärd-{third.code}" not in page
    assert third.name not in page


def test_overdue_turns_at_midnight_in_stockholm(app: Flask, world: Council3, db: Session) -> None:
    child = enrol_child(
        db, world.members[SOCIAL], world.council, EnrolmentData("A", "B", "20121212-1212")
    )
    action = make_action(db, world, child, meeting_in(db, world.council, -10))
    action.due_on = dt.date(2026, 3, 10)
    db.flush()
    officer = world.members[POLICE]
    # 23:30 on the due date in Stockholm (22:30 UTC): not yet overdue.
    with time_machine.travel(dt.datetime(2026, 3, 10, 22, 30, tzinfo=dt.UTC), tick=False):
        page = log_in(app.test_client(), officer).get("/actions/agency?due=all").text
        assert "Hembesök med familjen" in page and ">Försenad<" not in page
    # 00:30 the next day in Stockholm is still 23:30 on the due date in UTC: overdue.
    with time_machine.travel(dt.datetime(2026, 3, 10, 23, 30, tzinfo=dt.UTC), tick=False):
        page = log_in(app.test_client(), officer).get("/actions/agency?due=all").text
        assert ">Försenad<" in page


def test_minutes_content_is_seen_only_where_it_may_be(
    app: Flask, world: Council3, db: Session
) -> None:
    """Entries of every agency, a brief and an action description disclosed to the police:
    every page reachable from the navigation (workspace, print view, action lists, reports) is
    crawled as each agency, and every notification is searched."""
    social = world.members[SOCIAL]
    child = enrol_child(db, social, world.council, EnrolmentData("A", "B", "20121212-1212"))
    meeting = meeting_in(db, world.council, 14)
    add_agenda_item(db, social, meeting, child, "risk_protective", "BRIEF-MARK-social")
    owners: dict[str, set[AgencyKind]] = {"BRIEF-MARK-social": {SOCIAL}}
    for kind, user in world.members.items():
        marker = f"ENTRY-MARK-{kind.value}"
        add_entry(db, user, meeting, child, EntryKind.ENTRY, "meeting_note", marker)
        owners[marker] = {kind}
    create_action(
        db,
        social,
        meeting,
        child,
        "ACTION-MARK-police",
        world.agencies[POLICE],
        world.members[POLICE],
        today_local() + dt.timedelta(days=2),
        "sol-police-u21",
        [0, 1, 2, 3],
        assessment="ACTION-ASSESSMENT-MARK: polisen behöver beskrivningen för sitt hembesök.",
    )
    owners["ACTION-MARK-police"] = {SOCIAL, POLICE}
    # The written assessment behind the disclosure travels with it, to the recipient only.
    owners["ACTION-ASSESSMENT-MARK"] = {SOCIAL, POLICE}
    create_record(db, social, child, "family", "FAMILY-MARK-social")
    owners["FAMILY-MARK-social"] = {SOCIAL}
    db.flush()
    for kind, user in world.members.items():
        text = "\n".join(crawl(log_in(app.test_client(), user)).values())
        seen = {m for m in owners if m in text}
        allowed = {m for m, kinds in owners.items() if kind in kinds}
        assert seen == allowed, (kind, sorted(seen ^ allowed))
        assert f"/meetings/{meeting.id}/minutes" in text  # the crawl reached the workspace
    now = dt.datetime.now(dt.UTC)
    action_due_reminders(db, now)
    action_overdue_reminders(db, now + dt.timedelta(days=10))
    notes = db.scalars(select(Notification)).all()
    assert notes, "the reminders must have produced notifications"
    for note in notes:
        blob = f"{note.subject} {note.body} {note.link}"
        assert not any(marker in blob for marker in owners)
        assert "TEST-" not in blob  # no pseudonym
    assert all(isinstance(u, User) for u in world.members.values())
