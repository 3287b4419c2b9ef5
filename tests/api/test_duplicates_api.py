"""API of the possible duplicates (issue 19): the council's coordinators list the held cases and
close or keep each, with the version they read; everyone else (another agency, a member who is
not a coordinator, another council's coordinator) gets 403 for every id, held or not, and
nothing changes. Bad input is a 422 problem, a stale version 409. Against the schema."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from coordination.audit.log import AuditTag
from coordination.models import AgencyKind, Child, ChildStatus, CloseReason, CouncilRole
from coordination.tokens.services import Scope
from secrecy.duplicates import services as duplicates
from secrecy.tags import SecrecyTag
from tests import factories
from tests.api.conftest import Api, field_errors, problem
from tests.conftest import Council3, audit_events
from tests.factories import CouncilFactory, MembershipFactory, UserFactory

NUMBER = "20121212-1212"
OTHER_NUMBER = "20100101-0014"


def enrol(db: Session, user: object, world: Council3, number: str = NUMBER) -> Child:
    return factories.enrol(db, user, world.council, number, family="Dubbel")


def held_pair(db: Session, world: Council3) -> tuple[Child, Child]:
    original = enrol(db, world.members[AgencyKind.SOCIAL_SERVICES], world)
    held = enrol(db, world.members[AgencyKind.POLICE], world)
    db.flush()
    assert held.duplicate_of_id == original.id
    return original, held


def test_the_coordinator_lists_and_closes(
    api_as: Callable[..., Api], world: Council3, db: Session
) -> None:
    original, held = held_pair(db, world)
    api = api_as(world.coordinator, Scope.READ, Scope.WRITE)
    listing = api.get(f"/api/v1/councils/{world.council.id}/possible-duplicates")
    assert listing.status_code == 200
    items = listing.get_json()["items"]
    assert items == [
        {
            "held": {"id": held.id, "pseudonym": held.pseudonym},
            "holder": {"id": original.id, "pseudonym": original.pseudonym},
            "enrolling_agency": {
                "id": world.agencies[AgencyKind.POLICE].id,
                "name": world.agencies[AgencyKind.POLICE].name,
            },
            "enrolled_on": held.enrolled_on.isoformat(),
            "version": held.version,
        }
    ]
    assert "Kalle" not in listing.text and "1212" not in listing.text

    # Bad input: no version, a wrong type, an unknown field; nothing changes.
    path = f"/api/v1/children/{held.id}/duplicate/close"
    assert "version" in field_errors(api.post(path, json={}))
    assert "version" in field_errors(api.post(path, json={"version": "x"}))
    problem(api.post(path, json={"version": held.version, "reason": "x"}), 422)
    # A stale version: 409, nothing changes.
    problem(api.post(path, json={"version": held.version - 1}), 409)
    db.expire_all()
    assert held.status is ChildStatus.ACTIVE

    closed = api.post(path, json={"version": items[0]["version"]})
    assert closed.status_code == 200
    body = closed.get_json()
    assert (body["id"], body["status"], body["close_reason"], body["kept"]) == (
        held.id,
        "closed",
        "duplicate",
        False,
    )
    db.expire_all()
    assert held.status is ChildStatus.CLOSED and held.close_reason is CloseReason.DUPLICATE
    closed_events = audit_events(db, SecrecyTag.CHILD_DUPLICATE_CLOSED)
    assert [(e.actor_user_id, e.object_ids) for e in closed_events] == [
        (world.coordinator.id, [held.id])
    ]
    # Decided: a second decision is a 422 problem in Swedish, and the list is empty.
    again = problem(
        api.post(f"/api/v1/children/{held.id}/duplicate/keep", json={"version": body["version"]}),
        422,
    )
    assert "väntar inte längre" in str(again)
    empty = api.get(f"/api/v1/councils/{world.council.id}/possible-duplicates")
    assert empty.get_json()["items"] == []


def test_the_coordinator_keeps(api_as: Callable[..., Api], world: Council3, db: Session) -> None:
    _, held = held_pair(db, world)
    api = api_as(world.coordinator, Scope.READ, Scope.WRITE)
    kept = api.post(f"/api/v1/children/{held.id}/duplicate/keep", json={"version": held.version})
    assert kept.status_code == 200
    assert (kept.get_json()["status"], kept.get_json()["kept"]) == ("active", True)
    db.expire_all()
    assert held.duplicate_kept_at is not None
    assert duplicates.possible_duplicates(db, world.council) == []
    # A read-only token may list but not decide.
    reader = api_as(world.coordinator, Scope.READ)
    assert reader.get(f"/api/v1/councils/{world.council.id}/possible-duplicates").status_code == 200
    problem(reader.post(f"/api/v1/children/{held.id}/duplicate/close", json={"version": 1}), 403)


def test_nobody_else_gets_anything_of_the_queue(
    api_as: Callable[..., Api], world: Council3, db: Session
) -> None:
    """Every agency's member (the submitting police and the holding social services too), a
    coordinator of another council: 403 for the list and for each decision, on the held case,
    on the case holding the number and on an id that does not exist, all alike and logged."""
    original, held = held_pair(db, world)
    plain = enrol(db, world.members[AgencyKind.SCHOOL], world, OTHER_NUMBER)
    elsewhere = UserFactory(
        agency=world.agencies[AgencyKind.SOCIAL_SERVICES], email="samordnare@annat.example"
    )
    MembershipFactory(
        council=CouncilFactory(agencies=list(world.agencies.values()), code="ANN"),
        user=elsewhere,
        council_role=CouncilRole.COORDINATOR,
    )
    db.flush()
    outsiders = [world.members[kind] for kind in AgencyKind] + [elsewhere]
    for user in outsiders:
        api = api_as(user, Scope.READ, Scope.WRITE)
        answers = [api.get(f"/api/v1/councils/{world.council.id}/possible-duplicates")]
        for child_id in (held.id, original.id, plain.id, 999_999):
            for decision in ("close", "keep"):
                answers.append(
                    api.post(
                        f"/api/v1/children/{child_id}/duplicate/{decision}",
                        json={"version": held.version},
                    )
                )
        bodies = [problem(answer, 403) for answer in answers]
        assert all(b == bodies[0] for b in bodies), user.email
        assert not any(held.pseudonym in a.text or original.pseudonym in a.text for a in answers)
    db.expire_all()
    assert held.status is ChildStatus.ACTIVE and held.duplicate_kept_at is None
    assert duplicates.possible_duplicates(db, world.council)[0].held.id == held.id
    denied = audit_events(db, AuditTag.ACCESS_DENIED)
    assert len(denied) == len(outsiders) * 9
