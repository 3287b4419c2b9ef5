"""Services of the ground floor: ``(session, actor, ...) -> result``.

They validate, change, flush and append their audit event in the caller's transaction. They
never commit and never read the request; the view does both.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from coordination import security
from coordination.audit import AuditTag, record_event
from coordination.db import utcnow
from coordination.models import (
    Agency,
    AgencyKind,
    Council,
    CouncilKind,
    CouncilMembership,
    CouncilRole,
    RecoveryCode,
    Role,
    User,
)
from coordination.policy import (
    Permission,
    can_join_council,
    can_manage_members,
    has_permission,
)


class ServiceError(Exception):
    """A refused change. ``field`` names the form field the message belongs next to."""

    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


class PermissionDenied(ServiceError):
    def __init__(self) -> None:
        super().__init__(_l("Du har inte behörighet att göra detta."))


class ConflictError(ServiceError):
    """Someone else saved the same object since this form was loaded."""

    def __init__(self) -> None:
        super().__init__(
            _l(
                "Någon annan har ändrat uppgifterna sedan du öppnade formuläret. "
                "Ladda om sidan och gör ändringen igen."
            )
        )


def _require(actor: User, permission: Permission) -> None:
    if not has_permission(actor, permission):
        raise PermissionDenied()


def _check_version(obj: Agency | User | Council, expected_version: int | None) -> None:
    if expected_version is not None and obj.version != expected_version:
        raise ConflictError()


def normalise_email(email: str) -> str:
    return email.strip().lower()


# --- Login --------------------------------------------------------------------------------------


@dataclass
class LoginSettings:
    lockout_threshold: int = 10
    lockout_minutes: int = 15
    require_two_factor: bool = True


@dataclass
class LoginOutcome:
    user: User | None = None
    needs_two_factor: bool = False
    needs_enrolment: bool = False

    @property
    def succeeded(self) -> bool:
        return self.user is not None


def authenticate(
    session: Session, email: str, password: str, settings: LoginSettings
) -> LoginOutcome:
    """Check a password. Failures are counted and logged; the caller shows one message for all."""
    user = session.scalars(select(User).where(User.email == normalise_email(email))).one_or_none()
    now = utcnow()
    if user is None:
        security.verify_password(None, password)  # same cost as a real check
        record_event(session, None, AuditTag.AUTH_LOGIN_FAILURE, details={"reason": "unknown"})
        return LoginOutcome()
    if user.locked_until is not None and user.locked_until > now:
        security.verify_password(None, password)
        _log_failure(session, user, "locked")
        return LoginOutcome()
    if not security.verify_password(user.password_hash, password):
        _count_failure(session, user, settings, now)
        return LoginOutcome()
    if not user.is_active:
        _log_failure(session, user, "inactive")
        return LoginOutcome()
    if security.password_needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
    if user.has_two_factor:
        return LoginOutcome(user=user, needs_two_factor=True)
    if settings.require_two_factor:
        return LoginOutcome(user=user, needs_enrolment=True)
    return LoginOutcome(user=user)


def _log_failure(
    session: Session, user: User, reason: str, tag: AuditTag = AuditTag.AUTH_LOGIN_FAILURE
) -> None:
    record_event(
        session,
        None,
        tag,
        object_type="user",
        object_ids=[user.id],
        details={"reason": reason},
        agency_id=user.agency_id,
    )


def _count_failure(
    session: Session,
    user: User,
    settings: LoginSettings,
    now: dt.datetime,
    tag: AuditTag = AuditTag.AUTH_LOGIN_FAILURE,
) -> None:
    user.failed_logins += 1
    _log_failure(session, user, "password" if tag is AuditTag.AUTH_LOGIN_FAILURE else "code", tag)
    if user.failed_logins >= settings.lockout_threshold:
        user.locked_until = now + dt.timedelta(minutes=settings.lockout_minutes)
        user.failed_logins = 0
        record_event(
            session,
            None,
            AuditTag.AUTH_LOCKOUT,
            object_type="user",
            object_ids=[user.id],
            details={"minutes": settings.lockout_minutes},
            agency_id=user.agency_id,
        )
    session.flush()


def complete_login(session: Session, user: User, method: str) -> None:
    """The user has passed every factor: reset counters and log the success."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    record_event(
        session,
        user,
        AuditTag.AUTH_LOGIN_SUCCESS,
        object_type="user",
        object_ids=[user.id],
        details={"method": method},
    )


def record_logout(session: Session, user: User, *, expired: str | None = None) -> None:
    if expired:
        record_event(
            session,
            user,
            AuditTag.AUTH_SESSION_EXPIRED,
            object_type="user",
            object_ids=[user.id],
            details={"limit": expired},
        )
    else:
        record_event(session, user, AuditTag.AUTH_LOGOUT, object_type="user", object_ids=[user.id])


def verify_second_factor(
    session: Session, user: User, code: str, ring: security.MasterKeyRing, settings: LoginSettings
) -> str | None:
    """A TOTP code or an unused recovery code; returns the method used, or None.

    A wrong code counts towards the lockout like a wrong password.
    """
    if user.totp_secret_sealed is not None:
        secret = security.open_totp_secret(ring, user.id, user.totp_secret_sealed)
        step = security.verify_totp(secret, code)
        if step is not None and (user.totp_last_step is None or step > user.totp_last_step):
            user.totp_last_step = step
            return "totp"
    normalised = security.hash_recovery_code(code)
    recovery = session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == normalised,
            RecoveryCode.used_at.is_(None),
        )
    ).one_or_none()
    if recovery is not None:
        recovery.used_at = utcnow()
        record_event(
            session,
            user,
            AuditTag.AUTH_RECOVERY_CODE_USE,
            object_type="user",
            object_ids=[user.id],
        )
        return "recovery_code"
    _count_failure(session, user, settings, utcnow(), AuditTag.AUTH_TWO_FACTOR_FAILURE)
    return None


def enrol_two_factor(
    session: Session, user: User, secret: bytes, code: str, ring: security.MasterKeyRing
) -> list[str]:
    """Confirm a new authenticator with a code from it; returns fresh recovery codes."""
    step = security.verify_totp(secret, code)
    if step is None:
        raise ServiceError(
            _l("Koden stämmer inte. Kontrollera att klockan i telefonen går rätt och försök igen."),
            field="code",
        )
    user.totp_secret_sealed = security.seal_totp_secret(ring, user.id, secret)
    user.totp_confirmed_at = utcnow()
    user.totp_last_step = step
    record_event(
        session, user, AuditTag.AUTH_TWO_FACTOR_ENROL, object_type="user", object_ids=[user.id]
    )
    return replace_recovery_codes(session, user)


def reseal_totp_secrets(session: Session, ring: security.MasterKeyRing) -> int:
    """After a master key rotation: seal every TOTP secret under the current version."""
    count = 0
    users = session.scalars(select(User).where(User.totp_secret_sealed.is_not(None)))
    for user in users:
        sealed = user.totp_secret_sealed
        if sealed is None or security.totp_sealed_version(sealed) == ring.current_version:
            continue
        secret = security.open_totp_secret(ring, user.id, sealed)
        user.totp_secret_sealed = security.seal_totp_secret(ring, user.id, secret)
        count += 1
    session.flush()
    return count


def replace_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = security.new_recovery_codes()
    session.add_all(
        RecoveryCode(user_id=user.id, code_hash=security.hash_recovery_code(c)) for c in codes
    )
    record_event(
        session,
        user,
        AuditTag.AUTH_RECOVERY_CODES_CREATE,
        object_type="user",
        object_ids=[user.id],
        details={"count": len(codes)},
    )
    return codes


def unused_recovery_code_count(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def validate_new_password(password: str, min_length: int) -> None:
    if len(password) < min_length:
        raise ServiceError(
            _l("Lösenordet måste vara minst %(n)s tecken långt.", n=min_length), field="password"
        )
    if password.strip() != password or not password.strip():
        raise ServiceError(
            _l("Lösenordet får inte börja eller sluta med mellanslag."), field="password"
        )


def change_password(session: Session, user: User, current: str, new: str, min_length: int) -> None:
    if not security.verify_password(user.password_hash, current):
        raise ServiceError(_l("Nuvarande lösenord stämmer inte."), field="current_password")
    validate_new_password(new, min_length)
    if security.verify_password(user.password_hash, new):
        raise ServiceError(
            _l("Det nya lösenordet måste skilja sig från det nuvarande."), field="password"
        )
    user.password_hash = security.hash_password(new)
    user.password_changed_at = utcnow()
    user.session_epoch += 1  # every other session of this user ends
    record_event(
        session, user, AuditTag.AUTH_PASSWORD_CHANGE, object_type="user", object_ids=[user.id]
    )


# --- Agencies -----------------------------------------------------------------------------------


def _unique_name(
    session: Session, model: type[Agency] | type[Council], name: str, own_id: int | None
) -> None:
    clash = session.scalar(
        select(model.id).where(func.lower(model.name) == name.lower(), model.id != (own_id or 0))
    )
    if clash is not None:
        raise ServiceError(_l("Det finns redan en post med det namnet."), field="name")


def create_agency(
    session: Session,
    actor: User | None,
    *,
    kind: AgencyKind,
    name: str,
    osl_applies: bool = True,
) -> Agency:
    """``actor`` None is the bootstrap path (``flask create-admin``, the demo loader)."""
    if actor is not None:
        _require(actor, Permission.MANAGE_AGENCIES)
    name = name.strip()
    _unique_name(session, Agency, name, None)
    agency = Agency(kind=kind, name=name, active=True, osl_applies=osl_applies)
    session.add(agency)
    session.flush()
    record_event(
        session,
        actor,
        AuditTag.ADMIN_AGENCY_CREATE,
        object_type="agency",
        object_ids=[agency.id],
        details={"kind": str(kind)},
    )
    return agency


def update_agency(
    session: Session,
    actor: User,
    agency: Agency,
    *,
    name: str,
    active: bool,
    expected_version: int | None,
    osl_applies: bool | None = None,
) -> Agency:
    _require(actor, Permission.MANAGE_AGENCIES)
    _check_version(agency, expected_version)
    name = name.strip()
    _unique_name(session, Agency, name, agency.id)
    if agency.id == actor.agency_id and not active:
        raise ServiceError(_l("Du kan inte inaktivera din egen myndighet."), field="active")
    osl = agency.osl_applies if osl_applies is None else osl_applies
    changed = [
        f
        for f, new in (("name", name), ("active", active), ("osl_applies", osl))
        if getattr(agency, f) != new
    ]
    agency.name, agency.active, agency.osl_applies = name, active, osl
    session.flush()
    record_event(
        session,
        actor,
        AuditTag.ADMIN_AGENCY_UPDATE,
        object_type="agency",
        object_ids=[agency.id],
        details={"fields": changed},
    )
    return agency


# --- Users --------------------------------------------------------------------------------------


def _validate_email(session: Session, email: str, own_id: int | None) -> str:
    try:
        email = normalise_email(
            validate_email(email.strip(), check_deliverability=False).normalized
        )
    except EmailNotValidError as exc:
        raise ServiceError(_l("Ange en giltig e-postadress."), field="email") from exc
    clash = session.scalar(select(User.id).where(User.email == email, User.id != (own_id or 0)))
    if clash is not None:
        raise ServiceError(_l("E-postadressen används redan av ett annat konto."), field="email")
    return email


def create_user(
    session: Session,
    actor: User | None,
    *,
    agency: Agency,
    email: str,
    display_name: str,
    password: str,
    roles: Iterable[Role],
    min_password_length: int = 12,
) -> User:
    """``actor`` None is the bootstrap path (``flask create-admin``, the demo loader)."""
    if actor is not None:
        _require(actor, Permission.MANAGE_USERS)
    email = _validate_email(session, email, None)
    validate_new_password(password, min_password_length)
    if not display_name.strip():
        raise ServiceError(_l("Ange ett namn."), field="display_name")
    user = User(
        agency=agency,
        email=email,
        display_name=display_name.strip(),
        password_hash=security.hash_password(password),
        password_changed_at=utcnow(),
    )
    user.set_roles(set(roles) or {Role.MEMBER})
    session.add(user)
    session.flush()
    record_event(
        session,
        actor,
        AuditTag.ADMIN_USER_CREATE,
        object_type="user",
        object_ids=[user.id],
        details={"roles": sorted(str(r) for r in user.roles), "agency_id": agency.id},
    )
    return user


def update_user(
    session: Session,
    actor: User,
    user: User,
    *,
    email: str,
    display_name: str,
    roles: Iterable[Role],
    expected_version: int | None,
) -> User:
    _require(actor, Permission.MANAGE_USERS)
    _check_version(user, expected_version)
    email = _validate_email(session, email, user.id)
    roles = set(roles)
    if not roles:
        raise ServiceError(_l("Välj minst en roll."), field="roles")
    if user.id == actor.id and Role.ADMIN not in roles:
        raise ServiceError(_l("Du kan inte ta bort din egen administratörsroll."), field="roles")
    changed = []
    if user.email != email:
        changed.append("email")
    if user.display_name != display_name.strip():
        changed.append("display_name")
    if user.roles != roles:
        changed.append("roles")
    user.email, user.display_name = email, display_name.strip()
    user.set_roles(roles)
    session.flush()
    record_event(
        session,
        actor,
        AuditTag.ADMIN_USER_UPDATE,
        object_type="user",
        object_ids=[user.id],
        details={"fields": changed, "roles": sorted(str(r) for r in roles)},
    )
    return user


def set_user_active(session: Session, actor: User, user: User, active: bool) -> None:
    _require(actor, Permission.MANAGE_USERS)
    if user.id == actor.id:
        raise ServiceError(_l("Du kan inte inaktivera ditt eget konto."))
    if user.active == active:
        return
    user.active = active
    if not active:
        user.session_epoch += 1
    tag = AuditTag.ADMIN_USER_ACTIVATE if active else AuditTag.ADMIN_USER_DEACTIVATE
    record_event(session, actor, tag, object_type="user", object_ids=[user.id])


def reset_two_factor(session: Session, actor: User, user: User) -> None:
    _require(actor, Permission.MANAGE_USERS)
    user.totp_secret_sealed = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    user.session_epoch += 1
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record_event(
        session,
        actor,
        AuditTag.ADMIN_USER_RESET_TWO_FACTOR,
        object_type="user",
        object_ids=[user.id],
    )


def unlock_user(session: Session, actor: User, user: User) -> None:
    _require(actor, Permission.MANAGE_USERS)
    user.locked_until = None
    user.failed_logins = 0
    record_event(
        session, actor, AuditTag.ADMIN_USER_UNLOCK, object_type="user", object_ids=[user.id]
    )


# --- Councils -----------------------------------------------------------------------------------


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
    council.active = fields.active
    council.retention_months = fields.retention_months
    council.agencies = agencies
    return changed


def create_council(session: Session, actor: User, fields: CouncilFields) -> Council:
    _require(actor, Permission.MANAGE_COUNCILS)
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
        object_type="council",
        object_ids=[council.id],
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
    _require(actor, Permission.MANAGE_COUNCILS)
    _check_version(council, expected_version)
    changed = _apply_council_fields(session, council, fields)
    session.flush()
    record_event(
        session,
        actor,
        AuditTag.ADMIN_COUNCIL_UPDATE,
        object_type="council",
        object_ids=[council.id],
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
        object_type="council",
        object_ids=[council.id],
        details={"user_id": user.id, "council_role": str(council_role)},
    )
    return membership


def _keeps_a_coordinator(
    council: Council, changed: CouncilMembership, new_role: CouncilRole | None
) -> bool:
    return any(
        (m.council_role if m is not changed else new_role) is CouncilRole.COORDINATOR
        for m in council.memberships
    )


def update_member_role(
    session: Session, actor: User, membership: CouncilMembership, council_role: CouncilRole
) -> None:
    council = membership.council
    if not can_manage_members(actor, council):
        raise PermissionDenied()
    if not _keeps_a_coordinator(council, membership, council_role) and not has_permission(
        actor, Permission.MANAGE_COUNCILS
    ):
        raise ServiceError(_l("Forumet måste ha minst en samordnare."))
    membership.council_role = council_role
    record_event(
        session,
        actor,
        AuditTag.ADMIN_MEMBERSHIP_UPDATE,
        object_type="council",
        object_ids=[council.id],
        details={"user_id": membership.user_id, "council_role": str(council_role)},
    )


def remove_member(session: Session, actor: User, membership: CouncilMembership) -> None:
    council = membership.council
    if not can_manage_members(actor, council):
        raise PermissionDenied()
    if not _keeps_a_coordinator(council, membership, None) and not has_permission(
        actor, Permission.MANAGE_COUNCILS
    ):
        raise ServiceError(_l("Forumet måste ha minst en samordnare."))
    user_id = membership.user_id
    council.memberships.remove(membership)
    session.flush()
    record_event(
        session,
        actor,
        AuditTag.ADMIN_MEMBERSHIP_REMOVE,
        object_type="council",
        object_ids=[council.id],
        details={"user_id": user_id},
    )
