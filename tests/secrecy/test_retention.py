"""Gallring: closed cases are crypto-shredded when the council's period ends, and after that
nothing of their content, name or personnummer is left anywhere in the database."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.audit.verify import verify_chain
from coordination.db import LOCAL_ZONE, Base
from coordination.models import AgencyKind, Child, ChildStatus, CloseReason, Council, User
from secrecy.models import Record, RecordKey
from secrecy.policy.engine import WithheldReason
from secrecy.records.children import EnrolmentData, close_case, enrol_child, reopen_case
from secrecy.records.reveal import Revealed, Withheld, check_owner_keys, reveal_records
from secrecy.records.services import create_record
from secrecy.retention import ShreddedChild, add_months, apply_retention
from secrecy.tags import SecrecyTag
from tests.conftest import Council3
from tests.factories import CouncilFactory, MembershipFactory

# Valid personnummer (Luhn check digit) of fictitious children.
TINDRA = ("Tindra Ebba", "Quennerstedt-Ölund", "20120315-1236")
MELKER = ("Melker", "Vinterlöv", "20110807-4566")
SIGRID = ("Sigrid", "Åkesdotter", "20130120-7898")


def enrol(db: Session, actor: User, council: Council, person: tuple[str, str, str]) -> Child:
    given, family, personnummer = person
    return enrol_child(
        db,
        actor,
        council,
        EnrolmentData(given_names=given, family_name=family, personnummer=personnummer),
    )


def marker() -> str:
    # Non-ASCII on purpose: the search must work on the UTF-8 bytes too.
    return f"MARKÖR-{uuid.uuid4().hex}"


def close_on(db: Session, actor: User, child: Child, day: dt.date) -> None:
    with time_machine.travel(dt.datetime.combine(day, dt.time(12), tzinfo=LOCAL_ZONE), tick=False):
        close_case(db, actor, child, CloseReason.GOALS_REACHED)
    assert child.closed_on == day


def _plain(value: Any) -> Any:
    return value.tobytes() if isinstance(value, memoryview) else value


def database_hits(db: Session, needle: str) -> list[str]:
    """Every ``table.column`` of every row in the database whose value contains ``needle``, as
    text or (for binary columns) as UTF-8 bytes."""
    db.flush()
    connection = db.connection()
    raw = needle.encode()
    hits = []
    for table in Base.metadata.sorted_tables:
        for row in connection.execute(table.select()):
            for column, value in zip(row._fields, row, strict=True):
                value = _plain(value)
                if needle in str(value) or (isinstance(value, bytes) and raw in value):
                    hits.append(f"{table.name}.{column}")
    return hits


def secrets_of(person: tuple[str, str, str]) -> list[str]:
    given, family, personnummer = person
    digits = personnummer.replace("-", "")
    birth = dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8])).isoformat()
    return [*given.split(), family, personnummer, digits, personnummer[2:], birth]


@pytest.fixture
def statements(db: Session) -> Iterator[list[str]]:
    """The SQL sent on the test's connection while the fixture is active."""
    sent: list[str] = []
    connection = db.connection()

    def capture(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(connection, "before_cursor_execute", capture)
    yield sent
    event.remove(connection, "before_cursor_execute", capture)


# --- month arithmetic ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("closed", "months", "due"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2028, 1, 31), 1, dt.date(2028, 2, 29)),  # leap year
        (dt.date(2026, 3, 31), 1, dt.date(2026, 4, 30)),
        (dt.date(2026, 1, 30), 1, dt.date(2026, 2, 28)),
        (dt.date(2026, 2, 28), 1, dt.date(2026, 3, 28)),  # not stretched to the month's end
        (dt.date(2026, 8, 31), 6, dt.date(2027, 2, 28)),
        (dt.date(2026, 12, 15), 1, dt.date(2027, 1, 15)),
        (dt.date(2026, 11, 30), 3, dt.date(2027, 2, 28)),
        (dt.date(2024, 2, 29), 12, dt.date(2025, 2, 28)),
        (dt.date(2026, 1, 31), 25, dt.date(2028, 2, 29)),
        (dt.date(2026, 1, 31), 12, dt.date(2027, 1, 31)),
        (dt.date(2026, 5, 20), 0, dt.date(2026, 5, 20)),
        (dt.date(2026, 12, 31), 120, dt.date(2036, 12, 31)),
    ],
)
def test_add_months_counts_calendar_months_and_clamps_to_the_month_end(
    closed: dt.date, months: int, due: dt.date
) -> None:
    assert add_months(closed, months) == due


def test_add_months_refuses_a_negative_period() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_months(dt.date(2026, 1, 31), -1)


# --- the database dump the shredding tests rely on ------------------------------------------------


def test_the_database_dump_covers_every_table_and_finds_text_and_bytes(
    db: Session, world: Council3
) -> None:
    tables = set(inspect(db.connection()).get_table_names()) - {"alembic_version"}
    assert tables <= set(Base.metadata.tables), "a table the dump would not search"

    user = world.members[AgencyKind.SCHOOL]
    planted = marker()
    user.totp_secret_sealed = b"\x00\xff" + planted.encode() + b"\x01"
    db.flush()
    assert database_hits(db, planted) == ["users.totp_secret_sealed"]
    assert database_hits(db, "Testrådet") == ["councils.name"]


# --- shredding ------------------------------------------------------------------------------------


def test_a_closed_case_is_shredded_when_its_period_ends_and_nothing_of_it_remains(
    db: Session, world: Council3
) -> None:
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    police = world.members[AgencyKind.POLICE]
    council = world.council
    council.retention_months = 1
    child = enrol(db, social, council, TINDRA)
    other = enrol(db, social, council, MELKER)
    social_marker, police_marker, other_marker = marker(), marker(), marker()
    social_record = create_record(db, social, child, "family", f"Bor hos mormor. {social_marker}")
    police_record = create_record(db, police, child, "crime_police", f"Anmälan. {police_marker}")
    other_record = create_record(db, social, other, "school", f"Går i skolan. {other_marker}")
    records = [r.id for r in db.scalars(select(Record).where(Record.child_id == child.id))]
    assert len(records) == 3  # identity, family, crime_police
    pseudonym = child.pseudonym
    close_on(db, social, child, dt.date(2026, 1, 31))
    db.flush()

    # Encrypted at rest: before any shredding, neither content nor identity is in clear.
    for secret in [social_marker, police_marker, *secrets_of(TINDRA)]:
        assert database_hits(db, secret) == [], secret
    assert "children.pseudonym" in database_hits(db, pseudonym)
    # ...yet each owner can read its own record.
    revealed = reveal_records(db, social, [social_record])[0]
    assert isinstance(revealed, Revealed) and social_marker in revealed.content["text"]
    revealed = reveal_records(db, police, [police_record])[0]
    assert isinstance(revealed, Revealed) and police_marker in revealed.content["text"]

    # The day before the period ends: nothing happens.
    report = apply_retention(db, dt.date(2026, 2, 27), dry_run=False, erasures=())
    assert report.children == ()
    db.expire_all()
    assert child.status is ChildStatus.CLOSED

    # Dry run on the due day: reported, nothing changed, nothing logged.
    keys_before = db.scalar(select(func.count()).select_from(RecordKey))
    events_before = db.scalar(select(func.count()).select_from(AuditEvent))
    report = apply_retention(db, dt.date(2026, 2, 28), dry_run=True, erasures=())
    assert report.dry_run
    assert report.children == (ShreddedChild(child.id, pseudonym, council.id, 3),)
    db.expire_all()
    assert child.status is ChildStatus.CLOSED
    assert child.identity_index is not None and child.birth_date_sealed is not None
    assert all(
        r.ciphertext is not None for r in db.scalars(select(Record).where(Record.id.in_(records)))
    )
    assert db.scalar(select(func.count()).select_from(RecordKey)) == keys_before
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == events_before

    # On the due day (31 January + 1 month = 28 February): shredded.
    report = apply_retention(db, dt.date(2026, 2, 28), dry_run=False, erasures=())
    assert report.children == (ShreddedChild(child.id, pseudonym, council.id, 3),)
    assert (report.children_count, report.records_count) == (1, 3)
    db.expire_all()
    assert child.status is ChildStatus.SHREDDED
    assert child.shredded_at is not None
    assert child.identity_index is None and child.birth_date_sealed is None
    assert child.pseudonym == pseudonym, "the pseudonym row stays for minutes and logs"
    shredded = db.scalars(select(Record).where(Record.id.in_(records))).all()
    assert len(shredded) == 3, "record metadata stays"
    assert all(r.ciphertext is None and r.shredded_at is not None for r in shredded)
    remaining = select(func.count()).select_from(RecordKey).where(RecordKey.record_id.in_(records))
    assert db.scalar(remaining) == 0

    events = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == str(SecrecyTag.RETENTION_SHRED))
    ).all()
    assert len(events) == 1
    assert events[0].actor_user_id is None and events[0].object_type == "child"
    assert events[0].object_ids == [child.id]
    assert events[0].details == {"records": 3, "council_id": council.id, "retention_months": 1}

    for secret in [social_marker, police_marker, *secrets_of(TINDRA)]:
        assert database_hits(db, secret) == [], secret
    assert "children.pseudonym" in database_hits(db, pseudonym)
    for viewer, record in ((social, social_record), (police, police_record)):
        withheld = reveal_records(db, viewer, [record])[0]
        assert isinstance(withheld, Withheld)
        assert withheld.reason_code is WithheldReason.SHREDDED

    # A second run finds nothing and logs nothing.
    assert apply_retention(db, dt.date(2027, 2, 28), dry_run=False, erasures=()).children == ()
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.tag == str(SecrecyTag.RETENTION_SHRED))
        )
        == 1
    )

    # The other child of the same council is untouched and keeps working.
    assert other.status is ChildStatus.ACTIVE and other.identity_index is not None
    revealed = reveal_records(db, social, [other_record])[0]
    assert isinstance(revealed, Revealed) and other_marker in revealed.content["text"]
    later_marker = marker()
    later = create_record(db, social, other, "leisure", f"Fotboll. {later_marker}")
    revealed = reveal_records(db, social, [later])[0]
    assert isinstance(revealed, Revealed) and later_marker in revealed.content["text"]
    db.flush()
    unshredded = db.scalar(
        select(func.count()).select_from(Record).where(Record.shredded_at.is_(None))
    )
    assert unshredded == 3  # the other child's identity, school and leisure records
    # Last: verify_chain and check_owner_keys detach every object of the session.
    assert verify_chain(db).ok
    assert check_owner_keys(db) == (3, [])


def test_the_period_is_the_councils_own(db: Session, world: Council3) -> None:
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    world.council.retention_months = 12
    short = CouncilFactory(
        name="Kortrådet", code="KORT", agencies=[world.agencies[AgencyKind.SOCIAL_SERVICES]]
    )
    short.retention_months = 3
    MembershipFactory(council=short, user=social)
    db.flush()
    long_child = enrol(db, social, world.council, MELKER)
    short_child = enrol(db, social, short, SIGRID)
    closed = dt.date(2026, 3, 10)
    close_on(db, social, long_child, closed)
    close_on(db, social, short_child, closed)

    assert apply_retention(db, dt.date(2026, 6, 9), dry_run=False, erasures=()).children == ()
    report = apply_retention(db, dt.date(2026, 6, 10), dry_run=False, erasures=())
    assert [c.child_id for c in report.children] == [short_child.id]
    assert apply_retention(db, dt.date(2027, 3, 9), dry_run=False, erasures=()).children == ()
    report = apply_retention(db, dt.date(2027, 3, 10), dry_run=False, erasures=())
    assert [c.child_id for c in report.children] == [long_child.id]

    db.expire_all()
    assert (short_child.status, long_child.status) == (ChildStatus.SHREDDED, ChildStatus.SHREDDED)
    details = {
        e.object_ids[0]: e.details
        for e in db.scalars(
            select(AuditEvent).where(AuditEvent.tag == str(SecrecyTag.RETENTION_SHRED))
        )
    }
    assert details == {
        short_child.id: {"records": 1, "council_id": short.id, "retention_months": 3},
        long_child.id: {"records": 1, "council_id": world.council.id, "retention_months": 12},
    }


def test_active_and_reopened_cases_are_never_shredded(db: Session, world: Council3) -> None:
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    world.council.retention_months = 0
    active = enrol(db, social, world.council, MELKER)
    reopened = enrol(db, social, world.council, SIGRID)
    close_on(db, social, reopened, dt.date(2026, 1, 5))
    reopen_case(db, social, reopened)
    closed_today = enrol(db, social, world.council, TINDRA)
    close_on(db, social, closed_today, dt.date(2026, 4, 1))

    report = apply_retention(db, dt.date(2030, 1, 1), dry_run=False, erasures=())
    # A period of 0 months shreds on the closing day; the active and reopened cases stay.
    assert [c.child_id for c in report.children] == [closed_today.id]
    db.expire_all()
    assert active.status is ChildStatus.ACTIVE and active.identity_index is not None
    assert reopened.status is ChildStatus.ACTIVE and reopened.identity_index is not None


def test_the_database_refuses_a_negative_period(db: Session, world: Council3) -> None:
    """Shredding cannot be undone: a negative period never reaches the retention run."""
    from sqlalchemy.exc import IntegrityError

    world.council.retention_months = -1
    with pytest.raises(IntegrityError), db.begin_nested():
        db.flush()


def test_retention_never_reads_record_content(
    db: Session, world: Council3, statements: list[str]
) -> None:
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    world.council.retention_months = 1
    child = enrol(db, social, world.council, MELKER)
    create_record(db, social, child, "family", marker())
    close_on(db, social, child, dt.date(2026, 1, 5))
    db.flush()
    db.expire_all()
    statements.clear()

    apply_retention(db, dt.date(2026, 2, 5), dry_run=True, erasures=())
    report = apply_retention(db, dt.date(2026, 2, 5), dry_run=False, erasures=())

    assert [c.records for c in report.children] == [2]
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert selects, "the capture saw the queries"
    assert not [s for s in selects if "ciphertext" in s or "wrapped_key" in s]
    assert any(s.lstrip().upper().startswith("UPDATE RECORDS") for s in statements)
