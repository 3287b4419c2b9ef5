"""Creating an agreed action (överenskommen åtgärd) in the meeting workspace.

The description is a sealed record (category ``agreed_action``) of the creator's agency,
disclosed to the responsible agency under a basis the policy engine accepts; the metadata
(child, responsible agency and person, due date, status) is visible to the council's members.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.db import today_local
from coordination.errors import ServiceError
from coordination.models import Agency, Child, User
from coordination.policy import can_view_council
from meetings.models import Meeting
from minutes.models import ActionStatus, AgreedAction
from minutes.tags import MinutesTag
from minutes.workspace.services import (
    bump,
    minutes_for_change,
    require_draft,
    require_on_agenda,
    require_writer,
)
from secrecy.disclosure.services import decide_disclosure, disclosure_options
from secrecy.models import Record
from secrecy.policy.reasons import explain
from secrecy.records.services import create_record

ACTION_CATEGORY = "agreed_action"


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
    today: dt.date | None = None,
) -> AgreedAction:
    """``today``: the day the action is agreed, for the due-date check (the meeting's own day
    when minutes are written up afterwards; the demo's past meetings)."""
    require_writer(actor, meeting)
    require_on_agenda(session, meeting, child)
    minutes = minutes_for_change(session, actor, meeting)
    require_draft(minutes)
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
            session, actor, record, responsible_agency, basis_id, confirmed
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
        object_type="agreed_action",
        object_ids=[action.id],
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
    return action
