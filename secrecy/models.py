"""Sealed records and the keys that open them.

A record's content is encrypted under its own data key; the data key is stored wrapped once per
agency that may read it (``RecordKey``); agency keys are stored wrapped by the master key
(``AgencyKey``), which never enters the database. No wrapped key for an agency means that
agency cannot read the record, whatever any other table says.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.db import Base, Versioned, created_at, enum_type, intpk
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
    # True where even the record's existence is secret (social services' answer to "is this
    # young person known?"): to an agency it has not been disclosed to, it is not listed at
    # all, rather than listed as withheld.
    existence_secret: Mapped[bool] = mapped_column(default=False, server_default="0")

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


class ConsentRevokeReason(enum.StrEnum):
    WITHDRAWN_BY_GUARDIAN = "withdrawn_by_guardian"
    WITHDRAWN_BY_YOUNG_PERSON = "withdrawn_by_young_person"
    REGISTERED_IN_ERROR = "registered_in_error"
    OTHER = "other"


class Consent(Versioned, Base):
    """A written consent on file (samtycke). Who signed and what it covers are plain metadata
    for the policy engine; the signers' names, the purpose and where the signed form is kept
    are a sealed record (category ``consent``) of the registering agency."""

    __tablename__ = "consents"

    id: Mapped[intpk]
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    registered_by_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    registered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[created_at]
    signers: Mapped[list[str]] = mapped_column(JSON)
    two_guardians: Mapped[bool]
    agency_ids: Mapped[list[int]] = mapped_column(JSON)
    agency_kinds: Mapped[list[str]] = mapped_column(JSON)
    categories: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[dt.date]
    valid_to: Mapped[dt.date | None]
    details_record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    # A recorded maturity assessment (12 kap. 3 § OSL): the young person, 15–17, may consent
    # alone where the council's policy allows it. The assessment's text is in the details.
    maturity_assessed_on: Mapped[dt.date | None]
    maturity_assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_on: Mapped[dt.date | None]
    revoked_at: Mapped[dt.datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoke_reason: Mapped[ConsentRevokeReason | None] = mapped_column(
        enum_type(ConsentRevokeReason, "consent_revoke_reason", validate_strings=False)
    )

    child: Mapped[Child] = relationship()
    registered_by_agency: Mapped[Agency] = relationship(foreign_keys=[registered_by_agency_id])


class DisclosureEndReason(enum.StrEnum):
    NO_LONGER_NEEDED = "no_longer_needed"
    DECIDED_IN_ERROR = "decided_in_error"
    OTHER = "other"


class Disclosure(Base):
    """The owner agency's decision that one record may be read by one recipient agency under
    one legal basis. Revoking or lapsing ends it; the row stays as history."""

    __tablename__ = "disclosures"

    id: Mapped[intpk]
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    recipient_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    basis_id: Mapped[str] = mapped_column(String(60))
    # The statements as they read when the discloser confirmed them.
    confirmations: Mapped[list[str]] = mapped_column(JSON)
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consents.id"), index=True)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[created_at]
    revoked_at: Mapped[dt.datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoke_reason: Mapped[DisclosureEndReason | None] = mapped_column(
        enum_type(DisclosureEndReason, "disclosure_end_reason", validate_strings=False)
    )
    # Set by the sweep when the basis lapsed (consent revoked or expired, age, rule ended).
    lapsed_at: Mapped[dt.datetime | None]
    lapse_reason: Mapped[str | None] = mapped_column(String(40))
    # The discloser's written assessment of the case: a sealed record of the owner agency
    # (category ``disclosure_assessment``), one per decision or per batch of decisions. None
    # for decisions made before assessments were recorded, and for the meeting flows that do
    # not ask for one yet.
    assessment_record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"), index=True)
    # The rule set the decision was taken under (``secrecy.policy.rules.ruleset_version``).
    ruleset_version: Mapped[str | None] = mapped_column(String(80))
    # The information request this decision answers, if any.
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("information_requests.id"), index=True
    )

    record: Mapped[Record] = relationship(foreign_keys=[record_id])
    assessment_record: Mapped[Record | None] = relationship(foreign_keys=[assessment_record_id])
    recipient_agency: Mapped[Agency] = relationship(foreign_keys=[recipient_agency_id])
    decided_by: Mapped[User] = relationship(foreign_keys=[decided_by_id])
    consent: Mapped[Consent | None] = relationship()

    __table_args__ = (
        Index("ix_disclosures_record_id_recipient", "record_id", "recipient_agency_id"),
        # Recipient first: a reveal asks for a page's records to one agency, and the lists of
        # an agency's disclosures ask by recipient alone (migration u20b1discidx).
        Index("ix_disclosures_recipient_record", "recipient_agency_id", "record_id"),
        # At most one live decision per record and recipient.
        Index(
            "uq_disclosures_live",
            "record_id",
            "recipient_agency_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL AND lapsed_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL AND lapsed_at IS NULL"),
        ),
    )

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.lapsed_at is None


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    REFUSED = "refused"


class RequestUrgency(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class InformationRequest(Versioned, Base):
    """A member of one agency asks another agency of the child's council for information
    (begäran om uppgifter). The purpose is a sealed record of the requesting agency, wrapped
    for the asked agency; the asked agency's answer (a note, or the reason for a refusal) is a
    sealed record of its own, wrapped for the requester. What is disclosed in answer is
    ordinary disclosure decisions (``Disclosure.request_id``)."""

    __tablename__ = "information_requests"

    id: Mapped[intpk]
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    requesting_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    owner_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    created_at: Mapped[created_at]
    # None: "what you hold about the child".
    category: Mapped[str | None] = mapped_column(String(40))
    basis_id: Mapped[str | None] = mapped_column(String(60))
    urgency: Mapped[RequestUrgency] = mapped_column(
        enum_type(RequestUrgency, "request_urgency", length=20, validate_strings=False)
    )
    details_record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    status: Mapped[RequestStatus] = mapped_column(
        enum_type(RequestStatus, "request_status", length=20, validate_strings=False),
        default=RequestStatus.OPEN,
    )
    closed_at: Mapped[dt.datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answer_record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))
    # When the job told the asked agency's coordinator that the request is overdue.
    flagged_at: Mapped[dt.datetime | None]

    child: Mapped[Child] = relationship()
    requesting_agency: Mapped[Agency] = relationship(foreign_keys=[requesting_agency_id])
    owner_agency: Mapped[Agency] = relationship(foreign_keys=[owner_agency_id])
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])

    @property
    def is_open(self) -> bool:
        return self.status is RequestStatus.OPEN


class AgeException(Versioned, Base):
    """An exception (avsteg) from the council's target age range for one child: enrolled
    outside it, or kept on past it. The texts (the reason and the stigmatisation
    consideration) are a sealed record of the agency that recorded it, normally the enrolling
    agency (category ``age_exception``); who decided and the dates are plain facts."""

    __tablename__ = "age_exceptions"

    id: Mapped[intpk]
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    # The child's completed years and the range on the day of the decision.
    age_at_decision: Mapped[int]
    range_min: Mapped[int | None]
    range_max: Mapped[int | None]
    # Who decided (a title or a name of staff, never the child's), and when.
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_on: Mapped[dt.date]
    review_on: Mapped[dt.date] = mapped_column(index=True)
    details_record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]
    # Set by the reminder job once the review date's notice went out.
    review_notified_at: Mapped[dt.datetime | None]

    child: Mapped[Child] = relationship()
    details_record: Mapped[Record] = relationship()
    recorded_by: Mapped[User] = relationship()
