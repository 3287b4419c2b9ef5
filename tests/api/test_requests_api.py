"""The information-request API: ask, list, answer by disclosure, close; the texts reach the
two agencies only (another agency of the council and a member of another council see none of
them); every answer conforms to the OpenAPI document (the ``Api`` client checks it)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.models import AgencyKind, Child
from secrecy.models import Disclosure, InformationRequest, Record
from secrecy.records.children import EnrolmentData, enrol_child
from secrecy.records.services import create_record
from tests.api.conftest import Api
from tests.conftest import Council3
from tests.factories import CouncilFactory, MembershipFactory, UserFactory

SOCIAL = AgencyKind.SOCIAL_SERVICES
POLICE = AgencyKind.POLICE
PURPOSE = "API-syftesmarkör: hot mot den unge, behöver veta om oro finns."
NOTE = "API-svarsmarkör: mer finns inte."
ASSESSED = "Polisen behöver uppgiften inför helgen; den rör just den oron."


def setup_child(db: Session, world: Council3) -> tuple[Child, Record]:
    child = enrol_child(
        db, world.members[SOCIAL], world.council, EnrolmentData("Api", "Barn", "20121212-1212")
    )
    record = create_record(db, world.members[SOCIAL], child, "risk_protective", "API-uppgift")
    db.flush()
    return child, record


def test_a_request_asked_answered_and_closed_through_the_api(
    db: Session,
    world: Council3,
    api_for: Callable[..., Api],
    api_as: Callable[..., Api],
) -> None:
    child, record = setup_child(db, world)
    police, social = api_for(POLICE), api_for(SOCIAL)
    path = f"/api/v1/children/{child.id}/information-requests"
    refused = police.post(path, json={"owner_agency_id": world.agencies[SOCIAL].id, "purpose": "x"})
    assert refused.status_code == 422
    assert db.scalars(select(InformationRequest)).all() == []
    created = police.post(
        path,
        json={
            "owner_agency_id": world.agencies[SOCIAL].id,
            "basis_id": "sol-police-u21",
            "urgency": "urgent",
            "purpose": PURPOSE,
        },
    )
    assert created.status_code == 201
    body = created.get_json()
    assert body["purpose"] == PURPOSE and body["status"] == "open" and body["category"] is None
    request_id = body["id"]

    queue = social.get("/api/v1/information-requests").get_json()["items"]
    assert [r["id"] for r in queue] == [request_id] and queue[0]["purpose"] == PURPOSE

    answer_path = f"/api/v1/information-requests/{request_id}/disclosures"
    answer = {
        "record_ids": [record.id],
        "basis_id": "sol-police-u21",
        "confirmations": [0, 1, 2, 3],
        "assessment": ASSESSED,
    }
    assert police.post(answer_path, json=answer).status_code == 403
    answered = social.post(answer_path, json=answer)
    assert answered.status_code == 201
    decided = answered.get_json()["disclosures"]
    assert db.get_one(Disclosure, decided[0]["id"]).request_id == request_id
    closed = social.post(
        f"/api/v1/information-requests/{request_id}/close",
        json={"outcome": "answered", "note": NOTE},
    )
    assert closed.status_code == 200
    seen = police.get(f"/api/v1/information-requests/{request_id}").get_json()
    assert seen["status"] == "answered" and seen["answer"] == NOTE
    assert seen["disclosure_ids"] == [decided[0]["id"]]

    # The school of the same council, and a police officer of another council, see nothing.
    school = api_for(AgencyKind.SCHOOL)
    assert school.get(f"/api/v1/information-requests/{request_id}").status_code == 403
    listed = school.get("/api/v1/information-requests")
    assert listed.get_json()["items"] == []
    other = CouncilFactory(agencies=list(world.agencies.values()), code="APIX")
    stranger = UserFactory(agency=world.agencies[POLICE])
    MembershipFactory(council=other, user=stranger)
    db.flush()
    outsider = api_as(stranger)
    assert outsider.get(f"/api/v1/information-requests/{request_id}").status_code == 403
    raw = outsider.get("/api/v1/information-requests").get_data(as_text=True)
    assert "API-syftesmarkör" not in raw and "API-svarsmarkör" not in raw
