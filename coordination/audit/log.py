"""The tamper-evident audit log: an append-only SHA-256 hash chain of events.

Every layer writes here, in the same transaction as the change it records. Events carry ids,
tags and bases, never content or personal data. Appends are serialised through the single
``audit_chain_head`` row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has one writer anyway),
so the chain never forks; a transaction's events are chained when it commits, so that lock is
held only for the append and the commit (``record_event``).

Beside the chain, ``audit_event_objects`` indexes which objects each event is about (so "events
about these records" is a join on any database). Signed checkpoints of the chain head live in
``coordination.audit.checkpoints``; the monthly log reviews in ``coordination.logreview``.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeGuard

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
    insert,
    select,
    text,
)
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, SessionTransaction, mapped_column
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.util import find_tables

from coordination.db import Base, UTCDateTime, utcnow
from coordination.ops.metrics import timed_audit_append

GENESIS_HASH = "0" * 64


class AuditTag(enum.StrEnum):
    """``domain:object:action``. Stable strings: they are stored and hashed. Upper layers
    define their own StrEnums in the same form (``secrecy.tags.SecrecyTag``)."""

    AUTH_LOGIN_SUCCESS = "auth:login:success"
    AUTH_LOGIN_FAILURE = "auth:login:failure"
    AUTH_LOGOUT = "auth:logout"
    AUTH_LOGOUT_EVERYWHERE = "auth:logout:everywhere"
    AUTH_LOCKOUT = "auth:account:lockout"
    AUTH_SESSION_EXPIRED = "auth:session:expired"
    AUTH_PASSWORD_CHANGE = "auth:password:change"  # noqa: S105 - an event name, not a secret
    AUTH_TWO_FACTOR_ENROL = "auth:two_factor:enrol"
    AUTH_TWO_FACTOR_FAILURE = "auth:two_factor:failure"
    AUTH_RECOVERY_CODE_USE = "auth:recovery_code:use"
    AUTH_RECOVERY_CODES_CREATE = "auth:recovery_codes:create"
    ADMIN_AGENCY_CREATE = "admin:agency:create"
    ADMIN_AGENCY_UPDATE = "admin:agency:update"
    ADMIN_USER_CREATE = "admin:user:create"
    ADMIN_USER_UPDATE = "admin:user:update"
    ADMIN_USER_DEACTIVATE = "admin:user:deactivate"
    ADMIN_USER_ACTIVATE = "admin:user:activate"
    ADMIN_USER_RESET_TWO_FACTOR = "admin:user:reset_two_factor"
    ADMIN_USER_UNLOCK = "admin:user:unlock"
    ADMIN_USER_RESET_PASSWORD = "admin:user:reset_password"  # noqa: S105 - an event name
    ADMIN_UNUSED_ACCOUNTS_REPORT = "admin:unused_accounts:report"
    ADMIN_COUNCIL_CREATE = "admin:council:create"
    ADMIN_COUNCIL_UPDATE = "admin:council:update"
    ADMIN_MEMBERSHIP_ADD = "admin:membership:add"
    ADMIN_MEMBERSHIP_UPDATE = "admin:membership:update"
    ADMIN_MEMBERSHIP_REMOVE = "admin:membership:remove"
    ACCESS_DENIED = "access:denied"
    AUDIT_EXPORT = "audit:log:export"
    AUDIT_REVIEW_SIGN = "audit:review:sign_off"
    AUDIT_CHECKPOINT = "audit:chain:checkpoint"
    AUDIT_CHECKPOINTS_EXPORT = "audit:checkpoints:export"


class AuditEvent(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    tag: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditChainHead(Base):
    """One row: the last sequence number and hash. Locking it serialises appends."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))


# Detail keys that name children: indexed as object type "child" beside the event's own objects.
CHILD_DETAIL_KEYS = ("child_id", "child_ids")


class AuditEventObject(Base):
    """One (object type, object id) an event is about: its ``object_ids`` under its
    ``object_type``, and the children named in ``details`` under ``"child"``.

    Derived from the event and written with it. Not part of the hash; ``verify_object_index``
    recomputes it from the (hash-checked) events, so a removed row cannot hide an event.
    """

    __tablename__ = "audit_event_objects"

    seq: Mapped[int] = mapped_column(
        ForeignKey("audit_events.seq", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    object_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    object_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)

    __table_args__ = (
        Index("ix_audit_event_objects_object_type_object_id", "object_type", "object_id"),
    )


class Actor(Protocol):
    """What the audit log needs to know about who acted (a User satisfies it)."""

    @property
    def id(self) -> int: ...

    @property
    def agency_id(self) -> int: ...


_ALLOWED_DETAIL_TYPES = (str, int, bool, type(None))


def _check_details(details: dict[str, Any]) -> None:
    """Details are small and flat: tags, ids, bases, reasons. Never free text from users."""
    for key, value in details.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, _ALLOWED_DETAIL_TYPES) for v in values):
            raise TypeError(f"audit detail {key!r} must be a scalar or a list of scalars")
        if any(isinstance(v, str) and len(v) > 200 for v in values):
            raise ValueError(f"audit detail {key!r} is too long to be an id or a code")


def canonical_form(
    *,
    seq: int,
    occurred_at: dt.datetime,
    actor_user_id: int | None,
    actor_agency_id: int | None,
    tag: str,
    object_type: str | None,
    object_ids: Sequence[int],
    details: dict[str, Any],
    prev_hash: str,
) -> bytes:
    payload = {
        "seq": seq,
        "occurred_at": occurred_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_user_id": actor_user_id,
        "actor_agency_id": actor_agency_id,
        "tag": tag,
        "object_type": object_type,
        "object_ids": list(object_ids),
        "details": details,
        "prev_hash": prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def compute_hash(event: AuditEvent | Any) -> str:
    """The hash of an event (an ``AuditEvent`` or a row with the same columns)."""
    return hashlib.sha256(
        canonical_form(
            seq=event.seq,
            occurred_at=event.occurred_at,
            actor_user_id=event.actor_user_id,
            actor_agency_id=event.actor_agency_id,
            tag=event.tag,
            object_type=event.object_type,
            object_ids=event.object_ids,
            details=event.details,
            prev_hash=event.prev_hash,
        )
    ).hexdigest()


def lock_chain_head(session: Session) -> AuditChainHead:
    """The head row, locked until the transaction ends: nothing is appended meanwhile. Events
    this session has recorded but not yet chained are chained first, so the head includes them."""
    chain_pending_events(session)
    return _lock_head(session)


def _lock_head(session: Session) -> AuditChainHead:
    # The row is created by the first migration; FOR UPDATE makes concurrent appenders queue.
    return session.scalars(
        select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update()
    ).one()


def _is_id(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


class Identified(Protocol):
    """A row an event can be about: a model instance with an integer id."""

    @property
    def id(self) -> int: ...


def audit_type(model: type[object]) -> str:
    """The object type a model's rows are logged under: ``CaseSyncEntry`` → ``case_sync_entry``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()


def indexed_objects(
    object_type: str | None, object_ids: Iterable[int], details: dict[str, Any]
) -> set[tuple[str, int]]:
    """The (type, id) pairs an event is indexed under in ``audit_event_objects``."""
    pairs = {(object_type, i) for i in object_ids if _is_id(i)} if object_type else set()
    for key in CHILD_DETAIL_KEYS:
        value = details.get(key)
        for child_id in value if isinstance(value, list) else [value]:
            if _is_id(child_id):
                pairs.add(("child", child_id))
    return pairs


def record_event(
    session: Session,
    actor: Actor | None,
    tag: enum.StrEnum,
    *,
    on: Identified | None = None,
    object_type: str | None = None,
    object_ids: Iterable[int] = (),
    details: dict[str, Any] | None = None,
    agency_id: int | None = None,
) -> AuditEvent:
    """Record one event in the caller's transaction; it joins the chain when that commits.

    The event is validated and timed now, but its sequence number and hashes are assigned by
    ``chain_pending_events`` at commit: the chain head's lock, which serialises every audited
    transaction of the installation, is then held for the few milliseconds of the append and
    the commit, not for the rest of the request. The event is part of the transaction all the
    same: a rollback (of the transaction, or of the savepoint it was recorded in) discards it,
    and a commit never happens without it. Reading the audit tables in the same session chains
    the pending events first, so a transaction always sees its own events.

    The event is about one object, ``on`` (its type is the model's name in snake case: a
    ``MinutesEntry`` is a ``minutes_entry``), or about ``object_ids`` of ``object_type``.
    ``agency_id`` names the actor's agency when there is no actor (a failed login of a known
    account is logged against that account's agency for its log review).
    """
    if on is not None:
        if object_type is not None or object_ids:
            raise ValueError("an event is about `on` or about object_type/object_ids, not both")
        object_type, object_ids = audit_type(on.__class__), [on.id]
    details = dict(details or {})
    _check_details(details)
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_user_id=actor.id if actor is not None else None,
        actor_agency_id=actor.agency_id if actor is not None else agency_id,
        tag=str(tag),
        object_type=object_type,
        object_ids=sorted(set(object_ids)),
        details=details,
    )
    # Services count on the flush an append has always made (later Core statements read it).
    session.flush()
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append(_Pending(event, transaction))
    return event


@dataclass(frozen=True)
class _Pending:
    event: AuditEvent
    # The innermost transaction the event was recorded in (None before the session began one):
    # rolling it back, or any transaction around it, discards the event.
    transaction: SessionTransaction | None


_PENDING = "samverkan.audit.pending"


def pending_event_count(session: Session) -> int:
    """Events recorded in this session that are not chained yet (they will be at commit)."""
    return len(session.info.get(_PENDING, ()))


def pending_events(session: Session) -> list[AuditEvent]:
    """The events this session has recorded and not chained yet, in the order recorded. Until
    ``chain_pending_events`` hashes them they may still be given their time: a loader that
    writes history (the demo's past months) dates them when they happened. Once chained, an
    event's time is part of its hash, and changing it breaks ``flask audit verify``."""
    return [item.event for item in session.info.get(_PENDING, ())]


def chain_pending_events(session: Session) -> int:
    """Append this session's recorded events to the chain now: lock the head, number and hash
    the events in the order they were recorded, insert them and their object index rows in
    one statement each, move the head. Returns the number appended. Runs by itself before
    every commit; call it directly only where an event's sequence number is needed at once."""
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    if not pending:
        return 0
    with timed_audit_append(len(pending)):
        return _append_to_chain(session, pending)


def _append_to_chain(session: Session, pending: list[_Pending]) -> int:
    head = _lock_head(session)
    seq, prev_hash = head.seq, head.hash
    event_rows: list[dict[str, Any]] = []
    object_rows: list[dict[str, Any]] = []
    for item in pending:
        event = item.event
        seq += 1
        event.seq, event.prev_hash = seq, prev_hash
        event.hash = prev_hash = compute_hash(event)
        event_rows.append(
            {
                "seq": event.seq,
                "occurred_at": event.occurred_at,
                "actor_user_id": event.actor_user_id,
                "actor_agency_id": event.actor_agency_id,
                "tag": event.tag,
                "object_type": event.object_type,
                "object_ids": event.object_ids,
                "details": event.details,
                "prev_hash": event.prev_hash,
                "hash": event.hash,
            }
        )
        object_rows.extend(
            {"seq": event.seq, "object_type": t, "object_id": i}
            for t, i in sorted(indexed_objects(event.object_type, event.object_ids, event.details))
        )
    session.execute(insert(AuditEvent), event_rows)
    _insert_object_rows(session, object_rows)
    head.seq, head.hash = seq, prev_hash
    session.flush()
    return len(pending)


# PostgreSQL: the index rows of a commit as three arrays in one fixed statement (a reveal of 500
# records indexes 500 rows; a multi-row VALUES clause would be compiled anew for every count,
# and executemany sends a statement per row, all of it while the head is locked).
_OBJECT_ROWS_FROM_ARRAYS = text(
    "INSERT INTO audit_event_objects (seq, object_type, object_id) "
    "SELECT * FROM unnest(CAST(:seqs AS integer[]), CAST(:types AS varchar[]), "
    "CAST(:ids AS integer[]))"
)


def _insert_object_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            _OBJECT_ROWS_FROM_ARRAYS,
            {
                "seqs": [r["seq"] for r in rows],
                "types": [r["object_type"] for r in rows],
                "ids": [r["object_id"] for r in rows],
            },
        )
    else:  # SQLite runs in the process: executemany costs no round trips
        session.execute(insert(AuditEventObject), rows)


def _recorded_within(item: _Pending, transaction: SessionTransaction) -> bool:
    current = item.transaction
    while current is not None:
        if current is transaction:
            return True
        current = current.parent
    return False


@orm_event.listens_for(Session, "before_commit")
def _chain_before_commit(session: Session) -> None:
    # A savepoint's commit only hands its events to the enclosing transaction; the outermost
    # commit chains them.
    if session.get_nested_transaction() is None:
        chain_pending_events(session)


@orm_event.listens_for(Session, "after_soft_rollback")
def _discard_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    pending: list[_Pending] | None = session.info.get(_PENDING)
    if pending:
        pending[:] = [p for p in pending if not _recorded_within(p, previous_transaction)]


@orm_event.listens_for(Session, "after_transaction_end")
def _discard_at_end(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended without a commit (closed): its events never happened.
    # Events recorded before the session began a transaction wait for the next one.
    if transaction.parent is None:
        pending: list[_Pending] | None = session.info.get(_PENDING)
        if pending:
            pending[:] = [p for p in pending if p.transaction is None]


_AUDIT_TABLES = frozenset({"audit_events", "audit_event_objects", "audit_chain_head"})


@orm_event.listens_for(Session, "do_orm_execute")
def _chain_before_reading_the_log(state: ORMExecuteState) -> None:
    # Like autoflush: a query of the audit tables sees the events this transaction recorded.
    if not state.session.info.get(_PENDING):
        return
    statement = state.statement
    if isinstance(statement, ClauseElement) and any(
        t.name in _AUDIT_TABLES for t in find_tables(statement, include_crud=True)
    ):
        chain_pending_events(state.session)
