"""Secrecy services: enrol children, write and correct records, close and reopen cases.

Services take ``(session, actor, ...)``, check access, change, flush and append their audit
event in the caller's transaction. Content is sealed through ``secrecy.records.sealing`` and read
only through ``secrecy.records.reveal``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, lazyload, load_only

from coordination.audit.log import record_event
from coordination.db import today_local, utcnow
from coordination.errors import PermissionDenied, ServiceError
from coordination.models import (
    Child,
    ChildStatus,
    CloseReason,
    Council,
    CouncilMembership,
    CouncilRole,
    PseudonymCounter,
    User,
)
from coordination.policy import can_view_council, membership_in
from secrecy.models import Record, RecordKey
from secrecy.policy.categories import IDENTITY, categories
from secrecy.records import sealing
from secrecy.records.identity import parse_identity_number
from secrecy.tags import SecrecyTag

MAX_TEXT = 20_000


def require_council_member(actor: User, council: Council) -> None:
    """Children's information is for the council's members only; no role overrides this."""
    if not can_view_council(actor, council):
        raise PermissionDenied()


def require_child_access(actor: User, child: Child) -> None:
    require_council_member(actor, child.council)


def can_manage_case(actor: User, child: Child) -> bool:
    """Closing and reopening a case is for the enrolling agency and the council's coordinators."""
    membership = membership_in(actor, child.council)
    if membership is None or not actor.is_active:
        return False
    return (
        actor.agency_id == child.enrolling_agency_id
        or membership.council_role is CouncilRole.COORDINATOR
    )


# --- Enrolment ----------------------------------------------------------------------------------


@dataclass
class Guardian:
    name: str
    phone: str = ""
    email: str = ""


@dataclass
class EnrolmentData:
    given_names: str
    family_name: str
    personnummer: str
    guardians: list[Guardian] = field(default_factory=list)
    address: str = ""


def next_pseudonym(session: Session, council: Council, year: int) -> str:
    """``<CODE>-<YEAR>-<NNN>`` from a locked per-council, per-year counter: never reused."""
    stmt = (
        select(PseudonymCounter)
        .where(PseudonymCounter.council_id == council.id, PseudonymCounter.year == year)
        .with_for_update()
    )
    counter = session.scalars(stmt).one_or_none()
    if counter is None:
        try:
            with session.begin_nested():
                session.add(PseudonymCounter(council_id=council.id, year=year, last_number=0))
        except IntegrityError:
            pass  # another enrolment created the row first; lock and use it below
        counter = session.scalars(stmt).one()
    counter.last_number += 1
    return f"{council.code}-{year}-{counter.last_number:03d}"


def enrol_child(session: Session, actor: User, council: Council, data: EnrolmentData) -> Child:
    require_council_member(actor, council)
    if not council.active:
        raise ServiceError(_l("Forumet är inaktiverat."))
    number = parse_identity_number(data.personnummer)
    given, family = data.given_names.strip(), data.family_name.strip()
    if not given:
        raise ServiceError(_l("Ange förnamn."), field="given_names")
    if not family:
        raise ServiceError(_l("Ange efternamn."), field="family_name")
    guardians = [g for g in data.guardians if g.name.strip()]
    index = sealing.personnummer_index(session, number.normalised)
    duplicate = session.scalars(
        select(Child).where(Child.council_id == council.id, Child.identity_index == index)
    ).first()
    if duplicate is not None:
        record_event(
            session,
            actor,
            SecrecyTag.CHILD_DUPLICATE_REFUSED,
            object_type="child",
            object_ids=[duplicate.id],
            details={"council_id": council.id},
        )
        if duplicate.enrolling_agency_id == actor.agency_id:
            raise ServiceError(
                _l(
                    "Barnet finns redan i forumet som %(pseudonym)s. Öppna det ärendet i stället.",
                    pseudonym=duplicate.pseudonym,
                ),
                field="personnummer",
            )
        # Others learn no pseudonym: a number typed in must not lead to a child's page.
        raise ServiceError(
            _l("Barnet är redan inskrivet i forumet. Kontakta samordnaren."),
            field="personnummer",
        )
    today = today_local()
    child = Child(
        council=council,
        pseudonym=next_pseudonym(session, council, today.year),
        status=ChildStatus.ACTIVE,
        enrolled_on=today,
        enrolling_agency_id=actor.agency_id,
        identity_index=index,
    )
    try:
        with session.begin_nested():
            session.add(child)
            session.flush()
    except IntegrityError:
        # The same number enrolled at the same moment by someone else (unique per council).
        raise ServiceError(
            _l("Barnet är redan inskrivet i forumet. Kontakta samordnaren."), field="personnummer"
        ) from None
    sealing.seal_birth_date(session, child, number.birth_date)
    content: dict[str, Any] = {
        "given_names": given,
        "family_name": family,
        "personnummer": number.normalised,
        "coordination_number": number.coordination_number,
        "birth_date": number.birth_date.isoformat(),
        "guardians": [
            {"name": g.name.strip(), "phone": g.phone.strip(), "email": g.email.strip()}
            for g in guardians
        ],
        "address": data.address.strip(),
    }
    record = add_sealed_record(session, actor, child, IDENTITY, content)
    record_event(
        session,
        actor,
        SecrecyTag.CHILD_ENROL,
        object_type="child",
        object_ids=[child.id],
        details={"council_id": council.id, "identity_record_id": record.id},
    )
    return child


def other_councils_with_same_child(session: Session, actor: User, child: Child) -> Sequence[Child]:
    """Children with the same number in the actor's other councils (pseudonyms only)."""
    if child.identity_index is None:
        return []
    member_of = select(CouncilMembership.council_id).where(CouncilMembership.user_id == actor.id)
    return session.scalars(
        select(Child).where(
            Child.identity_index == child.identity_index,
            Child.id != child.id,
            Child.council_id.in_(member_of),
        )
    ).all()


# --- Records ------------------------------------------------------------------------------------


def _validate_content(category_key: str, content: dict[str, Any]) -> None:
    if category_key not in categories():
        raise ServiceError(_l("Okänd kategori."), field="category")
    text = content.get("text")
    if category_key != IDENTITY:
        if not isinstance(text, str) or not text.strip():
            raise ServiceError(_l("Skriv uppgiften."), field="text")
        if len(text) > MAX_TEXT:
            raise ServiceError(_l("Texten är för lång (högst 20 000 tecken)."), field="text")


def add_sealed_record(
    session: Session,
    actor: User,
    child: Child,
    category_key: str,
    content: dict[str, Any],
    supersedes: Record | None = None,
    *,
    existence_secret: bool = False,
) -> Record:
    record = Record(
        child_id=child.id,
        owner_agency_id=actor.agency_id,
        category=category_key,
        author_id=actor.id,
        supersedes_id=supersedes.id if supersedes else None,
        existence_secret=existence_secret or bool(supersedes and supersedes.existence_secret),
    )
    session.add(record)
    session.flush()
    sealing.seal_record(session, record, content)
    session.flush()
    return record


def _require_open_case(child: Child) -> None:
    if child.status is not ChildStatus.ACTIVE:
        raise ServiceError(_l("Ärendet är avslutat. Öppna det igen för att lägga till uppgifter."))


def create_record(
    session: Session, actor: User, child: Child, category_key: str, text: str
) -> Record:
    """A new record owned by the author's agency. Identity changes go through corrections."""
    require_child_access(actor, child)
    _require_open_case(child)
    if category_key == IDENTITY:
        raise ServiceError(
            _l("Identitetsuppgifter ändras genom att rätta identitetsposten."), field="category"
        )
    content = {"text": text.strip()}
    _validate_content(category_key, content)
    record = add_sealed_record(session, actor, child, category_key, content)
    record_event(
        session,
        actor,
        SecrecyTag.RECORD_CREATE,
        object_type="record",
        object_ids=[record.id],
        details={"child_id": child.id, "category": category_key},
    )
    return record


def correct_record(
    session: Session, actor: User, record: Record, content: dict[str, Any]
) -> Record:
    """A correction is a new record of the same category that supersedes the old one; only the
    owner agency corrects its own information, and only the newest version."""
    child = record.child
    require_child_access(actor, child)
    if record.owner_agency_id != actor.agency_id:
        raise ServiceError(_l("Bara den myndighet som lämnade uppgiften kan rätta den."))
    # Two people correcting the same version at once: the second waits here and then sees the
    # first one's correction, instead of failing on the unique supersedes key.
    session.scalars(
        select(Record)
        .where(Record.id == record.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if record.is_superseded:
        raise ServiceError(_l("Uppgiften har redan rättats. Rätta den senaste versionen."))
    if record.is_shredded:
        raise ServiceError(_l("Uppgiften är gallrad."))
    _require_open_case(child)
    _validate_content(record.category, content)
    record.superseded_at = utcnow()
    correction = add_sealed_record(
        session, actor, child, record.category, content, supersedes=record
    )
    record_event(
        session,
        actor,
        SecrecyTag.RECORD_CORRECT,
        object_type="record",
        object_ids=[record.id, correction.id],
        details={"child_id": child.id, "supersedes": record.id, "category": record.category},
    )
    return correction


def correct_identity(session: Session, actor: User, record: Record, data: EnrolmentData) -> Record:
    """Correct the sealed identity; a changed personnummer gets a new blind index (refused if
    it matches another child in the council)."""
    if record.category != IDENTITY:
        raise ServiceError(_l("Det här är inte en identitetspost."))
    child = record.child
    # Access before anything else: the clash message below names another child's pseudonym.
    require_child_access(actor, child)
    if record.owner_agency_id != actor.agency_id:
        raise ServiceError(_l("Bara den myndighet som lämnade uppgiften kan rätta den."))
    if child.enrolling_agency_id != actor.agency_id:
        # The birth date and blind index drive every age limit and match: only the agency
        # responsible for the case changes them (a police copy from the case sync does not).
        raise ServiceError(_l("Identiteten rättas av den myndighet som ansvarar för ärendet."))
    number = parse_identity_number(data.personnummer)
    index = sealing.personnummer_index(session, number.normalised)
    clash = session.scalars(
        select(Child).where(
            Child.council_id == child.council_id,
            Child.identity_index == index,
            Child.id != child.id,
        )
    ).first()
    if clash is not None:
        raise ServiceError(
            _l("Personnumret hör till %(pseudonym)s i forumet.", pseudonym=clash.pseudonym),
            field="personnummer",
        )
    if not data.given_names.strip():
        raise ServiceError(_l("Ange förnamn."), field="given_names")
    if not data.family_name.strip():
        raise ServiceError(_l("Ange efternamn."), field="family_name")
    content = {
        "given_names": data.given_names.strip(),
        "family_name": data.family_name.strip(),
        "personnummer": number.normalised,
        "coordination_number": number.coordination_number,
        "birth_date": number.birth_date.isoformat(),
        "guardians": [
            {"name": g.name.strip(), "phone": g.phone.strip(), "email": g.email.strip()}
            for g in data.guardians
            if g.name.strip()
        ],
        "address": data.address.strip(),
    }
    correction = correct_record(session, actor, record, content)
    child.identity_index = index
    sealing.seal_birth_date(session, child, number.birth_date)
    return correction


def child_records(session: Session, child: Child) -> Sequence[Record]:
    """Every record of the child, oldest first (metadata only; content needs reveal). Of the
    authors only the names the pages show are loaded (not their roles, agencies, logins)."""
    return session.scalars(
        select(Record)
        .where(Record.child_id == child.id)
        .order_by(Record.created_at, Record.id)
        .options(
            joinedload(Record.author).options(
                load_only(User.id, User.display_name),
                lazyload(User.agency),
                lazyload(User.role_rows),
            )
        )
    ).all()


def current_identity_record(session: Session, child: Child) -> Record | None:
    return session.scalars(
        select(Record)
        .where(
            Record.child_id == child.id, Record.category == IDENTITY, Record.superseded_at.is_(None)
        )
        .order_by(Record.id.desc())
    ).first()


# --- Case status --------------------------------------------------------------------------------


def close_case(session: Session, actor: User, child: Child, reason: CloseReason) -> None:
    if not can_manage_case(actor, child):
        raise PermissionDenied()
    if child.status is not ChildStatus.ACTIVE:
        raise ServiceError(_l("Ärendet är redan avslutat."))
    child.status = ChildStatus.CLOSED
    child.closed_on = today_local()
    child.close_reason = reason
    session.flush()
    record_event(
        session,
        actor,
        SecrecyTag.CHILD_CLOSE,
        object_type="child",
        object_ids=[child.id],
        details={"reason": str(reason)},
    )


def reopen_case(session: Session, actor: User, child: Child) -> None:
    if not can_manage_case(actor, child):
        raise PermissionDenied()
    if child.status is ChildStatus.SHREDDED:
        raise ServiceError(_l("Ärendet är gallrat och kan inte öppnas igen."))
    if child.status is not ChildStatus.CLOSED:
        # Active cases are open already; proposals are decided in the case sync, not here.
        raise ServiceError(_l("Bara ett avslutat ärende kan öppnas igen."))
    previous = child.close_reason
    child.status = ChildStatus.ACTIVE
    child.closed_on = None
    child.close_reason = None
    session.flush()
    record_event(
        session,
        actor,
        SecrecyTag.CHILD_REOPEN,
        object_type="child",
        object_ids=[child.id],
        details={"previous_reason": str(previous) if previous else None},
    )


# --- Registerutdrag -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyHolder:
    record_id: int
    agency_id: int
    since: dt.datetime


def records_owned_by(session: Session, child: Child, agency_id: int) -> Sequence[Record]:
    return session.scalars(
        select(Record)
        .where(Record.child_id == child.id, Record.owner_agency_id == agency_id)
        .order_by(Record.created_at, Record.id)
    ).all()


def recipients_of(session: Session, records: Sequence[Record]) -> list[KeyHolder]:
    """Which other agencies can open these records (part 2 adds the decision behind each)."""
    if not records:
        return []
    owners = {r.id: r.owner_agency_id for r in records}
    rows = session.scalars(select(RecordKey).where(RecordKey.record_id.in_(list(owners)))).all()
    return [
        KeyHolder(row.record_id, row.agency_id, row.created_at)
        for row in rows
        if row.agency_id != owners[row.record_id]
    ]


def log_extract(session: Session, actor: User, child: Child, record_ids: Sequence[int]) -> None:
    record_event(
        session,
        actor,
        SecrecyTag.EXTRACT_EXPORT,
        object_type="record",
        object_ids=record_ids,
        details={"child_id": child.id},
    )
