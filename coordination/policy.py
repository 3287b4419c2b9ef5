"""Who may do what: permissions as a StrEnum and small functions. Deny by default.

Administrators manage people and structure; their role gives them no access to children's
information. Access to a council's pages comes from membership of that council only.
"""

from __future__ import annotations

import enum

from coordination.errors import PermissionDenied
from coordination.models import Council, CouncilMembership, CouncilRole, Role, User


class Need(enum.Enum):
    """What a request needs of a resource; each feature's ``access.py`` loads a resource for
    one need (``meeting_for(session, actor, meeting_id, Need.WRITE)``) and refuses otherwise."""

    VIEW = "view"  # read it: members, and guests where the resource has them
    WRITE = "write"  # add to it: members of the council
    MANAGE = "manage"  # change its plan and structure: the council's coordinators
    SYNC = "sync"  # the Bob council's case synchronisation: its police and social services


class Permission(enum.StrEnum):
    MANAGE_AGENCIES = "admin:agencies"
    MANAGE_USERS = "admin:users"
    MANAGE_COUNCILS = "admin:councils"
    REVIEW_AGENCY_LOG = "audit:review_agency_log"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        {Permission.MANAGE_AGENCIES, Permission.MANAGE_USERS, Permission.MANAGE_COUNCILS}
    ),
    Role.COORDINATOR: frozenset(),
    Role.MEMBER: frozenset(),
    Role.AUDITOR: frozenset({Permission.REVIEW_AGENCY_LOG}),
}


def has_permission(user: User | None, permission: Permission) -> bool:
    if user is None or not user.is_active:
        return False
    return any(permission in ROLE_PERMISSIONS[role] for role in user.roles)


def membership_in(user: User, council: Council) -> CouncilMembership | None:
    return next((m for m in user.memberships if m.council_id == council.id), None)


def can_view_council(user: User | None, council: Council) -> bool:
    return user is not None and user.is_active and membership_in(user, council) is not None


def can_manage_members(user: User | None, council: Council) -> bool:
    """Administrators, and the coordinators of this council."""
    if user is None or not user.is_active:
        return False
    if has_permission(user, Permission.MANAGE_COUNCILS):
        return True
    membership = membership_in(user, council)
    return membership is not None and membership.council_role is CouncilRole.COORDINATOR


def can_join_council(user: User, council: Council) -> bool:
    """Only users of an agency that takes part in the council can be its members."""
    return user.agency_id in {agency.id for agency in council.agencies}


def require_permission(actor: User, permission: Permission) -> None:
    """Refuse (``PermissionDenied``) unless the actor's roles grant ``permission``."""
    if not has_permission(actor, permission):
        raise PermissionDenied()
