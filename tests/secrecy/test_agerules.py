"""Age rules per council: the range and its defaults, exceptions (avsteg) at enrolment and
later, their secrecy, the thresholds ahead against the policy engine, the reminder jobs and
the agenda's review marker. The clock is always driven (time_machine), never today's date."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.errors import PermissionDenied, ServiceError
from coordination.models import AgencyKind, Child, CouncilKind
from meetings.models import Notification
from secrecy.agerules import services
from secrecy.agerules.agenda import review_contributor
from secrecy.agerules.ranges import age_range, default_range
from secrecy.agerules.thresholds import lapsing_on, notify_thresholds, thresholds_ahead
from secrecy.disclosure.services import decide_disclosure
from secrecy.models import AgeException, Record
from secrecy.policy.engine import (
    ConsentFacts,
    DisclosureFacts,
    RecipientFacts,
    RecordFacts,
    Signer,
    age_thresholds,
    birthday,
    disclosure_in_force,
    signer_problems,
)
from secrecy.policy.rules import legal_bases
from secrecy.records.children import EnrolmentData, enrol_child
from secrecy.records.reveal import reveal_one
from secrecy.records.services import create_record
from tests.conftest import Council3, log_in
from tests.numbers import personnummer

NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 4)


def exception(**overrides: object) -> services.ExceptionData:
    values: dict[str, object] = {
        "reason": "Syskon i forumet, samma insats.",
        "decided_by": "Enhetschef",
        "stigmatisation": "Bedömd låg; träffar i skolan undviks.",
        "review_on": TODAY + dt.timedelta(days=90),
    }
    values.update(overrides)
    return services.ExceptionData(**values)  # type: ignore[arg-type]


def set_range(world: Council3, low: int | None, high: int | None) -> None:
    world.council.age_range_set, world.council.age_min, world.council.age_max = True, low, high


def enrol(db: Session, world: Council3, born: dt.date, serial: int = 1, **kw: object) -> Child:
    return enrol_child(
        db,
        world.members[AgencyKind.SOCIAL_SERVICES],
        world.council,
        EnrolmentData("Kim", "Test", personnummer(born, serial), **kw),  # type: ignore[arg-type]
    )


# --- The range ---------------------------------------------------------------------------------


def test_defaults_by_kind_follow_the_rule_set() -> None:
    assert (default_range(CouncilKind.SIG).min_age, default_range(CouncilKind.SIG).max_age) == (
        12,
        20,
    )
    bob = default_range(CouncilKind.BOB)
    assert bob.min_age is None
    assert bob.max_age == legal_bases()["sol-police-u21"].age_limit - 1 == 20  # type: ignore[operator]
    assert not default_range(CouncilKind.SSPF).limited


def test_coordinator_sets_the_range_and_min_over_max_is_refused(
    db: Session, world: Council3
) -> None:
    council = world.council
    with pytest.raises(ServiceError) as refused:
        services.set_age_range(db, world.coordinator, council, 18, 12)
    assert "högre än den högsta" in str(refused.value.message)
    assert not council.age_range_set
    with pytest.raises(PermissionDenied):
        services.set_age_range(db, world.members[AgencyKind.POLICE], council, 12, 18)
    services.set_age_range(db, world.coordinator, council, 13, 19)
    assert (age_range(council).min_age, age_range(council).max_age) == (13, 19)
    tags = db.scalars(select(AuditEvent.tag).where(AuditEvent.tag == "secrecy:age_range:set"))
    assert list(tags) == ["secrecy:age_range:set"]


def test_range_page_refuses_min_over_max_in_swedish(app: Flask, world: Council3) -> None:
    client = log_in(app.test_client(), world.coordinator)
    url = f"/councils/{world.council.id}/age-rules"
    assert client.get(url).status_code == 200
    response = client.post(url, data={"min_age": "19", "max_age": "12"})
    assert response.status_code == 422
    assert "Den lägsta åldern (19 år) är högre än den högsta (12 år)." in response.text
    assert not world.council.age_range_set
    # A tampered version (a superscript digit passes str.isdigit, not int()) is a conflict.
    tampered = client.post(
        url, data={"min_age": "12", "max_age": "19", "version": "\N{SUPERSCRIPT TWO}"}
    )
    assert tampered.status_code == 409
    assert not world.council.age_range_set
    member = log_in(app.test_client(), world.members[AgencyKind.POLICE])
    page = member.get(url)
    assert page.status_code == 200 and "Ändra målgruppsålder" not in page.text
    assert member.post(url, data={"min_age": "1", "max_age": "2"}).status_code == 403


# --- Exceptions --------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_enrolment_outside_the_range_needs_an_exception(db: Session, world: Council3) -> None:
    set_range(world, 12, 20)
    before = db.scalar(select(func.count()).select_from(Child))
    with pytest.raises(ServiceError) as refused:
        enrol(db, world, dt.date(2017, 5, 1))
    assert refused.value.field == "exception_reason"
    assert "utanför forumets målgrupp (12–20 år)" in str(refused.value.message)
    with pytest.raises(ServiceError) as no_reason:
        enrol(db, world, dt.date(2017, 5, 1), exception=exception(reason="  "))
    assert no_reason.value.field == "exception_reason"
    with pytest.raises(ServiceError) as no_stigma:
        enrol(db, world, dt.date(2017, 5, 1), exception=exception(stigmatisation=""))
    assert no_stigma.value.field == "exception_stigmatisation"
    with pytest.raises(ServiceError) as past:
        enrol(db, world, dt.date(2017, 5, 1), exception=exception(review_on=TODAY))
    assert past.value.field == "exception_review_on"
    assert db.scalar(select(func.count()).select_from(Child)) == before
    # A 13-year-old needs none; a 22-year-old needs one but no stigmatisation text.
    enrol(db, world, dt.date(2012, 5, 1), serial=2)
    older = enrol(db, world, dt.date(2003, 5, 1), serial=3, exception=exception(stigmatisation=""))
    found = db.scalars(select(AgeException).where(AgeException.child_id == older.id)).one()
    assert (found.age_at_decision, found.range_min, found.range_max) == (22, 12, 20)
    assert found.details_record.owner_agency_id == world.agencies[AgencyKind.SOCIAL_SERVICES].id


@time_machine.travel(NOW, tick=False)
def test_exception_texts_are_sealed_for_the_enrolling_agency(
    app: Flask, db: Session, world: Council3
) -> None:
    set_range(world, 12, 20)
    child = enrol(db, world, dt.date(2017, 5, 1), exception=exception(reason="SKAL-XYZ"))
    rows = services.council_exceptions(db, world.council)
    social = services.exception_views(db, world.members[AgencyKind.SOCIAL_SERVICES], rows)
    police = services.exception_views(db, world.members[AgencyKind.POLICE], rows)
    assert social[0].reason == "SKAL-XYZ" and social[0].withheld is None
    assert police[0].reason is None and police[0].withheld
    page = log_in(app.test_client(), world.members[AgencyKind.POLICE]).get(
        f"/councils/{world.council.id}/age-exceptions"
    )
    assert page.status_code == 200
    assert child.pseudonym in page.text and "SKAL-XYZ" not in page.text
    assert "Undanhållet" in page.text
    own = log_in(app.test_client(), world.members[AgencyKind.SOCIAL_SERVICES]).get(
        f"/councils/{world.council.id}/age-exceptions"
    )
    assert "SKAL-XYZ" in own.text


@time_machine.travel(NOW, tick=False)
def test_enrol_page_shows_the_exception_message_and_enrols_nothing(
    app: Flask, db: Session, world: Council3
) -> None:
    set_range(world, 12, 20)
    client = log_in(app.test_client(), world.members[AgencyKind.SOCIAL_SERVICES])
    url = f"/councils/{world.council.id}/children/new"
    assert "Avsteg från målgruppsålder" in client.get(url).text
    form = {
        "given_names": "Kim",
        "family_name": "Test",
        "personnummer": personnummer(dt.date(2018, 1, 2), 5),
    }
    response = client.post(url, data=form)
    assert response.status_code == 422
    assert "utanför forumets målgrupp" in response.text
    assert db.scalar(select(func.count()).select_from(Child)) == 0
    form |= {
        "exception_reason": "Syskon",
        "exception_decided_by": "Enhetschef",
        "exception_stigmatisation": "Låg risk",
        "exception_review_on": "2026-06-01",
    }
    assert client.post(url, data=form).status_code == 302
    assert db.scalar(select(func.count()).select_from(AgeException)) == 1


@time_machine.travel(NOW, tick=False)
def test_exception_for_a_child_past_the_limit_and_the_agenda_marker(
    db: Session, world: Council3
) -> None:
    child = enrol(db, world, dt.date(2009, 1, 10))  # 17
    set_range(world, 12, 16)
    meeting = SimpleNamespace(council_id=world.council.id, starts_at=NOW)
    assert list(review_contributor(db, meeting)) == [child.id]
    with pytest.raises(ServiceError):
        services.record_exception(db, world.members[AgencyKind.POLICE], child, exception())
    with pytest.raises(ServiceError) as no_reason:
        services.record_exception(
            db, world.members[AgencyKind.SOCIAL_SERVICES], child, exception(reason="")
        )
    assert no_reason.value.field == "exception_reason"
    services.record_exception(db, world.members[AgencyKind.SOCIAL_SERVICES], child, exception())
    assert list(review_contributor(db, meeting)) == []
    # Due for review on the review date: back on the agenda.
    later = SimpleNamespace(council_id=world.council.id, starts_at=NOW + dt.timedelta(days=91))
    assert list(review_contributor(db, later)) == [child.id]


def test_review_reminder_on_the_review_date_once_without_personal_data(
    app: Flask, db: Session, world: Council3
) -> None:
    with time_machine.travel(NOW, tick=False), app.app_context():
        set_range(world, 12, 20)
        child = enrol(db, world, dt.date(2017, 5, 1), exception=exception())
    day_before = dt.datetime.combine(TODAY + dt.timedelta(days=89), dt.time(6), dt.UTC)
    with app.app_context():
        assert services.remind_exception_reviews(db, day_before, day_before.date()) == 0
        on_day = day_before + dt.timedelta(days=1)
        assert services.remind_exception_reviews(db, on_day, on_day.date()) == 1
        assert services.remind_exception_reviews(db, on_day, on_day.date()) == 0
    notes = db.scalars(select(Notification).where(Notification.kind == services.REVIEW_DUE)).all()
    assert {n.recipient_id for n in notes} >= {world.coordinator.id}
    for note in notes:
        assert child.pseudonym not in note.subject + note.body + note.link


# --- Thresholds --------------------------------------------------------------------------------


def _disclosed_near_18(db: Session, world: Council3) -> tuple[Child, Record]:
    """A child who turns 18 on 2026-04-10, and a social services record disclosed to the
    police under 10 kap. 21 § OSL (age limit 18)."""
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    child = enrol(db, world, dt.date(2008, 4, 10))
    record = create_record(db, social, child, "social_measures", "Insats MARK-T18.")
    decide_disclosure(
        db,
        social,
        record,
        world.agencies[AgencyKind.POLICE],
        "crime-against-child",
        [0],
        assessment="Bedömningen i det enskilda fallet: misstanke om brott mot barnet.",
    )
    return child, record


def test_threshold_list_names_what_lapses_and_it_lapses_that_day(
    db: Session, world: Council3
) -> None:
    with time_machine.travel(NOW, tick=False):
        child, record = _disclosed_near_18(db, world)
        found = thresholds_ahead(db, world.council, TODAY)
    at18 = [t for t in found if t.child.id == child.id and t.age == 18]
    assert len(at18) == 1 and at18[0].day == dt.date(2026, 4, 10)
    assert [lapse.disclosure.record_id for lapse in at18[0].lapses if lapse.disclosure] == [
        record.id
    ]
    assert {b.id for b in at18[0].bases_ending} >= {"crime-against-child", "care-chain"}
    police = world.members[AgencyKind.POLICE]
    with time_machine.travel(dt.datetime(2026, 4, 9, 12, tzinfo=dt.UTC), tick=False):
        assert not reveal_one(db, police, record).withheld
    with time_machine.travel(dt.datetime(2026, 4, 10, 12, tzinfo=dt.UTC), tick=False):
        assert reveal_one(db, police, record).withheld


def test_threshold_page_hides_the_day_from_agencies_without_the_identity(
    app: Flask, db: Session, world: Council3
) -> None:
    with time_machine.travel(NOW, tick=False):
        child, _ = _disclosed_near_18(db, world)
        url = f"/councils/{world.council.id}/age-thresholds"
        own = log_in(app.test_client(), world.members[AgencyKind.SOCIAL_SERVICES]).get(url)
        school = log_in(app.test_client(), world.members[AgencyKind.SCHOOL]).get(url)
    assert own.status_code == school.status_code == 200
    assert child.pseudonym in own.text and "2026-04-10" in own.text
    assert child.pseudonym in school.text and "2026-04-10" not in school.text
    assert "2008" not in school.text
    assert "Insats" not in school.text


def test_threshold_notice_14_days_ahead_once(app: Flask, db: Session, world: Council3) -> None:
    with time_machine.travel(NOW, tick=False):
        child, _ = _disclosed_near_18(db, world)
    with app.app_context():
        assert notify_thresholds(db, dt.date(2026, 3, 20)) == 0  # 21 days ahead
        assert notify_thresholds(db, dt.date(2026, 3, 27)) == 1
        assert notify_thresholds(db, dt.date(2026, 3, 28)) == 0
    notes = db.scalars(select(Notification).where(Notification.kind == "age_threshold_ahead")).all()
    # The owner agency's members of the council (its coordinator is one), nobody else.
    assert {n.recipient_id for n in notes} == {
        world.members[AgencyKind.SOCIAL_SERVICES].id,
        world.coordinator.id,
    }
    for note in notes:
        assert child.pseudonym not in note.subject + note.body + note.link


# --- The property: what the list says lapses does lapse on that day -----------------------------

OWNER = RecordFacts(
    owner_agency_id=1, owner_kind="social_services", category="family", council_id=1
)
RECIPIENTS = {
    "police": RecipientFacts(agency_id=2, kind="police", weak_protection=False),
    "leisure": RecipientFacts(agency_id=3, kind="leisure", weak_protection=True),
    "healthcare": RecipientFacts(agency_id=4, kind="healthcare", weak_protection=False),
}


@st.composite
def cases(draw: st.DrawFn) -> tuple[dt.date, dt.date, dict, dict]:
    on = draw(st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31)))
    age = draw(st.integers(10, 22))
    birth = draw(st.dates(on - relativedelta(years=age + 1), on - relativedelta(years=age)))
    consents = {}
    for n in range(draw(st.integers(0, 2))):
        signers = draw(st.frozensets(st.sampled_from(list(Signer))))
        consents[("c", n)] = ConsentFacts(
            id=n,
            signers=signers,
            two_guardians=draw(st.booleans()),
            agency_ids=frozenset({2, 3, 4}),
            agency_kinds=frozenset(),
            categories=frozenset({"family"}),
            valid_from=on - dt.timedelta(days=30),
            valid_to=None,
            revoked_on=None,
            maturity_assessed=draw(st.booleans()),
            maturity_allowed=draw(st.booleans()),
        )
    disclosures = {}
    for n in range(draw(st.integers(0, 4))):
        basis = draw(st.sampled_from(["consent", "sol-police-u21", "care-chain", "serious-crime"]))
        recipient = draw(st.sampled_from(sorted(RECIPIENTS)))
        consent = consents.get(("c", draw(st.integers(0, 1)))) if basis == "consent" else None
        disclosures[("d", n)] = (
            DisclosureFacts(basis, RECIPIENTS[recipient], consent),
            OWNER,
        )
    return on, birth, disclosures, consents


@settings(max_examples=150, deadline=None)
@given(cases())
def test_listed_lapses_lapse_on_their_day_and_nothing_else_does(case: tuple) -> None:
    on, birth, disclosures, consents = case
    bases = legal_bases()
    for age in age_thresholds(bases.values()):
        day = birthday(birth, age)
        if not on < day <= on + dt.timedelta(days=60):
            continue
        before = day - dt.timedelta(days=1)
        listed = lapsing_on(day, birth, disclosures, consents, bases)
        for key, (disclosed, facts) in disclosures.items():
            holds_before = disclosure_in_force(disclosed, bases, facts, birth, before) is None
            holds_on = disclosure_in_force(disclosed, bases, facts, birth, day) is None
            assert (key in listed) == (holds_before and not holds_on), (key, age)
        for key, consent in consents.items():
            flips = not signer_problems(consent, birth, before) and bool(
                signer_problems(consent, birth, day)
            )
            assert (key in listed) == flips


@time_machine.travel(NOW, tick=False)
def test_meeting_page_marks_a_child_past_the_upper_limit(
    app: Flask, db: Session, world: Council3
) -> None:
    from meetings.models import Meeting

    child = enrol(db, world, dt.date(2009, 1, 10))  # 17
    younger = enrol(db, world, dt.date(2012, 1, 10), serial=2)  # 14
    set_range(world, 12, 16)
    starts_at = NOW + dt.timedelta(days=10)
    meeting = Meeting(
        council_id=world.council.id, starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2)
    )
    db.add(meeting)
    db.flush()
    page = log_in(app.test_client(), world.members[AgencyKind.SCHOOL]).get(
        f"/meetings/{meeting.id}"
    )
    assert page.status_code == 200
    agenda = page.text.split('id="agenda-heading"', 1)[1].split("</ol>", 1)[0]
    assert child.pseudonym in agenda and younger.pseudonym not in agenda, agenda
    assert agenda.count("data-age-review") == 1
    assert "Pröva om ärendet ska avslutas" in page.text
