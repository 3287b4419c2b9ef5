"""Councils and their members."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.admin.services import _unique_name
from coordination.audit.log import AuditTag, record_event
from coordination.errors import PermissionDenied, ServiceError, check_version
from coordination.models import (
    Agency,
    Council,
    CouncilKind,
    CouncilMembership,
    CouncilRole,
    User,
)
from coordination.policy import (
    Permission,
    can_join_council,
    can_manage_members,
    has_permission,
    require_permission,
)

COUNCIL_CODE_PATTERN = re.compile(r"^[A-ZÅÄÖ0-9]{2,12}$")


@dataclass
class CouncilFields:
    kind: CouncilKind
    name: str
    area: str
    code: str
    agency_ids: list[int] = field(default_factory=list)
    active: bool = True
    retention_months: int = 12
    # None keeps the council's consent policy as it is (see Council.maturity_consent).
    maturity_consent: bool | None = None
    # Days after which an open information request is flagged; None keeps the current value.
    request_flag_days: int | None = None
    # Days after an assessment when a reassessment is due (None: no reminders); applied only
    # with ``set_assessment_interval`` (the admin form always sets it, other callers keep it).
    assessment_interval_days: int | None = None
    set_assessment_interval: bool = False


def _apply_council_fields(session: Session, council: Council, fields: CouncilFields) -> list[str]:
    name, area, code = fields.name.strip(), fields.area.strip(), fields.code.strip().upper()
    _unique_name(session, Council, name, council.id)
    if not COUNCIL_CODE_PATTERN.match(code):
        raise ServiceError(
            _l("Koden ska vara 2–12 versaler eller siffror, till exempel NORR."), field="code"
        )
    clash = session.scalar(
        select(Council.id).where(Council.code == code, Council.id != (council.id or 0))
    )
    if clash is not None:
        raise ServiceError(_l("Koden används redan av ett annat forum."), field="code")
    if council.id is not None and council.code != code:
        # The code is part of every pseudonym already handed out; it must stay stable.
        raise ServiceError(_l("Koden kan inte ändras när forumet har skapats."), field="code")
    agencies = list(session.scalars(select(Agency).where(Agency.id.in_(fields.agency_ids))).all())
    if len(agencies) != len(set(fields.agency_ids)) or len(agencies) < 2:
        raise ServiceError(_l("Välj minst två deltagande myndigheter."), field="agency_ids")
    inactive = [a for a in agencies if not a.active]
    if inactive:
        raise ServiceError(_l("En inaktiv myndighet kan inte delta."), field="agency_ids")
    removed = {a.id for a in council.agencies} - {a.id for a in agencies}
    if removed and any(m.user.agency_id in removed for m in council.memberships):
        raise ServiceError(
            _l("Ta först bort medlemmarna från den myndighet som ska lämna forumet."),
            field="agency_ids",
        )
    changed = [
        f
        for f, new in (
            ("kind", fields.kind),
            ("name", name),
            ("area", area),
            ("code", code),
            ("active", fields.active),
        )
        if getattr(council, f, None) != new
    ]
    if {a.id for a in council.agencies} != {a.id for a in agencies}:
        changed.append("agencies")
    council.kind, council.name, council.area, council.code = fields.kind, name, area, code
    if not 0 <= fields.retention_months <= 600:
        raise ServiceError(_l("Ange ett antal månader mellan 0 och 600."), field="retention_months")
    if council.id is not None and council.retention_months != fields.retention_months:
        changed.append("retention_months")
    if fields.request_flag_days is not None:
        if not 1 <= fields.request_flag_days <= 365:
            raise ServiceError(
                _l("Ange ett antal dagar mellan 1 och 365."), field="request_flag_days"
            )
        if council.id is not None and council.request_flag_days != fields.request_flag_days:
            changed.append("request_flag_days")
        council.request_flag_days = fields.request_flag_days
    if fields.set_assessment_interval:
        days = fields.assessment_interval_days
        if days is not None and not 7 <= days <= 730:
            raise ServiceError(
                _l("Ange ett antal dagar mellan 7 och 730."), field="assessment_interval_days"
            )
        if council.id is not None and council.assessment_interval_days != days:
            changed.append("assessment_interval_days")
        council.assessment_interval_days = days
    council.active = fields.active
    council.retention_months = fields.retention_months
    if fields.maturity_consent is not None:
        if council.id is not None and council.maturity_consent != fields.maturity_consent:
            changed.append("maturity_consent")
        council.maturity_consent = fields.maturity_consent
    council.agencies = agencies
    return changed


def create_council(session: Session, actor: User, fields: CouncilFields) -> Council:
    require_permission(actor, Permission.MANAGE_COUNCILS)
    council = Council()
    council.agencies = []
    council.memberships = []
    _apply_council_fields(session, council, fields)
    session.add(council)
    session.flush()
    record_event(
        session,
        actor,
        AuditTag.ADMIN_COUNCIL_CREATE,
        on=council,
        details={"kind": str(council.kind), "agency_ids": sorted(a.id for a in council.agencies)},
    )
    return council


def update_council(
    session: Session,
    actor: User,
    council: Council,
    fields: CouncilFields,
    expected_version: int | None,
) -> Council:
    require_permission(actor, Permission.MANAGE_COUNCILS)
    check_version(council, expected_version)
    changed = _apply_council_fields(session, council, fields)
    session.flush()
    record_event(
        session,
        actor,
        AuditTag.ADMIN_COUNCIL_UPDATE,
        on=council,
        details={"fields": changed, "agency_ids": sorted(a.id for a in council.agencies)},
    )
    return council


def add_member(
    session: Session, actor: User, council: Council, user: User, council_role: CouncilRole
) -> CouncilMembership:
    if not can_manage_members(actor, council):
        raise PermissionDenied()
    if not can_join_council(user, council):
        raise ServiceError(
            _l("Användaren tillhör inte någon av forumets deltagande myndigheter."), field="user_id"
        )
    if not user.active:
        raise ServiceError(_l("Kontot är inaktiverat."), field="user_id")
    if any(m.user_id == user.id for m in council.memberships):
        raise ServiceError(_l("Användaren är redan medlem."), field="user_id")
    membership = CouncilMembership(council=council, user=user, council_role=council_role)
    session.add(membership)
    session.flush()
    record_event(
        session,
        actor,
        AuditTag.ADMIN_MEMBERSHIP_ADD,
        on=council,
        details={"user_id": user.id, "council_role": str(council_role)},
    )
    return membership


def add_members(
    session: Session,
    actor: User,
    council: Council,
    users: Sequence[User],
    council_role: CouncilRole,
) -> list[CouncilMembership]:
    """Several people with the same role, in the caller's one transaction: each as
    ``add_member`` (the same checks, one audit event each); one refused leaves none added."""
    if not users:
        raise ServiceError(_l("Välj minst en användare."), field="user_id")
    return [add_member(session, actor, council, user, council_role) for user in users]


def council_coordinators(session: Session, council_id: int) -> list[User]:
    """The council's coordinators, in id order (the notices' recipients)."""
    return list(
        session.scalars(
            select(User)
            .join(CouncilMembership, CouncilMembership.user_id == User.id)
            .where(
                CouncilMembership.council_id == council_id,
                CouncilMembership.council_role == CouncilRole.COORDINATOR,
            )
            .order_by(User.id)
        )
    )


def _keeps_a_coordinator(
    council: Council, changed: CouncilMembership, new_role: CouncilRole | None
) -> bool:
    return any(
        (m.council_role if m is not changed else new_role) is CouncilRole.COORDINATOR
        for m in council.memberships
    )


def _require_member_change(
    actor: User, membership: CouncilMembership, new_role: CouncilRole | None
) -> None:
    """A membership changes role (``new_role``) or leaves (None): by those who manage the
    council's members, and the council keeps a coordinator unless an administrator of
    councils makes the change."""
    council = membership.council
    if not can_manage_members(actor, council):
        raise PermissionDenied()
    if not _keeps_a_coordinator(council, membership, new_role) and not has_permission(
        actor, Permission.MANAGE_COUNCILS
    ):
        raise ServiceError(_l("Forumet måste ha minst en samordnare."))


def update_member_role(
    session: Session, actor: User, membership: CouncilMembership, council_role: CouncilRole
) -> None:
    council = membership.council
    _require_member_change(actor, membership, council_role)
    membership.council_role = council_role
    record_event(
        session,
        actor,
        AuditTag.ADMIN_MEMBERSHIP_UPDATE,
        on=council,
        details={"user_id": membership.user_id, "council_role": str(council_role)},
    )


def remove_member(session: Session, actor: User, membership: CouncilMembership) -> None:
    council = membership.council
    _require_member_change(actor, membership, None)
    user_id = membership.user_id
    council.memberships.remove(membership)
    session.flush()
    record_event(
        session, actor, AuditTag.ADMIN_MEMBERSHIP_REMOVE, on=council, details={"user_id": user_id}
    )
