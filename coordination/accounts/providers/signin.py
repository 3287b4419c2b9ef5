"""Signing a person in from a provider's claims: the subject's link, or a pending account when
the provider provisions just in time; every refusal with its reason and audit event. The
protocols (``oidc``, ``saml``) hand their validated claims here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel.speaklater import LazyString
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.accounts.providers.assurance import Assurance, level_of_acr
from coordination.accounts.providers.models import (
    IdentityProvider,
    UserIdentity,
)
from coordination.accounts.providers.services import (
    FAILURE_MESSAGES,
    Failure,
    ProviderTag,
)
from coordination.accounts.services import complete_login, normalise_email
from coordination.audit.log import record_event
from coordination.db import utcnow
from coordination.models import User

# No password opens an account made by a provider's log-in (argon2 refuses this "hash").
UNUSABLE_PASSWORD = "!"  # noqa: S105 - a marker, not a secret

# What a failure records as its error: a code as OAuth 2.0, OpenID Connect and the JOSE
# libraries name them (``access_denied``, ``invalid_claim``), ours (``no_state``), or an
# exception class name. Anything else a callback's query says is recorded as "other".
ERROR_CODE = re.compile(r"[a-z]+(?:_[a-z]+){0,5}")
EXCEPTION_NAME = re.compile(r"[A-Z][A-Za-z]{0,58}(Error|Exception)")


@dataclass
class ExternalOutcome:
    user: User | None = None
    level: Assurance | None = None
    failure: Failure | None = None

    @property
    def message(self) -> LazyString | None:
        return FAILURE_MESSAGES[self.failure] if self.failure else None


def refuse_login(
    session: Session,
    provider: IdentityProvider,
    failure: Failure,
    *,
    user: User | None = None,
    detail: str | None = None,
) -> ExternalOutcome:
    """Audit a refused log-in through the provider; nothing else changes."""
    details: dict[str, Any] = {"provider_id": provider.id, "reason": str(failure)}
    if detail:
        # What a provider (or whoever crafted the callback's query) says goes into the chain only
        # as a known code: the OAuth/OIDC error codes, our own, and exception class names.
        known = len(detail) <= 60 and (
            ERROR_CODE.fullmatch(detail) or EXCEPTION_NAME.fullmatch(detail)
        )
        details["error"] = detail if known else "other"
    record_event(
        session,
        None,
        ProviderTag.LOGIN_FAILURE,
        on=user,
        details=details,
        agency_id=provider.agency_id,
    )
    return ExternalOutcome(failure=failure)


def refuse_unsolicited(session: Session) -> LazyString:
    """An answer that no log-in of this browser is waiting for (unsolicited, replayed, or
    started in another browser): audited without a provider, whose answer was not read."""
    record_event(
        session,
        None,
        ProviderTag.LOGIN_FAILURE,
        details={"reason": str(Failure.PROTOCOL), "error": "unsolicited"},
    )
    return FAILURE_MESSAGES[Failure.PROTOCOL]


def _claim(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) else ""


def sign_in_external(
    session: Session, provider: IdentityProvider, claims: Mapping[str, Any]
) -> ExternalOutcome:
    """The user a provider's validated claims name, by the provider's subject (never by the
    e-mail address); a first-time subject is provisioned as a pending account where the
    provider allows it. Returns the user with the log-in's assurance level, or the refusal."""
    if not provider.enabled or not provider.agency.active:
        return refuse_login(session, provider, Failure.DISABLED)
    subject = _claim(claims, provider.claim("subject"))
    if not subject or len(subject) > 255:
        return refuse_login(session, provider, Failure.NO_SUBJECT)
    level = level_of_acr(_claim(claims, provider.claim("acr")) or None, provider.acr_levels)
    minimum = Assurance.parse(provider.minimum_assurance)
    if minimum is not None and (level is None or level < minimum):
        return refuse_login(session, provider, Failure.ASSURANCE)
    identity = session.scalars(
        select(UserIdentity).where(
            UserIdentity.provider_id == provider.id, UserIdentity.subject == subject
        )
    ).one_or_none()
    if identity is None:
        if not provider.jit_provisioning:
            return refuse_login(session, provider, Failure.UNKNOWN_SUBJECT)
        return _provision(session, provider, subject, claims)
    user = identity.user
    if user.pending_approval:
        return refuse_login(session, provider, Failure.PENDING, user=user)
    if not user.is_active or user.agency_id != provider.agency_id:
        return refuse_login(session, provider, Failure.INACTIVE, user=user)
    identity.last_login_at = utcnow()
    complete_login(session, user, f"{provider.kind}:{provider.id}")
    return ExternalOutcome(user=user, level=level)


def _provision(
    session: Session, provider: IdentityProvider, subject: str, claims: Mapping[str, Any]
) -> ExternalOutcome:
    """Just-in-time: an inactive account in the provider's agency, without roles or council
    memberships, waiting for approval. Nobody reaches a child from a claim alone."""
    email = normalise_email(_claim(claims, provider.claim("email")))
    if not email or "@" not in email or len(email) > 254:
        return refuse_login(session, provider, Failure.NO_SUBJECT, detail="email")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        return refuse_login(session, provider, Failure.EMAIL_TAKEN)
    name = _claim(claims, provider.claim("name"))[:200] or email
    user = User(
        agency=provider.agency,
        email=email,
        display_name=name,
        password_hash=UNUSABLE_PASSWORD,
        active=False,
        pending_approval=True,
    )
    session.add(user)
    session.add(UserIdentity(user=user, provider=provider, subject=subject))
    session.flush()
    record_event(
        session,
        None,
        ProviderTag.PROVISION,
        on=user,
        details={"provider_id": provider.id},
        agency_id=provider.agency_id,
    )
    return ExternalOutcome(failure=Failure.PENDING)
