"""The police's submission, the case sync's entry point: the personnummer turned into a blind
index and matched against the council's caseload, the police information sealed and disclosed
to social services under the first basis the policy engine accepts, or an enrolment proposed.

Services take ``(session, actor, ...)``, validate, change, flush and append their audit events
(ids and codes only) in the caller's transaction; they never commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.db import today_local
from coordination.errors import ServiceError
from coordination.models import Agency, AgencyKind, Child, ChildStatus, User
from meetings.agenda.items import lock_meeting
from meetings.casesync.access import require_role
from meetings.casesync.caseload import CASELOAD_STATUSES, put_on_agenda
from meetings.casesync.records import (
    POLICE_CATEGORY,
    SUBMISSION_BASES,
    add_text_record,
    choose_basis,
    require_confirmed,
    validate_text,
)
from meetings.models import CaseSyncEntry, CaseSyncState, Meeting, MeetingStatus
from meetings.tags import MeetingTag
from secrecy.disclosure.assessments import seal_form_assessment
from secrecy.disclosure.services import decide_disclosure
from secrecy.duplicates import services as duplicates
from secrecy.models import Record
from secrecy.policy.categories import IDENTITY
from secrecy.records import sealing
from secrecy.records.children import case_to_name, new_case
from secrecy.records.identity import IdentityNumber, parse_identity_number
from secrecy.records.services import add_sealed_record

# --- Submission (police) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    personnummer: str
    text: str
    # Basis id -> the indexes of its statements the submitter ticked.
    confirmations: Mapping[str, Sequence[int]] = field(default_factory=dict)
    # The police's written assessment behind disclosing the submission to social services.
    assessment: str | None = None


def _social_services(meeting: Meeting) -> list[Agency]:
    return [
        a for a in meeting.council.agencies if a.kind is AgencyKind.SOCIAL_SERVICES and a.active
    ]


def submit_case(
    session: Session, actor: User, meeting: Meeting, submission: Submission
) -> CaseSyncEntry:
    """A police member submits a young person before a Bob meeting.

    A number on the council's caseload (active or closed case) attaches the police record to
    that child and puts the child on the agenda; an unknown number becomes an enrolment
    proposal (a child in status PROPOSED, enrolled by the police, whose identity record is the
    police's). Either way the police records go to social services under one basis, and
    everything is undone if any step is refused.

    The match is told only to a submitter who may learn that the number is a case
    (``secrecy.records.children.case_to_name``: the council's coordinators and the agency
    holding the case's identity). For anyone else a number that is a case is proposed exactly
    as a new number, and the proposal is held as a duplicate of the case for the coordinators
    (``secrecy.duplicates``): the sync is no look-up of who is a case.
    """
    require_role(actor, meeting, AgencyKind.POLICE)
    council = meeting.council
    if not council.active:
        raise ServiceError(_l("Forumet är inaktiverat."))
    if meeting.status is not MeetingStatus.PLANNED:
        raise ServiceError(_l("Det går bara att anmäla inför ett planerat möte."))
    number = parse_identity_number(submission.personnummer)
    text = validate_text(submission.text)
    recipients = _social_services(meeting)
    if not recipients:
        raise ServiceError(_l("Forumet har ingen socialtjänst att lämna uppgiften till."))
    index = sealing.personnummer_index(session, number.normalised)
    lock_meeting(session, meeting)
    if _entry_with_index(session, meeting, index, actor.agency_id) is not None:
        raise ServiceError(
            _l("Den unge är redan anmäld inför det här mötet."), field="personnummer"
        )
    try:
        with session.begin_nested():
            entry = _submit(session, actor, meeting, number, index, text, submission, recipients)
    except IntegrityError as exc:
        # Someone submitted or enrolled the same number at the same moment.
        raise ServiceError(
            _l("Samma person anmäldes samtidigt av någon annan. Ladda om sidan och försök igen."),
            field="personnummer",
        ) from exc
    return entry


# The submission and this check stay together in the package module: tests stage a race by
# replacing ``meetings.casesync._entry_with_index``.
# Only the agency's own entries: another agency's submission of the number must not show
# (it would tell that the number is a case or a proposal); that one goes ahead as any other.
def _entry_with_index(session: Session, meeting: Meeting, index: str, agency_id: int) -> int | None:
    return session.scalar(
        select(CaseSyncEntry.id).where(
            CaseSyncEntry.meeting_id == meeting.id,
            CaseSyncEntry.submitted_by_agency_id == agency_id,
            CaseSyncEntry.identity_index == index,
        )
    )


def _submit(
    session: Session,
    actor: User,
    meeting: Meeting,
    number: IdentityNumber,
    index: str,
    text: str,
    submission: Submission,
    recipients: Sequence[Agency],
) -> CaseSyncEntry:
    council = meeting.council
    known = session.scalars(
        select(Child).where(Child.council_id == council.id, Child.identity_index == index)
    ).first()
    holder: Child | None = None
    if known is not None:
        # The case the submitter may be told of: the indexed one, or a held or kept case of
        # the number that is their agency's own. None: they may not learn it is a case.
        told = case_to_name(session, actor, known)
        if told is None:
            holder, known = known, None
        else:
            known = told
    identity: Record | None = None
    joined = False
    if known is not None and known.status in CASELOAD_STATUSES:
        child, state = known, CaseSyncState.MATCHED
    elif known is not None and known.status is ChildStatus.PROPOSED:
        # Proposed before and not yet answered: this submission joins that proposal.
        child, state, joined = known, CaseSyncState.PROPOSED, True
    elif known is not None:
        raise ServiceError(_l("Den unges ärende kan inte ta emot anmälningar."))
    else:
        child, identity = _propose_child(session, actor, meeting, number, index, holder)
        state = CaseSyncState.PROPOSED
    record = add_text_record(session, actor, child, POLICE_CATEGORY, text)
    shared = [record] if identity is None else [record, identity]
    chosen = []
    for recipient in recipients:
        basis = choose_basis(session, actor, record, recipient, SUBMISSION_BASES)
        confirmed = require_confirmed(basis, submission.confirmations.get(basis.id, ()))
        chosen.append((recipient, basis.id, confirmed))
    # One written assessment behind every decision of the submission.
    written = seal_form_assessment(
        session,
        actor,
        child,
        submission.assessment,
        [basis_id for _, basis_id, _ in chosen for _ in shared],
    )
    disclosure_ids: list[int] = []
    bases: list[str] = []
    for recipient, basis_id, confirmed in chosen:
        for sealed in shared:
            disclosure = decide_disclosure(
                session, actor, sealed, recipient, basis_id, confirmed, assessment=written
            )
            disclosure_ids.append(disclosure.id)
        bases.append(basis_id)
    entry = CaseSyncEntry(
        meeting_id=meeting.id,
        submitted_by_id=actor.id,
        submitted_by_agency_id=actor.agency_id,
        identity_index=index,
        child_id=child.id,
        police_record_id=record.id,
        state=state,
    )
    session.add(entry)
    session.flush()
    record_event(
        session,
        actor,
        MeetingTag.CASE_SYNC_SUBMIT,
        on=entry,
        details={
            "meeting_id": meeting.id,
            "child_id": child.id,
            "police_record_id": record.id,
            "bases": bases,
            "disclosure_ids": disclosure_ids,
        },
    )
    if state is CaseSyncState.MATCHED:
        item = put_on_agenda(session, meeting, child)
        record_event(
            session,
            actor,
            MeetingTag.CASE_SYNC_MATCH,
            on=entry,
            details={
                "meeting_id": meeting.id,
                "child_id": child.id,
                "case_status": str(child.status),
                "agenda_item_id": item.id if item else None,
            },
        )
    else:
        record_event(
            session,
            actor,
            MeetingTag.CASE_SYNC_PROPOSE,
            on=entry,
            details={
                "meeting_id": meeting.id,
                "child_id": child.id,
                "identity_record_id": identity.id if identity else None,
                "joined_earlier_proposal": joined,
            },
        )
    return entry


def _propose_child(
    session: Session,
    actor: User,
    meeting: Meeting,
    number: IdentityNumber,
    index: str,
    holder: Child | None = None,
) -> tuple[Child, Record]:
    """A child in status PROPOSED, enrolled by the police, known by a pseudonym; the number
    (no names: the police need not know them) is the police's sealed identity record.

    With a ``holder`` (the case of the number that the submitter may not be told of) the
    proposal is held: no blind index of its own, ``duplicate_of_id`` the holder, and a system
    event of the hold. Nothing the submitter sees differs from a proposal of a new number;
    the coordinators are notified once social services accept it (``accept_proposal``)."""
    council = meeting.council
    today = today_local()
    child = new_case(session, actor, council, ChildStatus.PROPOSED, index, holder, today)
    session.add(child)
    session.flush()
    sealing.seal_birth_date(session, child, number.birth_date)
    identity = add_sealed_record(
        session,
        actor,
        child,
        IDENTITY,
        {
            "personnummer": number.normalised,
            "coordination_number": number.coordination_number,
            "birth_date": number.birth_date.isoformat(),
        },
    )
    if holder is not None:
        duplicates.note_held(session, actor, child, holder, notify=False)
    return child, identity
