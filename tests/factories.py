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
    Council,
    CouncilKind,
    CouncilMembership,
    CouncilRole,
    Role,
    User,
)
from meetings.models import Meeting
from secrecy.disclosure.services import decide_disclosure
from secrecy.models import Disclosure, Record

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


def make_meeting(db: Session, council: Council, starts_at: dt.datetime, **fields: Any) -> Meeting:
    """A two-hour meeting of ``council`` (planned unless ``fields`` say otherwise)."""
    meeting = Meeting(
        council_id=council.id,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        **fields,
    )
    db.add(meeting)
    db.flush()
    return meeting


def disclose_under_21_rule(
    db: Session, actor: User, record: Record, recipient: Agency
) -> Disclosure:
    """``actor``'s decision to give ``record`` to ``recipient`` under the under-21 rule (10 kap.
    18 a § OSL), all four statements confirmed, with the shared test assessment."""
    return decide_disclosure(
        db, actor, record, recipient, "sol-police-u21", [0, 1, 2, 3], assessment=ASSESSED
    )
