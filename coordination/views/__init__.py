"""Blueprints of the ground floor and the small helpers every view uses."""

from __future__ import annotations

from typing import NoReturn

from flask import abort
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from coordination.audit import AuditTag, record_event
from coordination.models import User
from coordination.policy import Permission, has_permission
from coordination.services import ServiceError


def actor() -> User:
    """The logged-in user as a model instance, for passing explicitly to services."""
    user: User = current_user._get_current_object()
    return user


def deny(session: Session, object_type: str, object_id: int) -> NoReturn:
    """403, logged: a refused attempt is itself worth a look in the log review."""
    record_event(
        session, actor(), AuditTag.ACCESS_DENIED, object_type=object_type, object_ids=[object_id]
    )
    session.commit()
    abort(403)


def require_permission(permission: Permission) -> None:
    if not has_permission(actor(), permission):
        abort(403)


def show_service_error(form: FlaskForm, error: ServiceError) -> str | None:
    """Put the message next to its field; return it when it belongs to the whole form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*list(field.errors), error.message]
        return None
    return str(error.message)
