"""The seam for the minutes package: children that must be on an agenda by themselves.

Children with open agreed actions must appear on the agenda without anyone adding them. Minutes
sit above meetings, so meetings cannot ask for them; instead an upper layer registers a
contributor with ``register_agenda_contributor(app, contributor)``. A contributor is
``(session, meeting) -> child ids``; the meeting page passes every registered one to
``add_contributed_items``, which puts the children on the agenda with source ``OPEN_ACTIONS``
(children of the meeting's council with an active case only, never twice).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.models import Child, ChildStatus
from meetings.agenda.items import lock_meeting, next_position
from meetings.models import AgendaItem, AgendaSource, Meeting, MeetingStatus
from meetings.tags import MeetingTag

OPEN_ACTIONS_CATEGORY = "agreed_action"
CONTRIBUTORS = "samverkan.agenda_contributors"

AgendaContributor = Callable[[Session, Meeting], Iterable[int]]


def register_agenda_contributor(app: Flask, contributor: AgendaContributor) -> None:
    """An upper layer adds children to agendas: ``contributor(session, meeting)`` returns the
    ids of children that must be on this meeting's agenda (e.g. open agreed actions)."""
    app.extensions.setdefault(CONTRIBUTORS, []).append(contributor)


def agenda_contributors(app: Flask) -> list[AgendaContributor]:
    return list(app.extensions.get(CONTRIBUTORS, []))


def contributed_child_ids(
    session: Session,
    meeting: Meeting,
    contributors: Sequence[AgendaContributor],
    *,
    on_agenda: Iterable[int] | None = None,
) -> list[int]:
    """The children ``add_contributed_items`` would put on the agenda now, in order (read
    only: the API shows them on the agenda without writing). ``on_agenda``: the ids of the
    children on the agenda, when the caller has just loaded its items."""
    if meeting.status is not MeetingStatus.PLANNED or not contributors:
        return []
    wanted: list[int] = []
    for contributor in contributors:
        for child_id in contributor(session, meeting):
            if child_id not in wanted:
                wanted.append(child_id)
    if not wanted:
        return []
    present = (
        set(on_agenda)
        if on_agenda is not None
        else set(
            session.scalars(select(AgendaItem.child_id).where(AgendaItem.meeting_id == meeting.id))
        )
    )
    new_ids = [child_id for child_id in wanted if child_id not in present]
    if not new_ids:
        return []
    eligible = set(
        session.scalars(
            select(Child.id).where(
                Child.id.in_(new_ids),
                Child.council_id == meeting.council_id,
                Child.status == ChildStatus.ACTIVE,
            )
        )
    )
    return [child_id for child_id in new_ids if child_id in eligible]


def add_contributed_items(
    session: Session,
    meeting: Meeting,
    contributors: Sequence[AgendaContributor],
    *,
    on_agenda: Iterable[int] | None = None,
) -> list[AgendaItem]:
    """Put the children the contributors name on a planned meeting's agenda (source
    ``OPEN_ACTIONS``, reason "agreed action", no brief), after the items already there.
    Unknown ids, children of other councils and inactive cases are ignored. Idempotent.
    ``on_agenda`` as for ``contributed_child_ids``."""
    new_ids = contributed_child_ids(session, meeting, contributors, on_agenda=on_agenda)
    if not new_ids:
        return []
    added: list[AgendaItem] = []
    try:
        with session.begin_nested():
            lock_meeting(session, meeting)
            position = next_position(session, meeting)
            for offset, child_id in enumerate(new_ids):
                item = AgendaItem(
                    meeting_id=meeting.id,
                    child_id=child_id,
                    position=position + offset,
                    reason_category=OPEN_ACTIONS_CATEGORY,
                    source=AgendaSource.OPEN_ACTIONS,
                )
                session.add(item)
                added.append(item)
            session.flush()
    except IntegrityError:
        # Another request added them at the same moment; the next view sees its items.
        session.expire(meeting, ["agenda_items"])
        return []
    session.expire(meeting, ["agenda_items"])
    record_event(
        session,
        None,
        MeetingTag.AGENDA_CONTRIBUTED,
        object_type="agenda_item",
        object_ids=[item.id for item in added],
        details={"meeting_id": meeting.id, "child_ids": new_ids, "source": "open_actions"},
    )
    return added
