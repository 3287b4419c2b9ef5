"""Writing a plan: creating it, its goals, views and evaluation date, a new version with a
reason, agreeing a version at a meeting, and measures (agreed actions linked to a goal).

Services take ``(session, actor, ...)``, validate before they write anything, change, flush and
append their audit event in the caller's transaction; they never commit. Every text is a sealed
record of the writer's agency (``secrecy.records.services.create_record``), shared with the
council's agencies only by the writer's own disclosure decisions, each checked by the policy
engine. ``IndividualPlan.version`` is raised by every change: a change made against an older
version of the page is a ``ConflictError``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.db import today_local, utcnow
from coordination.errors import PermissionDenied, ServiceError, check_version, lock_unchanged
from coordination.models import Child, User
from coordination.policy import can_view_council
from meetings.models import Meeting
from minutes.models import Minutes, MinutesStatus
from minutes.plans.access import can_write_plan, latest_version, plan_of_child
from minutes.plans.models import (
    IndividualPlan,
    PlanGoal,
    PlanVersion,
    PlanVersionStatus,
)
from minutes.tags import MinutesTag
from minutes.workspace.services import (
    SUBMITTED_MESSAGE,
    bump,
    minutes_for_change,
    require_draft,
    require_on_agenda,
    require_writer,
)
from minutes.workspace.sharing import ShareChoice, chosen_agencies, disclose_to_chosen
from secrecy.disclosure.assessments import seal_form_assessment
from secrecy.models import Record
from secrecy.records.services import create_record, require_child_access

PLAN_CATEGORY = "individual_plan"
MAX_GOAL = 1000
MAX_TEXT = 5000

LOCKED_PLAN_MESSAGE = _l(
    "Planen fastställdes i ett justerat protokoll och är låst. Gör ändringen i en ny version "
    "med ett skäl."
)
SUPERSEDED_MESSAGE = _l("Den här versionen av planen är ersatt och kan inte ändras.")
TEXT_TOO_LONG = _l("Texten är för lång (högst 5 000 tecken).")


# --- Helpers --------------------------------------------------------------------------------------


def agreed_version(plan: IndividualPlan) -> PlanVersion | None:
    """The version in force: the newest agreed one."""
    agreed = [v for v in plan.versions if v.status is PlanVersionStatus.AGREED]
    return max(agreed, key=lambda v: v.number) if agreed else None


def _require_writer(
    session: Session, actor: User, plan: IndividualPlan, expected_version: int | None
) -> None:
    """The actor writes to the plan, and the change is made against its current version.

    Changes of one plan queue on its row (``lock_unchanged``) before they read anything to
    change: a new version's number and a new goal's key are the plan's highest plus one, and
    two requests at once would otherwise read the same one (the loser then failed on the unique
    key only after sealing its texts). A plan changed by the one ahead is a conflict."""
    if not can_write_plan(actor, plan):
        raise PermissionDenied(object_type="individual_plan", object_ids=[plan.id])
    lock_unchanged(session, plan)
    check_version(plan, expected_version)


def _editable_plan(
    session: Session, actor: User, version: PlanVersion, expected_version: int | None
) -> IndividualPlan:
    """The version's plan, when the actor may change the version's content now."""
    _require_writer(session, actor, version.plan, expected_version)
    require_editable(session, version)
    return version.plan


def _touch(plan: IndividualPlan) -> None:
    plan.version = plan.version + 1


def agreed_minutes(session: Session, version: PlanVersion) -> Minutes | None:
    if version.agreed_meeting_id is None:
        return None
    return session.scalars(
        select(Minutes).where(Minutes.meeting_id == version.agreed_meeting_id)
    ).one_or_none()


def is_locked(session: Session, version: PlanVersion) -> bool:
    """Agreed at a meeting whose minutes are approved (or a later version exists)."""
    if version.status is PlanVersionStatus.SUPERSEDED:
        return True
    minutes = agreed_minutes(session, version)
    return minutes is not None and minutes.status is MinutesStatus.APPROVED


def require_editable(session: Session, version: PlanVersion) -> None:
    """A draft, or a version agreed at a meeting whose minutes are still a draft (the meeting
    corrects what it agreed); after justering a change is a new version with a reason."""
    if version.status is PlanVersionStatus.SUPERSEDED or version is not latest_version(
        version.plan
    ):
        raise ServiceError(SUPERSEDED_MESSAGE)
    if version.status is PlanVersionStatus.AGREED:
        minutes = agreed_minutes(session, version)
        if minutes is not None and minutes.status is MinutesStatus.APPROVED:
            raise ServiceError(LOCKED_PLAN_MESSAGE)
        if minutes is not None and minutes.status is MinutesStatus.SUBMITTED:
            raise ServiceError(SUBMITTED_MESSAGE)


def _clean(text: str | None, *, limit: int, empty: object, too_long: object, field: str) -> str:
    value = (text or "").strip()
    if not value:
        raise ServiceError(empty, field=field)
    if len(value) > limit:
        raise ServiceError(too_long, field=field)
    return value


def _clean_text(text: str | None, *, empty: object, field: str) -> str:
    """A plan's free text (a reason, a comment, a measure) trimmed and checked against
    ``MAX_TEXT``."""
    return _clean(text, limit=MAX_TEXT, empty=empty, too_long=TEXT_TOO_LONG, field=field)


@dataclass
class Sharing:
    """The writer's choice of agencies to disclose a form's new texts to, and the one written
    assessment behind those decisions (sealed once, at the first text shared, and shown to
    each recipient; required as soon as anything is shared)."""

    choices: Sequence[ShareChoice] = ()
    assessment: str | None = None
    written: Record | None = None

    def disclose(
        self, session: Session, actor: User, plan: IndividualPlan, record: Record
    ) -> list[int]:
        """Disclose ``record`` to the chosen agencies of the plan's council, each under a basis
        the engine accepts (usually consent); the ids of the agencies it went to."""
        chosen = chosen_agencies(
            actor,
            self.choices,
            (a for a in plan.council.agencies if a.active),
            _l("Texten kan bara lämnas ut till forumets myndigheter."),
        )
        if not chosen:
            return []
        if self.written is None:
            self.written = seal_form_assessment(
                session, actor, plan.child, self.assessment, [c.basis_id for _, c in chosen]
            )
        disclose_to_chosen(session, actor, record, chosen, self.written)
        return [agency.id for agency, _ in chosen]


def _seal(
    session: Session,
    actor: User,
    plan: IndividualPlan,
    text: str,
    sharing: Sharing,
) -> tuple[Record, list[int]]:
    record = create_record(session, actor, plan.child, PLAN_CATEGORY, text)
    return record, sharing.disclose(session, actor, plan, record)


def _changed(
    session: Session,
    actor: User,
    tag: MinutesTag,
    plan: IndividualPlan,
    change: str,
    *,
    created: bool = False,
    **details: object,
) -> None:
    """The change flushed and its audit event appended; every change but the plan's creation
    raises the plan's version first."""
    if not created:
        _touch(plan)
    session.flush()
    record_event(
        session,
        actor,
        tag,
        on=plan,
        details={"child_id": plan.child_id, "council_id": plan.council_id, "change": change}
        | details,
    )


# --- The plan -------------------------------------------------------------------------------------


def _require_coordinator(plan_council_id: int, child: Child, coordinator: User | None) -> User:
    if (
        coordinator is None
        or not coordinator.is_active
        or not can_view_council(coordinator, child.council)
        or child.council_id != plan_council_id
    ):
        raise ServiceError(
            _l("Välj planens samordnare bland forumets medlemmar."), field="coordinator_id"
        )
    return coordinator


def create_plan(
    session: Session, actor: User, child: Child, coordinator: User | None
) -> IndividualPlan:
    """The child's plan in its council, with an empty first draft."""
    require_child_access(actor, child)
    if not actor.is_active:
        raise PermissionDenied()
    coordinator = _require_coordinator(child.council_id, child, coordinator)
    if plan_of_child(session, child.council_id, child.id) is not None:
        raise ServiceError(_l("Barnet har redan en individuell plan i forumet."))
    plan = IndividualPlan(
        council_id=child.council_id,
        child_id=child.id,
        coordinator_id=coordinator.id,
        created_by_id=actor.id,
    )
    try:
        with session.begin_nested():
            session.add(plan)
            session.flush()
    except IntegrityError:
        raise ServiceError(_l("Barnet har redan en individuell plan i forumet.")) from None
    first = PlanVersion(
        plan_id=plan.id, number=1, status=PlanVersionStatus.DRAFT, created_by_id=actor.id
    )
    session.add(first)
    session.flush()
    session.refresh(plan, ["versions"])
    _changed(
        session,
        actor,
        MinutesTag.PLAN_CREATE,
        plan,
        "create",
        created=True,
        version_id=first.id,
        coordinator_id=coordinator.id,
    )
    return plan


def set_coordinator(
    session: Session,
    actor: User,
    plan: IndividualPlan,
    coordinator: User | None,
    *,
    expected_version: int | None = None,
) -> None:
    _require_writer(session, actor, plan, expected_version)
    coordinator = _require_coordinator(plan.council_id, plan.child, coordinator)
    plan.coordinator_id = coordinator.id
    _changed(
        session, actor, MinutesTag.PLAN_EDIT, plan, "coordinator", coordinator_id=coordinator.id
    )


# --- Views and the evaluation date ----------------------------------------------------------------


def set_views(
    session: Session,
    actor: User,
    version: PlanVersion,
    youth_view: str | None,
    guardian_view: str | None,
    *,
    expected_version: int | None = None,
    shares: Sequence[ShareChoice] = (),
    assessment: str | None = None,
) -> None:
    """The young person's and the guardians' own views, as told (a blank one is left as it
    was)."""
    plan = _editable_plan(session, actor, version, expected_version)
    sharing = Sharing(shares, assessment)
    youth = (youth_view or "").strip()
    guardians = (guardian_view or "").strip()
    if not youth and not guardians:
        raise ServiceError(
            _l("Skriv den unges eller vårdnadshavarnas syn på planen."), field="youth_view"
        )
    for value, field in ((youth, "youth_view"), (guardians, "guardian_view")):
        if len(value) > MAX_TEXT:
            raise ServiceError(TEXT_TOO_LONG, field=field)
    record_ids = []
    if youth:
        record, _shared = _seal(session, actor, plan, youth, sharing)
        version.youth_view_record_id = record.id
        record_ids.append(record.id)
    if guardians:
        record, _shared = _seal(session, actor, plan, guardians, sharing)
        version.guardian_view_record_id = record.id
        record_ids.append(record.id)
    _changed(
        session,
        actor,
        MinutesTag.PLAN_EDIT,
        plan,
        "views",
        version_id=version.id,
        record_ids=record_ids,
    )


def set_evaluation_date(
    session: Session,
    actor: User,
    version: PlanVersion,
    evaluate_on: dt.date | None,
    *,
    expected_version: int | None = None,
    today: dt.date | None = None,
) -> None:
    plan = _editable_plan(session, actor, version, expected_version)
    if evaluate_on is None:
        raise ServiceError(_l("Ange ett datum för uppföljningen."), field="evaluate_on")
    if evaluate_on < (today or today_local()):
        raise ServiceError(_l("Uppföljningsdatumet har redan passerat."), field="evaluate_on")
    version.evaluate_on = evaluate_on
    _changed(
        session,
        actor,
        MinutesTag.PLAN_EDIT,
        plan,
        "evaluate_on",
        version_id=version.id,
        evaluate_on=evaluate_on.isoformat(),
    )


# --- Versions -------------------------------------------------------------------------------------


def revise_plan(
    session: Session,
    actor: User,
    plan: IndividualPlan,
    reason: str,
    *,
    expected_version: int | None = None,
    shares: Sequence[ShareChoice] = (),
    assessment: str | None = None,
) -> PlanVersion:
    """A new draft version after an agreed one, with the reason (sealed): the goals, views and
    evaluation date come along (the same records; a changed text is a new record)."""
    _require_writer(session, actor, plan, expected_version)
    sharing = Sharing(shares, assessment)
    current = latest_version(plan)
    if current.status is PlanVersionStatus.DRAFT:
        raise ServiceError(
            _l("Planen har redan ett utkast som inte är fastställt. Ändra i utkastet.")
        )
    text = _clean_text(reason, empty=_l("Ange varför planen ändras."), field="reason")
    record, shared = _seal(session, actor, plan, text, sharing)
    new = PlanVersion(
        plan_id=plan.id,
        number=current.number + 1,
        status=PlanVersionStatus.DRAFT,
        evaluate_on=current.evaluate_on,
        reason_record_id=record.id,
        youth_view_record_id=current.youth_view_record_id,
        guardian_view_record_id=current.guardian_view_record_id,
        created_by_id=actor.id,
    )
    session.add(new)
    session.flush()
    for goal in current.goals:
        session.add(
            PlanGoal(
                version_id=new.id,
                plan_id=plan.id,
                key=goal.key,
                position=goal.position,
                area=goal.area,
                text_record_id=goal.text_record_id,
                indicator_record_id=goal.indicator_record_id,
                target_on=goal.target_on,
            )
        )
    _changed(
        session,
        actor,
        MinutesTag.PLAN_REVISE,
        plan,
        "revise",
        version_id=new.id,
        number=new.number,
        reason_record_id=record.id,
        shared_with_agency_ids=shared,
    )
    session.expire(plan, ["versions"])
    return new


def agree_version(
    session: Session,
    actor: User,
    version: PlanVersion,
    meeting: Meeting,
    *,
    expected_version: int | None = None,
) -> PlanVersion:
    """The meeting agrees the draft: recorded in the meeting's minutes (their version rises;
    the plan is locked with them at justering). The version agreed before is superseded."""
    plan = version.plan
    _require_writer(session, actor, plan, expected_version)
    require_writer(actor, meeting)
    if meeting.council_id != plan.council_id:
        raise ServiceError(_l("Mötet hör till ett annat forum."), field="meeting_id")
    require_on_agenda(session, meeting, plan.child)
    if version.status is not PlanVersionStatus.DRAFT or version is not latest_version(plan):
        raise ServiceError(_l("Bara planens senaste utkast kan fastställas."))
    if not version.goals:
        raise ServiceError(_l("Planen behöver minst ett mål för att fastställas."), field="goals")
    if version.evaluate_on is None:
        raise ServiceError(
            _l("Ange ett datum för uppföljningen innan planen fastställs."), field="evaluate_on"
        )
    minutes = minutes_for_change(session, actor, meeting)
    require_draft(minutes)
    previous = agreed_version(plan)
    if previous is not None:
        previous.status = PlanVersionStatus.SUPERSEDED
    version.status = PlanVersionStatus.AGREED
    version.agreed_meeting_id = meeting.id
    version.agreed_at = utcnow()
    version.agreed_by_id = actor.id
    bump(minutes)
    _changed(
        session,
        actor,
        MinutesTag.PLAN_AGREE,
        plan,
        "agree",
        version_id=version.id,
        number=version.number,
        meeting_id=meeting.id,
        minutes_id=minutes.id,
        superseded_version_id=previous.id if previous else None,
    )
    return version
