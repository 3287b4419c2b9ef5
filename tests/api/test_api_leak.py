"""The leak test through the API: the markers of ``tests/secrecy/test_leak.py`` appear in API
answers exactly for the agencies that see them on the pages (the owner, and recipients of a
disclosure in force), and never for anyone else."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.models import AgencyKind, Role, User
from minutes.assessments.models import Assessment
from minutes.plans.models import IndividualPlan
from secrecy.models import Record
from secrecy.records.children import EnrolmentData, enrol_child
from tests import factories
from tests.api.conftest import Api, problem
from tests.conftest import Council3
from tests.secrecy.test_leak import disclose_some, seed, visible_markers


def items(api: Api, path: str, seen: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Every item of a paged list, following the cursors."""
    url = path
    while True:
        response = api.get(url)
        assert response.status_code == 200, (url, response.status_code)
        seen[url] = response.get_data(as_text=True)
        body = response.get_json()
        yield from body["items"]
        if body["next_cursor"] is None:
            return
        url = f"{path}{'&' if '?' in path else '?'}cursor={body['next_cursor']}"


def walk(api: Api) -> tuple[dict[str, str], list[int]]:
    """Everything a user reaches from /councils: each council's children (all of them), each
    child with its records and consents, and the disclosure options of the user's own records.
    Returns the answers by URL and the ids of the children reached."""
    seen: dict[str, str] = {}
    agency_id = api.get("/api/v1/me").get_json()["agency"]["id"]
    reached = []
    for council in list(items(api, "/api/v1/councils", seen)):
        plans = f"/api/v1/councils/{council['id']}/plans"
        answer = api.get(plans)
        assert answer.status_code == 200, plans
        seen[plans] = answer.get_data(as_text=True)
        for plan in answer.get_json()["items"]:
            url = f"/api/v1/plans/{plan['id']}"
            response = api.get(url)
            assert response.status_code == 200, url
            seen[url] = response.get_data(as_text=True)
            for version in response.get_json()["versions"]:
                url = f"/api/v1/plan-versions/{version['id']}"
                found = api.get(url)
                assert found.status_code == 200, url
                seen[url] = found.get_data(as_text=True)

        for part in ("age-exceptions", "age-thresholds", "age-range"):
            url = f"/api/v1/councils/{council['id']}/{part}"
            response = api.get(url)
            assert response.status_code == 200, url
            seen[url] = response.get_data(as_text=True)
        for network in list(items(api, f"/api/v1/councils/{council['id']}/network-meetings", seen)):
            url = f"/api/v1/network-meetings/{network['meeting_id']}"
            response = api.get(url)
            assert response.status_code == 200, url
            seen[url] = response.get_data(as_text=True)
        path = f"/api/v1/councils/{council['id']}/children?status=all&limit=1"
        for child in list(items(api, path, seen)):
            reached.append(child["id"])
            url = f"/api/v1/children/{child['id']}"
            response = api.get(url)
            assert response.status_code == 200, url
            seen[url] = response.get_data(as_text=True)
            list(items(api, f"/api/v1/children/{child['id']}/consents", seen))
            url = f"/api/v1/children/{child['id']}/assessments"
            answer = api.get(url)
            assert answer.status_code == 200, url
            seen[url] = answer.get_data(as_text=True)
            for assessment in answer.get_json()["items"][:2]:
                one = f"/api/v1/assessments/{assessment['id']}"
                seen[one] = api.get(one).get_data(as_text=True)
            own = [
                r
                for r in response.get_json()["records"]
                if r["owner_agency"]["id"] == agency_id and not r["superseded"]
            ]
            for record in own[:3]:  # options carry no content; a sample per child is enough
                options = f"/api/v1/records/{record['id']}/disclosure-options"
                seen[options] = api.get(options).get_data(as_text=True)
    return seen, reached


# The seeded children are under 18 on this day, as the bases of ``disclose_some`` require.
@time_machine.travel(dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC), tick=False)
def test_each_marker_reaches_only_its_owner_and_recipients_through_the_api(
    api_as: Callable[..., Api], world: Council3, db: Session, admin: User
) -> None:
    markers = seed(db, world)
    shared = disclose_some(db, world, markers)
    assert len(shared) >= 6
    children = sorted({r.child_id for r in db.scalars(select(Record))})
    assert len(children) == 3
    for kind, user in world.members.items():
        answers, reached = walk(api_as(user))
        assert sorted(reached) == children, kind
        seen = visible_markers(answers, markers)
        allowed = {
            m for m, owner in markers.items() if owner is kind or kind in shared.get(m, set())
        }
        assert seen == allowed, (kind, sorted(seen ^ allowed)[:5])

    # A police officer who sits on another council only (with a child of their own there),
    # an auditor and an administrator: nothing of this council, by walking or by guessing ids.
    other = factories.CouncilFactory(
        name="Annat råd", code="ANNAT", agencies=[world.agencies[AgencyKind.POLICE]]
    )
    outsider = factories.UserFactory(
        agency=world.agencies[AgencyKind.POLICE], email="annan@example.com"
    )
    factories.MembershipFactory(council=other, user=outsider)
    db.flush()
    elsewhere = enrol_child(db, outsider, other, EnrolmentData("Annan", "Person", "20130405-0014"))
    auditor = factories.UserFactory(
        agency=world.agencies[AgencyKind.SOCIAL_SERVICES], roles={Role.AUDITOR}
    )
    db.flush()
    records = db.scalars(select(Record).where(Record.child_id.in_(children))).all()
    for nobody in (outsider, auditor, admin):
        api = api_as(nobody)
        answers, reached = walk(api)
        assert reached == ([elsewhere.id] if nobody is outsider else []), nobody.roles
        for child_id in children:
            for url in (
                f"/api/v1/children/{child_id}",
                f"/api/v1/children/{child_id}/consents",
                f"/api/v1/children/{child_id}/assessments",
            ):
                answers[url] = problem(api.get(url), 403)["detail"]
        for plan_id in db.scalars(select(IndividualPlan.id)):
            url = f"/api/v1/plans/{plan_id}"
            answers[url] = problem(api.get(url), 403)["detail"]
        for record in records[:20]:
            url = f"/api/v1/records/{record.id}/disclosure-options"
            answers[url] = problem(api.get(url), 403)["detail"]
        for assessment_id in db.scalars(select(Assessment.id)):
            url = f"/api/v1/assessments/{assessment_id}"
            answers[url] = problem(api.get(url), 403)["detail"]
        assert visible_markers(answers, markers) == set(), nobody.roles
