"""Who takes part in a meeting's case sync, and the guards the sync's services run before
they change anything: the caller's role, the entry's version, and the meeting's row lock."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from coordination.errors import ConflictError, PermissionDenied, ServiceError
from coordination.models import AgencyKind, CouncilKind, User
from coordination.policy import can_view_council
from meetings.models import CaseSyncEntry, Meeting


def is_bob_meeting(meeting: Meeting) -> bool:
    return meeting.council.kind is CouncilKind.BOB


def sync_role(user: User, meeting: Meeting) -> AgencyKind | None:
    """POLICE or SOCIAL_SERVICES for the members of those agencies in the meeting's council
    (the agency must still take part in it); None for everyone else."""
    if not can_view_council(user, meeting.council):
        return None
    kind = user.agency.kind
    if kind not in (AgencyKind.POLICE, AgencyKind.SOCIAL_SERVICES):
        return None
    if user.agency_id not in {a.id for a in meeting.council.agencies}:
        return None
    return kind


def _require_bob(meeting: Meeting) -> None:
    if not is_bob_meeting(meeting):
        raise ServiceError(_l("Ärendeavstämning finns bara inför möten i Bob-råd."))


def require_role(actor: User, meeting: Meeting, kind: AgencyKind) -> None:
    _require_bob(meeting)
    if sync_role(actor, meeting) is not kind:
        raise PermissionDenied()


def check_version(entry: CaseSyncEntry, expected_version: int | None) -> None:
    if expected_version is not None and entry.version != expected_version:
        raise ConflictError()


def flush_entries(session: Session) -> None:
    """A concurrent change of the same entry (version column) is a conflict, not a 500."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConflictError() from exc


def lock_meeting(session: Session, meeting: Meeting) -> None:
    """Submissions and agenda changes of one meeting queue on its row (PostgreSQL)."""
    session.execute(select(Meeting.id).where(Meeting.id == meeting.id).with_for_update())
