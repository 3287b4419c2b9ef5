"""Who may open a network meeting and who may change what.

- open it (VIEW): the council's members, and guests of the meeting (as for any meeting);
- call one: the council's coordinators, and its members from social services;
- invite participants and print their letters: the inviting agency's members of the council,
  since the names are that agency's records;
- record the young person's voice: any active member of the council (each agency its own).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from coordination.errors import NotFound, PermissionDenied
from coordination.models import AgencyKind, Council, CouncilRole, User
from coordination.policy import Need, can_view_council, membership_in
from meetings.agenda.access import meeting_allows
from meetings.models import Meeting
from meetings.network.models import NetworkMeeting


def may_call_network_meeting(user: User, council: Council) -> bool:
    """A coordinator of the council, or a social secretary who is one of its members."""
    membership = membership_in(user, council)
    if not user.is_active or membership is None or not council.active:
        return False
    return (
        membership.council_role is CouncilRole.COORDINATOR
        or user.agency.kind is AgencyKind.SOCIAL_SERVICES
    )


def may_invite(user: User, network: NetworkMeeting) -> bool:
    """Members of the council from the inviting agency: the names are its records."""
    return (
        can_view_council(user, network.meeting.council)
        and user.agency_id == network.inviting_agency_id
    )


def find_network(session: Session, meeting_id: int) -> NetworkMeeting | None:
    return session.scalars(
        select(NetworkMeeting)
        .where(NetworkMeeting.meeting_id == meeting_id)
        .options(
            joinedload(NetworkMeeting.meeting, innerjoin=True).joinedload(
                Meeting.council, innerjoin=True
            ),
            joinedload(NetworkMeeting.child, innerjoin=True),
            joinedload(NetworkMeeting.inviting_agency, innerjoin=True),
        )
    ).one_or_none()


def network_for(
    session: Session, actor: User, meeting_id: int, need: Need = Need.VIEW
) -> NetworkMeeting:
    """The network meeting, or the one refusal for unknown and forbidden ids alike.

    VIEW: whoever may open the meeting; WRITE: active members of the council; MANAGE: the
    inviting agency's members of the council."""
    network = find_network(session, meeting_id)
    if network is None:
        raise NotFound(object_type="meeting", object_ids=[meeting_id])
    if need is Need.MANAGE:
        allowed = may_invite(actor, network)
    else:
        allowed = meeting_allows(session, actor, network.meeting, need)
    if not allowed:
        raise PermissionDenied(object_type="meeting", object_ids=[meeting_id])
    return network
