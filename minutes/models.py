"""Minutes, per-child entries, approval (justering), agreed actions and their follow-up."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.db import Base, Versioned, created_at, enum_type, intpk
from coordination.models import Agency, Child, User
from meetings.models import Meeting


class MinutesStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # awaiting approval by the chair and the adjuster
    APPROVED = "approved"  # locked: nothing in it changes again


class Minutes(Versioned, Base):
    """The minutes of one meeting. ``version`` is the draft's version number: every change to
    the draft raises it, and a change made against an older version is a conflict."""

    __tablename__ = "minutes"

    id: Mapped[intpk]
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), unique=True)
    status: Mapped[MinutesStatus] = mapped_column(
        enum_type(MinutesStatus, "minutes_status"), default=MinutesStatus.DRAFT
    )
    adjuster_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[dt.datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None]
    # SHA-256 over the canonical approved content (ids and ciphertext digests, no plaintext);
    # also written to the audit log.
    digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[created_at]

    meeting: Mapped[Meeting] = relationship()
    adjuster: Mapped[User | None] = relationship(foreign_keys=[adjuster_id])
    entries: Mapped[list[MinutesEntry]] = relationship(
        back_populates="minutes", order_by="MinutesEntry.id"
    )
    approvals: Mapped[list[MinutesApproval]] = relationship(back_populates="minutes")


class ApprovalRole(enum.StrEnum):
    CHAIR = "chair"
    ADJUSTER = "adjuster"


class MinutesApproval(Base):
    __tablename__ = "minutes_approvals"

    id: Mapped[intpk]
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[ApprovalRole] = mapped_column(enum_type(ApprovalRole, "approval_role"))
    approved_at: Mapped[created_at]

    minutes: Mapped[Minutes] = relationship(back_populates="approvals")
    user: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("minutes_id", "role"),)


class EntryKind(enum.StrEnum):
    ENTRY = "entry"  # what an agency brought about the child
    DECISION = "decision"  # beslut


class AmendmentReason(enum.StrEnum):
    FACTUAL_ERROR = "factual_error"
    OMISSION = "omission"
    WRONG_CHILD = "wrong_child"
    OTHER = "other"


class MinutesEntry(Base):
    """One per-child entry of the minutes: a sealed record of the writer's agency. After
    approval a correction is a new entry (``amends_id``) with a reason: "Rättelse"."""

    __tablename__ = "minutes_entries"

    id: Mapped[intpk]
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    kind: Mapped[EntryKind] = mapped_column(enum_type(EntryKind, "entry_kind"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("minutes_entries.id"))
    amendment_reason: Mapped[AmendmentReason | None] = mapped_column(
        enum_type(AmendmentReason, "amendment_reason")
    )
    # A save that lost a version race is kept, marked as the conflicting version of this entry.
    conflict_with_id: Mapped[int | None] = mapped_column(ForeignKey("minutes_entries.id"))

    minutes: Mapped[Minutes] = relationship(back_populates="entries")
    child: Mapped[Child] = relationship()


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_DONE = "not_done"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset({ActionStatus.OPEN, ActionStatus.IN_PROGRESS})


class NotDoneReason(enum.StrEnum):
    CIRCUMSTANCES_CHANGED = "circumstances_changed"
    NOT_CARRIED_OUT = "not_carried_out"


class AgreedAction(Versioned, Base):
    """An agreed action (överenskommen åtgärd). Metadata (child, responsible agency, due date,
    status) is visible to every member of the council; the description is a sealed record
    disclosed to the responsible agency under a basis the engine accepts."""

    __tablename__ = "agreed_actions"

    id: Mapped[intpk]
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    description_record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    responsible_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    responsible_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_on: Mapped[dt.date]
    status: Mapped[ActionStatus] = mapped_column(
        enum_type(ActionStatus, "action_status"), default=ActionStatus.OPEN
    )
    not_done_reason: Mapped[NotDoneReason | None] = mapped_column(
        enum_type(NotDoneReason, "not_done_reason")
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]
    closed_at: Mapped[dt.datetime | None]

    child: Mapped[Child] = relationship()
    meeting: Mapped[Meeting] = relationship()
    responsible_agency: Mapped[Agency] = relationship()
    responsible_user: Mapped[User | None] = relationship(foreign_keys=[responsible_user_id])
    updates: Mapped[list[ActionUpdate]] = relationship(
        back_populates="action", order_by="ActionUpdate.id"
    )

    __table_args__ = (
        Index("ix_agreed_actions_agency_status_due", "responsible_agency_id", "status", "due_on"),
        Index("ix_agreed_actions_child_status", "child_id", "status"),
        Index("ix_agreed_actions_status_due", "status", "due_on"),
    )


class ActionUpdate(Base):
    """One status change with its comment (a sealed record of the updater's agency)."""

    __tablename__ = "action_updates"

    id: Mapped[intpk]
    action_id: Mapped[int] = mapped_column(ForeignKey("agreed_actions.id"), index=True)
    from_status: Mapped[ActionStatus] = mapped_column(enum_type(ActionStatus, "from_status"))
    to_status: Mapped[ActionStatus] = mapped_column(enum_type(ActionStatus, "to_status"))
    comment_record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]

    action: Mapped[AgreedAction] = relationship(back_populates="updates")
