"""The demo's history at the dates it happened.

The services stamp every row with the time they run; a demo loaded today would show six months
of meetings written, approved and followed up this morning. After each step of the story the
loader moves the rows' own timestamps to when the step happened: enrolments months ago, a
meeting's entries and actions during that meeting, its approval the next day, a follow-up
before the meeting it is reported at, a brief on the day it was written. The audit log keeps
the loader's times for most events: it is a hash chain of what the loader did. What the past
months' log reviews read (the disclosure decisions, the readings before each meeting, the
sign-offs) is logged at the time it happened, before those events join the chain
(``demo.logreview``), so the chain verifies all the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE
from coordination.models import Child
from meetings.models import Meeting
from minutes.models import ActionUpdate, AgreedAction, ApprovalRole, Minutes, MinutesEntry
from secrecy.models import Disclosure, Record

# Enrolled this long before today: before the first of the six meetings of history.
ENROLLED_MONTHS_AGO = 7


def local_time(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A Swedish wall-clock time as aware UTC."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LOCAL_ZONE).astimezone(dt.UTC)


def date_records(session: Session, record_ids: Iterable[int], when: dt.datetime) -> None:
    """Records written at ``when``, and the disclosures decided with them."""
    ids = list(record_ids)
    if not ids:
        return
    for record in session.scalars(select(Record).where(Record.id.in_(ids))):
        record.created_at = when
    for disclosure in session.scalars(select(Disclosure).where(Disclosure.record_id.in_(ids))):
        disclosure.decided_at = when
    session.flush()


def date_enrolment(session: Session, child: Child, today: dt.date) -> None:
    """The child enrolled months ago, with the records written then."""
    enrolled = today - relativedelta(months=ENROLLED_MONTHS_AGO) + dt.timedelta(days=child.id % 9)
    child.enrolled_on = enrolled
    child.created_at = local_time(enrolled, 10)
    record_ids = session.scalars(select(Record.id).where(Record.child_id == child.id)).all()
    date_records(session, record_ids, local_time(enrolled, 10, 30))


def date_meeting(session: Session, meeting: Meeting, minutes: Minutes) -> None:
    """A held meeting: entries and actions written during it, submitted after it, approved by
    the chair and the adjuster the next working morning and afternoon."""
    start = meeting.starts_at
    entries = session.scalars(
        select(MinutesEntry).where(MinutesEntry.minutes_id == minutes.id).order_by(MinutesEntry.id)
    ).all()
    for n, entry in enumerate(entries, start=1):
        when = start + dt.timedelta(minutes=4 * n)
        entry.created_at = when
        date_records(session, [entry.record_id], when)
    actions = session.scalars(
        select(AgreedAction).where(AgreedAction.meeting_id == meeting.id).order_by(AgreedAction.id)
    ).all()
    for n, action in enumerate(actions, start=1):
        when = start + dt.timedelta(minutes=60 + 2 * n)
        action.created_at = when
        date_records(session, [action.description_record_id], when)
    day = meeting.ends_at.astimezone(LOCAL_ZONE).date()
    next_day = day + dt.timedelta(days=3 if day.weekday() == 4 else 1)
    minutes.created_at = start
    minutes.submitted_at = meeting.ends_at + dt.timedelta(hours=1)
    for approval in minutes.approvals:
        hour = 9 if approval.role is ApprovalRole.CHAIR else 14
        approval.approved_at = local_time(next_day, hour, 15)
    minutes.approved_at = local_time(next_day, 14, 15)
    session.flush()


def date_follow_up(session: Session, update: ActionUpdate, when: dt.datetime) -> None:
    """A status change reported at ``when`` (a closed action closed then)."""
    update.created_at = when
    if update.comment_record_id is not None:
        date_records(session, [update.comment_record_id], when)
    action = session.get_one(AgreedAction, update.action_id)
    if action.closed_at is not None:
        action.closed_at = when
    session.flush()


def follow_up_time(meeting: Meeting) -> dt.datetime:
    """Reported two days before the meeting at which it is discussed, in the morning."""
    day = meeting.starts_at.astimezone(LOCAL_ZONE).date() - dt.timedelta(days=2)
    return local_time(day, 9, 30)
