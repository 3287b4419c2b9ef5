"""Accounts nobody has used for a while: a list on the administration pages, and a nightly job
that records the report and tells the administrators that it is there.

The notice says how many accounts and links to the list, nothing more (DESIGN rule 7). It goes
through ``coordination.notices`` to the outbox that ``meetings.notifications`` registers, the
way every lower layer's notice does. Without one (a deployment without the meetings package)
the report is still recorded in the audit log and the list is on the page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditTag, record_event
from coordination.db import LOCAL_ZONE
from coordination.models import Agency, Role, User, UserRole
from coordination.notices import Notice, send_notice
from coordination.scheduler import NIGHT_GRACE, JobSpec, nightly, register_jobs

UNUSED_ACCOUNTS_PATH = "/admin/users/unused"
UNUSED_ACCOUNTS_NOTICE = "unused_accounts"


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


def report_unused_accounts(session: Session, now: dt.datetime, days: int) -> int:
    """Record tonight's report (an audit event with the count and the ids) and notify the
    administrators. Returns the number of unused accounts. Idempotent per night for the
    notices (de-duplicated per day); a second run records a second event, which is what
    happened."""
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
        day = now.astimezone(LOCAL_ZONE).date()
        notice = Notice(
            kind=UNUSED_ACCOUNTS_NOTICE,
            link=UNUSED_ACCOUNTS_PATH,
            dedup_key=f"{UNUSED_ACCOUNTS_NOTICE}:{day.isoformat()}",
            params=(("count", len(accounts)), ("days", days)),
        )
        send_notice(session, list(administrators(session)), notice)
    session.flush()
    return len(accounts)


def unused_accounts_job(session: Session, now: dt.datetime) -> int:
    return report_unused_accounts(session, now, current_app.config["UNUSED_ACCOUNT_DAYS"])


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
