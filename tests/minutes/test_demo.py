"""The demo's six months of minutes: approved and locked, entries from every agency that
attended, actions in every state, an amendment; the second run changes nothing (not even the
audit log), and the log verifies."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE, Base, today_local
from coordination.models import AgencyKind, Child, Council, User
from demo.meetings import past_meetings
from demo.secrecy import demo_children
from minutes.actions.lists import is_overdue
from minutes.models import (
    ActionStatus,
    ActionUpdate,
    AgreedAction,
    ApprovalRole,
    EntryKind,
    Minutes,
    MinutesEntry,
    MinutesStatus,
)
from minutes.workspace.approval import digest_matches
from secrecy.models import Disclosure, Record
from tests.conftest import log_in

POLICE_MARKER = "låter yngre barn förvara vapen"


def row_counts(db: Session) -> dict[str, int]:
    return {
        table.name: db.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


def test_demo_minutes_actions_and_what_the_school_sees(app: Flask, db: Session) -> None:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    today = today_local()
    councils = {c.code: c for c in db.scalars(select(Council))}
    writers: dict[str, set[AgencyKind]] = {}
    for code, council in councils.items():
        meetings = past_meetings(db, council, today)
        for meeting in meetings:
            minutes = db.scalars(select(Minutes).where(Minutes.meeting_id == meeting.id)).one()
            assert minutes.status is MinutesStatus.APPROVED and digest_matches(db, minutes)
            approvers = {a.role: a.user_id for a in minutes.approvals}
            assert set(approvers) == set(ApprovalRole) and len(set(approvers.values())) == 2
            assert approvers[ApprovalRole.CHAIR] == meeting.chair_id
        authors = db.scalars(
            select(User)
            .join(MinutesEntry, MinutesEntry.author_id == User.id)
            .join(Minutes, Minutes.id == MinutesEntry.minutes_id)
            .where(Minutes.meeting_id.in_([m.id for m in meetings]))
        ).all()
        writers[code] = {u.agency.kind for u in authors}
    assert db.scalar(select(func.count()).select_from(Minutes)) == 18
    social, police = AgencyKind.SOCIAL_SERVICES, AgencyKind.POLICE
    assert {social, police} <= writers["CENTRUM"]
    assert {social, police, AgencyKind.SCHOOL, AgencyKind.LEISURE} <= writers["NORR"]
    assert {social, police, AgencyKind.DISABILITY_SUPPORT, AgencyKind.HEALTHCARE} <= writers["SIG"]
    entries = db.scalars(select(MinutesEntry)).all()
    assert any(e.kind is EntryKind.DECISION for e in entries)
    assert len([e for e in entries if e.amends_id is not None]) == 1

    actions = db.scalars(select(AgreedAction)).all()
    assert set(Counter(a.status for a in actions)) == set(ActionStatus)
    owners = {a.responsible_agency.kind for a in actions}
    assert {social, police, AgencyKind.SCHOOL, AgencyKind.LEISURE} <= owners
    assert any(is_overdue(a, today) for a in actions), "open actions of earlier meetings"
    assert all(a.updates for a in actions if a.status is not ActionStatus.OPEN)

    # SSPF: the police's entry about Malte went to social services as a concern report; the
    # school, with no consent and no basis, sees it withheld.
    malte = demo_children(db)["malte"]
    record = db.scalars(
        select(Record)
        .join(MinutesEntry, MinutesEntry.record_id == Record.id)
        .where(Record.child_id == malte.id, Record.owner_agency.has(kind=police))
        .order_by(Record.id)
    ).first()
    assert record is not None
    recipients = {
        d.recipient_agency.kind: d.basis_id
        for d in db.scalars(select(Disclosure).where(Disclosure.record_id == record.id))
    }
    assert recipients == {social: "concern-report"}
    first = past_meetings(db, councils["NORR"], today)[0]
    users = {u.email: u for u in db.scalars(select(User))}
    school = log_in(app.test_client(), users["skola@exempelstad.se"]).get(
        f"/meetings/{first.id}/minutes"
    )
    assert school.status_code == 200
    assert POLICE_MARKER not in school.text
    assert "Uppgiften visas inte:" in school.text
    secretary = log_in(app.test_client(), users["socialsekreterare@exempelstad.se"])
    assert POLICE_MARKER in secretary.get(f"/meetings/{first.id}/minutes").text


def test_demo_twice_changes_nothing_and_the_log_verifies(app: Flask, db: Session) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    before = row_counts(db)
    assert before["audit_events"] > 500 and before["records"] > 200
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and "inget ändrades" in second.output
    assert row_counts(db) == before
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "Loggkedjan är hel" in verified.output


def test_the_demo_history_is_dated_when_it_happened(app: Flask, db: Session) -> None:
    """Enrolments months ago, a meeting's entries and actions during it, its approval after
    it, follow-ups before the meeting they were reported at: not all this morning."""
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    today = today_local()
    children = db.scalars(select(Child)).all()
    assert children and all((today - c.enrolled_on).days > 150 for c in children)
    for council in db.scalars(select(Council)):
        for meeting in past_meetings(db, council, today):
            minutes = db.scalars(select(Minutes).where(Minutes.meeting_id == meeting.id)).one()
            assert minutes.approved_at is not None and minutes.approved_at > meeting.ends_at
            assert minutes.approved_at < meeting.ends_at + dt.timedelta(days=4)
            originals = [e for e in minutes.entries if e.amends_id is None]
            for entry in originals:
                assert meeting.starts_at <= entry.created_at <= meeting.ends_at
                record = db.get_one(Record, entry.record_id)
                assert record.created_at == entry.created_at
            for action in db.scalars(
                select(AgreedAction).where(AgreedAction.meeting_id == meeting.id)
            ):
                assert action.created_at.astimezone(LOCAL_ZONE).date() == (
                    meeting.starts_at.astimezone(LOCAL_ZONE).date()
                )
    updates = db.scalars(select(ActionUpdate)).all()
    assert updates and all(u.created_at.astimezone(LOCAL_ZONE).date() < today for u in updates)
