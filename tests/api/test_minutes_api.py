"""The minutes API: a meeting's minutes as the workspace shows them, the action lists, one action
with its follow-up, and the status update; a police officer follows up agreed actions through the
API alone, and every record is revealed or withheld exactly as on the pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordination.api.core import decode_offset, encode_offset
from coordination.audit.log import AuditEvent
from coordination.models import AgencyKind
from coordination.tokens.services import Scope
from meetings.agenda.attendance import add_guest
from meetings.agenda.items import add_agenda_item
from minutes.actions.services import create_action
from minutes.models import (
    ActionStatus,
    ActionUpdate,
    AgreedAction,
    AmendmentReason,
    EntryKind,
    MinutesEntry,
)
from minutes.workspace import services as workspace
from minutes.workspace import sharing
from secrecy.models import Disclosure, Record
from tests.api.conftest import Api, field_errors, problem, stranger
from tests.api.test_meetings_api import WITHHELD, count, reveal_events
from tests.conftest import Council3, log_in, sql_statements
from tests.factories import ASSESSED, UserFactory, enrol
from tests.minutes.test_actions import make_action, make_meeting
from tests.minutes.test_approval import lock
from tests.minutes.test_workspace import NOW, SOL_POLICE, TO_POLICE, TODAY, Setting, make_setting

SOCIAL, POLICE, SCHOOL = AgencyKind.SOCIAL_SERVICES, AgencyKind.POLICE, AgencyKind.SCHOOL
API_WHY = "Det är uppenbart att socialtjänstens behov av kommentaren väger tyngst nu."
MARKERS = (
    "Brief-Hemlig-1",  # the coordinator's (social services') brief in make_setting
    "ENTRY-SOCIAL-MARK",
    "ENTRY-POLICE-MARK",
    "ACTION-POLICE-MARK",
    "ACTION-SCHOOL-MARK",
)


@dataclass
class Held:
    """The meeting after it was held: entries of social services (shared with the police) and
    of the police (kept), an action for the police and one the school wrote for itself."""

    setting: Setting
    social_entry: MinutesEntry
    police_entry: MinutesEntry
    police_action: AgreedAction
    school_action: AgreedAction


@pytest.fixture
def held(db: Session, world: Council3) -> Held:
    with time_machine.travel(NOW, tick=False):
        s = make_setting(db, world)
        to_police = [sharing.ShareChoice(s.police.agency_id, SOL_POLICE, TO_POLICE)]
        social_entry = workspace.add_entry(
            db, s.social, s.meeting, s.child, EntryKind.ENTRY, "meeting_note",
            "ENTRY-SOCIAL-MARK", to_police, ASSESSED,
        )  # fmt: skip
        police_entry = workspace.add_entry(
            db, s.police, s.meeting, s.child, EntryKind.ENTRY, "meeting_note", "ENTRY-POLICE-MARK"
        )
        police_action = create_action(
            db, s.social, s.meeting, s.child, "ACTION-POLICE-MARK", s.police.agency, s.police,
            TODAY + dt.timedelta(days=14), SOL_POLICE, TO_POLICE,
            assessment=ASSESSED,
        )  # fmt: skip
        school_action = create_action(
            db, s.school, s.meeting, s.child, "ACTION-SCHOOL-MARK", s.school.agency, s.school,
            TODAY + dt.timedelta(days=7), "", (),
            assessment=ASSESSED,
        )  # fmt: skip
        return Held(s, social_entry, police_entry, police_action, school_action)


def seen(text: str) -> set[str]:
    return {m for m in MARKERS if m in text}


# --- Minutes ------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_minutes_show_each_agency_what_it_may_see(
    api_for: Callable[..., Api], db: Session, held: Held
) -> None:
    url = f"/api/v1/meetings/{held.setting.meeting.id}/minutes"
    school = api_for(SCHOOL)
    before = len(reveal_events(db))
    response = school.get(url)
    assert seen(response.get_data(as_text=True)) == {"ACTION-SCHOOL-MARK"}
    events = reveal_events(db)
    assert len(events) == before + 1 and events[-1].details["purpose"] == "minutes"
    body = response.get_json()
    assert body["status"] == "draft" and body["locked"] is False and body["version"] >= 1
    assert body["chair"]["id"] == held.setting.meeting.chair_id
    (child,) = body["children"]
    assert child["child_id"] == held.setting.child.id and child["position"] == 1
    assert child["pseudonym"] == held.setting.child.pseudonym
    assert child["brief"]["withheld"] is True
    entries = child["entries"]
    assert [e["id"] for e in entries] == [held.social_entry.id, held.police_entry.id]
    assert all(e["record"]["withheld"] and e["record"]["reason"] == WITHHELD for e in entries)
    assert entries[1]["author_agency"]["id"] == held.setting.police.agency_id
    actions = {a["id"]: a for a in child["actions"]}
    police_action = actions[held.police_action.id]
    assert police_action["responsible_agency"]["id"] == held.setting.police.agency_id
    assert police_action["description"]["withheld"] is True  # metadata only
    assert police_action["allowed_statuses"] == []
    mine = actions[held.school_action.id]
    assert mine["description"]["content"] == {"text": "ACTION-SCHOOL-MARK"}
    assert mine["allowed_statuses"] == ["in_progress", "done", "not_done"]
    assert child["earlier_open_actions"] == []

    police = api_for(POLICE).get(url).get_data(as_text=True)
    assert seen(police) == {"ENTRY-SOCIAL-MARK", "ENTRY-POLICE-MARK", "ACTION-POLICE-MARK"}
    social = api_for(SOCIAL).get(url).get_data(as_text=True)
    assert seen(social) == {"Brief-Hemlig-1", "ENTRY-SOCIAL-MARK", "ACTION-POLICE-MARK"}


@time_machine.travel(NOW, tick=False)
def test_approved_minutes_are_locked_and_show_approvals_and_amendments(
    api_for: Callable[..., Api], db: Session, world: Council3, held: Held
) -> None:
    lock(db, world, held.setting)
    amendment = workspace.amend_entry(
        db, held.setting.social, held.social_entry, "AMEND-MARK", AmendmentReason.FACTUAL_ERROR
    )
    db.flush()
    body = api_for(SOCIAL).get(f"/api/v1/meetings/{held.setting.meeting.id}/minutes").get_json()
    assert body["status"] == "approved" and body["locked"] is True
    assert body["digest"] and body["approved_at"]
    assert body["adjuster"]["id"] == held.setting.police.id
    assert [(a["role"], a["user"]["id"]) for a in body["approvals"]] == [
        ("chair", world.coordinator.id),
        ("adjuster", held.setting.police.id),
    ]
    entry = body["children"][0]["entries"][0]
    assert [(a["id"], a["amendment_reason"]) for a in entry["amendments"]] == [
        (amendment.id, "factual_error")
    ]
    assert entry["amendments"][0]["record"]["content"] == {"text": "AMEND-MARK"}
    police = api_for(POLICE).get(f"/api/v1/meetings/{held.setting.meeting.id}/minutes")
    assert "AMEND-MARK" not in police.get_data(as_text=True)  # not shared with the police


@time_machine.travel(NOW, tick=False)
def test_minutes_access_like_the_workspace(
    api_for: Callable[..., Api],
    api_as: Callable[..., Api],
    anonymous_api: Api,
    db: Session,
    world: Council3,
    held: Held,
    stranger_api: Callable[[], Api],
) -> None:
    url = f"/api/v1/meetings/{held.setting.meeting.id}/minutes"
    problem(anonymous_api.get(url), 401)
    problem(stranger_api().get(url), 403)
    denied = db.scalars(select(AuditEvent).where(AuditEvent.tag == "access:denied")).all()
    assert [(e.object_type, e.object_ids) for e in denied] == [
        ("meeting", [held.setting.meeting.id])
    ]
    # An unknown meeting is refused like a forbidden one (issue 14: no 404 oracle).
    problem(api_for(POLICE).get("/api/v1/meetings/999999/minutes"), 403)
    # A guest of the meeting reads, but sees nothing of the children's council's records.
    guest = UserFactory(agency=world.agencies[SCHOOL], email="guest@example.com")
    db.flush()
    add_guest(db, world.coordinator, held.setting.meeting, guest)
    response = api_as(guest).get(url)
    assert response.status_code == 200 and seen(response.get_data(as_text=True)) == set()
    brief = response.get_json()["children"][0]["brief"]
    assert brief["reason"] == "Du är inte medlem i barnets forum."
    # A meeting nobody has written minutes for yet.
    empty = make_meeting(db, world.council, 3)
    body = api_for(POLICE).get(f"/api/v1/meetings/{empty.id}/minutes").get_json()
    assert (body["minutes_id"], body["status"], body["version"], body["children"]) == (
        None,
        "draft",
        None,
        [],
    )


@time_machine.travel(NOW, tick=False)
def test_open_actions_come_back_in_the_next_meetings_minutes(
    api_for: Callable[..., Api], db: Session, world: Council3, held: Held
) -> None:
    later = make_meeting(db, world.council, 28)
    add_agenda_item(
        db, world.coordinator, later, held.setting.child, "agreed_action", "Nästa", today=None
    )
    response = api_for(SCHOOL).get(f"/api/v1/meetings/{later.id}/minutes")
    assert seen(response.get_data(as_text=True)) == {"ACTION-SCHOOL-MARK"}
    (child,) = response.get_json()["children"]
    assert child["entries"] == [] and child["actions"] == []
    earlier = child["earlier_open_actions"]
    assert [a["id"] for a in earlier] == [held.school_action.id, held.police_action.id]
    assert earlier[1]["meeting_id"] == held.setting.meeting.id
    assert earlier[1]["due_date"] == (TODAY + dt.timedelta(days=14)).isoformat()
    assert earlier[1]["description"]["withheld"] is True


# --- Action lists -------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_action_lists_by_scope_reveal_or_withhold_descriptions(
    api_for: Callable[..., Api], db: Session, world: Council3, held: Held
) -> None:
    school = api_for(SCHOOL)
    before = len(reveal_events(db))
    mine = school.get("/api/v1/actions?scope=mine")
    assert [a["id"] for a in mine.get_json()["items"]] == [held.school_action.id]
    assert seen(mine.get_data(as_text=True)) == {"ACTION-SCHOOL-MARK"}
    council = school.get(f"/api/v1/actions?scope=council&council_id={world.council.id}")
    items = council.get_json()["items"]
    assert [a["id"] for a in items] == [held.school_action.id, held.police_action.id]  # by due
    assert seen(council.get_data(as_text=True)) == {"ACTION-SCHOOL-MARK"}
    assert items[1]["description"]["reason"] == WITHHELD
    assert items[1]["responsible_user"]["id"] == held.setting.police.id
    assert items[1]["pseudonym"] == held.setting.child.pseudonym
    assert items[1]["council_id"] == world.council.id and items[1]["overdue"] is False
    events = reveal_events(db)
    assert len(events) == before + 2  # one per request
    assert {e.details["purpose"] for e in events[-2:]} == {"action_list"}

    police = api_for(POLICE).get("/api/v1/actions?scope=agency&status=all&sort=status")
    assert [a["id"] for a in police.get_json()["items"]] == [held.police_action.id]
    assert seen(police.get_data(as_text=True)) == {"ACTION-POLICE-MARK"}
    assert api_for(SOCIAL).get("/api/v1/actions?scope=mine").get_json()["items"] == []


def test_action_list_refusals(
    api_for: Callable[..., Api],
    anonymous_api: Api,
    db: Session,
    world: Council3,
    stranger_api: Callable[[], Api],
) -> None:
    child = enrol(db, world.members[SOCIAL], world.council)
    make_action(db, world, child, make_meeting(db, world.council, -20))
    problem(anonymous_api.get("/api/v1/actions?scope=mine"), 401)
    api = api_for(POLICE)
    assert field_errors(api.get("/api/v1/actions?scope=council")) == {
        "council_id": "Ange forum när scope är council."
    }
    assert set(field_errors(api.get("/api/v1/actions"))) == {"scope"}
    assert set(field_errors(api.get("/api/v1/actions?scope=all&status=bogus&sort=x"))) == {
        "scope",
        "status",
        "sort",
    }
    assert set(field_errors(api.get("/api/v1/actions?scope=mine&due=overdue&status=done"))) == {
        "due"
    }
    assert set(field_errors(api.get("/api/v1/actions?scope=mine&limit=26"))) == {"limit"}
    outsider = stranger_api()
    forbidden = outsider.get(f"/api/v1/actions?scope=council&council_id={world.council.id}")
    unknown = outsider.get("/api/v1/actions?scope=council&council_id=999999")
    # An unknown council is answered like one the user is not a member of: ids cannot be probed.
    assert problem(forbidden, 403) == problem(unknown, 403)
    problem(outsider.get(f"/api/v1/actions?scope=mine&council_id={world.council.id}"), 403)
    assert outsider.get("/api/v1/actions?scope=agency").get_json()["items"] == []


def test_action_list_pages_follow_the_pages_order(
    api_for: Callable[..., Api], db: Session, world: Council3
) -> None:
    child = enrol(db, world.members[SOCIAL], world.council)
    earlier = make_meeting(db, world.council, -20)
    made = [make_action(db, world, child, earlier, due_in=i) for i in range(27)]
    api = api_for(POLICE)
    seen_ids: list[int] = []
    url = "/api/v1/actions?scope=agency&limit=10"
    sizes = []
    cursor = None
    while True:
        body = api.get(url + (f"&cursor={cursor}" if cursor else "")).get_json()
        sizes.append(len(body["items"]))
        seen_ids += [a["id"] for a in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sizes == [10, 10, 7]  # the second page spans the service's pages 1 and 2
    assert seen_ids == [a.id for a in made]
    far = api.get(f"{url}&cursor={encode_offset(900)}").get_json()  # past the end
    assert far == {"items": [], "next_cursor": None}


# --- One action and its follow-up ---------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_police_officer_follows_up_an_action_through_the_api(
    api_for: Callable[..., Api], db: Session, held: Held
) -> None:
    police = api_for(POLICE)
    listed = police.get("/api/v1/actions?scope=mine").get_json()["items"]
    assert [a["id"] for a in listed] == [held.police_action.id]
    url = f"/api/v1/actions/{held.police_action.id}"
    detail = police.get(url).get_json()
    assert detail["description"]["content"] == {"text": "ACTION-POLICE-MARK"}
    assert detail["description"]["disclosed_via"]["basis_id"] == SOL_POLICE
    assert detail["history"] == [] and detail["version"] == 1
    assert detail["allowed_statuses"] == ["in_progress", "done", "not_done"]
    assert detail["comment_recipient"]["id"] == held.setting.social.agency_id
    assert detail["meeting_id"] == held.setting.meeting.id

    started = police.patch(
        url, json={"status": "in_progress", "comment": "KEPT-MARK", "version": 1}
    )
    assert started.status_code == 200, started.get_json()
    body = started.get_json()
    assert (body["status"], body["version"]) == ("in_progress", 2)
    (update,) = body["history"]
    assert (update["from_status"], update["to_status"]) == ("open", "in_progress")
    assert update["author"]["id"] == held.setting.police.id
    assert update["comment"]["content"] == {"text": "KEPT-MARK"}
    assert body["updated_at"] == update["created_at"]

    # Refused changes say which field is wrong and change nothing.
    state = (count(db, ActionUpdate), count(db, Record), count(db, Disclosure))
    no_reason = police.patch(url, json={"status": "not_done", "comment": "x", "version": 2})
    assert set(field_errors(no_reason)) == {"reason"}
    unconfirmed = police.patch(
        url,
        json={
            "status": "done",
            "comment": "Klart",
            "version": 2,
            "share_basis": "general-clause",
            "assessment": API_WHY,
        },
    )
    assert set(field_errors(unconfirmed)) == {"share_confirmations"}
    unassessed = police.patch(
        url,
        json={
            "status": "done",
            "comment": "Klart",
            "version": 2,
            "share_basis": "general-clause",
            "share_confirmations": [0],
        },
    )
    assert set(field_errors(unassessed)) == {"assessment"}
    db.expire_all()
    assert (count(db, ActionUpdate), count(db, Record), count(db, Disclosure)) == state
    assert db.get_one(AgreedAction, held.police_action.id).status is ActionStatus.IN_PROGRESS

    done = police.patch(
        url,
        json={
            "status": "done",
            "comment": "SHARED-MARK",
            "version": 2,
            "share_basis": "general-clause",
            "share_confirmations": [0],
            "assessment": API_WHY,
        },
    )
    assert done.status_code == 200
    assert done.get_json()["status"] == "done" and done.get_json()["allowed_statuses"] == []
    # The owner of the description sees the shared comment, not the one kept to the police.
    social = api_for(SOCIAL).get(url)
    assert "SHARED-MARK" in social.get_data(as_text=True)
    assert "KEPT-MARK" not in social.get_data(as_text=True)
    comments = [u["comment"] for u in social.get_json()["history"]]
    assert comments[0]["withheld"] is True
    assert comments[1]["disclosed_via"]["basis_id"] == "general-clause"
    assert comments[1]["disclosed_via"]["assessment"] == API_WHY
    school = api_for(SCHOOL).get(url).get_data(as_text=True)
    assert not any(m in school for m in ("SHARED-MARK", "KEPT-MARK", "ACTION-POLICE-MARK"))
    # Ended is ended.
    again = police.patch(url, json={"status": "done", "comment": "Igen", "version": 3})
    problem(again, 403)


@time_machine.travel(NOW, tick=False)
def test_action_refusals(
    api_for: Callable[..., Api],
    api_as: Callable[..., Api],
    anonymous_api: Api,
    db: Session,
    world: Council3,
    held: Held,
    stranger_api: Callable[[], Api],
) -> None:
    url = f"/api/v1/actions/{held.police_action.id}"
    change = {"status": "in_progress", "comment": "Kontakt tagen", "version": 1}
    problem(anonymous_api.get(url), 401)
    problem(anonymous_api.patch(url, json=change), 401)
    outsider = stranger_api()
    problem(outsider.get(url), 403)
    problem(outsider.patch(url, json=change), 403)
    police = api_for(POLICE)
    # An unknown action is refused like a forbidden one (issue 14: no 404 oracle).
    problem(police.get("/api/v1/actions/999999"), 403)
    problem(police.patch("/api/v1/actions/999999", json=change), 403)
    before = (count(db, ActionUpdate), count(db, Record))

    problem(api_for(POLICE, Scope.READ).patch(url, json=change), 403)  # read-only token
    problem(api_for(SCHOOL).patch(url, json=change), 403)  # not the responsible agency
    stale = police.patch(url, json={**change, "version": 7})
    assert problem(stale, 409)["detail"].startswith("Någon annan har ändrat")
    assert set(field_errors(police.patch(url, json={**change, "status": "cancelled"}))) == {
        "status"
    }  # only the council's coordinator cancels
    errors = field_errors(
        police.patch(url, json={"status": "bogus", "comment": "  ", "version": "x", "extra": 1})
    )
    assert set(errors) == {"status", "comment", "version", "extra"}
    assert set(field_errors(police.patch(url, json={"status": "done"}))) == {"comment", "version"}
    db.expire_all()
    assert (count(db, ActionUpdate), count(db, Record)) == before
    assert db.get_one(AgreedAction, held.police_action.id).version == 1

    # The coordinator may cancel, as on the page.
    cancelled = api_as(world.coordinator).patch(url, json={**change, "status": "cancelled"})
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"


def test_the_action_list_uses_a_constant_number_of_queries(
    app: Flask, api_for: Callable[..., Api], db: Session, world: Council3
) -> None:
    earlier = make_meeting(db, world.council, -20)
    children = [
        enrol(db, world.members[SOCIAL], world.council, number)
        for number in ("20121212-1212", "20100101-0014", "20100101-0022")
    ]
    api = api_for(POLICE)
    api.get("/api/v1/me")  # the token's first use is noted once (last_used_at)

    def queries_with(n: int, cursor: str) -> int:
        for i in range(count(db, AgreedAction), n):
            make_action(db, world, children[i % 3], earlier, due_in=i)
        db.expire_all()
        with sql_statements(app) as seen:
            body = api.get(f"/api/v1/actions?scope=agency&status=all&cursor={cursor}")
        assert len(body.get_json()["items"]) == min(n - decode_offset(cursor), 25)
        return len(seen)

    # From the start: one page of the service; from the third row on: its first two pages.
    start, third = encode_offset(0), encode_offset(2)
    assert queries_with(3, start) == queries_with(25, start)
    assert queries_with(28, third) == queries_with(40, third)


@time_machine.travel(NOW, tick=False)
def test_unknown_and_forbidden_actions_are_answered_alike_and_logged(
    api_as: Callable[..., Api], app: Flask, db: Session, world: Council3, held: Held
) -> None:
    """API and pages: an action that does not exist and one the user may not see get the same
    answer (403), so ids cannot be probed; each refusal is logged once, naming the action."""
    outsider = stranger(db, world)
    api = api_as(outsider)
    known, unknown = held.police_action.id, 999999
    change = {"status": "in_progress", "comment": "Kontakt tagen", "version": 1}

    def answer(response: TestResponse) -> tuple[object, ...]:
        body = problem(response, 403)
        return body["status"], body["title"], body["detail"]

    assert answer(api.get(f"/api/v1/actions/{known}")) == answer(
        api.get(f"/api/v1/actions/{unknown}")
    )
    assert answer(api.patch(f"/api/v1/actions/{known}", json=change)) == answer(
        api.patch(f"/api/v1/actions/{unknown}", json=change)
    )
    # The pages of a member of another council: the same 403 page for both.
    pages = log_in(app.test_client(), outsider)
    page_known, page_unknown = pages.get(f"/actions/{known}"), pages.get(f"/actions/{unknown}")
    assert page_known.status_code == page_unknown.status_code == 403
    # The same page but for the address it names (the language switch links back to it).
    assert page_known.text.replace(f"/actions/{known}", "") == page_unknown.text.replace(
        f"/actions/{unknown}", ""
    )
    denied = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == "access:denied").order_by(AuditEvent.seq)
    ).all()
    assert [(e.object_type, e.object_ids) for e in denied] == [
        ("agreed_action", [known]),
        ("agreed_action", [unknown]),
        ("agreed_action", [known]),
        ("agreed_action", [unknown]),
        ("agreed_action", [known]),
        ("agreed_action", [unknown]),
    ]
