"""The administrator's work: agencies and user accounts."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from coordination import security
from coordination.accounts.services import normalise_email, validate_new_password
from coordination.accounts.sessions import EndReason, end_sessions_of, stop_access
from coordination.audit.log import AuditTag, record_event
from coordination.db import utcnow
from coordination.errors import ServiceError, check_version
from coordination.models import (
    Agency,
    AgencyKind,
    Council,
    RecoveryCode,
    Role,
    User,
    bump_key_generation,
)
from coordination.numbers import plain_int
from coordination.policy import (
    Permission,
    require_permission,
)

# A start password of 20 characters from 15 random bytes (120 bits), for reading aloud or
# pasting: the user replaces it at the first log-in.
START_PASSWORD_BYTES = 15


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
        require_permission(actor, Permission.MANAGE_AGENCIES)
    name = name.strip()
    _unique_name(session, Agency, name, None)
    agency = Agency(kind=kind, name=name, active=True, osl_applies=osl_applies)
    session.add(agency)
    session.flush()
    record_event(
        session, actor, AuditTag.ADMIN_AGENCY_CREATE, on=agency, details={"kind": str(kind)}
    )
    return agency


@dataclass(frozen=True)
class AuthorityFields:
    """The authority (myndighet) an agency belongs to: board and organisation number, both or
    neither; and whether the agency is an independent branch of activity inside it."""

    name: str = ""
    org_number: str = ""
    independent_branch: bool = True


def normalise_org_number(value: str) -> str:
    """An organisation number as NNNNNN-NNNN, its check digit verified (Luhn, as in a
    personnummer); ServiceError otherwise."""
    digits = value.replace("-", "").strip()
    if len(digits) != 10 or plain_int(digits, max_digits=10) is None:
        raise ServiceError(
            _l("Ange organisationsnumret som tio siffror, t.ex. 212000-1234."),
            field="authority_org_number",
        )
    total = 0
    for index, char in enumerate(digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    if total % 10:
        raise ServiceError(
            _l("Organisationsnumret har fel kontrollsiffra."), field="authority_org_number"
        )
    return f"{digits[:6]}-{digits[6:]}"


def _authority_values(fields: AuthorityFields) -> tuple[str | None, str | None, bool]:
    name = " ".join(fields.name.split())
    number = fields.org_number.strip()
    if bool(name) != bool(number):
        raise ServiceError(
            _l("Ange både myndighetens namn (nämnd) och organisationsnummer, eller inget av dem."),
            field="authority_name" if not name else "authority_org_number",
        )
    if len(name) > 200:
        raise ServiceError(_l("Namnet är för långt (högst 200 tecken)."), field="authority_name")
    return (
        name or None,
        normalise_org_number(number) if number else None,
        fields.independent_branch,
    )


def update_agency(
    session: Session,
    actor: User,
    agency: Agency,
    *,
    name: str,
    active: bool,
    expected_version: int | None,
    osl_applies: bool | None = None,
    authority: AuthorityFields | None = None,
) -> Agency:
    require_permission(actor, Permission.MANAGE_AGENCIES)
    check_version(agency, expected_version)
    name = name.strip()
    _unique_name(session, Agency, name, agency.id)
    if agency.id == actor.agency_id and not active:
        raise ServiceError(_l("Du kan inte inaktivera din egen myndighet."), field="active")
    osl = agency.osl_applies if osl_applies is None else osl_applies
    authority_name, org_number, independent = (
        _authority_values(authority)
        if authority is not None
        else (agency.authority_name, agency.authority_org_number, agency.independent_branch)
    )
    changed = [
        f
        for f, new in (
            ("name", name),
            ("active", active),
            ("osl_applies", osl),
            ("authority_name", authority_name),
            ("authority_org_number", org_number),
            ("independent_branch", independent),
        )
        if getattr(agency, f) != new
    ]
    if agency.active != active:
        bump_key_generation(session)  # workers forget the agency's cached keys at once
    agency.name, agency.active, agency.osl_applies = name, active, osl
    agency.authority_name, agency.authority_org_number = authority_name, org_number
    agency.independent_branch = independent
    session.flush()
    record_event(
        session, actor, AuditTag.ADMIN_AGENCY_UPDATE, on=agency, details={"fields": changed}
    )
    return agency


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
    start_password: bool | None = None,
) -> User:
    """``actor`` None is the bootstrap path (``flask create-admin``, the demo loader).

    ``start_password``: the user must replace the password at the first log-in. By default
    when an administrator made the account (they typed the password, so it is not the user's
    own); the bootstrap path and the demo's shared password say otherwise."""
    if actor is not None:
        require_permission(actor, Permission.MANAGE_USERS)
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
        must_change_password=actor is not None if start_password is None else start_password,
    )
    user.set_roles(set(roles) or {Role.MEMBER})
    session.add(user)
    session.flush()
    record_event(
        session,
        actor,
        AuditTag.ADMIN_USER_CREATE,
        on=user,
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
    require_permission(actor, Permission.MANAGE_USERS)
    check_version(user, expected_version)
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
        on=user,
        details={"fields": changed, "roles": sorted(str(r) for r in roles)},
    )
    return user


def set_user_active(session: Session, actor: User, user: User, active: bool) -> None:
    require_permission(actor, Permission.MANAGE_USERS)
    if user.id == actor.id:
        raise ServiceError(_l("Du kan inte inaktivera ditt eget konto."))
    if user.active == active:
        return
    user.active = active
    if not active:
        # Sessions and tokens stop at once; reactivation brings none of them back.
        stop_access(session, actor, user, EndReason.DEACTIVATED)
    tag = AuditTag.ADMIN_USER_ACTIVATE if active else AuditTag.ADMIN_USER_DEACTIVATE
    record_event(session, actor, tag, on=user)


def reset_two_factor(session: Session, actor: User, user: User) -> None:
    require_permission(actor, Permission.MANAGE_USERS)
    user.totp_secret_sealed = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    end_sessions_of(session, user, EndReason.TWO_FACTOR_RESET)
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record_event(session, actor, AuditTag.ADMIN_USER_RESET_TWO_FACTOR, on=user)


def unlock_user(session: Session, actor: User, user: User) -> None:
    require_permission(actor, Permission.MANAGE_USERS)
    user.locked_until = None
    user.failed_logins = 0
    record_event(session, actor, AuditTag.ADMIN_USER_UNLOCK, on=user)


def reset_password(session: Session, actor: User, user: User) -> str:
    """A new start password for a local account, returned to be shown once: the user must
    set their own at the next log-in. Every session and API token of the account stops."""
    require_permission(actor, Permission.MANAGE_USERS)
    if user.id == actor.id:
        raise ServiceError(_l("Byt ditt eget lösenord under Mitt konto."))
    start_password = secrets.token_urlsafe(START_PASSWORD_BYTES)
    user.password_hash = security.hash_password(start_password)
    user.password_changed_at = utcnow()
    user.must_change_password = True
    stopped = stop_access(session, actor, user, EndReason.PASSWORD_RESET)
    session.flush()
    record_event(
        session,
        actor,
        AuditTag.ADMIN_USER_RESET_PASSWORD,
        on=user,
        details={"sessions_ended": stopped.sessions, "tokens_revoked": stopped.tokens},
    )
    return start_password
