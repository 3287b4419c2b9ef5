"""The plan on a network meeting's projector (the part minutes registers with meetings): each
text only when every agency in the room may read it."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy.orm import Session

from coordination.db import today_local
from coordination.models import AgencyKind
from meetings.models import Attendance, AttendanceStatus
from minutes.plans import goals, services
from tests.conftest import Council3, log_in
from tests.meetings.network_helpers import child_of, network_with_family

GOAL = "PROJGOAL-social-only"


def test_the_projector_shows_the_plan_as_every_agency_in_the_room_may_see_it(
    app: Flask, db: Session, world: Council3
) -> None:
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    child = child_of(db, world)
    plan = services.create_plan(db, social, child, world.coordinator)
    goals.add_goal(
        db,
        social,
        services.latest_version(plan),
        goals.GoalInput("school", today_local() + dt.timedelta(days=60), GOAL, "Närvaro"),
    )
    network = network_with_family(db, world, child)
    db.commit()
    url = f"/network-meetings/{network.meeting_id}/projector"

    everyone = log_in(app.test_client(), social).get(url).get_data(as_text=True)
    assert "Individuell plan, version 1" in everyone
    assert "plan-projection" in everyone
    assert GOAL not in everyone, "the police and the school may not read social services' goal"

    db.execute(
        Attendance.__table__.update()
        .where(Attendance.meeting_id == network.meeting_id, Attendance.user_id != social.id)
        .values(status=AttendanceStatus.EXCUSED)
    )
    db.commit()
    alone = log_in(app.test_client(), social).get(url).get_data(as_text=True)
    assert GOAL in alone
