"""Reassessment reminders: a daily sweep over children whose latest structured assessment is
older than their council's interval (``councils.assessment_interval_days``).

The assessor is reminded, or when they are no longer active members of the council, the
council's active members from the assessing agency. Once per latest assessment and recipient
(a new assessment starts a new interval). The notice names the council and the number of days,
never the child, the pseudonym or a score; the link is a path of ids (DESIGN rule 7).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE
from coordination.models import Child, ChildStatus, Council, CouncilMembership, User
from coordination.scheduler import NIGHT_GRACE, JobSpec, register_jobs
from meetings.notifications.services import PlannedNotification, existing_dedup_keys, notify_many
from meetings.notifications.settings import register_notification_kinds
from minutes.assessments.models import Assessment

LOCALES = ("sv", "en")


class AssessmentNotificationKind(enum.StrEnum):
    REASSESSMENT_DUE = "reassessment_due"


KIND_LABELS: dict[str, Any] = {
    AssessmentNotificationKind.REASSESSMENT_DUE: _l("Påminnelse om ny strukturerad bedömning"),
}


def assessments_path(child_id: int) -> str:
    return f"/children/{int(child_id)}/assessments"


def _due(session: Session, today: dt.date) -> list[tuple[Assessment, Council]]:
    """The latest assessment of each open case whose council's interval has passed."""
    latest = (
        select(Assessment.child_id, func.max(Assessment.id).label("assessment_id"))
        .group_by(Assessment.child_id)
        .subquery()
    )
    rows = session.execute(
        select(Assessment, Council)
        .join(latest, latest.c.assessment_id == Assessment.id)
        .join(Child, Child.id == Assessment.child_id)
        .join(Council, Council.id == Child.council_id)
        .where(
            Child.status == ChildStatus.ACTIVE,
            Council.active.is_(True),
            Council.assessment_interval_days.is_not(None),
        )
        .order_by(Assessment.id)
    ).all()
    return [
        (assessment, council)
        for assessment, council in rows
        if council.assessment_interval_days is not None
        and assessment.assessed_on + dt.timedelta(days=council.assessment_interval_days) <= today
    ]


def _members(session: Session, council_ids: set[int]) -> dict[int, list[User]]:
    if not council_ids:
        return {}
    found: dict[int, list[User]] = {}
    for council_id, user in session.execute(
        select(CouncilMembership.council_id, User)
        .join(User, User.id == CouncilMembership.user_id)
        .where(CouncilMembership.council_id.in_(council_ids), User.active.is_(True))
        .order_by(User.id)
    ):
        found.setdefault(council_id, []).append(user)
    return found


def reassessment_reminders(session: Session, now: dt.datetime) -> int:
    today = now.astimezone(LOCAL_ZONE).date()
    due = _due(session, today)
    members = _members(session, {council.id for _a, council in due})
    planned: list[PlannedNotification] = []
    keys: list[str] = []
    for assessment, council in due:
        in_council = members.get(council.id, [])
        assessor = next((u for u in in_council if u.id == assessment.assessor_id), None)
        recipients = (
            [assessor]
            if assessor is not None
            else [u for u in in_council if u.agency_id == assessment.agency_id]
        )
        for user in recipients:
            key = f"reassessment-due:{assessment.id}:{user.id}"
            keys.append(key)
            locale = user.locale if user.locale in LOCALES else "sv"
            with force_locale(locale):
                subject = _(
                    "En ny strukturerad bedömning i %(council)s är aktuell", council=council.name
                )
                body = _(
                    "Det har gått minst %(days)s dagar sedan en strukturerad bedömning av ett barn "
                    "i %(council)s. Se barnets bedömningar i Samverkan.",
                    days=council.assessment_interval_days,
                    council=council.name,
                )
            planned.append(
                PlannedNotification(
                    recipient=user,
                    kind=AssessmentNotificationKind.REASSESSMENT_DUE,
                    subject=subject,
                    body=body,
                    link=assessments_path(assessment.child_id),
                    dedup_key=key,
                )
            )
    done = existing_dedup_keys(session, keys)
    return notify_many(session, [p for p in planned if p.dedup_key not in done])


def init_app(app: Flask) -> None:
    register_notification_kinds(app, KIND_LABELS)
    register_jobs(
        app,
        JobSpec(
            "minutes.reassessment_reminders",
            reassessment_reminders,
            CronTrigger(hour=7, minute=40, timezone=LOCAL_ZONE),
            NIGHT_GRACE,
        ),
    )
