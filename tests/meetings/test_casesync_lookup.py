"""The Bob case sync is no look-up of who is a case (issue 19, second reading).

Only the police submit. A submission whose number is a case of the council is matched (the
flash, the page and the agenda name the case) only for a submitter who may be told of it:
the council's coordinators and the agency holding the case's identity (``may_learn_of_case``,
the enrolment form's rule). For any other police member the number is proposed exactly as a
new number would be, and the proposal is held as a duplicate of the case for the
coordinators: the same redirect, flash, page, counts, agenda, audit trail and API answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.models import AgencyKind, Child, ChildStatus
from meetings.models import AgendaItem, CaseSyncEntry, CaseSyncState, Meeting, Notification
from secrecy.duplicates import services as duplicates
from secrecy.records.children import EnrolmentData, enrol_child
from secrecy.tags import SecrecyTag
from tests.conftest import Council3, audit_events, log_in
from tests.factories import member_of_new_agency
from tests.meetings.test_casesync import (
    KNOWN,
    NEW,
    OTHER_KNOWN,
    TODAY,
    Bob,
    enrol,
    make_bob,
    make_meeting,
    only_entry,
    post_entry,
    submit,
    sync_url,
)
from tests.secrecy.test_duplicates import api_client, json_keys


@pytest.fixture(autouse=True)
def _fixed_day() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def bob(app: Flask, db: Session, world: Council3) -> Bob:
    return make_bob(app, db, world)


def newest_child(db: Session) -> Child:
    db.expire_all()
    child = db.scalars(select(Child).order_by(Child.id.desc())).first()
    assert child is not None
    return child


def shape(html: str, meeting: Meeting, child: Child) -> str:
    """The page with what differs between two meetings and two proposals taken out."""
    html = html.replace(child.pseudonym, "PSEUDONYM")
    html = re.sub(rf"/meetings/{meeting.id}/", "/meetings/ID/", html)
    html = re.sub(r"/(children|records)/\d+", r"/\1/ID", html)
    html = re.sub(r"(entries/|entry-|answer-)\d+", r"\1ID", html)
    html = re.sub(r'(csrf_token"[^>]*?value=")[^"]*', r"\1", html)
    return html


def actor_tags(db: Session, user_id: int, after: int, upto: int | None = None) -> list[str]:
    query = select(AuditEvent.tag).where(
        AuditEvent.actor_user_id == user_id, AuditEvent.seq > after
    )
    if upto is not None:
        query = query.where(AuditEvent.seq <= upto)
    return list(db.scalars(query.order_by(AuditEvent.seq)))


def last_seq(db: Session) -> int:
    return db.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)) or 0


def submit_and_follow(client: FlaskClient, meeting: Meeting, number: str) -> tuple[Any, str]:
    answer = submit(client, meeting.id, number, text="Polisens oro: markör L1")
    return answer, client.get(answer.headers["Location"]).text


def test_a_member_who_may_not_be_told_sees_a_case_exactly_as_a_new_number(
    app: Flask, bob: Bob, db: Session
) -> None:
    original = enrol(db, bob, KNOWN)
    second = make_meeting(db, bob.council, bob.meeting.starts_at)
    db.flush()
    client = bob.officer_client

    before_case = last_seq(db)
    case_answer, case_page = submit_and_follow(client, bob.meeting, KNOWN)
    held = newest_child(db)
    before_new = last_seq(db)
    new_answer, new_page = submit_and_follow(client, second, NEW)
    new = newest_child(db)
    # The submitter's own audit trail is the same; the hold is the system's event.
    case_tags = actor_tags(db, bob.officer.id, before_case, before_new)
    assert case_tags == actor_tags(db, bob.officer.id, before_new)
    assert "meetings:case_sync:propose" in case_tags

    # What was stored: a held proposal of the case's number, and a plain one.
    assert held.status is new.status is ChildStatus.PROPOSED
    assert held.duplicate_of_id == original.id and held.identity_index is None
    assert new.duplicate_of_id is None and new.identity_index is not None
    held_entry = only_entry(db, meeting_id=bob.meeting.id)
    new_entry = only_entry(db, meeting_id=second.id)
    assert held_entry.state is new_entry.state is CaseSyncState.PROPOSED
    assert held_entry.child_id == held.id
    assert original.pseudonym != held.pseudonym

    # The same redirect, flash and page; nothing names the case.
    assert case_answer.status_code == new_answer.status_code == 302
    assert case_answer.headers["Location"] == sync_url(bob.meeting)
    assert new_answer.headers["Location"] == sync_url(second)
    assert f"Anmälan är sparad som förslag om inskrivning ({held.pseudonym})." in case_page
    assert f"Anmälan är sparad som förslag om inskrivning ({new.pseudonym})." in new_page
    assert shape(case_page, bob.meeting, held) == shape(new_page, second, new)
    assert original.pseudonym not in case_page
    for page in (case_page, client.get(sync_url(bob.meeting)).text):
        assert "atchad mot" not in page and "ubblett" not in page
    # Neither goes on the agenda (a match would).
    meetings = [bob.meeting.id, second.id]
    assert db.scalars(select(AgendaItem).where(AgendaItem.meeting_id.in_(meetings))).all() == []
    held_events = audit_events(db, SecrecyTag.CHILD_DUPLICATE_HELD)
    assert [(e.actor_user_id, e.object_ids) for e in held_events] == [(None, [held.id])]
    # No notice yet: the proposal reaches the coordinators' queue when it is accepted.
    notices = select(Notification).where(Notification.kind == "possible_duplicate")
    assert db.scalars(notices).all() == []
    assert duplicates.possible_duplicates(db, bob.council) == []


def test_the_api_answers_alike_for_a_case_and_a_new_number(
    app: Flask, bob: Bob, db: Session
) -> None:
    original = enrol(db, bob, KNOWN)
    second = make_meeting(db, bob.council, bob.meeting.starts_at)
    db.flush()
    submit(bob.officer_client, bob.meeting.id, KNOWN)
    held = newest_child(db)
    submit(bob.officer_client, second.id, NEW)
    new = newest_child(db)
    assert held.duplicate_of_id == original.id

    api = api_client(app, db, bob.officer)
    held_json = api.get(f"/api/v1/children/{held.id}")
    new_json = api.get(f"/api/v1/children/{new.id}")
    assert held_json.status_code == new_json.status_code == 200
    assert json_keys(held_json.get_json()) == json_keys(new_json.get_json())
    assert held_json.get_json()["status"] == new_json.get_json()["status"] == "proposed"
    agendas = [api.get(f"/api/v1/meetings/{m.id}/agenda") for m in (bob.meeting, second)]
    assert [a.status_code for a in agendas] == [200, 200]
    assert json_keys(agendas[0].get_json()) == json_keys(agendas[1].get_json())
    assert original.pseudonym not in agendas[0].text
    listing = api.get(f"/api/v1/councils/{bob.council.id}/children?status=all")
    assert listing.status_code == 200
    for text in (held_json.text, listing.text):
        assert "duplicate" not in text
    assert original.pseudonym not in held_json.text


def test_a_member_who_may_be_told_is_matched(bob: Bob, db: Session) -> None:
    """The council's coordinator (here the police member) is told, and so is the agency that
    holds the case's identity: a case the police enrolled matches for any police member."""
    original = enrol(db, bob, KNOWN)
    assert submit(bob.police_client, bob.meeting.id, KNOWN).status_code == 302
    page = bob.police_client.get(sync_url(bob.meeting)).text
    assert f"matchad mot {original.pseudonym}" in page
    assert only_entry(db, child_id=original.id).state is CaseSyncState.MATCHED
    theirs = enrol_child(db, bob.officer, bob.council, EnrolmentData("Olle", "Polis", NEW))
    assert submit(bob.officer_client, bob.meeting.id, NEW).status_code == 302
    assert only_entry(db, child_id=theirs.id).state is CaseSyncState.MATCHED


def test_the_held_proposal_answers_to_its_agency_and_reaches_the_queue(
    bob: Bob, db: Session
) -> None:
    original = enrol(db, bob, KNOWN)
    submit(bob.officer_client, bob.meeting.id, KNOWN)
    held = newest_child(db)
    # A later meeting: the number now answers to the police as their own proposal, as a new
    # number proposed before does (the submission joins it).
    later = make_meeting(db, bob.council, bob.meeting.starts_at.replace(month=4))
    db.flush()
    assert submit(bob.officer_client, later.id, KNOWN).status_code == 302
    joined = only_entry(db, meeting_id=later.id)
    assert joined.child_id == held.id and joined.state is CaseSyncState.PROPOSED

    # Social services accept: the case is held for the coordinators, who are notified.
    entry = only_entry(db, meeting_id=bob.meeting.id)
    assert post_entry(bob.social_client, bob.meeting, entry, "accept").status_code == 302
    db.expire_all()
    assert held.status is ChildStatus.ACTIVE and duplicates.is_held(held)
    pairs = duplicates.possible_duplicates(db, bob.council)
    assert [(p.held.id, p.holder.id) for p in pairs] == [(held.id, original.id)]
    notes = db.scalars(select(Notification).where(Notification.kind == "possible_duplicate")).all()
    assert [n.recipient_id for n in notes] == [bob.police.id]  # the council's coordinator
    # The officer's page still shows a proposal taken on, as for any number.
    page = bob.officer_client.get(sync_url(bob.meeting)).text
    assert original.pseudonym not in page and "ubblett" not in page


def test_declining_a_held_proposal_shreds_it_and_leaves_the_case(bob: Bob, db: Session) -> None:
    original = enrol(db, bob, KNOWN)
    index = original.identity_index
    submit(bob.officer_client, bob.meeting.id, KNOWN)
    held = newest_child(db)
    entry = only_entry(db, meeting_id=bob.meeting.id)
    answer = post_entry(bob.social_client, bob.meeting, entry, "decline", {"reason": "other"})
    assert answer.status_code == 302
    db.expire_all()
    assert held.status is ChildStatus.SHREDDED
    assert original.status is ChildStatus.ACTIVE and original.identity_index == index
    assert duplicates.possible_duplicates(db, bob.council) == []
    assert db.get(CaseSyncEntry, entry.id) is not None


def test_social_services_are_told_only_of_a_case_they_may_know(bob: Bob, db: Session) -> None:
    """Social services see the number the police disclosed; of a held proposal they are told
    the case it belongs to when their agency holds that case's identity, and not otherwise
    (here a case the school enrolled)."""
    theirs = enrol(db, bob, KNOWN)
    schools = enrol_child(db, bob.school, bob.council, EnrolmentData("Sara", "Skola", NEW))
    submit(bob.officer_client, bob.meeting.id, KNOWN)
    submit(bob.officer_client, bob.meeting.id, NEW)
    db.expire_all()
    held = [e.child for e in db.scalars(select(CaseSyncEntry).order_by(CaseSyncEntry.id))]
    assert [c.duplicate_of_id for c in held] == [theirs.id, schools.id]
    page = bob.social_client.get(sync_url(bob.meeting)).text
    assert f"Personnumret hör till {theirs.pseudonym} i forumet." in page
    assert schools.pseudonym not in page
    assert page.count("Personnumret hör till") == 1
    officer_page = bob.officer_client.get(sync_url(bob.meeting)).text
    assert "Personnumret hör till" not in officer_page


def test_another_police_agencys_submission_is_not_told_either(
    app: Flask, bob: Bob, db: Session
) -> None:
    """A second police agency of the council submits a number that the first submitted for
    the same meeting: no "already submitted" refusal (that would tell it is a case or a
    proposal), but a proposal, as for a number nobody submitted. Its own second submission of
    the number for the meeting is refused, as always."""
    officer = member_of_new_agency(
        db, bob.council, AgencyKind.POLICE, "Polisen Syd", email="syd@example.com"
    )
    client = log_in(app.test_client(), officer)
    submit(bob.officer_client, bob.meeting.id, NEW)
    first = newest_child(db)
    answers = []
    for number in (NEW, OTHER_KNOWN):  # OTHER_KNOWN: nobody's case or proposal here
        answer, page = submit_and_follow(client, bob.meeting, number)
        child = newest_child(db)
        assert answer.status_code == 302
        assert f"Anmälan är sparad som förslag om inskrivning ({child.pseudonym})." in page
        assert first.pseudonym not in page
        answers.append(child)
    held, new = answers
    assert held.duplicate_of_id == first.id and held.status is ChildStatus.PROPOSED
    assert new.duplicate_of_id is None and new.identity_index is not None
    again = submit(client, bob.meeting.id, NEW)
    assert again.status_code == 422 and "redan anmäld" in again.text
