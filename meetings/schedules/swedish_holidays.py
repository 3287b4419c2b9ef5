"""Swedish public holidays and the eves Swedes take off, with their Swedish names: a meeting that
falls on one is flagged so the coordinator can move or cancel it."""

from __future__ import annotations

import datetime as dt
import functools

import holidays


def _eves(year: int) -> dict[dt.date, str]:
    """The eves Swedes take off although they are not public holidays. ``holidays`` lists them
    under its ``de_facto`` category; computed here too so an older package still flags them."""
    june19 = dt.date(year, 6, 19)
    midsummer_eve = june19 + dt.timedelta(days=(4 - june19.weekday()) % 7)  # Friday 19-25 June
    return {
        midsummer_eve: "Midsommarafton",
        dt.date(year, 12, 24): "Julafton",
        dt.date(year, 12, 31): "Nyårsafton",
    }


@functools.lru_cache(maxsize=32)
def holidays_of_year(year: int) -> dict[dt.date, str]:
    try:
        found = holidays.country_holidays(
            "SE", years=year, language="sv", categories=("public", "de_facto")
        )
    except ValueError:  # a version without the de_facto category: the eves are computed below
        found = holidays.country_holidays("SE", years=year, language="sv")
    names = {day: str(name)[:100] for day, name in found.items()}
    for day, name in _eves(year).items():
        names.setdefault(day, name)
    return names


def holiday_name(day: dt.date) -> str | None:
    """The public holiday or eve on ``day`` (Swedish name), or None."""
    return holidays_of_year(day.year).get(day)


def holidays_between(first: dt.date, last: dt.date) -> dict[dt.date, str]:
    found: dict[dt.date, str] = {}
    for year in range(first.year, last.year + 1):
        found.update(
            (day, name) for day, name in holidays_of_year(year).items() if first <= day <= last
        )
    return found
