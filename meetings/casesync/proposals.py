"""Enrolment proposals (social services): a young person the police submitted who is not on
the council's caseload is accepted onto it or declined, and a declined proposal is
crypto-shredded at once."""

from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.db import LOCAL_ZONE, today_local
from coordination.errors import ServiceError, check_version
from coordination.models import AgencyKind, Child, ChildStatus, CloseReason, User
from meetings.casesync.access import flush_entries, require_role
from meetings.casesync.caseload import put_on_agenda
from meetings.models import CaseSyncEntry, CaseSyncState, Meeting
from meetings.tags import MeetingTag
from secrecy.duplicates import services as duplicates
from secrecy.models import Record
from secrecy.policy.categories import IDENTITY
from secrecy.records import sealing
from secrecy.records.reveal import Revealed, reveal_one
from secrecy.records.services import add_sealed_record

# The entry's blind index is replaced by this (and the entry id) once a proposal is declined
# and shredded: the column cannot be empty, and a kept index would still link the number.
FORGOTTEN_INDEX = "forgotten:"


class DeclineReason(enum.StrEnum):
    """Why social services declined an enrolment proposal: codes, never free text."""

    NOT_IN_AREA = "not_in_area"
    ALREADY_KNOWN_ELSEWHERE = "already_known_elsewhere"
    INSUFFICIENT_GROUNDS = "insufficient_grounds"
    OTHER = "other"
    # Set by the scheduler, never chosen on the page: nobody answered within the period.
    EXPIRED = "expired"


# Reasons a person may choose (the scheduler alone sets EXPIRED).
CHOOSABLE_REASONS = tuple(r for r in DeclineReason if r is not DeclineReason.EXPIRED)


def _proposal_entries(session: Session, child: Child) -> list[CaseSyncEntry]:
    return list(
        session.scalars(
            select(CaseSyncEntry)
            .where(
                CaseSyncEntry.child_id == child.id,
                CaseSyncEntry.state == CaseSyncState.PROPOSED,
            )
            .order_by(CaseSyncEntry.id)
        ).all()
    )


def _require_open_proposal(entry: CaseSyncEntry) -> None:
    if entry.state is not CaseSyncState.PROPOSED or entry.child.status is not ChildStatus.PROPOSED:
        raise ServiceError(_l("Förslaget är redan besvarat."))


def _police_identity(session: Session, entry: CaseSyncEntry) -> Record | None:
    return session.scalars(
        select(Record)
        .where(
            Record.child_id == entry.child_id,
            Record.category == IDENTITY,
            Record.owner_agency_id == entry.submitted_by_agency_id,
            Record.superseded_at.is_(None),
        )
        .order_by(Record.id.desc())
    ).first()


def accept_proposal(
    session: Session, actor: User, entry: CaseSyncEntry, expected_version: int | None = None
) -> Child:
    """Social services take the young person onto the council's caseload.

    The child becomes ACTIVE and social services become the enrolling agency (they answer for
    the case from now on: they close and reopen it). What the police disclosed of the identity
    became social services' document when it was handed over, so it is kept as their own
    identity record (names empty; they add them by correcting it) and does not vanish when
    the concern-report basis ends at 18. Every open proposal of the child is accepted, and the
    child goes on the meeting's agenda while the meeting is planned.
    """
    meeting = entry.meeting
    require_role(actor, meeting, AgencyKind.SOCIAL_SERVICES)
    _require_open_proposal(entry)
    check_version(entry, expected_version)
    child = entry.child
    own_identity: Record | None = None
    police_identity = _police_identity(session, entry)
    if police_identity is not None:
        seen = reveal_one(session, actor, police_identity, purpose="case_sync_accept")
        if isinstance(seen, Revealed):
            own_identity = add_sealed_record(
                session,
                actor,
                child,
                IDENTITY,
                {
                    "given_names": "",
                    "family_name": "",
                    "personnummer": seen.content.get("personnummer", ""),
                    "coordination_number": bool(seen.content.get("coordination_number")),
                    "birth_date": seen.content.get("birth_date", ""),
                    "guardians": [],
                    "address": "",
                },
            )
    entries = _proposal_entries(session, child)
    child.status = ChildStatus.ACTIVE
    child.enrolling_agency_id = actor.agency_id
    child.enrolled_on = today_local()
    for accepted in entries:
        accepted.state = CaseSyncState.ACCEPTED
    flush_entries(session)
    if duplicates.is_held(child):
        # A proposal held as a duplicate of a case (``submit_case``) is a case now: it waits
        # in the coordinators' queue, as a held enrolment does.
        duplicates.notify_coordinators(session, child)
    item = put_on_agenda(session, meeting, child)
    record_event(
        session,
        actor,
        MeetingTag.CASE_SYNC_ACCEPT,
        object_type="case_sync_entry",
        object_ids=[e.id for e in entries],
        details={
            "meeting_id": meeting.id,
            "child_id": child.id,
            "identity_record_id": own_identity.id if own_identity else None,
            "agenda_item_id": item.id if item else None,
        },
    )
    return child


def decline_proposal(
    session: Session,
    actor: User,
    entry: CaseSyncEntry,
    reason: DeclineReason | str,
    expected_version: int | None = None,
) -> int:
    """Social services decline: every open proposal of the child is declined with the reason
    code and the proposal's records are crypto-shredded at once. Returns the number of records
    shredded.

    ``shred_child`` shreds closed cases only, so the proposal is closed first (reason
    "other") and shredded in the same transaction; the child ends SHREDDED, the status the
    secrecy package treats as final (it refuses to reopen it). The entries keep the decision;
    their blind index is forgotten as well."""
    meeting = entry.meeting
    require_role(actor, meeting, AgencyKind.SOCIAL_SERVICES)
    try:
        code = DeclineReason(reason)
    except ValueError:
        raise ServiceError(_l("Välj ett skäl."), field="reason") from None
    if code not in CHOOSABLE_REASONS:
        raise ServiceError(_l("Välj ett skäl."), field="reason")
    _require_open_proposal(entry)
    check_version(entry, expected_version)
    return _decline_and_shred(session, actor, entry, code)


def _decline_and_shred(
    session: Session, actor: User | None, entry: CaseSyncEntry, code: DeclineReason
) -> int:
    meeting = entry.meeting
    child = entry.child
    entries = _proposal_entries(session, child)
    for declined in entries:
        declined.state = CaseSyncState.DECLINED
        declined.decline_reason = code.value
        declined.identity_index = f"{FORGOTTEN_INDEX}{declined.id}"
    child.status = ChildStatus.CLOSED
    child.closed_on = today_local()
    child.close_reason = CloseReason.OTHER
    flush_entries(session)
    shredded = sealing.shred_child(session, child)
    record_event(
        session,
        actor,
        MeetingTag.CASE_SYNC_DECLINE,
        object_type="case_sync_entry",
        object_ids=[e.id for e in entries],
        details={
            "meeting_id": meeting.id,
            "child_id": child.id,
            "reason": code.value,
            "shredded_records": shredded,
        },
    )
    return shredded


def expire_unanswered_proposals(session: Session, before: dt.date) -> int:
    """Proposals nobody answered by ``before`` (a number of days after their meeting) are
    declined as "expired" and crypto-shredded: a police-submitted identity of a young person
    social services never took on must not stay in the system indefinitely. Idempotent: an
    expired proposal is no longer open."""
    entries = session.scalars(
        select(CaseSyncEntry)
        .join(Meeting, CaseSyncEntry.meeting_id == Meeting.id)
        .join(Child, CaseSyncEntry.child_id == Child.id)
        .where(
            CaseSyncEntry.state == CaseSyncState.PROPOSED,
            Child.status == ChildStatus.PROPOSED,
            Meeting.starts_at < dt.datetime.combine(before, dt.time(), tzinfo=LOCAL_ZONE),
        )
        .order_by(CaseSyncEntry.child_id, CaseSyncEntry.id)
    ).all()
    done: set[int] = set()
    for entry in entries:
        if entry.child_id in done:
            continue  # one decline closes every open proposal of the child
        _decline_and_shred(session, None, entry, DeclineReason.EXPIRED)
        done.add(entry.child_id)
    return len(done)
