"""A brief for an agenda item that came without one: a child put on the agenda by their open
actions (``contributors``) can be given a short situation brief like any other item.

The same rules as adding a child (``items.add_agenda_item``): members of the council until the
agenda deadline, the coordinator after it, planned meetings only; the brief is a sealed record
of the writer's agency (category ``meeting_note``), read only through ``secrecy.records.reveal``.
A contributed child not yet written onto the agenda (shown, not stored) is written first.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.errors import ServiceError
from coordination.models import Child, User
from meetings.agenda.access import require_member, require_planned
from meetings.agenda.contributors import add_contributed_items
from meetings.agenda.deadline import DEFAULT_DEADLINE_WORKING_DAYS
from meetings.agenda.items import BRIEF_CATEGORY, checked_brief, lock_meeting, require_in_time
from meetings.models import AgendaItem, Meeting
from meetings.tags import MeetingTag
from secrecy.records.services import create_record


def add_brief(
    session: Session,
    actor: User,
    meeting: Meeting,
    child: Child | None,
    brief: str,
    *,
    deadline_working_days: int = DEFAULT_DEADLINE_WORKING_DAYS,
    today: dt.date | None = None,
) -> AgendaItem:
    """Give the child's agenda item its brief; refused when it has one already."""
    require_member(actor, meeting)
    require_planned(meeting)
    late = _l(
        "Sista dag att lämna underlag till dagordningen var %(date)s. Nu kan bara "
        "samordnaren lägga till en lägesbeskrivning."
    )
    require_in_time(actor, meeting, deadline_working_days, today, late, "brief")
    text = checked_brief(brief)
    if child is None or child.council_id != meeting.council_id:
        raise ServiceError(_l("Barnet står inte på dagordningen."))
    item = _item_of(session, meeting, child)
    if item is None:
        add_contributed_items(session, meeting)  # shown on the agenda: written now
        item = _item_of(session, meeting, child)
    if item is None:
        raise ServiceError(_l("Barnet står inte på dagordningen."))
    lock_meeting(session, meeting)
    session.refresh(item)
    if item.brief_record_id is not None:
        raise ServiceError(_l("Punkten har redan en lägesbeskrivning."), field="brief")
    record = create_record(session, actor, child, BRIEF_CATEGORY, text)
    item.brief_record_id = record.id
    session.flush()
    record_event(
        session,
        actor,
        MeetingTag.AGENDA_BRIEF,
        on=item,
        details={"meeting_id": meeting.id, "child_id": child.id, "brief_record_id": record.id},
    )
    return item


def _item_of(session: Session, meeting: Meeting, child: Child) -> AgendaItem | None:
    return session.scalars(
        select(AgendaItem).where(
            AgendaItem.meeting_id == meeting.id, AgendaItem.child_id == child.id
        )
    ).one_or_none()
