"""API: network meetings and their participants, with the pages' access rules and secrecy:
names and voices withheld from agencies without a basis, refusals as problem details."""

from __future__ import annotations

from collections.abc import Callable

import time_machine
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.api.openapi import document
from coordination.models import AgencyKind
from coordination.tokens.services import Scope
from meetings.network.models import NetworkMeeting, NetworkParticipant
from tests.api.conftest import Api, field_errors, problem
from tests.conftest import Council3
from tests.meetings.network_helpers import NOW, child_of, network_with_family

SOCIAL = AgencyKind.SOCIAL_SERVICES
POLICE = AgencyKind.POLICE


def _body(child_id: int | None, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "child_id": child_id,
        "kind": "custom_under_18",
        "purpose": "agree_plan",
        "day": "2026-03-12",
        "start_time": "13:00",
        "duration_minutes": 60,
        "place": "Polishuset",
    }
    body.update(changes)
    return body


@time_machine.travel(NOW, tick=False)
def test_calling_and_reading_a_network_meeting(
    api_as: Callable[..., Api], world: Council3, db: Session
) -> None:
    child = child_of(db, world)
    db.commit()
    social = api_as(world.members[SOCIAL], Scope.READ, Scope.WRITE)
    url = f"/api/v1/councils/{world.council.id}/network-meetings"
    for body, field in (
        (_body(None), "child_id"),
        (_body(child.id, day="2026-03-01"), "day"),
        (_body(999999), "child_id"),
        # Beyond the database's integer ids: refused by the body's schema, never a 500.
        (_body(2**36 + 1), "child_id"),
    ):
        assert field in field_errors(social.post(url, json=body)), body
    assert db.scalar(select(func.count()).select_from(NetworkMeeting)) == 0
    created = social.post(url, json=_body(child.id))
    assert created.status_code == 201, created.get_data(as_text=True)
    meeting_id = created.get_json()["meeting_id"]
    assert created.get_json()["pseudonym"] == child.pseudonym
    listed = social.get(url).get_json()["items"]
    assert [n["meeting_id"] for n in listed] == [meeting_id]
    school = api_as(world.members[AgencyKind.SCHOOL], Scope.READ, Scope.WRITE)
    problem(school.post(url, json=_body(child.id)), 403)


@time_machine.travel(NOW, tick=False)
def test_participants_names_are_withheld_from_other_agencies(
    api_as: Callable[..., Api], world: Council3, db: Session
) -> None:
    network = network_with_family(db, world, child_of(db, world))
    db.commit()
    social = api_as(world.members[SOCIAL], Scope.READ, Scope.WRITE)
    police = api_as(world.members[POLICE], Scope.READ, Scope.WRITE)
    path = f"/api/v1/network-meetings/{network.meeting_id}"
    own = social.get(path).get_json()
    assert [p["name"]["content"]["name"] for p in own["participants"]] == [
        "Ungnamn Namnmarkör",
        "Vhnamn Namnmarkör",
    ]
    theirs = police.get(path).get_data(as_text=True)
    assert "Namnmarkör" not in theirs
    assert all(p["name"]["withheld"] for p in police.get(path).get_json()["participants"])

    bad = social.post(
        f"{path}/participants", json={"role": "relative", "name": "Moster", "email": "moster@"}
    )
    assert "email" in field_errors(bad)
    problem(police.post(f"{path}/participants", json={"role": "relative", "name": "X"}), 403)
    assert db.scalar(select(func.count()).select_from(NetworkParticipant)) == 2
    added = social.post(
        f"{path}/participants",
        json={"role": "support_person", "name": "Stöd Person", "email": "stod@example.se"},
    )
    assert added.status_code == 201
    assert len(added.get_json()["participants"]) == 3

    voice = police.post(f"{path}/voices", json={"text": "Polisens röstanteckning."})
    assert voice.status_code == 201
    assert "Polisens röstanteckning." not in social.get(path).get_data(as_text=True)
    assert "Polisens röstanteckning." in police.get(path).get_data(as_text=True)
    assert "text" in field_errors(police.post(f"{path}/voices", json={"text": "  "}))


def test_the_openapi_names_the_network_paths(app: Flask) -> None:
    paths = document(app)["paths"]
    assert "get" in paths["/api/v1/network-meetings/{meeting_id}"]
    assert "post" in paths["/api/v1/network-meetings/{meeting_id}/participants"]
    assert "post" in paths["/api/v1/network-meetings/{meeting_id}/voices"]
    assert {"get", "post"} <= set(paths["/api/v1/councils/{council_id}/network-meetings"])
