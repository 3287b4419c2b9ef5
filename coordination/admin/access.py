"""What the administration pages load: agencies, users and councils, for administrators only.

The permission is checked before the object is looked up, and an unknown id is refused like a
forbidden one: both answer 403 and the page wrapper logs the refusal (``access:denied``).
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from coordination.errors import NotFound, PermissionDenied
from coordination.models import Agency, Council, User
from coordination.policy import Permission, has_permission

T = TypeVar("T", Agency, User, Council)

# Every administration page needs the same permission; the admin role grants all three.
ADMINISTRATION = Permission.MANAGE_USERS


def require_administrator(actor: User) -> None:
    """For the pages that load no object (lists, new-object forms)."""
    if not has_permission(actor, ADMINISTRATION):
        raise PermissionDenied()


def _administered(session: Session, actor: User, model: type[T], object_type: str, id_: int) -> T:
    if not has_permission(actor, ADMINISTRATION):
        raise PermissionDenied(object_type=object_type, object_ids=[id_])
    found = session.get(model, id_)
    if found is None:
        raise NotFound(object_type=object_type, object_ids=[id_])
    return found


def agency_for(session: Session, actor: User, agency_id: int) -> Agency:
    return _administered(session, actor, Agency, "agency", agency_id)


def user_for(session: Session, actor: User, user_id: int) -> User:
    return _administered(session, actor, User, "user", user_id)


def council_for_admin(session: Session, actor: User, council_id: int) -> Council:
    """The council's settings page (name, agencies, retention). Its members are managed on the
    council's own page, through ``coordination.councils.access.council_for``."""
    return _administered(session, actor, Council, "council", council_id)
