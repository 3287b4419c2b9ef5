"""Who may open a council and who may change its members; shared by the pages and the API.

An unknown council and a forbidden one are refused alike (``NotFound`` is a
``PermissionDenied``): both answer 403 and are logged by the page or API wrapper.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from coordination.errors import NotFound, PermissionDenied
from coordination.models import Council, CouncilMembership, User
from coordination.policy import Need, can_manage_members, can_view_council


def _allowed(actor: User, council: Council, need: Need) -> bool:
    if need is Need.VIEW:
        return can_view_council(actor, council)
    if need is Need.MANAGE:
        return can_manage_members(actor, council)
    raise ValueError(f"council_for cannot decide {need}")


def council_for(
    session: Session,
    actor: User,
    council_id: int,
    need: Need | Iterable[Need] = Need.VIEW,
    *,
    members: bool = False,
) -> Council:
    """The council, loaded for ``need`` (or for any one of several needs), or a refusal.

    VIEW: the council's members; MANAGE: the council's coordinators and the administrators
    (who manage every council's members, never its children). With ``members`` the council's
    memberships and their users come along (the council page lists them).
    """
    query = select(Council).where(Council.id == council_id)
    if members:
        query = query.options(
            selectinload(Council.memberships).selectinload(CouncilMembership.user)
        )
    council = session.scalars(query).one_or_none()
    if council is None:
        raise NotFound(object_type="council", object_ids=[council_id])
    needs = [need] if isinstance(need, Need) else list(need)
    if not any(_allowed(actor, council, one) for one in needs):
        raise PermissionDenied(object_type="council", object_ids=[council_id])
    return council


def membership_for(
    session: Session, actor: User, council_id: int, membership_id: int
) -> CouncilMembership:
    """A membership of the council, for those who manage the council's members. A membership
    of another council is refused like an unknown one (logged against the council)."""
    council = council_for(session, actor, council_id, Need.MANAGE, members=True)
    membership = next((m for m in council.memberships if m.id == membership_id), None)
    if membership is None:
        raise NotFound(object_type="council", object_ids=[council_id])
    return membership
