"""Sealed records and the keys that open them.

A record's content is encrypted under its own data key; the data key is stored wrapped once per
agency that may read it (``RecordKey``); agency keys are stored wrapped by the master key
(``AgencyKey``), which never enters the database. No wrapped key for an agency means that
agency cannot read the record, whatever any other table says.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.db import Base, created_at, intpk
from coordination.models import Agency, Child, User


class AgencyKey(Base):
    __tablename__ = "agency_keys"

    id: Mapped[intpk]
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    version: Mapped[int]
    master_version: Mapped[int]
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]

    __table_args__ = (UniqueConstraint("agency_id", "version"),)


class SystemKey(Base):
    """Keys of the installation itself (the blind-index key, the child-facts key), wrapped by
    the master key like agency keys, so a master rotation only re-wraps them."""

    __tablename__ = "system_keys"

    purpose: Mapped[str] = mapped_column(String(40), primary_key=True)
    master_version: Mapped[int]
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[created_at]


class Record(Base):
    """One piece of information about a child. Append-only: a correction supersedes."""

    __tablename__ = "records"

    id: Mapped[intpk]
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    owner_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    category: Mapped[str] = mapped_column(String(40))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"), unique=True)
    superseded_at: Mapped[dt.datetime | None]
    # nonce || AES-256-GCM ciphertext; None once shredded.
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    shredded_at: Mapped[dt.datetime | None]

    child: Mapped[Child] = relationship()
    owner_agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)
    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    keys: Mapped[list[RecordKey]] = relationship(
        back_populates="record", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_records_child_id_category", "child_id", "category"),)

    @property
    def is_superseded(self) -> bool:
        return self.superseded_at is not None

    @property
    def is_shredded(self) -> bool:
        return self.shredded_at is not None

    def __repr__(self) -> str:
        return f"<Record {self.id} {self.category}>"


class RecordKey(Base):
    """A record's data key wrapped for one agency (the owner, or a recipient of a disclosure)."""

    __tablename__ = "record_keys"

    record_id: Mapped[int] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True, index=True)
    agency_key_version: Mapped[int]
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[created_at]

    record: Mapped[Record] = relationship(back_populates="keys")
