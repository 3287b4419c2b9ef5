"""The tamper-evident audit log: an append-only SHA-256 hash chain of events.

Every layer writes here, in the same transaction as the change it records. Events carry ids,
tags and bases, never content or personal data. Writers take no lock: ``record_event`` inserts
the event (with its own id from the table's sequence) and its object index rows, durable when
the transaction commits. One sequencer (``coordination.audit.sequencer``, run by the elected
scheduler) then links committed events into the chain in batches, numbering them
(``chain_position``) and hashing each over the one before; the single ``audit_chain_head`` row
names the chain's last event and serialises sequencers (and checkpoint signing) only.

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
from typing import Any, Protocol, TypeGuard

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
    Table,
    bindparam,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, make_transient_to_detached, mapped_column

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

    # The event's id, from the table's sequence when it is inserted: ids are unique but not
    # dense (a rolled-back transaction leaves a gap) and not in commit order.
    seq: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    tag: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set by the sequencer: the position in the chain (1, 2, 3 … without gaps), the hash of
    # the event before (GENESIS_HASH for the first) and this event's hash; null while the
    # event is durable but not yet chained. The hash covers the position, not the id.
    chain_position: Mapped[int | None] = mapped_column(unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    chained_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # The sequencer's queue: the events not yet chained, by id (small: seconds of events).
        Index(
            "ix_audit_events_unchained",
            "seq",
            postgresql_where=text("chain_position IS NULL"),
            sqlite_where=text("chain_position IS NULL"),
        ),
    )


class AuditChainHead(Base):
    """One row: the chain's last position (``seq``) and hash. Locking it serialises the
    sequencer's batches and checkpoint signing; writers never touch it."""

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


def compute_hash(event: Any) -> str:
    """The hash of a chained event (an ``AuditEvent`` or a row with the same columns): the
    canonical form's ``seq`` is the event's position in the chain."""
    return hashlib.sha256(
        canonical_form(
            seq=event.chain_position,
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
    """The head row, locked until the transaction ends. Only the sequencer
    (``coordination.audit.sequencer``) and the checkpoint signer take this lock; writers never
    do. Events this transaction can see but the head does not cover yet stay outside it: sign
    or read the head after ``chain_events`` if they should be in."""
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
    """Record one event in the caller's transaction: it and its object index rows are inserted
    at once, so they are durable exactly when the change they record commits, and gone with it
    (or with the savepoint they were recorded in) on a rollback.

    No lock is taken: the event gets its id from the table's sequence and waits, unchained,
    until the sequencer (``coordination.audit.sequencer``) links it into the hash chain, in a
    batch, moments after the commit. Until then it is "not yet chained" (``chain_position`` is
    null): every reader shows it, and ``flask audit verify`` counts it apart.

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
    pairs = sorted(indexed_objects(object_type, event.object_ids, details))
    with timed_audit_append(1):
        # The flush writes what the service changed before (later Core statements of services
        # count on the flush an append has always made); the event itself is one Core
        # statement, without the unit of work (most of an append's CPU when it went through it).
        session.flush()
        event.seq = _insert_event(session, event, pairs)
    # In the session as a loaded row, so the sequencer's chaining refreshes it (no INSERT).
    make_transient_to_detached(event)
    session.add(event)
    return event


_events: Table = AuditEvent.__table__  # type: ignore[assignment]

# PostgreSQL: the event and its index rows in one statement and one round trip (a reveal of 500
# records indexes 500 rows, sent as two arrays; a multi-row VALUES clause would be compiled anew
# for every count, and executemany sends a statement per row).
_EVENT_WITH_OBJECTS = text(
    "WITH e AS (INSERT INTO audit_events (occurred_at, actor_user_id, actor_agency_id, tag, "
    "object_type, object_ids, details) VALUES (:occurred_at, :actor_user_id, :actor_agency_id, "
    ":tag, :object_type, :object_ids, :details) RETURNING seq), "
    "o AS (INSERT INTO audit_event_objects (seq, object_type, object_id) "
    "SELECT e.seq, x.t, x.i FROM e, unnest(CAST(:types AS varchar[]), "
    "CAST(:ids AS integer[])) AS x(t, i)) "
    "SELECT seq FROM e"
).bindparams(
    bindparam("occurred_at", type_=UTCDateTime()),
    bindparam("object_ids", type_=JSON()),
    bindparam("details", type_=JSON()),
)


def _insert_event(session: Session, event: AuditEvent, pairs: list[tuple[str, int]]) -> int:
    values = {
        "occurred_at": event.occurred_at,
        "actor_user_id": event.actor_user_id,
        "actor_agency_id": event.actor_agency_id,
        "tag": event.tag,
        "object_type": event.object_type,
        "object_ids": event.object_ids,
        "details": event.details,
    }
    if session.get_bind().dialect.name == "postgresql":
        seq: int = session.execute(
            _EVENT_WITH_OBJECTS,
            {**values, "types": [t for t, _ in pairs], "ids": [i for _, i in pairs]},
        ).scalar_one()
        return seq
    # SQLite runs in the process: two statements cost no round trips.
    seq = session.execute(insert(_events).values(values).returning(_events.c.seq)).scalar_one()
    if pairs:
        session.execute(
            insert(AuditEventObject),
            [{"seq": seq, "object_type": t, "object_id": i} for t, i in pairs],
        )
    return seq


def pending_events(session: Session) -> list[AuditEvent]:
    """The events this session can see that the sequencer has not chained yet, in the order
    recorded: its own, and others' committed moments ago. Until they are chained they may still
    be given their time (the row is updated at the next flush): a loader that writes history
    alone (the demo's past months) dates them when they happened. Once chained, an event's time
    is part of its hash, and changing it breaks ``flask audit verify``."""
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.chain_position.is_(None)).order_by(AuditEvent.seq)
        )
    )
