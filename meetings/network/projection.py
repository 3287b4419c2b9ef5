"""The shared screen of a network meeting: this child only, by pseudonym, and only what every
attending agency may see.

The meeting's own part is the participants by role (never names) and the young person's voice
where every attending agency may read each record. Upper layers add their parts (the child's
plan) through ``coordination.registry.NETWORK_PROJECTION_PARTS``; each is called with the
attending agencies and must keep to the same rule.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask, current_app
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from coordination.models import User
from coordination.registry import NETWORK_PROJECTION_PARTS, NetworkProjectionPart
from meetings.models import Attendance, AttendanceStatus
from meetings.network.models import NetworkMeeting, YoungPersonVoice
from secrecy.models import Record
from secrecy.records.results import Revealed
from secrecy.records.reveal import readable_record_ids, reveal_records


def register_network_projection_part(app: Flask, part: NetworkProjectionPart) -> None:
    """Add a part to every network meeting's projector view. ``part(session, viewer,
    council_id, child_id, agency_ids)`` returns HTML (escaped by the part) or None; it shows
    only what every agency in ``agency_ids`` may see, and never the child's name."""
    NETWORK_PROJECTION_PARTS.add(app, part)


def attendees_by_agency(session: Session, network: NetworkMeeting) -> dict[int, User]:
    """One attending user per agency: those marked present once anyone is, else those invited
    and not excused or absent."""
    rows = session.scalars(
        select(Attendance)
        .where(Attendance.meeting_id == network.meeting_id)
        .options(joinedload(Attendance.user, innerjoin=True))
        .order_by(Attendance.user_id)
    ).all()
    present = [a for a in rows if a.status is AttendanceStatus.PRESENT]
    chosen = present or [a for a in rows if a.status is AttendanceStatus.INVITED]
    by_agency: dict[int, User] = {}
    for attendance in chosen:
        by_agency.setdefault(attendance.user.agency_id, attendance.user)
    return by_agency


def shared_voices(
    session: Session, viewer: User, network: NetworkMeeting, attendees: dict[int, User]
) -> list[Revealed]:
    """The voice records every attending agency may read, opened for the viewer (whose own
    agency must be able to read them too, or they are not shown)."""
    records = list(
        session.scalars(
            select(Record)
            .join(YoungPersonVoice, YoungPersonVoice.record_id == Record.id)
            .where(
                YoungPersonVoice.meeting_id == network.meeting_id, Record.superseded_at.is_(None)
            )
            .order_by(Record.id)
        )
    )
    if not records or not attendees:
        return []
    readable = {r.id for r in records}
    for user in attendees.values():
        readable &= readable_record_ids(session, user, records)
        if not readable:
            return []
    shown = [r for r in records if r.id in readable]
    return [
        r
        for r in reveal_records(session, viewer, shown, purpose="projector")
        if isinstance(r, Revealed)
    ]


def projection_parts(
    session: Session, viewer: User, network: NetworkMeeting, agency_ids: Sequence[int]
) -> list[Markup]:
    parts = []
    for part in NETWORK_PROJECTION_PARTS.of(current_app):
        html = part(session, viewer, network.meeting.council_id, network.child_id, agency_ids)
        if html:
            parts.append(Markup(html))  # noqa: S704 - the part escapes what it renders
    return parts
