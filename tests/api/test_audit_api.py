"""GET /api/v1/audit/events and /audit/verify: the log review's scope and filters through the
API, every page read logged as an export, and the chain check reporting a hand edit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent, AuditEventObject, AuditTag, record_event
from coordination.models import AgencyKind, Child, Role, User
from tests.api.conftest import Api, field_errors, problem
from tests.conftest import Council3
from tests.coordination.test_logreview import (
    at,
    local,
    login_event,
    make_child,
    make_record,
    view,
)
from tests.factories import CouncilFactory, UserFactory

SOCIAL = AgencyKind.SOCIAL_SERVICES
POLICE = AgencyKind.POLICE
EVENTS = "/api/v1/audit/events"
VERIFY = "/api/v1/audit/verify"


@pytest.fixture
def auditor(db: Session, world: Council3) -> User:
    world.members[SOCIAL].display_name = "Sara Socialsekreterare"
    return UserFactory(
        agency=world.agencies[SOCIAL], roles={Role.AUDITOR}, display_name="Greta Granskare"
    )


@pytest.fixture
def auditor_api(api_as: Callable[..., Api], auditor: User) -> Api:
    return api_as(auditor)


def seqs(body: dict[str, Any]) -> list[int]:
    return [item["seq"] for item in body["items"]]


def exports(db: Session) -> list[AuditEvent]:
    return list(
        db.scalars(
            select(AuditEvent)
            .where(AuditEvent.tag == str(AuditTag.AUDIT_EXPORT))
            .order_by(AuditEvent.seq)
        )
    )


# --- Who may read -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [EVENTS, VERIFY])
def test_no_token_is_401(anonymous_api: Api, path: str) -> None:
    problem(anonymous_api.get(path), 401)


@pytest.mark.parametrize("path", [EVENTS, VERIFY])
def test_non_auditors_get_a_logged_403_and_nothing_is_exported(
    api_for: Callable[..., Api],
    api_as: Callable[..., Api],
    db: Session,
    world: Council3,
    admin: User,
    path: str,
) -> None:
    login_event(db, world.members[SOCIAL])
    for api, user in (
        (api_for(SOCIAL), world.members[SOCIAL]),
        (api_as(world.coordinator), world.coordinator),
        (api_as(admin), admin),
    ):
        problem(api.get(path), 403)
        denied = db.scalars(
            select(AuditEvent).where(
                AuditEvent.tag == str(AuditTag.ACCESS_DENIED), AuditEvent.actor_user_id == user.id
            )
        ).one()
        # Logged as the log review pages log theirs: the endpoint that was refused.
        assert denied.object_type is None
        assert denied.details["endpoint"].startswith("api_audit.")
    assert exports(db) == []


# --- What an auditor reads ----------------------------------------------------------------------


def test_auditor_reads_own_agency_events_and_views_of_own_records(
    auditor_api: Api, db: Session, world: Council3, auditor: User
) -> None:
    social, police = world.members[SOCIAL], world.members[POLICE]
    own = login_event(db, social)
    other = login_event(db, police)
    child = make_child(db, world, "TEST-2026-101")
    ours = make_record(db, child, social)
    viewed = view(db, police, [child.id], [ours.id])

    response = auditor_api.get(EVENTS)

    body = response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    shown = {item["seq"]: item for item in body["items"]}
    assert own.seq in shown and viewed.seq in shown
    assert other.seq not in shown
    assert seqs(body) == sorted(shown, reverse=True)  # newest first
    assert shown[own.seq] == {
        "seq": own.seq,
        "chain_position": own.chain_position,
        "occurred_at": shown[own.seq]["occurred_at"],
        "actor_user_id": social.id,
        "actor_display_name": "Sara Socialsekreterare",
        "actor_agency_id": world.agencies[SOCIAL].id,
        "tag": "auth:login:success",
        "tag_label": "Inloggning",
        "object_type": "user",
        "object_ids": [social.id],
        "details": {},
    }
    assert dt.datetime.fromisoformat(shown[own.seq]["occurred_at"]) == own.occurred_at
    police_view = shown[viewed.seq]
    assert police_view["actor_agency_id"] == world.agencies[POLICE].id
    assert police_view["details"] == {"purpose": "view", "child_ids": [child.id], "withheld": 0}
    assert "TEST-2026-101" not in response.get_data(as_text=True)  # ids only, never pseudonyms


def test_every_page_read_is_logged_as_an_export_after_the_query(
    auditor_api: Api, db: Session, world: Council3, auditor: User
) -> None:
    social = world.members[SOCIAL]
    login_event(db, social)
    first = auditor_api.get(f"{EVENTS}?user_id={social.id}&tag=auth:login:success").get_json()
    [logged] = exports(db)
    assert logged.actor_user_id == auditor.id
    assert (logged.object_type, logged.object_ids) == ("agency", [auditor.agency_id])
    assert logged.details == {
        "user_id": social.id,
        "child_id": None,
        "tag": "auth:login:success",
        "date_from": None,
        "date_to": None,
        "rows": 1,
        "before_seq": None,
    }
    assert logged.seq not in seqs(first)
    # The next read sees the first one's export among the auditor's own events.
    again = auditor_api.get(f"{EVENTS}?tag=audit:log:export").get_json()
    assert seqs(again) == [logged.seq]
    assert again["items"][0]["tag_label"] == "Logg exporterad"
    assert len(exports(db)) == 2


def test_filter_by_user_tag_and_swedish_dates(
    auditor_api: Api, db: Session, world: Council3
) -> None:
    social = world.members[SOCIAL]
    with at(local(2026, 2, 28, 23, 59)):
        before = login_event(db, social)
    with at(local(2026, 3, 1, 0, 30)):  # 23:30 UTC the day before: a March event in Sweden
        first = login_event(db, social)
        logout = record_event(db, social, AuditTag.AUTH_LOGOUT)
        coordinator = login_event(db, world.coordinator)
    with at(local(2026, 3, 31, 23, 30)):
        last = login_event(db, social)

    def listed(query: str) -> list[int]:
        return seqs(auditor_api.get(f"{EVENTS}?{query}").get_json())

    march = "date_from=2026-03-01&date_to=2026-03-31"
    assert listed(f"{march}&user_id={social.id}&tag=auth:login:success") == [last.seq, first.seq]
    assert listed(f"{march}&tag=auth:logout") == [logout.seq]
    assert listed(f"{march}&user_id={world.coordinator.id}") == [coordinator.seq]
    assert before.seq in listed("date_to=2026-02-28")
    assert first.seq not in listed("date_to=2026-02-28")
    assert listed(f"user_id={social.id}&date_from=2026-03-31&date_to=2026-03-31") == [last.seq]


def test_filter_by_child_id(auditor_api: Api, db: Session, world: Council3) -> None:
    social = world.members[SOCIAL]
    child = make_child(db, world, "TEST-2026-102")
    other = make_child(db, world, "TEST-2026-103")
    by_details = view(db, social, [child.id])
    by_object = record_event(db, social, AuditTag.ACCESS_DENIED, on=child)
    view(db, social, [other.id])

    body = auditor_api.get(f"{EVENTS}?child_id={child.id}").get_json()

    assert seqs(body) == [by_object.seq, by_details.seq]


def test_a_child_outside_the_agencys_councils_is_refused_like_an_unknown_one(
    auditor_api: Api, db: Session, world: Council3
) -> None:
    police = world.members[POLICE]
    elsewhere = CouncilFactory(agencies=[world.agencies[POLICE]], code="ANNAN")
    hidden = Child(
        council_id=elsewhere.id,
        pseudonym="ANNAN-2026-001",
        enrolled_on=dt.date(2025, 1, 1),
        enrolling_agency_id=world.agencies[POLICE].id,
    )
    db.add(hidden)
    db.flush()
    view(db, police, [hidden.id])

    refused = field_errors(auditor_api.get(f"{EVENTS}?child_id={hidden.id}"))
    unknown = field_errors(auditor_api.get(f"{EVENTS}?child_id=999999"))

    assert refused == unknown
    assert set(refused) == {"child_id"}
    assert exports(db) == []  # no list, nothing logged as read


def test_keyset_pages_do_not_shift_when_events_arrive(
    auditor_api: Api, db: Session, world: Council3
) -> None:
    social = world.members[SOCIAL]
    events = [login_event(db, social) for _ in range(5)]
    newest = [e.seq for e in reversed(events)]
    query = f"{EVENTS}?user_id={social.id}&limit=2"

    first = auditor_api.get(query).get_json()
    login_event(db, social)  # a newer event between two pages
    second = auditor_api.get(f"{query}&cursor={first['next_cursor']}").get_json()
    third = auditor_api.get(f"{query}&cursor={second['next_cursor']}").get_json()

    assert [seqs(first), seqs(second), seqs(third)] == [newest[:2], newest[2:4], newest[4:]]
    assert third["next_cursor"] is None
    assert [e.details["before_seq"] for e in exports(db)] == [None, newest[1], newest[3]]


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("date_from=2026-03-02&date_to=2026-03-01", {"date_to"}),
        ("date_from=yesterday", {"date_from"}),
        ("tag=DROP%20TABLE", {"tag"}),
        ("user_id=0&child_id=x", {"user_id", "child_id"}),
        ("limit=0", {"limit"}),
        ("cursor=not-a-cursor", {"cursor"}),
        ("pseudonym=TEST-2026-001", {"pseudonym"}),  # never taken in a URL
    ],
)
def test_bad_filters_are_422_and_nothing_is_logged(
    auditor_api: Api, db: Session, world: Council3, query: str, fields: set[str]
) -> None:
    login_event(db, world.members[SOCIAL])
    assert set(field_errors(auditor_api.get(f"{EVENTS}?{query}"))) == fields
    assert exports(db) == []


def test_dates_out_of_order_say_so_in_swedish(auditor_api: Api) -> None:
    errors = field_errors(auditor_api.get(f"{EVENTS}?date_from=2026-03-02&date_to=2026-03-01"))
    assert errors["date_to"] == "Slutdagen är före startdagen."


# --- The chain check ----------------------------------------------------------------------------


def test_verify_reports_an_intact_chain(auditor_api: Api, db: Session, world: Council3) -> None:
    head = login_event(db, world.members[SOCIAL])
    record_event(db, world.members[SOCIAL], AuditTag.AUTH_LOGOUT)  # durable, not yet chained

    body = auditor_api.get(VERIFY).get_json()

    assert body["ok"] is True
    assert body["checked"] == head.chain_position
    # Not yet chained is no fault, and well within the alarm's limit.
    assert body["unchained"] == 1 and body["unchained_alarm"] is False
    assert 0 <= body["oldest_unchained_age_seconds"] < 60
    assert body["first_broken_seq"] is None and body["problem"] is None
    assert body["object_index_ok"] is True
    assert body["first_bad_checkpoint_id"] is None


def test_verify_names_a_hand_edited_event(auditor_api: Api, db: Session, world: Council3) -> None:
    social = world.members[SOCIAL]
    login_event(db, social)
    edited = login_event(db, social)
    login_event(db, social)
    position = edited.chain_position
    assert position is not None
    db.execute(
        update(AuditEvent).where(AuditEvent.chain_position == position).values(tag="auth:logout")
    )
    db.expire_all()

    body = auditor_api.get(VERIFY).get_json()

    assert body["ok"] is False
    assert body["first_broken_seq"] == position
    assert body["checked"] == position - 1
    assert body["problem"] == "content does not match its hash"


def test_verify_finds_a_removed_index_row(auditor_api: Api, db: Session, world: Council3) -> None:
    child = make_child(db, world, "TEST-2026-104")
    hidden = view(db, world.members[POLICE], [child.id])
    db.execute(delete(AuditEventObject).where(AuditEventObject.seq == hidden.seq))

    body = auditor_api.get(VERIFY).get_json()

    assert body["ok"] is False and body["object_index_ok"] is False
    assert body["first_broken_seq"] == hidden.chain_position
    assert body["problem"] == "object index does not match the event"


@pytest.mark.parametrize(
    "query", ["date_from=0001-01-01", "date_to=9999-12-31", "date_from=1899-12-31"]
)
def test_dates_beyond_the_calendar_are_refused_and_nothing_is_logged(
    auditor_api: Api, db: Session, query: str
) -> None:
    errors = field_errors(auditor_api.get(f"/api/v1/audit/events?{query}"))
    assert set(errors) == {query.split("=")[0]}
    assert exports(db) == []
