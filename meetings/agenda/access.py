"""Who may open a meeting and who may change it: council members, the council's coordinators,
and guests invited to one meeting; plus the meeting-status guards the services share.

The ``require_*`` guards raise ``PermissionDenied`` or a ``ServiceError`` for the services in
``attendance`` and ``items``; views ask ``can_view_meeting`` and ``is_meeting_coordinator``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from coordination.db import utcnow
from coordination.errors import NotFound, PermissionDenied, ServiceError
from coordination.models import Council, CouncilMembership, CouncilRole, User
from coordination.policy import Need, can_view_council, membership_in
from meetings.models import Attendance, Meeting, MeetingStatus
from meetings.network.models import NetworkMeeting


def find_meeting(session: Session, meeting_id: int, *, members: bool = True) -> Meeting | None:
    """The meeting with its council (and its agencies); with ``members`` also the council's
    memberships and their users (the API lists them). The access checks read the viewer's own
    memberships, so a page that lists no members passes ``members=False``."""
    council = joinedload(Meeting.council, innerjoin=True)
    return session.scalars(
        select(Meeting)
        .where(Meeting.id == meeting_id)
        .options(
            council.selectinload(Council.memberships).selectinload(CouncilMembership.user)
            if members
            else council.lazyload(Council.agencies)  # when a page needs them (a coordinator's)
        )
    ).one_or_none()


def meeting_for(
    session: Session, actor: User, meeting_id: int, need: Need = Need.VIEW, *, members: bool = False
) -> Meeting:
    """The meeting, loaded for ``need``, or a refusal: ``NotFound`` for an unknown id and
    ``PermissionDenied`` for one the actor may not use, which pages and API answer alike.

    VIEW: members of the council and guests of this meeting; WRITE: active members of the
    council; MANAGE: the council's coordinators. SYNC is the case synchronisation's own check
    (``meetings.casesync.access``), made after loading for VIEW.
    """
    meeting = find_meeting(session, meeting_id, members=members)
    if meeting is None:
        raise NotFound(object_type="meeting", object_ids=[meeting_id])
    if not meeting_allows(session, actor, meeting, need):
        raise PermissionDenied(object_type="meeting", object_ids=[meeting_id])
    return meeting


def meeting_allows(session: Session, actor: User, meeting: Meeting, need: Need) -> bool:
    """Whether the actor may use the meeting for ``need`` (VIEW, WRITE, MANAGE as
    ``meeting_for`` says); any other need is the caller's own check, made after VIEW."""
    if need is Need.VIEW:
        return can_view_meeting(session, actor, meeting)
    if need is Need.WRITE:
        return actor.is_active and can_view_council(actor, meeting.council)
    if need is Need.MANAGE:
        return is_meeting_coordinator(actor, meeting)
    raise ValueError(f"cannot decide {need} on a meeting: load it for VIEW, then check it")


def is_meeting_coordinator(user: User, meeting: Meeting) -> bool:
    """The coordinators of the meeting's council (their council role, not a global role)."""
    membership = membership_in(user, meeting.council)
    return (
        user.is_active
        and membership is not None
        and membership.council_role is CouncilRole.COORDINATOR
    )


def guest_attendance(session: Session, user: User, meeting: Meeting) -> Attendance | None:
    row = session.get(Attendance, (meeting.id, user.id))
    return row if row is not None and row.guest else None


def can_view_meeting(session: Session, user: User, meeting: Meeting) -> bool:
    """Members of the council, and guests invited to this one meeting."""
    if not user.is_active:
        return False
    return can_view_council(user, meeting.council) or (
        guest_attendance(session, user, meeting) is not None
    )


def is_network_meeting(session: Session, meeting: Meeting) -> bool:
    """A network meeting (``meetings.network``) is about one child: no other child comes onto
    its agenda, by hand or carried over by open actions. Scheduled meetings never are one."""
    if meeting.schedule_id is not None:
        return False
    return session.get(NetworkMeeting, meeting.id) is not None


NETWORK_AGENDA = _l(
    "Ett nätverksmöte gäller ett enda barn. Andra barn tas upp på forumets ordinarie möten."
)


def require_member(actor: User, meeting: Meeting) -> None:
    if not can_view_council(actor, meeting.council):
        raise PermissionDenied()


def require_coordinator(actor: User, meeting: Meeting) -> None:
    if not is_meeting_coordinator(actor, meeting):
        raise PermissionDenied()


def require_not_cancelled(meeting: Meeting) -> None:
    if meeting.status is MeetingStatus.CANCELLED:
        raise ServiceError(_l("Mötet är inställt."))


def require_planned(meeting: Meeting) -> None:
    if meeting.status is not MeetingStatus.PLANNED:
        raise ServiceError(_l("Dagordningen kan bara ändras för möten som inte har hållits."))


def has_started(meeting: Meeting, now: dt.datetime | None = None) -> bool:
    """The meeting's start time has come: attendance and minutes describe something real."""
    return meeting.starts_at <= (now or utcnow())


NOT_STARTED_ATTENDANCE = _l(
    "Mötet har inte börjat än. Närvaro kan registreras först när mötet har börjat; "
    "anmäl förhinder eller frånvaro går bra innan."
)
NOT_STARTED_MINUTES = _l(
    "Mötet har inte börjat än. Protokollet kan skickas för justering, justeras och låsas "
    "först när mötet har hållits."
)


def require_started(meeting: Meeting, message: Any, field: str | None = None) -> None:
    if not has_started(meeting):
        raise ServiceError(message, field=field)
