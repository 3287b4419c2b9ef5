"""Children on a council's caseload: enrolment with a pseudonym, the sealed identity and its
correction, the same child in the actor's other councils, closing and reopening the case.

Services take ``(session, actor, ...)``, check access, change, flush and append their audit
event in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.db import today_local
from coordination.errors import PermissionDenied, ServiceError
from coordination.models import (
    Child,
    ChildStatus,
    CloseReason,
    Council,
    CouncilMembership,
    CouncilRole,
    PseudonymCounter,
    User,
)
from coordination.policy import membership_in
from secrecy.agerules import services as agerules
from secrecy.agerules.ranges import age_range
from secrecy.duplicates import services as duplicates
from secrecy.models import Record
from secrecy.policy.categories import IDENTITY
from secrecy.policy.engine import age_on
from secrecy.records import sealing
from secrecy.records.identity import IdentityNumber, parse_identity_number
from secrecy.records.reveal import readable_record_ids
from secrecy.records.services import (
    add_sealed_record,
    correct_record,
    current_identity_record,
    current_identity_records,
    require_child_access,
    require_council_member,
)
from secrecy.tags import SecrecyTag


def can_manage_case(actor: User, child: Child) -> bool:
    """Closing and reopening a case is for the enrolling agency and the council's coordinators."""
    membership = membership_in(actor, child.council)
    if membership is None or not actor.is_active:
        return False
    return (
        actor.agency_id == child.enrolling_agency_id
        or membership.council_role is CouncilRole.COORDINATOR
    )


@dataclass
class Guardian:
    name: str
    phone: str = ""
    email: str = ""


@dataclass
class EnrolmentData:
    given_names: str
    family_name: str
    personnummer: str
    guardians: list[Guardian] = field(default_factory=list)
    address: str = ""
    # An exception (avsteg) from the council's target age range: required when the child's
    # age is outside it, ignored otherwise.
    exception: agerules.ExceptionData | None = None

    def require_names(self) -> None:
        """Given and family names are required: refused next to the field without one."""
        if not self.given_names.strip():
            raise ServiceError(_l("Ange förnamn."), field="given_names")
        if not self.family_name.strip():
            raise ServiceError(_l("Ange efternamn."), field="family_name")

    def identity_content(self, number: IdentityNumber) -> dict[str, Any]:
        """The content of the child's sealed identity record: the names, the parsed number,
        the guardians given a name, the address."""
        return {
            "given_names": self.given_names.strip(),
            "family_name": self.family_name.strip(),
            "personnummer": number.normalised,
            "coordination_number": number.coordination_number,
            "birth_date": number.birth_date.isoformat(),
            "guardians": [
                {"name": g.name.strip(), "phone": g.phone.strip(), "email": g.email.strip()}
                for g in self.guardians
                if g.name.strip()
            ],
            "address": self.address.strip(),
        }


def next_pseudonym(session: Session, council: Council, year: int) -> str:
    """``<CODE>-<YEAR>-<NNN>`` from a locked per-council, per-year counter: never reused."""
    stmt = (
        select(PseudonymCounter)
        .where(PseudonymCounter.council_id == council.id, PseudonymCounter.year == year)
        .with_for_update()
    )
    counter = session.scalars(stmt).one_or_none()
    if counter is None:
        try:
            with session.begin_nested():
                session.add(PseudonymCounter(council_id=council.id, year=year, last_number=0))
        except IntegrityError:
            pass  # another enrolment created the row first; lock and use it below
        counter = session.scalars(stmt).one()
    counter.last_number += 1
    return f"{council.code}-{year}-{counter.last_number:03d}"


def new_case(
    session: Session,
    actor: User,
    council: Council,
    status: ChildStatus,
    index: str,
    holder: Child | None,
    today: dt.date,
) -> Child:
    """A case of the actor's agency under the council's next pseudonym, not yet added: with
    the number's blind index, or, held as a duplicate of ``holder`` (``secrecy.duplicates``),
    without one and pointing at the holder."""
    return Child(
        council=council,
        pseudonym=next_pseudonym(session, council, today.year),
        status=status,
        enrolled_on=today,
        enrolling_agency_id=actor.agency_id,
        identity_index=index if holder is None else None,
        duplicate_of_id=holder.id if holder is not None else None,
    )


def may_learn_of_case(session: Session, actor: User, child: Child) -> bool:
    """Whether the actor may be told that a typed-in number is the child's (its pseudonym):
    the agency that holds the child's identity (the enrolling agency, or the owner of the
    current identity record) and the council's coordinators. To anyone else the enrolment and
    correction forms must not work as a look-up of who is a case."""
    membership = membership_in(actor, child.council)
    if membership is None or not actor.is_active:
        return False
    if membership.council_role is CouncilRole.COORDINATOR:
        return True
    if actor.agency_id == child.enrolling_agency_id:
        return True
    identity = current_identity_record(session, child)
    return identity is not None and identity.owner_agency_id == actor.agency_id


# A refusal that names no case: the words for the concurrent enrolment below.
NOT_ENROLLED = _l("Barnet kunde inte skrivas in. Kontakta forumets samordnare.")


class DuplicateChild(ServiceError):
    """The number is a case of the council already, and the actor may be told which."""

    def __init__(self, duplicate: Child, council: Council) -> None:
        super().__init__(
            _l(
                "Barnet finns redan i forumet som %(pseudonym)s. Öppna det ärendet i stället.",
                pseudonym=duplicate.pseudonym,
            ),
            field="personnummer",
        )
        self.child_id = duplicate.id
        self.council_id = council.id


def log_duplicate_refused(session: Session, actor: User, refusal: DuplicateChild) -> None:
    """The refused duplicate's audit event; a page that shows the refusal logs it again after
    the request's changes were rolled back."""
    record_event(
        session,
        actor,
        SecrecyTag.CHILD_DUPLICATE_REFUSED,
        object_type="child",
        object_ids=[refusal.child_id],
        details={"council_id": refusal.council_id},
    )


def case_with_number(
    session: Session, council_id: int, index: str, excluding: Child | None = None
) -> Child | None:
    """The council's case indexed by the number, if any (not ``excluding``)."""
    stmt = select(Child).where(Child.council_id == council_id, Child.identity_index == index)
    if excluding is not None:
        stmt = stmt.where(Child.id != excluding.id)
    return session.scalars(stmt).first()


def case_to_name(
    session: Session, actor: User, holder: Child, excluding: Child | None = None
) -> Child | None:
    """Of the council's cases with the holder's number (the holder, then the cases held or
    kept against it), the first the actor may be told of; None if none. An agency that holds a
    held case of the number is told of that case, as it would be of any case of its own."""
    if may_learn_of_case(session, actor, holder):
        return holder
    for case in duplicates.cases_of_number(session, holder):
        if case is not excluding and may_learn_of_case(session, actor, case):
            return case
    return None


def enrol_child(session: Session, actor: User, council: Council, data: EnrolmentData) -> Child:
    require_council_member(actor, council)
    if not council.active:
        raise ServiceError(_l("Forumet är inaktiverat."))
    number = parse_identity_number(data.personnummer)
    data.require_names()
    index = sealing.personnummer_index(session, number.normalised)
    holder = case_with_number(session, council.id, index)
    if holder is not None:
        told = case_to_name(session, actor, holder)
        if told is not None:
            refusal = DuplicateChild(told, council)
            log_duplicate_refused(session, actor, refusal)
            raise refusal
        # Everyone else enrols as if the number were new: the case is held for the
        # coordinators (secrecy.duplicates), and nothing the submitter sees differs.
    today = today_local()
    age = age_on(number.birth_date, today)
    council_range = age_range(council)
    exception = None
    if not council_range.contains(age):
        if data.exception is None or not data.exception.given:
            raise ServiceError(
                agerules.outside_range_message(council_range, age), field="exception_reason"
            )
        exception = agerules.check_exception(data.exception, age, today)
    child = new_case(session, actor, council, ChildStatus.ACTIVE, index, holder, today)
    try:
        with session.begin_nested():
            session.add(child)
            session.flush()
    except IntegrityError:
        # The same number enrolled at the same moment by someone else (unique per council).
        raise ServiceError(NOT_ENROLLED, field="personnummer") from None
    sealing.seal_birth_date(session, child, number.birth_date)
    record = add_sealed_record(session, actor, child, IDENTITY, data.identity_content(number))
    record_event(
        session,
        actor,
        SecrecyTag.CHILD_ENROL,
        on=child,
        details={"council_id": council.id, "identity_record_id": record.id},
    )
    if exception is not None:
        agerules.add_exception(session, actor, child, exception, age, council_range)
    if holder is not None:
        duplicates.note_held(session, actor, child, holder)
    return child


def other_councils_with_same_child(session: Session, actor: User, child: Child) -> Sequence[Child]:
    """Children with the same number in the actor's other councils (pseudonyms only), for an
    actor who may read the identity records of both: the link is derived from the
    personnummer, so it tells no more than the identities do. A member whose agency neither
    owns an identity nor holds a disclosure of it in force learns nothing of the link.

    A held duplicate has no index of its own: it links by its holder's, both ways, so the
    link looks as it would for a case enrolled with a new number."""
    index = duplicates.number_index(session, child)
    if index is None:
        return []
    member_of = select(CouncilMembership.council_id).where(CouncilMembership.user_id == actor.id)
    holders = select(Child.id).where(Child.identity_index == index)
    others = session.scalars(
        select(Child).where(
            or_(Child.identity_index == index, Child.duplicate_of_id.in_(holders)),
            Child.council_id != child.council_id,
            Child.status != ChildStatus.SHREDDED,
            Child.council_id.in_(member_of),
        )
    ).all()
    if not others:
        return []
    identities = {r.child_id: r for r in current_identity_records(session, [child, *others])}
    readable = readable_record_ids(session, actor, list(identities.values()))
    own = identities.get(child.id)
    if own is None or own.id not in readable:
        return []
    return [c for c in others if c.id in identities and identities[c.id].id in readable]


def correct_identity(session: Session, actor: User, record: Record, data: EnrolmentData) -> Record:
    """Correct the sealed identity; a changed personnummer gets a new blind index. A number
    that is another case of the council is refused, naming that case, to an actor who may be
    told of it (``case_to_name``); for anyone else the correction succeeds as for a new number
    and the case is held as a duplicate for the coordinators, as at enrolment."""
    if record.category != IDENTITY:
        raise ServiceError(_l("Det här är inte en identitetspost."))
    child = record.child
    # Access before anything else: the clash message below names another child's pseudonym.
    require_child_access(actor, child)
    if record.owner_agency_id != actor.agency_id:
        raise ServiceError(_l("Bara den myndighet som lämnade uppgiften kan rätta den."))
    if child.enrolling_agency_id != actor.agency_id:
        # The birth date and blind index drive every age limit and match: only the agency
        # responsible for the case changes them (a police copy from the case sync does not).
        raise ServiceError(_l("Identiteten rättas av den myndighet som ansvarar för ärendet."))
    number = parse_identity_number(data.personnummer)
    index = sealing.personnummer_index(session, number.normalised)
    holder = case_with_number(session, child.council_id, index, excluding=child)
    if holder is not None and child.duplicate_of_id == holder.id:
        holder = None  # the number the case is held (or kept) with already: no clash
        unchanged_duplicate = True
    else:
        unchanged_duplicate = False
    if holder is not None:
        told = case_to_name(session, actor, holder, excluding=child)
        if told is not None:
            raise ServiceError(
                _l("Personnumret hör till %(pseudonym)s i forumet.", pseudonym=told.pseudonym),
                field="personnummer",
            )
    data.require_names()
    correction = correct_record(session, actor, record, data.identity_content(number))
    if not unchanged_duplicate:
        _renumber(session, actor, child, index, holder)
    sealing.seal_birth_date(session, child, number.birth_date)
    return correction


def _renumber(
    session: Session, actor: User, child: Child, index: str, holder: Child | None
) -> None:
    """The case's number is now the one ``index`` stands for: held against ``holder`` (a case
    the actor may not be told of), or indexed as its own. A number the case held before goes
    to the oldest other case of it."""
    former_index = child.identity_index
    if holder is not None:
        duplicates.hold(session, actor, child, holder)
    else:
        duplicates.take_number(session, child, index, released_from=child.duplicate_of_id)
    if former_index is not None and former_index != index:
        duplicates.release_number(session, child, former_index)


def check_close(actor: User, child: Child) -> None:
    """Why the actor may not close the case now, raised; nothing is written."""
    if not can_manage_case(actor, child):
        raise PermissionDenied()
    if child.status is not ChildStatus.ACTIVE:
        raise ServiceError(_l("Ärendet är redan avslutat."))


def close_case(session: Session, actor: User, child: Child, reason: CloseReason) -> None:
    check_close(actor, child)
    child.status = ChildStatus.CLOSED
    child.closed_on = today_local()
    child.close_reason = reason
    session.flush()
    record_event(session, actor, SecrecyTag.CHILD_CLOSE, on=child, details={"reason": str(reason)})


def reopen_case(session: Session, actor: User, child: Child) -> None:
    if not can_manage_case(actor, child):
        raise PermissionDenied()
    if child.status is ChildStatus.SHREDDED:
        raise ServiceError(_l("Ärendet är gallrat och kan inte öppnas igen."))
    if child.status is not ChildStatus.CLOSED:
        # Active cases are open already; proposals are decided in the case sync, not here.
        raise ServiceError(_l("Bara ett avslutat ärende kan öppnas igen."))
    previous = child.close_reason
    child.status = ChildStatus.ACTIVE
    child.closed_on = None
    child.close_reason = None
    session.flush()
    record_event(
        session,
        actor,
        SecrecyTag.CHILD_REOPEN,
        on=child,
        details={"previous_reason": str(previous) if previous else None},
    )
    holder = session.get(Child, child.duplicate_of_id) if child.duplicate_of_id else None
    if previous is CloseReason.DUPLICATE and holder is not None:
        # Closed as a duplicate and opened again: back in the coordinators' queue, and they
        # are told again, as when it was first held.
        duplicates.note_held(session, actor, child, holder)
