"""What the workspace shows of one meeting, shared by the page and the API: the children on the
agenda, the minutes' entries, the actions agreed at the meeting and the open ones agreed earlier
about the same children, with every record opened through one ``reveal_records`` call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, lazyload

from coordination.models import Agency, User
from meetings.agenda.items import agenda_items
from meetings.models import AgendaItem, Meeting
from minutes.models import OPEN_STATUSES, AgreedAction, Minutes, MinutesEntry
from minutes.plans.models import IndividualPlan, PlanVersion
from minutes.workspace.services import minutes_of
from secrecy.models import Disclosure, Record
from secrecy.records.reveal import RevealResult, reveal_records


@dataclass(frozen=True)
class MinutesContents:
    minutes: Minutes | None  # None until the first change creates them
    items: list[AgendaItem]
    entries: list[MinutesEntry]  # amendments and conflicting versions included, oldest first
    earlier: list[AgreedAction]  # still open, agreed at earlier meetings
    current: list[AgreedAction]  # agreed at this meeting
    records: dict[int, Record]
    revealed: dict[int, RevealResult]  # by record id
    authors: dict[int, User]  # of the entries, by user id
    # The agencies each entry the viewer can read is disclosed to now (names, by record id);
    # nothing for an entry withheld from the viewer.
    shared_with: dict[int, list[str]] = field(default_factory=dict)
    # The individual plan versions agreed at this meeting, by child: (plan id, version number).
    plans: dict[int, list[tuple[int, int]]] = field(default_factory=dict)


def minutes_contents(
    session: Session,
    viewer: User,
    meeting: Meeting,
    *,
    child_id: int | None = None,
    record_authors: bool = True,
) -> MinutesContents:
    """Everything the viewer may see of the meeting's minutes; one reveal (one audit event).
    With ``child_id``, only what concerns that child on the agenda (the writing page). Without
    ``record_authors`` the records' authors are not loaded (the pages name an entry's author
    from ``authors``; the API names every record's)."""
    minutes = minutes_of(session, meeting)
    items = agenda_items(session, meeting, child_id=child_id)
    child_ids = [i.child_id for i in items]
    entries: list[MinutesEntry] = []
    if minutes is not None:
        query = select(MinutesEntry).where(MinutesEntry.minutes_id == minutes.id)
        if child_id is not None:
            query = query.where(MinutesEntry.child_id == child_id)
        entries = list(session.scalars(query.order_by(MinutesEntry.id)))
    # Open actions of earlier meetings (not of later ones) and every action of this meeting;
    # the meeting's time is compared in SQL, so no meeting rows are loaded.
    actions = list(
        session.scalars(
            select(AgreedAction)
            .join(Meeting, Meeting.id == AgreedAction.meeting_id)
            .where(
                AgreedAction.child_id.in_(child_ids),
                (AgreedAction.meeting_id == meeting.id)
                | (
                    AgreedAction.status.in_(list(OPEN_STATUSES))
                    & (Meeting.starts_at <= meeting.starts_at)
                ),
            )
            .options(
                joinedload(AgreedAction.responsible_agency, innerjoin=True),
                joinedload(AgreedAction.responsible_user).lazyload(User.role_rows),
            )
            .order_by(AgreedAction.due_on, AgreedAction.id)
        )
    )
    earlier = [a for a in actions if a.meeting_id != meeting.id]
    current = [a for a in actions if a.meeting_id == meeting.id]
    record_ids = (
        [i.brief_record_id for i in items if i.brief_record_id]
        + [e.record_id for e in entries]
        + [a.description_record_id for a in earlier + current]
    )
    # Every record is about a child on the agenda, loaded above with the items: the reveal
    # finds each record's child in the session (no query per record, none for the children).
    record_query = select(Record).where(Record.id.in_(record_ids))
    if not record_authors:
        record_query = record_query.options(lazyload(Record.author))
    records = session.scalars(record_query).all() if record_ids else []
    by_id = {r.id: r for r in records}
    revealed = {
        r.record.id: r
        for r in reveal_records(
            session, viewer, [by_id[i] for i in record_ids if i in by_id], purpose="minutes"
        )
    }
    authors = {
        u.id: u
        for u in session.scalars(
            select(User)
            .where(User.id.in_({e.author_id for e in entries}))
            .options(lazyload(User.role_rows))  # named on the page, their roles not needed
        )
    }
    readable = [e.record_id for e in entries if not revealed[e.record_id].withheld]
    plans: dict[int, list[tuple[int, int]]] = {}
    for plan_child_id, plan_id, number in session.execute(
        select(IndividualPlan.child_id, IndividualPlan.id, PlanVersion.number)
        .join(PlanVersion, PlanVersion.plan_id == IndividualPlan.id)
        .where(PlanVersion.agreed_meeting_id == meeting.id, IndividualPlan.child_id.in_(child_ids))
        .order_by(PlanVersion.number)
    ):
        plans.setdefault(plan_child_id, []).append((plan_id, number))
    return MinutesContents(
        minutes,
        items,
        entries,
        earlier,
        current,
        by_id,
        revealed,
        authors,
        shared_with=shared_with(session, readable),
        plans=plans,
    )


def shared_with(session: Session, record_ids: list[int]) -> dict[int, list[str]]:
    """The recipient agencies of the records' disclosures in force, in one query."""
    if not record_ids:
        return {}
    rows = session.execute(
        select(Disclosure.record_id, Agency.name)
        .join(Agency, Agency.id == Disclosure.recipient_agency_id)
        .where(
            Disclosure.record_id.in_(record_ids),
            Disclosure.revoked_at.is_(None),
            Disclosure.lapsed_at.is_(None),
        )
        .order_by(Agency.name)
    )
    found: dict[int, list[str]] = {}
    for record_id, name in rows:
        found.setdefault(record_id, []).append(name)
    return found
