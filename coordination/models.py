"""Agencies, users, councils and memberships: who is who, and who sits where."""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    String,
    Table,
    UniqueConstraint,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from coordination.db import Base, Versioned, created_at, enum_type, intpk, str200


class AgencyKind(enum.StrEnum):
    SOCIAL_SERVICES = "social_services"
    POLICE = "police"
    SCHOOL = "school"
    LEISURE = "leisure"
    DISABILITY_SUPPORT = "disability_support"
    HEALTHCARE = "healthcare"
    OTHER = "other"


class Role(enum.StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    MEMBER = "member"
    AUDITOR = "auditor"


class CouncilKind(enum.StrEnum):
    BOB = "bob"
    SSPF = "sspf"
    SIG = "sig"


class CouncilRole(enum.StrEnum):
    COORDINATOR = "coordinator"
    MEMBER = "member"


class Agency(Versioned, Base):
    __tablename__ = "agencies"

    id: Mapped[intpk]
    kind: Mapped[AgencyKind] = mapped_column(enum_type(AgencyKind, "agency_kind"))
    name: Mapped[str200] = mapped_column(unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    # False for organisations outside OSL (independent schools, civil society): information
    # handed to them loses its secrecy, so the default rules disclose to them on consent only.
    osl_applies: Mapped[bool] = mapped_column(default=True, server_default="1")
    # The authority (myndighet) the agency belongs to: its board (nämnd) and organisation
    # number. Disclosure happens between authorities; unrecorded, the agency counts as an
    # authority of its own. A municipality's boards share one organisation number, so the board
    # names the authority. Inside one authority, secrecy still applies between independent
    # branches of activity (8 kap. 2 § OSL): ``independent_branch``.
    authority_name: Mapped[str | None] = mapped_column(String(200))
    authority_org_number: Mapped[str | None] = mapped_column(String(11))
    independent_branch: Mapped[bool] = mapped_column(default=True, server_default="1")
    # The assurance level (tillitsnivå, "loa2".."loa4") a session needs to open records about
    # children, on top of the deployment's ASSURANCE_REQUIRED_FOR_RECORDS; None: that alone.
    required_assurance: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[created_at]

    def __repr__(self) -> str:
        return f"<Agency {self.id} {self.kind}>"

    @property
    def authority_key(self) -> str | None:
        """One authority's identity (organisation number and board), None if not recorded."""
        if not (self.authority_name and self.authority_org_number):
            return None
        return f"{self.authority_org_number}|{' '.join(self.authority_name.casefold().split())}"


class User(Versioned, Base):
    __tablename__ = "users"

    id: Mapped[intpk]
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str200]
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    # Sealed with a key derived from the master key; see coordination.security.
    totp_secret_sealed: Mapped[bytes | None]
    totp_confirmed_at: Mapped[dt.datetime | None]
    totp_last_step: Mapped[int | None]
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    last_login_at: Mapped[dt.datetime | None]
    password_changed_at: Mapped[dt.datetime | None]
    # A start password from an administrator (a new account, a reset): the user sets their own
    # at the next log-in before anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Created on a first log-in through an identity provider (just-in-time provisioning):
    # inactive, without roles or memberships, until an administrator or coordinator approves.
    pending_approval: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Part of the login cookie's user id: raising it ends every session of the user.
    session_epoch: Mapped[int] = mapped_column(default=1)
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[created_at]

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserRole.role"
    )
    memberships: Mapped[list[CouncilMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    __table_args__ = (UniqueConstraint("email"),)

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(row.role for row in self.role_rows)

    def set_roles(self, roles: set[Role]) -> None:
        keep = [row for row in self.role_rows if row.role in roles]
        have = {row.role for row in keep}
        self.role_rows = keep + [UserRole(role=role) for role in sorted(roles - have)]

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    @property
    def has_two_factor(self) -> bool:
        return self.totp_confirmed_at is not None

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active and self.agency.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}.{self.session_epoch}"

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"), primary_key=True)


class RecoveryCode(Base):
    """One-time two-factor recovery codes, stored as SHA-256 of 80 random bits each."""

    __tablename__ = "recovery_codes"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[dt.datetime | None]


council_agencies = Table(
    "council_agencies",
    Base.metadata,
    Column("council_id", ForeignKey("councils.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agencies.id"), primary_key=True),
)


class Council(Versioned, Base):
    __tablename__ = "councils"

    id: Mapped[intpk]
    kind: Mapped[CouncilKind] = mapped_column(enum_type(CouncilKind, "council_kind"))
    name: Mapped[str200] = mapped_column(unique=True)
    area: Mapped[str200]
    # Short upper-case code used in children's pseudonyms, e.g. NORR in NORR-2026-014.
    code: Mapped[str] = mapped_column(String(12), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Gallring: records of a closed case are crypto-shredded this many months after closing.
    retention_months: Mapped[int] = mapped_column(default=12, server_default="12")
    # The council's local consent policy (SECRECY.md section 3). False (the default): a young
    # person of 15–17 consents together with the guardian(s). True: a recorded maturity
    # assessment lets a young person of 15–17 consent alone (12 kap. 3 § OSL).
    maturity_consent: Mapped[bool] = mapped_column(default=False, server_default="0")
    # An information request left open longer than this is flagged to the asked agency's
    # coordinator (secrecy's nightly job).
    request_flag_days: Mapped[int] = mapped_column(default=14, server_default="14")
    # Days after a structured assessment when a reassessment is due and its assessor is
    # reminded (minutes.assessments.jobs); None: no reminders.
    assessment_interval_days: Mapped[int | None]

    # The target age range (målgruppsålder), inclusive completed years; None: open at that
    # end. Until a coordinator sets one (``age_range_set``) the council kind's default applies
    # (secrecy.agerules.ranges: SIG 12–20, Bob up to the 10 kap. 18 a § OSL limit).
    age_range_set: Mapped[bool] = mapped_column(default=False, server_default="0")
    age_min: Mapped[int | None]
    age_max: Mapped[int | None]
    created_at: Mapped[created_at]

    agencies: Mapped[list[Agency]] = relationship(
        secondary=council_agencies, order_by=Agency.name, lazy="selectin"
    )
    memberships: Mapped[list[CouncilMembership]] = relationship(
        back_populates="council", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint(
            "retention_months >= 0 AND retention_months <= 600", name="retention_months_range"
        ),
        CheckConstraint(
            "(age_min IS NULL OR (age_min >= 0 AND age_min <= 99)) "
            "AND (age_max IS NULL OR (age_max >= 0 AND age_max <= 99)) "
            "AND (age_min IS NULL OR age_max IS NULL OR age_min <= age_max)",
            name="age_range_order",
        ),
    )

    def __repr__(self) -> str:
        return f"<Council {self.id} {self.code}>"


class CouncilMembership(Base):
    __tablename__ = "council_memberships"

    id: Mapped[intpk]
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    council_role: Mapped[CouncilRole] = mapped_column(
        enum_type(CouncilRole, "council_role"), default=CouncilRole.MEMBER
    )
    created_at: Mapped[created_at]

    council: Mapped[Council] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")

    __table_args__ = (UniqueConstraint("council_id", "user_id"),)


class ChildStatus(enum.StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"
    SHREDDED = "shredded"
    # Bob case sync: the police proposed the young person; social services accept or decline.
    PROPOSED = "proposed"
    DECLINED = "declined"


class CloseReason(enum.StrEnum):
    """Why a case was closed: codes, never free text (the log and the list stay free of content)."""

    GOALS_REACHED = "goals_reached"
    MOVED = "moved"
    AGE_LIMIT = "age_limit"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    TRANSFERRED = "transferred"
    OTHER = "other"
    # Closed by the council's coordinators as a duplicate of the case that holds the number
    # (``secrecy.duplicates``); not a reason the close form offers.
    DUPLICATE = "duplicate"


class Child(Versioned, Base):
    """One young person on a council's caseload, known by a pseudonym only.

    Identity (names, personnummer, guardians, address) is a sealed record owned by the enrolling
    agency. The row holds the blind index (a keyed hash of the personnummer, to refuse duplicate
    enrolments) and the birth date sealed under a system key, which the policy engine needs for
    age limits. Both are removed when the child's records are shredded.

    A held duplicate (``secrecy.duplicates``) is a case enrolled with a number that is another
    case of the council already, by an agency that may not be told so: its ``identity_index``
    stays NULL (one indexed case per number and council) and ``duplicate_of_id`` points to the
    case that holds the number. The council's coordinators close it as a duplicate or keep it
    as a case of its own (``duplicate_kept_at``); the pointer stays, so the kept case still
    answers for the number as any case of the submitting agency would. Nothing shown to the
    submitting agency reads either column.
    """

    __tablename__ = "children"

    id: Mapped[intpk]
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[ChildStatus] = mapped_column(
        enum_type(ChildStatus, "child_status"), default=ChildStatus.ACTIVE
    )
    enrolled_on: Mapped[dt.date]
    closed_on: Mapped[dt.date | None]
    close_reason: Mapped[CloseReason | None] = mapped_column(enum_type(CloseReason, "close_reason"))
    shredded_at: Mapped[dt.datetime | None]
    enrolling_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    identity_index: Mapped[str | None] = mapped_column(String(64))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("children.id"), index=True)
    duplicate_kept_at: Mapped[dt.datetime | None]
    birth_date_sealed: Mapped[bytes | None]
    created_at: Mapped[created_at]

    council: Mapped[Council] = relationship(lazy="joined", innerjoin=True)
    enrolling_agency: Mapped[Agency] = relationship()

    __table_args__ = (UniqueConstraint("council_id", "identity_index"),)

    def __repr__(self) -> str:
        return f"<Child {self.id}>"


class PseudonymCounter(Base):
    """The last number handed out per council and year; locked while a new one is taken, so a
    pseudonym is never reused, not even after the child's records are shredded."""

    __tablename__ = "pseudonym_counters"

    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


__all__ = [
    "Agency",
    "AgencyKind",
    "Child",
    "ChildStatus",
    "CloseReason",
    "Council",
    "CouncilKind",
    "CouncilMembership",
    "CouncilRole",
    "PseudonymCounter",
    "RecoveryCode",
    "Role",
    "User",
    "UserRole",
    "council_agencies",
]


class JobRun(Base):
    """Bookkeeping of the scheduler's sweeps (last start/finish, outcome), for the status page
    and the benchmarks; the jobs themselves are idempotent sweeps over due rows."""

    __tablename__ = "job_runs"

    id: Mapped[intpk]
    job_id: Mapped[str] = mapped_column(String(60), index=True)
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(40))
    items: Mapped[int] = mapped_column(default=0)


class KeyGeneration(Base):
    """One row: a number every worker's cache of unwrapped keys (``secrecy.records.crypto``)
    compares with its own. Moved on by key and master rotation, an agency's (de)activation
    and a restore (``bump_key_generation``); a worker that reads another number than it holds
    forgets every key it keeps."""

    __tablename__ = "key_generations"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger)


# Set in a session's info by bump_key_generation: its transaction publishes no key to the cache.
KEY_GENERATION_BUMPED = "samverkan.key_generation_bumped"


def bump_key_generation(session: Session) -> None:
    """Invalidate every worker's cached keys once this transaction commits. The new number is
    random, not the next one: a restored database (an older number) can never meet a cache
    that still holds the same number with other keys behind it."""
    session.info[KEY_GENERATION_BUMPED] = True
    session.execute(
        update(KeyGeneration)
        .where(KeyGeneration.id == 1)
        .values(generation=secrets.randbelow(2**62) + 1)
    )
