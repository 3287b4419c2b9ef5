"""Who may read a record: pure functions, no I/O. Deny by default.

Part 1 knows one way to read: being a user of the owner agency and a member of the child's
council. Disclosures (part 2) add the second way through ``disclosure_in_force``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class WithheldReason(enum.StrEnum):
    NOT_MEMBER = "not_member"
    NO_DISCLOSURE = "no_disclosure"
    SHREDDED = "shredded"
    NO_KEY = "no_key"
    KEY_ERROR = "key_error"


@dataclass(frozen=True)
class RecordFacts:
    owner_agency_id: int
    council_id: int
    shredded: bool


@dataclass(frozen=True)
class ViewerFacts:
    agency_id: int
    council_ids: frozenset[int]


def visibility(record: RecordFacts, viewer: ViewerFacts) -> WithheldReason | None:
    """None when the viewer may read the record; otherwise why not."""
    if record.council_id not in viewer.council_ids:
        return WithheldReason.NOT_MEMBER
    if record.shredded:
        return WithheldReason.SHREDDED
    if record.owner_agency_id == viewer.agency_id:
        return None
    return WithheldReason.NO_DISCLOSURE
