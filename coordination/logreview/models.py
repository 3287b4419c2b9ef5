"""The monthly log review's sign-off record."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coordination.db import Base, UTCDateTime, enum_type, intpk


class ReviewOutcome(enum.StrEnum):
    """The auditor's conclusion on a month: a code, never free text (the log holds none)."""

    NO_DEVIATIONS = "inga_avvikelser"
    DEVIATIONS_INVESTIGATED = "avvikelser_utredda"
    DEVIATIONS_REPORTED = "avvikelser_rapporterade"


class LogReview(Base):
    """An agency's signed-off monthly log review; one per agency and month."""

    __tablename__ = "log_reviews"

    id: Mapped[intpk]
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    # The first day of the month reviewed.
    month: Mapped[dt.date]
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[ReviewOutcome | None] = mapped_column(
        enum_type(ReviewOutcome, "review_outcome")
    )

    __table_args__ = (UniqueConstraint("agency_id", "month"),)
