"""What ``secrecy.records.reveal`` answers for each record: its content (with the disclosure it is
seen under) or the reason it is withheld, in words the pages show. Nothing here opens anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from secrecy.models import Record
from secrecy.policy.engine import Reason, WithheldReason
from secrecy.policy.reasons import explain
from secrecy.policy.rules import LegalBasis


class DisclosedVia(NamedTuple):
    """The disclosure a recipient sees a record under: what ``Via`` shows of it."""

    id: int
    record_id: int
    basis_id: str
    consent_id: int | None
    decided_at: dt.datetime
    lapsed_at: dt.datetime | None
    assessment_record_id: int | None
    ruleset_version: str | None


REASON_TEXTS = {
    WithheldReason.LOW_ASSURANCE: _l(
        "Inloggningen har för låg tillitsnivå för att visa uppgifter om barn"
    ),
    WithheldReason.NOT_MEMBER: _l("Du är inte medlem i barnets forum."),
    WithheldReason.NO_DISCLOSURE: _l("Ingen uppgiftslämning till din myndighet."),
    WithheldReason.SHREDDED: _l("Uppgiften är gallrad."),
    WithheldReason.NO_KEY: _l("Din myndighet har ingen nyckel till uppgiften."),
    WithheldReason.KEY_ERROR: _l(
        "Uppgiften kunde inte öppnas (nyckelfel). Kontakta administratören."
    ),
}

# The viewer is in the child's council: the owner may be named (see Withheld.ask_owner).
ASK_OWNER_REASONS = frozenset(
    {WithheldReason.NO_DISCLOSURE, WithheldReason.LAPSED, WithheldReason.NO_KEY}
)


@dataclass(frozen=True)
class Via:
    """Why a recipient sees a record: shown next to the content."""

    disclosure: DisclosedVia
    basis: LegalBasis | None
    # The discloser's written assessment, opened with the record (None for older decisions).
    assessment: str | None = None


@dataclass(frozen=True)
class Revealed:
    record: Record
    content: dict[str, Any]
    via: Via | None = None  # None for the owner agency's own records

    withheld = False


@dataclass(frozen=True)
class Withheld:
    record: Record
    reason_code: WithheldReason
    lapse: Reason | None = None

    withheld = True

    # Both texts are translated once per result (cached on it, which lives for one request):
    # the pages read ``ask_owner`` twice per withheld record ("if", then the text).
    @cached_property
    def reason(self) -> str:
        if self.lapse is not None:
            return explain(self.lapse)
        return str(REASON_TEXTS[self.reason_code])

    @cached_property
    def ask_owner(self) -> str | None:
        """Whom to ask ("Uppgiften tillhör Socialtjänsten Exempelstad."), for a viewer in the
        child's council only: they see the minutes and agendas where the owner is named
        anyway. Outside the council even the owner would say which agencies know the child;
        a shredded or unreadable record has nobody to ask."""
        if self.reason_code not in ASK_OWNER_REASONS:
            return None
        return _(
            "Uppgiften tillhör %(agency)s. Fråga dem om du behöver den.",
            agency=self.record.owner_agency.name,
        )


RevealResult = Revealed | Withheld
