"""Approval (justering) of the minutes: the coordinator submits the draft to the chair and the
adjuster, who both approve; the second approval locks the minutes, stores the digest of their
content, and carries the open actions over to the council's next planned meeting.

Services take ``(session, actor, ...)``, validate, change, flush and append their audit event in
the caller's transaction; they never commit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.db import utcnow
from coordination.errors import PermissionDenied, ServiceError
from coordination.models import User
from meetings.agenda.access import NOT_STARTED_MINUTES, require_coordinator, require_started
from meetings.agenda.contributors import add_contributed_items_after
from meetings.models import Meeting, MeetingStatus
from minutes import notices
from minutes.models import (
    ApprovalRole,
    Minutes,
    MinutesApproval,
    MinutesEntry,
    MinutesStatus,
)
from minutes.tags import MinutesTag
from minutes.workspace.services import (
    CONFLICT_MESSAGE,
    LOCKED_MESSAGE,
    bump,
    minutes_for_change,
    require_draft,
    require_writer,
)
from minutes.workspace.sharing import present_user_ids
from secrecy.models import Record


def current_minutes(session: Session, meeting: Meeting) -> Minutes | None:
    """The meeting's minutes as they are, without creating or locking them (a confirmation
    page reads; only the step itself writes)."""
    return session.scalars(select(Minutes).where(Minutes.meeting_id == meeting.id)).one_or_none()


def _require_minutes_coordinator(actor: User, meeting: Meeting) -> None:
    """The steps only the council's coordinator takes with a meeting's minutes: sending them
    for approval and taking them back."""
    require_writer(actor, meeting)
    require_coordinator(actor, meeting)


def check_submission(
    session: Session,
    actor: User,
    meeting: Meeting,
    minutes: Minutes | None,
    adjuster: User | None,
    version: int,
) -> User:
    """Why the coordinator may not send these minutes (``None``: not written yet) for approval
    to this adjuster, raised; nothing is written. The chair and the adjuster must both have
    been present, and must be two different people; the meeting must have started. Returns
    the adjuster."""
    _require_minutes_coordinator(actor, meeting)
    if minutes is not None:
        require_draft(minutes)
    require_started(meeting, NOT_STARTED_MINUTES)
    if version != (minutes.version if minutes is not None else 1):
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
    return adjuster


def submit_for_approval(
    session: Session, actor: User, meeting: Meeting, adjuster: User | None, version: int
) -> Minutes:
    """The coordinator sends the draft to the chair and the adjuster (``check_submission``),
    who are told so by a notification."""
    _require_minutes_coordinator(actor, meeting)
    minutes = minutes_for_change(session, actor, meeting)
    adjuster = check_submission(session, actor, meeting, minutes, adjuster, version)
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
    session.expire(minutes, ["adjuster"])
    record_event(
        session,
        actor,
        MinutesTag.MINUTES_SUBMIT,
        on=minutes,
        details={
            "meeting_id": meeting.id,
            "chair_id": meeting.chair_id,
            "adjuster_id": adjuster.id,
            "version": minutes.version,
        },
    )
    notices.notify_submitted(session, actor, meeting, minutes)
    return minutes


def withdraw_submission(session: Session, actor: User, meeting: Meeting) -> Minutes:
    """The coordinator takes submitted minutes back to draft; approvals given so far lapse."""
    _require_minutes_coordinator(actor, meeting)
    minutes = minutes_for_change(session, actor, meeting)
    _back_to_draft(session, actor, meeting, minutes, MinutesTag.MINUTES_WITHDRAW)
    return minutes


def send_back(session: Session, actor: User, meeting: Meeting) -> Minutes:
    """The chair or the adjuster does not approve and sends the minutes back to draft for
    changes; approvals given so far lapse, and the secretary is told."""
    require_writer(actor, meeting)
    minutes = minutes_for_change(session, actor, meeting)
    if actor.id not in {meeting.chair_id, minutes.adjuster_id}:
        raise PermissionDenied()
    _back_to_draft(session, actor, meeting, minutes, MinutesTag.MINUTES_SEND_BACK)
    notices.notify_sent_back(session, actor, meeting, minutes)
    return minutes


def _back_to_draft(
    session: Session, actor: User, meeting: Meeting, minutes: Minutes, tag: MinutesTag
) -> None:
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
    session.expire(minutes, ["approvals"])
    record_event(session, actor, tag, on=minutes, details={"meeting_id": meeting.id})


@dataclass(frozen=True)
class ApprovalStep:
    """What approving now means for the actor: as which role, and whether it locks."""

    role: ApprovalRole
    locks: bool


def check_approval(
    session: Session, actor: User, meeting: Meeting, minutes: Minutes | None
) -> ApprovalStep:
    """Why the actor may not approve now, raised; otherwise the step. Nothing is written."""
    require_writer(actor, meeting)
    if minutes is not None and minutes.status is MinutesStatus.APPROVED:
        raise ServiceError(LOCKED_MESSAGE)
    if minutes is None or minutes.status is not MinutesStatus.SUBMITTED:
        raise ServiceError(_l("Protokollet har inte skickats för justering."))
    require_started(meeting, NOT_STARTED_MINUTES)
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
    return ApprovalStep(role=role, locks=len(given) == len(ApprovalRole) - 1)


def approve(session: Session, actor: User, meeting: Meeting) -> Minutes:
    """The chair or the adjuster approves; the second of the two different people locks the
    minutes, stores the digest of their content, also in the audit log, puts the children
    with open actions on the agendas of the council's planned later meetings, and tells the
    secretary."""
    require_writer(actor, meeting)
    minutes = minutes_for_change(session, actor, meeting)
    step = check_approval(session, actor, meeting, minutes)
    approval = MinutesApproval(minutes_id=minutes.id, user_id=actor.id, role=step.role)
    session.add(approval)
    session.flush()
    session.expire(minutes, ["approvals"])
    record_event(
        session,
        actor,
        MinutesTag.MINUTES_APPROVE,
        on=minutes,
        details={"meeting_id": meeting.id, "role": str(step.role)},
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
            on=minutes,
            details={
                "meeting_id": meeting.id,
                "digest": minutes.digest,
                "approver_ids": sorted(approvers),
            },
        )
        # The actions agreed here that are still open come back on the council's next
        # agendas now, not when someone first opens one of those meetings.
        add_contributed_items_after(session, meeting)
        notices.notify_approved(session, actor, meeting, minutes)
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
