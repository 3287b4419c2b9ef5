"""Shared set-up of the network meeting tests: a child of the test council and a network
meeting about it, called by social services."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from coordination.models import AgencyKind, Child
from meetings.network.models import NetworkMeeting
from meetings.network.services import NetworkMeetingData, add_participant, create_network_meeting
from secrecy.records.children import EnrolmentData, enrol_child
from tests.conftest import Council3

# Monday 2 March 2026, 09:00 UTC; the meeting is on Wednesday 11 March, 13:00 Swedish time.
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 3, 11)


def child_of(db: Session, world: Council3, number: str = "20121212-1212") -> Child:
    return enrol_child(
        db,
        world.members[AgencyKind.SOCIAL_SERVICES],
        world.council,
        EnrolmentData("Förnamn", "Efternamn", number),
    )


def meeting_data(child: Child | None, **changes: object) -> NetworkMeetingData:
    fields: dict[str, object] = {
        "child": child,
        "kind": "sspf_network",
        "purpose": "agree_plan",
        "day": DAY,
        "start_time": dt.time(13, 0),
        "duration_minutes": 90,
        "location": "Familjecentralen, rum 2",
        "agency_ids": (),
    }
    fields.update(changes)
    return NetworkMeetingData(**fields)  # type: ignore[arg-type]


def network_with_family(db: Session, world: Council3, child: Child) -> NetworkMeeting:
    """A network meeting with the young person and a guardian, every agency invited."""
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    network = create_network_meeting(
        db,
        social,
        world.council,
        meeting_data(child, agency_ids=[a.id for a in world.agencies.values()]),
        now=NOW,
    )
    add_participant(db, social, network, "young_person", "Ungnamn Namnmarkör")
    add_participant(db, social, network, "guardian", "Vhnamn Namnmarkör", "vh@example.se")
    db.flush()
    return network
