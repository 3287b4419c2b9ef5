"""The meeting workspace: the minutes of one meeting and its per-child entries and decisions
(new, edited, amended after the lock), each shared with the attending agencies the writer chose.

Services take ``(session, actor, ...)``, validate, change, flush and append their audit event in
the caller's transaction; they never commit. Entry content is a sealed record of the writer's
agency; it is read only through ``secrecy.records.reveal``. ``Minutes.version`` is raised
explicitly by every change of the draft; an edit made against an older version is kept as a
conflicting entry. Sharing: ``minutes.workspace.sharing``; approval: ``minutes.workspace.approval``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from coordination.audit.log import record_event
from coordination.errors import PermissionDenied, ServiceError
from coordination.models import Child, User
from coordination.policy import can_view_council
from meetings.models import AgendaItem, Meeting, MeetingStatus
from minutes.models import (
    AmendmentReason,
    EntryKind,
    Minutes,
    MinutesEntry,
    MinutesStatus,
)
from minutes.tags import MinutesTag
from minutes.workspace.sharing import ShareChoice, share_record
from secrecy.models import Record
from secrecy.policy.categories import NOT_BY_HAND, categories
from secrecy.records.services import correct_record, create_record

# Categories an entry may not have: identity is enrolment's, consent is the consent register's.
EXCLUDED_ENTRY_CATEGORIES = NOT_BY_HAND | {"consent"}


DEFAULT_ENTRY_CATEGORY = "meeting_note"


CONFLICT_MESSAGE = _l(
    "Någon annan har ändrat protokollet medan du skrev. Din version är sparad som en "
    "konfliktversion bredvid den andra; jämför dem och rätta vid behov."
)


LOCKED_MESSAGE = _l("Protokollet är justerat och låst. Ändringar görs som rättelser.")


SUBMITTED_MESSAGE = _l("Protokollet väntar på justering och kan inte ändras.")


def entry_categories() -> list[str]:
    return [key for key in categories() if key not in EXCLUDED_ENTRY_CATEGORIES]


def minutes_of(session: Session, meeting: Meeting) -> Minutes | None:
    """The meeting's minutes with their approvals (the workspace shows them: in the same
    statement, not a lazy load while the page renders)."""
    return (
        session.scalars(
            select(Minutes)
            .where(Minutes.meeting_id == meeting.id)
            .options(joinedload(Minutes.approvals))
        )
        .unique()
        .one_or_none()
    )


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
        session, actor, MinutesTag.MINUTES_CREATE, on=minutes, details={"meeting_id": meeting.id}
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


def draft_for_change(session: Session, actor: User, meeting: Meeting) -> Minutes:
    """The meeting's minutes, locked (``minutes_for_change``), for a change of the draft:
    refused once they are sent for approval or approved."""
    minutes = minutes_for_change(session, actor, meeting)
    require_draft(minutes)
    return minutes


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


def _validate_category(category: str) -> None:
    if category not in categories() or category in EXCLUDED_ENTRY_CATEGORIES:
        raise ServiceError(_l("Välj en kategori."), field="category")


def _write_entry(
    session: Session,
    actor: User,
    meeting: Meeting,
    minutes: Minutes,
    child: Child,
    kind: EntryKind,
    category: str,
    text: str,
    shares: Sequence[ShareChoice],
    assessment: str | None,
) -> MinutesEntry:
    """A new entry of the minutes (added, not flushed) with its text sealed as a record of the
    writer's agency and shared with the attending agencies the writer chose."""
    record = create_record(session, actor, child, category, text)
    share_record(session, actor, meeting, record, shares, assessment)
    entry = MinutesEntry(
        minutes_id=minutes.id, child_id=child.id, record_id=record.id, kind=kind, author_id=actor.id
    )
    session.add(entry)
    return entry


def _entry_beside(
    session: Session,
    actor: User,
    entry: MinutesEntry,
    category: str,
    text: str,
    shares: Sequence[ShareChoice],
    assessment: str | None,
) -> MinutesEntry:
    """A new entry about the same child and of the same kind as ``entry``: its conflicting
    version, or its correction after approval."""
    minutes = entry.minutes
    return _write_entry(
        session,
        actor,
        minutes.meeting,
        minutes,
        entry.child,
        entry.kind,
        category,
        text,
        shares,
        assessment,
    )


def add_entry(
    session: Session,
    actor: User,
    meeting: Meeting,
    child: Child,
    kind: EntryKind,
    category: str,
    text: str,
    shares: Sequence[ShareChoice] = (),
    assessment: str | None = None,
) -> MinutesEntry:
    """A new entry (or decision) about a child on the agenda: a record of the writer's agency,
    disclosed to the attending agencies the writer chose, under the writer's one ``assessment``
    (required when anything is shared). Adding never races with anything."""
    require_writer(actor, meeting)
    require_on_agenda(session, meeting, child)
    _validate_category(category)
    minutes = draft_for_change(session, actor, meeting)
    entry = _write_entry(
        session, actor, meeting, minutes, child, kind, category, text, shares, assessment
    )
    bump(minutes)
    session.flush()
    record_event(
        session,
        actor,
        MinutesTag.ENTRY_ADD,
        on=entry,
        details={
            "minutes_id": minutes.id,
            "child_id": child.id,
            "record_id": entry.record_id,
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
    assessment: str | None = None,
) -> EditOutcome:
    """Change an entry's text. The new text is a correction of the entry's record (records are
    append-only). Saved against an older version of the draft, it is not applied: it is kept as a
    new entry marked as conflicting with the one it raced with, and the caller says so."""
    minutes = entry.minutes
    meeting = minutes.meeting
    require_writer(actor, meeting)
    minutes = draft_for_change(session, actor, meeting)
    session.refresh(entry)
    record = session.get(Record, entry.record_id)
    if record is None or record.owner_agency_id != actor.agency_id:
        raise ServiceError(_l("Bara den myndighet som skrev anteckningen kan ändra den."))
    if version != minutes.version:
        current_version = minutes.version
        losing = _entry_beside(session, actor, entry, record.category, text, shares, assessment)
        losing.conflict_with_id = entry.id
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
                "record_id": losing.record_id,
                "submitted_version": version,
                "current_version": current_version,
            },
        )
        return EditOutcome(losing, conflict=True)
    correction = correct_record(session, actor, record, {"text": text.strip()})
    share_record(session, actor, meeting, correction, shares, assessment)
    entry.record_id = correction.id
    bump(minutes)
    session.flush()
    record_event(
        session,
        actor,
        MinutesTag.ENTRY_EDIT,
        on=entry,
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
    assessment: str | None = None,
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
    amendment = _entry_beside(session, actor, entry, original.category, text, shares, assessment)
    amendment.amends_id = entry.id
    amendment.amendment_reason = reason
    session.flush()
    record_event(
        session,
        actor,
        MinutesTag.ENTRY_AMEND,
        object_type="minutes_entry",
        object_ids=[amendment.id, entry.id],
        details={"minutes_id": minutes.id, "record_id": amendment.record_id, "reason": str(reason)},
    )
    return amendment
