"""The fast path of the audit log's verification: an event's hash recomputed from its driver
row without the ORM, giving ``canonical_form``'s bytes (``coordination.audit.log``) for the
common case and deferring to ``canonical_form`` itself wherever it cannot be sure.

orjson writes the common case about ten times faster than ``json.dumps``; the readers
(``load_object_ids``, ``load_details``) return ``UNSURE`` for anything orjson could read or
write differently from json (floats, integers beyond 64 bits, lone surrogates), and
``hash_holds`` asks ``canonical_form`` before an event is reported as broken, so the verdict is
always the one ``canonical_form`` gives.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import orjson

from coordination.audit.log import canonical_form


class _Unsure:
    """What the readers below give where orjson's reading could differ from json's."""


UNSURE = _Unsure()

# What _check_details lets into details (orjson reads an integer beyond 64 bits, or a number
# with a fraction or an exponent, as a float, where json keeps the integer or writes the float
# differently: a float anywhere leaves the event to json).
_SCALAR_TYPES = frozenset({str, int, bool, type(None)})
INT_TYPE = frozenset({int})


def load_object_ids(text: Any) -> Any:
    """``json.loads(text)`` if it is a list of integers orjson reads as json does, else
    ``UNSURE``."""
    try:
        ids = orjson.loads(text)
    except (orjson.JSONDecodeError, TypeError):
        return UNSURE
    if type(ids) is not list or not INT_TYPE.issuperset(map(type, ids)):
        return UNSURE
    return ids


def load_details(text: Any) -> Any:
    """``json.loads(text)`` if it is an object of the values ``record_event`` accepts (scalars
    and lists of scalars, no floats) and orjson reads it as json does, else ``UNSURE``."""
    try:
        details = orjson.loads(text)
    except (orjson.JSONDecodeError, TypeError):  # NaN, lone surrogates: json reads them
        return UNSURE
    if type(details) is not dict:
        return UNSURE
    for value in details.values():
        if type(value) is list:
            if not _SCALAR_TYPES.issuperset(map(type, value)):
                return UNSURE
        elif type(value) not in _SCALAR_TYPES:
            return UNSURE
    return details


def canonical_timestamp(occurred_at: dt.datetime) -> str | None:
    """``canonical_form``'s text of a naive UTC time, or ``None`` for years before 1000 (where
    ``strftime("%Y")`` does not pad to four digits as ``isoformat`` does)."""
    if occurred_at.year < 1000:
        return None
    return occurred_at.isoformat(timespec="microseconds") + "Z"


def fast_canonical_form(
    *,
    seq: int,
    occurred_at: str,
    actor_user_id: int | None,
    actor_agency_id: int | None,
    tag: str,
    object_type: str | None,
    object_ids: Any,
    details: Any,
    prev_hash: str,
) -> bytes | None:
    """``canonical_form``'s bytes, or ``None`` where this cannot be sure they are the same.

    Takes ``occurred_at`` from ``canonical_timestamp``, ``object_ids`` from ``load_object_ids``
    and ``details`` from ``load_details``. orjson sorts keys (by code point, as UTF-8 bytes
    sort) and escapes quotes, backslashes and control characters as ``json.dumps`` does, but
    writes DEL and non-ASCII characters unescaped, where ``json.dumps(ensure_ascii=True)``
    writes ``\\uXXXX`` (a surrogate pair beyond the BMP): those are escaped afterwards."""
    if object_ids is UNSURE or details is UNSURE:
        return None
    try:
        form = orjson.dumps(
            {
                "seq": seq,
                "occurred_at": occurred_at,
                "actor_user_id": actor_user_id,
                "actor_agency_id": actor_agency_id,
                "tag": tag,
                "object_type": object_type,
                "object_ids": object_ids,
                "details": details,
                "prev_hash": prev_hash,
            },
            option=orjson.OPT_SORT_KEYS,
        )
    except orjson.JSONEncodeError:
        return None
    if not form.isascii():
        form = form.decode().encode("ascii", _JSON_ASCII_ESCAPE)
    if b"\x7f" in form:  # only ever DEL itself in UTF-8: no other byte of a character is 0x7f
        form = form.replace(b"\x7f", b"\\u007f")
    return form


_JSON_ASCII_ESCAPE = "samverkan-json-ascii"


def _escape_as_json(error: UnicodeError) -> tuple[str, int]:
    """The ``\\uXXXX`` escapes ``json.dumps(ensure_ascii=True)`` writes for the characters an
    ASCII encoding could not take (they stand only inside JSON strings)."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    escaped = []
    for character in error.object[error.start : error.end]:
        code = ord(character)
        if code > 0xFFFF:
            code -= 0x10000
            escaped.append(f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}")
        else:
            escaped.append(f"\\u{code:04x}")
    return "".join(escaped), error.end


codecs.register_error(_JSON_ASCII_ESCAPE, _escape_as_json)


def hash_holds(event: Sequence[Any], when: dt.datetime, ids: Any, details: Any) -> bool:
    """Whether the event row's ``hash`` is its hash; ``when`` is its time (naive UTC), ``ids``
    and ``details`` its JSON columns as ``load_object_ids`` and ``load_details`` read them."""
    text = canonical_timestamp(when)
    if text is not None:
        form = fast_canonical_form(
            seq=event[0],
            occurred_at=text,
            actor_user_id=event[2],
            actor_agency_id=event[3],
            tag=event[4],
            object_type=event[5],
            object_ids=ids,
            details=details,
            prev_hash=event[8],
        )
        if form is not None and hashlib.sha256(form).hexdigest() == event[9]:
            return True
    # Not sure, or about to report a broken event: canonical_form decides.
    return _exact_hash(event, when) == event[9]


def _exact_hash(event: Sequence[Any], when: dt.datetime) -> str:
    return hashlib.sha256(
        canonical_form(
            seq=event[0],
            occurred_at=when.replace(tzinfo=dt.UTC),
            actor_user_id=event[2],
            actor_agency_id=event[3],
            tag=event[4],
            object_type=event[5],
            object_ids=json.loads(event[6]),
            details=json.loads(event[7]),
            prev_hash=event[8],
        )
    ).hexdigest()
