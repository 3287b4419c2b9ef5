"""The one door: who sees a record's content, what is logged, and the services around records
and children (enrolment, correction, closing)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence

import pytest
import time_machine
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.db import LOCAL_ZONE, get_database, today_local
from coordination.errors import PermissionDenied, ServiceError
from coordination.models import AgencyKind, Child, ChildStatus, CloseReason, Role, User
from secrecy.models import Disclosure, Record, RecordKey
from secrecy.policy.engine import WithheldReason
from secrecy.records import children as child_cases
from secrecy.records import crypto, reveal, sealing, services
from secrecy.records.reveal import Revealed, RevealResult, Withheld
from secrecy.tags import SecrecyTag
from tests.conftest import Council3, audit_events
from tests.factories import (
    CouncilFactory,
    MembershipFactory,
    UserFactory,
    disclose_under_21_rule,
    member_of_new_agency,
)
from tests.numbers import personnummer

SOCIAL = AgencyKind.SOCIAL_SERVICES
POLICE = AgencyKind.POLICE
SCHOOL = AgencyKind.SCHOOL
MARKER = "HEMLIG-MARKÖR-91b2 åäö"
GIVEN, FAMILY = "Zlatana", "Qvarnström"
BORN = dt.date(2011, 7, 4)


def enrolment(serial: int = 123, born: dt.date = BORN) -> child_cases.EnrolmentData:
    return child_cases.EnrolmentData(
        given_names=GIVEN,
        family_name=FAMILY,
        personnummer=personnummer(born, serial),
        guardians=[child_cases.Guardian(name="Vårdnadshavare Ett", phone="070-1234567")],
        address="Hemliga gatan 1",
    )


def count_events(db: Session, tag: SecrecyTag) -> int:
    return db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.tag == tag)) or 0


def only(results: Sequence[RevealResult]) -> RevealResult:
    assert len(results) == 1
    return results[0]


def shred(db: Session, actor: User, child: Child) -> int:
    """Close the case and crypto-shred it, as retention does."""
    if child.status is ChildStatus.ACTIVE:
        child_cases.close_case(db, actor, child, CloseReason.AGE_LIMIT)
    shredded = sealing.shred_child(db, child)
    child.status = ChildStatus.SHREDDED
    db.flush()
    return shredded


def enrolled_by_social_services(db: Session, world: Council3) -> Child:
    """The child of ``enrolment()``, enrolled by the social services member."""
    return child_cases.enrol_child(db, world.members[SOCIAL], world.council, enrolment())


@pytest.fixture
def child(db: Session, world: Council3) -> Child:
    return enrolled_by_social_services(db, world)


@pytest.fixture
def record(db: Session, world: Council3, child: Child) -> Record:
    return services.create_record(db, world.members[SOCIAL], child, "family", MARKER)


def outsider_of(db: Session, kind: AgencyKind, world: Council3, **kwargs: object) -> User:
    """A user of the given agency who is not a member of the world council."""
    return UserFactory(agency=world.agencies[kind], **kwargs)


# --- Who sees -----------------------------------------------------------------------------------


def test_owner_agency_member_sees_the_content(db: Session, world: Council3, record: Record) -> None:
    for viewer in (world.members[SOCIAL], world.coordinator):  # both social services users
        result = reveal.reveal_one(db, viewer, record)
        assert isinstance(result, Revealed)
        assert result.withheld is False
        assert result.record is record
        assert result.content == {"text": MARKER}


def test_another_agency_in_the_council_is_withheld(
    db: Session, world: Council3, record: Record
) -> None:
    for kind in AgencyKind:
        if kind is SOCIAL:
            continue
        result = reveal.reveal_one(db, world.members[kind], record)
        assert isinstance(result, Withheld)
        assert result.withheld is True
        assert result.reason_code is WithheldReason.NO_DISCLOSURE
        assert result.reason == "Ingen uppgiftslämning till din myndighet."
        assert not hasattr(result, "content")


def test_owner_agency_user_outside_the_council_is_withheld(
    db: Session, world: Council3, record: Record
) -> None:
    outsider = outsider_of(db, SOCIAL, world)
    result = reveal.reveal_one(db, outsider, record)
    assert isinstance(result, Withheld)
    assert result.reason_code is WithheldReason.NOT_MEMBER
    assert result.reason == "Du är inte medlem i barnets forum."


def test_membership_of_another_council_does_not_count(
    db: Session, world: Council3, record: Record
) -> None:
    other_council = CouncilFactory(agencies=[world.agencies[SOCIAL]])
    outsider = outsider_of(db, SOCIAL, world)
    MembershipFactory(council=other_council, user=outsider)
    result = reveal.reveal_one(db, outsider, record)
    assert isinstance(result, Withheld) and result.reason_code is WithheldReason.NOT_MEMBER


def test_admin_role_gives_no_content(
    db: Session, world: Council3, admin: User, record: Record
) -> None:
    owner_admin = outsider_of(db, SOCIAL, world, roles={Role.ADMIN, Role.AUDITOR})
    for viewer in (admin, owner_admin):
        result = reveal.reveal_one(db, viewer, record)
        assert isinstance(result, Withheld)
        assert result.reason_code is WithheldReason.NOT_MEMBER


def test_a_deactivated_member_sees_nothing(db: Session, world: Council3, record: Record) -> None:
    member = world.members[SOCIAL]
    member.active = False
    db.flush()
    result = reveal.reveal_one(db, member, record)
    assert isinstance(result, Withheld) and result.reason_code is WithheldReason.NOT_MEMBER


def test_a_shredded_record_is_withheld(
    db: Session, world: Council3, child: Child, record: Record
) -> None:
    assert shred(db, world.members[SOCIAL], child) == 2  # identity and family
    db.expire_all()
    records = services.child_records(db, child)
    assert len(records) == 2
    for result in reveal.reveal_records(db, world.members[SOCIAL], records):
        assert isinstance(result, Withheld)
        assert result.reason_code is WithheldReason.SHREDDED
        assert result.reason == "Uppgiften är gallrad."
    assert child.identity_index is None and child.birth_date_sealed is None
    assert child.shredded_at is not None
    # Nothing is left that could open it again.
    assert db.scalars(select(RecordKey).where(RecordKey.record_id == record.id)).all() == []


def test_policy_yes_but_no_key_is_withheld(db: Session, world: Council3, record: Record) -> None:
    key = db.get(RecordKey, (record.id, record.owner_agency_id))
    assert key is not None
    db.delete(key)
    db.flush()
    result = reveal.reveal_one(db, world.members[SOCIAL], record)
    assert isinstance(result, Withheld)
    assert result.reason_code is WithheldReason.NO_KEY
    assert result.reason == "Din myndighet har ingen nyckel till uppgiften."
    (event,) = audit_events(db, SecrecyTag.RECORD_REVEAL)
    assert event.object_ids == [] and event.details["withheld"] == 1


def test_a_key_without_a_disclosure_does_not_reveal(
    db: Session, world: Council3, record: Record
) -> None:
    police = world.members[POLICE]
    ring = crypto.keyring(db)
    data_key = crypto.unwrap_data_key(ring, db.get(RecordKey, (record.id, record.owner_agency_id)))
    police_key = crypto.wrap_data_key(ring, record, data_key, police.agency_id)
    db.flush()
    # The key is genuine: it opens the record when used directly.
    assert crypto.open_record(ring, record, police_key) == {"text": MARKER}
    result = reveal.reveal_one(db, police, record)
    assert isinstance(result, Withheld)
    assert result.reason_code is WithheldReason.NO_DISCLOSURE


def test_a_damaged_record_is_withheld_and_the_rest_still_open(
    db: Session, world: Council3, child: Child, record: Record
) -> None:
    viewer = world.members[SOCIAL]
    good = services.create_record(db, viewer, child, "school", "hel")
    assert record.ciphertext is not None
    damaged = bytearray(record.ciphertext)
    damaged[-1] ^= 0x01
    record.ciphertext = bytes(damaged)
    db.flush()
    broken, fine = reveal.reveal_records(db, viewer, [record, good])
    assert isinstance(broken, Withheld) and broken.reason_code is WithheldReason.KEY_ERROR
    assert "nyckelfel" in broken.reason
    assert isinstance(fine, Revealed) and fine.content == {"text": "hel"}
    event = audit_events(db, SecrecyTag.RECORD_REVEAL)[-1]
    assert event.object_ids == [good.id] and event.details["withheld"] == 1


def test_results_keep_the_order_of_the_request(
    db: Session, world: Council3, child: Child, record: Record
) -> None:
    police_record = services.create_record(db, world.members[POLICE], child, "crime_police", "p")
    second = services.create_record(db, world.members[SOCIAL], child, "school", "skola")
    results = reveal.reveal_records(db, world.members[SOCIAL], [second, police_record, record])
    assert [r.record.id for r in results] == [second.id, police_record.id, record.id]
    assert [r.withheld for r in results] == [False, True, False]
    assert isinstance(results[0], Revealed) and results[0].content == {"text": "skola"}
    assert isinstance(results[2], Revealed) and results[2].content == {"text": MARKER}


# --- The audit event of a reveal -----------------------------------------------------------------


def test_one_audit_event_per_call_naming_revealed_ids_only(
    db: Session, world: Council3, child: Child, record: Record
) -> None:
    viewer = world.members[SOCIAL]
    police_record = services.create_record(
        db, world.members[POLICE], child, "crime_police", MARKER + " polis"
    )
    identity = services.current_identity_record(db, child)
    assert identity is not None
    before = count_events(db, SecrecyTag.RECORD_REVEAL)

    results = reveal.reveal_records(
        db, viewer, [record, police_record, identity], purpose="meeting"
    )

    assert [r.withheld for r in results] == [False, True, False]
    assert count_events(db, SecrecyTag.RECORD_REVEAL) == before + 1
    event = audit_events(db, SecrecyTag.RECORD_REVEAL)[-1]
    assert event.object_type == "record"
    assert event.object_ids == sorted([record.id, identity.id])
    assert police_record.id not in event.object_ids
    assert event.actor_user_id == viewer.id and event.actor_agency_id == viewer.agency_id
    assert event.details == {
        "purpose": "meeting",
        "child_ids": [child.id],
        "withheld": 1,
        "via_disclosure": [],
    }
    stored = json.dumps([event.object_type, event.object_ids, event.details], ensure_ascii=False)
    for secret in (MARKER, "HEMLIG", GIVEN, FAMILY, "Hemliga gatan", BORN.isoformat()):
        assert secret not in stored


def test_a_call_with_only_withheld_records_still_logs(
    db: Session, world: Council3, record: Record
) -> None:
    reveal.reveal_records(db, world.members[POLICE], [record])
    (event,) = audit_events(db, SecrecyTag.RECORD_REVEAL)
    assert event.object_ids == [] and event.details["withheld"] == 1
    assert event.details["purpose"] == "view"


def test_an_empty_call_writes_nothing(db: Session, world: Council3, record: Record) -> None:
    total = db.scalar(select(func.count()).select_from(AuditEvent))
    assert reveal.reveal_records(db, world.members[SOCIAL], []) == []
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == total


def test_each_call_is_its_own_event(db: Session, world: Council3, record: Record) -> None:
    for _ in range(3):
        reveal.reveal_one(db, world.members[SOCIAL], record)
    assert [e.object_ids for e in audit_events(db, SecrecyTag.RECORD_REVEAL)] == [[record.id]] * 3


# --- One call, many records: what is worked out once ---------------------------------------------


def disclosed_to_police(db: Session, world: Council3, born: dt.date, serial: int) -> Record:
    """A child born on ``born`` with a social services record disclosed to the police under
    the under-21 rule (10 kap. 18 a § OSL), as decided on the day the test runs."""

    social = world.members[SOCIAL]
    enrolled = child_cases.enrol_child(db, social, world.council, enrolment(serial, born))
    record = services.create_record(db, social, enrolled, "risk_protective", f"risk {serial}")
    disclose_under_21_rule(db, social, record, world.agencies[POLICE])
    return record


def test_a_verdict_shared_within_a_call_still_lapses_for_a_child_who_turns_21_today(
    db: Session, world: Council3
) -> None:
    """The reveal keeps each verdict for the records of the call with the same facts; a child
    who turns 21 today must not inherit the answer worked out for a younger child's record
    (same owner, category, basis and recipient), whichever comes first in the call."""
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_ZONE), tick=False):
        turning_21 = disclosed_to_police(db, world, dt.date(2005, 6, 10), 601)
        younger = disclosed_to_police(db, world, dt.date(2006, 1, 15), 602)
        same_age = disclosed_to_police(db, world, dt.date(2005, 11, 30), 603)
    police = world.members[POLICE]
    with time_machine.travel(dt.datetime(2026, 6, 9, 12, 0, tzinfo=LOCAL_ZONE), tick=False):
        assert [r.withheld for r in reveal.reveal_records(db, police, [turning_21])] == [False]
    with time_machine.travel(dt.datetime(2026, 6, 10, 12, 0, tzinfo=LOCAL_ZONE), tick=False):
        for order in ([younger, turning_21, same_age], [turning_21, younger, same_age]):
            by_id = {r.record.id: r for r in reveal.reveal_records(db, police, order)}
            lapsed = by_id[turning_21.id]
            assert isinstance(lapsed, Withheld)
            assert lapsed.reason_code is WithheldReason.LAPSED
            assert lapsed.reason == "Den unge har fyllt 21 år."
            for record, serial in ((younger, 602), (same_age, 603)):
                shown = by_id[record.id]
                assert isinstance(shown, Revealed)
                assert shown.content == {"text": f"risk {serial}"}
                assert shown.via is not None and shown.via.basis is not None
                assert shown.via.basis.id == "sol-police-u21"
        event = audit_events(db, SecrecyTag.RECORD_REVEAL)[-1]
        # The records shown, and the assessments opened with them (the lapsed one's is not).
        assessments = db.scalars(
            select(Disclosure.assessment_record_id).where(
                Disclosure.record_id.in_([younger.id, same_age.id])
            )
        ).all()
        assert event.object_ids == sorted([younger.id, same_age.id, *assessments])
        assert event.details["withheld"] == 1
        assert len(event.details["via_disclosure"]) == 2


def test_via_names_the_disclosure_in_force(db: Session, world: Council3) -> None:
    from secrecy.models import Disclosure

    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_ZONE), tick=False):
        record = disclosed_to_police(db, world, dt.date(2012, 4, 1), 611)
        result = reveal.reveal_one(db, world.members[POLICE], record)
    (disclosure,) = db.scalars(select(Disclosure).where(Disclosure.record_id == record.id))
    assert isinstance(result, Revealed) and result.via is not None
    assert result.via.disclosure.id == disclosure.id
    assert result.via.disclosure.basis_id == "sol-police-u21"
    assert result.via.disclosure.decided_at == disclosure.decided_at
    latest = audit_events(db, SecrecyTag.RECORD_REVEAL)[-1]
    assert latest.details["via_disclosure"] == [disclosure.id]


def test_children_not_in_the_session_are_loaded_in_one_query(
    app: Flask, db: Session, world: Council3
) -> None:
    """The policy needs each record's council (and, for disclosed records, the birth date):
    records whose children the caller did not load must not cost a query per child."""
    viewer = world.members[SOCIAL]
    children = [
        child_cases.enrol_child(db, viewer, world.council, enrolment(s)) for s in (621, 622)
    ]
    ids = [services.create_record(db, viewer, c, "school", f"skola {c.id}").id for c in children]
    db.flush()
    db.expire_all()
    records = db.scalars(select(Record).where(Record.id.in_(ids)).order_by(Record.id)).all()
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    engine = get_database(app).engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        results = reveal.reveal_records(db, viewer, records)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [r.withheld for r in results] == [False, False]
    assert len([s for s in seen if re.search(r"\bFROM children\b", s)]) == 1


def test_listed_leaves_out_secret_records_of_others_and_the_event_does_not_count_them(
    db: Session, world: Council3, child: Child, record: Record
) -> None:
    social, police = world.members[SOCIAL], world.members[POLICE]
    secret = services.add_sealed_record(
        db, social, child, "social_measures", {"text": "Känd: insats"}, existence_secret=True
    )
    listed = [record, secret]
    shown = reveal.reveal_listed(db, police, listed)
    assert [r.record.id for r in shown] == [record.id]
    assert audit_events(db, SecrecyTag.RECORD_REVEAL)[-1].details["withheld"] == 1
    # The owner sees it; so does the police once it is disclosed to them.
    own = reveal.reveal_listed(db, social, listed)
    assert [r.withheld for r in own] == [False, False]

    disclose_under_21_rule(db, social, secret, world.agencies[POLICE])
    after = reveal.reveal_listed(db, police, listed)
    assert [(r.record.id, r.withheld) for r in after] == [(record.id, True), (secret.id, False)]
    assert audit_events(db, SecrecyTag.RECORD_REVEAL)[-1].details["withheld"] == 1


def test_a_listed_call_with_nothing_to_show_writes_nothing(
    db: Session, world: Council3, child: Child
) -> None:
    secret = services.add_sealed_record(
        db, world.members[SOCIAL], child, "social_measures", {"text": "Känd"}, existence_secret=True
    )
    before = count_events(db, SecrecyTag.RECORD_REVEAL)
    assert reveal.reveal_listed(db, world.members[POLICE], [secret]) == []
    assert count_events(db, SecrecyTag.RECORD_REVEAL) == before


# --- Corrections ---------------------------------------------------------------------------------


def test_a_correction_supersedes_and_keeps_the_old_record(
    db: Session, world: Council3, child: Child, record: Record
) -> None:
    author = world.members[SOCIAL]
    correction = services.correct_record(db, author, record, {"text": "rättad"})
    assert correction.id != record.id
    assert correction.supersedes_id == record.id
    assert correction.category == record.category
    assert correction.owner_agency_id == record.owner_agency_id
    assert record.is_superseded and not correction.is_superseded
    assert [r.id for r in services.child_records(db, child)][-2:] == [record.id, correction.id]
    old, new = reveal.reveal_records(db, author, [record, correction])
    assert isinstance(old, Revealed) and old.content == {"text": MARKER}
    assert isinstance(new, Revealed) and new.content == {"text": "rättad"}
    (event,) = audit_events(db, SecrecyTag.RECORD_CORRECT)
    assert event.object_ids == sorted([record.id, correction.id])
    assert event.details == {
        "child_id": child.id,
        "supersedes": record.id,
        "category": "family",
    }


def test_only_the_owner_agency_corrects(db: Session, world: Council3, record: Record) -> None:
    with pytest.raises(ServiceError, match="Bara den myndighet som lämnade uppgiften"):
        services.correct_record(db, world.members[POLICE], record, {"text": "polisens version"})
    with pytest.raises(PermissionDenied):
        services.correct_record(db, outsider_of(db, SOCIAL, world), record, {"text": "utanför"})
    assert not record.is_superseded
    assert count_events(db, SecrecyTag.RECORD_CORRECT) == 0


def test_a_superseded_record_cannot_be_corrected_again(
    db: Session, world: Council3, record: Record
) -> None:
    author = world.members[SOCIAL]
    correction = services.correct_record(db, author, record, {"text": "första rättelsen"})
    with pytest.raises(ServiceError, match="redan rättats"):
        services.correct_record(db, author, record, {"text": "andra rättelsen"})
    second = services.correct_record(db, author, correction, {"text": "andra rättelsen"})
    assert second.supersedes_id == correction.id


def test_a_correction_is_validated(db: Session, world: Council3, record: Record) -> None:
    with pytest.raises(ServiceError, match="Skriv uppgiften") as caught:
        services.correct_record(db, world.members[SOCIAL], record, {"text": "   "})
    assert caught.value.field == "text"
    assert not record.is_superseded


def test_new_records_are_validated(db: Session, world: Council3, child: Child) -> None:
    author = world.members[SOCIAL]
    with pytest.raises(ServiceError, match="Okänd kategori") as caught:
        services.create_record(db, author, child, "horoscope", "text")
    assert caught.value.field == "category"
    with pytest.raises(ServiceError, match="rätta identitetsposten"):
        services.create_record(db, author, child, "identity", "text")
    with pytest.raises(ServiceError, match="Skriv uppgiften"):
        services.create_record(db, author, child, "school", " \n ")
    with pytest.raises(ServiceError, match="för lång"):
        services.create_record(db, author, child, "school", "x" * (services.MAX_TEXT + 1))
    with pytest.raises(PermissionDenied):
        services.create_record(db, outsider_of(db, SOCIAL, world), child, "school", "text")
    assert len(services.child_records(db, child)) == 1  # the identity record only


# --- Enrolment -----------------------------------------------------------------------------------


def test_pseudonyms_count_up_per_council_and_year(db: Session, world: Council3) -> None:
    enroller = world.members[SOCIAL]
    year = today_local().year
    children = [
        child_cases.enrol_child(db, enroller, world.council, enrolment(serial=serial))
        for serial in (201, 202, 203)
    ]
    assert [c.pseudonym for c in children] == [f"TEST-{year}-{n:03d}" for n in (1, 2, 3)]
    for c in children:
        assert re.fullmatch(r"TEST-\d{4}-\d{3}", c.pseudonym)
        assert c.enrolled_on == today_local()
        assert c.status is ChildStatus.ACTIVE
    other = CouncilFactory(agencies=[world.agencies[SOCIAL]], code="NORR")
    MembershipFactory(council=other, user=enroller)
    db.expire_all()
    first_there = child_cases.enrol_child(db, enroller, other, enrolment(serial=204))
    assert first_there.pseudonym == f"NORR-{year}-001"


def test_a_pseudonym_is_never_reused_after_shredding(db: Session, world: Council3) -> None:
    enroller = world.members[SOCIAL]
    year = today_local().year
    first = child_cases.enrol_child(db, enroller, world.council, enrolment(serial=301))
    second = child_cases.enrol_child(db, enroller, world.council, enrolment(serial=302))
    shred(db, enroller, second)
    third = child_cases.enrol_child(db, enroller, world.council, enrolment(serial=303))
    # The shredded child's number can be enrolled anew: it gets a new pseudonym.
    again = child_cases.enrol_child(db, enroller, world.council, enrolment(serial=302))
    assert [c.pseudonym for c in (first, second, third, again)] == [
        f"TEST-{year}-{n:03d}" for n in (1, 2, 3, 4)
    ]
    assert len({first.id, second.id, third.id, again.id}) == 4


def test_a_duplicate_in_the_same_council_is_held_or_refused(
    db: Session, world: Council3, child: Child
) -> None:
    police = world.members[POLICE]
    enrolled = count_events(db, SecrecyTag.CHILD_ENROL)
    # The same number written the short way is the same person.
    short = enrolment().personnummer[2:]
    # Another agency than the enrolling one learns neither the pseudonym nor that the number
    # is a case: its enrolment succeeds as for a new number, and the new case is held.
    held = child_cases.enrol_child(
        db,
        police,
        world.council,
        child_cases.EnrolmentData(given_names="Annat", family_name="Namn", personnummer=short),
    )
    assert held.id != child.id and held.pseudonym != child.pseudonym
    assert held.status is ChildStatus.ACTIVE and held.enrolling_agency_id == police.agency_id
    assert held.identity_index is None and held.duplicate_of_id == child.id
    identity = services.current_identity_record(db, held)
    assert identity is not None and identity.owner_agency_id == police.agency_id
    assert count_events(db, SecrecyTag.CHILD_ENROL) == enrolled + 1
    event = audit_events(db, SecrecyTag.CHILD_DUPLICATE_HELD)[0]
    assert event.object_ids == [held.id] and event.actor_user_id is None
    assert event.details == {
        "council_id": world.council.id,
        "duplicate_of_id": child.id,
        "user_id": police.id,
    }
    # The agency holding the identity is told, and nothing is enrolled.
    children_before = db.scalar(select(func.count()).select_from(Child))
    with pytest.raises(ServiceError) as own:
        child_cases.enrol_child(
            db,
            world.members[SOCIAL],
            world.council,
            child_cases.EnrolmentData(given_names="Annat", family_name="Namn", personnummer=short),
        )
    assert own.value.field == "personnummer"
    assert str(own.value) == (
        f"Barnet finns redan i forumet som {child.pseudonym}. Öppna det ärendet i stället."
    )
    refused = audit_events(db, SecrecyTag.CHILD_DUPLICATE_REFUSED)[0]
    assert refused.object_ids == [child.id]
    assert refused.actor_user_id == world.members[SOCIAL].id
    assert refused.details == {"council_id": world.council.id}
    assert db.scalar(select(func.count()).select_from(Child)) == children_before


def test_a_duplicate_written_with_other_digit_characters_is_refused(
    db: Session, world: Council3, child: Child
) -> None:
    """Full-width digits (as pasted from some documents) are the same number: the second
    enrolment must not get past the blind index."""
    fullwidth = enrolment().personnummer.translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )
    data = child_cases.EnrolmentData(given_names=GIVEN, family_name=FAMILY, personnummer=fullwidth)
    with pytest.raises(ServiceError) as caught:
        child_cases.enrol_child(db, world.members[POLICE], world.council, data)
    assert caught.value.field == "personnummer"
    assert db.scalar(select(func.count()).select_from(Child)) == 1


def test_pseudonym_numbers_restart_each_year(db: Session, world: Council3) -> None:
    enroller = world.members[SOCIAL]
    with time_machine.travel(dt.datetime(2030, 12, 31, 23, 30, tzinfo=LOCAL_ZONE), tick=False):
        last = child_cases.enrol_child(db, enroller, world.council, enrolment(serial=401))
    with time_machine.travel(dt.datetime(2031, 1, 1, 0, 30, tzinfo=LOCAL_ZONE), tick=False):
        first = child_cases.enrol_child(db, enroller, world.council, enrolment(serial=402))
        second = child_cases.enrol_child(db, enroller, world.council, enrolment(serial=403))
    # Stockholm's calendar decides the year, not UTC (00:30 in Stockholm is 23:30 UTC).
    assert (last.pseudonym, first.pseudonym, second.pseudonym) == (
        "TEST-2030-001",
        "TEST-2031-001",
        "TEST-2031-002",
    )
    assert first.enrolled_on == dt.date(2031, 1, 1)


def test_the_same_child_may_be_enrolled_in_another_council(
    db: Session, world: Council3, child: Child
) -> None:
    enroller = world.members[SOCIAL]
    other = CouncilFactory(agencies=[world.agencies[SOCIAL]], code="SYD")
    MembershipFactory(council=other, user=enroller)
    db.expire_all()
    there = child_cases.enrol_child(db, enroller, other, enrolment())
    assert there.id != child.id and there.pseudonym.startswith("SYD-")
    assert there.identity_index == child.identity_index
    assert [c.id for c in child_cases.other_councils_with_same_child(db, enroller, child)] == [
        there.id
    ]
    # Someone who sits only in the world council does not learn of the other council.
    assert child_cases.other_councils_with_same_child(db, world.members[POLICE], child) == []


def test_the_identity_is_a_sealed_record_of_the_enrolling_agency(
    db: Session, world: Council3
) -> None:
    enroller = world.members[POLICE]
    child = child_cases.enrol_child(db, enroller, world.council, enrolment())
    assert child.enrolling_agency_id == enroller.agency_id
    identity = services.current_identity_record(db, child)
    assert identity is not None
    assert identity.category == "identity"
    assert identity.owner_agency_id == enroller.agency_id
    assert identity.author_id == enroller.id
    result = reveal.reveal_one(db, enroller, identity)
    assert isinstance(result, Revealed)
    assert result.content == {
        "given_names": GIVEN,
        "family_name": FAMILY,
        "personnummer": enrolment().personnummer.replace("-", ""),
        "coordination_number": False,
        "birth_date": BORN.isoformat(),
        "guardians": [{"name": "Vårdnadshavare Ett", "phone": "070-1234567", "email": ""}],
        "address": "Hemliga gatan 1",
    }
    # The social services sit in the same council but did not supply the identity.
    withheld = reveal.reveal_one(db, world.members[SOCIAL], identity)
    assert isinstance(withheld, Withheld)
    assert withheld.reason_code is WithheldReason.NO_DISCLOSURE
    (event,) = audit_events(db, SecrecyTag.CHILD_ENROL)
    assert event.object_ids == [child.id]
    assert event.details == {"council_id": world.council.id, "identity_record_id": identity.id}


def test_the_child_row_holds_nothing_in_clear(db: Session, world: Council3) -> None:
    child = child_cases.enrol_child(db, world.members[SOCIAL], world.council, enrolment())
    number = enrolment().personnummer
    secrets = [
        GIVEN,
        FAMILY,
        number,
        number.replace("-", ""),
        number[2:],
        number[2:].replace("-", ""),
        BORN.isoformat(),
        f"{BORN:%Y%m%d}",
        f"{BORN:%y%m%d}",
        "Hemliga gatan",
        "070-1234567",
    ]
    row = db.execute(select(Child.__table__).where(Child.__table__.c.id == child.id)).one()
    assert set(row._mapping) == {c.name for c in Child.__table__.columns}
    for column, value in row._mapping.items():
        if value is None:
            continue
        if isinstance(value, bytes):
            for secret in secrets:
                assert secret.encode() not in value, column
        else:
            text = str(value)
            for secret in secrets:
                assert secret not in text, column
    assert row.identity_index is not None and re.fullmatch(r"[0-9a-f]{64}", row.identity_index)
    assert row.birth_date_sealed is not None
    # The records hold ciphertext only.
    for record in services.child_records(db, child):
        assert record.ciphertext is not None
        for secret in secrets:
            assert secret.encode() not in record.ciphertext
    # Neither do the audit events of the enrolment.
    logged = json.dumps(
        [[e.object_ids, e.details] for e in db.scalars(select(AuditEvent))], ensure_ascii=False
    )
    for secret in secrets:
        assert secret not in logged


def test_the_birth_date_opens_for_the_policy(db: Session, world: Council3) -> None:
    child = child_cases.enrol_child(db, world.members[SOCIAL], world.council, enrolment())
    assert reveal.child_birth_date(db, child.id, child.birth_date_sealed) == BORN
    coordination = child_cases.EnrolmentData(
        given_names="Sam", family_name="Ordning", personnummer="701063-2391"
    )
    other = child_cases.enrol_child(db, world.members[SOCIAL], world.council, coordination)
    assert reveal.child_birth_date(db, other.id, other.birth_date_sealed) == dt.date(1970, 10, 3)


def test_only_council_members_enrol(db: Session, world: Council3, admin: User) -> None:
    for outsider in (outsider_of(db, SOCIAL, world), admin):
        with pytest.raises(PermissionDenied):
            child_cases.enrol_child(db, outsider, world.council, enrolment())
    assert db.scalar(select(func.count()).select_from(Child)) == 0
    assert count_events(db, SecrecyTag.CHILD_ENROL) == 0


def test_enrolment_input_is_checked(db: Session, world: Council3) -> None:
    enroller = world.members[SOCIAL]
    cases = [
        (child_cases.EnrolmentData(" ", FAMILY, enrolment().personnummer), "given_names"),
        (child_cases.EnrolmentData(GIVEN, "", enrolment().personnummer), "family_name"),
        (child_cases.EnrolmentData(GIVEN, FAMILY, "19990101-0000"), "personnummer"),
    ]
    for data, field in cases:
        with pytest.raises(ServiceError) as caught:
            child_cases.enrol_child(db, enroller, world.council, data)
        assert caught.value.field == field
    world.council.active = False
    db.flush()
    with pytest.raises(ServiceError, match="inaktiverat"):
        child_cases.enrol_child(db, enroller, world.council, enrolment())
    assert db.scalar(select(func.count()).select_from(Child)) == 0


def test_a_new_agency_can_enrol_with_its_first_key(db: Session, world: Council3) -> None:
    user = member_of_new_agency(db, world.council, SCHOOL, "Friskolan")
    child = child_cases.enrol_child(db, user, world.council, enrolment())
    identity = services.current_identity_record(db, child)
    assert identity is not None
    result = reveal.reveal_one(db, user, identity)
    assert isinstance(result, Revealed) and result.content["given_names"] == GIVEN


def identity_of(db: Session, child: Child) -> Record:
    identity = services.current_identity_record(db, child)
    assert identity is not None
    return identity


def test_correcting_the_identity_moves_the_blind_index(
    db: Session, world: Council3, child: Child
) -> None:
    owner = world.members[SOCIAL]
    old_identity = identity_of(db, child)
    old_index = child.identity_index
    new_born = dt.date(2011, 8, 5)
    data = child_cases.EnrolmentData(
        given_names="Zlatana Maria", family_name=FAMILY, personnummer=personnummer(new_born, 77)
    )
    correction = child_cases.correct_identity(db, owner, old_identity, data)
    assert correction.supersedes_id == old_identity.id and old_identity.is_superseded
    assert identity_of(db, child).id == correction.id
    assert child.identity_index != old_index
    assert child.identity_index == sealing.personnummer_index(
        db, personnummer(new_born, 77).replace("-", "")
    )
    assert reveal.child_birth_date(db, child.id, child.birth_date_sealed) == new_born
    result = reveal.reveal_one(db, owner, correction)
    assert isinstance(result, Revealed)
    assert result.content["given_names"] == "Zlatana Maria"
    assert result.content["birth_date"] == new_born.isoformat()
    # The old number no longer blocks an enrolment; the new one does.
    child_cases.enrol_child(db, owner, world.council, enrolment())
    with pytest.raises(ServiceError, match=child.pseudonym):
        child_cases.enrol_child(
            db,
            owner,
            world.council,
            child_cases.EnrolmentData(GIVEN, FAMILY, personnummer(new_born, 77)),
        )


def test_an_identity_correction_cannot_take_another_childs_number(
    db: Session, world: Council3, child: Child
) -> None:
    owner = world.members[SOCIAL]
    other = child_cases.enrol_child(db, owner, world.council, enrolment(serial=555))
    identity = identity_of(db, child)
    index = child.identity_index
    data = child_cases.EnrolmentData(GIVEN, FAMILY, personnummer(BORN, 555))
    with pytest.raises(ServiceError) as caught:
        child_cases.correct_identity(db, owner, identity, data)
    assert caught.value.field == "personnummer"
    assert str(caught.value) == f"Personnumret hör till {other.pseudonym} i forumet."
    assert not identity.is_superseded and child.identity_index == index


def test_only_identity_records_are_corrected_as_identities(
    db: Session, world: Council3, record: Record
) -> None:
    with pytest.raises(ServiceError, match="inte en identitetspost"):
        child_cases.correct_identity(db, world.members[SOCIAL], record, enrolment())
    assert not record.is_superseded


def test_correct_identity_checks_access_before_naming_a_clash(
    db: Session, world: Council3, child: Child
) -> None:
    """Load, check access, act: someone who may not correct the identity must be refused
    before the service looks the number up, or the refusal tells them which pseudonym a
    personnummer belongs to in a council they do not sit in."""
    other = child_cases.enrol_child(db, world.members[SOCIAL], world.council, enrolment(serial=556))
    probe = child_cases.EnrolmentData(GIVEN, FAMILY, personnummer(BORN, 556))
    outsider = outsider_of(db, SOCIAL, world)
    with pytest.raises(PermissionDenied):
        child_cases.correct_identity(db, outsider, identity_of(db, child), probe)
    with pytest.raises(ServiceError) as caught:
        child_cases.correct_identity(db, world.members[POLICE], identity_of(db, child), probe)
    assert other.pseudonym not in str(caught.value)


# --- Closing and reopening ----------------------------------------------------------------------


def test_close_and_reopen(db: Session, world: Council3) -> None:
    enroller = world.members[POLICE]
    child = child_cases.enrol_child(db, enroller, world.council, enrolment())
    coordinator = world.coordinator  # of the council, from another agency than the enroller
    assert coordinator.agency_id != child.enrolling_agency_id
    child_cases.close_case(db, coordinator, child, CloseReason.MOVED)
    assert child.status is ChildStatus.CLOSED
    assert child.closed_on == today_local()
    assert child.close_reason is CloseReason.MOVED
    (closed,) = audit_events(db, SecrecyTag.CHILD_CLOSE)
    assert closed.object_ids == [child.id] and closed.details == {"reason": "moved"}
    assert closed.actor_user_id == coordinator.id

    with pytest.raises(ServiceError, match="redan avslutat"):
        child_cases.close_case(db, enroller, child, CloseReason.OTHER)
    assert child.close_reason is CloseReason.MOVED
    assert count_events(db, SecrecyTag.CHILD_CLOSE) == 1

    child_cases.reopen_case(db, enroller, child)
    assert child.status is ChildStatus.ACTIVE
    assert child.closed_on is None and child.close_reason is None
    (reopened,) = audit_events(db, SecrecyTag.CHILD_REOPEN)
    assert reopened.object_ids == [child.id] and reopened.actor_user_id == enroller.id
    assert reopened.details == {"previous_reason": "moved"}
    with pytest.raises(ServiceError, match="Bara ett avslutat ärende"):
        child_cases.reopen_case(db, coordinator, child)
    assert count_events(db, SecrecyTag.CHILD_REOPEN) == 1


def test_a_closed_case_takes_no_new_records(
    db: Session, world: Council3, child: Child, record: Record
) -> None:
    author = world.members[SOCIAL]
    child_cases.close_case(db, author, child, CloseReason.GOALS_REACHED)
    count = len(services.child_records(db, child))
    with pytest.raises(ServiceError, match="Ärendet är avslutat"):
        services.create_record(db, author, child, "school", "för sent")
    with pytest.raises(ServiceError, match="Ärendet är avslutat"):
        services.correct_record(db, author, record, {"text": "för sent"})
    assert not record.is_superseded
    assert len(services.child_records(db, child)) == count
    # Closed does not mean hidden: the owner still reads its record.
    assert isinstance(reveal.reveal_one(db, author, record), Revealed)


def test_a_shredded_case_cannot_be_reopened(db: Session, world: Council3, child: Child) -> None:
    actor = world.members[SOCIAL]
    shred(db, actor, child)
    with pytest.raises(ServiceError, match="gallrat"):
        child_cases.reopen_case(db, actor, child)
    assert child.status is ChildStatus.SHREDDED
    assert count_events(db, SecrecyTag.CHILD_REOPEN) == 0
    with pytest.raises(ServiceError, match="Ärendet är avslutat"):
        services.create_record(db, actor, child, "school", "efter gallring")


def test_only_the_enrolling_agency_and_coordinators_close_and_reopen(
    db: Session, world: Council3, admin: User
) -> None:
    enroller = world.members[POLICE]
    child = child_cases.enrol_child(db, enroller, world.council, enrolment())
    colleague_outside = outsider_of(db, POLICE, world)
    refused = [
        world.members[SCHOOL],  # a member of the council, of another agency
        world.members[SOCIAL],  # the coordinator's agency, but not a coordinator
        colleague_outside,  # the enrolling agency, but not a member of the council
        admin,
    ]
    for actor in refused:
        with pytest.raises(PermissionDenied):
            child_cases.close_case(db, actor, child, CloseReason.OTHER)
    assert child.status is ChildStatus.ACTIVE
    enroller.active = False
    db.flush()
    with pytest.raises(PermissionDenied):
        child_cases.close_case(db, enroller, child, CloseReason.OTHER)
    enroller.active = True
    db.flush()

    child_cases.close_case(db, enroller, child, CloseReason.OTHER)
    for actor in refused:
        with pytest.raises(PermissionDenied):
            child_cases.reopen_case(db, actor, child)
    assert child.status is ChildStatus.CLOSED
    assert count_events(db, SecrecyTag.CHILD_REOPEN) == 0


def test_an_enrolment_race_on_the_same_number_is_a_clear_refusal(
    db: Session, world: Council3, child: Child, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both enrolments passed the duplicate check: the database's unique key decides, and the
    loser gets the Swedish message instead of an error page."""
    real_scalars = db.scalars
    calls = {"n": 0}

    def blind_first_duplicate_check(statement, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = real_scalars(statement, *args, **kwargs)
        if "identity_index" in str(statement) and calls["n"] == 0:
            calls["n"] += 1
            return real_scalars(select(Child).where(Child.id == -1))
        return result

    monkeypatch.setattr(db, "scalars", blind_first_duplicate_check)
    before = db.scalar(select(func.count()).select_from(Child))
    with pytest.raises(ServiceError, match="kunde inte skrivas in"):
        child_cases.enrol_child(db, world.members[SOCIAL], world.council, enrolment())
    monkeypatch.undo()
    assert db.scalar(select(func.count()).select_from(Child)) == before


def test_keys_loaded_with_the_rows_open_only_what_the_agencys_own_keys_open(
    db: Session, world: Council3, record: Record
) -> None:
    """``wrapped_keys`` (a list page's rows joined to the viewer's agency's keys) spares the
    reveal its key statement; a missing key withholds the record and a key that is not the
    agency's opens nothing."""
    social, police = world.members[SOCIAL], world.members[POLICE]
    own = db.get(RecordKey, (record.id, record.owner_agency_id))
    assert own is not None
    ring = crypto.keyring(db)
    police_key = crypto.wrap_data_key(
        ring, record, crypto.unwrap_data_key(ring, own), police.agency_id
    )
    db.flush()
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        given = {record.id: (own.agency_key_version, own.wrapped_key)}
        opened = only(reveal.reveal_records(db, social, [record], wrapped_keys=given))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert isinstance(opened, Revealed) and opened.content == {"text": MARKER}
    assert not [sql for sql in statements if "FROM record_keys" in sql]

    missing = only(reveal.reveal_records(db, social, [record], wrapped_keys={}))
    assert isinstance(missing, Withheld) and missing.reason_code is WithheldReason.NO_KEY
    foreign = {record.id: (police_key.agency_key_version, police_key.wrapped_key)}
    wrong = only(reveal.reveal_records(db, social, [record], wrapped_keys=foreign))
    assert isinstance(wrong, Withheld) and wrong.reason_code is WithheldReason.KEY_ERROR
