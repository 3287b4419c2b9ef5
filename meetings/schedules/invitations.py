"""Invitations: the council's active members, and their invitation rows for new meetings, in
bulk (a materialising run invites hundreds at once)."""

from __future__ import annotations

from collections import defaultdict
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from coordination.models import CouncilMembership, User
from meetings.models import Attendance, AttendanceStatus


def active_members(session: Session, council_ids: list[int]) -> dict[int, list[int]]:
    """The user ids to invite, per council: one query for all councils."""
    rows = session.execute(
        select(CouncilMembership.council_id, CouncilMembership.user_id)
        .join(User, User.id == CouncilMembership.user_id)
        .where(CouncilMembership.council_id.in_(council_ids), User.active.is_(True))
        .order_by(CouncilMembership.user_id)
    ).all()
    members: dict[int, list[int]] = defaultdict(list)
    for council_id, user_id in rows:
        members[council_id].append(user_id)
    return members


def invite_members(session: Session, meeting_ids: list[int], members: list[int]) -> int:
    """Invite every member to every meeting; the number of invitations made."""
    if not meeting_ids or not members:
        return 0
    rows = [
        {
            "meeting_id": meeting_id,
            "user_id": user_id,
            "status": AttendanceStatus.INVITED,
            "guest": False,
        }
        for meeting_id in meeting_ids
        for user_id in members
    ]
    session.execute(insert(cast(Table, Attendance.__table__)), rows)
    return len(rows)
