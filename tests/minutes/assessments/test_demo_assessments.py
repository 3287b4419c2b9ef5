"""The demo's assessments: Hugo assessed twice, the school sees only the disclosed areas."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.models import User
from demo.coordination import SCHOOL, SECRETARY
from demo.secrecy import demo_children
from minutes.assessments.models import Assessment
from minutes.assessments.services import assessment_views, assessments_of
from tests.conftest import log_in


def test_the_demo_has_two_assessments_and_the_school_sees_only_disclosed_areas(
    app: Flask, db: Session
) -> None:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    hugo = demo_children(db)["hugo"]
    assert len(db.scalars(select(Assessment)).all()) == 2
    assert hugo.council.assessment_interval_days == 90
    school = db.scalars(select(User).where(User.email == SCHOOL)).one()
    secretary = db.scalars(select(User).where(User.email == SECRETARY)).one()
    seen = assessment_views(db, school, assessments_of(db, hugo), purpose="test")
    for view in seen:
        visible = {a.code for a in view.areas if a.result is not None and not a.withheld}
        assert visible == {"school", "leisure", "school_bond", "structured_leisure"}
    own = assessment_views(db, secretary, assessments_of(db, hugo), purpose="test")
    assert all(not a.withheld for v in own for a in v.areas)
    page = log_in(app.test_client(), school).get(f"/children/{hugo.id}/assessments")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Närvaron har ökat efter nytt schema." in body
    assert "Familjen har börjat i föräldrastöd." not in body
