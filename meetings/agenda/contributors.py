"""The seam for the minutes package: children that must be on an agenda by themselves.

Children with open agreed actions must appear on the agenda without anyone adding them. Minutes
sit above meetings, so meetings cannot ask for them; instead an upper layer registers a
contributor with ``register_agenda_contributor(app, contributor)``. A contributor is
``(session, meeting) -> child ids``.

The children are written onto agendas where they arise, never on a GET: when meetings are
materialised or added by hand (``add_contributed_items``), and when minutes are approved (the
minutes package calls ``add_contributed_items_after`` for the council's later meetings). Pages
and API show what is still to come without writing (``pending_contributed_items``). Only
children of the meeting's council with an active case are added, never twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask import Flask, current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.models import Child, ChildStatus
from coordination.registry import AGENDA_CONTRIBUTORS, AgendaContributor
from meetings.agenda.access import find_meeting, is_network_meeting
from meetings.agenda.items import lock_meeting, next_position
from meetings.models import AgendaItem, AgendaSource, Meeting, MeetingStatus
from meetings.tags import MeetingTag

OPEN_ACTIONS_CATEGORY = "agreed_action"


def register_agenda_contributor(app: Flask, contributor: AgendaContributor) -> None:
    """An upper layer adds children to agendas: ``contributor(session, meeting)`` returns the
    ids of children that must be on this meeting's agenda (e.g. open agreed actions)."""
    AGENDA_CONTRIBUTORS.add(app, contributor)


def agenda_contributors(app: Flask) -> list[AgendaContributor]:
    return AGENDA_CONTRIBUTORS.of(app)


def registered_contributors() -> list[AgendaContributor]:
    """The contributors of the running app (none outside an app context: a script)."""
    return agenda_contributors(current_app) if has_app_context() else []


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
    if (
        meeting.status is not MeetingStatus.PLANNED
        or not contributors
        or is_network_meeting(session, meeting)
    ):
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


def pending_contributed_items(
    session: Session,
    meeting: Meeting,
    *,
    on_agenda: Sequence[AgendaItem],
) -> list[AgendaItem]:
    """The items ``add_contributed_items`` would add now, as unsaved rows after the agenda's
    ``on_agenda`` items (read only: the pages and the API show them without writing; they have
    no id, and nothing is added to the session)."""
    new_ids = contributed_child_ids(
        session, meeting, registered_contributors(), on_agenda=[i.child_id for i in on_agenda]
    )
    if not new_ids:
        return []
    children = {c.id: c for c in session.scalars(select(Child).where(Child.id.in_(new_ids)))}
    after = max((i.position for i in on_agenda), default=0)
    return [
        AgendaItem(
            meeting_id=meeting.id,
            child_id=child_id,
            child=children[child_id],
            position=after + offset,
            reason_category=OPEN_ACTIONS_CATEGORY,
            source=AgendaSource.OPEN_ACTIONS,
        )
        for offset, child_id in enumerate(new_ids, start=1)
    ]


def add_contributed_items_after(session: Session, meeting: Meeting) -> list[AgendaItem]:
    """After ``meeting`` (its minutes approved): the contributed children put on the agenda of
    every planned meeting of its council that starts later. Idempotent."""
    later = session.scalars(
        select(Meeting.id)
        .where(
            Meeting.council_id == meeting.council_id,
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.starts_at > meeting.starts_at,
        )
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    contributors = registered_contributors()
    added: list[AgendaItem] = []
    for meeting_id in later:
        found = find_meeting(session, meeting_id, members=False)
        if found is not None:
            added += add_contributed_items(session, found, contributors)
    return added


def add_contributed_items(
    session: Session,
    meeting: Meeting,
    contributors: Sequence[AgendaContributor] | None = None,
    *,
    on_agenda: Iterable[int] | None = None,
) -> list[AgendaItem]:
    """Put the children the contributors name on a planned meeting's agenda (source
    ``OPEN_ACTIONS``, reason "agreed action", no brief), after the items already there.
    Unknown ids, children of other councils and inactive cases are ignored. Idempotent.
    ``contributors``: the app's registered ones unless given; ``on_agenda`` as for
    ``contributed_child_ids``."""
    if contributors is None:
        contributors = registered_contributors()
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
