"""A structured assessment of a child and its areas.

The row holds what every member of the child's council may know (which instrument and version,
the day, the assessor and agency, which areas were not assessed); each assessed area's score and
comment is a sealed record of the assessing agency, one record per area, so that the agency can
disclose single areas. The overall level is sealed too (its own record). For the council's
suppressed counts the row also keeps the level code in ``overall_level_sealed``, sealed with the
installation's child-facts key like the child's birth date (``secrecy.records.sealing.
seal_assessment_level``) and opened only by ``secrecy.records.reveal.assessment_levels``, never
for a page about a child; gallring erases it (null) when it shreds the child's records
(``minutes.assessments.services.erase_levels``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.db import Base, Versioned, created_at, intpk
from coordination.models import Agency, Child, User


class Assessment(Versioned, Base):
    __tablename__ = "assessments"

    id: Mapped[intpk]
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    instrument_id: Mapped[str] = mapped_column(String(40))
    instrument_version: Mapped[str] = mapped_column(String(20))
    assessed_on: Mapped[dt.date]
    assessor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    overall_level_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    overall_record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    created_at: Mapped[created_at]

    child: Mapped[Child] = relationship()
    assessor: Mapped[User] = relationship()
    agency: Mapped[Agency] = relationship()
    areas: Mapped[list[AssessmentArea]] = relationship(
        back_populates="assessment", order_by="AssessmentArea.id", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_assessments_child_assessed", "child_id", "assessed_on"),)


class AssessmentArea(Base):
    """One area of an assessment: its sealed record, or none when it was not assessed."""

    __tablename__ = "assessment_areas"

    id: Mapped[intpk]
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    area_code: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))
    not_assessed: Mapped[bool] = mapped_column(default=False)

    assessment: Mapped[Assessment] = relationship(back_populates="areas")

    __table_args__ = (UniqueConstraint("assessment_id", "area_code"),)
