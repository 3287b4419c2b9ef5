"""The Bob case sync: police submissions, matching by blind index, enrolment proposals,
social services' answers, and what each agency sees (and never sees)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordination.audit.log import AuditEvent
from coordination.db import Base, utcnow
from coordination.errors import ServiceError
from coordination.models import (
    AgencyKind,
    Child,
    ChildStatus,
    Council,
    CouncilKind,
    CouncilRole,
    User,
)
from meetings.casesync import submission as submission_module
from meetings.casesync.forms import confirmed_by_basis
from meetings.casesync.proposals import FORGOTTEN_INDEX, DeclineReason
from meetings.casesync.records import SUBMISSION_BASES
from meetings.casesync.submission import Submission, submit_case
from meetings.models import (
    AgendaItem,
    AgendaSource,
    CaseSyncEntry,
    CaseSyncState,
    Meeting,
    MeetingStatus,
)
from meetings.tags import MeetingTag
from secrecy.models import Disclosure, Record, RecordKey
from secrecy.records.children import close_case
from secrecy.records.reveal import Revealed, Withheld, reveal_one, reveal_records
from tests import factories
from tests.conftest import Council3, audit_tags, csrf_token_from, log_in, sql_statements
from tests.factories import ASSESSED, CouncilFactory, MembershipFactory, UserFactory

# Wednesday 4 March 2026; the meeting is a week later.
TODAY = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
MEETING_START = dt.datetime(2026, 3, 11, 13, 0, tzinfo=dt.UTC)

KNOWN = "20121212-1212"  # 13 years old: on the caseload in most tests
OTHER_KNOWN = "20110615-0012"  # 14
NEW = "20100101-0014"  # 16: not on the caseload
ADULT = "20050505-0013"  # 20
INVALID = "20121212-1213"  # wrong check digit

CONCERN = ("concern-report:0",)
GENERAL = ("general-clause:0",)
SOL_POLICE = tuple(f"sol-police-u21:{i}" for i in range(4))

CASE_SYNC_TAGS = {
    MeetingTag.CASE_SYNC_SUBMIT,
    MeetingTag.CASE_SYNC_MATCH,
    MeetingTag.CASE_SYNC_PROPOSE,
    MeetingTag.CASE_SYNC_ACCEPT,
    MeetingTag.CASE_SYNC_DECLINE,
    MeetingTag.CASE_SYNC_ANSWER,
}


@pytest.fixture(autouse=True)
def _fixed_day() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


@dataclass
class Bob:
    council: Council
    meeting: Meeting
    police: User
    social: User
    school: User
    police_client: FlaskClient
    social_client: FlaskClient
    school_client: FlaskClient
    officer: User
    officer_client: FlaskClient


def make_meeting(db: Session, council: Council, starts_at: dt.datetime = MEETING_START) -> Meeting:
    return factories.make_meeting(db, council, starts_at, status=MeetingStatus.PLANNED)


@pytest.fixture
def bob(app: Flask, db: Session, world: Council3) -> Bob:
    return make_bob(app, db, world)


def make_bob(app: Flask, db: Session, world: Council3) -> Bob:
    """A Bob council of the police, social services and a school, one member each.

    The police member co-coordinates the council, so a number that is a case is matched for
    them (they may be told of it: ``may_learn_of_case``). ``officer`` is a police member who
    is not: for them the sync must not tell a case from a new number (issue 19)."""
    kinds = (AgencyKind.POLICE, AgencyKind.SOCIAL_SERVICES, AgencyKind.SCHOOL)
    council = CouncilFactory(
        kind=CouncilKind.BOB,
        agencies=[world.agencies[k] for k in kinds],
        name="Bob-rådet Norr",
        code="NORR",
    )
    for kind in kinds:
        role = CouncilRole.COORDINATOR if kind is AgencyKind.POLICE else CouncilRole.MEMBER
        MembershipFactory(council=council, user=world.members[kind], council_role=role)
    officer = UserFactory(agency=world.agencies[AgencyKind.POLICE], email="officer@example.com")
    MembershipFactory(council=council, user=officer)
    meeting = make_meeting(db, council)
    db.expire_all()
    police, social, school = (world.members[k] for k in kinds)
    return Bob(
        council=council,
        meeting=meeting,
        police=police,
        social=social,
        school=school,
        police_client=log_in(app.test_client(), police),
        social_client=log_in(app.test_client(), social),
        school_client=log_in(app.test_client(), school),
        officer=officer,
        officer_client=log_in(app.test_client(), officer),
    )


def enrol(db: Session, bob: Bob, number: str = KNOWN) -> Child:
    """A child on the council's caseload, enrolled by social services (with names)."""
    return factories.enrol(db, bob.social, bob.council, number)


def submit(
    client: FlaskClient,
    meeting_id: int,
    number: str,
    text: str = "Polisens oro: markör P1",
    confirmations: tuple[str, ...] = CONCERN,
    assessment: str = ASSESSED,
):  # type: ignore[no-untyped-def]
    return client.post(
        f"/meetings/{meeting_id}/sync/submit",
        data={
            "personnummer": number,
            "text": text,
            "confirmations": list(confirmations),
            "assessment": assessment,
        },
    )


def sync_url(meeting: Meeting) -> str:
    return f"/meetings/{meeting.id}/sync"


def entry_url(meeting: Meeting, entry: CaseSyncEntry, action: str) -> str:
    return f"/meetings/{meeting.id}/sync/entries/{entry.id}/{action}"


def post_entry(
    client: FlaskClient,
    meeting: Meeting,
    entry: CaseSyncEntry,
    action: str,
    data: dict[str, str] | None = None,
):  # type: ignore[no-untyped-def]
    """Post an entry form as the page would: with the version it was loaded with."""
    fields = {f"{action}-{entry.id}-{k}": v for k, v in (data or {}).items()}
    fields.setdefault(f"{action}-{entry.id}-version", str(entry.version))
    return client.post(entry_url(meeting, entry, action), data=fields)


def answer(
    client: FlaskClient,
    meeting: Meeting,
    entry: CaseSyncEntry,
    text: str,
    basis: str = "none",
    confirmations: tuple[str, ...] = (),
    version: int | None = None,
    assessment: str = ASSESSED,
):  # type: ignore[no-untyped-def]
    prefix = f"answer-{entry.id}-"
    return client.post(
        entry_url(meeting, entry, "answer"),
        data={
            f"{prefix}text": text,
            f"{prefix}basis": basis,
            f"{prefix}confirmations": list(confirmations),
            f"{prefix}assessment": assessment,
            f"{prefix}version": str(version if version is not None else entry.version),
        },
    )


def only_entry(db: Session, **where: object) -> CaseSyncEntry:
    db.expire_all()
    query = select(CaseSyncEntry)
    for key, value in where.items():
        query = query.where(getattr(CaseSyncEntry, key) == value)
    return db.scalars(query).one()


def entry_for(db: Session, child: Child) -> CaseSyncEntry:
    return only_entry(db, child_id=child.id)


def counts(db: Session) -> dict[str, int]:
    models = (Child, Record, RecordKey, Disclosure, CaseSyncEntry, AgendaItem)
    return {
        m.__name__: db.scalar(select(func.count()).select_from(m)) or 0  # type: ignore[attr-defined]
        for m in models
    }


def number_forms(number: str) -> list[str]:
    digits = number.replace("-", "")
    return [digits, f"{digits[:8]}-{digits[8:]}", digits[2:], f"{digits[2:8]}-{digits[8:]}"]


def assert_nowhere_in_clear(db: Session, *numbers: str) -> int:
    """Every row of every table, as text and bytes: no form of the numbers appears."""
    db.flush()
    connection = db.connection()
    forms = [form for number in numbers for form in number_forms(number)]
    rows = 0
    for table in Base.metadata.sorted_tables:
        for row in connection.execute(select(table)):
            rows += 1
            for value in row:
                if value is None:
                    continue
                if isinstance(value, bytes | memoryview):
                    raw = bytes(value)
                    assert not any(f.encode() in raw for f in forms), table.name
                else:
                    text = json.dumps(value) if isinstance(value, dict | list) else str(value)
                    assert not any(f in text for f in forms), (table.name, text)
    return rows


def without_csrf(html: str) -> str:
    return re.sub(r'(csrf_token"[^>]*?value=")[^"]*', r"\1", html)


# --- Submission ---------------------------------------------------------------------------------


def test_a_bad_number_gets_a_swedish_message_and_changes_nothing(bob: Bob, db: Session) -> None:
    enrol(db, bob)
    before = counts(db)
    events = len(audit_tags(db))
    bad = submit(bob.police_client, bob.meeting.id, INVALID)
    assert bad.status_code == 422
    assert "Personnumret är inte giltigt" in bad.text
    malformed = submit(bob.police_client, bob.meeting.id, "12-34")
    assert malformed.status_code == 422
    assert "Ange personnumret som ÅÅÅÅMMDD-NNNN" in malformed.text
    empty_text = submit(bob.police_client, bob.meeting.id, KNOWN, text="")
    assert empty_text.status_code == 422
    assert "Fältet måste fyllas i." in empty_text.text
    unconfirmed = submit(bob.police_client, bob.meeting.id, KNOWN, confirmations=())
    assert unconfirmed.status_code == 422
    assert "Orosanmälan till socialtjänsten" in unconfirmed.text
    assert "Bekräfta förutsättningarna för den grunden." in unconfirmed.text
    # A 13-year-old goes under the concern-report duty: ticking the general clause is not it.
    wrong_basis = submit(bob.police_client, bob.meeting.id, NEW, confirmations=GENERAL)
    assert wrong_basis.status_code == 422
    assert "Orosanmälan" in wrong_basis.text
    db.expire_all()
    assert counts(db) == before
    assert len(audit_tags(db)) == events


def test_a_match_attaches_the_record_and_puts_the_child_last_on_the_agenda(
    bob: Bob, db: Session
) -> None:
    child = enrol(db, bob, KNOWN)
    already = enrol(db, bob, OTHER_KNOWN)
    db.add(
        AgendaItem(
            meeting_id=bob.meeting.id,
            child_id=already.id,
            position=1,
            reason_category="school",
            source=AgendaSource.MANUAL,
        )
    )
    db.flush()

    response = submit(bob.police_client, bob.meeting.id, KNOWN, text="Polisens oro: markör M1")
    assert response.status_code == 302
    assert response.headers["Location"] == sync_url(bob.meeting)
    entry = entry_for(db, child)
    assert entry.state is CaseSyncState.MATCHED
    assert entry.identity_index == child.identity_index
    record = db.get(Record, entry.police_record_id)
    assert record is not None
    assert (record.child_id, record.category) == (child.id, "crime_police")
    assert record.owner_agency_id == bob.police.agency_id
    disclosure = db.scalars(select(Disclosure).where(Disclosure.record_id == record.id)).one()
    assert disclosure.recipient_agency_id == bob.social.agency_id
    assert disclosure.basis_id == "concern-report"
    assert db.get(RecordKey, (record.id, bob.social.agency_id)) is not None
    items = db.scalars(
        select(AgendaItem)
        .where(AgendaItem.meeting_id == bob.meeting.id)
        .order_by(AgendaItem.position)
    ).all()
    assert [(i.child_id, i.position) for i in items] == [(already.id, 1), (child.id, 2)]
    added = items[1]
    assert added.source is AgendaSource.CASE_SYNC
    assert added.reason_category == "crime_police"
    assert added.brief_record_id is None
    assert child.status is ChildStatus.ACTIVE

    # Already on the agenda: the record is attached, no second item.
    assert submit(bob.police_client, bob.meeting.id, OTHER_KNOWN).status_code == 302
    assert entry_for(db, already).state is CaseSyncState.MATCHED
    assert (
        db.scalar(
            select(func.count())
            .select_from(AgendaItem)
            .where(AgendaItem.meeting_id == bob.meeting.id)
        )
        == 2
    )

    # The same young person twice for one meeting is refused.
    again = submit(bob.police_client, bob.meeting.id, "201212121212")
    assert again.status_code == 422
    assert "redan anmäld" in again.text

    social_page = bob.social_client.get(sync_url(bob.meeting)).text
    assert "Polisens oro: markör M1" in social_page
    assert child.pseudonym in social_page
    assert "Utlämnad av Test police med stöd av Anmälningsskyldighet" in social_page
    police_page = bob.police_client.get(sync_url(bob.meeting)).text
    assert "Polisens oro: markör M1" in police_page
    assert "Lämnad till Test social_services med stöd av Anmälningsskyldighet" in police_page

    # Matching went by blind index: no form of either number is stored in clear anywhere.
    assert assert_nowhere_in_clear(db, KNOWN, OTHER_KNOWN) > 0


def test_a_closed_case_matches_and_stays_closed(bob: Bob, db: Session) -> None:
    from coordination.models import CloseReason

    child = enrol(db, bob, KNOWN)
    close_case(db, bob.social, child, CloseReason.MOVED)
    db.flush()
    assert submit(bob.police_client, bob.meeting.id, KNOWN).status_code == 302
    entry = entry_for(db, child)
    assert entry.state is CaseSyncState.MATCHED
    assert db.get(Child, child.id).status is ChildStatus.CLOSED  # type: ignore[union-attr]
    assert db.get(Record, entry.police_record_id).child_id == child.id  # type: ignore[union-attr]
    assert db.scalars(select(AgendaItem).where(AgendaItem.child_id == child.id)).one()
    assert "secrecy:record:create" in audit_tags(db)


# --- Proposals ----------------------------------------------------------------------------------


def test_no_match_becomes_a_proposal_that_social_services_accept(bob: Bob, db: Session) -> None:
    enrol(db, bob, KNOWN)
    response = submit(bob.police_client, bob.meeting.id, NEW, text="Polisens oro: markör N1")
    assert response.status_code == 302
    entry = only_entry(db, state=CaseSyncState.PROPOSED)
    child = entry.child
    assert child.status is ChildStatus.PROPOSED
    assert child.enrolling_agency_id == bob.police.agency_id
    assert child.pseudonym.startswith("NORR-2026-")
    assert child.birth_date_sealed is not None
    assert entry.identity_index == child.identity_index
    identity = db.scalars(
        select(Record).where(Record.child_id == child.id, Record.category == "identity")
    ).one()
    assert identity.owner_agency_id == bob.police.agency_id
    shared = db.scalars(
        select(Disclosure).where(Disclosure.recipient_agency_id == bob.social.agency_id)
    ).all()
    assert {d.record_id for d in shared} == {identity.id, entry.police_record_id}
    assert {d.basis_id for d in shared} == {"concern-report"}
    # A proposal is not on the agenda until social services accept it.
    assert db.scalars(select(AgendaItem).where(AgendaItem.child_id == child.id)).all() == []

    social_page = bob.social_client.get(sync_url(bob.meeting)).text
    assert "20100101-0014" in social_page
    assert "Polisens oro: markör N1" in social_page
    police_page = bob.police_client.get(sync_url(bob.meeting)).text
    assert "Polisens oro: markör N1" in police_page
    assert "20100101" not in police_page  # minimum data: the number is not shown back
    assert "Förslag om inskrivning" in police_page

    accepted = bob.social_client.post(
        entry_url(bob.meeting, entry, "accept"),
        data={f"accept-{entry.id}-version": str(entry.version)},
    )
    assert accepted.status_code == 302
    entry = entry_for(db, child)
    assert entry.state is CaseSyncState.ACCEPTED
    assert child.status is ChildStatus.ACTIVE
    assert child.enrolling_agency_id == bob.social.agency_id
    own = db.scalars(
        select(Record).where(
            Record.child_id == child.id,
            Record.category == "identity",
            Record.owner_agency_id == bob.social.agency_id,
        )
    ).one()
    with bob.social_client.application.test_request_context():
        seen = reveal_records(db, bob.social, [own])[0]
    assert isinstance(seen, Revealed)
    assert seen.content["personnummer"] == "201001010014"
    item = db.scalars(select(AgendaItem).where(AgendaItem.child_id == child.id)).one()
    assert item.source is AgendaSource.CASE_SYNC
    # Social services now answer for the case: they may correct the identity to add names.
    assert bob.social_client.get(f"/records/{own.id}/correct").status_code == 200
    # A second accept of the same proposal is refused.
    again = post_entry(bob.social_client, bob.meeting, entry_for(db, entry.child), "accept")
    assert again.status_code == 422
    assert "Förslaget är redan besvarat." in again.text


def test_declining_shreds_the_proposal_at_once(bob: Bob, db: Session) -> None:
    assert (
        submit(bob.police_client, bob.meeting.id, NEW, text="Polisens oro: N2").status_code == 302
    )
    entry = only_entry(db)
    child = entry.child
    record_ids = set(db.scalars(select(Record.id).where(Record.child_id == child.id)))
    # The police record, the identity and the written assessment behind their disclosure.
    assert len(record_ids) == 3

    bad = post_entry(bob.social_client, bob.meeting, entry, "decline", {"reason": "bored"})
    assert bad.status_code == 422
    assert entry_for(db, child).state is CaseSyncState.PROPOSED

    declined = bob.social_client.post(
        entry_url(bob.meeting, entry, "decline"),
        data={
            f"decline-{entry.id}-reason": "not_in_area",
            f"decline-{entry.id}-version": str(entry.version),
        },
    )
    assert declined.status_code == 302
    entry = entry_for(db, child)
    assert entry.state is CaseSyncState.DECLINED
    assert entry.decline_reason == "not_in_area"
    assert entry.identity_index.startswith(FORGOTTEN_INDEX)
    assert child.status is ChildStatus.SHREDDED
    assert child.identity_index is None and child.birth_date_sealed is None
    assert child.shredded_at is not None
    records = db.scalars(select(Record).where(Record.id.in_(record_ids))).all()
    assert all(r.ciphertext is None and r.shredded_at is not None for r in records)
    assert db.scalars(select(RecordKey).where(RecordKey.record_id.in_(record_ids))).all() == []

    police_page = bob.police_client.get(sync_url(bob.meeting)).text
    assert "Avböjd" in police_page
    assert "Polisens oro: N2" not in police_page
    assert "Bor inte i området" not in police_page  # the reason is social services' own
    assert "Bor inte i området" in bob.social_client.get(sync_url(bob.meeting)).text

    # The number is forgotten: submitting it again (next meeting) is a new proposal.
    later = make_meeting(db, bob.council, MEETING_START + dt.timedelta(days=28))
    assert submit(bob.police_client, later.id, NEW).status_code == 302
    fresh = only_entry(db, meeting_id=later.id)
    assert fresh.child_id != child.id
    assert fresh.state is CaseSyncState.PROPOSED
    assert_nowhere_in_clear(db, NEW)


def test_a_second_submission_joins_an_open_proposal(bob: Bob, db: Session) -> None:
    later = make_meeting(db, bob.council, MEETING_START + dt.timedelta(days=28))
    assert submit(bob.police_client, bob.meeting.id, NEW).status_code == 302
    assert submit(bob.police_client, later.id, NEW).status_code == 302
    first = only_entry(db, meeting_id=bob.meeting.id)
    second = only_entry(db, meeting_id=later.id)
    assert first.child_id == second.child_id
    assert db.scalar(select(func.count()).select_from(Child)) == 1
    response = post_entry(bob.social_client, later, second, "accept")
    assert response.status_code == 302
    db.expire_all()
    assert {e.state for e in db.scalars(select(CaseSyncEntry))} == {CaseSyncState.ACCEPTED}


def test_a_stale_form_is_a_conflict(bob: Bob, db: Session) -> None:
    assert submit(bob.police_client, bob.meeting.id, NEW).status_code == 302
    entry = only_entry(db)
    # A form without its version cannot prove it saw the latest state either.
    bare = bob.social_client.post(entry_url(bob.meeting, entry, "accept"))
    assert bare.status_code == 409  # a conflict, as the page wrapper answers every one
    assert "Någon annan har ändrat uppgifterna" in bare.text
    stale = bob.social_client.post(
        entry_url(bob.meeting, entry, "accept"),
        data={f"accept-{entry.id}-version": str(entry.version + 1)},
    )
    assert stale.status_code == 409
    assert "Någon annan har ändrat uppgifterna" in stale.text
    assert entry_for(db, entry.child).state is CaseSyncState.PROPOSED


# --- Answers ------------------------------------------------------------------------------------


def test_a_withheld_answer_looks_exactly_like_no_answer_to_the_police(
    bob: Bob, db: Session
) -> None:
    withheld_child = enrol(db, bob, KNOWN)
    disclosed_child = enrol(db, bob, OTHER_KNOWN)
    assert submit(bob.police_client, bob.meeting.id, KNOWN).status_code == 302
    assert submit(bob.police_client, bob.meeting.id, OTHER_KNOWN).status_code == 302
    withheld = entry_for(db, withheld_child)
    disclosed = entry_for(db, disclosed_child)

    bob.police_client.get(sync_url(bob.meeting))  # shows (and so clears) the flash messages
    unanswered_view = bob.police_client.get(sync_url(bob.meeting))
    assert unanswered_view.status_code == 200
    unanswered_child_page = bob.police_client.get(f"/children/{withheld_child.id}")
    response = answer(bob.social_client, bob.meeting, withheld, "Känd: insats W1")
    assert response.status_code == 302
    withheld = entry_for(db, withheld_child)
    assert withheld.answer_record_id is not None and withheld.answered_at is not None
    assert (
        db.scalars(
            select(Disclosure).where(Disclosure.record_id == withheld.answer_record_id)
        ).all()
        == []
    )
    withheld_view = bob.police_client.get(sync_url(bob.meeting))
    assert without_csrf(withheld_view.text) == without_csrf(unanswered_view.text)
    # Nor does the child page list the withheld answer (its very existence is secret).
    withheld_child_page = bob.police_client.get(f"/children/{withheld_child.id}")
    assert without_csrf(withheld_child_page.text) == without_csrf(unanswered_child_page.text)
    assert "Inget svar utlämnat" in withheld_view.text
    assert "Känd: insats W1" not in withheld_view.text
    social_page = bob.social_client.get(sync_url(bob.meeting)).text
    assert "Känd: insats W1" in social_page
    assert "Inte utlämnat till polisen." in social_page

    # Disclosure under 10 kap. 18 a § OSL needs all three statements; refused stores nothing.
    before = counts(db)
    refused = answer(
        bob.social_client, bob.meeting, disclosed, "Insats D1", "sol-police-u21", SOL_POLICE[:2]
    )
    assert refused.status_code == 422
    assert "Bekräfta varje förutsättning" in refused.text
    db.expire_all()
    assert counts(db) == before
    assert entry_for(db, disclosed_child).answer_record_id is None
    done = answer(
        bob.social_client, bob.meeting, disclosed, "Insats D1", "sol-police-u21", SOL_POLICE
    )
    assert done.status_code == 302
    disclosed = entry_for(db, disclosed_child)
    decision = db.scalars(
        select(Disclosure).where(Disclosure.record_id == disclosed.answer_record_id)
    ).one()
    assert (decision.basis_id, decision.recipient_agency_id) == (
        "sol-police-u21",
        bob.police.agency_id,
    )
    police_page = bob.police_client.get(sync_url(bob.meeting)).text
    assert "Insats D1" in police_page
    assert "med stöd av 10 kap. 18 a § OSL" in police_page
    assert "Känd: insats W1" not in police_page
    # The withheld answer was never even opened on the police's behalf.
    police_reveals = db.scalars(
        select(AuditEvent).where(
            AuditEvent.tag == "secrecy:record:reveal",
            AuditEvent.actor_agency_id == bob.police.agency_id,
        )
    ).all()
    assert police_reveals
    assert all(withheld.answer_record_id not in e.object_ids for e in police_reveals)
    assert all(
        e.details["withheld"] == 0 for e in police_reveals if e.details["purpose"] == "case_sync"
    )
    # Answered once only.
    twice = answer(bob.social_client, bob.meeting, disclosed, "Igen")
    assert twice.status_code == 422
    assert "redan besvarad" in twice.text


def test_a_proposal_is_answered_after_it_is_accepted(bob: Bob, db: Session) -> None:
    assert submit(bob.police_client, bob.meeting.id, NEW).status_code == 302
    entry = only_entry(db)
    early = answer(bob.social_client, bob.meeting, entry, "För tidigt")
    assert early.status_code == 422
    assert "Ta först ställning till förslaget" in early.text
    assert post_entry(bob.social_client, bob.meeting, entry, "accept").status_code == 302
    entry = only_entry(db)
    assert answer(bob.social_client, bob.meeting, entry, "Nu", "consent", ()).status_code == 422
    assert answer(bob.social_client, bob.meeting, entry, "Nu").status_code == 302


# --- Ages and bases -----------------------------------------------------------------------------


def test_a_young_adult_goes_under_the_general_clause(bob: Bob, db: Session) -> None:
    before = counts(db)
    refused = submit(bob.police_client, bob.meeting.id, ADULT, confirmations=CONCERN)
    assert refused.status_code == 422
    assert "Generalklausulen (10 kap. 27 § OSL)" in refused.text
    db.expire_all()
    assert counts(db) == before
    done = submit(bob.police_client, bob.meeting.id, ADULT, confirmations=GENERAL)
    assert done.status_code == 302
    entry = only_entry(db)
    bases = {d.basis_id for d in db.scalars(select(Disclosure))}
    assert bases == {"general-clause"}
    assert entry.state is CaseSyncState.PROPOSED
    page = bob.social_client.get(sync_url(bob.meeting)).text
    assert "Utlämnad av Test police med stöd av 10 kap. 27 § OSL" in page


def test_no_basis_is_refused_with_the_engines_reason(bob: Bob, db: Session) -> None:
    """With the submission bases switched off (a municipality's rules may do that), the
    submission is refused with the engine's own reasons and nothing is stored."""
    from secrecy.policy import rules

    original = rules.legal_bases()
    disabled = {
        key: (
            rules.LegalBasis(**{**basis.__dict__, "enabled": False})
            if key in SUBMISSION_BASES
            else basis
        )
        for key, basis in original.items()
    }
    before = counts(db)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("secrecy.disclosure.services.legal_bases", lambda: disabled)
        response = submit(bob.police_client, bob.meeting.id, NEW)
    assert response.status_code == 422
    assert "Ingen rättslig grund medger att uppgiften lämnas till Test social_services." in (
        response.text
    )
    assert "Regeln är avstängd." in response.text
    db.expire_all()
    assert counts(db) == before


# --- Who sees what ------------------------------------------------------------------------------


def test_social_services_see_the_police_record_and_the_school_does_not(
    bob: Bob, db: Session
) -> None:
    child = enrol(db, bob, KNOWN)
    assert submit(
        bob.police_client, bob.meeting.id, KNOWN, text="Polisens oro: S1"
    ).status_code == (302)
    assert (
        submit(bob.police_client, bob.meeting.id, NEW, text="Polisens oro: S2").status_code == 302
    )
    record = db.get(Record, entry_for(db, child).police_record_id)
    assert record is not None

    assert bob.school_client.get(sync_url(bob.meeting)).status_code == 403
    assert submit(bob.school_client, bob.meeting.id, OTHER_KNOWN).status_code == 403
    school_child_page = bob.school_client.get(f"/children/{child.id}").text
    assert "Polisens oro: S1" not in school_child_page
    assert "Ingen uppgiftslämning till din myndighet." in school_child_page
    social_child_page = bob.social_client.get(f"/children/{child.id}").text
    assert "Polisens oro: S1" in social_child_page

    with bob.school_client.application.test_request_context():
        assert isinstance(reveal_records(db, bob.school, [record])[0], Withheld)
        assert isinstance(reveal_records(db, bob.social, [record])[0], Revealed)
    # Social services cannot submit, the police cannot accept or answer.
    assert submit(bob.social_client, bob.meeting.id, OTHER_KNOWN).status_code == 403
    proposal = only_entry(db, state=CaseSyncState.PROPOSED)
    assert bob.police_client.post(entry_url(bob.meeting, proposal, "accept")).status_code == 403
    matched = entry_for(db, child)
    assert answer(bob.police_client, bob.meeting, matched, "x").status_code == 403


def test_outsiders_get_403_everywhere(app: Flask, bob: Bob, db: Session, world: Council3) -> None:
    enrol(db, bob, KNOWN)
    assert submit(bob.police_client, bob.meeting.id, KNOWN).status_code == 302
    assert submit(bob.police_client, bob.meeting.id, NEW).status_code == 302
    entries = db.scalars(select(CaseSyncEntry).order_by(CaseSyncEntry.id)).all()
    outsiders = [
        UserFactory(agency=world.agencies[AgencyKind.POLICE], email="polis2@example.com"),
        UserFactory(agency=world.agencies[AgencyKind.SOCIAL_SERVICES], email="soc2@example.com"),
        world.coordinator,  # a coordinator of another council
    ]
    for user in outsiders:
        client = log_in(app.test_client(), user)
        page = client.get(sync_url(bob.meeting))
        assert page.status_code == 403
        assert "Polisens oro" not in page.text
        assert submit(client, bob.meeting.id, OTHER_KNOWN).status_code == 403
        for entry in entries:
            for action in ("accept", "decline", "answer"):
                assert client.post(entry_url(bob.meeting, entry, action)).status_code == 403
    assert bob.police_client.get("/meetings/999999/sync").status_code == 403
    # An entry id under another meeting's URL is refused, not acted on.
    later = make_meeting(db, bob.council, MEETING_START + dt.timedelta(days=28))
    proposal = next(e for e in entries if e.state is CaseSyncState.PROPOSED)
    assert bob.social_client.post(entry_url(later, proposal, "accept")).status_code == 403
    assert only_entry(db, id=proposal.id).state is CaseSyncState.PROPOSED
    assert "access:denied" in audit_tags(db)


def test_a_council_that_is_not_bob_has_no_case_sync(
    app: Flask, bob: Bob, db: Session, world: Council3
) -> None:
    sspf_meeting = make_meeting(db, world.council)
    police = log_in(app.test_client(), world.members[AgencyKind.POLICE])
    assert police.get(sync_url(sspf_meeting)).status_code == 404
    assert submit(police, sspf_meeting.id, KNOWN).status_code == 404
    with app.test_request_context(), pytest.raises(ServiceError):
        submit_case(
            db,
            world.members[AgencyKind.POLICE],
            sspf_meeting,
            Submission(KNOWN, "x", {"concern-report": [0]}),
        )
    assert db.scalars(select(CaseSyncEntry)).all() == []


def test_a_held_meeting_takes_no_submissions(bob: Bob, db: Session) -> None:
    bob.meeting.status = MeetingStatus.HELD
    db.flush()
    page = bob.police_client.get(sync_url(bob.meeting))
    assert "Det går bara att anmäla inför ett planerat möte." in page.text
    refused = submit(bob.police_client, bob.meeting.id, KNOWN)
    assert refused.status_code == 422
    assert db.scalars(select(CaseSyncEntry)).all() == []


# --- The log ------------------------------------------------------------------------------------


def test_every_step_is_logged_with_ids_only(bob: Bob, db: Session) -> None:
    child = enrol(db, bob, KNOWN)
    assert submit(bob.police_client, bob.meeting.id, KNOWN).status_code == 302
    assert submit(bob.police_client, bob.meeting.id, NEW).status_code == 302
    assert submit(bob.police_client, bob.meeting.id, ADULT, confirmations=GENERAL).status_code == (
        302
    )
    proposals = db.scalars(
        select(CaseSyncEntry).where(CaseSyncEntry.state == CaseSyncState.PROPOSED)
    ).all()
    accept_me, decline_me = sorted(proposals, key=lambda e: e.id)
    assert post_entry(bob.social_client, bob.meeting, accept_me, "accept").status_code == 302
    assert (
        post_entry(
            bob.social_client,
            bob.meeting,
            decline_me,
            "decline",
            {"reason": "insufficient_grounds"},
        ).status_code
        == 302
    )
    matched = entry_for(db, child)
    assert answer(bob.social_client, bob.meeting, matched, "Svar L1").status_code == 302

    events = db.scalars(
        select(AuditEvent).where(AuditEvent.tag.in_([t.value for t in CASE_SYNC_TAGS]))
    ).all()
    assert {e.tag for e in events} == {t.value for t in CASE_SYNC_TAGS}
    for event in events:
        assert event.object_type == "case_sync_entry"
        assert event.object_ids
        serialised = json.dumps(event.details)
        for number in (KNOWN, NEW, ADULT):
            assert not any(form in serialised for form in number_forms(number))
        assert "Svar L1" not in serialised and "Polisens oro" not in serialised
    decline_event = next(e for e in events if e.tag == MeetingTag.CASE_SYNC_DECLINE.value)
    assert decline_event.details["reason"] == "insufficient_grounds"
    assert decline_event.details["shredded_records"] == 3  # with the police's assessment
    answer_event = next(e for e in events if e.tag == MeetingTag.CASE_SYNC_ANSWER.value)
    assert answer_event.details["disclosed"] is False
    assert "secrecy:disclosure:decide" in audit_tags(db)
    assert_nowhere_in_clear(db, KNOWN, NEW, ADULT)


@pytest.mark.csrf
def test_the_submission_form_needs_its_csrf_token(bob: Bob, db: Session) -> None:
    refused = submit(bob.police_client, bob.meeting.id, NEW)
    assert refused.status_code == 400
    assert db.scalars(select(CaseSyncEntry)).all() == []
    token = csrf_token_from(bob.police_client.get(sync_url(bob.meeting)).text)
    accepted = bob.police_client.post(
        f"/meetings/{bob.meeting.id}/sync/submit",
        data={
            "csrf_token": token,
            "personnummer": NEW,
            "text": "Polisens oro: C1",
            "confirmations": list(CONCERN),
            "assessment": ASSESSED,
        },
    )
    assert accepted.status_code == 302
    assert only_entry(db).state is CaseSyncState.PROPOSED


def test_a_race_on_the_same_number_is_refused_and_undone(
    bob: Bob, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two officers submit the same young person at once: the second one passes the check
    before the first has written, and the unique constraint refuses it; nothing half-written
    stays behind."""
    enrol(db, bob, KNOWN)
    assert submit(bob.police_client, bob.meeting.id, KNOWN).status_code == 302
    before = counts(db)
    monkeypatch.setattr(submission_module, "_entry_with_index", lambda *args: None)
    raced = submit(bob.police_client, bob.meeting.id, KNOWN)
    assert raced.status_code == 422
    assert "anmäldes samtidigt av någon annan" in raced.text
    db.expire_all()
    assert counts(db) == before


def test_the_page_makes_no_query_per_row(app: Flask, bob: Bob, db: Session) -> None:

    numbers = [KNOWN, OTHER_KNOWN, "20090303-0013"]
    fresh = [NEW, "20100101-0022", "20100101-0030"]
    children = [enrol(db, bob, n) for n in numbers]

    def add_pair(index: int) -> None:
        assert submit(bob.police_client, bob.meeting.id, numbers[index]).status_code == 302
        assert submit(bob.police_client, bob.meeting.id, fresh[index]).status_code == 302
        matched = entry_for(db, children[index])
        assert answer(bob.social_client, bob.meeting, matched, f"Svar {index}").status_code == 302

    def statements(client: FlaskClient) -> int:
        with sql_statements(app) as seen:
            assert client.get(sync_url(bob.meeting)).status_code == 200
        return len(seen)

    add_pair(0)
    bob.social_client.get(sync_url(bob.meeting))  # clear the flash messages
    bob.police_client.get(sync_url(bob.meeting))
    few = (statements(bob.social_client), statements(bob.police_client))
    add_pair(1)
    add_pair(2)
    bob.social_client.get(sync_url(bob.meeting))
    bob.police_client.get(sync_url(bob.meeting))
    many = (statements(bob.social_client), statements(bob.police_client))
    assert len(db.scalars(select(CaseSyncEntry)).all()) == 6
    assert many == few


def test_gallring_also_forgets_the_case_sync_index(bob: Bob, db: Session) -> None:
    from meetings.jobs import forget_shredded_sync_indexes
    from secrecy.records import sealing

    child = enrol(db, bob, KNOWN)
    assert submit(bob.police_client, bob.meeting.id, KNOWN).status_code == 302
    entry = entry_for(db, child)
    assert not entry.identity_index.startswith(FORGOTTEN_INDEX)
    assert forget_shredded_sync_indexes(db, utcnow()) == 0  # the case is not shredded
    db.refresh(child)
    child.status = ChildStatus.CLOSED
    sealing.shred_child(db, child)
    assert forget_shredded_sync_indexes(db, utcnow()) == 1
    assert forget_shredded_sync_indexes(db, utcnow()) == 0  # idempotent
    db.expire_all()
    assert entry_for(db, child).identity_index == f"{FORGOTTEN_INDEX}{entry.id}"


def test_an_unanswered_proposal_is_shredded_after_the_period(
    app: Flask, bob: Bob, db: Session
) -> None:
    from meetings.jobs import expire_sync_proposals

    assert submit(bob.police_client, bob.meeting.id, NEW, text="Polisens oro: N3").status_code == (
        302
    )
    entry = only_entry(db)
    child = entry.child
    record_ids = set(db.scalars(select(Record.id).where(Record.child_id == child.id)))
    days = app.config["CASE_SYNC_PROPOSAL_DAYS"]
    within = bob.meeting.starts_at + dt.timedelta(days=days - 1)
    after = bob.meeting.starts_at + dt.timedelta(days=days + 1)
    with app.app_context():  # the scheduler runs jobs inside the app's context
        assert expire_sync_proposals(db, within) == 0  # still inside the period
        assert entry_for(db, child).state is CaseSyncState.PROPOSED
        assert expire_sync_proposals(db, after) == 1
        assert expire_sync_proposals(db, after) == 0  # idempotent
    entry = entry_for(db, child)
    assert entry.state is CaseSyncState.DECLINED
    assert entry.decline_reason == DeclineReason.EXPIRED
    assert entry.identity_index.startswith(FORGOTTEN_INDEX)
    assert child.status is ChildStatus.SHREDDED
    records = db.scalars(select(Record).where(Record.id.in_(record_ids))).all()
    assert all(r.ciphertext is None for r in records)
    assert db.scalars(select(RecordKey).where(RecordKey.record_id.in_(record_ids))).all() == []
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == str(MeetingTag.CASE_SYNC_DECLINE))
    ).one()
    assert event.actor_user_id is None and event.details["reason"] == "expired"
    assert_nowhere_in_clear(db, NEW)
    # The reason shows on social services' page; nobody can choose it by hand.
    assert "Obesvarat i tid" in bob.social_client.get(sync_url(bob.meeting)).text


def test_expired_cannot_be_chosen_by_hand(bob: Bob, db: Session) -> None:
    assert submit(bob.police_client, bob.meeting.id, NEW).status_code == 302
    entry = only_entry(db)
    response = post_entry(bob.social_client, bob.meeting, entry, "decline", {"reason": "expired"})
    assert response.status_code == 422
    assert entry_for(db, entry.child).state is CaseSyncState.PROPOSED


# --- The written assessment behind each disclosure (issue 19) ------------------------------------

POLICE_WHY = (
    "POLISBEDÖMNING-1: socialtjänsten behöver uppgifterna för att bedöma om den unge far illa."
)
SOCIAL_WHY = "SOCBEDÖMNING-2: svaret behövs för att polisen ska kunna förebygga nya brott nu."


def test_the_submission_and_the_answer_carry_their_written_assessments(
    bob: Bob, db: Session
) -> None:
    page = bob.police_client.get(sync_url(bob.meeting)).text
    assert 'name="assessment"' in page
    before = counts(db)
    missing = submit(bob.police_client, bob.meeting.id, NEW, assessment="")
    assert missing.status_code == 422
    assert "Skriv er bedömning" in missing.text and 'id="assessment-error"' in missing.text
    db.expire_all()
    assert counts(db) == before

    assert submit(bob.police_client, bob.meeting.id, NEW, assessment=POLICE_WHY).status_code == 302
    entry = only_entry(db)
    # One assessment behind both decisions of the proposal (the record and the identity).
    decisions = db.scalars(select(Disclosure).order_by(Disclosure.id)).all()
    assert len(decisions) == 2
    assert len({d.assessment_record_id for d in decisions}) == 1
    assessment = db.get_one(Record, decisions[0].assessment_record_id)
    assert assessment.owner_agency_id == bob.police.agency_id
    opened = reveal_one(db, bob.police, assessment)
    assert not opened.withheld and opened.content["decisions"] == 2
    assert POLICE_WHY in bob.social_client.get(sync_url(bob.meeting)).text
    assert POLICE_WHY not in bob.school_client.get(sync_url(bob.meeting)).text

    assert post_entry(bob.social_client, bob.meeting, entry, "accept").status_code == 302
    entry = only_entry(db)
    answer_form = f'name="answer-{entry.id}-assessment"'
    assert answer_form in bob.social_client.get(sync_url(bob.meeting)).text
    before = counts(db)

    def answer_to_police(assessment: str) -> TestResponse:
        return answer(
            bob.social_client,
            bob.meeting,
            entry,
            "Svar-A1",
            "sol-police-u21",
            SOL_POLICE,
            assessment=assessment,
        )

    unassessed = answer_to_police("")
    assert unassessed.status_code == 422
    assert f'id="answer-{entry.id}-assessment-error"' in unassessed.text
    db.expire_all()
    assert counts(db) == before
    done = answer_to_police(SOCIAL_WHY)
    assert done.status_code == 302
    police_page = bob.police_client.get(sync_url(bob.meeting)).text
    assert "Svar-A1" in police_page and SOCIAL_WHY in police_page
    assert SOCIAL_WHY not in bob.school_client.get(sync_url(bob.meeting)).text


def test_confirmations_read_only_plain_statement_numbers() -> None:
    # A superscript digit passes str.isdigit but not int(): it is passed over, as is a number
    # longer than any rule's list of statements.
    values = ["concern-report:0", "concern-report:\N{SUPERSCRIPT TWO}", "x:1000", "y:-1", "x:1"]
    assert confirmed_by_basis(values) == {"concern-report": [0], "x": [1]}
