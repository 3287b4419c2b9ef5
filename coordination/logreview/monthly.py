"""The monthly log review: per user views, distinct children and disclosures, flags for
unusual patterns, and the auditor's sign-off of a finished month."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent, AuditTag, record_event
from coordination.db import LOCAL_ZONE, utcnow
from coordination.errors import ServiceError
from coordination.logreview.events import UserName, local_midnight, user_names
from coordination.logreview.models import LogReview, ReviewOutcome
from coordination.logreview.scopes import AuditScope, require_reviewer, visible_to_agency
from coordination.models import Child, ChildStatus, User

# The month index lists the current month and this many finished months before it.
REVIEW_MONTHS = 12

# The tags the monthly report counts. Secrecy owns them; coordination knows only the strings.
# Disclosures are the owner's decisions (not revocations or lapses, which share the prefix).
VIEW_TAG = "secrecy:record:reveal"
DISCLOSURE_TAG = "secrecy:disclosure:decide"

# Flag 1, unusual volume: more than UNUSUAL_FACTOR times the user's average number of distinct
# children per month over the previous HISTORY_MONTHS months (months without views count as
# zero) and at least UNUSUAL_MIN_CHILDREN; with no views at all in those months, more than
# NO_HISTORY_CHILDREN.
HISTORY_MONTHS = 3
UNUSUAL_FACTOR = 3
UNUSUAL_MIN_CHILDREN = 10
NO_HISTORY_CHILDREN = 25
# Flag 2, outside office hours (Europe/Stockholm): before OFFICE_OPENS, after OFFICE_CLOSES,
# or on these weekdays (Monday is 0). Public holidays are not known here.
OFFICE_OPENS = dt.time(7, 0)
OFFICE_CLOSES = dt.time(19, 0)
WEEKEND_DAYS = frozenset({5, 6})
# Flag 3, closed cases: a view on a later day than the case's closing day, of a child whose
# case is closed or shredded when the report is made.
CLOSED_STATUSES = frozenset({ChildStatus.CLOSED, ChildStatus.SHREDDED})

OUTCOME_LABELS: dict[ReviewOutcome, Any] = {
    ReviewOutcome.NO_DEVIATIONS: _l("Inga avvikelser"),
    ReviewOutcome.DEVIATIONS_INVESTIGATED: _l("Avvikelser utredda"),
    ReviewOutcome.DEVIATIONS_REPORTED: _l("Avvikelser rapporterade"),
}


_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def parse_month(text: str) -> dt.date | None:
    """``"2026-03"`` -> 2026-03-01; anything else (the year 0000 too) -> None."""
    match = _MONTH.fullmatch(text)
    return dt.date(int(match[1]), int(match[2]), 1) if match and int(match[1]) > 0 else None


def month_key(month: dt.date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return local_midnight(month), local_midnight(add_months(month, 1))


@dataclass(frozen=True)
class ClosedCaseView:
    at: dt.datetime  # local time
    pseudonym: str
    closed_on: dt.date


@dataclass
class UserActivity:
    user_id: int
    name: str = ""
    agency: str = ""
    views: int = 0
    children: set[int] = field(default_factory=set)
    disclosures: int = 0
    # Average distinct children per month over the previous months; None: no views then.
    history_average: float | None = None
    off_hours: list[dt.datetime] = field(default_factory=list)  # local times
    closed_case_views: list[ClosedCaseView] = field(default_factory=list)

    @property
    def distinct_children(self) -> int:
        return len(self.children)

    @property
    def unusual_volume(self) -> bool:
        return is_unusual_volume(self.distinct_children, self.history_average)

    @property
    def flagged(self) -> bool:
        return self.unusual_volume or bool(self.off_hours) or bool(self.closed_case_views)

    @property
    def off_hours_by_day(self) -> list[FlagGroup]:
        """The views outside office hours, one line per day (identical flags grouped)."""
        days: dict[dt.date, list[dt.datetime]] = {}
        for at in self.off_hours:
            days.setdefault(at.date(), []).append(at)
        return [FlagGroup(str(day), len(times), times[0], times[-1]) for day, times in days.items()]

    @property
    def closed_case_groups(self) -> list[FlagGroup]:
        """The views of closed cases, one line per case (identical flags grouped)."""
        cases: dict[tuple[str, dt.date], list[dt.datetime]] = {}
        for view in self.closed_case_views:
            cases.setdefault((view.pseudonym, view.closed_on), []).append(view.at)
        return [
            FlagGroup(pseudonym, len(times), times[0], times[-1], closed_on)
            for (pseudonym, closed_on), times in cases.items()
        ]


@dataclass(frozen=True)
class FlagGroup:
    """Identical flags counted once: a day or a case, how many views, the first and last."""

    key: str
    count: int
    first: dt.datetime
    last: dt.datetime
    closed_on: dt.date | None = None


def is_unusual_volume(distinct_children: int, history_average: float | None) -> bool:
    if history_average is None:
        return distinct_children > NO_HISTORY_CHILDREN
    return (
        distinct_children >= UNUSUAL_MIN_CHILDREN
        and distinct_children > UNUSUAL_FACTOR * history_average
    )


def is_outside_office_hours(at: dt.datetime) -> bool:
    local = at.astimezone(LOCAL_ZONE)
    return (
        local.weekday() in WEEKEND_DAYS
        or local.time() < OFFICE_OPENS
        or local.time() > OFFICE_CLOSES
    )


@dataclass(frozen=True)
class MonthReport:
    month: dt.date
    users: list[UserActivity]
    review: LogReview | None
    signable: bool

    @property
    def key(self) -> str:
        return month_key(self.month)

    @property
    def flagged_users(self) -> list[UserActivity]:
        return [u for u in self.users if u.flagged]


def _child_ids(details: dict[str, Any]) -> list[int]:
    value = details.get("child_ids")
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, int) and not isinstance(v, bool)]


def _activity_events(
    session: Session,
    agency_id: int,
    start: dt.datetime,
    end: dt.datetime,
    *,
    views_only: bool,
    scopes: Iterable[AuditScope] = (),
) -> list[Any]:
    """The agency's users' views and disclosures, and with ``scopes`` (the registered audit
    scopes) also other agencies' views of the records the agency owns: the police reading
    social services' records appear in social services' review."""
    tags = AuditEvent.tag.in_([VIEW_TAG] if views_only else [VIEW_TAG, DISCLOSURE_TAG])
    return list(
        session.execute(
            select(
                AuditEvent.actor_user_id, AuditEvent.tag, AuditEvent.occurred_at, AuditEvent.details
            ).where(
                visible_to_agency(session, agency_id, scopes),
                AuditEvent.actor_user_id.is_not(None),
                AuditEvent.occurred_at >= start,
                AuditEvent.occurred_at < end,
                tags,
            )
        )
    )


def _history_averages(
    session: Session, agency_id: int, month: dt.date, scopes: Iterable[AuditScope] = ()
) -> dict[int, float]:
    start, _ = month_bounds(add_months(month, -HISTORY_MONTHS))
    end, _ = month_bounds(month)
    per_month: dict[tuple[int, str], set[int]] = {}
    for user_id, _tag, occurred_at, details in _activity_events(
        session, agency_id, start, end, views_only=True, scopes=scopes
    ):
        local = occurred_at.astimezone(LOCAL_ZONE)
        per_month.setdefault((user_id, f"{local:%Y-%m}"), set()).update(_child_ids(details))
    totals: dict[int, int] = {}
    for (user_id, _month), children in per_month.items():
        totals[user_id] = totals.get(user_id, 0) + len(children)
    return {user_id: total / HISTORY_MONTHS for user_id, total in totals.items()}


def month_report(
    session: Session,
    actor: User,
    month: dt.date,
    today: dt.date,
    scopes: Iterable[AuditScope] = (),
) -> MonthReport:
    """Views and disclosures by the auditor's agency's users in one month, per user, with the
    flags for unusual patterns. ``today`` is the Swedish calendar day (decides signability)."""
    require_reviewer(actor)
    agency_id = actor.agency_id
    start, end = month_bounds(month)
    events = _activity_events(session, agency_id, start, end, views_only=False, scopes=scopes)
    children = {
        child.id: child
        for child in session.scalars(
            select(Child).where(Child.id.in_({c for e in events for c in _child_ids(e.details)}))
        )
    }
    history = _history_averages(session, agency_id, month, scopes)
    users: dict[int, UserActivity] = {}
    for user_id, tag, occurred_at, details in events:
        activity = users.setdefault(
            user_id, UserActivity(user_id, history_average=history.get(user_id))
        )
        if tag != VIEW_TAG:
            activity.disclosures += 1
            continue
        activity.views += 1
        local = occurred_at.astimezone(LOCAL_ZONE)
        if is_outside_office_hours(occurred_at):
            activity.off_hours.append(local)
        for child_id in _child_ids(details):
            activity.children.add(child_id)
            child = children.get(child_id)
            if (
                child is not None
                and child.status in CLOSED_STATUSES
                and child.closed_on is not None
                and local.date() > child.closed_on
            ):
                activity.closed_case_views.append(
                    ClosedCaseView(local, child.pseudonym, child.closed_on)
                )
    for user_id, name in user_names(session, users).items():
        users[user_id].name = name.name
        users[user_id].agency = name.agency
    for activity in users.values():
        activity.off_hours.sort()
        activity.closed_case_views.sort(key=lambda v: (v.at, v.pseudonym))
    return MonthReport(
        month=month,
        users=sorted(users.values(), key=lambda u: (u.name, u.user_id)),
        review=_review_of(session, agency_id, month),
        signable=is_signable(month, today),
    )


# --- Sign-off -----------------------------------------------------------------------------------


def is_signable(month: dt.date, today: dt.date) -> bool:
    """Only finished months: not the current one, not one in the future."""
    return month < today.replace(day=1)


def _review_of(session: Session, agency_id: int, month: dt.date) -> LogReview | None:
    return session.scalars(
        select(LogReview).where(LogReview.agency_id == agency_id, LogReview.month == month)
    ).one_or_none()


def check_sign_off(session: Session, actor: User, month: dt.date, today: dt.date) -> None:
    """Why the actor may not sign the month now, raised; nothing is written."""
    require_reviewer(actor)
    if month.day != 1:
        raise ValueError("a month is given by its first day")
    if not is_signable(month, today):
        raise ServiceError(_l("Månaden är inte avslutad och kan inte signeras än."))
    if _review_of(session, actor.agency_id, month) is not None:
        raise ServiceError(_l("Månaden är redan signerad."))


def sign_off_month(
    session: Session,
    actor: User,
    month: dt.date,
    outcome: ReviewOutcome | None,
    today: dt.date,
) -> LogReview:
    """The auditor signs the agency's review of a finished month, once."""
    check_sign_off(session, actor, month, today)
    already = ServiceError(_l("Månaden är redan signerad."))
    review = LogReview(
        agency_id=actor.agency_id,
        month=month,
        signed_by_id=actor.id,
        signed_at=utcnow(),
        outcome=outcome,
    )
    try:
        with session.begin_nested():
            session.add(review)
            session.flush()
    except IntegrityError as error:
        # Signed by someone else at the same moment: the unique constraint decides.
        raise already from error
    record_event(
        session,
        actor,
        AuditTag.AUDIT_REVIEW_SIGN,
        on=review,
        details={"month": month_key(month), "outcome": outcome.value if outcome else None},
    )
    return review


@dataclass(frozen=True)
class MonthStatus:
    month: dt.date
    review: LogReview | None
    signable: bool

    @property
    def key(self) -> str:
        return month_key(self.month)


def review_months(
    session: Session, actor: User, today: dt.date, count: int = REVIEW_MONTHS
) -> list[MonthStatus]:
    """The current month and the ``count`` finished months before it, newest first, each with
    its sign-off (if any)."""
    require_reviewer(actor)
    current = today.replace(day=1)
    months = [add_months(current, -n) for n in range(count + 1)]
    reviews = {
        review.month: review
        for review in session.scalars(
            select(LogReview).where(
                LogReview.agency_id == actor.agency_id, LogReview.month.in_(months)
            )
        )
    }
    return [MonthStatus(m, reviews.get(m), is_signable(m, today)) for m in months]


def reviewers(session: Session, reviews: Iterable[LogReview | None]) -> dict[int, UserName]:
    return user_names(session, (r.signed_by_id for r in reviews if r is not None))
