"""Log review (loggkontroll): what an auditor sees, the filters, the CSV export, the monthly
report with its flags, and the sign-off. Events at chosen times are appended while the clock
is moved (``time_machine``), never by editing ``occurred_at``, which would break the chain."""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
import time_machine
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, delete, func, select, text
from sqlalchemy.orm import Session

from coordination.audit.log import (
    AuditEvent,
    AuditEventObject,
    AuditTag,
    record_event,
)
from coordination.audit.sequencer import chain_events
from coordination.audit.verify import verify_object_index
from coordination.db import LOCAL_ZONE
from coordination.errors import ServiceError
from coordination.logreview.events import LogFilter, event_page
from coordination.logreview.models import LogReview, ReviewOutcome
from coordination.logreview.monthly import is_unusual_volume, month_report, sign_off_month
from coordination.logreview.scopes import audit_scopes, tag_labels
from coordination.models import AgencyKind, Child, ChildStatus, Role, User
from secrecy.audit_scope import events_about_agency_records
from secrecy.models import Record
from tests.conftest import ROOT, Council3, csrf_token_from, log_in, migrate
from tests.factories import UserFactory

SOCIAL = AgencyKind.SOCIAL_SERVICES
POLICE = AgencyKind.POLICE
MIGRATION = "e7e811709b3c"


class Tag(enum.StrEnum):
    """Secrecy's tags as stored strings (coordination's review knows them only as strings)."""

    REVEAL = "secrecy:record:reveal"
    CORRECT = "secrecy:record:correct"
    DISCLOSE = "secrecy:disclosure:decide"
    REVOKE = "secrecy:disclosure:revoke"


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LOCAL_ZONE)


def at(when: dt.datetime) -> time_machine.travel:
    return time_machine.travel(when, tick=False)


def view(
    db: Session, user: User, child_ids: list[int], record_ids: Sequence[int] = ()
) -> AuditEvent:
    """A view event, chained at once (as if its request had committed): it has its seq."""
    event = record_event(
        db,
        user,
        Tag.REVEAL,
        object_type="record",
        object_ids=record_ids,
        details={"purpose": "view", "child_ids": child_ids, "withheld": 0},
    )
    chain_events(db)
    return event


def login_event(db: Session, user: User) -> AuditEvent:
    """A login event, chained at once."""
    event = record_event(db, user, AuditTag.AUTH_LOGIN_SUCCESS, on=user)
    chain_events(db)
    return event


def seqs(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td class="seq">(\d+)</td>', html)]


def make_child(db: Session, world: Council3, pseudonym: str, **fields: object) -> Child:
    child = Child(
        council_id=world.council.id,
        pseudonym=pseudonym,
        enrolled_on=dt.date(2025, 1, 1),
        enrolling_agency_id=world.agencies[SOCIAL].id,
        **fields,
    )
    db.add(child)
    db.flush()
    return child


def make_record(db: Session, child: Child, owner: User) -> Record:
    record = Record(
        child_id=child.id, owner_agency_id=owner.agency_id, category="family", author_id=owner.id
    )
    db.add(record)
    db.flush()
    return record


@pytest.fixture
def auditor(db: Session, world: Council3) -> User:
    world.members[SOCIAL].display_name = "Sara Socialsekreterare"
    world.members[POLICE].display_name = "Petra Polis"
    return UserFactory(
        agency=world.agencies[SOCIAL], roles={Role.AUDITOR}, display_name="Greta Granskare"
    )


@pytest.fixture
def police_auditor(db: Session, world: Council3) -> User:
    return UserFactory(agency=world.agencies[POLICE], roles={Role.AUDITOR})


@pytest.fixture
def auditor_client(app: Flask, auditor: User) -> FlaskClient:
    return log_in(app.test_client(), auditor)


@pytest.fixture
def clean_log(db: Session) -> None:
    """Tests that count every event start from an empty chain (inside the rolled-back test)."""
    from coordination.audit.log import GENESIS_HASH, AuditChainHead

    db.execute(delete(AuditEvent))
    head = db.get(AuditChainHead, 1)
    assert head is not None
    head.seq, head.hash = 0, GENESIS_HASH
    db.flush()


# --- What an auditor sees -----------------------------------------------------------------------


def test_auditor_sees_own_agency_users_events_not_another_agencys(
    db: Session, world: Council3, auditor: User, auditor_client: FlaskClient
) -> None:
    own = login_event(db, world.members[SOCIAL])
    other = login_event(db, world.members[POLICE])
    failed = record_event(
        db, None, AuditTag.AUTH_LOGIN_FAILURE, agency_id=world.agencies[SOCIAL].id
    )

    page = auditor_client.get("/logreview/")

    assert page.status_code == 200
    shown = seqs(page.text)
    assert own.seq in shown and failed.seq in shown
    assert other.seq not in shown
    assert "Sara Socialsekreterare" in page.text
    assert "Petra Polis" not in page.text  # not an event of ours, not a user of ours
    # The failed login is durable but not chained yet (the sequencer runs in the scheduler):
    # shown all the same, and said to be so; the chained login is not marked.
    assert page.text.count("ännu inte kedjad") == 1
    row = page.text.split(f'<td class="seq">{failed.seq}</td>', 1)[1].split("</tr>", 1)[0]
    assert "ännu inte kedjad" in row


def test_auditor_sees_views_and_disclosures_of_own_records_by_other_agencies(
    db: Session, world: Council3, auditor: User, police_auditor: User
) -> None:
    social, police = world.members[SOCIAL], world.members[POLICE]
    child = make_child(db, world, "TEST-2026-001")
    ours = make_record(db, child, social)
    theirs = make_record(db, child, police)
    viewed_ours = view(db, police, [child.id], [ours.id, theirs.id])
    viewed_theirs = view(db, police, [child.id], [theirs.id])
    disclosed_ours = record_event(db, police, Tag.DISCLOSE, on=ours)
    corrected_ours = record_event(db, police, Tag.CORRECT, on=ours)
    scopes = [events_about_agency_records]

    page = event_page(db, auditor, LogFilter(), scopes)
    shown = {e.seq for e in page.events}
    assert viewed_ours.seq in shown and disclosed_ours.seq in shown
    assert viewed_theirs.seq not in shown  # only police's own record
    assert corrected_ours.seq not in shown  # only views and disclosures widen the scope
    assert page.users[police.id].agency == world.agencies[POLICE].name

    # Without the secrecy scope the same auditor sees none of them.
    assert not {e.seq for e in event_page(db, auditor, LogFilter(), []).events} & {
        viewed_ours.seq,
        disclosed_ours.seq,
    }
    # The police auditor sees all four: they are its own users' events.
    police_page = event_page(db, police_auditor, LogFilter(), scopes)
    assert {viewed_ours.seq, viewed_theirs.seq, disclosed_ours.seq, corrected_ours.seq} <= {
        e.seq for e in police_page.events
    }


def test_the_app_registers_secrecys_scope_and_tag_labels(app: Flask) -> None:
    assert events_about_agency_records in audit_scopes(app)
    labels = tag_labels(app)
    assert str(labels["secrecy:record:reveal"]) == "Uppgifter visade"
    assert str(labels["auth:login:success"]) == "Inloggning"


def test_the_page_uses_the_registered_scope(
    db: Session, world: Council3, auditor_client: FlaskClient
) -> None:
    child = make_child(db, world, "TEST-2026-002")
    ours = make_record(db, child, world.members[SOCIAL])
    event = view(db, world.members[POLICE], [child.id], [ours.id])
    page = auditor_client.get("/logreview/")
    assert event.seq in seqs(page.text)
    assert "Petra Polis" in page.text
    assert "Uppgifter visade" in page.text


# --- Filters ------------------------------------------------------------------------------------


def test_filter_by_user(
    db: Session, world: Council3, auditor: User, auditor_client: FlaskClient
) -> None:
    first = login_event(db, world.members[SOCIAL])
    second = login_event(db, world.coordinator)
    page = auditor_client.get(f"/logreview/?user={world.coordinator.id}")
    assert seqs(page.text) == [second.seq]
    assert first.seq not in seqs(
        auditor_client.get(f"/logreview/?user={world.coordinator.id}").text
    )
    # The user choices are the agency's own users only.
    assert f'value="{world.members[POLICE].id}"' not in page.text
    uid = world.coordinator.id
    assert re.search(rf'<option (selected value="{uid}"|value="{uid}" selected)', page.text)


def test_filter_by_pseudonym_keeps_it_out_of_the_url(
    db: Session, world: Council3, auditor_client: FlaskClient
) -> None:
    social = world.members[SOCIAL]
    child = make_child(db, world, "TEST-2026-003")
    other = make_child(db, world, "TEST-2026-004")
    by_details = view(db, social, [child.id])
    by_object = record_event(db, social, AuditTag.ACCESS_DENIED, on=child)
    by_child_id = record_event(db, social, AuditTag.ACCESS_DENIED, details={"child_id": child.id})
    unrelated = view(db, social, [other.id])

    response = auditor_client.post("/logreview/", data={"pseudonym": "test-2026-003 "})

    assert response.status_code == 302
    location = response.headers["Location"]
    assert "TEST-2026" not in location.upper()
    assert f"child={child.id}" in location
    page = auditor_client.get(location)
    assert seqs(page.text) == [by_child_id.seq, by_object.seq, by_details.seq]
    assert unrelated.seq not in seqs(page.text)
    assert 'value="TEST-2026-003"' in page.text  # shown back in the form


def test_unknown_pseudonym_is_refused_with_a_message_and_no_list(
    db: Session, world: Council3, auditor_client: FlaskClient
) -> None:
    login_event(db, world.members[SOCIAL])
    response = auditor_client.post("/logreview/", data={"pseudonym": "NOPE-2026-999"})
    assert response.status_code == 422
    assert "Det finns inget barn med den pseudonymen." in response.text
    assert seqs(response.text) == []


def test_filter_by_tag(db: Session, world: Council3, auditor_client: FlaskClient) -> None:
    social = world.members[SOCIAL]
    login = login_event(db, social)
    logout = record_event(db, social, AuditTag.AUTH_LOGOUT)
    assert seqs(auditor_client.get("/logreview/?tag=auth:logout").text) == [logout.seq]
    assert seqs(auditor_client.get("/logreview/?tag=auth:login:success").text) == [login.seq]
    posted = auditor_client.post("/logreview/", data={"tag": "auth:logout"})
    assert posted.status_code == 302
    assert "tag=auth:logout" in posted.headers["Location"]


def test_filter_by_swedish_dates(db: Session, world: Council3, auditor_client: FlaskClient) -> None:
    social = world.members[SOCIAL]
    with at(local(2026, 2, 28, 23, 59)):
        before = login_event(db, social)
    with at(local(2026, 3, 1, 0, 30)):  # 23:30 UTC the day before: a March event in Sweden
        first = login_event(db, social)
    with at(local(2026, 3, 31, 23, 30)):
        last = login_event(db, social)
    with at(local(2026, 4, 1, 0, 0)):
        after = login_event(db, social)
    page = auditor_client.get("/logreview/?from=2026-03-01&to=2026-03-31")
    assert seqs(page.text) == [last.seq, first.seq]
    assert seqs(auditor_client.get("/logreview/?from=2026-04-01").text) == [after.seq]
    assert before.seq in seqs(auditor_client.get("/logreview/?to=2026-02-28").text)
    assert first.seq not in seqs(auditor_client.get("/logreview/?to=2026-02-28").text)
    posted = auditor_client.post(
        "/logreview/", data={"date_from": "2026-03-01", "date_to": "2026-03-31"}
    )
    assert "from=2026-03-01" in posted.headers["Location"]
    assert "to=2026-03-31" in posted.headers["Location"]


def test_malformed_filters_are_a_bad_request(auditor_client: FlaskClient) -> None:
    assert auditor_client.get("/logreview/?from=yesterday").status_code == 400
    assert auditor_client.get("/logreview/?user=x").status_code == 400


def test_pages_of_fifty_newest_first(
    db: Session, world: Council3, auditor_client: FlaskClient
) -> None:
    events = [login_event(db, world.members[SOCIAL]) for _ in range(55)]
    newest = [e.seq for e in reversed(events)]
    first = auditor_client.get(f"/logreview/?user={world.members[SOCIAL].id}")
    assert seqs(first.text) == newest[:50]
    older = re.search(r'href="([^"]*before=\d+[^"]*)"', first.text)
    assert older is not None
    assert "after=" not in first.text
    second = auditor_client.get(older.group(1).replace("&amp;", "&"))
    assert seqs(second.text) == newest[50:]
    newer = re.search(r'href="([^"]*after=\d+[^"]*)"', second.text)
    assert newer is not None
    assert "before=" not in second.text
    assert seqs(auditor_client.get(newer.group(1).replace("&amp;", "&")).text) == newest[:50]


def test_the_list_loads_users_in_one_query(db: Session, world: Council3, auditor: User) -> None:
    from sqlalchemy import event as sa_event

    for kind in AgencyKind:
        login_event(db, world.members[kind])
    login_event(db, world.coordinator)
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    engine = db.get_bind()
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        page = event_page(db, auditor, LogFilter(), [events_about_agency_records])
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert len(page.users) == 2  # the social services member and the coordinator
    assert len([s for s in statements if "FROM users" in s]) == 1
    assert len(statements) <= 4  # the page, newer?, older?, the users


# --- CSV export ---------------------------------------------------------------------------------


def test_csv_export_holds_the_filtered_rows_and_is_logged(
    db: Session, world: Council3, auditor: User, auditor_client: FlaskClient
) -> None:
    social = world.members[SOCIAL]
    login = login_event(db, social)
    logout = record_event(db, social, AuditTag.AUTH_LOGOUT)
    login_event(db, world.members[POLICE])

    response = auditor_client.get(f"/logreview/export.csv?user={social.id}")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # UTF-8 with a BOM and ";" for Swedish Excel
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header[0] == "Löpnummer"
    assert [int(r[0]) for r in body] == [logout.seq, login.seq]
    assert body[1][3] == "Sara Socialsekreterare"
    assert body[1][5] == "auth:login:success"
    assert body[1][6] == "Inloggning"
    assert body[1][8] == str(social.id)
    exported = db.scalars(select(AuditEvent).where(AuditEvent.tag == AuditTag.AUDIT_EXPORT)).one()
    assert exported.actor_user_id == auditor.id
    assert exported.details["user_id"] == social.id
    assert exported.details["rows"] == 2


def test_csv_cells_never_start_a_formula(
    db: Session, world: Council3, auditor_client: FlaskClient
) -> None:
    social = world.members[SOCIAL]
    social.display_name = "=HYPERLINK(1)"
    login_event(db, social)
    body = auditor_client.get(f"/logreview/export.csv?user={social.id}").get_data(as_text=True)
    assert "'=HYPERLINK(1)" in body
    assert ";=HYPERLINK" not in body


# --- Access -------------------------------------------------------------------------------------

URLS = ["/logreview/", "/logreview/export.csv", "/logreview/months", "/logreview/months/2026-01"]


@pytest.mark.parametrize("url", URLS)
def test_only_auditors_get_in(
    app: Flask, db: Session, world: Council3, admin: User, auditor: User, url: str
) -> None:
    for user in (world.members[SOCIAL], world.coordinator, admin):
        response = log_in(app.test_client(), user).get(url)
        assert response.status_code == 403, (user, url)
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login")
    assert log_in(app.test_client(), auditor).get(url).status_code == 200


def test_non_auditors_cannot_sign_or_export_quietly(
    app: Flask, db: Session, world: Council3, admin: User
) -> None:
    for user in (world.members[SOCIAL], admin):
        client = log_in(app.test_client(), user)
        assert client.post("/logreview/months/2026-01/sign", data={}).status_code == 403
        assert (
            client.post("/logreview/months/2026-01/sign", data={"confirm": "yes"}).status_code
            == 403
        )
        denied = db.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.tag == "access:denied")
        )
        confirmation = client.get("/logreview/months/2026-01/sign")
        assert confirmation.status_code == 403 and "Signera loggkontrollen" not in confirmation.text
        assert (
            db.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.tag == "access:denied")
            )
            == (denied or 0) + 1
        )
        assert client.post("/logreview/", data={"tag": "auth:logout"}).status_code == 403
    assert db.scalar(select(func.count()).select_from(LogReview)) == 0
    assert not db.scalars(select(AuditEvent).where(AuditEvent.tag == AuditTag.AUDIT_EXPORT)).all()


def test_services_refuse_a_non_auditor_too(db: Session, world: Council3) -> None:
    from coordination.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        event_page(db, world.members[SOCIAL], LogFilter(), [])
    with pytest.raises(PermissionDenied):
        sign_off_month(db, world.coordinator, dt.date(2026, 1, 1), None, dt.date(2026, 5, 1))


def test_the_menu_shows_loggkontroll_to_auditors_only(
    app: Flask, world: Council3, auditor: User, admin: User
) -> None:
    assert 'href="/logreview/"' in log_in(app.test_client(), auditor).get("/").text
    for user in (world.members[SOCIAL], admin):
        assert 'href="/logreview/"' not in log_in(app.test_client(), user).get("/").text


# --- The monthly report -------------------------------------------------------------------------


def test_monthly_report_counts_views_children_and_disclosures(
    db: Session, world: Council3, auditor: User
) -> None:
    social, coordinator, police = world.members[SOCIAL], world.coordinator, world.members[POLICE]
    with at(local(2026, 3, 2, 10)):
        view(db, social, [101, 102])
        view(db, social, [102, 103])
        record_event(db, social, Tag.DISCLOSE, object_type="record", object_ids=[1])
        record_event(db, social, Tag.REVOKE, object_type="record", object_ids=[1])  # not counted
        view(db, coordinator, [101])
        view(db, police, [101, 102, 103, 104])  # another agency's user
    with at(local(2026, 4, 1, 10)):
        view(db, social, [105])  # next month
    with at(local(2026, 2, 27, 10)):
        view(db, social, [106])  # previous month

    report = month_report(db, auditor, dt.date(2026, 3, 1), dt.date(2026, 4, 15))

    rows = {u.user_id: u for u in report.users}
    assert set(rows) == {social.id, coordinator.id}
    assert (rows[social.id].views, rows[social.id].distinct_children) == (2, 3)
    assert rows[social.id].disclosures == 1
    assert rows[social.id].name == "Sara Socialsekreterare"
    assert (rows[coordinator.id].views, rows[coordinator.id].disclosures) == (1, 0)
    assert rows[social.id].history_average == pytest.approx(1 / 3)
    assert report.signable is True
    assert report.review is None


def test_flag_unusual_number_of_children_against_history(
    db: Session, world: Council3, auditor: User
) -> None:
    steady = world.members[SOCIAL]
    surging = world.coordinator
    newcomer = UserFactory(agency=world.agencies[SOCIAL])
    busy_newcomer = UserFactory(agency=world.agencies[SOCIAL])
    for month in (12, 1, 2):
        year = 2025 if month == 12 else 2026
        with at(local(year, month, 10, 10)):
            view(db, steady, [1, 2, 3, 4])  # average 4
            view(db, surging, [1, 2])  # average 2
    with at(local(2026, 3, 10, 10)):
        view(db, steady, list(range(100, 112)))  # 12: not more than 3 x 4
        view(db, surging, list(range(100, 110)))  # 10: at least 10 and more than 3 x 2
        view(db, newcomer, list(range(100, 125)))  # 25 without history: not more than 25
        view(db, busy_newcomer, list(range(100, 126)))  # 26 without history

    report = month_report(db, auditor, dt.date(2026, 3, 1), dt.date(2026, 4, 2))

    flags = {u.user_id: u.unusual_volume for u in report.users}
    assert flags == {steady.id: False, surging.id: True, newcomer.id: False, busy_newcomer.id: True}
    assert {u.user_id: u.history_average for u in report.users}[newcomer.id] is None


@pytest.mark.parametrize(
    ("children", "average", "flagged"),
    [(9, 1.0, False), (10, 1.0, True), (10, 10 / 3, False), (11, 10 / 3, True), (26, None, True)],
)
def test_unusual_volume_thresholds(children: int, average: float | None, flagged: bool) -> None:
    assert is_unusual_volume(children, average) is flagged


def test_flag_views_outside_office_hours(db: Session, world: Council3, auditor: User) -> None:
    social = world.members[SOCIAL]
    times = [
        local(2026, 3, 3, 6, 59),  # Tuesday, early
        local(2026, 3, 3, 7, 0),  # opening time
        local(2026, 3, 3, 19, 0),  # closing time
        local(2026, 3, 3, 19, 1),  # late
        local(2026, 3, 7, 12, 0),  # Saturday
        local(2026, 3, 8, 12, 0),  # Sunday
        local(2026, 3, 9, 12, 0),  # Monday noon
    ]
    for when in times:
        with at(when):
            view(db, social, [1])

    report = month_report(db, auditor, dt.date(2026, 3, 1), dt.date(2026, 4, 2))

    (row,) = report.users
    assert row.off_hours == [
        local(2026, 3, 3, 6, 59),
        local(2026, 3, 3, 19, 1),
        local(2026, 3, 7, 12, 0),
        local(2026, 3, 8, 12, 0),
    ]
    assert row.flagged


def test_flag_views_of_closed_cases(db: Session, world: Council3, auditor: User) -> None:
    social = world.members[SOCIAL]
    closed = make_child(
        db, world, "TEST-2026-010", status=ChildStatus.CLOSED, closed_on=dt.date(2026, 3, 10)
    )
    shredded = make_child(
        db, world, "TEST-2026-011", status=ChildStatus.SHREDDED, closed_on=dt.date(2026, 2, 1)
    )
    active = make_child(db, world, "TEST-2026-012")
    with at(local(2026, 3, 10, 15)):
        view(db, social, [closed.id, active.id])  # on the closing day: fine
    with at(local(2026, 3, 11, 9)):
        view(db, social, [closed.id, active.id])
    with at(local(2026, 3, 5, 9)):
        view(db, social, [shredded.id])

    report = month_report(db, auditor, dt.date(2026, 3, 1), dt.date(2026, 4, 2))

    (row,) = report.users
    assert [(v.pseudonym, v.at.date()) for v in row.closed_case_views] == [
        ("TEST-2026-011", dt.date(2026, 3, 5)),
        ("TEST-2026-010", dt.date(2026, 3, 11)),
    ]
    assert row.off_hours == [] and not row.unusual_volume
    assert row.flagged


def test_month_page_shows_the_flags(
    app: Flask, db: Session, world: Council3, auditor: User
) -> None:
    social = world.members[SOCIAL]
    with at(local(2026, 3, 7, 22, 15)):
        view(db, social, [1])
    with at(local(2026, 4, 15, 10)):
        client = log_in(app.test_client(), auditor)
        page = client.get("/logreview/months/2026-03")
        index = client.get("/logreview/months")
    assert page.status_code == 200
    assert "Sara Socialsekreterare" in page.text
    assert "Utanför kontorstid: 1" in page.text
    assert "lördag 2026-03-07: 1 visning, 22:15" in page.text
    assert 'action="/logreview/months/2026-03/sign"' in page.text
    assert index.status_code == 200
    assert "2026-03" in index.text and "Ej signerad" in index.text


# --- Sign-off -----------------------------------------------------------------------------------


def test_sign_off_once_with_an_event(app: Flask, db: Session, auditor: User) -> None:
    with at(local(2026, 4, 15, 10)):
        client = log_in(app.test_client(), auditor)
        asked = client.get("/logreview/months/2026-03/sign?outcome=inga_avvikelser")
        unsigned = db.scalar(select(func.count()).select_from(LogReview))
        signed = client.post(
            "/logreview/months/2026-03/sign", data={"outcome": "inga_avvikelser", "confirm": "yes"}
        )
        again = client.post("/logreview/months/2026-03/sign", data={"outcome": ""})
        index = client.get("/logreview/months")
    # The confirmation page says what signing means and writes nothing.
    assert asked.status_code == 200 and unsigned == 0
    assert "kan inte ändras eller tas bort" in asked.text
    assert 'name="outcome" value="inga_avvikelser"' in asked.text
    assert signed.status_code == 302
    assert signed.headers["Location"] == "/logreview/months/2026-03"
    review = db.scalars(select(LogReview)).one()
    assert (review.agency_id, review.month, review.signed_by_id) == (
        auditor.agency_id,
        dt.date(2026, 3, 1),
        auditor.id,
    )
    assert review.outcome is ReviewOutcome.NO_DEVIATIONS
    event = db.scalars(select(AuditEvent).where(AuditEvent.tag == AuditTag.AUDIT_REVIEW_SIGN)).one()
    assert event.details == {"month": "2026-03", "outcome": "inga_avvikelser"}
    assert event.object_ids == [review.id]
    assert again.status_code == 422
    assert "Månaden är redan signerad." in again.text
    assert "av Greta Granskare." in again.text
    assert "Kommentar: Inga avvikelser." in again.text
    assert db.scalar(select(func.count()).select_from(LogReview)) == 1
    assert "Ej signerad" in index.text  # the older months still are
    assert "<td>Greta Granskare</td>" in index.text


def test_the_current_and_future_months_cannot_be_signed(
    app: Flask, db: Session, auditor: User
) -> None:
    with at(local(2026, 4, 30, 23, 0)):
        client = log_in(app.test_client(), auditor)
        current = client.post("/logreview/months/2026-04/sign", data={})
        future = client.post("/logreview/months/2026-05/sign", data={})
        page = client.get("/logreview/months/2026-04")
    assert current.status_code == 422
    assert "Månaden är inte avslutad och kan inte signeras än." in current.text
    assert future.status_code == 404
    assert "/sign" not in page.text
    assert db.scalar(select(func.count()).select_from(LogReview)) == 0
    with pytest.raises(ServiceError):
        sign_off_month(db, auditor, dt.date(2026, 4, 1), None, dt.date(2026, 4, 30))


def test_sign_off_takes_only_the_listed_codes(app: Flask, db: Session, auditor: User) -> None:
    with at(local(2026, 4, 15, 10)):
        client = log_in(app.test_client(), auditor)
        response = client.post("/logreview/months/2026-03/sign", data={"outcome": "fritext"})
    assert response.status_code == 422
    assert db.scalar(select(func.count()).select_from(LogReview)) == 0


def test_another_agencys_sign_off_is_its_own(
    db: Session, auditor: User, police_auditor: User
) -> None:
    sign_off_month(db, police_auditor, dt.date(2026, 3, 1), None, dt.date(2026, 4, 1))
    report = month_report(db, auditor, dt.date(2026, 3, 1), dt.date(2026, 4, 1))
    assert report.review is None
    sign_off_month(db, auditor, dt.date(2026, 3, 1), None, dt.date(2026, 4, 1))
    assert db.scalar(select(func.count()).select_from(LogReview)) == 2


@pytest.mark.csrf
def test_sign_off_needs_the_forms_csrf_token(app: Flask, db: Session, auditor: User) -> None:
    with at(local(2026, 4, 15, 10)):
        client = log_in(app.test_client(), auditor)
        refused = client.post("/logreview/months/2026-03/sign", data={"outcome": ""})
        token = csrf_token_from(client.get("/logreview/months/2026-03").text)
        accepted = client.post(
            "/logreview/months/2026-03/sign",
            data={"outcome": "", "csrf_token": token, "confirm": "yes"},
        )
    assert refused.status_code == 400
    assert accepted.status_code == 302
    review = db.scalars(select(LogReview)).one()
    assert review.outcome is None


# --- The object index ---------------------------------------------------------------------------


def test_record_event_indexes_objects_and_children(db: Session, world: Council3) -> None:
    social = world.members[SOCIAL]
    event = record_event(
        db,
        social,
        Tag.REVEAL,
        object_type="record",
        object_ids=[7, 5],
        details={"child_ids": [3, 4], "child_id": 4, "withheld": 1},
    )
    untyped = record_event(db, social, AuditTag.ADMIN_AGENCY_UPDATE, object_ids=[9])
    chain_events(db)
    rows = db.execute(
        select(AuditEventObject.object_type, AuditEventObject.object_id).where(
            AuditEventObject.seq == event.seq
        )
    ).all()
    assert sorted(rows) == [("child", 3), ("child", 4), ("record", 5), ("record", 7)]
    assert not db.scalars(select(AuditEventObject).where(AuditEventObject.seq == untyped.seq)).all()
    assert verify_object_index(db).ok


def test_a_removed_index_row_is_found(db: Session, world: Council3, app: Flask) -> None:
    social = world.members[SOCIAL]
    login_event(db, social)
    hidden = view(db, social, [3], [5])
    db.execute(
        delete(AuditEventObject).where(
            AuditEventObject.seq == hidden.seq, AuditEventObject.object_type == "record"
        )
    )
    result = verify_object_index(db)
    assert result.first_broken_seq == hidden.chain_position  # results name chain positions
    cli = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert cli.exit_code == 1
    assert f"Objektindexet stämmer inte vid händelse {hidden.chain_position}" in cli.output


def test_the_migration_backfills_the_index_of_earlier_events(tmp_path: Path) -> None:
    """On its own SQLite file: migrate to just before this revision, write events as the old
    code did, migrate, and find them indexed."""
    script = ScriptDirectory.from_config(AlembicConfig(str(ROOT / "alembic.ini")))
    previous = script.get_revision(MIGRATION).down_revision
    assert isinstance(previous, str)
    engine = create_engine(f"sqlite:///{tmp_path / 'migrate.sqlite'}")
    try:
        migrate(engine, previous)
        with engine.begin() as connection:
            for seq, object_type, object_ids, details in [
                (1, "record", "[5, 7]", '{"child_ids": [3], "purpose": "view"}'),
                (2, None, "[1]", '{"child_id": 9}'),
                (3, "user", "[]", "{}"),
            ]:
                connection.execute(
                    text(
                        "INSERT INTO audit_events (seq, occurred_at, tag, object_type, "
                        "object_ids, details, prev_hash, hash) VALUES (:seq, "
                        "'2026-01-01 00:00:00.000000', 'x:y:z', :type, :ids, :details, "
                        "'p', :hash)"
                    ),
                    {
                        "seq": seq,
                        "type": object_type,
                        "ids": object_ids,
                        "details": details,
                        "hash": f"h{seq}",
                    },
                )
        migrate(engine)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT seq, object_type, object_id FROM audit_event_objects ORDER BY 1, 2, 3")
            ).all()
        assert [tuple(r) for r in rows] == [
            (1, "child", 3),
            (1, "record", 5),
            (1, "record", 7),
            (2, "child", 9),
        ]
    finally:
        engine.dispose()


def test_month_pages_link_back_only_within_the_index(app: Flask, auditor: User) -> None:
    with at(local(2026, 4, 15, 10)):
        client = log_in(app.test_client(), auditor)
        recent = client.get("/logreview/months/2026-03").text
        oldest = client.get("/logreview/months/2025-04").text
        older = client.get("/logreview/months/2024-01")
    assert 'href="/logreview/months/2026-02"' in recent
    assert "Föregående månad" not in oldest
    assert older.status_code == 200  # still reachable by its address


# --- Refusals and bounded input (issue 14) -------------------------------------------------------


def denied_events(db: Session) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.tag == AuditTag.ACCESS_DENIED)))


@pytest.mark.parametrize(
    ("url", "endpoint"),
    list(zip(URLS, ["events", "export", "months", "month_page"], strict=True)),
)
def test_each_refusal_of_a_non_auditor_is_logged_once(
    app: Flask, db: Session, world: Council3, url: str, endpoint: str
) -> None:
    """Issue 14: the refusal used to leave no ``access:denied`` event."""
    member = world.members[SOCIAL]
    assert log_in(app.test_client(), member).get(url).status_code == 403
    [event] = denied_events(db)
    assert event.actor_user_id == member.id
    assert event.details == {"endpoint": f"logreview.{endpoint}"}


@pytest.mark.parametrize(
    "query",
    [
        "user=99999999999999999999",
        "child=99999999999999999999",
        "user=0",
        "from=0001-01-01",
        "to=9999-12-31",
    ],
)
def test_filters_beyond_range_are_a_bad_request_for_page_and_export(
    db: Session, auditor_client: FlaskClient, query: str
) -> None:
    before = db.scalar(select(func.count()).select_from(AuditEvent))
    for path in ("/logreview/", "/logreview/export.csv"):
        response = auditor_client.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert "<html" in response.text and 'lang="sv"' in response.text
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == before, "no export logged"


@pytest.mark.parametrize(
    "query", ["before=99999999999999999999", "after=99999999999999999999", "before=-1"]
)
def test_page_keys_beyond_range_are_a_bad_request(auditor_client: FlaskClient, query: str) -> None:
    response = auditor_client.get(f"/logreview/?{query}")
    assert response.status_code == 400
    assert 'lang="sv"' in response.text


def test_posted_dates_beyond_range_are_refused_on_the_field(auditor_client: FlaskClient) -> None:
    response = auditor_client.post("/logreview/", data={"date_from": "0001-01-01"})
    assert response.status_code == 422
    assert "Ange ett datum mellan 1900 och 2199." in response.text


@pytest.mark.parametrize("month", ["0001-01", "1899-12"])
def test_months_beyond_the_calendar_are_a_bad_request(
    db: Session, auditor_client: FlaskClient, month: str
) -> None:
    assert auditor_client.get(f"/logreview/months/{month}").status_code == 400
    assert auditor_client.post(f"/logreview/months/{month}/sign", data={}).status_code == 400
    assert auditor_client.get("/logreview/months/0000-01").status_code == 404  # not a month
    assert db.scalar(select(func.count()).select_from(LogReview)) == 0
