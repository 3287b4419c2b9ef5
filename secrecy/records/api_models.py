"""How the API shows a record: its content when the viewer may see it, otherwise
``{"withheld": true, "reason": ...}`` and never a byte of content. Shared by every package's
API (agenda briefs, minutes entries and action descriptions are records too)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field

from coordination.api.core import OutModel
from secrecy.records.reveal import Revealed, RevealResult


class AgencyRef(OutModel):
    id: int
    name: str


class DisclosedVia(OutModel):
    disclosure_id: int
    basis_id: str
    basis_title: str | None
    basis_reference: str | None = Field(description="Lagrum, t.ex. 10 kap. 18 a § OSL.")
    decided_at: dt.datetime


class RecordMeta(OutModel):
    id: int
    child_id: int
    category: str = Field(description="Kategori (nyckel), se categories i dokumentationen.")
    owner_agency: AgencyRef = Field(description="Myndigheten som lämnade uppgiften.")
    created_at: dt.datetime
    supersedes_id: int | None = Field(description="Uppgiften som den här rättar.")
    superseded: bool


class RevealedRecordOut(RecordMeta):
    withheld: Literal[False] = False
    author: str = Field(description="Vem som skrev uppgiften.")
    content: dict[str, Any]
    disclosed_via: DisclosedVia | None = Field(
        description="Utlämnandet som ger din myndighet rätt att se uppgiften; null för egna."
    )


class WithheldRecordOut(RecordMeta):
    withheld: Literal[True] = True
    reason: str = Field(description="Varför uppgiften inte visas (svenska).")


RecordOut = Annotated[RevealedRecordOut | WithheldRecordOut, Field(discriminator="withheld")]


def _meta(result: RevealResult) -> dict[str, Any]:
    record = result.record
    return {
        "id": record.id,
        "child_id": record.child_id,
        "category": record.category,
        "owner_agency": AgencyRef(id=record.owner_agency.id, name=record.owner_agency.name),
        "created_at": record.created_at,
        "supersedes_id": record.supersedes_id,
        "superseded": record.is_superseded,
    }


def record_out(result: RevealResult) -> RevealedRecordOut | WithheldRecordOut:
    """The API form of one ``reveal_records`` result."""
    if isinstance(result, Revealed):
        via = None
        if result.via is not None:
            basis = result.via.basis
            via = DisclosedVia(
                disclosure_id=result.via.disclosure.id,
                basis_id=result.via.disclosure.basis_id,
                basis_title=basis.title if basis else None,
                basis_reference=basis.reference if basis else None,
                decided_at=result.via.disclosure.decided_at,
            )
        return RevealedRecordOut(
            **_meta(result),
            author=result.record.author.display_name,
            content=result.content,
            disclosed_via=via,
        )
    return WithheldRecordOut(**_meta(result), reason=result.reason)
