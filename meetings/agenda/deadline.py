"""The agenda deadline: the last day members may add children to a meeting's agenda, counted
in Swedish working days (weekends, public holidays and the de facto eves skipped).
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays

from coordination.db import LOCAL_ZONE, today_local
from meetings.models import Meeting

DEFAULT_DEADLINE_WORKING_DAYS = 3


@cache
def _days_off(year: int) -> frozenset[dt.date]:
    """Public holidays, and the eves that are days off in practice (midsommar-, jul- and
    nyårsafton)."""
    return frozenset(holidays.Sweden(years=year, categories=("public", "de_facto")).keys())


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _days_off(day.year)


def working_days_before(day: dt.date, count: int) -> dt.date:
    """The date ``count`` working days before ``day`` (weekends and holidays skipped)."""
    result = day
    while count > 0:
        result -= dt.timedelta(days=1)
        if is_working_day(result):
            count -= 1
    return result


def agenda_deadline(meeting: Meeting, working_days: int = DEFAULT_DEADLINE_WORKING_DAYS) -> dt.date:
    """The last day members may add children: by default three working days before the
    meeting's (Swedish) date. After it only the coordinator adds."""
    return working_days_before(meeting.starts_at.astimezone(LOCAL_ZONE).date(), working_days)


def deadline_passed(
    meeting: Meeting,
    working_days: int = DEFAULT_DEADLINE_WORKING_DAYS,
    today: dt.date | None = None,
) -> bool:
    return (today or today_local()) > agenda_deadline(meeting, working_days)
