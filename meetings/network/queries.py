"""What the network meeting pages and the API read: a council's network meetings, and one
meeting's participants, letters and voices with their records opened in one reveal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from coordination.models import Agency, User
from meetings.agenda.attendance import agencies_attending
from meetings.models import AttendanceStatus, Meeting
from meetings.network.models import (
    InvitationLetter,
    NetworkMeeting,
    NetworkParticipant,
    YoungPersonVoice,
)
from secrecy.models import Record
from secrecy.records.results import RevealResult
from secrecy.records.reveal import reveal_records


def council_network_meetings(session: Session, council_id: int) -> list[NetworkMeeting]:
    """The council's network meetings, latest first, with meeting and child in one statement."""
    return list(
        session.scalars(
            select(NetworkMeeting)
            .join(Meeting, Meeting.id == NetworkMeeting.meeting_id)
            .where(Meeting.council_id == council_id)
            .options(
                joinedload(NetworkMeeting.meeting, innerjoin=True),
                joinedload(NetworkMeeting.child, innerjoin=True),
                joinedload(NetworkMeeting.inviting_agency, innerjoin=True),
            )
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
        )
    )


_Row = TypeVar("_Row", NetworkParticipant, InvitationLetter, YoungPersonVoice)


def _rows_of(
    session: Session, model: type[_Row], network: NetworkMeeting, *load: ORMOption
) -> list[_Row]:
    """The network meeting's participants, letters or voices, in the order they were added."""
    return list(
        session.scalars(
            select(model)
            .where(model.meeting_id == network.meeting_id)
            .options(*load)
            .order_by(model.id)
        )
    )


@dataclass(frozen=True)
class NetworkDetail:
    network: NetworkMeeting
    participants: list[NetworkParticipant]
    letters: list[InvitationLetter]
    voices: list[YoungPersonVoice]
    opened: dict[int, RevealResult]  # by record id: names and voices
    agencies: list[Agency]  # the agencies invited (not excused or absent)


def network_detail(session: Session, viewer: User, network: NetworkMeeting) -> NetworkDetail:
    """Everything the page shows, the sealed parts through one reveal (one audit event)."""
    participants = _rows_of(
        session, NetworkParticipant, network, selectinload(NetworkParticipant.name_record)
    )
    letters = _rows_of(session, InvitationLetter, network)
    voices = _rows_of(session, YoungPersonVoice, network, selectinload(YoungPersonVoice.record))
    records: list[Record] = [p.name_record for p in participants] + [v.record for v in voices]
    opened = {r.record.id: r for r in reveal_records(session, viewer, records)} if records else {}
    agencies = agencies_attending(
        session, network.meeting_id, (AttendanceStatus.INVITED, AttendanceStatus.PRESENT)
    )
    return NetworkDetail(network, participants, letters, voices, opened, agencies)
