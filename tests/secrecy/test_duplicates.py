"""Held duplicates (issue 19): the enrolment form is no look-up of who is a case.

A member who may not be told that a number is a case of the council already (anyone but the
agency holding its identity and the council's coordinators) enrols it exactly as a new number:
the same answer on the page and in the API. The new case is held for the coordinators, who are
notified without content, see the pair on "Möjliga dubbletter" and close it as a duplicate or
keep it. Nobody else sees anything of the pair.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.errors import PermissionDenied, ServiceError
from coordination.models import AgencyKind, Child, ChildStatus, CloseReason, Council, User
from coordination.tokens.services import Scope, create_token
from meetings.models import Notification
from secrecy.duplicates import services as duplicates
from secrecy.records import children as child_cases
from secrecy.records import sealing
from secrecy.records.services import current_identity_record
from secrecy.tags import SecrecyTag
from tests import factories
from tests.api.conftest import Api
from tests.conftest import Council3, audit_events, log_in
from tests.factories import CouncilFactory, MembershipFactory
from tests.numbers import personnummer
from tests.secrecy.test_leak import crawl
from tests.secrecy.test_pages import enrol_via_page

SOCIAL = AgencyKind.SOCIAL_SERVICES
POLICE = AgencyKind.POLICE
NUMBER = "20121212-1212"
# Another child born the same day (the same age, so the same pages around it).
NEW_NUMBER = personnummer(dt.date(2012, 12, 12), 345)
PSEUDONYM = re.compile(r"TEST-\d{4}-\d{3}")


def enrol(db: Session, user: Any, council: Council, number: str = NUMBER) -> Child:
    return factories.enrol(db, user, council, number, family="Dubbel")


def enrolled_by(db: Session, world: Council3, *kinds: AgencyKind) -> list[Child]:
    """The same child enrolled once by the member of each agency of ``kinds``, in that order."""
    return [enrol(db, world.members[kind], world.council) for kind in kinds]


def shred_moved(db: Session, user: User, child: Child) -> None:
    """``user`` closes ``child``'s case (the family moved) and the case is shredded."""
    child_cases.close_case(db, user, child, CloseReason.MOVED)
    sealing.shred_child(db, child)


def newest_child(db: Session) -> Child:
    child = db.scalars(select(Child).order_by(Child.id.desc())).first()
    assert child is not None
    return child


def api_client(app: Flask, db: Session, user: Any) -> Api:
    token = create_token(db, user, "test", {Scope.READ, Scope.WRITE}, 90).secret
    db.flush()
    return Api(app, app.test_client(), token)


def shape(html: str, child: Child, number: str) -> str:
    """The page with what differs between any two cases taken out: ids, pseudonyms, the
    number, the form tokens."""
    html = html.replace(child.pseudonym, "PSEUDONYM").replace(number, "NUMBER")
    html = html.replace(number.replace("-", ""), "NUMBER")
    html = re.sub(r"/(children|records|consents)/\d+", r"/\1/ID", html)
    html = re.sub(r"\b(record|child)-\d+", r"\1-ID", html)
    html = re.sub(r'(name="[^"]*csrf_token"[^>]*value=")[^"]*"', r'\1"', html)
    html = re.sub(r'(value=")\d+(")', r"\1ID\2", html)
    return html


def json_keys(value: Any) -> Any:
    """The keys of a JSON answer, all the way down (values left out)."""
    if isinstance(value, dict):
        return {key: json_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_keys(item) for item in value]
    return type(value).__name__


def confirm_close(client: FlaskClient, child: Child, version: int | None = None) -> Any:
    """The confirmation page's button."""
    return confirm(client, child, "close", version)


def confirm(client: FlaskClient, child: Child, decision: str, version: int | None = None) -> Any:
    """The button of a decision's confirmation page (``close`` or ``keep``)."""
    return client.post(
        f"/children/{child.id}/duplicate/{decision}",
        data={"version": str(child.version if version is None else version), "confirm": "yes"},
    )


def assert_asks_first(client: FlaskClient, held: Child, decision: str, lead: str) -> None:
    """The decision's confirmation page (its lead, its button's address, the version the queue
    was loaded with) is what the queue's button, a GET of its address and a post without the
    confirmation (the queue's old way) all show; none of them decides."""
    address = f"/children/{held.id}/duplicate/{decision}"
    for shown in (
        resolve(client, held, decision),
        client.get(address),
        client.post(address, data={"version": str(held.version)}),
    ):
        assert shown.status_code == 200 and "Det här händer" in shown.text
        assert lead in shown.text
        assert f'action="{address}"' in shown.text
        assert f'name="version" value="{held.version}"' in shown.text


def resolve(client: FlaskClient, child: Child, button: str) -> Any:
    prefix = f"c{child.id}"
    return client.post(
        f"/children/{child.id}/duplicate",
        data={f"{prefix}-version": str(child.version), f"{prefix}-{button}": "x"},
    )


# --- The submitter cannot tell ------------------------------------------------------------------


def test_a_held_enrolment_answers_like_a_new_one_on_the_page(
    db: Session,
    world: Council3,
    client_for,  # type: ignore[no-untyped-def]
) -> None:
    assert enrol_via_page(client_for(SOCIAL), world.council.id).status_code == 302
    original = newest_child(db)
    police = client_for(POLICE)
    held_answer = enrol_via_page(police, world.council.id)
    held = newest_child(db)
    held_page = police.get(held_answer.headers["Location"])
    new_answer = enrol_via_page(police, world.council.id, personnummer=NEW_NUMBER)
    new = newest_child(db)
    new_page = police.get(new_answer.headers["Location"])
    assert held.duplicate_of_id == original.id and new.duplicate_of_id is None
    # The same status and redirect, the same flash, the same page.
    assert held_answer.status_code == new_answer.status_code == 302
    assert held_answer.headers["Location"] == f"/children/{held.id}"
    assert new_answer.headers["Location"] == f"/children/{new.id}"
    assert held_page.status_code == new_page.status_code == 200
    assert f"Barnet är inskrivet som {held.pseudonym}." in held_page.text
    assert f"Barnet är inskrivet som {new.pseudonym}." in new_page.text
    assert shape(held_page.text, held, NUMBER) == shape(new_page.text, new, NEW_NUMBER)
    assert original.pseudonym not in held_page.text
    assert "ubblett" not in held_page.text
    # The registerutdrag (an export) alike.
    held_extract = police.get(f"/children/{held.id}/extract")
    new_extract = police.get(f"/children/{new.id}/extract")
    assert shape(held_extract.text, held, NUMBER) == shape(new_extract.text, new, NEW_NUMBER)
    assert original.pseudonym not in held_extract.text


def test_a_held_enrolment_answers_like_a_new_one_in_the_api(
    app: Flask, db: Session, world: Council3
) -> None:
    original = enrol(db, world.members[SOCIAL], world.council)
    police = world.members[POLICE]
    held = enrol(db, police, world.council)
    new = enrol(db, police, world.council, NEW_NUMBER)
    assert held.duplicate_of_id == original.id
    api = api_client(app, db, police)
    held_json = api.get(f"/api/v1/children/{held.id}")
    new_json = api.get(f"/api/v1/children/{new.id}")
    assert held_json.status_code == new_json.status_code == 200
    assert json_keys(held_json.get_json()) == json_keys(new_json.get_json())
    assert held_json.get_json()["status"] == new_json.get_json()["status"] == "active"
    for text in (held_json.text, api.get(f"/api/v1/councils/{world.council.id}/children").text):
        assert "duplicate" not in text
    assert original.pseudonym not in held_json.text


def test_a_second_enrolment_names_the_agencys_own_held_case(db: Session, world: Council3) -> None:
    """As for any case of its own: the agency that enrolled the held case is told of it (and
    of nothing else) when it types the number again."""
    original = enrol(db, world.members[SOCIAL], world.council)
    police = world.members[POLICE]
    held = enrol(db, police, world.council)
    with pytest.raises(child_cases.DuplicateChild) as told:
        enrol(db, police, world.council)
    assert held.pseudonym in str(told.value) and original.pseudonym not in str(told.value)
    # A third agency is held as well; several held cases share no index (NULL twice).
    school_held = enrol(db, world.members[AgencyKind.SCHOOL], world.council)
    assert school_held.duplicate_of_id == original.id
    assert held.identity_index is None and school_held.identity_index is None


def test_the_link_to_other_councils_is_the_same_for_a_held_case(
    db: Session, world: Council3
) -> None:
    """The police sit in a second council where they enrolled the child themselves: their held
    case links to it both ways, as a case enrolled with a new number would."""
    other = CouncilFactory(agencies=list(world.agencies.values()), code="SYD", name="Sydrådet")
    police = world.members[POLICE]
    MembershipFactory(council=other, user=police)
    db.flush()
    db.expire_all()
    original = enrol(db, world.members[SOCIAL], world.council)
    there = enrol(db, police, other)
    held = enrol(db, police, world.council)
    assert held.duplicate_of_id == original.id
    assert child_cases.other_councils_with_same_child(db, police, held) == [there]
    assert child_cases.other_councils_with_same_child(db, police, there) == [held]
    # The original (social services' identity) is not the police's to link.
    assert original not in child_cases.other_councils_with_same_child(db, police, there)


# --- The coordinators decide ----------------------------------------------------------------------


def test_the_coordinators_are_notified_and_see_the_pair(
    app: Flask,
    db: Session,
    world: Council3,
    client_for,  # type: ignore[no-untyped-def]
) -> None:
    original = enrol(db, world.members[SOCIAL], world.council)
    with app.app_context():  # the notice's sink is the app's
        held = enrol(db, world.members[POLICE], world.council)
    db.flush()
    notes = db.scalars(select(Notification).where(Notification.kind == "possible_duplicate")).all()
    assert [n.recipient_id for n in notes] == [world.coordinator.id]
    note = notes[0]
    assert note.link == f"/councils/{world.council.id}/duplicates"
    for text in (note.subject, note.body):
        assert not PSEUDONYM.search(text) and "1212" not in text
    coordinator = log_in(app.test_client(), world.coordinator)
    assert "Möjliga dubbletter" in coordinator.get(f"/councils/{world.council.id}").text
    queue = coordinator.get(f"/councils/{world.council.id}/duplicates")
    assert queue.status_code == 200
    assert held.pseudonym in queue.text and original.pseudonym in queue.text
    assert world.agencies[POLICE].name in queue.text
    assert held.enrolled_on.isoformat() in queue.text
    assert "Kalle" not in queue.text and "1212" not in queue.text


def test_the_coordinator_closes_the_held_case_as_a_duplicate(
    app: Flask, db: Session, world: Council3
) -> None:
    enrol(db, world.members[SOCIAL], world.council)
    held = enrol(db, world.members[POLICE], world.council)
    db.flush()
    coordinator = log_in(app.test_client(), world.coordinator)
    lead = f"Du avslutar ärendet {held.pseudonym} som dubblett av"
    assert_asks_first(coordinator, held, "close", lead)
    assert "Avsluta som dubblett" in coordinator.get(f"/children/{held.id}/duplicate/close").text
    db.expire_all()
    assert held.status is ChildStatus.ACTIVE
    assert audit_events(db, SecrecyTag.CHILD_DUPLICATE_CLOSED) == []
    answer = confirm_close(coordinator, held)
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/councils/{world.council.id}/duplicates"
    db.expire_all()
    assert held.status is ChildStatus.CLOSED and held.close_reason is CloseReason.DUPLICATE
    assert duplicates.possible_duplicates(db, world.council) == []
    closed = audit_events(db, SecrecyTag.CHILD_DUPLICATE_CLOSED)
    assert [(e.object_ids, e.actor_user_id) for e in closed] == [([held.id], world.coordinator.id)]
    # The coordinator's agency's log reviewer reads this event: it does not name the pair.
    assert closed[0].details == {"council_id": world.council.id}
    assert audit_events(db, SecrecyTag.CHILD_CLOSE)[0].details == {"reason": "duplicate"}
    # Decided once: a second decision is refused and changes nothing.
    again = resolve(coordinator, held, "keep")
    assert again.status_code == 302
    db.expire_all()
    assert held.duplicate_kept_at is None
    assert audit_events(db, SecrecyTag.CHILD_DUPLICATE_KEPT) == []


def test_the_coordinator_keeps_the_held_case_as_its_own(
    app: Flask, db: Session, world: Council3
) -> None:
    enrol(db, world.members[SOCIAL], world.council)
    police = world.members[POLICE]
    held = enrol(db, police, world.council)
    db.flush()
    coordinator = log_in(app.test_client(), world.coordinator)
    lead = f"Du behåller ärendet {held.pseudonym} som ett eget ärende"
    assert_asks_first(coordinator, held, "keep", lead)
    db.expire_all()
    assert held.duplicate_kept_at is None
    assert audit_events(db, SecrecyTag.CHILD_DUPLICATE_KEPT) == []
    answer = confirm(coordinator, held, "keep")
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/councils/{world.council.id}/duplicates"
    assert "är kvar som eget ärende" in coordinator.get(answer.headers["Location"]).text
    db.expire_all()
    assert held.status is ChildStatus.ACTIVE and held.duplicate_kept_at is not None
    assert duplicates.possible_duplicates(db, world.council) == []
    kept = audit_events(db, SecrecyTag.CHILD_DUPLICATE_KEPT)
    assert [(e.object_ids, e.actor_user_id) for e in kept] == [([held.id], world.coordinator.id)]
    assert kept[0].details == {"council_id": world.council.id}
    # The kept case answers for the number to its agency as any case of its own.
    with pytest.raises(child_cases.DuplicateChild) as told:
        enrol(db, police, world.council)
    assert held.pseudonym in str(told.value)


def test_a_stale_confirmation_is_refused_and_changes_nothing(
    app: Flask, db: Session, world: Council3
) -> None:
    """The confirmation carries the version the queue was loaded with: a decision made in
    between (here: kept) is not overwritten."""
    enrol(db, world.members[SOCIAL], world.council)
    held = enrol(db, world.members[POLICE], world.council)
    db.flush()
    seen = held.version
    coordinator = log_in(app.test_client(), world.coordinator)
    older = confirm_close(coordinator, held, version=seen - 1)
    assert older.status_code == 302
    assert "Någon annan har ändrat" in coordinator.get(older.headers["Location"]).text
    duplicates.keep_separate(db, world.coordinator, held)
    db.flush()
    answer = confirm_close(coordinator, held, version=seen)
    assert answer.status_code == 302
    db.expire_all()
    assert held.status is ChildStatus.ACTIVE and held.close_reason is None
    assert audit_events(db, SecrecyTag.CHILD_DUPLICATE_CLOSED) == []


def test_a_stale_decision_is_refused(db: Session, world: Council3) -> None:
    enrol(db, world.members[SOCIAL], world.council)
    held = enrol(db, world.members[POLICE], world.council)
    db.flush()
    with pytest.raises(ServiceError):
        duplicates.keep_separate(db, world.coordinator, held, expected_version=held.version - 1)
    assert held.duplicate_kept_at is None


# --- Nobody else sees the pair --------------------------------------------------------------------


def test_no_one_but_the_coordinators_sees_anything_of_the_pair(
    app: Flask, db: Session, world: Council3
) -> None:
    original = enrol(db, world.members[SOCIAL], world.council)
    held = enrol(db, world.members[POLICE], world.council)
    db.flush()
    for kind in (POLICE, AgencyKind.SCHOOL, AgencyKind.LEISURE, SOCIAL):
        client = log_in(app.test_client(), world.members[kind])
        pages = crawl(client)
        assert f"/children/{held.id}" in pages, kind
        # The API reference names the queue's operations: the same text for everyone, a
        # visitor without an account too, so it tells nothing of a case.
        reference = ("/api/v1/docs", "/api/v1/openapi.json")
        anonymous = app.test_client()
        for url in reference:
            seen = [line for line in pages.pop(url, "").splitlines() if "ubblett" in line]
            public = [line for line in anonymous.get(url).text.splitlines() if "ubblett" in line]
            assert seen in ([], public), (kind, url)
        assert not any("ubblett" in html for html in pages.values()), kind
        assert original.pseudonym not in pages[f"/children/{held.id}"], kind
        assert held.pseudonym not in pages[f"/children/{original.id}"], kind
        assert client.get(f"/councils/{world.council.id}/duplicates").status_code == 403, kind
        for decision in ("close", "keep"):
            assert resolve(client, held, decision).status_code == 403, kind
            assert client.get(f"/children/{held.id}/duplicate/{decision}").status_code == 403
            assert confirm(client, held, decision).status_code == 403, kind
        notes = db.scalars(
            select(Notification).where(Notification.recipient_id == world.members[kind].id)
        ).all()
        assert [n for n in notes if n.kind == "possible_duplicate"] == [], kind
    db.expire_all()
    assert held.status is ChildStatus.ACTIVE and held.duplicate_kept_at is None
    with pytest.raises(PermissionDenied):
        duplicates.close_as_duplicate(db, world.members[POLICE], held)


# --- The number moves -----------------------------------------------------------------------------


def test_shredding_the_holder_hands_the_number_to_the_held_case(
    db: Session, world: Council3
) -> None:
    original, held, later = enrolled_by(db, world, SOCIAL, POLICE, AgencyKind.SCHOOL)
    index = original.identity_index
    shred_moved(db, world.members[SOCIAL], original)
    assert original.identity_index is None
    assert held.identity_index == index and held.duplicate_of_id is None
    assert later.duplicate_of_id == held.id
    released = audit_events(db, SecrecyTag.CHILD_DUPLICATE_RELEASED)
    assert [(e.object_ids, e.details["duplicate_of_id"]) for e in released] == [
        ([held.id], original.id)
    ]


def test_an_active_held_case_takes_the_number_before_one_closed_as_a_duplicate(
    db: Session, world: Council3
) -> None:
    original, closed, active = enrolled_by(db, world, SOCIAL, POLICE, AgencyKind.SCHOOL)
    duplicates.close_as_duplicate(db, world.coordinator, closed)
    index = original.identity_index
    shred_moved(db, world.members[SOCIAL], original)
    assert active.identity_index == index and active.duplicate_of_id is None
    assert closed.identity_index is None and closed.duplicate_of_id == active.id


def test_a_case_reopened_after_closing_as_a_duplicate_is_held_again(
    app: Flask, db: Session, world: Council3
) -> None:
    """Back in the queue, with a new notice (the first one's key would drop a repeat) and the
    system's held event, as when it was first held."""
    original = enrol(db, world.members[SOCIAL], world.council)
    police = world.members[POLICE]
    with app.app_context():  # the notice's sink is the app's
        held = enrol(db, police, world.council)
        duplicates.close_as_duplicate(db, world.coordinator, held)
        assert duplicates.possible_duplicates(db, world.council) == []
        child_cases.reopen_case(db, police, held)
    db.flush()
    [pair] = duplicates.possible_duplicates(db, world.council)
    assert (pair.held.id, pair.holder.id) == (held.id, original.id)
    notes = db.scalars(select(Notification).where(Notification.kind == "possible_duplicate")).all()
    assert [n.recipient_id for n in notes] == [world.coordinator.id] * 2
    held_events = audit_events(db, SecrecyTag.CHILD_DUPLICATE_HELD)
    assert [(e.object_ids, e.actor_user_id) for e in held_events] == [([held.id], None)] * 2


def test_the_council_page_counts_the_waiting_cases_in_swedish(
    app: Flask, db: Session, world: Council3
) -> None:
    enrol(db, world.members[SOCIAL], world.council)
    enrol(db, world.members[POLICE], world.council)
    db.flush()
    coordinator = log_in(app.test_client(), world.coordinator)
    page = coordinator.get(f"/councils/{world.council.id}").text
    assert "1 ärende väntar på ditt beslut" in page
    enrol(db, world.members[AgencyKind.SCHOOL], world.council)
    db.flush()
    page = coordinator.get(f"/councils/{world.council.id}").text
    assert "2 ärenden väntar på ditt beslut" in page


def test_a_held_case_corrected_to_a_new_number_is_released(db: Session, world: Council3) -> None:
    enrol(db, world.members[SOCIAL], world.council)
    police = world.members[POLICE]
    held = enrol(db, police, world.council)
    identity = current_identity_record(db, held)
    assert identity is not None
    child_cases.correct_identity(
        db, police, identity, child_cases.EnrolmentData("Kalle", "Dubbel", NEW_NUMBER)
    )
    assert held.duplicate_of_id is None
    assert held.identity_index == sealing.personnummer_index(db, NEW_NUMBER.replace("-", ""))


def test_a_correction_to_another_agencys_number_answers_like_any_correction(
    db: Session,
    world: Council3,
    client_for,  # type: ignore[no-untyped-def]
) -> None:
    """On the page too: the same redirect and flash as a correction to a new number."""
    original = enrol(db, world.members[SOCIAL], world.council)
    police = world.members[POLICE]
    first = enrol(db, police, world.council, "20100101-0014")
    second = enrol(db, police, world.council, "20100101-0212")
    db.flush()
    client = client_for(POLICE)
    answers = []
    for case, number in ((first, NUMBER), (second, NEW_NUMBER)):
        identity = current_identity_record(db, case)
        assert identity is not None
        answer = client.post(
            f"/records/{identity.id}/correct",
            data={"given_names": "Kalle", "family_name": "Dubbel", "personnummer": number},
        )
        assert answer.status_code == 302
        assert answer.headers["Location"] == f"/children/{case.id}"
        page = client.get(answer.headers["Location"]).text
        assert "Rättelsen är sparad." in page and original.pseudonym not in page
        answers.append(shape(page, case, number))
    assert answers[0] == answers[1]
    db.expire_all()
    assert first.duplicate_of_id == original.id and first.identity_index is None
    assert second.duplicate_of_id is None and second.identity_index is not None
    assert [e.object_ids for e in audit_events(db, SecrecyTag.CHILD_DUPLICATE_HELD)] == [[first.id]]


def test_a_correction_names_the_agencys_own_held_case(db: Session, world: Council3) -> None:
    original = enrol(db, world.members[SOCIAL], world.council)
    police = world.members[POLICE]
    held = enrol(db, police, world.council)
    other = enrol(db, police, world.council, NEW_NUMBER)
    identity = current_identity_record(db, other)
    assert identity is not None
    with pytest.raises(ServiceError) as told:
        child_cases.correct_identity(
            db, police, identity, child_cases.EnrolmentData("Kalle", "Dubbel", NUMBER)
        )
    assert held.pseudonym in str(told.value) and original.pseudonym not in str(told.value)
    assert other.duplicate_of_id is None and other.identity_index is not None


def test_a_holder_corrected_to_a_new_number_hands_its_old_one_on(
    db: Session, world: Council3
) -> None:
    social = world.members[SOCIAL]
    original = enrol(db, social, world.council)
    old_index = original.identity_index
    held = enrol(db, world.members[POLICE], world.council)
    identity = current_identity_record(db, original)
    assert identity is not None
    child_cases.correct_identity(
        db, social, identity, child_cases.EnrolmentData("Kalle", "Dubbel", NEW_NUMBER)
    )
    assert original.identity_index not in (None, old_index)
    assert held.identity_index == old_index and held.duplicate_of_id is None
    assert duplicates.possible_duplicates(db, world.council) == []
    # The old number now answers to the police as their own case.
    with pytest.raises(child_cases.DuplicateChild) as told:
        enrol(db, world.members[POLICE], world.council)
    assert held.pseudonym in str(told.value)
