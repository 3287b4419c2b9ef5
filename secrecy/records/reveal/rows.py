"""The reveal's row loaders: live disclosures (with their assessments and the key
generation), consents with their council's rule, the agency's record keys and the records'
children, each in one statement for all the records of a call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Integer, String, any_, bindparam, cast, inspect, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased
from sqlalchemy.orm.util import identity_key

from coordination.models import Child, KeyGeneration
from secrecy.models import Consent, Disclosure, Record, RecordKey
from secrecy.policy.facts import consents_with_maturity
from secrecy.records import crypto
from secrecy.records.results import (
    DisclosedVia,
)

_DISCLOSED_VIA_COLUMNS = (
    Disclosure.id,
    Disclosure.record_id,
    Disclosure.basis_id,
    Disclosure.consent_id,
    Disclosure.decided_at,
    Disclosure.lapsed_at,
    Disclosure.assessment_record_id,
    Disclosure.ruleset_version,
)


def _live_among(
    session: Session, record_ids: Sequence[int], agency_id: int
) -> tuple[ColumnElement[bool], ...]:
    return (
        _among(session, Disclosure.record_id, record_ids),
        Disclosure.recipient_agency_id == agency_id,
        Disclosure.revoked_at.is_(None),
    )


def live_disclosures(
    session: Session, record_ids: Sequence[int], agency_id: int
) -> dict[int, list[DisclosedVia]]:
    """The disclosures of these records to one agency that have not been revoked, by record,
    whether their basis still holds or not (a lapsed one explains why a record is withheld)."""
    rows = session.execute(
        select(*_DISCLOSED_VIA_COLUMNS).where(*_live_among(session, record_ids, agency_id))
    )
    by_record: dict[int, list[DisclosedVia]] = {}
    for row in rows:
        by_record.setdefault(row[1], []).append(DisclosedVia(*row))
    return by_record


class _SealedAssessment(NamedTuple):
    """A disclosure's assessment as opening reads it, with the recipient's wrapped key to it."""

    id: int
    child_id: int
    owner_agency_id: int
    category: str
    ciphertext: bytes | None
    shredded_at: Any
    agency_key_version: int
    wrapped_key: bytes


_ASSESSMENT = aliased(Record, name="assessment")
_ASSESSMENT_KEY = aliased(RecordKey, name="assessment_key")


_KEY_GENERATION = (
    select(KeyGeneration.generation).where(KeyGeneration.id == 1).scalar_subquery()
).label("key_generation")


def _live_disclosures_with_assessments(
    session: Session, record_ids: Sequence[int], agency_id: int
) -> tuple[dict[int, list[DisclosedVia]], dict[int, _SealedAssessment]]:
    """``live_disclosures``, and in the same statement each one's assessment record with the
    agency's key to it (an assessment it holds no key to is not among them). Nothing is opened
    here: ``_with_assessments`` opens only those of the disclosures a record is shown under.

    Where the key ring will want the database's key generation (its worker cache is on), the
    statement reads that too, sparing the ring a statement of its own when any row comes
    back."""
    assessment, key = _ASSESSMENT, _ASSESSMENT_KEY
    ring = crypto.keyring(session)
    generation = (_KEY_GENERATION,) if ring.wants_generation() else ()
    rows = session.execute(
        select(
            *_DISCLOSED_VIA_COLUMNS,
            assessment.child_id,
            assessment.owner_agency_id,
            assessment.category,
            assessment.ciphertext,
            assessment.shredded_at,
            key.agency_key_version,
            key.wrapped_key,
            *generation,
        )
        .outerjoin(assessment, assessment.id == Disclosure.assessment_record_id)
        .outerjoin(key, (key.record_id == assessment.id) & (key.agency_id == agency_id))
        .where(*_live_among(session, record_ids, agency_id))
    )
    by_record: dict[int, list[DisclosedVia]] = {}
    assessments: dict[int, _SealedAssessment] = {}
    width = len(_DISCLOSED_VIA_COLUMNS)
    for row in rows:
        values: tuple[Any, ...] = tuple(row)
        disclosed = DisclosedVia(*values[:width])
        by_record.setdefault(disclosed.record_id, []).append(disclosed)
        if disclosed.assessment_record_id is not None and values[width + 5] is not None:
            assessments[disclosed.assessment_record_id] = _SealedAssessment(
                disclosed.assessment_record_id, *values[width : width + 7]
            )
        if generation:
            ring.adopt_generation(values[-1])
    return by_record, assessments


def _consents_of(
    session: Session, disclosures: dict[int, list[DisclosedVia]]
) -> tuple[dict[int, Consent], dict[int, bool]]:
    """The disclosures' consents, and each one's council rule on a mature child's consent, in
    one statement (not a council load per child's council while the policy reads them)."""
    ids = {d.consent_id for ds in disclosures.values() for d in ds if d.consent_id is not None}
    return consents_with_maturity(session, ids)


def _record_keys(
    session: Session, record_ids: Sequence[int], agency_id: int
) -> dict[int, crypto.WrappedKey]:
    """The agency's wrapped data keys of these records, as plain rows."""
    rows = session.execute(
        select(RecordKey.record_id, RecordKey.agency_key_version, RecordKey.wrapped_key).where(
            _among(session, RecordKey.record_id, record_ids), RecordKey.agency_id == agency_id
        )
    )
    return {
        record_id: crypto.WrappedKey(record_id, agency_id, version, wrapped)
        for record_id, version, wrapped in rows
    }


def _among(
    session: Session, column: InstrumentedAttribute[int], ids: Sequence[int]
) -> ColumnElement[bool]:
    """``column IN ids``. On PostgreSQL as ``column = ANY(CAST(:ids AS INTEGER[]))`` with the
    ids as one array literal: an IN list of a reveal's 500 ids costs about four times the CPU
    of the query written this way (each id is a parameter of its own, rendered, named and
    parsed at every execution), and a list parameter is still dumped id by id."""
    if session.get_bind().dialect.name == "postgresql":
        literal = "{" + ",".join(map(str, map(int, ids))) + "}"
        return column == any_(cast(bindparam(None, literal, type_=String), ARRAY(Integer)))
    return column.in_(ids)


_NEEDED_CHILD_COLUMNS = frozenset({"council_id", "birth_date_sealed"})


def _children_of(session: Session, records: Sequence[Record]) -> dict[int, Child]:
    """The records' children: from the session where they are loaded already (the pages load
    them with their rows), the others in one query, never one lazy load per child."""
    children: dict[int, Child] = {}
    missing: list[int] = []
    for child_id in {r.child_id for r in records}:
        child = session.identity_map.get(identity_key(Child, child_id))
        if child is not None and inspect(child).dict.keys() >= _NEEDED_CHILD_COLUMNS:
            children[child_id] = child
        else:
            missing.append(child_id)
    if missing:
        query = select(Child).where(Child.id.in_(missing))
        children.update((c.id, c) for c in session.scalars(query))
    return children
