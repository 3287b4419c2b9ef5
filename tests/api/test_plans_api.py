"""The individual plans through the API: read with the pages' secrecy, write with the same
services, bad input as problem details that change nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.api.openapi import document
from coordination.db import today_local
from coordination.models import AgencyKind
from minutes.models import AgreedAction
from minutes.plans import services
from minutes.plans.models import GoalEvaluation, PlanGoal, PlanVersion
from secrecy.models import Disclosure, Record
from tests.api.conftest import Api, problem
from tests.conftest import Council3
from tests.factories import AgencyFactory, enrol
from tests.minutes.plan_helpers import (
    GOAL_MARK,
    POLICE,
    SCHOOL,
    SHARE_ASSESSMENT,
    SOCIAL,
    YOUTH_MARK,
    make_meeting,
    make_plan,
)

MEASURE_MARK = "PLAN-MEASURE-MARK"


def test_plans_read_with_secrecy(api_for: Callable[..., Api], world: Council3, db: Session) -> None:
    s = make_plan(db, world, share=True)
    for kind, visible in ((SOCIAL, True), (POLICE, True), (SCHOOL, False)):
        api = api_for(kind)
        listed = api.get(f"/api/v1/councils/{world.council.id}/plans").get_json()["items"]
        assert [p["id"] for p in listed] == [s.plan.id]
        assert listed[0]["goals"] == 1 and GOAL_MARK not in str(listed)
        body = api.get(f"/api/v1/plans/{s.plan.id}").get_json()
        goal = body["current"]["goals"][0]
        assert goal["area"] == "school"
        assert goal["text"]["withheld"] is not visible
        assert (GOAL_MARK in str(body)) is visible and (YOUTH_MARK in str(body)) is visible
        if not visible:
            assert goal["text"]["reason"]
        first = body["versions"][0]["id"]
        version = api.get(f"/api/v1/plan-versions/{first}").get_json()
        assert version["number"] == 1
        assert (GOAL_MARK in str(version)) is visible
    problem(api_for(SOCIAL).get("/api/v1/plan-versions/99999"), 403)


def test_a_plan_written_agreed_and_evaluated_through_the_api(
    api_for: Callable[..., Api], world: Council3, db: Session
) -> None:
    social = api_for(SOCIAL)
    child = enrol(db, world.members[SOCIAL], world.council)
    created = social.post(
        f"/api/v1/councils/{world.council.id}/plans",
        json={"child_id": child.id, "coordinator_id": world.coordinator.id},
    )
    assert created.status_code == 201, created.get_json()
    plan = created.get_json()
    stray = social.post(
        f"/api/v1/councils/{world.council.id}/plans",
        json={"child_id": 99_999, "coordinator_id": world.coordinator.id},
    )
    assert "Välj ett barn i forumet." in str(problem(stray, 422))
    twice = social.post(
        f"/api/v1/councils/{world.council.id}/plans",
        json={"child_id": child.id, "coordinator_id": world.coordinator.id},
    )
    assert "redan en individuell plan" in str(problem(twice, 422))
    future = (today_local() + dt.timedelta(days=40)).isoformat()
    past = (today_local() - dt.timedelta(days=1)).isoformat()
    goal = {"area": "school", "text": "Gå i skolan", "indicator": "Närvaro", "target_date": future}
    body = problem(
        social.post(
            f"/api/v1/plans/{plan['id']}/goals",
            json={**goal, "text": "", "version": plan["version"]},
        ),
        422,
    )
    assert "Skriv målet." in str(body)
    body = problem(
        social.post(
            f"/api/v1/plans/{plan['id']}/goals",
            json={**goal, "target_date": past, "version": plan["version"]},
        ),
        422,
    )
    assert "Måldatumet har redan passerat." in str(body)
    assert db.scalar(select(func.count(PlanGoal.id))) == 0
    problem(social.post(f"/api/v1/plans/{plan['id']}/goals", json={**goal, "version": 0}), 409)
    added = social.post(
        f"/api/v1/plans/{plan['id']}/goals", json={**goal, "version": plan["version"]}
    )
    assert added.status_code == 201
    plan = added.get_json()
    plan = social.post(
        f"/api/v1/plans/{plan['id']}/views",
        json={"youth_view": "Vill spela fotboll", "version": plan["version"]},
    ).get_json()
    meeting = make_meeting(db, world.council, 1, child, world.members[SOCIAL])
    agreed = social.post(
        f"/api/v1/plans/{plan['id']}/agree",
        json={
            "meeting_id": meeting.id,
            "evaluate_on": (today_local() + dt.timedelta(days=30)).isoformat(),
            "version": plan["version"],
        },
    )
    assert agreed.status_code == 200, agreed.get_json()
    plan = agreed.get_json()
    assert plan["current"]["status"] == "agreed"
    goal_id = plan["current"]["goals"][0]["id"]
    revised = social.post(
        f"/api/v1/plans/{plan['id']}/versions", json={"reason": "Byte", "version": plan["version"]}
    )
    assert revised.status_code == 201
    plan = revised.get_json()
    assert [v["number"] for v in plan["versions"]] == [1, 2]
    # The goal of version 1 is still the one in force (version 2 is a draft).
    evaluated = social.post(
        f"/api/v1/plans/goals/{goal_id}/evaluations",
        json={"outcome": "reached", "comment": "Går varje dag", "version": plan["version"]},
    )
    assert evaluated.status_code == 201, evaluated.get_json()
    assert db.scalar(select(func.count(GoalEvaluation.id))) == 1
    again = social.post(
        f"/api/v1/plans/goals/{goal_id}/evaluations",
        json={"outcome": "partly", "comment": "x", "version": evaluated.get_json()["version"]},
    )
    assert "redan uppföljt" in str(problem(again, 422))


def test_a_new_measure_through_the_api(
    api_for: Callable[..., Api], world: Council3, db: Session, app: Flask
) -> None:
    s = make_plan(db, world)
    social = api_for(SOCIAL)
    url = f"/api/v1/plans/goals/{s.goal.id}/measures"
    police = world.agencies[POLICE]
    outsider = AgencyFactory(kind=AgencyKind.OTHER, name="Utanför forumet")
    db.flush()
    body = {
        "version": s.plan.version,
        "meeting_id": s.meeting.id,
        "text": f"Läxhjälp {MEASURE_MARK}",
        "responsible_agency_id": police.id,
        "due_date": (today_local() + dt.timedelta(days=14)).isoformat(),
    }
    share = {"agency_id": police.id, "basis_id": "sol-police-u21", "confirmations": [0, 1, 2, 3]}
    past = (today_local() - dt.timedelta(days=1)).isoformat()
    for changes, field, message in (
        ({"responsible_agency_id": outsider.id}, "responsible_agency_id", "deltar i forumet"),
        ({"due_date": past}, "due_date", "har redan passerat"),
        ({"text": "  "}, "text", "Skriv vad som ska göras"),
        ({}, "shares", "rättslig grund"),
        ({"shares": [share]}, "assessment", "bedömning"),
    ):
        answer = problem(social.post(url, json=body | changes), 422)
        assert message in str(answer), message
        assert field in str(answer), field
    problem(social.post(url, json=body | {"shares": [share], "version": 0}), 409)
    assert db.scalar(select(func.count(AgreedAction.id))) == 0
    assert db.scalar(select(func.count(Disclosure.id))) == 0
    created = social.post(url, json=body | {"shares": [share], "assessment": SHARE_ASSESSMENT})
    assert created.status_code == 201, created.get_json()
    goal = created.get_json()["current"]["goals"][0]
    assert [m["responsible_agency_id"] for m in goal["measures"]] == [police.id]
    assert MEASURE_MARK in str(goal["measures"])
    for kind, visible in ((POLICE, True), (SCHOOL, False)):
        read = api_for(kind).get(f"/api/v1/plans/{s.plan.id}").get_json()
        assert (MEASURE_MARK in str(read)) is visible, kind
    assert "post" in document(app)["paths"]["/api/v1/plans/goals/{goal_id}/measures"]


def test_two_new_versions_at_once_the_second_is_a_conflict(
    api_for: Callable[..., Api], world: Council3, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writers ask for a new version of the same agreed plan at the same moment: both read
    version 1 as the newest and both make number 2. The second insert waits for the first's
    commit and fails on (plan, number): a 409 problem, not a 500 (found by the API fuzzing,
    whose roles run side by side), and nothing of it is kept."""
    setting = make_plan(db, world)
    agreed = services.latest_version(setting.plan)
    services.agree_version(db, world.members[SOCIAL], agreed, setting.meeting)
    social = api_for(SOCIAL)
    path = f"/api/v1/plans/{setting.plan.id}/versions"
    first = social.post(path, json={"reason": "Byte", "version": setting.plan.version})
    assert first.status_code == 201, first.get_json()
    records = db.scalar(select(func.count(Record.id)))
    # The second writer read the plan before the first one's commit: version 1 is its newest.
    monkeypatch.setattr(services, "latest_version", lambda plan: agreed)
    second = social.post(path, json={"reason": "Annan", "version": first.get_json()["version"]})
    assert problem(second, 409)["detail"].startswith("Någon annan har ändrat")
    numbers = db.scalars(select(PlanVersion.number).where(PlanVersion.plan_id == setting.plan.id))
    assert sorted(numbers) == [1, 2]
    assert db.scalar(select(func.count(Record.id))) == records
