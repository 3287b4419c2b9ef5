"""Signing in and out, two-factor authentication, recovery codes and passwords."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from coordination import security
from coordination.accounts.sessions import EndReason, end_sessions_of, stop_access
from coordination.audit.log import AuditTag, record_event
from coordination.db import count_rows, utcnow
from coordination.errors import ServiceError
from coordination.models import (
    RecoveryCode,
    User,
)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def account_key(email: str) -> str:
    """A rate-limit key for the account a log-in names, without the address in clear."""
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()[:32]


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
    record_event(session, None, tag, on=user, details={"reason": reason}, agency_id=user.agency_id)


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
            on=user,
            details={"minutes": settings.lockout_minutes},
            agency_id=user.agency_id,
        )
    session.flush()


def complete_login(session: Session, user: User, method: str) -> None:
    """The user has passed every factor: reset counters and log the success."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    record_event(session, user, AuditTag.AUTH_LOGIN_SUCCESS, on=user, details={"method": method})


def record_logout(session: Session, user: User, *, expired: str | None = None) -> None:
    if expired:
        record_event(
            session, user, AuditTag.AUTH_SESSION_EXPIRED, on=user, details={"limit": expired}
        )
    else:
        record_event(session, user, AuditTag.AUTH_LOGOUT, on=user)


def _accept_totp(user: User, code: str, ring: security.MasterKeyRing) -> bool:
    """A code from the user's authenticator app, of a later time step than any accepted
    before (a code is never accepted twice); the step is remembered."""
    if user.totp_secret_sealed is None:
        return False
    secret = security.open_totp_secret(ring, user.id, user.totp_secret_sealed)
    step = security.verify_totp(secret, code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def verify_second_factor(
    session: Session, user: User, code: str, ring: security.MasterKeyRing, settings: LoginSettings
) -> str | None:
    """A TOTP code or an unused recovery code; returns the method used, or None.

    A wrong code counts towards the lockout like a wrong password.
    """
    if _accept_totp(user, code, ring):
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
        record_event(session, user, AuditTag.AUTH_RECOVERY_CODE_USE, on=user)
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
    record_event(session, user, AuditTag.AUTH_TWO_FACTOR_ENROL, on=user)
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
        session, user, AuditTag.AUTH_RECOVERY_CODES_CREATE, on=user, details={"count": len(codes)}
    )
    return codes


def unused_recovery_code_count(session: Session, user: User) -> int:
    return count_rows(
        session, RecoveryCode, RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
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
    end_sessions_of(session, user, EndReason.PASSWORD_CHANGE)  # every other session too
    record_event(session, user, AuditTag.AUTH_PASSWORD_CHANGE, on=user)


def replace_start_password(session: Session, user: User, new: str, min_length: int) -> None:
    """The user's own password in place of an administrator's start password (a new account,
    a reset). The log-in just checked the start password, so it is not asked again."""
    if not user.must_change_password:
        raise ServiceError(_l("Ditt lösenord är redan ditt eget. Byt det under Mitt konto."))
    validate_new_password(new, min_length)
    if security.verify_password(user.password_hash, new):
        raise ServiceError(_l("Välj ett annat lösenord än startlösenordet."), field="password")
    user.password_hash = security.hash_password(new)
    user.password_changed_at = utcnow()
    user.must_change_password = False
    end_sessions_of(session, user, EndReason.PASSWORD_CHANGE)
    record_event(
        session, user, AuditTag.AUTH_PASSWORD_CHANGE, on=user, details={"start_password": True}
    )


def log_out_everywhere(session: Session, user: User) -> int:
    """End every session of ``user`` and stop every API token of theirs (a token is a log-in
    too: one left working would keep a stolen account open); returns how many sessions were
    open."""
    stopped = stop_access(session, user, user, EndReason.LOGOUT_EVERYWHERE)
    record_event(
        session,
        user,
        AuditTag.AUTH_LOGOUT_EVERYWHERE,
        on=user,
        details={"sessions": stopped.sessions, "tokens_revoked": stopped.tokens},
    )
    return stopped.sessions


def confirm_identity(
    session: Session, user: User, answer: str, ring: security.MasterKeyRing
) -> str:
    """The password, or a fresh code from the current authenticator, before a sensitive
    change of the account. Returns which one; refuses with a message otherwise."""
    if security.verify_password(user.password_hash, answer):
        return "password"
    if _accept_totp(user, answer, ring):
        return "totp"
    raise ServiceError(
        _l("Lösenordet eller koden från den nuvarande appen stämmer inte."), field="current"
    )
