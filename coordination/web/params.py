"""Numbers and dates from query strings and forms, parsed and bounded in one place.

Every page reads ``?page=``, ids and dates through these functions, as the API reads them
through its pydantic models: a value that is not a number, or out of the range the database
and the calendar hold, is refused with the ordinary Swedish 400 page (``BadParameter``) before
anything is read or changed — never a 500 from a driver's overflow or a date out of range.
"""

from __future__ import annotations

import datetime as dt

from flask import request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest

from coordination.api.problems import ApiError, is_api_request
from coordination.numbers import plain_int
from coordination.web.converters import MAX_DB_ID

# Pages of a list: far beyond any real list, well inside every integer type.
MAX_PAGE = 100_000
# The calendar a page may ask about: wide enough for any real period, narrow enough that a
# month or a day added to it stays a valid date.
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2199, 12, 31)


class BadParameter(BadRequest):
    """A query or form value out of its range or of the wrong form: the 400 page."""


def bounded_int(raw: str | None, *, low: int, high: int) -> int | None:
    """``raw`` as an int in ``[low, high]``; None when it is missing or empty."""
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    # An id or a page number is a few ASCII digits with an optional minus (see plain_int).
    negative = text.startswith("-")
    magnitude = plain_int(text[1:] if negative else text)
    if magnitude is None:
        raise BadParameter()
    value = -magnitude if negative else magnitude
    if not low <= value <= high:
        raise BadParameter()
    return value


def arg_int(name: str, *, low: int = 1, high: int = MAX_DB_ID) -> int | None:
    """An integer query argument (an id by default); None when absent."""
    return bounded_int(request.args.get(name), low=low, high=high)


def form_int(name: str, *, low: int = 1, high: int = MAX_DB_ID) -> int | None:
    """An integer form field read outside a WTForms form (an id by default)."""
    return bounded_int(request.form.get(name), low=low, high=high)


def page_number(name: str = "page") -> int:
    """``?page=``: 1 when absent; a number out of range is refused."""
    return arg_int(name, low=1, high=MAX_PAGE) or 1


def bounded_date(raw: str | None) -> dt.date | None:
    """An ISO date (YYYY-MM-DD) inside ``[MIN_DATE, MAX_DATE]``; None when missing or empty."""
    if raw is None or raw.strip() == "":
        return None
    try:
        value = dt.date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise BadParameter() from exc
    if not MIN_DATE <= value <= MAX_DATE:
        raise BadParameter()
    return value


def arg_date(name: str) -> dt.date | None:
    return bounded_date(request.args.get(name))


def is_sane_date(value: dt.date | None) -> bool:
    """For dates a WTForms field parsed: inside the calendar pages may ask about."""
    return value is None or MIN_DATE <= value <= MAX_DATE


def refuse_nul_bytes() -> None:
    """Before every request: a NUL character in a query or form value is refused (the 400
    page; in the API a 422 problem, as for any other query value it cannot take).

    No text a person types contains one, and PostgreSQL's text columns cannot hold it: such a
    value would reach a query as a driver error (500) instead of the ordinary 400 page."""
    fields = list(request.args.items(multi=True))
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields += request.form.items(multi=True)
    if any("\x00" in key or "\x00" in value for key, value in fields):
        if is_api_request():
            raise ApiError(422, _l("Begäran innehåller ett otillåtet tecken (NUL)."))
        raise BadParameter()


def ticked_indexes(prefix: str) -> list[int]:
    """The numbers of the form's fields named ``<prefix><n>`` (the statements a discloser
    ticked), in the form's order; a name whose end is not one to three ASCII digits (a sign,
    white space, ``1_0``, a superscript digit) is passed over like any other stray field."""
    return [
        index
        for key in request.form
        if key.startswith(prefix)
        and (index := plain_int(key[len(prefix) :], max_digits=3)) is not None
    ]
