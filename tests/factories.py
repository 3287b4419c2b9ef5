"""factory_boy factories. The session is set per test by the ``db`` fixture."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.orm import Session

from coordination import security
from coordination.models import (
    Agency,
    AgencyKind,
    Child,
    Council,
    CouncilKind,
    CouncilMembership,
    CouncilRole,
    Role,
    User,
)
from meetings.models import AgendaItem, Meeting
from secrecy.disclosure.services import decide_disclosure
from secrecy.models import Disclosure, Record
from secrecy.records.children import EnrolmentData, enrol_child

PASSWORD = "rätt-häst-batteri-häftklammer"
# The written assessment a test's disclosure decision carries (every decision has one).
ASSESSED = "Uppgiften behövs av mottagaren för rådets planering i det här fallet nu."
# argon2 is slow by design; hash the shared test password once per run.
PASSWORD_HASH = security.hash_password(PASSWORD)


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = None
        sqlalchemy_session_persistence = "flush"


class AgencyFactory(_Base):
    class Meta:
        model = Agency

    kind = AgencyKind.SOCIAL_SERVICES
    name = factory.Sequence(lambda n: f"Myndighet {n}")
    active = True


class UserFactory(_Base):
    class Meta:
        model = User

    agency = factory.SubFactory(AgencyFactory)
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Sequence(lambda n: f"Användare {n}")
    password_hash = PASSWORD_HASH
    active = True

    @factory.post_generation
    def roles(self, create: bool, extracted: set[Role] | None, **kwargs: object) -> None:
        self.set_roles(set(extracted) if extracted else {Role.MEMBER})
        if create:
            UserFactory._meta.sqlalchemy_session.flush()


class CouncilFactory(_Base):
    class Meta:
        model = Council

    kind = CouncilKind.SSPF
    name = factory.Sequence(lambda n: f"Forum {n}")
    area = "Testområde"
    code = factory.Sequence(lambda n: f"T{n:03d}")

    @factory.post_generation
    def agencies(self, create: bool, extracted: list[Agency] | None, **kwargs: object) -> None:
        self.agencies = list(extracted or [])
        if create:
            CouncilFactory._meta.sqlalchemy_session.flush()


class MembershipFactory(_Base):
    class Meta:
        model = CouncilMembership

    council = factory.SubFactory(CouncilFactory)
    user = factory.SubFactory(UserFactory)
    council_role = CouncilRole.MEMBER


ALL_FACTORIES = (AgencyFactory, UserFactory, CouncilFactory, MembershipFactory)


def days_from_now(days: int) -> dt.datetime:
    """The present moment in UTC, to the whole second, moved ``days`` days on."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=days)


def make_meeting(
    db: Session,
    council: Council,
    starts_at: dt.datetime,
    *,
    ends_at: dt.datetime | None = None,
    **fields: Any,
) -> Meeting:
    """A meeting of ``council``, two hours long unless ``ends_at`` is given (planned unless
    ``fields`` say otherwise)."""
    meeting = Meeting(
        council_id=council.id,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2) if ends_at is None else ends_at,
        **fields,
    )
    db.add(meeting)
    db.flush()
    return meeting


def put_on_agenda(
    db: Session,
    meeting: Meeting,
    child: Child,
    *,
    position: int = 1,
    reason_category: str = "meeting_note",
    **fields: Any,
) -> AgendaItem:
    """An agenda item for ``child`` on ``meeting``, written as a row (no brief, no audit event
    unless ``fields`` add one)."""
    item = AgendaItem(
        meeting_id=meeting.id,
        child_id=child.id,
        position=position,
        reason_category=reason_category,
        **fields,
    )
    db.add(item)
    db.flush()
    return item


def enrol(
    db: Session,
    user: User,
    council: Council,
    number: str = "20121212-1212",
    given: str = "Kalle",
    family: str = "Hemligsson",
) -> Child:
    """The child ``given family`` (personnummer ``number``) enrolled on ``council`` by ``user``."""
    return enrol_child(db, user, council, EnrolmentData(given, family, number))


def member_of_new_agency(
    db: Session, council: Council, kind: AgencyKind, name: str, **user_fields: Any
) -> User:
    """A member of ``council`` from a new agency (``kind``, ``name``) that has just joined it;
    the session is expired so that the council and its agencies load afresh."""
    agency = AgencyFactory(kind=kind, name=name)
    council.agencies.append(agency)
    user: User = UserFactory(agency=agency, **user_fields)
    MembershipFactory(council=council, user=user)
    db.flush()
    db.expire_all()
    return user


def disclose_under_21_rule(
    db: Session, actor: User, record: Record, recipient: Agency
) -> Disclosure:
    """``actor``'s decision to give ``record`` to ``recipient`` under the under-21 rule (10 kap.
    18 a § OSL), all four statements confirmed, with the shared test assessment."""
    return decide_disclosure(
        db, actor, record, recipient, "sol-police-u21", [0, 1, 2, 3], assessment=ASSESSED
    )
