"""The web plumbing's shortcuts give exactly what the slower general tools give."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import time_machine
from flask import Flask, url_for
from flask_babel import force_locale, format_datetime

from coordination.models import AgencyKind
from coordination.web.converters import NUMERIC_PATTERNS, _format_local, url_for_ids
from coordination.web.forms import parse_version
from coordination.web.params import ticked_indexes
from minutes.workspace.forms import share_choices
from tests.conftest import Council3, log_in

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


def test_the_session_cookie_is_re_signed_at_most_once_a_minute(app: Flask, world: Council3) -> None:
    """Signing the cookie again on every request was wasted work: the last-seen time moves on
    once a minute, which still keeps an active user logged in."""
    client = log_in(app.test_client(), world.members[AgencyKind.POLICE])
    start = time.time()
    with time_machine.travel(start + 5, tick=False):
        assert client.get("/").status_code == 200  # the first page adds its CSRF token
    with time_machine.travel(start + 10, tick=False):
        page = client.get("/")
        assert page.status_code == 200
        assert "Set-Cookie" not in page.headers
    with time_machine.travel(start + 70, tick=False):
        assert "Set-Cookie" in client.get("/").headers
    # Active every 25 minutes (under the 30-minute idle limit) keeps the session.
    for step in range(1, 5):
        with time_machine.travel(start + 70 + step * 25 * 60, tick=False):
            assert client.get("/").status_code == 200


def test_a_lazy_message_with_markup_in_its_value_is_escaped(app: Flask) -> None:
    """A lazily translated message is not safe HTML: what was put into it is escaped."""
    from flask import render_template_string
    from flask_babel import lazy_gettext

    message = lazy_gettext("Token ”%(name)s” är återkallad.", name="<script>x()</script>")
    with app.test_request_context("/"):
        shown = render_template_string("<p>{{ message }}</p>", message=message)
    assert "<script>" not in shown
    assert "&lt;script&gt;x()&lt;/script&gt;" in shown


def test_a_flashed_lazy_message_survives_the_session_and_is_escaped(
    app: Flask, world: Council3
) -> None:
    """The log-in redirect flashes a lazy message: it is stored as text and shown escaped."""
    from flask_babel import lazy_gettext
    from markupsafe import Markup

    client = app.test_client()
    assert client.get("/actions/mine").status_code == 302
    with client.session_transaction() as session:
        [(category, message)] = session["_flashes"]
    assert (category, message) == ("info", "Logga in för att se sidan.")
    assert isinstance(message, str)

    serializer = app.session_interface.serializer  # type: ignore[attr-defined]
    with app.test_request_context("/"):
        stored = serializer.dumps({"m": lazy_gettext("Hej %(name)s", name="<b>x</b>")})
    loaded = serializer.loads(stored)["m"]
    assert loaded == "Hej <b>x</b>"
    assert not isinstance(loaded, Markup), "read back as text, to be escaped when shown"
    page = client.get("/login")
    assert "Logga in för att se sidan." in page.text


def test_ticked_indexes_reads_only_plain_numbers(app: Flask) -> None:
    # The statements a discloser ticked: only one to three ASCII digits after the prefix count;
    # a sign, white space, an underscore, a superscript digit or a longer number is a stray field.
    fields = {
        "confirm-b-0": "y",
        "confirm-b-2": "y",
        "confirm-b-+1": "y",
        "confirm-b- 1": "y",
        "confirm-b-1_0": "y",
        "confirm-b-\N{SUPERSCRIPT THREE}": "y",
        "confirm-b-1000": "y",
        "confirm-b-x": "y",
        "confirm-other-1": "y",
        "confirm-b-12": "y",
    }
    with app.test_request_context(method="POST", data=fields):
        assert ticked_indexes("confirm-b-") == [0, 2, 12]


def test_a_form_version_is_plain_digits_or_a_conflict() -> None:
    assert parse_version(None) is None and parse_version("") is None
    assert parse_version("3") == 3
    # int() would take each of these as 3: a tampered version is a conflict (-1), not version 3.
    for tampered in ("+3", " 3", "3 ", "\N{FULLWIDTH DIGIT THREE}", "\N{SUPERSCRIPT THREE}", "x"):
        assert parse_version(tampered) == -1, tampered


def test_share_choices_read_only_plain_agency_ids(app: Flask) -> None:
    fields = {
        "share-7": "y",
        "basis-7": "consent",
        "share-+8": "y",
        "share-\N{ARABIC-INDIC DIGIT NINE}": "y",
        "share-\N{FULLWIDTH DIGIT NINE}": "y",
        "share-": "y",
    }
    with app.test_request_context(method="POST", data=fields):
        assert [(c.agency_id, c.basis_id) for c in share_choices()] == [(7, "consent")]
