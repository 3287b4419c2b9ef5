"""Accounts nobody has used for a while: a list on the administration pages, and a nightly job
that records the report and tells the administrators that it is there.

The notice says how many accounts and links to the list, nothing more (DESIGN rule 7). The
outbox belongs to ``meetings.notifications``, which the ground floor may not import: it
registers a notifier here (``register_admin_notifier``) and the job calls whatever is
registered. Without one (a deployment without the meetings package) the report is still
recorded in the audit log and the list is on the page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditTag, record_event
from coordination.db import LOCAL_ZONE
from coordination.models import Agency, Role, User, UserRole
from coordination.registry import ADMIN_NOTIFIERS
from coordination.scheduler import NIGHT_GRACE, JobSpec, nightly, register_jobs

UNUSED_ACCOUNTS_PATH = "/admin/users/unused"


@dataclass(frozen=True)
class AdminNotice:
    """What the administrators are told: a kind, a count, a day, an internal link. No names."""

    kind: str
    count: int
    days: int
    day: dt.date
    link: str


AdminNotifier = Callable[[Session, Sequence[User], AdminNotice], int]


def register_admin_notifier(app: Flask, notifier: AdminNotifier) -> None:
    """An upper layer delivers notices to the administrators (the outbox, e-mail)."""
    ADMIN_NOTIFIERS.add(app, notifier)


def unused_since(now: dt.datetime, days: int) -> dt.datetime:
    return now - dt.timedelta(days=days)


def unused_accounts(
    session: Session, now: dt.datetime, days: int, *, limit: int | None = None
) -> Sequence[User]:
    """Active accounts of active agencies not logged in for ``days`` days (never logged in:
    counted from when the account was made), the longest unused first."""
    last_use = func.coalesce(User.last_login_at, User.created_at)
    query = (
        select(User)
        .join(Agency, User.agency_id == Agency.id)
        .where(User.active.is_(True), Agency.active.is_(True), last_use < unused_since(now, days))
        .order_by(last_use, User.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return session.scalars(query).all()


def administrators(session: Session) -> Sequence[User]:
    return session.scalars(
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .join(Agency, User.agency_id == Agency.id)
        .where(UserRole.role == Role.ADMIN, User.active.is_(True), Agency.active.is_(True))
        .order_by(User.id)
    ).all()


def report_unused_accounts(
    session: Session, now: dt.datetime, days: int, notifiers: Sequence[AdminNotifier]
) -> int:
    """Record tonight's report (an audit event with the count and the ids) and hand the
    notice to the registered notifiers. Returns the number of unused accounts. Idempotent
    per night for the notices (the notifiers de-duplicate per day); a second run records a
    second event, which is what happened."""
    accounts = unused_accounts(session, now, days)
    record_event(
        session,
        None,
        AuditTag.ADMIN_UNUSED_ACCOUNTS_REPORT,
        object_type="user",
        object_ids=[user.id for user in accounts],
        details={"days": days, "count": len(accounts)},
    )
    if accounts:
        notice = AdminNotice(
            kind="unused_accounts",
            count=len(accounts),
            days=days,
            day=now.astimezone(LOCAL_ZONE).date(),
            link=UNUSED_ACCOUNTS_PATH,
        )
        recipients = administrators(session)
        for notifier in notifiers:
            notifier(session, recipients, notice)
    session.flush()
    return len(accounts)


def unused_accounts_job(session: Session, now: dt.datetime) -> int:
    app = current_app
    notifiers = ADMIN_NOTIFIERS.of(app)
    return report_unused_accounts(session, now, app.config["UNUSED_ACCOUNT_DAYS"], notifiers)


def init_app(app: Flask) -> None:
    register_jobs(
        app,
        JobSpec(
            "coordination.unused_accounts",
            unused_accounts_job,
            nightly(4, 15),
            NIGHT_GRACE,
            # No catch-up at every scheduler start: a report a night is enough.
            catch_up=False,
        ),
    )
