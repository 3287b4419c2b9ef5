"""Individual plans of the demo (SSPF Norr), in several states: Alva's plan agreed at the first
meeting of the history and evaluated three meetings later; Hugo's agreed and running; Malte's
agreed and then changed (a second version, a draft with a reason); Saga's a draft not yet
agreed. Written through the plan services during the meetings of ``demo.minutes`` (before their
minutes are approved), every text a sealed record of its writer, disclosed only where the engine
accepts a basis (the SSPF consents cover the plan).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE
from coordination.models import Child, Council, User
from demo.coordination import COORDINATOR, SCHOOL, SECRETARY
from demo.secrecy import disclose_as_engine_allows
from meetings.models import Meeting
from minutes.plans import evaluation, goals, services
from minutes.plans.access import plan_of_child
from minutes.plans.models import EvaluationOutcome, IndividualPlan
from secrecy.models import Record

PLAN_COUNCIL = "NORR"


@dataclass(frozen=True)
class DemoGoal:
    author: str
    area: str
    text: str
    indicator: str
    target_days: int


@dataclass(frozen=True)
class DemoPlan:
    goals: tuple[DemoGoal, ...]
    youth_view: str
    guardian_view: str
    evaluate_days: int


PLANS = {
    "alva": DemoPlan(
        goals=(
            DemoGoal(SCHOOL, "school", "Alva går i skolan varje dag.",
                     "Närvaron är minst 90 % under en månad.", 50),
            DemoGoal(SECRETARY, "leisure", "Alva har en fritidsaktivitet hon tycker om.",
                     "Hon går på aktiviteten minst en gång i veckan.", 50),
        ),
        youth_view="Jag vill klara matten och börja spela fotboll igen.",
        guardian_view="Vi vill att skolan hör av sig direkt när Alva inte kommer.",
        evaluate_days=45,
    ),
    "hugo": DemoPlan(
        goals=(
            DemoGoal(SECRETARY, "family", "Hugo och hans mamma bråkar mindre hemma.",
                     "Familjebehandlaren ser färre konflikter vid uppföljningen.", 200),
            DemoGoal(SCHOOL, "school", "Hugo får godkänt i svenska.",
                     "Betyget E eller högre i svenska på vårterminen.", 200),
        ),
        youth_view="Jag vill ha lugn hemma.",
        guardian_view="Mamma vill ha stöd i att sätta gränser.",
        evaluate_days=190,
    ),
    "malte": DemoPlan(
        goals=(
            DemoGoal(SECRETARY, "criminality",
                     "Malte slutar umgås med de äldre killarna vid centrum.",
                     "Inga nya polisanmälningar under planens tid.", 120),
        ),
        youth_view="Jag vill ha ett sommarjobb.",
        guardian_view="Pappa vill att Malte är hemma senast klockan 22.",
        evaluate_days=120,
    ),
    "saga": DemoPlan(
        goals=(
            DemoGoal(SECRETARY, "health", "Saga sover bättre och orkar med skoldagen.",
                     "Saga säger själv att hon sover bättre vid uppföljningen.", 90),
        ),
        youth_view="Jag vill inte byta skola.",
        guardian_view="",
        evaluate_days=80,
    ),
}  # fmt: skip

# The goal Malte's plan gains in its second version.
REVISED_GOAL = DemoGoal(
    SECRETARY,
    "school",
    "Malte kommer till den nya skolan varje dag.",
    "Närvaron är minst 85 % första månaden.",
    100,
)

# Meeting index in the history -> what happens to whose plan there.
AT_MEETING: dict[int, tuple[tuple[str, str], ...]] = {
    0: (("alva", "agree"),),
    1: (("hugo", "agree"),),
    2: (("malte", "agree"),),
    3: (("alva", "evaluate"),),
    4: (("malte", "revise"),),
}
OUTCOMES = (EvaluationOutcome.PARTLY, EvaluationOutcome.REACHED)


def _share(session: Session, author: User, plan: IndividualPlan, record_id: int) -> None:
    record = session.get_one(Record, record_id)
    for agency in plan.council.agencies:
        if agency.active and agency.id != author.agency_id:
            disclose_as_engine_allows(session, author, record, agency)


def _add_goal(
    session: Session, author: User, plan: IndividualPlan, goal: DemoGoal, day: dt.date
) -> None:
    """The goal in the plan's newest version, its texts disclosed where the engine allows."""
    row = goals.add_goal(
        session,
        author,
        services.latest_version(plan),
        goals.GoalInput(
            goal.area, day + dt.timedelta(days=goal.target_days), goal.text, goal.indicator
        ),
        today=day,
    )
    _share(session, author, plan, row.text_record_id)
    _share(session, author, plan, row.indicator_record_id)


def write_plan(
    session: Session, users: dict[str, User], child: Child, key: str, day: dt.date
) -> IndividualPlan:
    """The child's plan as a draft: goals, views and the evaluation date (``day``: the day it
    is written, for the date checks)."""
    spec = PLANS[key]
    secretary = users[SECRETARY]
    plan = services.create_plan(session, secretary, child, users[COORDINATOR])
    draft = services.latest_version(plan)
    for goal in spec.goals:
        _add_goal(session, users[goal.author], plan, goal, day)
    services.set_views(session, secretary, draft, spec.youth_view, spec.guardian_view)
    for record_id in (draft.youth_view_record_id, draft.guardian_view_record_id):
        if record_id is not None:
            _share(session, secretary, plan, record_id)
    services.set_evaluation_date(
        session, secretary, draft, day + dt.timedelta(days=spec.evaluate_days), today=day
    )
    return plan


def at_meeting(
    session: Session,
    users: dict[str, User],
    children: dict[str, Child],
    council: Council,
    meeting: Meeting,
    index: int,
) -> None:
    """What the meeting does with the plans (before its minutes are approved)."""
    if council.code != PLAN_COUNCIL:
        return
    day = meeting.starts_at.astimezone(LOCAL_ZONE).date()
    secretary = users[SECRETARY]
    for key, step in AT_MEETING.get(index, ()):
        child = children[key]
        if step == "agree":
            plan = write_plan(session, users, child, key, day)
            services.agree_version(session, secretary, services.latest_version(plan), meeting)
            continue
        plan_or_none = plan_of_child(session, council.id, child.id)
        if plan_or_none is None:
            raise LookupError(f"the demo plan of {key} is missing")
        plan = plan_or_none
        if step == "evaluate":
            for n, goal in enumerate(services.latest_version(plan).goals):
                author = users[PLANS[key].goals[n].author]
                done = evaluation.evaluate_goal(
                    session,
                    author,
                    goal,
                    OUTCOMES[n % len(OUTCOMES)],
                    "Närvaron har ökat men är inte uppe i 90 % ännu."
                    if n == 0
                    else "Alva spelar fotboll två gånger i veckan.",
                )
                _share(session, author, plan, done.comment_record_id)
        elif step == "revise":
            services.revise_plan(
                session, secretary, plan, "Malte har bytt skola; målet om skolgång läggs till."
            )
            _add_goal(session, secretary, plan, REVISED_GOAL, day)


def after_history(
    session: Session, users: dict[str, User], children: dict[str, Child], today: dt.date
) -> None:
    """Saga's plan: a draft written this week, to be agreed at the next meeting."""
    write_plan(session, users, children["saga"], "saga", today)
