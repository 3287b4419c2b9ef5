"""The demo has living meetings: schedules, six months of meetings, an agenda with briefs."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.models import Council, User
from meetings.models import AgendaItem, Meeting, Schedule
from tests.conftest import log_in


def test_demo_meetings_and_a_prepared_bob_agenda(app: Flask, db: Session) -> None:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert len(db.scalars(select(Schedule)).all()) == 3
    for council in db.scalars(select(Council)):
        meetings = db.scalars(select(Meeting).where(Meeting.council_id == council.id)).all()
        assert len(meetings) >= 6, council.code  # six months ahead, at least monthly
    items = db.scalars(select(AgendaItem)).all()
    assert len(items) == 2 and all(i.brief_record_id for i in items)
    meeting_id = items[0].meeting_id
    users = {u.email: u for u in db.scalars(select(User))}
    secretary = log_in(app.test_client(), users["socialsekreterare@exempelstad.se"])
    police = log_in(app.test_client(), users["polis@exempelstad.se"])
    own = secretary.get(f"/meetings/{meeting_id}").text
    assert "kriminella nätverk" in own
    other = police.get(f"/meetings/{meeting_id}").text
    assert "kriminella nätverk" not in other
    assert "Ingen uppgiftslämning till din myndighet." in other
