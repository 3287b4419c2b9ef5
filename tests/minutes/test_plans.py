"""Individual plans: goals, views, versions agreed at meetings and locked with their minutes,
measures, evaluations, what changed between versions, the agenda seam, the coordinator's
reminder, the projector's form and the family's document; bad input changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.db import today_local
from coordination.errors import ConflictError, PermissionDenied, ServiceError
from coordination.models import Agency, AgencyKind
from meetings.agenda.contributors import add_contributed_items
from meetings.models import AgendaItem, Notification
from minutes.models import ActionStatus, AgreedAction, MinutesStatus
from minutes.plans import document, evaluation, goals, services
from minutes.plans.agenda_seam import children_due_for_evaluation
from minutes.plans.areas import AreaFileError, life_areas, parse_areas
from minutes.plans.jobs import evaluation_reminders
from minutes.plans.models import (
    EvaluationOutcome,
    GoalEvaluation,
    PlanGoal,
    PlanVersionStatus,
)
from minutes.plans.projection import plan_projection
from minutes.plans.reading import read_version, version_changes
from minutes.workspace.services import minutes_of
from secrecy.records.services import create_record
from tests.conftest import Council3
from tests.factories import AgencyFactory
from tests.minutes.plan_helpers import (
    EVAL_MARK,
    GOAL_MARK,
    POLICE,
    SCHOOL,
    SOCIAL,
    YOUTH_MARK,
    PlanSetting,
    agree_plan,
    make_meeting,
    make_plan,
    to_police,
)


@pytest.fixture
def setting(db: Session, world: Council3) -> PlanSetting:
    return make_plan(db, world, share=True)


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_areas_are_data() -> None:
    assert list(life_areas()) == [
        "school",
        "leisure",
        "family",
        "health",
        "criminality",
        "housing",
        "other",
    ]
    with pytest.raises(AreaFileError):
        parse_areas('[[area]]\nkey = "x"\nsv = ""\nen = "X"\n')


def test_a_plan_holds_sealed_texts_shared_only_by_decision(
    db: Session, world: Council3, setting: PlanSetting
) -> None:
    social, police, school = (world.members[k] for k in (SOCIAL, POLICE, SCHOOL))
    version = services.latest_version(setting.plan)
    for viewer, visible in ((social, True), (police, True), (school, False)):
        view = read_version(db, viewer, version)
        assert view.goals[0].text.withheld is not visible
        assert view.youth_view is not None and view.youth_view.withheld is not visible
        if visible:
            assert view.goals[0].text.content["text"] == GOAL_MARK
        else:
            assert view.goals[0].text.reason  # withheld with the reason
    # The structure is for every member: the school sees the area and the date.
    assert read_version(db, school, version).goals[0].goal.area == "school"
    tags = db.scalars(select(AuditEvent.tag).where(AuditEvent.tag.like("minutes:plan:%"))).all()
    assert "minutes:plan:create" in tags and "minutes:plan:edit" in tags


def test_bad_goals_are_refused_and_change_nothing(
    db: Session, world: Council3, setting: PlanSetting
) -> None:
    social = world.members[SOCIAL]
    draft = services.latest_version(setting.plan)
    before = count(db, PlanGoal)
    future = today_local() + dt.timedelta(days=5)
    cases = [
        (goals.GoalInput("school", future, "  ", "mätbart"), "text"),
        (
            goals.GoalInput("school", today_local() - dt.timedelta(days=1), "Mål", "x"),
            "target_on",
        ),
        (goals.GoalInput("nowhere", future, "Mål", "x"), "area"),
        (goals.GoalInput("school", future, "Mål", ""), "indicator"),
        (goals.GoalInput("school", None, "Mål", "x"), "target_on"),
    ]
    for goal, field in cases:
        with pytest.raises(ServiceError) as refused:
            goals.add_goal(db, social, draft, goal)
        assert refused.value.field == field
    with pytest.raises(ServiceError) as empty:
        goals.add_goal(db, social, draft, cases[0][0])
    assert str(empty.value.message) == "Skriv målet."
    assert count(db, PlanGoal) == before
    with pytest.raises(ConflictError):
        goals.add_goal(
            db,
            social,
            draft,
            goals.GoalInput("school", future, "M", "I"),
            expected_version=setting.plan.version - 1,
        )


def test_agreeing_locks_the_plan_with_the_minutes_and_a_change_is_a_new_version(
    db: Session, world: Council3, setting: PlanSetting
) -> None:
    social = world.members[SOCIAL]
    agree_plan(db, world, setting)
    agreed = services.latest_version(setting.plan)
    assert agreed.status is PlanVersionStatus.AGREED
    assert agreed.agreed_meeting_id == setting.meeting.id
    minutes = minutes_of(db, setting.meeting)
    assert minutes is not None and minutes.version > 1  # recorded in the minutes
    # Before justering the meeting may still correct what it agreed.
    services.set_evaluation_date(db, social, agreed, today_local() + dt.timedelta(days=40))
    minutes.status = MinutesStatus.APPROVED
    db.flush()
    goal_count = count(db, PlanGoal)
    with pytest.raises(ServiceError) as refused:
        goals.add_goal(
            db,
            social,
            agreed,
            goals.GoalInput("family", today_local() + dt.timedelta(days=9), "Nytt", "Mätt"),
        )
    assert "låst" in str(refused.value.message)
    assert count(db, PlanGoal) == goal_count
    with pytest.raises(ServiceError):
        services.revise_plan(db, social, setting.plan, "  ")
    second = services.revise_plan(db, social, setting.plan, "Skolbyte")
    assert second.number == 2 and second.status is PlanVersionStatus.DRAFT
    new_goal = goals.add_goal(
        db,
        social,
        second,
        goals.GoalInput("leisure", today_local() + dt.timedelta(days=60), "Fotboll", "Tränar"),
    )
    copied = next(g for g in second.goals if g.key == setting.goal.key)
    goals.edit_goal(
        db,
        social,
        copied,
        goals.GoalInput("school", today_local() + dt.timedelta(days=120), None, None),
    )
    changes = version_changes(db, social, agreed, second)
    kinds = {(c.key, c.kind) for c in changes.goals}
    assert (new_goal.key, "added") in kinds and (setting.goal.key, "changed") in kinds
    changed = next(c for c in changes.goals if c.kind == "changed")
    assert changed.fields == ["target_on"]
    meeting2 = make_meeting(db, world.council, 2, setting.child, social)
    services.agree_version(db, social, second, meeting2)
    assert agreed.status is PlanVersionStatus.SUPERSEDED
    assert services.agreed_version(setting.plan) is second


def test_agreeing_needs_goals_a_date_the_agenda_and_open_minutes(
    db: Session, world: Council3
) -> None:
    s = make_plan(db, world)
    social = world.members[SOCIAL]
    draft = services.latest_version(s.plan)
    elsewhere = make_meeting(db, world.council, 3)  # the child is not on its agenda
    with pytest.raises(ServiceError):
        services.agree_version(db, social, draft, elsewhere)
    minutes = services.minutes_for_change(db, social, s.meeting)
    minutes.status = MinutesStatus.APPROVED
    db.flush()
    with pytest.raises(ServiceError) as refused:
        services.agree_version(db, social, draft, s.meeting)
    assert "låst" in str(refused.value.message)
    assert draft.status is PlanVersionStatus.DRAFT


def test_measures_link_actions_of_the_council_to_a_goal(
    db: Session, world: Council3, setting: PlanSetting
) -> None:
    social = world.members[SOCIAL]
    outsider = AgencyFactory(kind=AgencyKind.OTHER, name="Utanför forumet")
    db.flush()
    with pytest.raises(ServiceError) as refused:
        goals.add_measure(
            db,
            social,
            setting.goal,
            setting.meeting,
            "Läxhjälp",
            outsider,
            None,
            today_local() + dt.timedelta(days=10),
            "",
            [],
        )
    assert refused.value.field == "responsible_agency_id"
    assert count(db, AgreedAction) == 0
    action = goals.add_measure(
        db,
        social,
        setting.goal,
        setting.meeting,
        "Läxhjälp",
        world.agencies[SOCIAL],
        social,
        today_local() + dt.timedelta(days=10),
        "",
        [],
    )
    view = read_version(db, social, services.latest_version(setting.plan))
    assert [m.action.id for m in view.goals[0].measures] == [action.id]
    with pytest.raises(ServiceError):
        goals.link_measure(db, social, setting.goal, action)  # already a measure
    # An action for an agency that has left the council cannot become a measure.
    record = create_record(db, social, setting.child, "agreed_action", "Annat")
    stray = AgreedAction(
        child_id=setting.child.id,
        meeting_id=setting.meeting.id,
        description_record_id=record.id,
        responsible_agency_id=outsider.id,
        due_on=today_local(),
        status=ActionStatus.OPEN,
        created_by_id=social.id,
    )
    db.add(stray)
    db.flush()
    with pytest.raises(ServiceError):
        goals.link_measure(db, social, setting.goal, stray)


def test_evaluations_assess_the_goals_of_the_version_in_force_only(
    db: Session, world: Council3, setting: PlanSetting
) -> None:
    social, police = world.members[SOCIAL], world.members[POLICE]
    with pytest.raises(ServiceError):  # not agreed yet
        evaluation.evaluate_goal(db, social, setting.goal, EvaluationOutcome.REACHED, "Bra")
    agree_plan(db, world, setting)
    old_goal = setting.goal
    minutes_of(db, setting.meeting).status = MinutesStatus.APPROVED  # type: ignore[union-attr]
    second = services.revise_plan(db, social, setting.plan, "Ny skola")
    meeting2 = make_meeting(db, world.council, 2, setting.child, social)
    services.agree_version(db, social, second, meeting2)
    with pytest.raises(ServiceError) as refused:
        evaluation.evaluate_goal(db, social, old_goal, EvaluationOutcome.REACHED, "Bra")
    assert "äldre version" in str(refused.value.message)
    current = second.goals[0]
    with pytest.raises(ServiceError):
        evaluation.evaluate_goal(db, social, current, EvaluationOutcome.REACHED, " ")
    assert count(db, GoalEvaluation) == 0
    done = evaluation.evaluate_goal(db, police, current, EvaluationOutcome.PARTLY, EVAL_MARK)
    assert done.outcome is EvaluationOutcome.PARTLY
    assert evaluation.is_evaluated(second)
    with pytest.raises(ServiceError):
        evaluation.evaluate_goal(db, police, current, EvaluationOutcome.REACHED, "igen")
    # The police's comment is theirs: social services sees it withheld.
    view = read_version(db, social, second)
    assert view.goals[0].evaluation_comment is not None
    assert view.goals[0].evaluation_comment.withheld


def test_outsiders_may_not_write(db: Session, world: Council3, setting: PlanSetting) -> None:
    from tests.factories import UserFactory

    stranger = UserFactory(agency=world.agencies[SOCIAL], email="x@example.com")
    db.flush()
    with pytest.raises(PermissionDenied):
        services.set_views(db, stranger, services.latest_version(setting.plan), "a", "b")
    with pytest.raises(ServiceError):
        services.create_plan(db, world.members[SOCIAL], setting.child, world.coordinator)


def test_the_child_comes_onto_the_agenda_before_the_evaluation_date(
    db: Session, world: Council3
) -> None:
    social = world.members[SOCIAL]
    s = make_plan(db, world)
    agree_plan(db, world, s)
    # Evaluation in 30 days: meetings in 20 and 50 days; the one in 20 is the one before.
    before = make_meeting(db, world.council, 20)
    after = make_meeting(db, world.council, 50)
    early = make_meeting(db, world.council, 10)
    assert children_due_for_evaluation(db, early) == []
    assert children_due_for_evaluation(db, before) == [s.child.id]
    added = add_contributed_items(db, before, [children_due_for_evaluation])
    assert [i.child_id for i in added] == [s.child.id]
    assert db.scalar(select(AgendaItem.id).where(AgendaItem.meeting_id == before.id))
    assert children_due_for_evaluation(db, after) == [s.child.id]  # still not assessed
    for goal in services.latest_version(s.plan).goals:
        evaluation.evaluate_goal(db, social, goal, EvaluationOutcome.REACHED, "Klart")
    assert children_due_for_evaluation(db, after) == []


def test_the_coordinator_is_reminded_14_days_ahead_without_personal_data(
    db: Session, world: Council3
) -> None:
    s = make_plan(db, world)
    agree_plan(db, world, s)
    now = dt.datetime.now(dt.UTC)
    assert evaluation_reminders(db, now) == 0  # 30 days ahead
    with time_machine.travel(now + dt.timedelta(days=17), tick=False):
        later = dt.datetime.now(dt.UTC)
        assert evaluation_reminders(db, later) == 1
        assert evaluation_reminders(db, later) == 0  # idempotent
    note = db.scalars(select(Notification).where(Notification.kind == "plan_evaluation")).one()
    assert note.recipient_id == world.coordinator.id
    assert note.link == f"/plans/{s.plan.id}"
    for secret in (s.child.pseudonym, "Kalle", GOAL_MARK, YOUTH_MARK):
        assert secret not in note.subject and secret not in note.body


def test_the_projection_shows_only_what_every_agency_present_may_read(
    app, db: Session, world: Council3, setting: PlanSetting
) -> None:
    social = world.members[SOCIAL]
    council, child = world.council.id, setting.child.id
    with app.test_request_context():
        both = plan_projection(
            db, social, council, child, [world.agencies[SOCIAL].id, world.agencies[POLICE].id]
        )
        three = plan_projection(
            db, social, council, child, [world.agencies[k].id for k in (SOCIAL, POLICE, SCHOOL)]
        )
        police_view = plan_projection(
            db, world.members[POLICE], council, child, [world.agencies[SOCIAL].id]
        )
        school_view = plan_projection(
            db, world.members[SCHOOL], council, child, [world.agencies[SOCIAL].id]
        )
        none = plan_projection(db, social, council, child + 999, [world.agencies[SOCIAL].id])
        unknown = plan_projection(db, social, council, child, [world.agencies[SOCIAL].id, 99_999])
    assert both is not None and GOAL_MARK in both and YOUTH_MARK in both
    assert three is not None and GOAL_MARK not in three and YOUTH_MARK not in three
    assert "alla myndigheter" in three  # the reason
    assert police_view is not None and GOAL_MARK in police_view
    assert school_view is not None and GOAL_MARK not in school_view
    assert none is None
    assert unknown is not None and GOAL_MARK not in unknown  # an unknown agency: deny


def test_the_family_document_holds_what_the_agency_may_read_and_is_logged(
    app, db: Session, world: Council3, setting: PlanSetting
) -> None:
    social, school = world.members[SOCIAL], world.members[SCHOOL]
    with pytest.raises(ServiceError):
        document.family_document(db, social, setting.plan)  # nothing agreed yet
    agree_plan(db, world, setting)
    with app.test_request_context():
        mine = document.render_family_html(document.family_document(db, social, setting.plan))
        theirs = document.render_family_html(document.family_document(db, school, setting.plan))
    assert GOAL_MARK in mine and YOUTH_MARK in mine and setting.child.pseudonym not in mine
    assert GOAL_MARK not in theirs and "finns inte med" in theirs
    exports = db.scalars(select(AuditEvent).where(AuditEvent.tag == "minutes:plan:export")).all()
    assert len(exports) == 2
    assert GOAL_MARK not in str(exports[0].details)


def test_another_council_agency_is_not_a_share_target(
    db: Session, world: Council3, setting: PlanSetting
) -> None:
    from minutes.workspace.sharing import ShareChoice

    outsider: Agency = AgencyFactory(kind=AgencyKind.POLICE, name="Annan polis")
    db.flush()
    with pytest.raises(ServiceError):
        services.set_views(
            db,
            world.members[SOCIAL],
            services.latest_version(setting.plan),
            "syn",
            "",
            shares=[ShareChoice(outsider.id, "sol-police-u21", (0, 1, 2, 3))],
        )
    assert to_police(world)
