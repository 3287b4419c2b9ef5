"""Who may open the age rules of a council: shared by the pages and the API.

VIEW (the range, the exceptions, the thresholds ahead): the council's members. The range's
page also opens for those who MANAGE the council (its coordinators and the administrators),
who may change it. An unknown and a forbidden id are answered alike (403, logged).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from coordination.councils.access import council_for
from coordination.models import Council, User
from coordination.policy import Need, can_manage_members


def members_council(session: Session, actor: User, council_id: int) -> Council:
    return council_for(session, actor, council_id, Need.VIEW)


def range_council(session: Session, actor: User, council_id: int) -> Council:
    return council_for(session, actor, council_id, (Need.VIEW, Need.MANAGE))


def may_set_range(actor: User, council: Council) -> bool:
    return can_manage_members(actor, council)
