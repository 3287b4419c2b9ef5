"""The demo's individual plans: in several states (evaluated, agreed, changed into a new draft
version, a draft), agreed at meetings whose minutes are approved and so locked, texts shared
only where the engine accepts a basis."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.models import Council, User
from demo.coordination import SCHOOL
from demo.secrecy import demo_children
from minutes.plans import evaluation, services
from minutes.plans.access import plan_of_child
from minutes.plans.models import PlanVersionStatus
from tests.conftest import log_in


def test_the_demo_has_plans_in_several_states(app: Flask, db: Session) -> None:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    council = db.scalars(select(Council).where(Council.code == "NORR")).one()
    children = demo_children(db)
    plans = {key: plan_of_child(db, council.id, children[key].id) for key in children}
    alva, hugo, malte, saga = (plans[k] for k in ("alva", "hugo", "malte", "saga"))
    assert alva and hugo and malte and saga
    in_force = services.agreed_version(alva)
    assert in_force is not None and evaluation.is_evaluated(in_force)
    assert services.is_locked(db, in_force)  # agreed in minutes that are approved
    assert services.latest_version(hugo).status is PlanVersionStatus.AGREED
    assert not evaluation.is_evaluated(services.latest_version(hugo))
    assert [v.status for v in malte.versions] == [PlanVersionStatus.AGREED, PlanVersionStatus.DRAFT]
    assert [v.status for v in saga.versions] == [PlanVersionStatus.DRAFT]
    school = db.scalars(select(User).where(User.email == SCHOOL)).one()
    page = log_in(app.test_client(), school).get(f"/plans/{alva.id}")
    assert page.status_code == 200
    assert "Alva går i skolan varje dag." in page.text  # the school's own goal
    changes = log_in(app.test_client(), school).get(f"/plans/{malte.id}/changes?version=2")
    assert changes.status_code == 200 and "Nytt mål" in changes.text
