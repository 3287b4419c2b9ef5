"""What the network meeting pages and the API read: a council's network meetings, and one
meeting's participants, letters and voices with their records opened in one reveal."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

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
    participants = list(
        session.scalars(
            select(NetworkParticipant)
            .where(NetworkParticipant.meeting_id == network.meeting_id)
            .options(selectinload(NetworkParticipant.name_record))
            .order_by(NetworkParticipant.id)
        )
    )
    letters = list(
        session.scalars(
            select(InvitationLetter)
            .where(InvitationLetter.meeting_id == network.meeting_id)
            .order_by(InvitationLetter.id)
        )
    )
    voices = list(
        session.scalars(
            select(YoungPersonVoice)
            .where(YoungPersonVoice.meeting_id == network.meeting_id)
            .options(selectinload(YoungPersonVoice.record))
            .order_by(YoungPersonVoice.id)
        )
    )
    records: list[Record] = [p.name_record for p in participants] + [v.record for v in voices]
    opened = {r.record.id: r for r in reveal_records(session, viewer, records)} if records else {}
    agencies = agencies_attending(
        session, network.meeting_id, (AttendanceStatus.INVITED, AttendanceStatus.PRESENT)
    )
    return NetworkDetail(network, participants, letters, voices, opened, agencies)
