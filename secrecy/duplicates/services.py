"""Held duplicates: a case enrolled with a number that the council has as a case already, by
an agency that may not be told so (``secrecy.records.children.enrol_child``).

To the submitting agency the enrolment succeeds exactly as for a new number (a new pseudonym,
its own sealed identity record), so the form tells nobody who is a case. The new case is
*held*: no blind index (one indexed case per number and council), ``duplicate_of_id`` pointing
to the case that holds the number. The council's coordinators, who may know, get a notice
without content and a queue ("Möjliga dubbletter") where they close the held case as a
duplicate or keep it as a case of its own. Every step is an audit event of ids.

This module imports nothing of ``secrecy.records.children`` (which calls it), so sealing can
call it too when a shredded case frees its number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from coordination.audit.log import record_event
from coordination.councils.services import council_coordinators
from coordination.db import today_local, utcnow
from coordination.errors import PermissionDenied, ServiceError, check_version
from coordination.models import (
    Child,
    ChildStatus,
    CloseReason,
    Council,
    CouncilRole,
    User,
)
from coordination.notices import Notice, send_notice
from coordination.policy import membership_in
from secrecy.tags import SecrecyTag

NOTICE_KIND = "possible_duplicate"


def queue_path(council_id: int) -> str:
    return f"/councils/{council_id}/duplicates"


def is_council_coordinator(actor: User, council: Council) -> bool:
    membership = membership_in(actor, council)
    return (
        membership is not None
        and actor.is_active
        and membership.council_role is CouncilRole.COORDINATOR
    )


def require_council_coordinator(actor: User, council: Council) -> None:
    if not is_council_coordinator(actor, council):
        raise PermissionDenied(object_type="council", object_ids=[council.id])


def is_held(child: Child) -> bool:
    return child.duplicate_of_id is not None and child.duplicate_kept_at is None


def cases_of_number(session: Session, holder: Child) -> Sequence[Child]:
    """The council's other cases enrolled with the number that ``holder`` is indexed by (held
    or kept), shredded ones aside, oldest first."""
    return session.scalars(
        select(Child)
        .where(Child.duplicate_of_id == holder.id, Child.status != ChildStatus.SHREDDED)
        .order_by(Child.id)
    ).all()


def _heir_first(cases: Sequence[Child]) -> list[Child]:
    """The cases in the order they may take a released number: active ones before closed
    ones (a case closed as a duplicate takes it only when no active case has it), oldest
    first within each."""
    return sorted(cases, key=lambda c: (c.status is not ChildStatus.ACTIVE, c.id))


def number_index(session: Session, child: Child) -> str | None:
    """The blind index of the child's number: its own, or (held or kept) its holder's."""
    if child.identity_index is not None or child.duplicate_of_id is None:
        return child.identity_index
    holder = session.get(Child, child.duplicate_of_id)
    return holder.identity_index if holder is not None else None


def note_held(
    session: Session, actor: User, child: Child, holder: Child, *, notify: bool = True
) -> None:
    """The audit event and the coordinators' notice for a case just held as a duplicate of
    ``holder``. The event is the system's, not the submitter's (whose enrolment or correction
    is logged as any other): their own agency's log review must not tell them either.

    A held proposal of the Bob case sync is noted without a notice: it reaches the queue (and
    the coordinators are notified, ``notify_coordinators``) once social services accept it."""
    record_event(
        session,
        None,
        SecrecyTag.CHILD_DUPLICATE_HELD,
        on=child,
        details={
            "council_id": child.council_id,
            "duplicate_of_id": holder.id,
            "user_id": actor.id,
        },
    )
    if notify:
        notify_coordinators(session, child)


def notify_coordinators(session: Session, child: Child) -> None:
    """The council's coordinators are told, without content, that a held case waits in the
    queue."""
    send_notice(
        session,
        council_coordinators(session, child.council_id),
        Notice(
            NOTICE_KIND,
            queue_path(child.council_id),
            # One notice per hold: a case held again (after a correction or a reopening) is
            # news again, and the sink drops only a repeated key.
            f"duplicate:{child.id}:{child.duplicate_of_id}:{child.version}",
        ),
    )


def hold(session: Session, actor: User, child: Child, holder: Child) -> None:
    """An existing case corrected to ``holder``'s number becomes a held duplicate of it."""
    if child.duplicate_of_id == holder.id and child.identity_index is None:
        return  # held (or kept) with this number already: nothing new to tell
    child.identity_index = None
    child.duplicate_of_id = holder.id
    child.duplicate_kept_at = None
    session.flush()
    note_held(session, actor, child, holder)


def release_number(session: Session, former: Child, index: str | None) -> Child | None:
    """``former`` no longer holds the number ``index`` (its identity was corrected, or it was
    shredded): the oldest other active case of the number (else the oldest closed one) takes
    it, as if it had been enrolled alone, and the rest are held against that one. Returns the
    new holder."""
    if index is None:
        return None
    cases = _heir_first(cases_of_number(session, former))
    if not cases:
        return None
    heir, rest = cases[0], cases[1:]
    session.flush()  # the former holder's index is gone before the heir takes it
    for other in rest:
        other.duplicate_of_id = heir.id
    take_number(session, heir, index, released_from=former.id)
    return heir


def take_number(session: Session, child: Child, index: str, released_from: int | None) -> None:
    """``child`` holds the number ``index`` as its own case, neither held nor kept. Flushed;
    when it was held as a duplicate of ``released_from``, the system's release event says so
    (not the actor's: the pair is named only in the system's events)."""
    child.identity_index = index
    child.duplicate_of_id = None
    child.duplicate_kept_at = None
    session.flush()
    if released_from is not None:
        record_event(
            session,
            None,
            SecrecyTag.CHILD_DUPLICATE_RELEASED,
            on=child,
            details={"council_id": child.council_id, "duplicate_of_id": released_from},
        )


# --- The coordinators' queue ------------------------------------------------------------------


@dataclass(frozen=True)
class PossibleDuplicate:
    held: Child
    holder: Child


def possible_duplicates(session: Session, council: Council) -> list[PossibleDuplicate]:
    """The council's active held cases with the case holding their number, oldest first."""
    held = session.scalars(
        select(Child)
        .where(
            Child.council_id == council.id,
            Child.duplicate_of_id.is_not(None),
            Child.duplicate_kept_at.is_(None),
            Child.status == ChildStatus.ACTIVE,
        )
        .options(selectinload(Child.enrolling_agency))
        .order_by(Child.created_at, Child.id)
    ).all()
    holder_ids = {c.duplicate_of_id for c in held}
    holders = {c.id: c for c in session.scalars(select(Child).where(Child.id.in_(holder_ids)))}
    return [PossibleDuplicate(c, holders[c.duplicate_of_id]) for c in held if c.duplicate_of_id]


def check_resolvable(actor: User, child: Child, expected_version: int | None = None) -> None:
    """Why the actor may not decide on the held case now, raised; nothing is written. Anyone
    but the council's coordinators is refused first, whatever the case is."""
    require_council_coordinator(actor, child.council)
    if not is_held(child) or child.status is not ChildStatus.ACTIVE:
        raise ServiceError(_l("Ärendet väntar inte längre på beslut om dubblett."))
    check_version(child, expected_version)


def close_as_duplicate(
    session: Session, actor: User, child: Child, expected_version: int | None = None
) -> None:
    """The coordinator closes the held case as a duplicate of the case holding its number
    (close reason "duplicate"; retention then treats it as any closed case)."""
    check_resolvable(actor, child, expected_version)
    child.status = ChildStatus.CLOSED
    child.closed_on = today_local()
    child.close_reason = CloseReason.DUPLICATE
    session.flush()
    record_event(
        session,
        actor,
        SecrecyTag.CHILD_CLOSE,
        on=child,
        details={"reason": str(CloseReason.DUPLICATE)},
    )
    _log_decision(session, actor, child, SecrecyTag.CHILD_DUPLICATE_CLOSED)


def keep_separate(
    session: Session, actor: User, child: Child, expected_version: int | None = None
) -> None:
    """The coordinator keeps the held case as a case of its own: it leaves the queue. The
    pointer stays, so the number still answers to its agency as its own case."""
    check_resolvable(actor, child, expected_version)
    child.duplicate_kept_at = utcnow()
    session.flush()
    _log_decision(session, actor, child, SecrecyTag.CHILD_DUPLICATE_KEPT)


def _log_decision(session: Session, actor: User, child: Child, tag: SecrecyTag) -> None:
    """The coordinator's decision on the held case, in the log. It names the council, not the
    case it duplicates: the coordinator's agency's log reviewer reads this event, and the pair
    is named only in the system's held event."""
    record_event(session, actor, tag, on=child, details={"council_id": child.council_id})
