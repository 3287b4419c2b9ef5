"""The refusals every service raises, and the checks they share.

A service validates, changes, flushes and records its audit event; when it refuses it raises one
of these, and the page wrapper or the API turns it into a message on the form (Swedish) or a
problem response. Nothing is kept of a refused request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

T = TypeVar("T")


class ServiceError(Exception):
    """A refused change. ``field`` names the form field the message belongs next to."""

    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


@contextmanager
def fields_named(names: Mapping[str, str]) -> Iterator[None]:
    """A service names its own field at fault (or the page's form field); the caller (the API's
    body, another form) names it ``names[field]`` instead. Other refusals pass unchanged."""
    try:
        yield
    except ServiceError as exc:
        if exc.field is None or exc.field not in names:
            raise
        raise ServiceError(exc.message, field=names[exc.field]) from exc


class PermissionDenied(ServiceError):
    """A refusal of access. ``object_type`` and ``object_ids`` name what was refused, for the
    ``access:denied`` event the page and API wrappers record."""

    def __init__(self, *, object_type: str | None = None, object_ids: Iterable[int] = ()) -> None:
        super().__init__(_l("Du har inte behörighet att göra detta."))
        self.object_type = object_type
        self.object_ids = list(object_ids)


class NotFound(PermissionDenied):
    """The object does not exist. Pages and API answer it exactly as a forbidden object (403,
    ``access:denied`` logged), so a refusal never tells whether an id exists."""


def get_or_not_found(
    session: Session,
    model: type[T],
    id_: int,
    object_type: str,
    *,
    options: Sequence[ORMOption] | None = None,
) -> T:
    """The row of ``model`` with the primary key ``id_`` (loaded with ``options``), or
    ``NotFound`` naming it as ``object_type``: the first step of an access loader."""
    found = session.get(model, id_, options=options)
    if found is None:
        raise NotFound(object_type=object_type, object_ids=[id_])
    return found


class ConflictError(ServiceError):
    """Someone else saved the same object since this form was loaded."""

    def __init__(self) -> None:
        super().__init__(
            _l(
                "Någon annan har ändrat uppgifterna sedan du öppnade formuläret. "
                "Ladda om sidan och gör ändringen igen."
            )
        )


# SQLSTATE unique_violation (PostgreSQL); SQLite says it in the message.
_UNIQUE_VIOLATION = "23505"


def lost_a_race(exc: IntegrityError) -> bool:
    """A unique key taken by a concurrent write: two requests made the same next number or
    the same first row at once, the second one's insert waited for the first's commit and
    failed. The wrappers answer it as a conflict; any other integrity error is a defect."""
    orig = exc.orig
    return getattr(orig, "sqlstate", None) == _UNIQUE_VIOLATION or str(orig).startswith(
        "UNIQUE constraint failed"
    )


class HasVersion(Protocol):
    """A row with a ``version`` column (the ORM's ``version_id_col``)."""

    @property
    def version(self) -> int: ...


def check_version(obj: HasVersion, expected_version: int | None) -> None:
    """A conflict when the form or request saw another version of ``obj`` than the current
    one; none when it named no version."""
    if expected_version is not None and obj.version != expected_version:
        raise ConflictError()


def lock_unchanged(session: Session, row: HasVersion) -> None:
    """Take ``row``'s lock (``SELECT ... FOR UPDATE``) before a change that numbers its children
    from what is there ("max + 1"): concurrent changes of the same row queue here instead of
    reading the same maximum. When the row changed after this transaction loaded it (the one
    ahead in the queue committed), a ``ConflictError`` at once: the loser answers before doing
    its work, as its version-checked UPDATE would have after it. SQLite has one writer, which
    holds the database from its transaction's start, so there the lock is not needed."""
    session.flush()  # a pending change of the row bumps its version now, not at the lock
    loaded = row.version
    state = inspect(row)
    mapper = state.mapper
    key = zip(mapper.primary_key, state.identity or (), strict=True)
    current = session.scalar(
        select(mapper.version_id_col).where(*(c == v for c, v in key)).with_for_update()
    )
    if current != loaded:
        raise ConflictError()
