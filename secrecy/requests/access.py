"""Who may open an information request: shared by the pages and the API.

VIEW: members of the child's council whose agency asked or was asked, and the council's
coordinators (told when a request is overdue; they see its status and age, not its texts, which
only the two agencies' keys open). ANSWER: the asked agency's members of the council. An unknown
and a forbidden id are answered alike by the wrappers (403, logged).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from coordination.errors import PermissionDenied, get_or_not_found
from coordination.models import CouncilRole, User
from coordination.policy import Need, can_view_council, membership_in
from secrecy.models import InformationRequest


def request_for(
    session: Session, actor: User, request_id: int, need: Need = Need.VIEW
) -> InformationRequest:
    request = get_or_not_found(session, InformationRequest, request_id, "information_request")
    council = request.child.council
    parties = {request.owner_agency_id, request.requesting_agency_id}
    if need is Need.VIEW:
        membership = membership_in(actor, council) if can_view_council(actor, council) else None
        allowed = membership is not None and (
            actor.agency_id in parties or membership.council_role is CouncilRole.COORDINATOR
        )
    elif need is Need.MANAGE:
        allowed = can_view_council(actor, council) and actor.agency_id == request.owner_agency_id
    else:
        raise ValueError(f"request_for cannot decide {need}")
    if not allowed:
        raise PermissionDenied(object_type="information_request", object_ids=[request_id])
    return request
