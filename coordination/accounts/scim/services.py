"""SCIM 2.0 provisioning of an agency's accounts by its identity provider (RFC 7643/7644).

The provider is the source of truth for whether a person still works there: ``active: false``
(PATCH or PUT) or a DELETE deactivates the account at once, ends its sessions and revokes its
API tokens, as an administrator's deactivation does. What the provider may not do is grant
access: an account it creates has no roles and no council memberships (an administrator or a
coordinator gives them), no password that anyone knows, and it signs in through the provider.
A provider never reactivates an account that an administrator deactivated.

Every client belongs to one agency and sees and changes only that agency's accounts. The SCIM
documents are parsed, patched and serialised by ``scim2-models``; this module maps them onto
``User`` and writes one audit event per change (no actor; the agency and the client's id).
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from scim2_models import Email, Meta, ScimFilter
from scim2_models import User as ScimUser
from scim2_models.path import CompareOperator, Comparison
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from coordination import security
from coordination.accounts.scim.models import ScimClient, ScimLink
from coordination.accounts.services import normalise_email
from coordination.accounts.sessions import EndReason, stop_access
from coordination.audit.log import record_event
from coordination.db import count_rows, utcnow
from coordination.errors import ServiceError
from coordination.models import Agency, User
from coordination.numbers import plain_int
from coordination.policy import Permission, require_permission
from coordination.tokens.services import LAST_USED_RESOLUTION

SCIM_TOKEN_PREFIX = "svs_"  # noqa: S105 - the public marker of SCIM tokens, not a secret
PREFIX_LENGTH = 12
MAX_CLIENTS_PER_AGENCY = 5
# A page of users: a client asks for ``count`` (RFC 7644 §3.4.2.4), at most this many.
MAX_PAGE = 200
SEARCH_SCAN_LIMIT = 5000


class ScimTag(enum.StrEnum):
    CLIENT_CREATE = "scim:client:create"
    CLIENT_REVOKE = "scim:client:revoke"
    AUTH_FAILURE = "scim:auth:failure"
    USER_CREATE = "scim:user:create"
    USER_UPDATE = "scim:user:update"
    USER_DEACTIVATE = "scim:user:deactivate"
    USER_ACTIVATE = "scim:user:activate"
    USER_DELETE = "scim:user:delete"


class ScimRefusal(ServiceError):
    """A SCIM request the service cannot carry out; ``status`` and ``scim_type`` become the
    SCIM error document (RFC 7644 §3.12)."""

    def __init__(self, message: object, status: int = 400, scim_type: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.scim_type = scim_type


# --- clients ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedScimToken:
    client: ScimClient
    token: str  # shown once, never stored


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def clients_of(session: Session, agency: Agency) -> Sequence[ScimClient]:
    return session.scalars(
        select(ScimClient).where(ScimClient.agency_id == agency.id).order_by(ScimClient.id.desc())
    ).all()


def create_client(session: Session, actor: User, agency: Agency, name: str) -> IssuedScimToken:
    require_permission(actor, Permission.MANAGE_USERS)
    name = name.strip()
    if not name:
        raise ServiceError(_l("Ge klienten ett namn."), field="name")
    live = count_rows(
        session, ScimClient, ScimClient.agency_id == agency.id, ScimClient.revoked_at.is_(None)
    )
    if live >= MAX_CLIENTS_PER_AGENCY:
        raise ServiceError(
            _l(
                "Myndigheten har redan %(max)s SCIM-klienter. Återkalla en först.",
                max=MAX_CLIENTS_PER_AGENCY,
            )
        )
    token = SCIM_TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ScimClient(
        agency_id=agency.id,
        name=name[:80],
        prefix=token[:PREFIX_LENGTH],
        secret_hash=hash_secret(token),
        created_by_id=actor.id,
    )
    session.add(client)
    session.flush()
    record_event(session, actor, ScimTag.CLIENT_CREATE, on=client, details={"agency": agency.id})
    return IssuedScimToken(client, token)


def revoke_client(session: Session, actor: User, client: ScimClient) -> None:
    require_permission(actor, Permission.MANAGE_USERS)
    if client.revoked_at is not None:
        return
    client.revoked_at = utcnow()
    record_event(session, actor, ScimTag.CLIENT_REVOKE, on=client)


def authenticate_client(session: Session, presented: str) -> ScimClient | None:
    """The live client behind a bearer token, or None (unknown, revoked, agency inactive)."""
    if not presented.startswith(SCIM_TOKEN_PREFIX) or len(presented) > 100:
        return None
    client = session.scalar(
        select(ScimClient).where(ScimClient.secret_hash == hash_secret(presented))
    )
    if client is None or client.revoked_at is not None or not client.agency.active:
        return None
    now = utcnow()
    if client.last_used_at is None or now - client.last_used_at >= LAST_USED_RESOLUTION:
        client.last_used_at = now
    return client


def record_auth_failure(session: Session) -> None:
    record_event(session, None, ScimTag.AUTH_FAILURE)


# --- users as SCIM resources ---------------------------------------------------------------------


@dataclass
class Provisioned:
    """A user of the client's agency and their link; ``link`` is None until the first change
    through SCIM (a read never writes)."""

    user: User
    link: ScimLink | None

    def linked(self, session: Session, client: ScimClient) -> ScimLink:
        if self.link is None:
            self.link = ScimLink(
                user_id=self.user.id, agency_id=client.agency_id, updated_at=utcnow()
            )
            session.add(self.link)
        return self.link


def to_resource(found: Provisioned, location: str) -> ScimUser:
    user, link = found.user, found.link
    return ScimUser(
        id=str(user.id),
        external_id=link.external_id if link else None,
        user_name=user.email,
        display_name=user.display_name,
        active=user.active,
        emails=[Email(value=user.email, primary=True, type=Email.Type.work)],
        meta=Meta(
            resource_type="User",
            created=user.created_at,
            last_modified=link.updated_at if link else user.created_at,
            location=location,
            version=f'W/"{user.version}"',
        ),
    )


def _users_of(client: ScimClient) -> Select[User, ScimLink]:
    """Users of the client's agency with their link (if any); users the provider deleted are
    no longer SCIM resources."""
    return (
        select(User, ScimLink)
        .outerjoin(ScimLink, ScimLink.user_id == User.id)
        .where(User.agency_id == client.agency_id, ScimLink.deleted_at.is_(None))
    )


def user_for(session: Session, client: ScimClient, user_id: str) -> Provisioned:
    """One of the client's users by our id; 404 for an unknown id, another agency's user and
    a user the provider deleted alike."""
    number = plain_int(user_id)
    if number is None:
        raise ScimRefusal(_l("Kontot finns inte."), 404)
    row = session.execute(_users_of(client).where(User.id == number)).first()
    if row is None:
        raise ScimRefusal(_l("Kontot finns inte."), 404)
    return Provisioned(row[0], row[1])


def _indexed(query: Select[User, ScimLink], ast: object) -> Select[User, ScimLink] | None:
    """The two filters provisioning clients send, as SQL; None for any other filter."""
    if not isinstance(ast, Comparison) or ast.op is not CompareOperator.eq:
        return None
    if ast.attr_path.sub_attr is not None or ast.attr_path.uri is not None:
        return None
    attr = ast.attr_path.attr.lower()
    if attr == "username":
        return query.where(func.lower(User.email) == str(ast.value).strip().lower())
    if attr == "externalid":
        return query.where(ScimLink.external_id == str(ast.value))
    return None


def search(
    session: Session, client: ScimClient, filter_text: str | None, start: int, count: int
) -> tuple[int, list[Provisioned]]:
    """Users of the client's agency matching ``filter_text`` (RFC 7644 §3.4.2.2), one page.

    The filters provisioning clients send (``userName eq``, ``externalId eq``) are one indexed
    query; any other valid filter is matched by scim2-models over the agency's accounts, which
    a municipality counts in thousands, not millions."""
    query = _users_of(client).order_by(User.id)
    scim_filter = None
    if filter_text:
        # An invalid filter raises scim2-models' InvalidFilterException (400 invalidFilter).
        scim_filter = ScimFilter[ScimUser](filter_text)
        indexed = _indexed(query, scim_filter.ast)
        if indexed is not None:
            query, scim_filter = indexed, None
    rows = session.execute(query.limit(SEARCH_SCAN_LIMIT)).all()
    found = [Provisioned(user, link) for user, link in rows]
    if scim_filter is not None:
        found = [f for f in found if scim_filter.match(to_resource(f, ""))]
    return len(found), found[start - 1 : start - 1 + min(count, MAX_PAGE)]


# --- changes ----------------------------------------------------------------------------------


def _email(value: str | None) -> str:
    try:
        return normalise_email(validate_email(value or "", check_deliverability=False).normalized)
    except EmailNotValidError as error:
        raise ScimRefusal(
            _l("userName måste vara en e-postadress."), 400, "invalidValue"
        ) from error


def _email_taken(session: Session, email: str, user: User | None) -> bool:
    other = session.scalar(select(User.id).where(func.lower(User.email) == email))
    return other is not None and (user is None or other != user.id)


def create_user(session: Session, client: ScimClient, resource: ScimUser) -> Provisioned:
    """An account the provider creates: in the client's agency, without roles, memberships or
    a known password; it waits for an administrator or a coordinator to give it a role."""
    email = _email(resource.user_name)
    if _email_taken(session, email, None):
        raise ScimRefusal(
            _l("Det finns redan ett konto med den e-postadressen."), 409, "uniqueness"
        )
    _check_external_id(session, client, resource.external_id, None)
    user = User(
        agency_id=client.agency_id,
        email=email,
        display_name=(resource.display_name or email)[:200],
        # Nobody knows this password: the account signs in through the identity provider.
        password_hash=security.hash_password(secrets.token_urlsafe(32)),
        active=resource.active is not False,
    )
    session.add(user)
    session.flush()
    link = ScimLink(
        user_id=user.id,
        agency_id=client.agency_id,
        external_id=resource.external_id,
        provisioned=True,
        deactivated_by_provider=not user.active,
        updated_at=utcnow(),
    )
    session.add(link)
    session.flush()
    record_event(
        session,
        None,
        ScimTag.USER_CREATE,
        on=user,
        agency_id=client.agency_id,
        details={"client_id": client.id, "active": user.active},
    )
    return Provisioned(user, link)


def _check_external_id(
    session: Session, client: ScimClient, external_id: str | None, user: User | None
) -> None:
    if external_id is None:
        return
    if len(external_id) > 200:
        raise ScimRefusal(_l("externalId är för långt."), 400, "invalidValue")
    other = session.scalar(
        select(ScimLink.user_id).where(
            ScimLink.agency_id == client.agency_id, ScimLink.external_id == external_id
        )
    )
    if other is not None and (user is None or other != user.id):
        raise ScimRefusal(_l("externalId används redan av ett annat konto."), 409, "uniqueness")


def check_version(found: Provisioned, if_match: str | None) -> None:
    """``If-Match`` (RFC 7644 §3.14): a change to an older version is refused, not applied."""
    if if_match and if_match.strip() not in ("*", f'W/"{found.user.version}"'):
        raise ScimRefusal(_l("Kontot har ändrats sedan det lästes."), 412)


def apply(session: Session, client: ScimClient, found: Provisioned, wanted: ScimUser) -> None:
    """Make the account what ``wanted`` (a replacement, or the patched resource) says."""
    user, link = found.user, found.linked(session, client)
    changed: list[str] = []
    email = _email(wanted.user_name)
    if email != user.email:
        if _email_taken(session, email, user):
            raise ScimRefusal(
                _l("Det finns redan ett konto med den e-postadressen."), 409, "uniqueness"
            )
        user.email = email
        changed.append("userName")
    display_name = (wanted.display_name or user.display_name).strip()[:200]
    if display_name and display_name != user.display_name:
        user.display_name = display_name
        changed.append("displayName")
    if wanted.external_id != link.external_id:
        _check_external_id(session, client, wanted.external_id, user)
        link.external_id = wanted.external_id
        changed.append("externalId")
    if changed:
        link.updated_at = utcnow()
        session.flush()
        record_event(
            session,
            None,
            ScimTag.USER_UPDATE,
            on=user,
            agency_id=client.agency_id,
            details={"client_id": client.id, "fields": changed},
        )
    if wanted.active is not None:
        _set_active(session, client, found, bool(wanted.active))


def _set_active(session: Session, client: ScimClient, found: Provisioned, active: bool) -> None:
    user, link = found.user, found.linked(session, client)
    if active == user.active:
        return
    if active and not link.deactivated_by_provider:
        # An administrator deactivated it: the provider cannot undo that decision.
        return
    user.active = active
    link.deactivated_by_provider = not active
    link.updated_at = utcnow()
    if not active:
        _stop_access(session, user)
    session.flush()
    tag = ScimTag.USER_ACTIVATE if active else ScimTag.USER_DEACTIVATE
    record_event(
        session, None, tag, on=user, agency_id=client.agency_id, details={"client_id": client.id}
    )


def _stop_access(session: Session, user: User) -> None:
    """Every way in stops at once, as at a deactivation; the tokens' revocation events say
    the account was deprovisioned."""
    stop_access(session, None, user, EndReason.DEACTIVATED, revoke_reason="deprovisioned")


def delete_user(session: Session, client: ScimClient, found: Provisioned) -> None:
    """DELETE: the account is deactivated and leaves SCIM (a later GET answers 404); the row
    stays, since the audit log and the records name it."""
    user, link = found.user, found.linked(session, client)
    if user.active:
        user.active = False
        link.deactivated_by_provider = True
        _stop_access(session, user)
    link.deleted_at = link.updated_at = utcnow()
    session.flush()
    record_event(
        session,
        None,
        ScimTag.USER_DELETE,
        on=user,
        agency_id=client.agency_id,
        details={"client_id": client.id},
    )


def waiting_for_roles(session: Session, agency_id: int) -> Sequence[User]:
    """Active accounts the provider created that nobody has given a role yet."""
    return session.scalars(
        select(User)
        .join(ScimLink, ScimLink.user_id == User.id)
        .where(
            ScimLink.agency_id == agency_id,
            ScimLink.provisioned.is_(True),
            ScimLink.deleted_at.is_(None),
            User.active.is_(True),
            ~User.role_rows.any(),
        )
        .order_by(User.display_name)
    ).all()
