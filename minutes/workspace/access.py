"""Loading what the workspace pages write about, after ``meetings.agenda.access.meeting_for``
has loaded the meeting: a child on its agenda, an entry of its minutes.

A child who is not on the meeting's agenda (or does not exist) and an entry of another meeting's
minutes are refused like a forbidden meeting: 403, logged by the page wrapper.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from coordination.errors import PermissionDenied, get_or_not_found
from coordination.models import Child
from meetings.models import AgendaItem, Meeting
from minutes.models import MinutesEntry


def child_on_agenda(session: Session, meeting: Meeting, child_id: int) -> Child:
    """The child, when on the meeting's agenda."""
    child = session.scalars(
        select(Child)
        .join(AgendaItem, AgendaItem.child_id == Child.id)
        .where(AgendaItem.meeting_id == meeting.id, AgendaItem.child_id == child_id)
        .options(lazyload(Child.council))  # the meeting's, loaded with it
    ).one_or_none()
    if child is None:
        raise PermissionDenied(object_type="child", object_ids=[child_id])
    return child


def entry_of_meeting(session: Session, meeting: Meeting, entry_id: int) -> MinutesEntry:
    """The entry, when it belongs to the meeting's minutes."""
    entry = get_or_not_found(session, MinutesEntry, entry_id, "minutes_entry")
    if entry.minutes.meeting_id != meeting.id:
        raise PermissionDenied(object_type="minutes_entry", object_ids=[entry_id])
    return entry
