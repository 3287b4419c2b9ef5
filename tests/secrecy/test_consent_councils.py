"""Consents of children in several councils: each verdict reads the council rule of the
consent's own child (``Council.maturity_consent``, a mature young person of 15–17 consenting
alone), and the sweeps over every live disclosure read those rules in the same number of SQL
statements however many consents and councils there are."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import time_machine
from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from coordination.db import get_database
from coordination.models import AgencyKind, Council
from secrecy.disclosure.consents import ConsentData, register_consent
from secrecy.disclosure.lapse import sweep_lapsed, upcoming_lapses
from secrecy.disclosure.services import decide_disclosure, disclosure_options
from secrecy.models import Disclosure, Record
from secrecy.policy.engine import Refusal, Signer
from secrecy.records.children import EnrolmentData, enrol_child
from secrecy.records.services import create_record
from tests import factories
from tests.conftest import Council3
from tests.factories import ASSESSED
from tests.numbers import personnummer

NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 4)
BORN = dt.date(2008, 5, 10)  # 17 today, 18 on 2026-05-10
FEW = 2
MANY = 6


def new_council(db: Session, world: Council3, *, maturity_consent: bool) -> Council:
    """A council of the world's agencies, its social services member a member of it too."""
    council = factories.CouncilFactory(
        agencies=list(world.agencies.values()), maturity_consent=maturity_consent
    )
    factories.MembershipFactory(council=council, user=world.members[AgencyKind.SOCIAL_SERVICES])
    db.flush()
    assert isinstance(council, Council)
    return council


def disclosed_on_mature_consent(
    db: Session, world: Council3, council: Council, serial: int
) -> Record:
    """A 17-year-old of ``council`` whose own consent, with a maturity assessment, carries a
    record of social services to the school (the council must allow such a consent now)."""
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    school = world.agencies[AgencyKind.SCHOOL]
    child = enrol_child(
        db, social, council, EnrolmentData("Kim", "Test", personnummer(BORN, serial))
    )
    record = create_record(db, social, child, "risk_protective", "Samtyckesmarkör.")
    register_consent(
        db,
        social,
        child,
        ConsentData(
            signers={Signer.YOUNG_PERSON: "Kim Test"},
            two_guardians=False,
            agency_ids=[school.id],
            categories=["risk_protective"],
            valid_from=TODAY,
            purpose="SSPF-samverkan",
            maturity_assessment="Samtalet visar att den unge förstår vad samtycket innebär.",
        ),
    )
    decide_disclosure(db, social, record, school, "consent", [0], assessment=ASSESSED)
    return record


@contextmanager
def fresh_session(app: Flask) -> Iterator[Session]:
    """A session of the app with nothing in it, as a scheduler job starts with (the test's own
    session holds every child and council it made)."""
    session = get_database(app).session_factory()
    try:
        yield session
    finally:
        session.close()


def statements_of(app: Flask, run: Callable[[Session], object]) -> list[str]:
    """The SQL statements ``run`` sends from a fresh session."""
    seen: list[str] = []
    engine = get_database(app).engine

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    with fresh_session(app) as session:
        event.listen(engine, "before_cursor_execute", count)
        try:
            run(session)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    return seen


def sweep(session: Session) -> None:
    report = sweep_lapsed(session, TODAY)
    assert report.lapsed == 0 and report.checked > 0


def upcoming(session: Session) -> None:
    # The young person alone signs from 18 too, so no consent here lapses on a birthday.
    assert upcoming_lapses(session, TODAY, dt.timedelta(days=14)) == []


@pytest.mark.parametrize("run", [sweep, upcoming], ids=["sweep_lapsed", "upcoming_lapses"])
def test_the_lapse_sweep_reads_the_councils_rules_in_the_same_statements_for_more_consents(
    app: Flask, db: Session, world: Council3, run: Callable[[Session], None]
) -> None:
    """Each consent of a child of its own council: before, each consent's council (and its
    agencies) was loaded through the consent's child while the verdict read its rule."""
    with time_machine.travel(NOW, tick=False):
        for serial in range(FEW):
            council = new_council(db, world, maturity_consent=True)
            disclosed_on_mature_consent(db, world, council, serial + 1)
        statements_of(app, run)  # warm-up: the rule set and the like, read once per process
        few = statements_of(app, run)
        for serial in range(FEW, MANY):
            council = new_council(db, world, maturity_consent=True)
            disclosed_on_mature_consent(db, world, council, serial + 1)
        many = statements_of(app, run)
    assert len(many) == len(few), "\n".join(many)


@time_machine.travel(NOW, tick=False)
def test_each_consent_is_judged_under_its_own_childs_councils_maturity_rule(
    app: Flask, db: Session, world: Council3
) -> None:
    """Two councils, two mature 17-year-olds' consents; one council then returns to the
    default policy (guardians sign until 18). Only its child's consent stops carrying the
    disclosure: in the options and in the sweep (one batch holding both)."""
    allows = new_council(db, world, maturity_consent=True)
    stops = new_council(db, world, maturity_consent=True)
    kept = disclosed_on_mature_consent(db, world, allows, 1)
    ended = disclosed_on_mature_consent(db, world, stops, 2)
    stops.maturity_consent = False
    db.flush()

    social = world.members[AgencyKind.SOCIAL_SERVICES]
    school = world.agencies[AgencyKind.SCHOOL]

    def on_consent(record: Record) -> tuple[bool, tuple[Refusal, ...]]:
        option = next(
            a
            for a in disclosure_options(db, social, record, school, TODAY)
            if a.basis.id == "consent"
        )
        return option.applicable, tuple(r.code for r in option.reasons)

    assert on_consent(kept) == (True, ())
    assert on_consent(ended) == (False, (Refusal.CONSENT_INCOMPLETE,))

    with fresh_session(app) as session:
        report = sweep_lapsed(session, TODAY)
        session.flush()
        assert (report.checked, report.lapsed) == (2, 1)
        lapsed = {d.record_id: d.lapse_reason for d in session.scalars(select(Disclosure))}
    assert lapsed == {kept.id: None, ended.id: Refusal.CONSENT_INCOMPLETE.value}
