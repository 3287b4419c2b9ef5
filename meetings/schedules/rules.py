"""Recurrence rules: the presets, checking a rule as typed, and the local dates and UTC times it
gives.

A schedule's rule (RFC 5545 RRULE body, python-dateutil) is evaluated on *local dates*; each
date is then combined with the local start time in Europe/Stockholm and converted to UTC. So a
09:00 meeting stays at 09:00 on the wall clock all year (08:00 UTC in winter, 07:00 UTC in
summer). A start time that does not exist on the day clocks go forward (02:00-03:00 on the
last Sunday of March) is read with the offset before the change, i.e. an hour later on the
wall clock; an ambiguous one (the last Sunday of October) is the first of the two.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from dateutil.rrule import rrule, rrulestr
from flask_babel import lazy_gettext as _l

from coordination.db import LOCAL_ZONE
from coordination.errors import ServiceError
from coordination.numbers import plain_int
from meetings.models import Schedule

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class Preset(enum.StrEnum):
    SECOND_WEDNESDAY = "second_wednesday"
    FIRST_TUESDAY = "first_tuesday"
    EVERY_OTHER_WEEK = "every_other_week"
    CUSTOM = "custom"


def preset_rule(preset: Preset, starts_on: dt.date) -> str | None:
    """The RRULE of a preset; ``None`` for a custom rule."""
    if preset is Preset.SECOND_WEDNESDAY:
        return "FREQ=MONTHLY;BYDAY=+2WE"
    if preset is Preset.FIRST_TUESDAY:
        return "FREQ=MONTHLY;BYDAY=+1TU"
    if preset is Preset.EVERY_OTHER_WEEK:
        return f"FREQ=WEEKLY;INTERVAL=2;BYDAY={WEEKDAY_CODES[starts_on.weekday()]}"
    return None


def preset_of(rule: str, starts_on: dt.date) -> Preset:
    """Which preset a stored rule is (for the edit form), or custom."""
    for preset in Preset:
        if preset is not Preset.CUSTOM and preset_rule(preset, starts_on) == rule:
            return preset
    return Preset.CUSTOM


_ALLOWED_PARTS = frozenset(
    {"FREQ", "INTERVAL", "COUNT", "WKST", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS"}
    | {"BYWEEKNO", "BYYEARDAY"}
)
_TIME_PARTS = frozenset({"BYHOUR", "BYMINUTE", "BYSECOND", "DTSTART"})
# Meetings are at most daily: each occurrence is one local date at the schedule's start time.
_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_RULE_EXAMPLE = "FREQ=MONTHLY;BYDAY=+2WE"


class RuleError(ServiceError):
    def __init__(self, message: Any) -> None:
        super().__init__(message, field="rrule")


def _is_nonzero_int(value: str) -> bool:
    """A value of RFC 5545's BY... parts: ASCII digits after at most one sign, not zero."""
    number = plain_int(value[1:] if value.startswith(("+", "-")) else value)
    return number is not None and number != 0


def normalise_rule(text: str) -> str:
    """The rule as stored: upper case, no spaces, no ``RRULE:`` prefix, FREQ first."""
    body = "".join(text.split()).upper()
    body = body.removeprefix("RRULE:").strip(";")
    if not body:
        raise RuleError(_l("Ange en upprepningsregel, till exempel %(e)s.", e=_RULE_EXAMPLE))
    parts: dict[str, str] = {}
    for part in body.split(";"):
        key, sep, value = part.partition("=")
        if not sep or not key or not value:
            raise RuleError(
                _l(
                    "Regeln kunde inte tolkas: skriv delarna som NAMN=VÄRDE med semikolon "
                    "emellan, till exempel %(e)s.",
                    e=_RULE_EXAMPLE,
                )
            )
        if key == "UNTIL":
            raise RuleError(_l("Ange slutdatum i fältet Sista datum i stället för UNTIL."))
        if key in _TIME_PARTS:
            raise RuleError(_l("Tiden anges i fälten för start- och sluttid, inte i regeln."))
        if key not in _ALLOWED_PARTS:
            raise RuleError(_l("Regeln innehåller %(part)s, som inte stöds.", part=key[:20]))
        if key in parts:
            raise RuleError(_l("%(part)s står mer än en gång i regeln.", part=key))
        parts[key] = value
    for key in ("INTERVAL", "COUNT"):
        # INTERVAL=0 would make dateutil repeat the first date for ever.
        if key in parts and not 1 <= (plain_int(parts[key]) or 0) <= 9999:
            raise RuleError(_l("%(part)s ska vara ett heltal från 1 till 9999.", part=key))
    for key in ("BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYSETPOS"):
        # RFC 5545 forbids 0 here; dateutil would silently drop it (monthly becomes daily).
        if key in parts and not all(_is_nonzero_int(value) for value in parts[key].split(",")):
            raise RuleError(_l("Värdena i %(part)s ska vara heltal skilda från 0.", part=key))
    freq = parts.pop("FREQ", None)
    if freq is None:
        raise RuleError(_l("Regeln måste börja med FREQ, till exempel %(e)s.", e=_RULE_EXAMPLE))
    if freq not in _FREQUENCIES:
        raise RuleError(
            _l("FREQ ska vara DAILY, WEEKLY, MONTHLY eller YEARLY (högst ett möte per dag).")
        )
    return ";".join([f"FREQ={freq}", *(f"{key}={value}" for key, value in parts.items())])


def _build_rule(rule: str, starts_on: dt.date, start_time: dt.time) -> rrule:
    # Naive local wall time: the rule counts calendar days in Sweden, never UTC hours.
    built = rrulestr(rule, dtstart=dt.datetime.combine(starts_on, start_time))
    if not isinstance(built, rrule):  # a single RRULE body never parses to a set
        raise ValueError("not a single rule")
    return built


def check_rule(rule: str, starts_on: dt.date, start_time: dt.time) -> str:
    """Normalise and prove the rule: dateutil parses it and it yields dates at all.

    A rule that can never match (``BYMONTH=2;BYMONTHDAY=31``) makes dateutil search until year
    9999, which takes seconds. So the rule is tried once with its start moved a whole number
    of 400-year Gregorian cycles (same weekdays, same leap years) close to year 9999: a search
    of at most ~800 years that answers whether it ever matches.
    """
    normal = normalise_rule(rule)
    cycles = (dt.MAXYEAR - 400 - starts_on.year) // 400
    try:
        _build_rule(normal, starts_on, start_time)
        probe = _build_rule(
            normal, starts_on.replace(year=starts_on.year + 400 * cycles), start_time
        ).replace(count=None)
        first = next(iter(probe), None)
    except (ValueError, TypeError, OverflowError) as error:
        raise RuleError(
            _l(
                "Regeln kunde inte tolkas. Skriv en regel enligt RFC 5545, till exempel %(e)s.",
                e=_RULE_EXAMPLE,
            )
        ) from error
    if first is None:
        raise RuleError(
            _l("Regeln ger inga mötesdatum. Kontrollera till exempel att dagen finns i månaden.")
        )
    return normal


def occurrence_dates(schedule: Schedule, first: dt.date, last: dt.date) -> list[dt.date]:
    """The schedule's local dates from ``first`` to ``last`` (both included)."""
    first = max(first, schedule.starts_on)
    if schedule.ends_on is not None:
        last = min(last, schedule.ends_on)
    if first > last:
        return []
    rule = _build_rule(schedule.rrule, schedule.starts_on, schedule.start_time)
    window = (
        dt.datetime.combine(first, dt.time.min),  # local wall time
        dt.datetime.combine(last, dt.time.max),
    )
    return sorted({occurrence.date() for occurrence in rule.between(*window, inc=True)})


def local_span(day: dt.date, start_time: dt.time, minutes: int) -> tuple[dt.datetime, dt.datetime]:
    """Start and end in UTC of a meeting at ``start_time`` Stockholm time on ``day``."""
    starts_at = dt.datetime.combine(day, start_time, tzinfo=LOCAL_ZONE).astimezone(dt.UTC)
    return starts_at, starts_at + dt.timedelta(minutes=minutes)
