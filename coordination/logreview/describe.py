"""An audit event's details as an auditor reads them: Swedish labels, people's names, agencies'
names and children's pseudonyms instead of ``recipient_agency_id=3, consent_id=None``.

The names are looked up once per page (three queries, whatever the number of events); a key
this module does not know is shown as it is, so nothing the log holds is hidden.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.models import Agency, Child, User

LABELS = {
    "agency_id": _l("Myndighet"),
    "agency_ids": _l("Myndigheter"),
    "recipient_agency_id": _l("Mottagare"),
    "shared_with_agency_id": _l("Delad med"),
    "user_id": _l("Person"),
    "user_ids": _l("Personer"),
    "approver_ids": _l("Justerare"),
    "chair_id": _l("Ordförande"),
    "minute_taker_id": _l("Sekreterare"),
    "adjuster_id": _l("Justerare"),
    "child_id": _l("Barn"),
    "child_ids": _l("Barn"),
    "consent_id": _l("Samtycke"),
    "disclosure_id": _l("Uppgiftslämning"),
    "basis": _l("Grund"),
    "reference": _l("Lagrum"),
    "duty": _l("Skyldighet"),
    "confirmed": _l("Bekräftade förutsättningar"),
    "purpose": _l("Syfte"),
    "withheld": _l("Undanhållna"),
    "via_disclosure": _l("Via uppgiftslämning"),
    "meeting_id": _l("Möte"),
    "council_id": _l("Forum"),
    "minutes_id": _l("Protokoll"),
    "record_id": _l("Uppgift"),
    "category": _l("Kategori"),
    "status": _l("Status"),
    "previous": _l("Tidigare"),
    "reason": _l("Skäl"),
    "role": _l("Roll"),
    "roles": _l("Roller"),
    "council_role": _l("Roll i forumet"),
    "from": _l("Från"),
    "to": _l("Till"),
    "digest": _l("Kontrollsumma"),
    "month": _l("Månad"),
    "outcome": _l("Resultat"),
    "rows": _l("Rader"),
    "count": _l("Antal"),
    "endpoint": _l("Sida"),
    "method": _l("Metod"),
}
AGENCY_KEYS = {"agency_id", "agency_ids", "recipient_agency_id", "shared_with_agency_id"}
USER_KEYS = {"user_id", "user_ids", "approver_ids", "chair_id", "minute_taker_id", "adjuster_id"}
CHILD_KEYS = {"child_id", "child_ids"}
PURPOSES = {
    "view": _l("visning"),
    "list": _l("lista"),
    "print": _l("utskrift"),
    "pdf": _l("PDF-export"),
    "minutes": _l("protokoll"),
    "disclose": _l("uppgiftslämning"),
}


@dataclass(frozen=True)
class Names:
    agencies: dict[int, str]
    users: dict[int, str]
    children: dict[int, str]


def _ids(events: Iterable[AuditEvent], keys: set[str]) -> set[int]:
    found: set[int] = set()
    for event in events:
        for key, value in (event.details or {}).items():
            if key not in keys:
                continue
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, int) and not isinstance(item, bool):
                    found.add(item)
    return found


def names_for(session: Session, events: Sequence[AuditEvent]) -> Names:
    """The names the events' details point at, in three queries."""

    def lookup(column_id: Any, column_name: Any, ids: set[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = session.execute(select(column_id, column_name).where(column_id.in_(ids)))
        return {row_id: name for row_id, name in rows}

    return Names(
        agencies=lookup(Agency.id, Agency.name, _ids(events, AGENCY_KEYS)),
        users=lookup(User.id, User.display_name, _ids(events, USER_KEYS)),
        children=lookup(Child.id, Child.pseudonym, _ids(events, CHILD_KEYS)),
    )


def _value(key: str, value: object, names: Names) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return _("ja") if value else _("nej")
    if isinstance(value, list):
        return ", ".join(_value(key, item, names) for item in value) or "–"
    table = (
        names.agencies
        if key in AGENCY_KEYS
        else names.users
        if key in USER_KEYS
        else names.children
        if key in CHILD_KEYS
        else None
    )
    if table is not None and isinstance(value, int):
        return table.get(value, f"#{value}")
    if key == "purpose" and value in PURPOSES:
        return str(PURPOSES[str(value)])
    return str(value)


def describe(details: dict[str, Any] | None, names: Names) -> list[tuple[str, str]]:
    """``(label, value)`` pairs in the order of the labels known, then the unknown keys."""
    details = details or {}
    order = {key: n for n, key in enumerate(LABELS)}
    keys = sorted(details, key=lambda k: (order.get(k, len(order)), k))
    return [(str(LABELS.get(key, key)), _value(key, details[key], names)) for key in keys]
