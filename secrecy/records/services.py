"""Records about a child: write and correct them, list them, and the registerutdrag.

Services take ``(session, actor, ...)``, check access, change, flush and append their audit
event in the caller's transaction. Content is sealed through ``secrecy.records.sealing`` and read
only through ``secrecy.records.reveal``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, lazyload, load_only

from coordination.audit.log import record_event
from coordination.db import utcnow
from coordination.errors import PermissionDenied, ServiceError
from coordination.models import (
    Child,
    ChildStatus,
    Council,
    User,
)
from coordination.policy import can_view_council
from secrecy.models import Record, RecordKey
from secrecy.policy.categories import IDENTITY, categories, writable_by_hand
from secrecy.records import sealing
from secrecy.tags import SecrecyTag

MAX_TEXT = 20_000


def require_council_member(actor: User, council: Council) -> None:
    """Children's information is for the council's members only; no role overrides this."""
    if not can_view_council(actor, council):
        raise PermissionDenied()


def require_child_access(actor: User, child: Child) -> None:
    require_council_member(actor, child.council)


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
    if not writable_by_hand(category_key):
        raise ServiceError(
            _l("En bedömning skrivs i beslutet om uppgiftslämning."), field="category"
        )
    content = {"text": text.strip()}
    _validate_content(category_key, content)
    return add_new_record(session, actor, child, category_key, content)


def add_new_record(
    session: Session,
    actor: User,
    child: Child,
    category_key: str,
    content: dict[str, Any],
    *,
    existence_secret: bool = False,
) -> Record:
    """The sealed record and its creation event, once the caller has checked the case and the
    content (``create_record``; the Bob case sync for cases it refuses)."""
    record = add_sealed_record(
        session, actor, child, category_key, content, existence_secret=existence_secret
    )
    record_event(
        session,
        actor,
        SecrecyTag.RECORD_CREATE,
        on=record,
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


def current_identity_records(session: Session, children: Sequence[Child]) -> Sequence[Record]:
    """The current identity record of each of these children that has one, in one query."""
    ids = [c.id for c in children]
    if not ids:
        return []
    return session.scalars(
        select(Record)
        .where(
            Record.child_id.in_(ids), Record.category == IDENTITY, Record.superseded_at.is_(None)
        )
        .order_by(Record.id)
    ).all()


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
