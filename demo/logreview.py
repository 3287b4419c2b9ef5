"""The demo's past log reviews: months that were read, reviewed and signed.

Each past meeting was prepared: the day before it, the social secretary, the coordinator and the
police officer read the records of the children on its agenda (through ``reveal_records``, the
one door, which logs each reading). One evening the secretary read a case at home: the flag the
log reviewer looks into. The social services' log reviewer then signed the review of the two
months before last early in the month after each (the last finished month is left for the
reviewer to do), the one with the evening reading as "deviations investigated".

The readings, the disclosure decisions of the meetings (dated by ``demo.history``) and the
sign-offs are logged at the times they happened. They are appended to the audit chain in the
order the loader records them, like every other event; only their time is given before they
are chained (``coordination.audit.log.pending_events``): the time is part of an event's hash
from then on, so ``flask audit verify`` holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent, AuditTag, pending_events
from coordination.db import LOCAL_ZONE, today_local
from coordination.logreview.models import LogReview, ReviewOutcome
from coordination.logreview.monthly import DISCLOSURE_TAG, VIEW_TAG, add_months, sign_off_month
from coordination.models import Council, User
from coordination.policy import can_view_council
from demo.coordination import AUDITOR, COORDINATOR, POLICE, SECRETARY, demo_users
from demo.history import local_time
from demo.meetings import past_meetings
from meetings.agenda.items import agenda_items
from meetings.models import Meeting
from secrecy.models import Disclosure
from secrecy.records.reveal import reveal_records
from secrecy.records.services import child_records


class DemoLogReviewError(RuntimeError):
    """An event the loader means to date was chained already: its time can no longer change."""


# Who prepares a meeting by reading its children's records, and when (the day before).
READERS = ((SECRETARY, 9), (COORDINATOR, 13), (POLICE, 15))
# The evening reading that the reviewer looks into.
EVENING = dt.time(21, 40)


def load_log_review_demo(session: Session) -> None:
    """Date the meetings' disclosure decisions, read the past three months' meetings'
    records the day before each, and sign the two months before last. Nothing when the social
    services' reviews are signed already."""
    users = demo_users(session)
    auditor = users[AUDITOR]
    if session.scalar(select(LogReview.id).where(LogReview.agency_id == auditor.agency_id)):
        return
    today = today_local()
    current = today.replace(day=1)
    months = [add_months(current, -n) for n in (3, 2, 1)]
    date_disclosure_events(session)
    meetings = sorted(
        (
            m
            for council in session.scalars(select(Council).order_by(Council.id))
            for m in past_meetings(session, council, today)
        ),
        key=lambda m: m.starts_at,
    )
    evening_done = False
    for meeting in meetings:
        month = meeting.starts_at.astimezone(LOCAL_ZONE).date().replace(day=1)
        if month not in months:
            continue
        readings = prepare(session, meeting, [users[email] for email, _ in READERS])
        if not evening_done and month == months[1] and readings:
            read_in_the_evening(session, meeting, users[SECRETARY])
            evening_done = True
    for month, outcome in (
        (months[0], ReviewOutcome.NO_DEVIATIONS),
        (months[1], ReviewOutcome.DEVIATIONS_INVESTIGATED),
    ):
        review = sign_off_month(session, auditor, month, outcome, today)
        # Signed on the third working morning of the next month.
        signed = local_time(third_working_day(add_months(month, 1)), 10, 20)
        review.signed_at = signed
        date_last_event(session, AuditTag.AUDIT_REVIEW_SIGN, signed)
    session.flush()


def prepare(session: Session, meeting: Meeting, readers: Sequence[User]) -> int:
    """The day before the meeting, each reader who is a member of the council reads the
    records of the children on its agenda. Returns the number of readings."""
    children = [item.child for item in agenda_items(session, meeting)]
    records = [r for child in children for r in child_records(session, child)]
    if not records:
        return 0
    day = meeting.starts_at.astimezone(LOCAL_ZONE).date() - dt.timedelta(days=1)
    readings = 0
    for (_, hour), reader in zip(READERS, readers, strict=True):
        if not can_view_council(reader, meeting.council):
            continue
        reveal_records(session, reader, records, purpose="meeting_preparation")
        date_last_event(
            session, "secrecy:record:reveal", local_time(day, hour, 5 * meeting.id % 50)
        )
        readings += 1
    return readings


def read_in_the_evening(session: Session, meeting: Meeting, reader: User) -> None:
    """A case read late on the evening after the meeting (outside office hours: a flag)."""
    item = next(iter(agenda_items(session, meeting)))
    records = list(child_records(session, item.child))
    reveal_records(session, reader, records, purpose="view")
    day = meeting.starts_at.astimezone(LOCAL_ZONE).date()
    when = dt.datetime.combine(day, EVENING, tzinfo=LOCAL_ZONE).astimezone(dt.UTC)
    date_last_event(session, VIEW_TAG, when)


def date_disclosure_events(session: Session) -> int:
    """The disclosure decisions not yet chained, at the time their decision is dated
    (``demo.history`` dates a meeting's decisions during that meeting)."""
    pending = [e for e in pending_events(session) if e.tag == DISCLOSURE_TAG]
    ids = {e.details.get("disclosure_id") for e in pending}
    rows = session.execute(
        select(Disclosure.id, Disclosure.decided_at).where(
            Disclosure.id.in_([i for i in ids if isinstance(i, int)])
        )
    )
    decided = {disclosure_id: when for disclosure_id, when in rows}
    for event in pending:
        disclosure_id = event.details.get("disclosure_id")
        when = decided.get(disclosure_id) if isinstance(disclosure_id, int) else None
        if when is not None and when < event.occurred_at:
            event.occurred_at = when
    return len(pending)


def date_last_event(session: Session, tag: str, when: dt.datetime) -> AuditEvent:
    """Give the last recorded event, which must carry ``tag`` and not be chained yet, its
    time."""
    pending = pending_events(session)
    if not pending or pending[-1].tag != str(tag):
        raise DemoLogReviewError(f"the {tag} event to date is not pending")
    event = pending[-1]
    event.occurred_at = when
    return event


def third_working_day(month: dt.date) -> dt.date:
    day, working = month, 0
    while True:
        if day.weekday() < 5:
            working += 1
            if working == 3:
                return day
        day += dt.timedelta(days=1)
