"""Adding several people to a council in one form: one transaction, one audit event per
member (as when added one by one); one refused leaves none added."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent, AuditTag
from coordination.models import AgencyKind, CouncilMembership, CouncilRole
from tests.conftest import Council3, log_in
from tests.factories import AgencyFactory, UserFactory


def members_of(db: Session, council_id: int) -> dict[int, CouncilRole]:
    db.expire_all()
    rows = db.scalars(select(CouncilMembership).where(CouncilMembership.council_id == council_id))
    return {row.user_id: row.council_role for row in rows}


def add_events(db: Session) -> list[AuditEvent]:
    return list(
        db.scalars(select(AuditEvent).where(AuditEvent.tag == AuditTag.ADMIN_MEMBERSHIP_ADD))
    )


def test_the_coordinator_adds_several_members_at_once(
    app: Flask, db: Session, world: Council3
) -> None:
    client = log_in(app.test_client(), world.coordinator)
    first = UserFactory(agency=world.agencies[AgencyKind.LEISURE])
    second = UserFactory(agency=world.agencies[AgencyKind.SCHOOL])
    page = client.get(f"/councils/{world.council.id}").text
    assert page.count('type="checkbox"') >= 2  # a checkbox per candidate, one form
    assert 'name="user_id"' in page
    response = client.post(
        f"/councils/{world.council.id}/members",
        data={"user_id": [first.id, second.id], "council_role": "member"},
    )
    assert response.status_code == 302
    assert "2 medlemmar är tillagda." in client.get(response.headers["Location"]).text
    found = members_of(db, world.council.id)
    assert found[first.id] is CouncilRole.MEMBER and found[second.id] is CouncilRole.MEMBER
    assert sorted(e.details["user_id"] for e in add_events(db)) == sorted([first.id, second.id])


def test_one_refused_person_adds_nobody_and_the_summary_says_why(
    app: Flask, db: Session, world: Council3
) -> None:
    client = log_in(app.test_client(), world.coordinator)
    newcomer = UserFactory(agency=world.agencies[AgencyKind.LEISURE])
    outsider = UserFactory(agency=AgencyFactory())
    before = members_of(db, world.council.id)
    refused = client.post(
        f"/councils/{world.council.id}/members",
        data={"user_id": [newcomer.id, outsider.id], "council_role": "member"},
    )
    assert refused.status_code == 422
    assert 'class="error-summary"' in refused.text and 'href="#user_id-0"' in refused.text
    assert members_of(db, world.council.id) == before
    assert add_events(db) == []
    nobody = client.post(f"/councils/{world.council.id}/members", data={"council_role": "member"})
    assert nobody.status_code == 422
    assert "Välj minst en användare." in nobody.text
    assert members_of(db, world.council.id) == before
