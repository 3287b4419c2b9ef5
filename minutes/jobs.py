"""The minutes package's scheduled sweeps: reminders about agreed actions and about minutes
waiting for approval. ``app.py`` registers them with ``coordination.scheduler.register_jobs``.

Every job is ``(session, now) -> items``: an idempotent sweep over due rows. Each notification
has a dedup key that fixes how often it may be sent (per action and due date, per action and ISO
week, per minutes and day), so a second run, or a run after a crash, inserts only what is
missing. Texts name the council and dates only; links are paths of ids (DESIGN rule 7): an
action's description, the child and the pseudonym never reach a notification.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from babel.dates import format_date
from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, selectinload

from coordination.db import LOCAL_ZONE
from coordination.models import Council, CouncilMembership, User
from coordination.scheduler import HOURLY_GRACE, JobSpec, register_jobs
from meetings.models import Meeting
from meetings.notifications.services import (
    Message,
    PlannedNotification,
    Texts,
    existing_dedup_keys,
    localised_message,
    notify,
    notify_many,
)
from meetings.notifications.settings import register_notification_kinds
from minutes.models import (
    OPEN_STATUSES,
    AgreedAction,
    ApprovalRole,
    Minutes,
    MinutesApproval,
    MinutesStatus,
)

DUE_SOON = dt.timedelta(days=3)
APPROVAL_WAIT = dt.timedelta(days=5)


class MinutesNotificationKind(enum.StrEnum):
    ACTION_DUE = "action_due"
    ACTION_OVERDUE = "action_overdue"
    MINUTES_APPROVAL = "minutes_approval"
    # Sent by the services when they happen (``minutes.notices``), not by a sweep.
    MINUTES_SUBMITTED = "minutes_submitted"
    MINUTES_APPROVED = "minutes_approved"
    MINUTES_SENT_BACK = "minutes_sent_back"
    ACTION_ASSIGNED = "action_assigned"


KIND_LABELS: dict[str, Any] = {
    MinutesNotificationKind.MINUTES_SUBMITTED: _l("Protokoll skickat till dig för justering"),
    MinutesNotificationKind.MINUTES_APPROVAL: _l("Påminnelse om protokoll som väntar på justering"),
    MinutesNotificationKind.MINUTES_APPROVED: _l("Protokoll justerat"),
    MinutesNotificationKind.MINUTES_SENT_BACK: _l("Protokoll skickat tillbaka för ändring"),
    MinutesNotificationKind.ACTION_ASSIGNED: _l("Åtgärd som du är ansvarig för"),
    MinutesNotificationKind.ACTION_DUE: _l("Åtgärd som snart ska vara klar"),
    MinutesNotificationKind.ACTION_OVERDUE: _l("Försenad åtgärd"),
}


def action_path(action: AgreedAction) -> str:
    """The action's follow-up page, by id only."""
    return f"/actions/{int(action.id)}"


def minutes_path(meeting_id: int) -> str:
    return f"/meetings/{int(meeting_id)}/minutes"


@functools.lru_cache(maxsize=4096)
def _day(date: dt.date, locale: str) -> str:
    # A reminder sweep formats the same few due dates thousands of times.
    return format_date(date, "d MMMM yyyy", locale=locale)


REMINDER_TEXTS: dict[MinutesNotificationKind, Texts] = {
    MinutesNotificationKind.ACTION_DUE: (
        _l("En åtgärd från %(council)s ska vara klar %(day)s"),
        _l(
            "En överenskommen åtgärd från ett möte i %(council)s ska vara klar %(day)s. "
            "Se åtgärden och uppdatera dess status i Samverkan."
        ),
    ),
    MinutesNotificationKind.ACTION_OVERDUE: (
        _l("En åtgärd från %(council)s är försenad (skulle vara klar %(day)s)"),
        _l(
            "En överenskommen åtgärd från ett möte i %(council)s skulle ha varit klar "
            "%(day)s. Uppdatera dess status i Samverkan."
        ),
    ),
    MinutesNotificationKind.MINUTES_APPROVAL: (
        _l("Protokollet från %(council)s %(day)s väntar på justering"),
        _l(
            "Protokollet från mötet i %(council)s %(day)s lämnades för justering "
            "%(submitted)s och väntar fortfarande på ditt godkännande."
        ),
    ),
}


def _reminder(
    kind: MinutesNotificationKind,
    recipient: User,
    council_name: str,
    link: str,
    days: Mapping[str, dt.date],
) -> Message:
    """A reminder naming the council and ``days`` (formatted in the recipient's language)."""

    def values(locale: str) -> dict[str, str]:
        return {"council": council_name} | {k: _day(d, locale) for k, d in days.items()}

    return localised_message(recipient, REMINDER_TEXTS[kind], link, values)


def action_due_message(recipient: User, council_name: str, due_on: dt.date, link: str) -> Message:
    kind = MinutesNotificationKind.ACTION_DUE
    return _reminder(kind, recipient, council_name, link, {"day": due_on})


def action_overdue_message(
    recipient: User, council_name: str, due_on: dt.date, link: str
) -> Message:
    kind = MinutesNotificationKind.ACTION_OVERDUE
    return _reminder(kind, recipient, council_name, link, {"day": due_on})


def approval_message(
    recipient: User, council_name: str, meeting_day: dt.date, submitted_on: dt.date, link: str
) -> Message:
    days = {"day": meeting_day, "submitted": submitted_on}
    return _reminder(MinutesNotificationKind.MINUTES_APPROVAL, recipient, council_name, link, days)


def _agency_members(
    session: Session, pairs: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], list[User]]:
    """Active council members per (council, agency), in one query."""
    wanted = set(pairs)
    if not wanted:
        return {}
    council_ids = {council_id for council_id, _agency in wanted}
    rows = session.execute(
        select(CouncilMembership.council_id, User)
        .join(User, User.id == CouncilMembership.user_id)
        .where(CouncilMembership.council_id.in_(council_ids), User.active.is_(True))
        .order_by(User.id)
    ).all()
    found: dict[tuple[int, int], list[User]] = {}
    for council_id, user in rows:
        if (council_id, user.agency_id) in wanted:
            found.setdefault((council_id, user.agency_id), []).append(user)
    return found


def _open_actions(
    session: Session, *conditions: ColumnElement[bool]
) -> list[tuple[AgreedAction, Council]]:
    rows = session.execute(
        select(AgreedAction, Council)
        .join(Meeting, Meeting.id == AgreedAction.meeting_id)
        .join(Council, Council.id == Meeting.council_id)
        .where(AgreedAction.status.in_(OPEN_STATUSES), Council.active.is_(True), *conditions)
        .options(selectinload(AgreedAction.responsible_user))
        .order_by(AgreedAction.id)
    ).all()
    return [(action, council) for action, council in rows]


def _remind_actions(
    session: Session,
    rows: list[tuple[AgreedAction, Council]],
    kind: MinutesNotificationKind,
    key_of: Callable[[AgreedAction], str],
) -> int:
    members = _agency_members(
        session,
        [
            (council.id, action.responsible_agency_id)
            for action, council in rows
            if action.responsible_user is None or not action.responsible_user.is_active
        ],
    )
    planned: list[tuple[str, User, AgreedAction, Council]] = []
    for action, council in rows:
        user = action.responsible_user
        recipients = (
            [user]
            if user is not None and user.is_active
            else members.get((council.id, action.responsible_agency_id), [])
        )
        for recipient in recipients:
            key = f"{key_of(action)}:{recipient.id}"
            planned.append((key, recipient, action, council))
    done = existing_dedup_keys(session, [key for key, *_rest in planned])
    build = (
        action_due_message if kind is MinutesNotificationKind.ACTION_DUE else action_overdue_message
    )
    notifications = []
    for key, recipient, action, council in planned:
        if key in done:
            continue
        message = build(recipient, council.name, action.due_on, action_path(action))
        notifications.append(PlannedNotification.of(recipient, kind, message, key))
    return notify_many(session, notifications)


def action_due_reminders(session: Session, now: dt.datetime) -> int:
    """Open actions due within three days (today included): the responsible user, or when
    there is none, the council's members from the responsible agency. Once per action and due
    date: moving the due date reminds again."""
    today = now.astimezone(LOCAL_ZONE).date()
    rows = _open_actions(
        session, AgreedAction.due_on >= today, AgreedAction.due_on <= today + DUE_SOON
    )
    return _remind_actions(
        session,
        rows,
        MinutesNotificationKind.ACTION_DUE,
        lambda action: f"action-due:{action.id}:{action.due_on.isoformat()}",
    )


def action_overdue_reminders(session: Session, now: dt.datetime) -> int:
    """Open actions past their due date: at most once per action per ISO week."""
    today = now.astimezone(LOCAL_ZONE).date()
    iso_year, iso_week, _weekday = today.isocalendar()
    rows = _open_actions(session, AgreedAction.due_on < today)
    return _remind_actions(
        session,
        rows,
        MinutesNotificationKind.ACTION_OVERDUE,
        lambda action: f"action-overdue:{action.id}:{iso_year}-{iso_week:02d}",
    )


def approval_reminders(session: Session, now: dt.datetime) -> int:
    """Minutes submitted for approval more than five days ago: the chair and the adjuster who
    have not approved yet, once per day per minutes."""
    today = now.astimezone(LOCAL_ZONE).date()
    rows = session.execute(
        select(Minutes, Meeting, Council)
        .join(Meeting, Meeting.id == Minutes.meeting_id)
        .join(Council, Council.id == Meeting.council_id)
        .where(
            Minutes.status == MinutesStatus.SUBMITTED,
            Minutes.submitted_at.is_not(None),
            Minutes.submitted_at < now - APPROVAL_WAIT,
            Council.active.is_(True),
        )
        .options(
            selectinload(Minutes.adjuster),
            selectinload(Minutes.meeting).selectinload(Meeting.chair),
        )
        .order_by(Minutes.id)
    ).all()
    # Read from the table, not a collection the session may hold from before an approval.
    approved_roles: dict[int, set[ApprovalRole]] = {}
    for minutes_id, role in session.execute(
        select(MinutesApproval.minutes_id, MinutesApproval.role).where(
            MinutesApproval.minutes_id.in_([minutes.id for minutes, *_rest in rows])
        )
    ):
        approved_roles.setdefault(minutes_id, set()).add(role)
    planned: list[tuple[str, User, Minutes, Meeting, Council]] = []
    for minutes, meeting, council in rows:
        approved = approved_roles.get(minutes.id, set())
        waiting = [
            (ApprovalRole.CHAIR, meeting.chair),
            (ApprovalRole.ADJUSTER, minutes.adjuster),
        ]
        seen: set[int] = set()
        for role, user in waiting:
            if user is None or not user.is_active or role in approved or user.id in seen:
                continue
            seen.add(user.id)
            key = f"minutes-approval:{minutes.id}:{today.isoformat()}:{user.id}"
            planned.append((key, user, minutes, meeting, council))
    done = existing_dedup_keys(session, [key for key, *_rest in planned])
    created = 0
    for key, user, minutes, meeting, council in planned:
        if key in done:
            continue
        submitted_at = minutes.submitted_at or now  # never None: filtered above
        message = approval_message(
            user,
            council.name,
            meeting.starts_at.astimezone(LOCAL_ZONE).date(),
            submitted_at.astimezone(LOCAL_ZONE).date(),
            minutes_path(meeting.id),
        )
        notification = notify(
            session,
            user,
            kind=MinutesNotificationKind.MINUTES_APPROVAL,
            subject=message.subject,
            body=message.body,
            link=message.link,
            dedup_key=key,
        )
        created += notification is not None
    return created


def init_app(app: Flask) -> None:
    """Register this package's hourly reminders with the one scheduler process."""
    hourly = CronTrigger(minute=20, timezone=LOCAL_ZONE)
    register_notification_kinds(app, KIND_LABELS)
    register_jobs(
        app,
        JobSpec("minutes.action_due_reminders", action_due_reminders, hourly, HOURLY_GRACE),
        JobSpec("minutes.action_overdue_reminders", action_overdue_reminders, hourly, HOURLY_GRACE),
        JobSpec("minutes.approval_reminders", approval_reminders, hourly, HOURLY_GRACE),
    )
