"""Where the sync meets the council's caseload: which cases take submissions and answers,
and the agenda item a case gets at the meeting it was submitted for."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.models import Child, ChildStatus
from meetings.agenda.items import lock_meeting, next_position
from meetings.casesync.records import POLICE_CATEGORY
from meetings.models import AgendaItem, AgendaSource, Meeting, MeetingStatus

# The council's caseload: a number matching one of these attaches to that child.
CASELOAD_STATUSES = frozenset({ChildStatus.ACTIVE, ChildStatus.CLOSED})


def put_on_agenda(session: Session, meeting: Meeting, child: Child) -> AgendaItem | None:
    """Last on the agenda of a planned meeting (source CASE_SYNC, reason "crime and police
    information", no brief), unless the child is already on it."""
    if meeting.status is not MeetingStatus.PLANNED:
        return None
    lock_meeting(session, meeting)
    on_agenda = session.scalar(
        select(AgendaItem.id).where(
            AgendaItem.meeting_id == meeting.id, AgendaItem.child_id == child.id
        )
    )
    if on_agenda is not None:
        return None
    item = AgendaItem(
        meeting_id=meeting.id,
        child_id=child.id,
        position=next_position(session, meeting),
        reason_category=POLICE_CATEGORY,
        source=AgendaSource.CASE_SYNC,
    )
    session.add(item)
    session.flush()
    session.expire(meeting, ["agenda_items"])
    return item
