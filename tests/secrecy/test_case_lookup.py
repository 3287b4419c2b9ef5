"""Two holes an outside crawl found: the link between one young person's pseudonyms in two
councils, and the enrolment (and identity correction) forms used as a look-up of who is a case.

The link is derived from the personnummer's blind index, so it is shown only to a viewer who
may read the identity records of both children; a duplicate number is named only to the agency
holding the existing identity and to the council's coordinators.
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.errors import ServiceError
from coordination.models import AgencyKind, Child, Council, CouncilRole, Role, User
from secrecy.records import children as child_cases
from secrecy.records.services import current_identity_record
from secrecy.tags import SecrecyTag
from tests import factories
from tests.conftest import ClientFor, Council3, log_in
from tests.factories import CouncilFactory, MembershipFactory, UserFactory
from tests.secrecy.test_leak import crawl
from tests.secrecy.test_pages import enrol_via_page

SOCIAL = AgencyKind.SOCIAL_SERVICES
POLICE = AgencyKind.POLICE
SAME_CHILD = "Samma barn finns också i"
NUMBER = "20121212-1212"


def second_council(db: Session, world: Council3) -> Council:
    """A council of the same agencies with the same members (a district's Bob and SSPF)."""
    other = CouncilFactory(agencies=list(world.agencies.values()), code="SYD", name="Sydrådet")
    for user in world.members.values():
        MembershipFactory(council=other, user=user)
    db.flush()
    db.expire_all()
    return other


def enrol(db: Session, user: User, council: Council, number: str = NUMBER) -> Child:
    return factories.enrol(db, user, council, number, family="Länk")


def disclose_identity(db: Session, world: Council3, child: Child, to: AgencyKind) -> None:
    identity = current_identity_record(db, child)
    assert identity is not None
    factories.disclose_under_21_rule(db, world.members[SOCIAL], identity, world.agencies[to])


def duplicate_events(db: Session) -> list[AuditEvent]:
    return list(
        db.scalars(select(AuditEvent).where(AuditEvent.tag == SecrecyTag.CHILD_DUPLICATE_REFUSED))
    )


# --- The same young person in two councils ------------------------------------------------------


def test_the_link_between_pseudonyms_needs_both_identities(db: Session, world: Council3) -> None:
    other = second_council(db, world)
    here = enrol(db, world.members[SOCIAL], world.council)
    there = enrol(db, world.members[SOCIAL], other)
    police = world.members[POLICE]
    # The owner of both identities sees the link; the police, without a disclosure, do not.
    assert child_cases.other_councils_with_same_child(db, world.members[SOCIAL], here) == [there]
    assert child_cases.other_councils_with_same_child(db, police, here) == []
    # One identity disclosed is not enough: the link would tell the other one's number.
    disclose_identity(db, world, here, POLICE)
    assert child_cases.other_councils_with_same_child(db, police, here) == []
    assert child_cases.other_councils_with_same_child(db, police, there) == []
    disclose_identity(db, world, there, POLICE)
    assert child_cases.other_councils_with_same_child(db, police, here) == [there]
    assert child_cases.other_councils_with_same_child(db, police, there) == [here]
    # School still holds nothing.
    assert (
        child_cases.other_councils_with_same_child(db, world.members[AgencyKind.SCHOOL], here) == []
    )


def test_no_member_without_the_identity_learns_the_link_on_any_page(
    app: Flask, db: Session, world: Council3
) -> None:
    """The leak crawl for the link: police, school and leisure members sit in both councils
    and reach both children's pages, and no page tells them that the two are one person."""
    other = second_council(db, world)
    here = enrol(db, world.members[SOCIAL], world.council)
    there = enrol(db, world.members[SOCIAL], other)
    db.flush()
    for kind in (POLICE, AgencyKind.SCHOOL, AgencyKind.LEISURE):
        pages = crawl(log_in(app.test_client(), world.members[kind]))
        assert f"/children/{here.id}" in pages and f"/children/{there.id}" in pages, kind
        assert not any(SAME_CHILD in html for html in pages.values()), kind
        assert there.pseudonym not in pages[f"/children/{here.id}"], kind
        assert here.pseudonym not in pages[f"/children/{there.id}"], kind
    owner_page = log_in(app.test_client(), world.members[SOCIAL]).get(f"/children/{here.id}")
    assert SAME_CHILD in owner_page.text and there.pseudonym in owner_page.text


def test_the_link_is_shown_once_both_identities_are_disclosed(
    app: Flask, db: Session, world: Council3
) -> None:
    other = second_council(db, world)
    here = enrol(db, world.members[SOCIAL], world.council)
    there = enrol(db, world.members[SOCIAL], other)
    disclose_identity(db, world, here, POLICE)
    disclose_identity(db, world, there, POLICE)
    db.flush()
    page = log_in(app.test_client(), world.members[POLICE]).get(f"/children/{here.id}")
    assert SAME_CHILD in page.text and there.pseudonym in page.text


# --- The enrolment form as a look-up ------------------------------------------------------------


def test_a_duplicate_is_named_only_to_the_identity_holder_and_the_coordinators(
    app: Flask, world: Council3, client_for: ClientFor, db: Session
) -> None:
    enrol_via_page(client_for(SOCIAL), world.council.id)
    child = db.scalars(select(Child)).one()
    for kind in (POLICE, AgencyKind.SCHOOL, AgencyKind.LEISURE):
        # Everyone else enrols as for a new number (a held duplicate, secrecy.duplicates).
        enrolled = enrol_via_page(client_for(kind), world.council.id, personnummer="201212121212")
        assert enrolled.status_code == 302, kind
        held = db.scalars(select(Child).order_by(Child.id.desc())).first()
        assert held is not None and held.id != child.id
        assert enrolled.headers["Location"] == f"/children/{held.id}"
        assert held.duplicate_of_id == child.id and held.identity_index is None
    # A coordinator of another agency than the enrolling one is told.
    coordinator = UserFactory(agency=world.agencies[AgencyKind.SCHOOL], roles={Role.COORDINATOR})
    MembershipFactory(council=world.council, user=coordinator, council_role=CouncilRole.COORDINATOR)
    db.flush()
    told = enrol_via_page(log_in(app.test_client(), coordinator), world.council.id)
    assert told.status_code == 422 and child.pseudonym in told.text
    # The refused look-up is logged with the child and the asker, as before; the held ones
    # are the system's events (the submitter's own log review does not show them).
    refused = duplicate_events(db)
    assert [(e.object_ids, e.actor_user_id) for e in refused] == [([child.id], coordinator.id)]
    held_events = list(
        db.scalars(select(AuditEvent).where(AuditEvent.tag == SecrecyTag.CHILD_DUPLICATE_HELD))
    )
    assert len(held_events) == 3
    assert all(e.actor_user_id is None and e.actor_agency_id is None for e in held_events)
    assert all(e.details["duplicate_of_id"] == child.id for e in held_events)
    assert {e.details["user_id"] for e in held_events} == {
        world.members[kind].id for kind in (POLICE, AgencyKind.SCHOOL, AgencyKind.LEISURE)
    }
    assert len(db.scalars(select(Child)).all()) == 4


def test_correcting_an_identity_to_another_childs_number_names_no_case(
    db: Session, world: Council3
) -> None:
    social_child = enrol(db, world.members[SOCIAL], world.council)
    police = world.members[POLICE]
    police_child = enrol(db, police, world.council, "20100101-0014")
    identity = current_identity_record(db, police_child)
    assert identity is not None
    data = child_cases.EnrolmentData("Kalle", "Länk", NUMBER)
    # The correction succeeds as for a new number; the case is held for the coordinators.
    correction = child_cases.correct_identity(db, police, identity, data)
    assert correction.supersedes_id == identity.id
    assert police_child.identity_index is None
    assert police_child.duplicate_of_id == social_child.id
    # The holder of the other identity is told which child it is.
    second = enrol(db, world.members[SOCIAL], world.council, "20100101-0212")
    second_identity = current_identity_record(db, second)
    assert second_identity is not None
    with pytest.raises(ServiceError) as told:
        child_cases.correct_identity(db, world.members[SOCIAL], second_identity, data)
    assert social_child.pseudonym in str(told.value)
