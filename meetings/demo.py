"""Demo meetings for Exempelstad: each council's monthly schedule, six months materialised, and
the demo children on the next Bob meeting's agenda with sealed briefs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.db import today_local
from coordination.models import Child, Council, User
from meetings.agenda import add_agenda_item
from meetings.models import Meeting, MeetingStatus
from meetings.schedules import ScheduleData, create_schedule

# council code -> (schedule name, RRULE, start, minutes, location)
SCHEDULES = {
    "CENTRUM": (
        "Månadsmöte",
        "FREQ=MONTHLY;BYDAY=+2WE",
        dt.time(9, 0),
        120,
        "Stadshuset, rum 3",
    ),
    "NORR": ("Månadsmöte", "FREQ=MONTHLY;BYDAY=+1TU", dt.time(13, 0), 90, "Norrskolan, aulan"),
    "SIG": ("SIG-möte", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", dt.time(10, 0), 60, "Socialkontoret"),
}

# Briefs for the Bob council's demo children, in enrolment order (see secrecy/demo.py).
BRIEFS = [
    (
        "risk_protective",
        "Oro för kontakter med äldre i kriminella nätverk; skolan rapporterar frånvaro.",
    ),
    ("risk_protective", "Hög frånvaro under våren; fotbollen är en viktig skyddsfaktor."),
]


def load_meetings_demo(session: Session) -> None:
    coordinator = session.scalars(
        select(User).where(User.email == "samordnare@exempelstad.se")
    ).one()
    today = today_local()
    for code, (name, rule, start, minutes, place) in SCHEDULES.items():
        council = session.scalars(select(Council).where(Council.code == code)).one()
        create_schedule(
            session,
            coordinator,
            council,
            ScheduleData(
                name=name,
                rrule=rule,
                start_time=start,
                duration_minutes=minutes,
                starts_on=today.replace(day=1),
                location=place,
            ),
            today=today,
        )
    _prepare_bob_agenda(session, today)


def _prepare_bob_agenda(session: Session, today: dt.date) -> None:
    secretary = session.scalars(
        select(User).where(User.email == "socialsekreterare@exempelstad.se")
    ).one()
    bob = session.scalars(select(Council).where(Council.code == "CENTRUM")).one()
    meeting = session.scalars(
        select(Meeting)
        .where(Meeting.council_id == bob.id, Meeting.status == MeetingStatus.PLANNED)
        .where(Meeting.starts_at >= dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC))
        .order_by(Meeting.starts_at)
        .offset(1)  # the one after next: its agenda deadline is still ahead
    ).first()
    if meeting is None:
        return
    children = session.scalars(
        select(Child).where(Child.council_id == bob.id).order_by(Child.id)
    ).all()
    for child, (category, brief) in zip(children, BRIEFS, strict=False):
        add_agenda_item(session, secretary, meeting, child, category, brief, today=today)
