"""The demo's network meeting: in SSPF Norr the social secretary calls Hugo, his guardian and a
support person to an SSPF network meeting next week with school, police and leisure; the
invitations are written, and Hugo's own words from the preparatory talk are recorded."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.db import today_local
from demo.coordination import SECRETARY, demo_users
from demo.secrecy import CHILDREN, demo_children
from meetings.network.letters import create_letter
from meetings.network.models import NetworkMeeting
from meetings.network.services import (
    NetworkMeetingData,
    add_participant,
    create_network_meeting,
    record_voice,
)

CHILD = "hugo"
LEAD_DAYS = 9
VOICE = (
    "Hugo säger att han vill fortsätta med fotbollen och att det är lugnare hemma nu. Han vill "
    "inte byta skola men behöver hjälp med matten."
)


def load_network_demo(session: Session) -> None:
    """Does nothing when the demo has a network meeting already."""
    if session.scalar(select(NetworkMeeting.meeting_id).limit(1)) is not None:
        return
    child = demo_children(session).get(CHILD)
    if child is None:
        return
    spec = next(c for c in CHILDREN if c.key == CHILD)
    secretary = demo_users(session)[SECRETARY]
    network = create_network_meeting(
        session,
        secretary,
        child.council,
        NetworkMeetingData(
            child=child,
            kind="sspf_network",
            purpose="agree_plan",
            day=today_local() + dt.timedelta(days=LEAD_DAYS),
            start_time=dt.time(15, 0),
            duration_minutes=75,
            location="Familjecentralen Norr, samtalsrummet",
            agency_ids=[a.id for a in child.council.agencies],
        ),
    )
    people: list[tuple[str, str, str | None]] = [
        ("young_person", f"{spec.given} {spec.family}", None)
    ]
    people += [("guardian", name, None) for name in spec.guardians[:1]]
    people += [("support_person", "Kim Kontaktperson", "kim.kontaktperson@example.se")]
    for role, name, email in people:
        participant = add_participant(session, secretary, network, role, name, email)
        create_letter(session, secretary, network, participant)
    record_voice(session, secretary, network, VOICE)
    session.flush()
