"""API of the age rules: the range (min over max refused), exceptions (texts withheld from
another agency; no reason: nothing stored) and the thresholds list, against the schema."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.models import AgencyKind
from coordination.tokens.services import Scope
from secrecy.models import AgeException
from secrecy.records.children import EnrolmentData, enrol_child
from tests.api.conftest import Api, field_errors, problem
from tests.conftest import Council3
from tests.numbers import personnummer

NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)


@time_machine.travel(NOW, tick=False)
def test_range_exceptions_and_thresholds(
    api_as: Callable[..., Api], world: Council3, db: Session
) -> None:
    council = world.council
    coordinator = api_as(world.coordinator, Scope.READ, Scope.WRITE)
    url = f"/api/v1/councils/{council.id}/age-range"
    assert coordinator.get(url).get_json()["is_default"] is True
    body = problem(coordinator.patch(url, json={"min_age": 18, "max_age": 12}), 422)
    assert "högre än den högsta" in str(body)
    assert not council.age_range_set
    police = api_as(world.members[AgencyKind.POLICE], Scope.READ, Scope.WRITE)
    problem(police.patch(url, json={"min_age": 12, "max_age": 18}), 403)
    saved = coordinator.patch(url, json={"min_age": 12, "max_age": 16})
    assert saved.status_code == 200 and saved.get_json()["max_age"] == 16
    partial = coordinator.patch(url, json={"max_age": 17}).get_json()
    assert (partial["min_age"], partial["max_age"]) == (12, 17)  # the omitted end stays

    db.expire_all()  # the API saved the council (a new version)
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    # Enrolled inside the range, then the range is lowered: the child is past it.
    council.age_max = 20
    child = enrol_child(
        db, social, council, EnrolmentData("Kim", "Test", personnummer(dt.date(2008, 4, 10), 3))
    )
    council.age_max = 16
    own = api_as(social, Scope.READ, Scope.WRITE)
    path = f"/api/v1/children/{child.id}/age-exceptions"
    errors = field_errors(
        own.post(path, json={"reason": "", "decided_by": "Chef", "review_on": "2026-06-01"})
    )
    assert "reason" in errors
    assert db.scalar(select(func.count()).select_from(AgeException)) == 0
    created = own.post(
        path,
        json={"reason": "SKAL-API", "decided_by": "Chef", "review_on": "2026-06-01"},
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    listed = police.get(f"/api/v1/councils/{council.id}/age-exceptions").get_json()["items"]
    assert listed[0]["withheld"] is True and listed[0]["reason"] is None
    assert "SKAL-API" not in str(listed)
    mine = own.get(f"/api/v1/councils/{council.id}/age-exceptions").get_json()["items"]
    assert mine[0]["reason"] == "SKAL-API"

    thresholds = police.get(f"/api/v1/councils/{council.id}/age-thresholds").get_json()
    entry = next(t for t in thresholds["items"] if t["child_id"] == child.id)
    assert entry["age"] == 18 and entry["date"] is None and entry["month"] == "2026-04"
    ours = own.get(f"/api/v1/councils/{council.id}/age-thresholds").get_json()
    assert next(t for t in ours["items"] if t["child_id"] == child.id)["date"] == "2026-04-10"
