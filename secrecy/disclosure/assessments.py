"""The written assessment behind every disclosure decision.

Disclosure is an assessment of the individual case, never routine (JO 682-2014): the discloser
writes why this information goes to this recipient now; under the general clause (10 kap. 27 §
OSL) why the interest in disclosure obviously outweighs the interest secrecy protects, under
own-task (10 kap. 2 § OSL) what the disclosing agency's own task requires. The text is a sealed
record of the owner agency (category ``disclosure_assessment``, its existence secret to anyone
else), one per decision or one per batch of decisions; its key is wrapped for the recipient,
who reads it with the disclosed content (``secrecy.records.reveal``), as does the owner's log
reviewer.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from coordination.errors import ServiceError
from coordination.models import Child, User
from secrecy.models import Disclosure, Record
from secrecy.policy.categories import ASSESSMENT
from secrecy.records import sealing
from secrecy.records.services import add_sealed_record

MIN_ASSESSMENT = 20
MAX_ASSESSMENT = 10_000
GENERAL_CLAUSE = "general-clause"
OWN_TASK = "own-task"

_REQUIRED = {
    GENERAL_CLAUSE: _l(
        "Skriv er bedömning: varför intresset av att uppgiften lämnas ut uppenbart har företräde "
        "framför det intresse som sekretessen ska skydda, i det här fallet."
    ),
    OWN_TASK: _l(
        "Skriv er bedömning: vilken uppgift i er egen verksamhet som gör utlämnandet nödvändigt."
    ),
}
_REQUIRED_DEFAULT = _l(
    "Skriv er bedömning: varför just den här uppgiften lämnas till den här mottagaren nu."
)


def assessment_prompt(basis_id: str) -> str:
    """What the assessment must answer under this basis (shown as the field's hint too)."""
    return str(_REQUIRED.get(basis_id, _REQUIRED_DEFAULT))


def validate_assessment(text: str | None, basis_id: str) -> str:
    value = (text or "").strip()
    if len(value) < MIN_ASSESSMENT:
        raise ServiceError(assessment_prompt(basis_id), field="assessment")
    if len(value) > MAX_ASSESSMENT:
        raise ServiceError(_l("Bedömningen är för lång (högst 10 000 tecken)."), field="assessment")
    return value


def seal_assessment(
    session: Session, actor: User, child: Child, text: str, basis_id: str, *, batch: int = 1
) -> Record:
    """The assessment as a sealed record of the actor's agency; ``batch`` says how many
    decisions it stands behind (shown with it)."""
    content = {"text": text, "basis_id": basis_id, "decisions": batch}
    return add_sealed_record(session, actor, child, ASSESSMENT, content, existence_secret=True)


def prompt_basis(basis_ids: Sequence[str]) -> str:
    """The basis whose question an assessment behind several decisions must answer: the general
    clause's and own-task's ask more than the others'."""
    for demanding in (GENERAL_CLAUSE, OWN_TASK):
        if demanding in basis_ids:
            return demanding
    return basis_ids[0] if basis_ids else ""


def seal_form_assessment(
    session: Session, actor: User, child: Child, text: str | None, basis_ids: Sequence[str]
) -> Record:
    """The one written assessment behind the disclosures a meeting form decides at once (an
    entry shared with several attending agencies, a submission's records to social services),
    one basis id per decision: checked against the most demanding basis's question and sealed
    once, for ``decide_disclosure`` to share with each recipient. A form that discloses nothing
    asks for no assessment: call this only when it decides something."""
    if not basis_ids:
        raise ValueError("an assessment stands behind at least one decision")
    basis_id = prompt_basis(basis_ids)
    value = validate_assessment(text, basis_id)
    return seal_assessment(session, actor, child, value, basis_id, batch=len(basis_ids))


def share_assessment(session: Session, assessment: Record, recipient_id: int) -> None:
    """Wrap the assessment's key for the recipient of the decision it stands behind."""
    sealing.grant_record_key(session, assessment, recipient_id)


def withdraw_assessments(session: Session, ended: Sequence[Disclosure]) -> None:
    """After disclosures ended: delete the recipient's key to each assessment that no live
    disclosure to that recipient rests on any more (a batch shares one assessment)."""
    pairs = {
        (d.assessment_record_id, d.recipient_agency_id)
        for d in ended
        if d.assessment_record_id is not None
    }
    if not pairs:
        return
    still_live = {
        (row[0], row[1])
        for row in session.execute(
            select(Disclosure.assessment_record_id, Disclosure.recipient_agency_id).where(
                Disclosure.assessment_record_id.in_({a for a, _ in pairs}),
                Disclosure.revoked_at.is_(None),
                Disclosure.lapsed_at.is_(None),
            )
        )
    }
    records = {
        r.id: r
        for r in session.scalars(
            # The keys are withdrawn by id and owner: the sealed content is not read.
            select(Record)
            .where(Record.id.in_({a for a, _ in pairs}))
            .options(load_only(Record.id, Record.owner_agency_id))
        )
    }
    grants = [
        (records[assessment_id], agency_id)
        for assessment_id, agency_id in sorted(pairs)
        if (assessment_id, agency_id) not in still_live and assessment_id in records
    ]
    sealing.withdraw_record_keys(session, grants)
