"""Who sees what in the log review: the agency's own users' events, widened by the scopes
upper layers register (coordination never imports them), and the names of tags and objects."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent, AuditTag
from coordination.errors import PermissionDenied
from coordination.models import User
from coordination.policy import Permission, has_permission
from coordination.registry import AUDIT_SCOPES, AUDIT_TAG_LABELS, AuditScope

TAG_LABELS: dict[str, Any] = {
    AuditTag.AUTH_LOGIN_SUCCESS: _l("Inloggning"),
    AuditTag.AUTH_LOGIN_FAILURE: _l("Misslyckad inloggning"),
    AuditTag.AUTH_LOGOUT: _l("Utloggning"),
    AuditTag.AUTH_LOGOUT_EVERYWHERE: _l("Utloggning överallt"),
    AuditTag.AUTH_LOCKOUT: _l("Konto spärrat efter misslyckade inloggningar"),
    AuditTag.AUTH_SESSION_EXPIRED: _l("Inloggning utgången"),
    AuditTag.AUTH_PASSWORD_CHANGE: _l("Lösenord bytt"),
    AuditTag.AUTH_TWO_FACTOR_ENROL: _l("Tvåfaktorsinloggning inställd"),
    AuditTag.AUTH_TWO_FACTOR_FAILURE: _l("Fel tvåfaktorskod"),
    AuditTag.AUTH_RECOVERY_CODE_USE: _l("Reservkod använd"),
    AuditTag.AUTH_RECOVERY_CODES_CREATE: _l("Reservkoder skapade"),
    AuditTag.ADMIN_AGENCY_CREATE: _l("Myndighet skapad"),
    AuditTag.ADMIN_AGENCY_UPDATE: _l("Myndighet ändrad"),
    AuditTag.ADMIN_USER_CREATE: _l("Konto skapat"),
    AuditTag.ADMIN_USER_UPDATE: _l("Konto ändrat"),
    AuditTag.ADMIN_USER_DEACTIVATE: _l("Konto inaktiverat"),
    AuditTag.ADMIN_USER_ACTIVATE: _l("Konto aktiverat"),
    AuditTag.ADMIN_USER_RESET_TWO_FACTOR: _l("Tvåfaktorsinloggning återställd"),
    AuditTag.ADMIN_USER_UNLOCK: _l("Konto upplåst"),
    AuditTag.ADMIN_USER_RESET_PASSWORD: _l("Lösenord återställt av administratör"),
    AuditTag.ADMIN_UNUSED_ACCOUNTS_REPORT: _l("Rapport om oanvända konton"),
    AuditTag.ADMIN_COUNCIL_CREATE: _l("Forum skapat"),
    AuditTag.ADMIN_COUNCIL_UPDATE: _l("Forum ändrat"),
    AuditTag.ADMIN_MEMBERSHIP_ADD: _l("Medlem tillagd"),
    AuditTag.ADMIN_MEMBERSHIP_UPDATE: _l("Medlemsroll ändrad"),
    AuditTag.ADMIN_MEMBERSHIP_REMOVE: _l("Medlem borttagen"),
    AuditTag.ACCESS_DENIED: _l("Åtkomst nekad"),
    AuditTag.AUDIT_EXPORT: _l("Logg exporterad"),
    AuditTag.AUDIT_REVIEW_SIGN: _l("Loggkontroll signerad"),
    AuditTag.AUDIT_CHECKPOINT: _l("Kontrollpunkt i loggkedjan"),
    AuditTag.AUDIT_CHECKPOINTS_EXPORT: _l("Kontrollpunkter exporterade"),
}

OBJECT_TYPE_LABELS: dict[str, Any] = {
    "user": _l("konto"),
    "agency": _l("myndighet"),
    "council": _l("forum"),
    "membership": _l("medlemskap"),
    "child": _l("barn"),
    "record": _l("uppgift"),
    "log_review": _l("loggkontroll"),
    "audit_checkpoint": _l("kontrollpunkt"),
}

# --- Extension points ---------------------------------------------------------------------------


def register_audit_scope(app: Flask, scope: AuditScope) -> None:
    """An upper layer widens what an agency's auditor sees: ``scope(session, agency_id)``
    returns a condition over ``AuditEvent`` (e.g. events about the agency's records)."""
    AUDIT_SCOPES.add(app, scope)


def register_tag_labels(app: Flask, labels: Mapping[str, Any]) -> None:
    """An upper layer names its event tags for the log review."""
    AUDIT_TAG_LABELS.add(app, labels)


def audit_scopes(app: Flask) -> list[AuditScope]:
    return AUDIT_SCOPES.of(app)


def tag_labels(app: Flask) -> dict[str, Any]:
    return {
        **{str(tag): label for tag, label in TAG_LABELS.items()},
        **{tag: label for labels in AUDIT_TAG_LABELS.of(app) for tag, label in labels.items()},
    }


def require_reviewer(actor: User) -> None:
    """Only the agency's log reviewers read its log (pages and API alike); a refusal is logged
    with the endpoint that was asked for."""
    if not has_permission(actor, Permission.REVIEW_AGENCY_LOG):
        raise PermissionDenied()


def visible_to_agency(
    session: Session, agency_id: int, scopes: Iterable[AuditScope]
) -> ColumnElement[bool]:
    """The events an agency's auditor may see: its users' events, and whatever the registered
    scopes add."""
    return or_(
        AuditEvent.actor_agency_id == agency_id, *(scope(session, agency_id) for scope in scopes)
    )
