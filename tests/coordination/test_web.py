"""The web plumbing's shortcuts give exactly what the slower general tools give."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask, url_for
from flask_babel import force_locale, format_datetime

from coordination.web import NUMERIC_PATTERNS, _format_local, url_for_ids

# Both sides of the spring and autumn clock changes in Sweden, midnight UTC and a naive value
# (read as UTC, as Babel reads it).
INSTANTS = [
    dt.datetime(2026, 3, 29, 0, 59, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 10, 25, 0, 59, 59, tzinfo=dt.UTC),
    dt.datetime(2026, 10, 25, 1, 0, 1, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC),
    dt.datetime(2027, 6, 1, 0, 0, tzinfo=dt.UTC),
    dt.datetime(2027, 6, 1, 12, 5, tzinfo=dt.UTC).replace(tzinfo=None),
]


@pytest.mark.parametrize("locale", ["sv", "en"])
@pytest.mark.parametrize("pattern", sorted(NUMERIC_PATTERNS))
def test_numeric_times_match_babel(app: Flask, locale: str, pattern: str) -> None:
    with app.test_request_context(), force_locale(locale):
        for instant in INSTANTS:
            assert _format_local(instant, pattern) == format_datetime(instant, pattern)


def test_other_patterns_and_none_still_go_through_babel(app: Flask) -> None:
    instant = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    with app.test_request_context(), force_locale("sv"):
        assert _format_local(instant, "EEEE d MMMM yyyy, HH:mm") == "måndag 2 mars 2026, 10:30"
        assert _format_local(None) == ""


def test_url_for_ids_builds_what_url_for_builds(app: Flask) -> None:
    with app.test_request_context():
        detail = url_for_ids("actions.detail", "action_id")
        correct = url_for_ids("secrecy.correct", "record_id")
        for object_id in (1, 7, 2147483646):
            assert detail(object_id) == url_for("actions.detail", action_id=object_id)
            assert correct(object_id) == url_for("secrecy.correct", record_id=object_id)
