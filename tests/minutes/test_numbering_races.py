"""Two requests at once that number a new row "highest + 1": a plan's new version, a plan's
new goal (its key) and a child put on a meeting's agenda (its position, by hand or by the case
sync). Each runs in its own connection and transaction on a scratch database; the second
starts while the first holds its transaction open and must end with a number of its own or
one clean conflict, never the first one's number and never a unique-key error."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app import create_app
from coordination.db import get_database, today_local, transaction
from coordination.errors import ConflictError
from coordination.models import Agency, AgencyKind, Child, Council, User
from coordination.tokens.services import Scope, create_token
from meetings.agenda.items import add_agenda_item
from meetings.casesync.caseload import put_on_agenda
from meetings.models import AgendaItem, Meeting
from minutes.plans import goals, services
from minutes.plans.models import IndividualPlan, PlanGoal, PlanVersion
from tests import factories
from tests.api.conftest import Api, problem
from tests.conftest import Council3, build_world, make_test_config, migrate
from tests.minutes.plan_helpers import agree_plan, make_meeting, make_plan
from tests.secrecy.test_retention import enrol

SOCIAL = AgencyKind.SOCIAL_SERVICES
DEADLINE = 30.0


@dataclass
class Scratch:
    app: Flask
    council_id: int
    agency_ids: dict[AgencyKind, int]
    member_ids: dict[AgencyKind, int]
    coordinator_id: int

    def world(self, session: Session) -> Council3:
        """The council of ``build_world`` loaded in ``session``."""
        return Council3(
            council=session.get_one(Council, self.council_id),
            agencies={k: session.get_one(Agency, i) for k, i in self.agency_ids.items()},
            members={k: session.get_one(User, i) for k, i in self.member_ids.items()},
            coordinator=session.get_one(User, self.coordinator_id),
        )


@pytest.fixture(scope="module")
def scratch(database_url: str) -> Iterator[Scratch | None]:
    """A migrated database of its own next to the test database (``<name>_races``), whose
    rows the tests commit; None on SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield None
        return
    name = f"{url.database}_races"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    application = create_app(
        make_test_config(url.set(database=name).render_as_string(hide_password=False))
    )
    engine = get_database(application).engine
    try:
        migrate(engine)
        with application.app_context():
            session = get_database(application).session_factory()
            _use(session)
            with transaction(session):
                world = build_world(session)
                ids = Scratch(
                    application,
                    world.council.id,
                    {k: a.id for k, a in world.agencies.items()},
                    {k: u.id for k, u in world.members.items()},
                    world.coordinator.id,
                )
            session.close()
        yield ids
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _use(session: Session) -> None:
    for factory in factories.ALL_FACTORIES:
        factory._meta.sqlalchemy_session = session


def _two_writers(scratch: Scratch | None) -> Scratch:
    if scratch is None:
        pytest.skip("SQLite has one writer: its first write holds the database to the commit")
    return scratch


def _personnummer(serial: int) -> str:
    """A valid personnummer (Luhn check digit) of a child born 2012-04-01, one per serial."""
    body = f"120401{serial:03d}"
    total = 0
    for index, digit in enumerate(body):
        n = int(digit) * (2 if index % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return f"20{body[:6]}-{body[6:]}{(10 - total % 10) % 10}"


_serials = iter(range(100, 999))


def _seed(scratch: Scratch, make: Callable[[Session, Council3], Any]) -> Any:
    """``make(session, world)`` committed; the ids it returns."""
    with scratch.app.app_context():
        session = get_database(scratch.app).session_factory()
        _use(session)
        with transaction(session):
            ids = make(session, scratch.world(session))
        session.close()
    return ids


def _new_child(session: Session, world: Council3) -> Child:
    return enrol(
        session,
        world.members[SOCIAL],
        world.council,
        ("Test", "Barn", _personnummer(next(_serials))),
    )


def _lock_waiters(app: Flask) -> int:
    with get_database(app).engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )


def sealed_and_rolled_back(app: Flask) -> int:
    """How many record ids were taken by inserts that never committed (a sequence does not give
    its numbers back): the texts a loser sealed before it failed."""
    with get_database(app).engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT (SELECT last_value FROM pg_sequences WHERE sequencename = "
                    "'records_id_seq') - (SELECT max(id) FROM records)"
                )
            ).scalar_one()
        )


def race(
    app: Flask, first: Callable[[Session], object], second: Callable[[Session], object]
) -> BaseException | None:
    """``first`` runs in its own transaction and holds it open; ``second`` starts in another
    connection (it loads what it changes before the first commits), and the first commits once
    the second waits on a lock or has finished. What the second raised, if anything; the first
    must succeed."""
    factory = get_database(app).session_factory
    outcome: dict[str, BaseException | None] = {}

    def run_second() -> None:
        with app.app_context(), factory() as session:
            try:
                second(session)
                session.commit()
                outcome["error"] = None
            except BaseException as exc:  # noqa: BLE001 - handed to the test to assert on
                session.rollback()
                outcome["error"] = exc

    with app.app_context(), factory() as session:
        first(session)
        session.flush()
        thread = threading.Thread(target=run_second)
        thread.start()
        deadline = time.monotonic() + DEADLINE
        while thread.is_alive() and _lock_waiters(app) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        session.commit()
    thread.join(DEADLINE)
    assert not thread.is_alive(), "the second writer never finished"
    return outcome["error"]


# --- Plans ----------------------------------------------------------------------------------------


def test_two_new_versions_at_once_give_one_version_and_one_conflict(
    scratch: Scratch | None,
) -> None:
    s = _two_writers(scratch)

    def make(session: Session, world: Council3) -> int:
        setting = make_plan(session, world)
        agree_plan(session, world, setting)
        return setting.plan.id

    plan_id = _seed(s, make)

    def revise(reason: str) -> Callable[[Session], object]:
        def change(session: Session) -> object:
            plan = session.get(IndividualPlan, plan_id)
            assert plan is not None
            actor = session.get_one(User, s.member_ids[SOCIAL])
            return services.revise_plan(session, actor, plan, reason, expected_version=plan.version)

        return change

    error = race(s.app, revise("Första skälet"), revise("Andra skälet"))
    assert isinstance(error, ConflictError), error  # not a unique-key error after its work
    assert sealed_and_rolled_back(s.app) == 0  # its reason was never sealed
    with s.app.app_context(), get_database(s.app).session_factory() as session:
        numbers = session.scalars(
            select(PlanVersion.number).where(PlanVersion.plan_id == plan_id)
        ).all()
        assert sorted(numbers) == [1, 2]


def test_two_new_goals_at_once_give_one_goal_and_one_conflict(scratch: Scratch | None) -> None:
    s = _two_writers(scratch)
    target = today_local() + dt.timedelta(days=60)

    def make(session: Session, world: Council3) -> int:
        social = world.members[SOCIAL]
        plan = services.create_plan(session, social, _new_child(session, world), world.coordinator)
        goal = goals.GoalInput("school", target, "Det första målet", "Märks i skolan")
        goals.add_goal(session, social, services.latest_version(plan), goal)
        return plan.id

    plan_id = _seed(s, make)

    def add(text: str) -> Callable[[Session], object]:
        def change(session: Session) -> object:
            plan = session.get(IndividualPlan, plan_id)
            assert plan is not None
            actor = session.get_one(User, s.member_ids[SOCIAL])
            goal = goals.GoalInput("school", target, text, "Märks i skolan")
            return goals.add_goal(
                session, actor, services.latest_version(plan), goal, expected_version=plan.version
            )

        return change

    error = race(s.app, add("Första målet"), add("Andra målet"))
    assert isinstance(error, ConflictError), error
    assert sealed_and_rolled_back(s.app) == 0
    with s.app.app_context(), get_database(s.app).session_factory() as session:
        keys = session.scalars(select(PlanGoal.key).where(PlanGoal.plan_id == plan_id)).all()
        assert sorted(keys) == [1, 2]  # the seed's goal and the first writer's


def test_a_new_goal_that_lost_the_race_through_the_api_is_a_409_problem(
    scratch: Scratch | None,
) -> None:
    """The API's loser gets the conflict problem (409, the conflict's own message) from the
    plan's lock, before its texts are sealed; the winner's goal is the only new one."""
    s = _two_writers(scratch)
    target = today_local() + dt.timedelta(days=60)

    def make(session: Session, world: Council3) -> tuple[int, int, str]:
        social = world.members[SOCIAL]
        plan = services.create_plan(session, social, _new_child(session, world), world.coordinator)
        token = create_token(session, social, "race", {Scope.READ, Scope.WRITE}).secret
        session.flush()
        return plan.id, plan.version, token

    plan_id, version, token = _seed(s, make)
    api = Api(s.app, s.app.test_client(), token)
    answers: list[TestResponse] = []

    def first(session: Session) -> object:
        plan = session.get_one(IndividualPlan, plan_id)
        goal = goals.GoalInput("school", target, "Det första målet", "Märks i skolan")
        actor = session.get_one(User, s.member_ids[SOCIAL])
        return goals.add_goal(
            session, actor, services.latest_version(plan), goal, expected_version=version
        )

    def second(_session: Session) -> object:
        body = {
            "area": "school",
            "text": "Det andra målet",
            "indicator": "Märks hemma",
            "target_date": target.isoformat(),
            "version": version,
        }
        answers.append(api.post(f"/api/v1/plans/{plan_id}/goals", json=body))
        return answers[-1]

    assert race(s.app, first, second) is None
    body = problem(answers[0], 409)
    assert body["detail"] == str(ConflictError().message)
    assert sealed_and_rolled_back(s.app) == 0  # the loser stopped before sealing its texts
    with s.app.app_context(), get_database(s.app).session_factory() as session:
        keys = session.scalars(select(PlanGoal.key).where(PlanGoal.plan_id == plan_id)).all()
        assert keys == [1]


# --- Agenda positions (no unique key: the meeting's lock alone keeps them apart) ----------------


def _empty_meeting_and_children(session: Session, world: Council3) -> tuple[int, int, int]:
    meeting = make_meeting(session, world.council, 30)
    first, second = _new_child(session, world), _new_child(session, world)
    session.flush()
    return meeting.id, first.id, second.id


def _positions(app: Flask, meeting_id: int) -> list[int]:
    with app.app_context(), get_database(app).session_factory() as session:
        return sorted(
            session.scalars(
                select(AgendaItem.position).where(AgendaItem.meeting_id == meeting_id)
            ).all()
        )


@pytest.mark.parametrize("way", ["by hand", "case sync"])
def test_two_children_put_on_an_agenda_at_once_get_two_positions(
    scratch: Scratch | None, way: str
) -> None:
    """Added by hand (``add_agenda_item``) or by the case sync (``put_on_agenda``): both queue
    on the meeting's row before reading the highest position."""
    s = _two_writers(scratch)
    meeting_id, first_id, second_id = _seed(s, _empty_meeting_and_children)

    def put(child_id: int) -> Callable[[Session], object]:
        def change(session: Session) -> object:
            meeting = session.get(Meeting, meeting_id)
            child = session.get(Child, child_id)
            assert meeting is not None and child is not None
            if way == "case sync":
                return put_on_agenda(session, meeting, child)
            actor = session.get_one(User, s.coordinator_id)
            return add_agenda_item(
                session, actor, meeting, child, "school", "Kort lägesbeskrivning"
            )

        return change

    assert race(s.app, put(first_id), put(second_id)) is None
    assert _positions(s.app, meeting_id) == [1, 2]
