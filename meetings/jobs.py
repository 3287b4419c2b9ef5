"""The meetings package's scheduled sweeps. ``coordination.scheduler`` registers and runs them.

Every job is ``(session, now) -> items``: an idempotent sweep over due rows, safe to run twice
and after a crash in the middle. The reminders find every planned meeting inside their window
and insert one notification per recipient under a fixed dedup key, so a second run, or a run
after a crash that committed half of the work (or none), inserts exactly what is missing. The
runner commits at the end (the outbox commits per message) and rolls back on error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask, current_app, has_app_context
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE, count_rows
from coordination.models import (
    Agency,
    AgencyKind,
    Child,
    ChildStatus,
    Council,
    CouncilMembership,
    User,
)
from coordination.ops.metrics import ScrapeGauge, register_gauge
from coordination.scheduler import (
    HOURLY_GRACE,
    MINUTE_GRACE,
    NIGHT_GRACE,
    JobSpec,
    nightly,
    register_jobs,
)
from meetings.agenda.deadline import DEFAULT_DEADLINE_WORKING_DAYS, agenda_deadline
from meetings.casesync.proposals import FORGOTTEN_INDEX, expire_unanswered_proposals
from meetings.models import (
    Attendance,
    AttendanceStatus,
    CaseSyncEntry,
    EmailStatus,
    Meeting,
    MeetingStatus,
    Notification,
)
from meetings.notifications.lapse_warnings import disclosure_lapse_warnings
from meetings.notifications.mail import deliver_outbox
from meetings.notifications.services import (
    Message,
    NotificationKind,
    agenda_preparation_message,
    existing_dedup_keys,
    meeting_reminder_message,
    notify,
)

AGENDA_PREPARATION_LEAD = dt.timedelta(days=7)
MEETING_REMINDER_LEAD = dt.timedelta(days=1)
REMINDED_ATTENDANCE = (AttendanceStatus.INVITED, AttendanceStatus.PRESENT)
# The outbox alone records a run a minute; a month of history is plenty for a status page.

MessageBuilder = Callable[[User, str, dt.datetime, int], Message]


def _due_meetings(now: dt.datetime, lead: dt.timedelta) -> Select[int, dt.datetime, str, User]:
    """Planned meetings of active councils starting within ``lead`` from now (not yet begun)."""
    return (
        select(Meeting.id, Meeting.starts_at, Council.name, User)
        .join(Council, Meeting.council_id == Council.id)
        .where(
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.starts_at > now,
            Meeting.starts_at <= now + lead,
            Council.active.is_(True),
            User.active.is_(True),
        )
        .order_by(Meeting.id, User.id)
    )


def _notify_all(
    session: Session,
    rows: Sequence[Any],
    kind: NotificationKind,
    key_prefix: str,
    build: MessageBuilder,
) -> int:
    """One notification per (meeting, user) row; the existing ones are skipped in one query."""
    keyed = [
        (f"{key_prefix}:{meeting_id}:{user.id}", meeting_id, starts_at, council_name, user)
        for meeting_id, starts_at, council_name, user in rows
    ]
    done = existing_dedup_keys(session, [key for key, *_ in keyed])
    created = 0
    for key, meeting_id, starts_at, council_name, user in keyed:
        if key in done or not user.is_active:
            continue
        message = build(user, council_name, starts_at, meeting_id)
        notification = notify(
            session,
            user,
            kind=kind,
            subject=message.subject,
            body=message.body,
            link=message.link,
            dedup_key=key,
        )
        created += notification is not None
    return created


def _preparation_still_open(starts_at: dt.datetime, today: dt.date) -> bool:
    """Members may still add children to the agenda today: the agenda deadline (in working
    days before the meeting, as on the meeting page) has not passed."""
    config = current_app.config if has_app_context() else {}
    days = int(config.get("AGENDA_DEADLINE_WORKING_DAYS", DEFAULT_DEADLINE_WORKING_DAYS))
    return today <= agenda_deadline(Meeting(starts_at=starts_at), days)


def agenda_preparation_reminders(session: Session, now: dt.datetime) -> int:
    """A week before each planned meeting: the council's social services members prepare the
    agenda; never after the meeting's preparation deadline, when they can no longer add
    children. Returns the number of notifications created."""
    today = now.astimezone(LOCAL_ZONE).date()
    rows = [
        row
        for row in session.execute(
            _due_meetings(now, AGENDA_PREPARATION_LEAD)
            .join(CouncilMembership, CouncilMembership.council_id == Council.id)
            .join(User, User.id == CouncilMembership.user_id)
            .join(Agency, Agency.id == User.agency_id)
            .where(Agency.kind == AgencyKind.SOCIAL_SERVICES, Agency.active.is_(True))
        ).all()
        if _preparation_still_open(row.starts_at, today)
    ]
    return _notify_all(
        session,
        rows,
        NotificationKind.AGENDA_PREPARATION,
        "agenda-prep",
        agenda_preparation_message,
    )


def meeting_reminders(session: Session, now: dt.datetime) -> int:
    """A day before each planned meeting: everyone invited (or already marked present)."""
    rows = session.execute(
        _due_meetings(now, MEETING_REMINDER_LEAD)
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .join(User, User.id == Attendance.user_id)
        .where(Attendance.status.in_(REMINDED_ATTENDANCE))
    ).all()
    return _notify_all(
        session,
        rows,
        NotificationKind.MEETING_REMINDER,
        "meeting-reminder",
        meeting_reminder_message,
    )


def deliver_outbox_job(session: Session, now: dt.datetime) -> int:
    """E-mail the due notifications (commits after each message)."""
    return deliver_outbox(session, current_app.config, now).handled


def materialise_job(session: Session, now: dt.datetime) -> int:
    """Nightly: create the coming meetings of every active schedule (``meetings.schedules``)."""
    # Imported here: the schedules module is its own piece of work, and the scheduler must
    # import (and run its other jobs) whatever state that module is in.
    from meetings.schedules.materialise import materialise_meetings

    report = materialise_meetings(session, today=now.astimezone(LOCAL_ZONE).date())
    return report.created + report.updated + report.deleted


def forget_shredded_sync_indexes(session: Session, now: dt.datetime) -> int:
    """After gallring has shredded a child, its case-sync entries still hold the blind index of
    the personnummer; replace it so the number no longer links to the meeting or the child.
    Idempotent: forgotten entries no longer match."""
    rows = session.scalars(
        select(CaseSyncEntry)
        .join(Child, CaseSyncEntry.child_id == Child.id)
        .where(
            Child.status == ChildStatus.SHREDDED,
            CaseSyncEntry.identity_index.not_like(f"{FORGOTTEN_INDEX}%"),
        )
    ).all()
    for entry in rows:
        entry.identity_index = f"{FORGOTTEN_INDEX}{entry.id}"
    session.flush()
    return len(rows)


def expire_sync_proposals(session: Session, now: dt.datetime) -> int:
    """Nightly: decline and crypto-shred enrolment proposals social services left unanswered
    for ``CASE_SYNC_PROPOSAL_DAYS`` after their meeting (``meetings.casesync``)."""
    days = int(current_app.config["CASE_SYNC_PROPOSAL_DAYS"])
    today = now.astimezone(LOCAL_ZONE).date()
    return expire_unanswered_proposals(session, before=today - dt.timedelta(days=days))


def outbox_count(status: EmailStatus) -> Callable[[Session], float]:
    def read(session: Session) -> float:
        return float(count_rows(session, Notification, Notification.email_status == status))

    return read


def init_app(app: Flask) -> None:
    """Register this package's sweeps with the one scheduler process, and the outbox's
    depth with /metrics."""
    register_gauge(
        app,
        ScrapeGauge(
            "samverkan_outbox_pending",
            "Notifications waiting to be e-mailed (due now or retried later).",
            outbox_count(EmailStatus.PENDING),
        ),
    )
    register_gauge(
        app,
        ScrapeGauge(
            "samverkan_outbox_failed",
            "Notifications whose e-mail was given up (kept in the app).",
            outbox_count(EmailStatus.FAILED),
        ),
    )
    outbox_seconds = int(app.config.get("SCHEDULER_OUTBOX_SECONDS") or 60)
    register_jobs(
        app,
        JobSpec(
            "meetings.materialise", materialise_job, nightly(1, 30), NIGHT_GRACE, catch_up=True
        ),
        JobSpec(
            "meetings.forget_shredded_sync_indexes",
            forget_shredded_sync_indexes,
            nightly(2, 45),
            NIGHT_GRACE,
            catch_up=True,
        ),
        JobSpec(
            "meetings.expire_sync_proposals",
            expire_sync_proposals,
            nightly(2, 40),
            NIGHT_GRACE,
            catch_up=True,
        ),
        JobSpec(
            "meetings.disclosure_lapse_warnings",
            disclosure_lapse_warnings,
            nightly(4, 5),
            NIGHT_GRACE,
            catch_up=True,
        ),
        JobSpec(
            "meetings.agenda_preparation_reminders",
            agenda_preparation_reminders,
            CronTrigger(minute=5, timezone=LOCAL_ZONE),
            HOURLY_GRACE,
        ),
        JobSpec(
            "meetings.meeting_reminders",
            meeting_reminders,
            CronTrigger(minute=10, timezone=LOCAL_ZONE),
            HOURLY_GRACE,
        ),
        JobSpec(
            "meetings.deliver_outbox",
            deliver_outbox_job,
            IntervalTrigger(seconds=outbox_seconds, timezone=LOCAL_ZONE),
            MINUTE_GRACE,
            catch_up=True,
        ),
    )
