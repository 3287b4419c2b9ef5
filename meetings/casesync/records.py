"""The sync's sealed records and the legal bases they go to the other agency under: the
categories and candidate bases, the text a record holds, writing the record, and choosing the
first basis the policy engine accepts."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from coordination.errors import ServiceError
from coordination.models import Agency, Child, ChildStatus, User
from secrecy.disclosure.services import disclosure_options
from secrecy.models import Record
from secrecy.policy.engine import Assessment
from secrecy.policy.reasons import explain
from secrecy.policy.rules import LegalBasis, legal_bases
from secrecy.records.services import (
    MAX_TEXT,
    add_new_record,
    create_record,
    require_child_access,
)

POLICE_CATEGORY = "crime_police"
ANSWER_CATEGORY = "social_measures"
# In this order: the first one the engine accepts carries the police information.
SUBMISSION_BASES = ("concern-report", "general-clause", "consent")
# What social services may answer under; anything else means the answer is withheld.
ANSWER_BASES = ("sol-police-u21", "consent")


def submission_bases() -> list[LegalBasis]:
    """The bases a submission may go under, in the order they are tried (for the form)."""
    rules = legal_bases()
    return [rules[b] for b in SUBMISSION_BASES if b in rules]


def answer_bases() -> list[LegalBasis]:
    rules = legal_bases()
    return [rules[b] for b in ANSWER_BASES if b in rules]


def validate_text(text: str, field_name: str = "text") -> str:
    value = text.strip()
    if not value:
        raise ServiceError(_l("Skriv uppgiften."), field=field_name)
    if len(value) > MAX_TEXT:
        raise ServiceError(_l("Texten är för lång (högst 20 000 tecken)."), field=field_name)
    return value


def add_text_record(
    session: Session,
    actor: User,
    child: Child,
    category: str,
    text: str,
    *,
    existence_secret: bool = False,
) -> Record:
    """``create_record`` for an active case. It refuses any other case, but the sync attaches
    to closed cases (the council decides at the meeting whether to reopen) and to proposals;
    those get the same sealed record and audit event (``add_new_record``). An answer's very
    existence is secret (``existence_secret``): it is sealed here for every case."""
    if child.status is ChildStatus.ACTIVE and not existence_secret:
        return create_record(session, actor, child, category, text)
    require_child_access(actor, child)
    return add_new_record(
        session, actor, child, category, {"text": text}, existence_secret=existence_secret
    )


def _explain_refusals(assessments: Sequence[Assessment], basis_ids: Sequence[str]) -> str:
    by_id = {a.basis.id: a for a in assessments}
    parts = [
        f"{by_id[b].basis.title}: {' '.join(explain(r) for r in by_id[b].reasons)}"
        for b in basis_ids
        if b in by_id
    ]
    return " ".join(parts) if parts else str(_l("Ingen av grunderna finns i regelverket."))


def choose_basis(
    session: Session,
    actor: User,
    record: Record,
    recipient: Agency,
    candidates: Sequence[str],
) -> LegalBasis:
    """The first of ``candidates`` the engine accepts for this record and recipient today;
    refused with the engine's reasons when none does."""
    assessments = disclosure_options(session, actor, record, recipient)
    by_id = {a.basis.id: a for a in assessments}
    for basis_id in candidates:
        assessment = by_id.get(basis_id)
        if assessment is not None and assessment.applicable:
            return assessment.basis
    raise ServiceError(
        _l(
            "Ingen rättslig grund medger att uppgiften lämnas till %(agency)s. %(reasons)s",
            agency=recipient.name,
            reasons=_explain_refusals(assessments, candidates),
        )
    )


def require_confirmed(basis: LegalBasis, confirmed: Sequence[int]) -> list[int]:
    indexes = sorted(set(confirmed))
    if indexes != list(range(len(basis.confirmations))):
        raise ServiceError(
            _l(
                "Uppgiften lämnas med stöd av %(title)s (%(reference)s). Bekräfta "
                "förutsättningarna för den grunden.",
                title=basis.title,
                reference=basis.reference,
            ),
            field="confirmations",
        )
    return indexes
