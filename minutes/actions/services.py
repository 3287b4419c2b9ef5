"""Follow-up of agreed actions: status changes with sealed comments, and an action's history.

An action's description and the comments on it are sealed records read only through
``secrecy.records.reveal``. Services take ``(session, actor, ...)``, validate, change, flush and
append their audit event in the caller's transaction; they never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.db import today_local, utcnow
from coordination.errors import ConflictError, PermissionDenied, ServiceError
from coordination.models import Agency, Child, User
from coordination.policy import can_view_council
from meetings.agenda.contributors import OPEN_ACTIONS_CATEGORY as ACTION_CATEGORY
from meetings.models import Meeting
from minutes import notices
from minutes.actions.access import (
    TRANSITIONS,
    can_cancel_action,
    can_update_action,
    can_view_action,
    comment_recipient,
)
from minutes.models import OPEN_STATUSES, ActionStatus, ActionUpdate, AgreedAction, NotDoneReason
from minutes.tags import MinutesTag
from minutes.workspace.services import (
    bump,
    draft_for_change,
    require_on_agenda,
    require_writer,
)
from secrecy.disclosure.assessments import seal_form_assessment
from secrecy.disclosure.services import decide_disclosure, disclosure_options
from secrecy.models import Record
from secrecy.policy.reasons import explain
from secrecy.records.services import create_record

# ACTION_CATEGORY, the category of action descriptions and comments, is defined once, where the
# agenda (a lower layer) needs it for the items it carries over.
MAX_COMMENT = 5000


# --- Creating, in the meeting workspace -----------------------------------------------------------


def _refusal_reasons(
    session: Session, actor: User, record: Record, agency: Agency
) -> tuple[list[str], str]:
    """The ids of the bases the engine accepts, and the reasons of the refused ones."""
    assessments = disclosure_options(session, actor, record, agency)
    accepted = [a.basis.id for a in assessments if a.applicable]
    reasons = " ".join(
        sorted({explain(r) for a in assessments if not a.applicable for r in a.reasons})
    )
    return accepted, reasons


def create_action(
    session: Session,
    actor: User,
    meeting: Meeting,
    child: Child,
    text: str,
    responsible_agency: Agency | None,
    responsible_user: User | None,
    due_on: dt.date | None,
    basis_id: str,
    confirmed: Sequence[int],
    *,
    assessment: str | None = None,
    today: dt.date | None = None,
) -> AgreedAction:
    """``assessment``: the writer's written assessment behind disclosing the description to
    another responsible agency (required then). ``today``: the day the action is agreed, for
    the due-date check (the meeting's own day when minutes are written up afterwards; the
    demo's past meetings)."""
    require_writer(actor, meeting)
    require_on_agenda(session, meeting, child)
    minutes = draft_for_change(session, actor, meeting)
    if responsible_agency is None or responsible_agency.id not in {
        a.id for a in meeting.council.agencies if a.active
    }:
        raise ServiceError(
            _l("Välj en ansvarig myndighet som deltar i forumet."), field="responsible_agency_id"
        )
    if responsible_user is not None and (
        responsible_user.agency_id != responsible_agency.id
        or not responsible_user.is_active
        or not can_view_council(responsible_user, meeting.council)
    ):
        raise ServiceError(
            _l("Den ansvariga personen måste tillhöra den ansvariga myndigheten i forumet."),
            field="responsible_user_id",
        )
    if due_on is None:
        raise ServiceError(_l("Ange ett datum."), field="due_on")
    if due_on < (today or today_local()):
        raise ServiceError(_l("Datumet har redan passerat."), field="due_on")
    record = create_record(session, actor, child, ACTION_CATEGORY, text)
    disclosure_id = None
    if responsible_agency.id != actor.agency_id:
        accepted, reasons = _refusal_reasons(session, actor, record, responsible_agency)
        if not accepted:
            raise ServiceError(
                _l(
                    "Beskrivningen kan inte lämnas till %(agency)s: %(reason)s",
                    agency=responsible_agency.name,
                    reason=reasons,
                ),
                field="basis",
            )
        if not basis_id:
            raise ServiceError(_l("Välj en rättslig grund."), field="basis")
        disclosure_id = decide_disclosure(
            session,
            actor,
            record,
            responsible_agency,
            basis_id,
            confirmed,
            assessment=assessment or "",
        ).id
    action = AgreedAction(
        child_id=child.id,
        meeting_id=meeting.id,
        description_record_id=record.id,
        responsible_agency_id=responsible_agency.id,
        responsible_user_id=responsible_user.id if responsible_user else None,
        due_on=due_on,
        status=ActionStatus.OPEN,
        created_by_id=actor.id,
    )
    session.add(action)
    bump(minutes)
    session.flush()
    record_event(
        session,
        actor,
        MinutesTag.ACTION_CREATE,
        on=action,
        details={
            "meeting_id": meeting.id,
            "child_id": child.id,
            "record_id": record.id,
            "responsible_agency_id": responsible_agency.id,
            "responsible_user_id": action.responsible_user_id,
            "disclosure_id": disclosure_id,
            "due_on": due_on.isoformat(),
        },
    )
    notices.notify_assigned(session, actor, meeting, action, responsible_user)
    return action


# --- Follow-up ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusChange:
    to_status: ActionStatus
    comment: str
    version: int
    reason: NotDoneReason | None = None
    # The actor's own decision to disclose the comment, under a basis the engine must accept.
    share_basis: str | None = None
    confirmed: Sequence[int] = ()
    # Or: the comment shared with any of the council's agencies, each under a basis the
    # engine accepts (``(agency id, basis id, statements confirmed)``, the page's share block).
    shares: Sequence[tuple[int, str, Sequence[int]]] = ()
    # The written assessment behind those disclosures, one for all (required when any is made).
    assessment: str | None = None


def _share_comment(
    session: Session,
    actor: User,
    action: AgreedAction,
    comment: Record,
    shares: Sequence[tuple[int, str, Sequence[int]]],
    written: Record,
) -> list[int]:
    """A follow-up comment disclosed to the council's agencies the actor chose (a police
    officer's follow-up to social services, say), each decision checked by the engine."""
    agencies = {a.id: a for a in action.meeting.council.agencies if a.active}
    shared = []
    for agency_id, basis_id, confirmed in shares:
        agency = agencies.get(agency_id)
        if agency is None:
            raise ServiceError(
                _l("Kommentaren kan bara lämnas till forumets myndigheter."), field="share_basis"
            )
        if agency.id == actor.agency_id:
            continue  # the actor's own agency holds the comment already
        try:
            decide_disclosure(
                session, actor, comment, agency, basis_id, confirmed, assessment=written
            )
        except ServiceError as exc:
            raise ServiceError(
                _l("%(agency)s: %(reason)s", agency=agency.name, reason=str(exc.message)),
                field="share_basis",
            ) from exc
        shared.append(agency.id)
    return shared


def update_action(
    session: Session, actor: User, action: AgreedAction, change: StatusChange
) -> ActionUpdate:
    """Move the action to a new status with a sealed comment of the actor's agency."""
    if not can_view_action(actor, action):
        raise PermissionDenied()
    if change.version != action.version:
        raise ConflictError()
    if change.to_status is ActionStatus.CANCELLED:
        if not can_cancel_action(actor, action):
            raise PermissionDenied()
    elif not can_update_action(actor, action):
        raise PermissionDenied()
    if change.to_status not in TRANSITIONS[action.status]:
        raise ServiceError(_l("Åtgärden kan inte få den statusen nu."), field="status")
    if change.to_status is ActionStatus.NOT_DONE and change.reason is None:
        raise ServiceError(_l("Ange varför åtgärden inte blev utförd."), field="reason")
    text = change.comment.strip()
    if not text:
        raise ServiceError(_l("Skriv en kommentar."), field="comment")
    if len(text) > MAX_COMMENT:
        raise ServiceError(_l("Kommentaren är för lång (högst 5 000 tecken)."), field="comment")
    description = session.get_one(Record, action.description_record_id)
    comment = create_record(session, actor, action.child, ACTION_CATEGORY, text)
    recipient = comment_recipient(actor, action, description) if change.share_basis else None
    if change.share_basis and recipient is None:
        raise ServiceError(
            _l("Kommentaren behöver inte lämnas ut: din myndighet äger åtgärden."),
            field="share_basis",
        )
    # One written assessment behind every disclosure of the comment.
    bases = [change.share_basis] if change.share_basis else []
    bases += [basis for agency_id, basis, _ in change.shares if agency_id != actor.agency_id]
    written = (
        seal_form_assessment(session, actor, action.child, change.assessment, bases)
        if bases
        else None
    )
    shared_with: int | None = None
    if change.share_basis and recipient is not None and written is not None:
        disclosure = decide_disclosure(
            session,
            actor,
            comment,
            recipient,
            change.share_basis,
            change.confirmed,
            assessment=written,
        )
        shared_with = disclosure.recipient_agency_id
    shared_also = (
        _share_comment(session, actor, action, comment, change.shares, written)
        if written is not None
        else []  # nothing chosen for another agency
    )
    update = ActionUpdate(
        action_id=action.id,
        from_status=action.status,
        to_status=change.to_status,
        comment_record_id=comment.id,
        author_id=actor.id,
    )
    session.add(update)
    action.status = change.to_status
    action.not_done_reason = change.reason if change.to_status is ActionStatus.NOT_DONE else None
    action.closed_at = None if change.to_status in OPEN_STATUSES else utcnow()
    session.flush()
    record_event(
        session,
        actor,
        MinutesTag.ACTION_UPDATE,
        on=action,
        details={
            "child_id": action.child_id,
            "from": str(update.from_status),
            "to": str(update.to_status),
            "comment_record_id": comment.id,
            "shared_with_agency_id": shared_with,
            "shared_with_agency_ids": shared_also,
        },
    )
    return update


def action_history(session: Session, action: AgreedAction) -> list[ActionUpdate]:
    return list(
        session.scalars(
            select(ActionUpdate)
            .where(ActionUpdate.action_id == action.id)
            .order_by(ActionUpdate.id)
        )
    )
