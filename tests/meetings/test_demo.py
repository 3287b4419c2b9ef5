"""The demo has living meetings: schedules begun six meetings ago, those six held (attendance,
chair, minute taker, agendas with briefs), the meetings ahead materialised and the next agenda
being prepared, with one brief disclosed to the police and one withheld."""

from __future__ import annotations

import ast
import re

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.db import today_local
from coordination.models import Council, User
from demo.meetings import past_meetings, prepared_meeting, upcoming_meetings
from demo.secrecy import CHILDREN
from meetings.agenda.deadline import deadline_passed
from meetings.models import AgendaItem, AgendaSource, AttendanceStatus, Schedule
from tests.conftest import ROOT, log_in


def test_demo_meetings_past_and_ahead(app: Flask, db: Session) -> None:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    today = today_local()
    assert len(db.scalars(select(Schedule)).all()) == 3
    users = {u.email: u for u in db.scalars(select(User))}
    for council in db.scalars(select(Council)):
        past = past_meetings(db, council, today)
        assert len(past) == 6, council.code
        assert len(upcoming_meetings(db, council, today)) >= 5, council.code
        for meeting in past:
            assert meeting.chair_id == users["samordnare@exempelstad.se"].id
            assert meeting.minute_taker_id == users["socialsekreterare@exempelstad.se"].id
            statuses = {a.status for a in meeting.attendances}
            assert AttendanceStatus.INVITED not in statuses
            assert AttendanceStatus.PRESENT in statuses
            manual = [i for i in meeting.agenda_items if i.source is AgendaSource.MANUAL]
            assert manual and all(i.brief_record_id for i in manual)
        prepared = prepared_meeting(db, council, today)
        assert prepared is not None and not deadline_passed(prepared, today=today)
        assert len([i for i in prepared.agenda_items if i.brief_record_id]) == 2
    sig = db.scalars(select(Council).where(Council.code == "SIG")).one()
    away = {a.status for m in past_meetings(db, sig, today) for a in m.attendances}
    assert {AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED} <= away

    bob = db.scalars(select(Council).where(Council.code == "CENTRUM")).one()
    meeting = prepared_meeting(db, bob, today)
    assert meeting is not None
    briefs = db.scalars(
        select(AgendaItem).where(
            AgendaItem.meeting_id == meeting.id, AgendaItem.brief_record_id.is_not(None)
        )
    ).all()
    assert len(briefs) == 2
    secretary = log_in(app.test_client(), users["socialsekreterare@exempelstad.se"])
    police = log_in(app.test_client(), users["polis@exempelstad.se"])
    own = secretary.get(f"/meetings/{meeting.id}").text
    assert "familjen har tackat ja till kontaktperson" in own
    assert "Förslag att avsluta den unges ärende" in own
    other = police.get(f"/meetings/{meeting.id}").text
    assert "familjen har tackat ja till kontaktperson" in other  # disclosed, 10 kap. 18 a §
    assert "Förslag att avsluta den unges ärende" not in other
    assert "Ingen uppgiftslämning till din myndighet." in other


def test_nobody_is_present_at_a_meeting_ahead(app: Flask, db: Session) -> None:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    today = today_local()
    for council in db.scalars(select(Council)):
        ahead = upcoming_meetings(db, council, today)
        assert ahead, council.code
        for meeting in ahead:
            statuses = {a.status for a in meeting.attendances}
            assert AttendanceStatus.PRESENT not in statuses, (council.code, meeting.starts_at)
        prepared = prepared_meeting(db, council, today)
        assert prepared is not None
        assert AttendanceStatus.EXCUSED in {a.status for a in prepared.attendances}


def test_the_demo_texts_name_no_child() -> None:
    """Briefs, entries, actions and comments say "den unge", never a first name (the forms
    say "Skriv inga namn")."""
    first_names = {child.given for child in CHILDREN}
    for module in ("story", "meetings", "minutes"):
        tree = ast.parse((ROOT / "demo" / f"{module}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                words = set(re.findall(r"\w+", node.value))
                named = {n for n in first_names if n in words or f"{n}s" in words}
                assert not named, (module, node.lineno, node.value)
