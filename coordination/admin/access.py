"""What the administration pages load: agencies, users and councils, for administrators only.

The permission is checked before the object is looked up, and an unknown id is refused like a
forbidden one: both answer 403 and the page wrapper logs the refusal (``access:denied``).
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from coordination.errors import PermissionDenied, get_or_not_found
from coordination.models import Agency, Council, User
from coordination.policy import Permission, has_permission

T = TypeVar("T")

# Every administration page needs the same permission; the admin role grants all three.
ADMINISTRATION = Permission.MANAGE_USERS


def require_administrator(actor: User) -> None:
    """For the pages that load no object (lists, new-object forms)."""
    if not has_permission(actor, ADMINISTRATION):
        raise PermissionDenied()


def administered(session: Session, actor: User, model: type[T], object_type: str, id_: int) -> T:
    """The row an administration page works on, for administrators only (checked first)."""
    if not has_permission(actor, ADMINISTRATION):
        raise PermissionDenied(object_type=object_type, object_ids=[id_])
    return get_or_not_found(session, model, id_, object_type)


def agency_for(session: Session, actor: User, agency_id: int) -> Agency:
    return administered(session, actor, Agency, "agency", agency_id)


def user_for(session: Session, actor: User, user_id: int) -> User:
    return administered(session, actor, User, "user", user_id)


def council_for_admin(session: Session, actor: User, council_id: int) -> Council:
    """The council's settings page (name, agencies, retention). Its members are managed on the
    council's own page, through ``coordination.councils.access.council_for``."""
    return administered(session, actor, Council, "council", council_id)
