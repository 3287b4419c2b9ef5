"""The minutes' print view (per viewer, withheld items marked, logged as an export) and the
council reports (figures per responsible agency, SVG charts, CSV, no personal data)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile

import pytest
import time_machine
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordination import spreadsheets
from coordination.models import AgencyKind, Child, User
from meetings.models import Meeting, MeetingStatus
from minutes.models import ActionStatus, EntryKind, Minutes, MinutesEntry, MinutesStatus
from minutes.reports import services as reports
from secrecy.records.services import create_record
from tests import factories
from tests.conftest import Council3, audit_events, log_in
from tests.factories import UserFactory, put_on_agenda
from tests.minutes.test_jobs import MARKER, make_action, make_meeting

SOCIAL, POLICE, SCHOOL = AgencyKind.SOCIAL_SERVICES, AgencyKind.POLICE, AgencyKind.SCHOOL
SOCIAL_TEXT = "SOCIALTJANSTENS-ANTECKNING-1"
POLICE_TEXT = "POLISENS-ANTECKNING-2"
TODAY = dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC)


def enrol(db: Session, world: Council3, number: str, name: str) -> Child:
    return factories.enrol(db, world.members[SOCIAL], world.council, number, name)


@pytest.fixture
def outsider(db: Session, world: Council3) -> User:
    return UserFactory(agency=world.agencies[POLICE], email="outsider@example.com")


# --- Print view ----------------------------------------------------------------------------------


@pytest.fixture
def printed(db: Session, world: Council3) -> tuple[Meeting, Child, list[MinutesEntry]]:
    meeting = make_meeting(db, world, dt.datetime(2026, 3, 10, 8, 0, tzinfo=dt.UTC))
    child = enrol(db, world, "20121212-1212", "Kalle")
    minutes = Minutes(meeting_id=meeting.id, status=MinutesStatus.DRAFT)
    db.add(minutes)
    db.flush()
    entries = []
    for kind, text in ((SOCIAL, SOCIAL_TEXT), (POLICE, POLICE_TEXT)):
        author = world.members[kind]
        record = create_record(db, author, child, "meeting_note", text)
        entry = MinutesEntry(
            minutes_id=minutes.id,
            child_id=child.id,
            record_id=record.id,
            kind=EntryKind.ENTRY,
            author_id=author.id,
        )
        db.add(entry)
        entries.append(entry)
    db.flush()
    make_action(db, world, meeting, child, dt.date(2026, 4, 1))  # description by social
    return meeting, child, entries


def test_print_view_shows_own_entries_and_withholds_the_others(
    app: Flask, db: Session, world: Council3, printed: tuple[Meeting, Child, list[MinutesEntry]]
) -> None:
    meeting, child, entries = printed
    police = world.members[POLICE]
    response = log_in(app.test_client(), police).get(f"/meetings/{meeting.id}/minutes/print")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert POLICE_TEXT in html
    assert SOCIAL_TEXT not in html
    assert MARKER not in html  # the action's description is social services' record
    assert html.count("Undanhållen") == 2
    assert "Ingen uppgiftslämning till din myndighet." in html
    assert "Sekretess enligt OSL" in html
    assert police.display_name in html
    assert child.pseudonym in html

    events = audit_events(db, "minutes:print:export")
    assert len(events) == 1
    assert events[0].actor_user_id == police.id
    assert set(events[0].object_ids) >= {e.record_id for e in entries}
    assert len(events[0].object_ids) == 3
    assert events[0].details == {"meeting_id": meeting.id}
    reveals = audit_events(db, "secrecy:record:reveal")
    assert len(reveals) == 1  # one reveal_records call for the whole print


def test_print_view_for_social_services_reveals_its_own_and_withholds_police(
    app: Flask, db: Session, world: Council3, printed: tuple[Meeting, Child, list[MinutesEntry]]
) -> None:
    meeting, _child, _entries = printed
    html = (
        log_in(app.test_client(), world.members[SOCIAL])
        .get(f"/meetings/{meeting.id}/minutes/print")
        .get_data(as_text=True)
    )
    assert SOCIAL_TEXT in html and MARKER in html
    assert POLICE_TEXT not in html
    assert html.count("Undanhållen") == 1


def test_print_view_is_for_council_members_only(
    app: Flask, db: Session, printed: tuple[Meeting, Child, list[MinutesEntry]], outsider: User
) -> None:
    meeting, _child, _entries = printed
    response = log_in(app.test_client(), outsider).get(f"/meetings/{meeting.id}/minutes/print")
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert POLICE_TEXT not in body and SOCIAL_TEXT not in body
    assert audit_events(db, "minutes:print:export") == []
    assert len(audit_events(db, "access:denied")) == 1


# --- Reports -------------------------------------------------------------------------------------


def local(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, hour, 0, tzinfo=dt.UTC)


@pytest.fixture
def data_set(db: Session, world: Council3) -> list[Child]:
    """Two held meetings in the period (children 1+2, then 1), a planned one (child 3) and a
    held one a year and a half ago (child 3), with actions of three agencies."""
    children = [
        enrol(db, world, number, name)
        for number, name in (
            ("20121212-1212", "Kalle"),
            ("20100101-0014", "Stina"),
            ("20110303-0308", "Olle"),
        )
    ]
    first = make_meeting(db, world, local(2026, 3, 10))
    second = make_meeting(db, world, local(2026, 4, 14))
    planned = make_meeting(db, world, local(2026, 5, 12), status=MeetingStatus.PLANNED)
    old = make_meeting(db, world, local(2025, 1, 10))
    social = world.members[SOCIAL]
    for position, (meeting, child) in enumerate(
        [(first, children[0]), (first, children[1]), (second, children[0]), (planned, children[2]),
         (old, children[2])]
    ):  # fmt: skip
        put_on_agenda(db, meeting, child, position=position, added_by_id=social.id)
    due = dt.date(2026, 3, 31)
    kalle = children[0]
    # Police: on time; late by half an hour in Stockholm (22:30 UTC is 00:30 on 1 April);
    # open past its due date.
    make_action(db, world, first, kalle, due, status=ActionStatus.DONE,
                closed_at=dt.datetime(2026, 3, 31, 21, 30, tzinfo=dt.UTC))  # fmt: skip
    make_action(db, world, first, kalle, due, status=ActionStatus.DONE,
                closed_at=dt.datetime(2026, 3, 31, 22, 30, tzinfo=dt.UTC))  # fmt: skip
    make_action(db, world, second, kalle, dt.date(2026, 6, 1))
    # School: not done; open and not yet due.
    make_action(db, world, first, kalle, due, agency=SCHOOL, status=ActionStatus.NOT_DONE)
    make_action(db, world, second, kalle, dt.date(2026, 7, 1), agency=SCHOOL)
    # Social services: in progress past its due date.
    make_action(db, world, second, kalle, dt.date(2026, 5, 1), agency=SOCIAL,
                status=ActionStatus.IN_PROGRESS)  # fmt: skip
    # Outside the period: not counted.
    make_action(db, world, old, kalle, dt.date(2025, 2, 1))
    return children


def figures(report: reports.CouncilReport) -> dict[str, tuple[int, int, int, int]]:
    return {
        row.agency_name: (row.agreed, row.done_on_time, row.overdue, row.not_done)
        for row in report.by_agency
    }


def test_report_figures_for_a_constructed_data_set(
    db: Session, world: Council3, data_set: list[Child]
) -> None:
    today = dt.date(2026, 6, 15)
    report = reports.council_report(db, world.council, reports.default_period(today), today)
    assert report.period == reports.Period(dt.date(2025, 6, 16), today)
    assert report.meetings_held == 2
    assert report.children_discussed == 2
    assert figures(report) == {
        "Test police": (3, 1, 2, 0),
        "Test school": (2, 0, 0, 1),
        "Test social_services": (1, 0, 1, 0),
    }
    total = report.totals
    assert (total.agreed, total.done_on_time, total.overdue, total.not_done) == (6, 1, 3, 1)
    assert dict(report.meetings_by_month)["2026-03"] == 1
    assert dict(report.meetings_by_month)["2026-04"] == 1
    assert len(report.meetings_by_month) == 13  # June 2025 to June 2026

    wide = reports.Period(dt.date(2024, 1, 1), today)
    older = reports.council_report(db, world.council, wide, today)
    assert older.meetings_held == 3 and older.children_discussed == 3
    assert older.totals.agreed == 7


@time_machine.travel(TODAY, tick=False)
def test_report_page_has_svg_tables_and_no_personal_data(
    app: Flask, db: Session, world: Council3, data_set: list[Child]
) -> None:
    response = log_in(app.test_client(), world.members[SCHOOL]).get(
        f"/councils/{world.council.id}/reports"
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<svg") == 2
    assert "<script" not in html.split("<svg", 1)[1]  # pygal's script is removed
    assert 'style="' not in html.split("<svg", 1)[1].split("</svg>")[0]
    assert "<caption>" in html and 'scope="row"' in html and 'scope="col"' in html
    assert '<th scope="row">Test police</th><td>3</td><td>1</td><td>2</td><td>0</td>' in html
    assert 'id="meetings-held">2<' in html and 'id="children-discussed">2<' in html
    for child in data_set:
        assert child.pseudonym not in html
    for secret in (MARKER, "Kalle", "Stina", "Hemligsson"):
        assert secret not in html
    assert "Content-Security-Policy" in response.headers


def exported_report(
    app: Flask, db: Session, world: Council3, extension: str, mimetype: str
) -> TestResponse:
    """The police member's export of the council's report for 1 January to 15 June 2026 as
    ``extension``, with the school named like a spreadsheet formula; checked to be a
    ``mimetype`` download."""
    world.agencies[SCHOOL].name = "=Skolan+1"
    db.flush()
    client = log_in(app.test_client(), world.members[POLICE])
    query = "from=2026-01-01&to=2026-06-15"
    response = client.get(f"/councils/{world.council.id}/reports.{extension}?{query}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    return response


@time_machine.travel(TODAY, tick=False)
def test_report_csv_matches_the_page_and_is_logged(
    app: Flask, db: Session, world: Council3, data_set: list[Child]
) -> None:
    response = exported_report(app, db, world, "csv", "text/csv")
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # UTF-8 with a BOM and ";" for Swedish Excel
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["Forum", "Testrådet"]
    assert rows[1:5] == [
        ["Från", "2026-01-01"],
        ["Till", "2026-06-15"],
        ["Hållna möten", "2"],
        ["Barn som diskuterats", "2"],
    ]
    table = {row[0]: row[1:] for row in rows[6:]}
    assert table["Test police"] == ["3", "1", "2", "0"]
    assert table["'=Skolan+1"] == ["2", "0", "0", "1"]  # no formula
    assert table["Test social_services"] == ["1", "0", "1", "0"]
    assert table["Totalt"] == ["6", "1", "3", "1"]
    body = response.get_data(as_text=True)
    for child in data_set:
        assert child.pseudonym not in body
    events = audit_events(db, "minutes:report:export")
    assert len(events) == 1 and events[0].object_ids == [world.council.id]


def test_safe_cell_neutralises_formulas() -> None:
    cells = ("=1+1", "+1", "-2", "@SUM", "\t=1", "Polisen", 3, None)
    assert [spreadsheets.safe_cell(v) for v in cells] == [
        "'=1+1",
        "'+1",
        "'-2",
        "'@SUM",
        "'\t=1",
        "Polisen",
        "3",
        "",
    ]


@time_machine.travel(TODAY, tick=False)
def test_report_xlsx_has_numbers_as_numbers_and_no_formula(
    app: Flask, db: Session, world: Council3, data_set: list[Child]
) -> None:
    response = exported_report(app, db, world, "xlsx", spreadsheets.XLSX_MIMETYPE)
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    with zipfile.ZipFile(io.BytesIO(response.data)) as book:
        names = book.namelist()
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        strings = book.read("xl/sharedStrings.xml").decode()
    assert "xl/worksheets/sheet2.xml" in names  # the meetings per month
    assert "<f>" not in sheet  # no formula anywhere
    assert "&apos;=Skolan+1" in strings or "'=Skolan+1" in strings
    assert "<v>6</v>" in sheet  # the total agreed, a number cell
    for child in data_set:
        assert child.pseudonym not in strings
    assert len(audit_events(db, "minutes:report:export")) == 1


@time_machine.travel(TODAY, tick=False)
def test_charts_count_in_whole_numbers_with_readable_months(
    app: Flask, db: Session, world: Council3, data_set: list[Child]
) -> None:
    html = (
        log_in(app.test_client(), world.members[SCHOOL])
        .get(f"/councils/{world.council.id}/reports")
        .get_data(as_text=True)
    )
    meetings_svg = html[html.index("<svg") : html.index("</svg>")]
    y_axis = meetings_svg[meetings_svg.index('class="axis y') : meetings_svg.index('class="axis x')]
    labels = re.findall(r"<text[^>]*>([^<]+)</text>", y_axis)
    assert labels and all(re.fullmatch(r"\d+", label) for label in labels), labels
    assert "mars 2026" in meetings_svg and "2026-03" not in meetings_svg
    assert '<th scope="row">mars 2026</th>' in html
    assert "Hållna möten per månad" in meetings_svg


def test_bad_period_is_refused_with_a_message(app: Flask, db: Session, world: Council3) -> None:
    client = log_in(app.test_client(), world.members[POLICE])
    response = client.get(f"/councils/{world.council.id}/reports?from=igår&to=2026-01-01")
    assert response.status_code == 422
    assert "Ange ett datum som ÅÅÅÅ-MM-DD." in response.get_data(as_text=True)
    reversed_period = client.get(
        f"/councils/{world.council.id}/reports?from=2026-02-01&to=2026-01-01"
    )
    assert reversed_period.status_code == 422
    assert client.get(f"/councils/{world.council.id}/reports.csv?to=x").status_code == 422


def test_reports_are_for_members_only(
    app: Flask, db: Session, world: Council3, outsider: User
) -> None:
    client = log_in(app.test_client(), outsider)
    assert client.get(f"/councils/{world.council.id}/reports").status_code == 403
    assert client.get(f"/councils/{world.council.id}/reports.csv").status_code == 403
    assert audit_events(db, "minutes:report:export") == []


def test_council_page_links_to_the_reports(app: Flask, db: Session, world: Council3) -> None:
    html = (
        log_in(app.test_client(), world.members[POLICE])
        .get(f"/councils/{world.council.id}")
        .get_data(as_text=True)
    )
    assert f"/councils/{world.council.id}/reports" in html


def test_chart_stylesheet_is_served(app: Flask, db: Session, world: Council3) -> None:
    response = log_in(app.test_client(), world.members[POLICE]).get("/static/minutes/charts.css")
    assert response.status_code == 200
    assert ".report-chart" in response.get_data(as_text=True)
    response.close()


def test_a_period_beyond_the_calendar_is_refused_not_a_server_error(
    app: Flask, db: Session, world: Council3
) -> None:
    """Dates at the ends of the calendar (``from=0001-01-01``, ``to=9999-12-31``) get the
    ordinary 400 page, on the page and the CSV alike, and no export is logged."""
    client = log_in(app.test_client(), world.members[POLICE])
    base = f"/councils/{world.council.id}"
    for query in ("from=0001-01-01", "to=9999-12-31", "from=0001-01-01&to=9999-12-31"):
        assert client.get(f"{base}/reports?{query}").status_code == 400
        assert client.get(f"{base}/reports.csv?{query}").status_code == 400
    assert audit_events(db, "minutes:report:export") == []
