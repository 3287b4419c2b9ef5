"""A new measure of a goal from the plan page and the API: an agreed action at a meeting of the
council, linked to the goal and shared as the writer chooses; bad input changes nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.db import today_local
from coordination.models import AgencyKind
from minutes.models import AgreedAction
from minutes.plans import goals, services
from minutes.plans.models import PlanMeasure
from secrecy.models import Disclosure
from tests.conftest import Council3
from tests.factories import AgencyFactory
from tests.minutes.plan_helpers import POLICE, SCHOOL, SHARE_ASSESSMENT, SOCIAL, make_plan

MEASURE_MARK = "PLAN-MEASURE-MARK"


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def _form(s, goal_id: int, **changes: object) -> dict[str, object]:
    prefix = f"new_measure-{goal_id}-"
    data = {
        "version": s.plan.version,
        "meeting_id": s.meeting.id,
        "text": f"Läxhjälp {MEASURE_MARK}",
        "responsible_agency_id": "",
        "responsible_user_id": "",
        "due_on": (today_local() + dt.timedelta(days=14)).isoformat(),
        "assessment": "",
    } | changes
    return {prefix + k: v for k, v in data.items()}


def test_a_new_measure_from_the_plan_page(db: Session, world: Council3, client_for) -> None:
    s = make_plan(db, world)
    social = client_for(SOCIAL)
    page = social.get(f"/plans/{s.plan.id}")
    assert f'id="new-measure-{s.goal.key}"' in page.text
    assert f'id="new_measure-{s.goal.id}-assessment"' in page.text
    url = f"/plans/goals/{s.goal.id}/measures/new"
    police = world.agencies[POLICE]
    outsider = AgencyFactory(kind=AgencyKind.OTHER, name="Utanför forumet")
    db.flush()
    past = (today_local() - dt.timedelta(days=1)).isoformat()
    refusals = [
        (_form(s, s.goal.id, responsible_agency_id=outsider.id), "deltar i forumet"),
        (_form(s, s.goal.id, responsible_agency_id=police.id, due_on=past), "har redan passerat"),
        (_form(s, s.goal.id, responsible_agency_id=police.id, text=""), "Skriv vad som ska göras"),
        (_form(s, s.goal.id, responsible_agency_id=police.id, meeting_id=""), "Välj mötet"),
        # Another responsible agency: the description must be disclosed to it.
        (_form(s, s.goal.id, responsible_agency_id=police.id), "rättslig grund"),
        # Disclosed, but without the written assessment.
        (
            _form(s, s.goal.id, responsible_agency_id=police.id)
            | {f"share-{police.id}": "y", f"basis-{police.id}": "sol-police-u21"}
            | {f"confirm-{police.id}-sol-police-u21-{n}": "y" for n in range(4)},
            "bedömning",
        ),
    ]
    for data, message in refusals:
        refused = social.post(url, data=data)
        assert refused.status_code == 422, message
        assert message in refused.text, message
    assert _count(db, AgreedAction) == 0 and _count(db, PlanMeasure) == 0
    assert _count(db, Disclosure) == 0
    stale = social.post(url, data=_form(s, s.goal.id, responsible_agency_id=police.id, version=0))
    assert stale.status_code == 409
    done = social.post(
        url,
        data=_form(
            s,
            s.goal.id,
            responsible_agency_id=police.id,
            responsible_user_id=world.members[POLICE].id,
            assessment=SHARE_ASSESSMENT,
        )
        | {f"share-{police.id}": "y", f"basis-{police.id}": "sol-police-u21"}
        | {f"confirm-{police.id}-sol-police-u21-{n}": "y" for n in range(4)},
    )
    assert done.status_code == 302, done.text
    action = db.scalars(select(AgreedAction)).one()
    assert action.responsible_agency_id == police.id
    assert action.meeting_id == s.meeting.id
    assert db.get(PlanMeasure, action.id).goal_id == s.goal.id  # type: ignore[union-attr]
    for kind, visible in ((SOCIAL, True), (POLICE, True), (SCHOOL, False)):
        shown = client_for(kind).get(f"/plans/{s.plan.id}")
        assert (MEASURE_MARK in shown.text) is visible, kind
    # Recorded in the meeting's minutes, with the workspace's action list.
    workspace = social.get(f"/meetings/{s.meeting.id}/minutes")
    assert MEASURE_MARK in workspace.text


def test_the_writers_share_choices_reach_other_agencies(db: Session, world: Council3) -> None:
    s = make_plan(db, world)
    social = world.members[SOCIAL]
    police = world.agencies[POLICE]
    action = goals.add_measure(
        db,
        social,
        s.goal,
        s.meeting,
        f"Samtal {MEASURE_MARK}",
        world.agencies[SOCIAL],
        None,
        today_local() + dt.timedelta(days=7),
        shares=[services.ShareChoice(police.id, "sol-police-u21", (0, 1, 2, 3))],
        assessment=SHARE_ASSESSMENT,
    )
    disclosed = db.scalars(
        select(Disclosure).where(Disclosure.record_id == action.description_record_id)
    ).all()
    assert [d.recipient_agency_id for d in disclosed] == [police.id]
    assert disclosed[0].assessment_record_id is not None
