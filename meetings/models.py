"""Schedules, meetings, attendance, agendas, the Bob case sync, notifications and feeds."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    ForeignKey,
    Index,
    String,
    Text,
    Time,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.db import Base, Versioned, created_at, enum_type, intpk
from coordination.models import Child, Council, User


class Schedule(Versioned, Base):
    """A council's recurring meetings: an RFC 5545 rule in Europe/Stockholm local time."""

    __tablename__ = "schedules"

    id: Mapped[intpk]
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # RRULE body without DTSTART, e.g. "FREQ=MONTHLY;BYDAY=+2WE".
    rrule: Mapped[str] = mapped_column(String(500))
    start_time: Mapped[dt.time] = mapped_column(Time())  # local (Europe/Stockholm) wall time
    duration_minutes: Mapped[int]
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date | None]
    location: Mapped[str | None] = mapped_column(String(300))
    video_link: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]

    council: Mapped[Council] = relationship()


class MeetingStatus(enum.StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


class Meeting(Versioned, Base):
    __tablename__ = "meetings"

    id: Mapped[intpk]
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"))
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id"))
    # The rule's date for this occurrence (its identity); None for ad-hoc meetings.
    occurrence_on: Mapped[dt.date | None]
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    status: Mapped[MeetingStatus] = mapped_column(
        enum_type(MeetingStatus, "meeting_status"), default=MeetingStatus.PLANNED
    )
    location: Mapped[str | None] = mapped_column(String(300))
    video_link: Mapped[str | None] = mapped_column(String(500))
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    minute_taker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Set when a coordinator moved or cancelled this one occurrence: the rule no longer
    # governs it.
    detached: Mapped[bool] = mapped_column(default=False)
    # Name of the public holiday or eve the occurrence falls on, for the coordinator to act on.
    holiday: Mapped[str | None] = mapped_column(String(100))
    # Raised whenever time, place or status changes (calendar SEQUENCE).
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[created_at]

    council: Mapped[Council] = relationship()
    schedule: Mapped[Schedule | None] = relationship()
    chair: Mapped[User | None] = relationship(foreign_keys=[chair_id])
    minute_taker: Mapped[User | None] = relationship(foreign_keys=[minute_taker_id])
    attendances: Mapped[list[Attendance]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan"
    )
    agenda_items: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="AgendaItem.position"
    )

    __table_args__ = (
        UniqueConstraint("council_id", "schedule_id", "occurrence_on"),
        Index("ix_meetings_council_id_starts_at", "council_id", "starts_at"),
        Index("ix_meetings_starts_at", "starts_at"),
    )


class AttendanceStatus(enum.StrEnum):
    INVITED = "invited"
    PRESENT = "present"
    ABSENT = "absent"
    EXCUSED = "excused"


class Attendance(Base):
    __tablename__ = "attendances"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    status: Mapped[AttendanceStatus] = mapped_column(
        enum_type(AttendanceStatus, "attendance_status"), default=AttendanceStatus.INVITED
    )
    guest: Mapped[bool] = mapped_column(default=False)

    meeting: Mapped[Meeting] = relationship(back_populates="attendances")
    user: Mapped[User] = relationship()


class AgendaSource(enum.StrEnum):
    MANUAL = "manual"
    OPEN_ACTIONS = "open_actions"
    CASE_SYNC = "case_sync"


class AgendaItem(Base):
    """One child on a meeting's agenda, shown by pseudonym. The brief is a sealed record of the
    writer's agency (category ``meeting_note``)."""

    __tablename__ = "agenda_items"

    id: Mapped[intpk]
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    position: Mapped[int]
    # The category the reason is about (shown on the projector view instead of any text).
    reason_category: Mapped[str] = mapped_column(String(40))
    brief_record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))
    source: Mapped[AgendaSource] = mapped_column(
        enum_type(AgendaSource, "agenda_source"), default=AgendaSource.MANUAL
    )
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[created_at]

    meeting: Mapped[Meeting] = relationship(back_populates="agenda_items")
    child: Mapped[Child] = relationship()

    __table_args__ = (UniqueConstraint("meeting_id", "child_id"),)


class CaseSyncState(enum.StrEnum):
    MATCHED = "matched"  # the number belongs to a child on the caseload
    PROPOSED = "proposed"  # no match: social services accept or decline the enrolment
    ACCEPTED = "accepted"
    DECLINED = "declined"


class CaseSyncEntry(Versioned, Base):
    """One young person submitted by the police before a Bob meeting. Matching is by blind
    index only; the police record is a sealed record of theirs, shared with social services
    under a basis; social services' answer is a record of theirs, disclosed or withheld."""

    __tablename__ = "case_sync_entries"

    id: Mapped[intpk]
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_by_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    submitted_at: Mapped[created_at]
    identity_index: Mapped[str] = mapped_column(String(64))
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    police_record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    state: Mapped[CaseSyncState] = mapped_column(enum_type(CaseSyncState, "case_sync_state"))
    # Declining is a code, never free text.
    decline_reason: Mapped[str | None] = mapped_column(String(40))
    answer_record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))
    answered_at: Mapped[dt.datetime | None]

    meeting: Mapped[Meeting] = relationship()
    child: Mapped[Child] = relationship()

    # Once per meeting and submitting agency: a refusal because another agency submitted the
    # number would tell that it is a case or a proposal (issue 19).
    __table_args__ = (
        UniqueConstraint(
            "meeting_id",
            "submitted_by_agency_id",
            "identity_index",
            name="uq_case_sync_entries_meeting_agency_index",
        ),
    )


class EmailStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry; still shown in the app
    SKIPPED = "skipped"  # the user has e-mail off, or SMTP is not configured


class Notification(Base):
    """The outbox. Subjects and bodies say only that something needs attention, with a link:
    no names, no pseudonyms, no content."""

    __tablename__ = "notifications"

    id: Mapped[intpk]
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[created_at]
    read_at: Mapped[dt.datetime | None]
    email_status: Mapped[EmailStatus] = mapped_column(
        enum_type(EmailStatus, "email_status"), default=EmailStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    # False when the recipient switched this kind off in the app but kept its e-mail: the row
    # is then only the e-mail's outbox entry, not listed or counted in the app.
    in_app: Mapped[bool] = mapped_column(default=True, server_default=true())

    recipient: Mapped[User] = relationship()

    __table_args__ = (
        Index("ix_notifications_recipient_id_read_at", "recipient_id", "read_at"),
        Index("ix_notifications_email_status_next_attempt_at", "email_status", "next_attempt_at"),
    )


class NotificationPreference(Base):
    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    email_enabled: Mapped[bool] = mapped_column(default=True)


class NotificationSetting(Base):
    """A user's choice for one kind of notification: shown in the app, sent by e-mail.
    No row: both on. ``NotificationPreference.email_enabled`` stays the switch for all e-mail."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), primary_key=True)
    in_app: Mapped[bool] = mapped_column(default=True)
    email: Mapped[bool] = mapped_column(default=True)


class CalendarFeedToken(Base):
    """A secret, revocable URL for a user's calendar feed; only its SHA-256 is stored."""

    __tablename__ = "calendar_feed_tokens"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[created_at]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]
