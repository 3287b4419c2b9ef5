"""The meeting workspace: the minutes of one meeting, its per-child entries and decisions, their
disclosure to the attending agencies, approval (justering) and amendments after the lock.

Services take ``(session, actor, ...)``, validate, change, flush and append their audit event in
the caller's transaction; they never commit. Entry content is a sealed record of the writer's
agency; it is read only through ``secrecy.records.reveal``. ``Minutes.version`` is raised
explicitly by every change of the draft; an edit made against an older version is kept as a
conflicting entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.db import utcnow
from coordination.errors import PermissionDenied, ServiceError
from coordination.models import Agency, Child, User
from coordination.policy import can_view_council
from meetings.agenda import is_meeting_coordinator
from meetings.models import AgendaItem, Attendance, AttendanceStatus, Meeting, MeetingStatus
from minutes.models import (
    AmendmentReason,
    ApprovalRole,
    EntryKind,
    Minutes,
    MinutesApproval,
    MinutesEntry,
    MinutesStatus,
)
from minutes.tags import MinutesTag
from secrecy.disclosure.services import decide_disclosure, disclosure_options
from secrecy.models import Consent, Record
from secrecy.policy.categories import IDENTITY, categories
from secrecy.policy.engine import Assessment
from secrecy.records.services import correct_record, create_record

# Categories an entry may not have: identity is enrolment's, consent is the consent register's.
EXCLUDED_ENTRY_CATEGORIES = frozenset({IDENTITY, "consent"})
DEFAULT_ENTRY_CATEGORY = "meeting_note"

CONFLICT_MESSAGE = _l(
    "Någon annan har ändrat protokollet medan du skrev. Din version är sparad som en "
    "konfliktversion bredvid den andra; jämför dem och rätta vid behov."
)
LOCKED_MESSAGE = _l("Protokollet är justerat och låst. Ändringar görs som rättelser.")
SUBMITTED_MESSAGE = _l("Protokollet väntar på justering och kan inte ändras.")


def entry_categories() -> list[str]:
    return [key for key in categories() if key not in EXCLUDED_ENTRY_CATEGORIES]


# --- Loading ------------------------------------------------------------------------------------


def minutes_of(session: Session, meeting: Meeting) -> Minutes | None:
    return session.scalars(select(Minutes).where(Minutes.meeting_id == meeting.id)).one_or_none()


def minutes_for_change(session: Session, actor: User, meeting: Meeting) -> Minutes:
    """The meeting's minutes, locked for this transaction and refreshed; created on first use."""
    minutes = session.scalars(
        select(Minutes)
        .where(Minutes.meeting_id == meeting.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if minutes is not None:
        return minutes
    try:
        with session.begin_nested():
            minutes = Minutes(meeting_id=meeting.id, status=MinutesStatus.DRAFT, version=1)
            session.add(minutes)
            session.flush()
    except IntegrityError:
        # Another request created them first; use theirs.
        return session.scalars(
            select(Minutes)
            .where(Minutes.meeting_id == meeting.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
    record_event(
        session,
        actor,
        MinutesTag.MINUTES_CREATE,
        object_type="minutes",
        object_ids=[minutes.id],
        details={"meeting_id": meeting.id},
    )
    return minutes


def require_writer(actor: User, meeting: Meeting) -> None:
    """Writing is for the council's members; guests of one meeting may only read."""
    if not actor.is_active or not can_view_council(actor, meeting.council):
        raise PermissionDenied()
    if meeting.status is MeetingStatus.CANCELLED:
        raise ServiceError(_l("Mötet är inställt."))


def require_draft(minutes: Minutes) -> None:
    if minutes.status is MinutesStatus.APPROVED:
        raise ServiceError(LOCKED_MESSAGE)
    if minutes.status is MinutesStatus.SUBMITTED:
        raise ServiceError(SUBMITTED_MESSAGE)


def require_on_agenda(session: Session, meeting: Meeting, child: Child) -> None:
    on_agenda = session.scalar(
        select(AgendaItem.id).where(
            AgendaItem.meeting_id == meeting.id, AgendaItem.child_id == child.id
        )
    )
    if on_agenda is None or child.council_id != meeting.council_id:
        raise ServiceError(_l("Barnet står inte på mötets dagordning."), field="child")


def bump(minutes: Minutes) -> None:
    """Every change of the draft raises its version (the ORM also checks it on UPDATE)."""
    minutes.version = minutes.version + 1


# --- Attending agencies and disclosure choices --------------------------------------------------


def present_user_ids(session: Session, meeting: Meeting) -> set[int]:
    return set(
        session.scalars(
            select(Attendance.user_id).where(
                Attendance.meeting_id == meeting.id,
                Attendance.status == AttendanceStatus.PRESENT,
            )
        )
    )


def attending_agencies(session: Session, meeting: Meeting) -> list[Agency]:
    """The agencies of the users marked present, in name order."""
    return list(
        session.scalars(
            select(Agency)
            .join(User, User.agency_id == Agency.id)
            .join(Attendance, Attendance.user_id == User.id)
            .where(
                Attendance.meeting_id == meeting.id,
                Attendance.status == AttendanceStatus.PRESENT,
            )
            .distinct()
            .order_by(Agency.name, Agency.id)
        )
    )


@dataclass(frozen=True)
class ShareChoice:
    """The writer's decision to share a new record with one attending agency."""

    agency_id: int
    basis_id: str
    confirmed: tuple[int, ...] = ()


@dataclass
class ShareOption:
    """What the engine says about one attending agency, for the form."""

    agency: Agency
    applicable: list[Assessment] = field(default_factory=list)
    refused: list[Assessment] = field(default_factory=list)
    not_in_council: bool = False

    @property
    def first_basis(self) -> Assessment | None:
        return self.applicable[0] if self.applicable else None


def agency_options(
    session: Session,
    actor: User,
    meeting: Meeting,
    child: Child,
    category: str,
    agencies: Sequence[Agency],
    *,
    consents: Sequence[Consent] | None = None,
) -> list[ShareOption]:
    """For each agency other than the writer's, the bases the engine accepts for a record of
    this category about this child, and the refused ones with their reasons. ``consents``:
    the child's consents, when the caller loaded them for many children at once."""
    probe = Record(
        child=child,
        child_id=child.id,
        owner_agency=actor.agency,
        owner_agency_id=actor.agency_id,
        category=category,
    )  # never added to the session: it only carries the facts the engine asks about
    council_agencies = {a.id for a in meeting.council.agencies if a.active}
    options = []
    for agency in agencies:
        if agency.id == actor.agency_id:
            continue
        if agency.id not in council_agencies:
            options.append(ShareOption(agency, not_in_council=True))
            continue
        assessments = disclosure_options(session, actor, probe, agency, consents=consents)
        options.append(
            ShareOption(
                agency,
                applicable=[a for a in assessments if a.applicable],
                refused=[a for a in assessments if not a.applicable],
            )
        )
    return options


def share_options(
    session: Session,
    actor: User,
    meeting: Meeting,
    child: Child,
    category: str,
    *,
    attending: Sequence[Agency] | None = None,
    consents: Sequence[Consent] | None = None,
) -> list[ShareOption]:
    """The choices for sharing a new entry with the attending agencies (``attending`` and
    ``consents`` when the caller loaded them once for the whole page)."""
    if attending is None:
        attending = attending_agencies(session, meeting)
    return agency_options(session, actor, meeting, child, category, attending, consents=consents)


def _share(
    session: Session,
    actor: User,
    meeting: Meeting,
    record: Record,
    shares: Sequence[ShareChoice],
) -> None:
    attending = {a.id: a for a in attending_agencies(session, meeting)}
    for choice in shares:
        agency = attending.get(choice.agency_id)
        if agency is None:
            raise ServiceError(
                _l("Uppgiften kan bara delas med myndigheter som är närvarande på mötet."),
                field="shares",
            )
        if agency.id == actor.agency_id:
            continue  # the writer's own agency holds the record already
        try:
            decide_disclosure(session, actor, record, agency, choice.basis_id, choice.confirmed)
        except ServiceError as exc:
            raise ServiceError(
                _l("%(agency)s: %(reason)s", agency=agency.name, reason=str(exc.message)),
                field="shares",
            ) from exc


def _validate_category(category: str) -> None:
    if category not in categories() or category in EXCLUDED_ENTRY_CATEGORIES:
        raise ServiceError(_l("Välj en kategori."), field="category")


# --- Entries ------------------------------------------------------------------------------------


def add_entry(
    session: Session,
    actor: User,
    meeting: Meeting,
    child: Child,
    kind: EntryKind,
    category: str,
    text: str,
    shares: Sequence[ShareChoice] = (),
) -> MinutesEntry:
    """A new entry (or decision) about a child on the agenda: a record of the writer's agency,
    disclosed to the attending agencies the writer chose. Adding never races with anything."""
    require_writer(actor, meeting)
    require_on_agenda(session, meeting, child)
    _validate_category(category)
    minutes = minutes_for_change(session, actor, meeting)
    require_draft(minutes)
    record = create_record(session, actor, child, category, text)
    _share(session, actor, meeting, record, shares)
    entry = MinutesEntry(
        minutes_id=minutes.id, child_id=child.id, record_id=record.id, kind=kind, author_id=actor.id
    )
    session.add(entry)
    bump(minutes)
    session.flush()
    record_event(
        session,
        actor,
        MinutesTag.ENTRY_ADD,
        object_type="minutes_entry",
        object_ids=[entry.id],
        details={
            "minutes_id": minutes.id,
            "child_id": child.id,
            "record_id": record.id,
            "kind": str(kind),
            "version": minutes.version,
        },
    )
    return entry


@dataclass(frozen=True)
class EditOutcome:
    entry: MinutesEntry
    conflict: bool


def edit_entry(
    session: Session,
    actor: User,
    entry: MinutesEntry,
    text: str,
    version: int,
    shares: Sequence[ShareChoice] = (),
) -> EditOutcome:
    """Change an entry's text. The new text is a correction of the entry's record (records are
    append-only). Saved against an older version of the draft, it is not applied: it is kept as a
    new entry marked as conflicting with the one it raced with, and the caller says so."""
    minutes = entry.minutes
    meeting = minutes.meeting
    require_writer(actor, meeting)
    minutes = minutes_for_change(session, actor, meeting)
    require_draft(minutes)
    session.refresh(entry)
    record = session.get(Record, entry.record_id)
    if record is None or record.owner_agency_id != actor.agency_id:
        raise ServiceError(_l("Bara den myndighet som skrev anteckningen kan ändra den."))
    if version != minutes.version:
        current_version = minutes.version
        kept = create_record(session, actor, entry.child, record.category, text)
        _share(session, actor, meeting, kept, shares)
        losing = MinutesEntry(
            minutes_id=minutes.id,
            child_id=entry.child_id,
            record_id=kept.id,
            kind=entry.kind,
            author_id=actor.id,
            conflict_with_id=entry.id,
        )
        session.add(losing)
        bump(minutes)
        session.flush()
        record_event(
            session,
            actor,
            MinutesTag.ENTRY_CONFLICT,
            object_type="minutes_entry",
            object_ids=[losing.id, entry.id],
            details={
                "minutes_id": minutes.id,
                "record_id": kept.id,
                "submitted_version": version,
                "current_version": current_version,
            },
        )
        return EditOutcome(losing, conflict=True)
    correction = correct_record(session, actor, record, {"text": text.strip()})
    _share(session, actor, meeting, correction, shares)
    entry.record_id = correction.id
    bump(minutes)
    session.flush()
    record_event(
        session,
        actor,
        MinutesTag.ENTRY_EDIT,
        object_type="minutes_entry",
        object_ids=[entry.id],
        details={
            "minutes_id": minutes.id,
            "record_id": correction.id,
            "supersedes": record.id,
            "version": minutes.version,
        },
    )
    return EditOutcome(entry, conflict=False)


def amend_entry(
    session: Session,
    actor: User,
    entry: MinutesEntry,
    text: str,
    reason: AmendmentReason,
    shares: Sequence[ShareChoice] = (),
) -> MinutesEntry:
    """A correction of approved minutes: a new entry with a new record, naming the entry it
    amends and why ("Rättelse"). The approved entries and their digest stay as they were."""
    minutes = entry.minutes
    meeting = minutes.meeting
    require_writer(actor, meeting)
    if minutes.status is not MinutesStatus.APPROVED:
        raise ServiceError(_l("Ett utkast ändras direkt; rättelser görs i justerade protokoll."))
    original = session.get(Record, entry.record_id)
    if original is None or original.owner_agency_id != actor.agency_id:
        raise ServiceError(_l("Bara den myndighet som skrev anteckningen kan rätta den."))
    if not isinstance(reason, AmendmentReason):
        raise ServiceError(_l("Ange skälet till rättelsen."), field="reason")
    record = create_record(session, actor, entry.child, original.category, text)
    _share(session, actor, meeting, record, shares)
    amendment = MinutesEntry(
        minutes_id=minutes.id,
        child_id=entry.child_id,
        record_id=record.id,
        kind=entry.kind,
        author_id=actor.id,
        amends_id=entry.id,
        amendment_reason=reason,
    )
    session.add(amendment)
    session.flush()
    record_event(
        session,
        actor,
        MinutesTag.ENTRY_AMEND,
        object_type="minutes_entry",
        object_ids=[amendment.id, entry.id],
        details={"minutes_id": minutes.id, "record_id": record.id, "reason": str(reason)},
    )
    return amendment


# --- Approval (justering) -----------------------------------------------------------------------


def submit_for_approval(
    session: Session, actor: User, meeting: Meeting, adjuster: User | None, version: int
) -> Minutes:
    """The coordinator sends the draft to the chair and the adjuster, who must both have been
    present, and must be two different people."""
    require_writer(actor, meeting)
    if not is_meeting_coordinator(actor, meeting):
        raise PermissionDenied()
    minutes = minutes_for_change(session, actor, meeting)
    require_draft(minutes)
    if version != minutes.version:
        raise ServiceError(CONFLICT_MESSAGE)
    present = present_user_ids(session, meeting)
    if meeting.chair_id is None:
        raise ServiceError(_l("Utse mötets ordförande först."), field="adjuster_id")
    if meeting.chair_id not in present:
        raise ServiceError(
            _l("Ordföranden måste vara markerad som närvarande."), field="adjuster_id"
        )
    if adjuster is None:
        raise ServiceError(_l("Välj en justerare."), field="adjuster_id")
    if adjuster.id == meeting.chair_id:
        raise ServiceError(
            _l("Justeraren måste vara en annan person än ordföranden."), field="adjuster_id"
        )
    if adjuster.id not in present or not adjuster.is_active:
        raise ServiceError(
            _l("Justeraren måste ha varit närvarande på mötet."), field="adjuster_id"
        )
    minutes.status = MinutesStatus.SUBMITTED
    minutes.adjuster_id = adjuster.id
    # Minutes sent for approval record a meeting that took place: it counts as held (reports,
    # calendar feeds) and takes no more agenda changes or case-sync submissions.
    if meeting.status is MeetingStatus.PLANNED:
        meeting.status = MeetingStatus.HELD
    minutes.submitted_at = utcnow()
    minutes.submitted_by_id = actor.id
    bump(minutes)
    session.flush()
    record_event(
        session,
        actor,
        MinutesTag.MINUTES_SUBMIT,
        object_type="minutes",
        object_ids=[minutes.id],
        details={
            "meeting_id": meeting.id,
            "chair_id": meeting.chair_id,
            "adjuster_id": adjuster.id,
            "version": minutes.version,
        },
    )
    return minutes


def withdraw_submission(session: Session, actor: User, meeting: Meeting) -> Minutes:
    """The coordinator takes submitted minutes back to draft; approvals given so far lapse."""
    require_writer(actor, meeting)
    if not is_meeting_coordinator(actor, meeting):
        raise PermissionDenied()
    minutes = minutes_for_change(session, actor, meeting)
    if minutes.status is not MinutesStatus.SUBMITTED:
        raise ServiceError(
            LOCKED_MESSAGE
            if minutes.status is MinutesStatus.APPROVED
            else _l("Protokollet väntar inte på justering.")
        )
    for approval in list(minutes.approvals):
        session.delete(approval)
    minutes.status = MinutesStatus.DRAFT
    bump(minutes)
    session.flush()
    record_event(
        session,
        actor,
        MinutesTag.MINUTES_WITHDRAW,
        object_type="minutes",
        object_ids=[minutes.id],
        details={"meeting_id": meeting.id},
    )
    return minutes


def approve(session: Session, actor: User, meeting: Meeting) -> Minutes:
    """The chair or the adjuster approves; the second of the two different people locks the
    minutes and stores the digest of their content, also in the audit log."""
    require_writer(actor, meeting)
    minutes = minutes_for_change(session, actor, meeting)
    if minutes.status is MinutesStatus.APPROVED:
        raise ServiceError(LOCKED_MESSAGE)
    if minutes.status is not MinutesStatus.SUBMITTED:
        raise ServiceError(_l("Protokollet har inte skickats för justering."))
    if actor.id == meeting.chair_id:
        role = ApprovalRole.CHAIR
    elif actor.id == minutes.adjuster_id:
        role = ApprovalRole.ADJUSTER
    else:
        raise PermissionDenied()
    if meeting.chair_id == minutes.adjuster_id:
        raise ServiceError(_l("Ordföranden och justeraren måste vara två olika personer."))
    given = {a.role: a for a in minutes.approvals}
    if role in given or any(a.user_id == actor.id for a in given.values()):
        raise ServiceError(_l("Du har redan justerat protokollet. Den andra justeringen saknas."))
    approval = MinutesApproval(minutes_id=minutes.id, user_id=actor.id, role=role)
    session.add(approval)
    session.flush()
    session.expire(minutes, ["approvals"])
    record_event(
        session,
        actor,
        MinutesTag.MINUTES_APPROVE,
        object_type="minutes",
        object_ids=[minutes.id],
        details={"meeting_id": meeting.id, "role": str(role)},
    )
    approvers = {a.user_id for a in minutes.approvals}
    if {a.role for a in minutes.approvals} == set(ApprovalRole) and len(approvers) == 2:
        minutes.status = MinutesStatus.APPROVED
        minutes.approved_at = utcnow()
        minutes.digest = content_digest(session, minutes)
        bump(minutes)
        session.flush()
        record_event(
            session,
            actor,
            MinutesTag.MINUTES_LOCK,
            object_type="minutes",
            object_ids=[minutes.id],
            details={
                "meeting_id": meeting.id,
                "digest": minutes.digest,
                "approver_ids": sorted(approvers),
            },
        )
    return minutes


def canonical_content(session: Session, minutes: Minutes) -> bytes:
    """The approved content as canonical JSON: ids, kinds and ciphertext digests, never
    plaintext. Amendments are added after the lock and are not part of it."""
    rows = session.execute(
        select(
            MinutesEntry.id,
            MinutesEntry.kind,
            MinutesEntry.child_id,
            MinutesEntry.record_id,
            MinutesEntry.conflict_with_id,
            Record.ciphertext,
        )
        .join(Record, Record.id == MinutesEntry.record_id)
        .where(MinutesEntry.minutes_id == minutes.id, MinutesEntry.amends_id.is_(None))
        .order_by(MinutesEntry.id)
    ).all()
    payload = {
        "minutes_id": minutes.id,
        "meeting_id": minutes.meeting_id,
        "entries": [
            {
                "id": row.id,
                "kind": str(row.kind),
                "child_id": row.child_id,
                "record_id": row.record_id,
                "conflict_with_id": row.conflict_with_id,
                "ciphertext_sha256": (
                    hashlib.sha256(row.ciphertext).hexdigest() if row.ciphertext else None
                ),
            }
            for row in rows
        ],
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


def content_digest(session: Session, minutes: Minutes) -> str:
    return hashlib.sha256(canonical_content(session, minutes)).hexdigest()


def digest_matches(session: Session, minutes: Minutes) -> bool:
    return minutes.digest is not None and minutes.digest == content_digest(session, minutes)
