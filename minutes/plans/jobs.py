"""The plans' scheduled sweep: a reminder to the plan coordinator 14 days before the
evaluation date of the plan in force. Idempotent: once per version, evaluation date and
coordinator (a moved date reminds again). The text names the council and the date only; the
link is the plan's id (DESIGN rule 7): never the child, a pseudonym or a goal.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from babel.dates import format_date
from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE
from coordination.models import Council, User
from coordination.scheduler import HOURLY_GRACE, JobSpec, register_jobs
from meetings.notifications.services import (
    LOCALES,
    Message,
    PlannedNotification,
    existing_dedup_keys,
    notify_many,
)
from meetings.notifications.settings import register_notification_kinds
from minutes.plans.models import (
    GoalEvaluation,
    IndividualPlan,
    PlanGoal,
    PlanVersion,
    PlanVersionStatus,
)

REMIND_AHEAD = dt.timedelta(days=14)


class PlanNotificationKind(enum.StrEnum):
    PLAN_EVALUATION = "plan_evaluation"


KIND_LABELS: dict[str, Any] = {
    PlanNotificationKind.PLAN_EVALUATION: _l("Individuell plan som snart ska följas upp"),
}


def plan_path(plan_id: int) -> str:
    return f"/plans/{int(plan_id)}"


def evaluation_message(recipient: User, council_name: str, day: dt.date, link: str) -> Message:
    locale = recipient.locale if recipient.locale in LOCALES else "sv"
    when = format_date(day, "d MMMM yyyy", locale=locale)
    with force_locale(locale):
        return Message(
            subject=_(
                "En individuell plan i %(council)s ska följas upp %(day)s",
                council=council_name,
                day=when,
            ),
            body=_(
                "Du är samordnare för en individuell plan i %(council)s som ska följas upp "
                "%(day)s. Förbered uppföljningen av målen i Samverkan.",
                council=council_name,
                day=when,
            ),
            link=link,
        )


def evaluation_reminders(session: Session, now: dt.datetime) -> int:
    """Plans in force whose evaluation date is within 14 days (today included) and whose goals
    are not all assessed: their coordinator, once per version and date."""
    today = now.astimezone(LOCAL_ZONE).date()
    unassessed = exists().where(
        PlanGoal.version_id == PlanVersion.id,
        ~exists().where(GoalEvaluation.goal_id == PlanGoal.id),
    )
    rows = session.execute(
        select(PlanVersion.id, PlanVersion.evaluate_on, IndividualPlan.id, Council.name, User)
        .join(IndividualPlan, IndividualPlan.id == PlanVersion.plan_id)
        .join(Council, Council.id == IndividualPlan.council_id)
        .join(User, User.id == IndividualPlan.coordinator_id)
        .where(
            PlanVersion.status == PlanVersionStatus.AGREED,
            PlanVersion.evaluate_on >= today,
            PlanVersion.evaluate_on <= today + REMIND_AHEAD,
            Council.active.is_(True),
            User.active.is_(True),
            unassessed,
        )
        .order_by(PlanVersion.id)
    ).all()
    planned = [
        (f"plan-evaluation:{version_id}:{day.isoformat()}:{user.id}", user, day, plan_id, council)
        for version_id, day, plan_id, council, user in rows
        if day is not None
    ]
    done = existing_dedup_keys(session, [key for key, *_rest in planned])
    notifications = []
    for key, user, day, plan_id, council in planned:
        if key in done:
            continue
        message = evaluation_message(user, council, day, plan_path(plan_id))
        notifications.append(
            PlannedNotification.of(user, PlanNotificationKind.PLAN_EVALUATION, message, key)
        )
    return notify_many(session, notifications) if notifications else 0


def init_app(app: Flask) -> None:
    hourly = CronTrigger(minute=25, timezone=LOCAL_ZONE)
    register_notification_kinds(app, KIND_LABELS)
    register_jobs(
        app,
        JobSpec("minutes.plan_evaluation_reminders", evaluation_reminders, hourly, HOURLY_GRACE),
    )
