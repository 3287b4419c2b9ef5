"""Who takes part in a meeting's case sync, and the guards the sync's services run before
they change anything: the caller's role, the entry's version, and the meeting's row lock.

``sync_meeting_for`` is the access function of the sync's pages (``Need.SYNC``): the meeting
loaded through ``meeting_for`` and then the caller's sync role checked."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import NotFound as NoSuchPage

from coordination.errors import ConflictError, NotFound, PermissionDenied, ServiceError
from coordination.models import AgencyKind, CouncilKind, User
from coordination.policy import Need, can_view_council
from meetings.agenda.access import meeting_for
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


def sync_meeting_for(session: Session, actor: User, meeting_id: int) -> tuple[Meeting, AgencyKind]:
    """The meeting and the actor's sync role (``Need.SYNC``), or a refusal. Loaded for VIEW,
    then: members of the council only (a guest of the one meeting takes no part); the page
    exists for Bob councils only, so a member of another council finds none (404); within a Bob
    council only the police and social services take part (others: ``PermissionDenied``)."""
    meeting = meeting_for(session, actor, meeting_id, Need.VIEW)
    if not can_view_council(actor, meeting.council):
        raise PermissionDenied(object_type="meeting", object_ids=[meeting_id])
    if not is_bob_meeting(meeting):
        raise NoSuchPage()
    role = sync_role(actor, meeting)
    if role is None:
        raise PermissionDenied(object_type="meeting", object_ids=[meeting_id])
    return meeting, role


def require_sync_role(meeting: Meeting, role: AgencyKind, kind: AgencyKind) -> None:
    """The request is the police's (or social services') part of the sync."""
    if role is not kind:
        raise PermissionDenied(object_type="meeting", object_ids=[meeting.id])


def entry_for(session: Session, meeting: Meeting, entry_id: int) -> CaseSyncEntry:
    """An entry of this meeting's sync; any other id is refused alike."""
    entry = session.get(CaseSyncEntry, entry_id)
    if entry is None or entry.meeting_id != meeting.id:
        raise NotFound(object_type="case_sync_entry", object_ids=[entry_id])
    return entry


def _require_bob(meeting: Meeting) -> None:
    if not is_bob_meeting(meeting):
        raise ServiceError(_l("Ärendeavstämning finns bara inför möten i Bob-råd."))


def require_role(actor: User, meeting: Meeting, kind: AgencyKind) -> None:
    _require_bob(meeting)
    if sync_role(actor, meeting) is not kind:
        raise PermissionDenied()


def flush_entries(session: Session) -> None:
    """A concurrent change of the same entry (version column) is a conflict, not a 500."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConflictError() from exc
