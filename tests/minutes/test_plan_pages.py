"""The plan pages: the council's plans, one plan, the changes page and the family PDF, as the
writing agency, a recipient of a disclosure and an agency without one; bad input through the
page changes nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordination.db import today_local
from minutes.plans import services
from minutes.plans.models import PlanGoal
from tests.conftest import Council3
from tests.minutes.plan_helpers import (
    GOAL_MARK,
    MARKERS,
    POLICE,
    SCHOOL,
    SOCIAL,
    agree_plan,
    make_plan,
)


def goal_to_family(plan_version: int, goal: PlanGoal) -> dict[str, object]:
    """The goal's edit form, moving it to the family area with a target in ten weeks."""
    prefix = f"edit-{goal.id}"
    return {
        f"{prefix}-version": plan_version,
        f"{prefix}-area": "family",
        f"{prefix}-target_on": (today_local() + dt.timedelta(days=70)).isoformat(),
    }


def test_the_plan_pages_show_texts_only_to_agencies_with_a_basis(
    db: Session, world: Council3, client_for
) -> None:
    s = make_plan(db, world, share=True)
    agree_plan(db, world, s)
    services.revise_plan(db, world.members[SOCIAL], s.plan, "Skäl till ändring")
    for kind, visible in ((SOCIAL, True), (POLICE, True), (SCHOOL, False)):
        client = client_for(kind)
        for path in (
            f"/plans/{s.plan.id}",
            f"/plans/{s.plan.id}?version=1",
            f"/councils/{world.council.id}/plans",
            f"/plans/{s.plan.id}/changes?version=2",
        ):
            page = client.get(path)
            assert page.status_code == 200, (kind, path)
        page = client.get(f"/plans/{s.plan.id}?version=1")
        for marker in MARKERS:
            assert (marker in page.text) is visible, (kind, marker)
        if not visible:
            assert "Undanhållen" in page.text
        assert "Skola" in page.text  # the structure is for everyone
        pdf = client.get(f"/plans/{s.plan.id}/plan.pdf")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        assert str(s.child.pseudonym) not in pdf.headers["Content-Disposition"]


def test_a_goal_through_the_page_and_bad_input_that_changes_nothing(
    db: Session, world: Council3, client_for
) -> None:
    s = make_plan(db, world)
    social = client_for(SOCIAL)
    goals = db.scalar(select(func.count(PlanGoal.id)))
    past = (today_local() - dt.timedelta(days=1)).isoformat()

    def add_goal(text: str, target_on: str, version: int | None = None) -> TestResponse:
        return social.post(
            f"/plans/{s.plan.id}/goals",
            data={
                "goal-version": s.plan.version if version is None else version,
                "goal-area": "school",
                "goal-text": text,
                "goal-indicator": "Närvaro",
                "goal-target_on": target_on,
            },
        )

    bad = add_goal("", past)
    assert bad.status_code == 422
    assert "Skriv målet." in bad.text
    assert db.scalar(select(func.count(PlanGoal.id))) == goals
    future = (today_local() + dt.timedelta(days=30)).isoformat()
    late = add_goal("Gå i skolan", past)
    assert late.status_code == 422 and "Måldatumet har redan passerat." in late.text
    good = add_goal("Gå i skolan", future)
    assert good.status_code == 302
    assert db.scalar(select(func.count(PlanGoal.id))) == goals + 1
    page = social.get(f"/plans/{s.plan.id}")
    assert "Gå i skolan" in page.text and GOAL_MARK in page.text
    stale = add_goal("Igen", future, version=1)
    assert stale.status_code == 409


def test_outsiders_get_403(db: Session, world: Council3, app) -> None:
    from tests.conftest import log_in
    from tests.factories import UserFactory

    s = make_plan(db, world)
    stranger = UserFactory(agency=world.agencies[SOCIAL], email="outsider@example.com")
    db.flush()
    client = log_in(app.test_client(), stranger)
    assert client.get(f"/plans/{s.plan.id}").status_code == 403
    assert client.get(f"/plans/{s.plan.id}/plan.pdf").status_code == 403


def test_agree_evaluate_and_revise_through_the_pages(
    db: Session, world: Council3, client_for
) -> None:
    s = make_plan(db, world)
    social = client_for(SOCIAL)
    page = social.get(f"/plans/{s.plan.id}")
    assert page.text.count('id="goal-area"') == 1  # one goal form per goal, no repeated ids
    assert f'id="edit-{s.goal.id}-area"' in page.text
    agreed = social.post(
        f"/plans/{s.plan.id}/agree",
        data={"agree-version": s.plan.version, "agree-meeting_id": s.meeting.id},
    )
    assert agreed.status_code == 302, agreed.text
    workspace = client_for(SCHOOL).get(f"/meetings/{s.meeting.id}/minutes")
    assert "Version 1 fastställd vid mötet" in workspace.text  # recorded with the minutes
    db.expire_all()
    version = s.plan.version
    bad = social.post(
        f"/plans/goals/{s.goal.id}/evaluate",
        data={f"evaluate-{s.goal.id}-version": version, f"evaluate-{s.goal.id}-outcome": ""},
    )
    assert bad.status_code == 422 and "Välj hur det gick." in bad.text
    done = social.post(
        f"/plans/goals/{s.goal.id}/evaluate",
        data={
            f"evaluate-{s.goal.id}-version": version,
            f"evaluate-{s.goal.id}-outcome": "partly",
            f"evaluate-{s.goal.id}-comment": "Bättre närvaro",
        },
    )
    assert done.status_code == 302
    page = social.get(f"/plans/{s.plan.id}")
    assert "Delvis uppnått" in page.text and "Bättre närvaro" in page.text
    db.expire_all()
    revised = social.post(
        f"/plans/{s.plan.id}/revise",
        data={"revise-version": s.plan.version, "revise-reason": "Ny skola"},
    )
    assert revised.status_code == 302
    db.expire_all()
    latest = services.latest_version(s.plan)
    assert latest.number == 2
    copied = latest.goals[0]
    edited = social.post(
        f"/plans/goals/{copied.id}/edit", data=goal_to_family(s.plan.version, copied)
    )
    assert edited.status_code == 302
    changes = social.get(f"/plans/{s.plan.id}/changes?version=2")
    assert "Ändrat mål" in changes.text and "Familj" in changes.text and "Ny skola" in changes.text
    # The old version's goal cannot be changed.
    db.expire_all()
    old = social.post(f"/plans/goals/{s.goal.id}/edit", data=goal_to_family(s.plan.version, s.goal))
    assert old.status_code == 422 and "ersatt" in old.text
