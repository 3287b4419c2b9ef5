"""Who may open a council's caseload, a child, a record, a consent or a disclosure decision.

One access function per resource, shared by the pages and the API: each loads the object for a
``Need`` or raises ``NotFound`` for an unknown id and ``PermissionDenied`` for one the actor may
not use. Both wrappers answer the two alike (403, ``access:denied`` logged), so a refusal never
tells which ids exist (a council is loaded by ``coordination.councils.access.council_for``).
Children's information is for the members of the child's council only;
no role overrides this.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, defaultload

from coordination.errors import PermissionDenied, get_or_not_found
from coordination.models import Child, Council, User
from coordination.policy import Need, can_view_council
from secrecy.models import Consent, Disclosure, Record
from secrecy.records.children import can_manage_case


def child_for(session: Session, actor: User, child_id: int, need: Need = Need.VIEW) -> Child:
    """The child, whatever the case's status. VIEW: members of the child's council; MANAGE
    (close and reopen the case): the enrolling agency and the council's coordinators."""
    # The council comes with the child (joined); its agencies only if a page asks for them.
    child = get_or_not_found(
        session,
        Child,
        child_id,
        "child",
        options=[defaultload(Child.council).lazyload(Council.agencies)],
    )
    if need is Need.VIEW:
        allowed = can_view_council(actor, child.council)
    elif need is Need.MANAGE:
        allowed = can_manage_case(actor, child)
    else:
        raise ValueError(f"child_for cannot decide {need}")
    if not allowed:
        raise PermissionDenied(object_type="child", object_ids=[child_id])
    return child


def record_for(session: Session, actor: User, record_id: int, need: Need = Need.VIEW) -> Record:
    """The record's metadata (content only through ``reveal``). VIEW: members of the child's
    council; MANAGE (correct it, decide on its disclosure): the owner agency's users among
    them."""
    record = get_or_not_found(session, Record, record_id, "record")
    if need is Need.VIEW:
        allowed = can_view_council(actor, record.child.council)
    elif need is Need.MANAGE:
        allowed = (
            can_view_council(actor, record.child.council)
            and record.owner_agency_id == actor.agency_id
        )
    else:
        raise ValueError(f"record_for cannot decide {need}")
    if not allowed:
        raise PermissionDenied(object_type="record", object_ids=[record_id])
    return record


def consent_for(session: Session, actor: User, consent_id: int) -> Consent:
    """The consent, for the members of the child's council (any of them may record that it
    was revoked: the young person may tell any of them)."""
    consent = get_or_not_found(session, Consent, consent_id, "consent")
    if not can_view_council(actor, consent.child.council):
        raise PermissionDenied(object_type="consent", object_ids=[consent_id])
    return consent


def disclosure_for(session: Session, actor: User, disclosure_id: int) -> Disclosure:
    """The disclosure decision, for the owner agency of its record (``record_for`` MANAGE)."""
    disclosure = get_or_not_found(session, Disclosure, disclosure_id, "disclosure")
    record_for(session, actor, disclosure.record_id, Need.MANAGE)
    return disclosure
