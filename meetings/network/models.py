"""Network meetings, their external participants, invitation letters and the young person's
voice. Names, e-mail addresses, letters and the voice are sealed records; these rows hold only
ids, codes and dates."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.db import Base, Versioned, created_at, enum_type, intpk
from coordination.models import Agency, Child, User
from meetings.models import Meeting
from secrecy.models import Record


class NetworkKind(enum.StrEnum):
    """What kind of network meeting: the labels are in ``labels``."""

    CUSTOM_UNDER_18 = "custom_under_18"
    SSPF_NETWORK = "sspf_network"
    SIP_LIKE = "sip_like"


class NetworkPurpose(enum.StrEnum):
    """What the meeting is for, as the letter says it (a code: no free text in the letter)."""

    AGREE_PLAN = "agree_plan"
    FOLLOW_UP = "follow_up"
    SUPPORT_OFFER = "support_offer"


class ParticipantRole(enum.StrEnum):
    YOUNG_PERSON = "young_person"
    GUARDIAN = "guardian"
    RELATIVE = "relative"
    SUPPORT_PERSON = "support_person"
    OTHER = "other"


class ParticipantStatus(enum.StrEnum):
    INVITED = "invited"
    PRESENT = "present"
    ABSENT = "absent"


class NetworkMeeting(Versioned, Base):
    """A meeting (``meetings``) that is a network meeting about one child of its council."""

    __tablename__ = "network_meetings"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    kind: Mapped[NetworkKind] = mapped_column(enum_type(NetworkKind, "network_kind"))
    purpose: Mapped[NetworkPurpose] = mapped_column(enum_type(NetworkPurpose, "network_purpose"))
    # The agency whose coordinator or social secretary called the meeting: it owns the names.
    inviting_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]

    meeting: Mapped[Meeting] = relationship()
    child: Mapped[Child] = relationship()
    inviting_agency: Mapped[Agency] = relationship()
    created_by: Mapped[User] = relationship()
    participants: Mapped[list[NetworkParticipant]] = relationship(
        back_populates="network", order_by="NetworkParticipant.id"
    )


class NetworkParticipant(Versioned, Base):
    """Someone without an account invited to a network meeting. The name (and an e-mail
    address, if given) is a sealed record of the inviting agency; the row holds the role."""

    __tablename__ = "network_participants"

    id: Mapped[intpk]
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("network_meetings.meeting_id", ondelete="CASCADE"), index=True
    )
    role: Mapped[ParticipantRole] = mapped_column(enum_type(ParticipantRole, "participant_role"))
    name_record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    status: Mapped[ParticipantStatus] = mapped_column(
        enum_type(ParticipantStatus, "participant_status"), default=ParticipantStatus.INVITED
    )
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[created_at]

    network: Mapped[NetworkMeeting] = relationship(back_populates="participants")
    name_record: Mapped[Record] = relationship()


class InvitationLetter(Base):
    """One printed invitation to one participant: its text is a sealed record of the inviting
    agency (``meeting_note``), written when the letter is made; every download is logged."""

    __tablename__ = "network_invitation_letters"

    id: Mapped[intpk]
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("network_meetings.meeting_id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(ForeignKey("network_participants.id"))
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]

    participant: Mapped[NetworkParticipant] = relationship()
    record: Mapped[Record] = relationship()


class YoungPersonVoice(Base):
    """ "Barnets/den unges röst": what the young person said, a sealed record of the recording
    agency (``meeting_note``); several agencies may record it, each its own."""

    __tablename__ = "network_voices"

    id: Mapped[intpk]
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("network_meetings.meeting_id", ondelete="CASCADE"), index=True
    )
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    recorded_at: Mapped[created_at]

    record: Mapped[Record] = relationship()


__all__ = [
    "InvitationLetter",
    "NetworkKind",
    "NetworkMeeting",
    "NetworkParticipant",
    "NetworkPurpose",
    "ParticipantRole",
    "ParticipantStatus",
    "YoungPersonVoice",
]
