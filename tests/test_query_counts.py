"""Every list page issues the same number of SQL statements whatever the number of rows on it
(issue 9): counted with a ``before_cursor_execute`` listener on the app's engine, once with a
few rows and once with many.

The first request of each page is not counted (it loads the legal bases, the agency keys and
the like once); each counted request is the second or later, as in a running installation.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session, lazyload

from coordination.db import get_database, today_local
from coordination.models import AgencyKind, Child, Council, User
from coordination.tokens.services import Scope, create_token
from meetings.agenda.items import add_agenda_item
from meetings.models import Attendance, AttendanceStatus, Meeting
from minutes.actions.services import create_action
from minutes.models import EntryKind
from minutes.workspace import services as workspace
from secrecy.disclosure.consents import ConsentData, register_consent
from secrecy.disclosure.services import decide_disclosure
from secrecy.models import Record
from secrecy.policy.engine import Signer
from secrecy.records.children import EnrolmentData, enrol_child
from secrecy.records.reveal import reveal_records
from secrecy.records.services import create_record
from tests import factories
from tests.conftest import Council3, log_in
from tests.factories import ASSESSED, MembershipFactory, UserFactory

SOCIAL = AgencyKind.SOCIAL_SERVICES
POLICE = AgencyKind.POLICE
SCHOOL = AgencyKind.SCHOOL
FEW = 2
MANY = 20


class Statements(list[str]):
    """The statements seen, and how many had run when a session of the app (not the test's
    own) first committed since the list was last cleared."""

    commit_at: int | None = None

    def clear(self) -> None:
        super().clear()
        self.commit_at = None

    def after_commit(self) -> list[str]:
        return [] if self.commit_at is None else self[self.commit_at :]


@pytest.fixture
def statements(app: Flask, db: Session) -> Iterator[Statements]:
    seen = Statements()
    engine = get_database(app).engine

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    def committed(session: Session) -> None:
        if session is not db and seen.commit_at is None:
            seen.commit_at = len(seen)

    event.listen(engine, "before_cursor_execute", count)
    event.listen(Session, "after_commit", committed)
    yield seen
    event.remove(Session, "after_commit", committed)
    event.remove(engine, "before_cursor_execute", count)


def personnummer(serial: int) -> str:
    """A valid number of a child born 1 March 2012 (14 at the time of writing)."""
    body = f"120301{serial:03d}"
    total = 0
    for index, char in enumerate(body):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return f"20120301-{serial:03d}{(10 - total % 10) % 10}"


class Children:
    """Enrols children in the world's council, each with a new number."""

    def __init__(self, db: Session, world: Council3) -> None:
        self.db, self.world, self.serial = db, world, 0

    def enrol(self) -> Child:
        self.serial += 1
        return enrol_child(
            self.db,
            self.world.members[SOCIAL],
            self.world.council,
            EnrolmentData("Kalle", "Räknesson", personnummer(self.serial)),
        )


@pytest.fixture
def children(db: Session, world: Council3) -> Children:
    return Children(db, world)


def upcoming_meeting(db: Session, world: Council3, days: int = 10) -> Meeting:
    meeting = factories.make_meeting(
        db, world.council, factories.days_from_now(days), chair_id=world.coordinator.id
    )
    for user in [world.coordinator, *world.members.values()]:
        db.add(Attendance(meeting_id=meeting.id, user_id=user.id, status=AttendanceStatus.PRESENT))
    db.flush()
    return meeting


def counted(
    db: Session,
    client: FlaskClient,
    path: str,
    statements: list[str],
    headers: dict[str, str] | None = None,
) -> list[str]:
    """Statements of one GET (after a first, uncounted one). None may run after the request's
    commit (a lazy load while rendering, after the view's transaction ended, would be one)."""
    db.expire_all()
    first = client.get(path, headers=headers)
    assert first.status_code == 200, (path, first.status_code)
    db.expire_all()
    statements.clear()
    assert client.get(path, headers=headers).status_code == 200
    if isinstance(statements, Statements):
        late = statements.after_commit()
        assert not late, f"{len(late)} statements after the commit: " + "; ".join(
            sql[:160] for sql in late
        )
    return list(statements)


def assert_constant(grow: Callable[[int], None], measure: Callable[[], list[str]]) -> None:
    grow(FEW)
    few = measure()
    grow(MANY)
    many = measure()
    # On failure, name the statements that grew with the rows (the per-row queries to fix).
    grew = Counter(many) - Counter(few)
    assert len(few) == len(many), (
        f"{len(few)} statements with {FEW} rows, {len(many)} with {MANY}; repeated: "
        + "; ".join(f"{n}x {sql[:160]}" for sql, n in grew.most_common(5))
    )


# --- Secrecy: the caseload and the child page ---------------------------------------------------


def test_caseload_page(
    app: Flask, db: Session, world: Council3, children: Children, statements: list[str]
) -> None:
    client = log_in(app.test_client(), world.members[POLICE])
    made: list[Child] = []

    def grow(n: int) -> None:
        while len(made) < n:
            made.append(children.enrol())

    path = f"/councils/{world.council.id}/children"
    assert_constant(grow, lambda: counted(db, client, path, statements))


def test_caseload_page_with_consents_ending_soon(
    app: Flask, db: Session, world: Council3, children: Children, statements: list[str]
) -> None:
    """The panel of consents that end soon shows each child's pseudonym, loaded with them."""
    client = log_in(app.test_client(), world.members[SOCIAL])
    ending: list[Child] = []

    def grow(n: int) -> None:
        while len(ending) < n:
            child = children.enrol()
            register_consent(
                db,
                world.members[SOCIAL],
                child,
                ConsentData(
                    signers={Signer.GUARDIAN_1: "Vårdnadshavare", Signer.YOUNG_PERSON: "Kalle"},
                    two_guardians=False,
                    agency_ids=[world.agencies[POLICE].id],
                    categories=["school"],
                    valid_from=today_local(),
                    valid_to=today_local() + dt.timedelta(days=10),
                    purpose="Räkning",
                ),
            )
            ending.append(child)

    path = f"/councils/{world.council.id}/children"
    assert_constant(grow, lambda: counted(db, client, path, statements))
    page = client.get(path).text
    assert all(child.pseudonym in page for child in ending)


def test_child_page(
    app: Flask, db: Session, world: Council3, children: Children, statements: list[str]
) -> None:
    """Records of three agencies, some disclosed to the viewer (the police), some withheld."""
    child = children.enrol()
    members = world.members
    written = 0

    def grow(n: int) -> None:
        nonlocal written
        while written < n:
            kind = (SOCIAL, POLICE, SCHOOL)[written % 3]
            record = create_record(
                db, members[kind], child, "risk_protective", f"Uppgift {written}"
            )
            if kind is SOCIAL and written % 2 == 0:
                decide_disclosure(
                    db,
                    members[SOCIAL],
                    record,
                    world.agencies[POLICE],
                    "sol-police-u21",
                    list(range(4)),
                    assessment=ASSESSED,
                )
            written += 1

    client = log_in(app.test_client(), members[POLICE])
    assert_constant(grow, lambda: counted(db, client, f"/children/{child.id}", statements))


def requests_grower(db: Session, world: Council3, children: Children) -> Callable[[int], None]:
    """Police requests to social services about one child, grown to n."""
    from secrecy.models import RequestUrgency
    from secrecy.requests.services import RequestData, request_information

    social_id = world.agencies[AgencyKind.SOCIAL_SERVICES].id
    child = children.enrol()
    made: list[int] = []

    def grow(n: int) -> None:
        while len(made) < n:
            data = RequestData(social_id, None, None, RequestUrgency.NORMAL, "Syfte nummer x.")
            made.append(request_information(db, world.members[POLICE], child, data).id)
        db.flush()

    return grow


def test_request_list_page(
    app: Flask, db: Session, world: Council3, children: Children, statements: list[str]
) -> None:
    client = log_in(app.test_client(), world.members[AgencyKind.SOCIAL_SERVICES])
    grow = requests_grower(db, world, children)
    assert_constant(grow, lambda: counted(db, client, "/requests", statements))


def test_api_request_list(
    app: Flask, db: Session, world: Council3, children: Children, statements: list[str]
) -> None:
    """The API opens every listed request's texts in one reveal."""
    token = create_token(db, world.members[POLICE], "t", {Scope.READ}, 30).secret
    db.flush()
    headers = {"Authorization": f"Bearer {token}"}
    path = "/api/v1/information-requests?limit=100"
    grow = requests_grower(db, world, children)
    assert_constant(grow, lambda: counted(db, app.test_client(), path, statements, headers))


def test_batch_disclosure_page(
    app: Flask, db: Session, world: Council3, children: Children, statements: list[str]
) -> None:
    """Social services' records about one child offered to the police: the child's consents
    are read once for all the records (issue 14: one select per record before)."""
    child = children.enrol()
    social = world.members[SOCIAL]
    register_consent(
        db,
        social,
        child,
        ConsentData(
            signers={Signer.GUARDIAN_1: "Vårdnadshavare", Signer.YOUNG_PERSON: "Kalle"},
            two_guardians=False,
            agency_ids=[world.agencies[POLICE].id],
            categories=["risk_protective", "school"],
            purpose="Räkning",
        ),
    )
    written = 0

    def grow(n: int) -> None:
        nonlocal written
        while written < n:
            create_record(db, social, child, "risk_protective", f"Uppgift {written}")
            written += 1

    client = log_in(app.test_client(), social)
    path = f"/children/{child.id}/disclose?recipient={world.agencies[POLICE].id}"
    assert_constant(grow, lambda: counted(db, client, path, statements))


def test_records_of_many_children_disclosed_on_their_consents(
    app: Flask, db: Session, world: Council3, children: Children, statements: list[str]
) -> None:
    """The police reveal records of many children, each disclosed on that child's consent: the
    consents come with their children (and councils) in one statement. Before, each consent
    loaded its child on its own while the policy read the council's maturity rule: a query per
    child on the full-scale police list, unseen where the list's children were in the session."""
    from tests.minutes.assessments.helpers import disclose_on_consent

    social, police = world.members[SOCIAL], world.members[POLICE]
    records: list[Record] = []

    def grow(n: int) -> None:
        while len(records) < n:
            child = children.enrol()
            record = create_record(db, social, child, "school", f"Uppgift {len(records)}")
            disclose_on_consent(db, social, child, world.agencies[POLICE], [record])
            records.append(record)

    def measure() -> list[str]:
        # A session of the app's, as a request has: only the viewer and the records in it.
        session = get_database(app).session_factory()
        try:
            viewer = session.get(User, police.id)
            assert viewer is not None
            ids = [record.id for record in records]
            shown = session.scalars(select(Record).where(Record.id.in_(ids))).all()
            # As on the police list at full scale: the children in the session with the rows
            # (their councils not loaded), and councils the viewer's statement did not load.
            child_ids = [record.child_id for record in shown]
            held = session.scalars(  # held: the identity map keeps only referenced objects
                select(Child).options(lazyload(Child.council)).where(Child.id.in_(child_ids))
            ).all()
            for council in [o for o in session.identity_map.values() if isinstance(o, Council)]:
                session.expunge(council)
            statements.clear()
            results = reveal_records(session, viewer, shown)
            assert len(results) == len(ids) == len(held)
            assert not any(r.withheld for r in results)
            return list(statements)
        finally:
            session.close()

    assert_constant(grow, measure)
    # Not even one load of the children's council: with children of several councils (the
    # police page at full scale) that was a council and its agencies per council.
    assert not [sql for sql in measure() if "FROM councils" in sql]


# --- Meetings: the meeting page with its agenda -------------------------------------------------


def test_meeting_page_with_its_agenda(
    app: Flask, db: Session, world: Council3, children: Children, statements: list[str]
) -> None:
    meeting = upcoming_meeting(db, world)
    on_agenda = 0

    def grow(n: int) -> None:
        nonlocal on_agenda
        while on_agenda < n:
            add_agenda_item(
                db,
                world.coordinator,
                meeting,
                children.enrol(),
                "risk_protective",
                f"Lägesbeskrivning {on_agenda}",
            )
            on_agenda += 1

    client = log_in(app.test_client(), world.members[POLICE])
    assert_constant(grow, lambda: counted(db, client, f"/meetings/{meeting.id}", statements))


# --- Minutes: the workspace and the action lists ------------------------------------------------


def fill_workspace(
    db: Session,
    world: Council3,
    meeting: Meeting,
    child: Child,
    n: int,
    responsible: User | None = None,
) -> None:
    """One agenda item with a brief, an entry and an agreed action for the police (the police
    member, or ``responsible``)."""
    social = world.members[SOCIAL]
    add_agenda_item(db, world.coordinator, meeting, child, "risk_protective", f"Läge {n}")
    workspace.add_entry(
        db, social, meeting, child, EntryKind.ENTRY, "meeting_note", f"Anteckning {n}"
    )
    create_action(
        db,
        social,
        meeting,
        child,
        f"Åtgärd {n}",
        world.agencies[POLICE],
        responsible or world.members[POLICE],
        today_local() + dt.timedelta(days=30),
        "sol-police-u21",
        [0, 1, 2, 3],
        assessment=ASSESSED,
    )


@pytest.mark.parametrize("viewer", ["coordinator", "police"])
def test_meeting_workspace(
    app: Flask,
    db: Session,
    world: Council3,
    children: Children,
    statements: list[str],
    viewer: str,
) -> None:
    """The coordinator writes (entry, action and share forms per child); the police reads what
    was disclosed to them."""
    meeting = upcoming_meeting(db, world, days=0)
    filled = 0

    def grow(n: int) -> None:
        nonlocal filled
        while filled < n:
            fill_workspace(db, world, meeting, children.enrol(), filled)
            filled += 1

    user: User = world.coordinator if viewer == "coordinator" else world.members[POLICE]
    client = log_in(app.test_client(), user)
    path = f"/meetings/{meeting.id}/minutes"
    assert_constant(grow, lambda: counted(db, client, path, statements))


def another_officer(db: Session, world: Council3, n: int) -> User:
    """A police officer of the council of their own, responsible for one action: a list that
    loaded each row's responsible user would grow with the rows."""
    officer = UserFactory(agency=world.agencies[POLICE], email=f"polis{n}@example.com")
    MembershipFactory(council=world.council, user=officer)
    db.flush()
    return officer


def test_a_childs_writing_page(
    app: Flask, db: Session, world: Council3, children: Children, statements: list[str]
) -> None:
    """One child's writing page: the viewer's agency's entries (each with an edit form and its
    share options, in two categories), the child's actions, the new-entry and action forms."""
    meeting = upcoming_meeting(db, world, days=0)
    child = children.enrol()
    social = world.members[SOCIAL]
    add_agenda_item(db, world.coordinator, meeting, child, "risk_protective", "Läge")
    written = 0

    def grow(n: int) -> None:
        nonlocal written
        while written < n:
            category = ("meeting_note", "risk_protective")[written % 2]
            workspace.add_entry(
                db, social, meeting, child, EntryKind.ENTRY, category, f"Anteckning {written}"
            )
            create_action(
                db,
                social,
                meeting,
                child,
                f"Åtgärd {written}",
                world.agencies[POLICE],
                world.members[POLICE],
                today_local() + dt.timedelta(days=30),
                "sol-police-u21",
                [0, 1, 2, 3],
                assessment=ASSESSED,
            )
            written += 1

    client = log_in(app.test_client(), social)
    path = f"/meetings/{meeting.id}/minutes/children/{child.id}"
    assert_constant(grow, lambda: counted(db, client, path, statements))


@pytest.mark.parametrize(
    "path", ["/actions/mine?status=all", "/actions/agency?status=all", "council"]
)
def test_action_lists(
    app: Flask,
    db: Session,
    world: Council3,
    children: Children,
    statements: list[str],
    path: str,
) -> None:
    meeting = upcoming_meeting(db, world, days=0)
    filled = 0
    mine = path.startswith("/actions/mine")

    def grow(n: int) -> None:
        nonlocal filled
        while filled < n:
            # Half of the agency's actions belong to other officers ("mine" lists the viewer's).
            responsible = None if mine or filled % 2 else another_officer(db, world, filled)
            fill_workspace(db, world, meeting, children.enrol(), filled, responsible)
            filled += 1

    if path == "council":
        path = f"/councils/{world.council.id}/actions?status=all"
    client = log_in(app.test_client(), world.members[POLICE])
    assert_constant(grow, lambda: counted(db, client, path, statements))


@pytest.mark.parametrize("scope", ["mine", "agency"])
def test_api_action_list(
    app: Flask,
    db: Session,
    world: Council3,
    children: Children,
    statements: list[str],
    scope: str,
) -> None:
    meeting = upcoming_meeting(db, world, days=0)
    filled = 0

    def grow(n: int) -> None:
        nonlocal filled
        while filled < n:
            responsible = (
                None if scope == "mine" or filled % 2 else another_officer(db, world, filled)
            )
            fill_workspace(db, world, meeting, children.enrol(), filled, responsible)
            filled += 1

    token = create_token(db, world.members[POLICE], "räkning", {Scope.READ}).secret
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/actions?scope={scope}&status=all"
    assert_constant(grow, lambda: counted(db, app.test_client(), path, statements, headers))


# --- Individual plans ---------------------------------------------------------------------------


def test_plan_page(
    app: Flask, db: Session, world: Council3, children: Children, statements: list[str]
) -> None:
    """One plan with more goals, each with a measure and an evaluation: the same statements."""
    from minutes.plans import evaluation, goals, services
    from minutes.plans.models import EvaluationOutcome, PlanGoal
    from tests.minutes.plan_helpers import make_meeting, to_police

    social = world.members[SOCIAL]
    child = children.enrol()
    plan = services.create_plan(db, social, child, world.coordinator)
    draft = services.latest_version(plan)
    meeting = make_meeting(db, world.council, 0, child, social)
    services.set_evaluation_date(db, social, draft, today_local() + dt.timedelta(days=20))
    added: list[PlanGoal] = []

    def grow(n: int) -> None:
        while len(added) < n:
            goal = goals.add_goal(
                db,
                social,
                draft,
                goals.GoalInput(
                    "school", today_local() + dt.timedelta(days=30), f"Mål {len(added)}", "Mäts"
                ),
                shares=to_police(world),
                assessment="Polisen behöver målet för att samordna sina insatser.",
            )
            goals.add_measure(
                db, social, goal, meeting, f"Insats {len(added)}", world.agencies[SOCIAL],
                social, today_local() + dt.timedelta(days=10), "", [],
            )  # fmt: skip
            added.append(goal)

    client = log_in(app.test_client(), world.members[POLICE])
    assert_constant(grow, lambda: counted(db, client, f"/plans/{plan.id}", statements))
    services.agree_version(db, social, draft, meeting)
    for goal in added:
        evaluation.evaluate_goal(db, social, goal, EvaluationOutcome.REACHED, "Klart")
    db.flush()
    evaluated = counted(db, client, f"/plans/{plan.id}", statements)
    assert len(evaluated) < 60


def test_council_plans_page(
    app: Flask, db: Session, world: Council3, children: Children, statements: list[str]
) -> None:
    from minutes.plans import goals, services

    made: list[int] = []

    def grow(n: int) -> None:
        while len(made) < n:
            plan = services.create_plan(
                db, world.members[SOCIAL], children.enrol(), world.coordinator
            )
            goals.add_goal(
                db,
                world.members[SOCIAL],
                services.latest_version(plan),
                goals.GoalInput("family", today_local() + dt.timedelta(days=9), "Mål", "Mäts"),
            )
            made.append(plan.id)

    client = log_in(app.test_client(), world.members[POLICE])
    path = f"/councils/{world.council.id}/plans"
    assert_constant(grow, lambda: counted(db, client, path, statements))


def test_a_childs_assessments_page(
    app: Flask, db: Session, world: Council3, children: Children, statements: list[str]
) -> None:
    """Assessments by social services, the school and leisure areas of every other one
    disclosed to the school (the viewer): the history, the charts and the child page's part."""
    from minutes.assessments.models import Assessment
    from tests.minutes.assessments.helpers import area_records, assess, disclose_on_consent

    child = children.enrol()
    social = world.members[SOCIAL]
    made: list[Assessment] = []

    def grow(n: int) -> None:
        while len(made) < n:
            day = today_local() - dt.timedelta(days=200 - 5 * len(made))
            assessment = assess(
                db, social, child, {"school": "1", "leisure": "2", "family": "1"}, day=day
            )
            if len(made) % 2 == 0:
                disclose_on_consent(
                    db,
                    social,
                    child,
                    world.agencies[SCHOOL],
                    area_records(db, assessment, ["school", "leisure"]),
                )
            made.append(assessment)
        db.flush()

    client = log_in(app.test_client(), world.members[SCHOOL])
    assert_constant(
        grow,
        lambda: (
            counted(db, client, f"/children/{child.id}/assessments", statements)
            + counted(db, client, f"/children/{child.id}", statements)
        ),
    )


# --- Secrecy: the age rules' lists --------------------------------------------------------------


# Children born 2012-03-01 (``personnummer``) are 14 here and turn 15 within 60 days.
@time_machine.travel(dt.datetime(2027, 2, 1, 10, 0, tzinfo=dt.UTC), tick=False)
def test_age_threshold_and_exception_pages(
    app: Flask, db: Session, world: Council3, statements: list[str]
) -> None:
    from secrecy.agerules.services import ExceptionData

    world.council.age_range_set, world.council.age_min, world.council.age_max = True, 16, 20
    client = log_in(app.test_client(), world.members[POLICE])
    made: list[Child] = []

    def grow(n: int) -> None:
        while len(made) < n:
            made.append(
                enrol_child(
                    db,
                    world.members[SOCIAL],
                    world.council,
                    EnrolmentData(
                        "Kalle",
                        "Räknesson",
                        personnummer(len(made) + 1),
                        exception=ExceptionData(
                            "Syskon i forumet.", "Enhetschef", "", dt.date(2027, 6, 1)
                        ),
                    ),
                )
            )

    def measure() -> list[str]:
        return [
            sql
            for path in ("age-thresholds", "age-exceptions")
            for sql in counted(db, client, f"/councils/{world.council.id}/{path}", statements)
        ]

    assert_constant(grow, measure)


# --- Sign-in administration (coordination.accounts.providers) ------------------------------------


def test_agency_sign_in_page_and_pending_accounts(
    app: Flask, db: Session, world: Council3, statements: list[str]
) -> None:
    from coordination.accounts.providers.models import IdentityProvider, UserIdentity
    from coordination.accounts.providers.oidc import Discovery
    from coordination.accounts.providers.services import ProviderFields, create_provider
    from coordination.models import Role
    from tests.factories import AgencyFactory, UserFactory

    admin = UserFactory(
        agency=AgencyFactory(kind=AgencyKind.OTHER),
        email="qc-admin@example.com",
        roles={Role.ADMIN},
    )
    agency = world.agencies[POLICE]
    issuer = "https://idp.example.org"
    provider: IdentityProvider = create_provider(
        db,
        admin,
        agency,
        ProviderFields("Polisen", issuer, "client", "SAMVERKAN_QC_SECRET"),
        Discovery({"issuer": issuer, "authorization_endpoint": issuer + "/a"}),
    )
    client = log_in(app.test_client(), admin)
    linked: list[User] = []
    pending: list[User] = []

    def grow(n: int) -> None:
        while len(linked) < n:
            user = UserFactory(agency=agency, email=f"qc-{len(linked)}@example.com")
            db.add(UserIdentity(user=user, provider=provider, subject=f"s-{len(linked)}"))
            linked.append(user)
            waiting = UserFactory(
                agency=agency, email=f"qc-p{len(pending)}@example.com", active=False
            )
            waiting.pending_approval = True
            pending.append(waiting)
        db.flush()

    def measure() -> list[str]:
        return [
            *counted(db, client, f"/admin/sign-in/{agency.id}", statements),
            *counted(db, client, "/accounts/pending", statements),
            *counted(db, client, "/admin/sign-in", statements),
        ]

    assert_constant(grow, measure)


# --- Meetings: a network meeting's page and the council's list of them ----------------------------


@pytest.mark.parametrize("viewer", [SOCIAL, POLICE])
def test_network_meeting_page(
    app: Flask,
    db: Session,
    world: Council3,
    children: Children,
    statements: list[str],
    viewer: AgencyKind,
) -> None:
    """Participants, letters and every agency's voice records: one reveal for all of them."""
    from meetings.network.letters import create_letter
    from meetings.network.services import (
        NetworkMeetingData,
        add_participant,
        create_network_meeting,
        record_voice,
    )

    social = world.members[SOCIAL]
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
    network = create_network_meeting(
        db,
        social,
        world.council,
        NetworkMeetingData(
            child=children.enrol(),
            kind="sip_like",
            purpose="follow_up",
            day=start.date(),
            start_time=dt.time(13, 0),
            duration_minutes=60,
            location="Rum 1",
            agency_ids=[a.id for a in world.agencies.values()],
        ),
    )
    added = 0

    def grow(n: int) -> None:
        nonlocal added
        while added < n:
            participant = add_participant(db, social, network, "relative", f"Namn {added}", None)
            create_letter(db, social, network, participant)
            record_voice(
                db, world.members[POLICE if added % 2 else SCHOOL], network, f"Röst {added}"
            )
            added += 1

    client = log_in(app.test_client(), world.members[viewer])
    path = f"/network-meetings/{network.meeting_id}"
    assert_constant(grow, lambda: counted(db, client, path, statements))
