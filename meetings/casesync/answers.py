"""Social services' answer per young person: a sealed record of theirs, disclosed to the
submitting police agency under a basis, or withheld."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.db import utcnow
from coordination.errors import ServiceError, check_version
from coordination.models import Agency, AgencyKind, User
from meetings.casesync.access import flush_entries, require_role
from meetings.casesync.caseload import CASELOAD_STATUSES
from meetings.casesync.records import ANSWER_BASES, ANSWER_CATEGORY, add_text_record, validate_text
from meetings.models import CaseSyncEntry, CaseSyncState
from meetings.tags import MeetingTag
from secrecy.disclosure.services import decide_disclosure
from secrecy.models import Disclosure, Record


@dataclass(frozen=True)
class Answer:
    text: str
    basis_id: str | None  # None: recorded but not disclosed to the police
    confirmations: Sequence[int] = ()
    # Social services' written assessment behind disclosing the answer (required with a basis).
    assessment: str | None = None


ANSWERABLE = frozenset({CaseSyncState.MATCHED, CaseSyncState.ACCEPTED})


def answer_entry(
    session: Session,
    actor: User,
    entry: CaseSyncEntry,
    answer: Answer,
    expected_version: int | None = None,
) -> Record:
    """Social services' answer: a record of theirs (social services measures) about the child,
    disclosed to the submitting police agency under the chosen basis, or withheld. A refused
    disclosure stores nothing."""
    meeting = entry.meeting
    require_role(actor, meeting, AgencyKind.SOCIAL_SERVICES)
    if entry.state not in ANSWERABLE:
        raise ServiceError(_l("Ta först ställning till förslaget om inskrivning."))
    if entry.answer_record_id is not None:
        raise ServiceError(_l("Anmälan är redan besvarad."))
    check_version(entry, expected_version)
    child = entry.child
    if child.status not in CASELOAD_STATUSES:
        raise ServiceError(_l("Den unges ärende kan inte ta emot uppgifter."))
    text = validate_text(answer.text)
    if answer.basis_id is not None and answer.basis_id not in ANSWER_BASES:
        raise ServiceError(_l("Välj om och hur svaret lämnas ut."), field="basis")
    police = session.get(Agency, entry.submitted_by_agency_id)
    if police is None:
        raise ServiceError(_l("Den anmälande myndigheten finns inte."))
    disclosure: Disclosure | None = None
    with session.begin_nested():
        record = add_text_record(
            session, actor, child, ANSWER_CATEGORY, text, existence_secret=True
        )
        if answer.basis_id is not None:
            disclosure = decide_disclosure(
                session,
                actor,
                record,
                police,
                answer.basis_id,
                answer.confirmations,
                assessment=answer.assessment or "",
            )
        entry.answer_record_id = record.id
        entry.answered_at = utcnow()
        flush_entries(session)
    record_event(
        session,
        actor,
        MeetingTag.CASE_SYNC_ANSWER,
        on=entry,
        details={
            "meeting_id": meeting.id,
            "child_id": child.id,
            "answer_record_id": record.id,
            "disclosed": disclosure is not None,
            "basis": answer.basis_id,
            "disclosure_id": disclosure.id if disclosure else None,
        },
    )
    return record
