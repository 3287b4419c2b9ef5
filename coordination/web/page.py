"""The page wrapper every HTML view runs through, and the few helpers a view needs.

A view is declared on a :class:`PageBlueprint` with ``@bp.page(rule, methods=...)``. The wrapper

* requires a logged-in user (unless ``public=True``),
* lets the view load (through its feature's ``access.py``), check, call one service, and
  render or redirect,
* commits the request's unit of work once, after the view returned,
* rolls back on any exception, and maps the refusals:

  - ``PermissionDenied`` and ``NotFound`` (from an access function or a service): the
    ``access:denied`` event is recorded and committed, and the page answers 403 — one answer
    for an unknown and a forbidden object, so ids cannot be probed;
  - ``ServiceError`` (and an invalid form, and a stale version): the refusal registered with
    :func:`on_refusal` shows the form again with the message next to its field (status 422),
    or flashes it and redirects; the view events of the page shown again are committed;

so a view never calls ``commit()`` or ``rollback()`` itself. The JSON API has its own wrapper
with the same mapping (``coordination.api.core``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import Forbidden

from coordination.audit.log import AuditTag, record_event
from coordination.db import db_session
from coordination.errors import ConflictError, PermissionDenied, ServiceError, lost_a_race
from coordination.models import User
from coordination.policy import Permission
from coordination.policy import require_permission as require_role_permission
from coordination.web.errors import render_error
from coordination.web.extensions import login_manager

INVALID_FORM = _l("Formuläret innehåller fel. Se meddelandena vid fälten.")

ViewFunc = Callable[..., ResponseReturnValue]
Render = Callable[[str | None], ResponseReturnValue]


class FormInvalid(ServiceError):
    """The form did not validate; its fields carry the messages."""

    def __init__(self) -> None:
        super().__init__(INVALID_FORM)


@dataclass
class Refusal:
    """How this request shows a refused change: the form whose fields get the message, and
    either a page shown again (``render(message)``) or a redirect with the message flashed."""

    form: FlaskForm | None = None
    render: Render | None = None
    redirect_to: str | None = None


def on_refusal(
    form: FlaskForm | None = None,
    render: Render | None = None,
    *,
    redirect_to: str | None = None,
) -> None:
    """Declare how a refused change is shown; call it before the service. ``render`` gets
    the message that belongs to the whole form (None when it was put next to a field)."""
    g.page_refusal = Refusal(form, render, redirect_to)


def require_valid(form: FlaskForm) -> None:
    """The form validated (CSRF included), or the request is refused with its messages."""
    if not form.validate_on_submit():
        raise FormInvalid()


def button_post(
    form: FlaskForm, back: str, change: Callable[[], object], done: str | None = None
) -> ResponseReturnValue:
    """A small form that goes back to ``back`` whatever happens (a button, a select): one that
    did not validate (a stale CSRF token) just goes back; else ``change`` runs (a refusal is
    flashed) and ``done``, when given, is flashed as the success."""
    if not form.validate_on_submit():
        return redirect(back)
    on_refusal(redirect_to=back)
    change()
    if done is not None:
        flash(done, "success")
    return redirect(back)


def actor() -> User:
    """The logged-in user as a model instance, for passing explicitly to services."""
    user: User = current_user._get_current_object()
    return user


def page_locale() -> str:
    """The request's language code, as the user or the log-in page chose it ("sv" or "en")."""
    return str(get_locale() or "sv")


def deny(session: Session, object_type: str, object_id: int) -> NoReturn:
    """Refuse the request: the wrapper logs ``access:denied`` for the object and answers 403."""
    raise PermissionDenied(object_type=object_type, object_ids=[object_id])


def require_permission(permission: Permission) -> None:
    """The user's roles grant ``permission``, or the request is refused (403, logged)."""
    require_role_permission(actor(), permission)


def show_service_error(form: FlaskForm, error: ServiceError) -> str | None:
    """Put the message next to its field; return it when it belongs to the whole form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*list(field.errors), error.message]
        return None
    return str(error.message)


def record_refusal(session: Session, user: User | None, error: ServiceError) -> None:
    """``access:denied`` for a refused request, in its own committed transaction: what was
    refused (object type and ids) when the refusal says, else the endpoint."""
    session.rollback()
    object_type = getattr(error, "object_type", None)
    object_ids: Iterable[int] = getattr(error, "object_ids", ())
    details = {} if object_type else {"endpoint": str(request.endpoint or "")}
    record_event(
        session,
        user,
        AuditTag.ACCESS_DENIED,
        object_type=object_type,
        object_ids=object_ids,
        details=details,
    )
    session.commit()


def refuse_access(error: ServiceError) -> NoReturn:
    """Log the refusal and answer 403."""
    user = actor() if current_user.is_authenticated else None
    record_refusal(db_session(), user, error)
    abort(403)


def refused_access_page(error: PermissionDenied) -> ResponseReturnValue:
    """The app's error handler for a refusal raised outside the wrapper (a request hook):
    logged and answered like the wrapper's."""
    user = actor() if current_user.is_authenticated else None
    record_refusal(db_session(), user, error)
    return render_error(Forbidden())


def _show_refusal(session: Session, error: ServiceError) -> ResponseReturnValue:
    """The refused change as the view declared it; nothing the request changed is kept."""
    session.rollback()
    session.expire_all()
    refusal: Refusal = g.get("page_refusal") or Refusal()
    form = refusal.form
    message = show_service_error(form, error) if form is not None else str(error.message)
    # templates/_forms.html: an invalid form's own error summary lists its fields, so the
    # page's summary leaves out the general sentence ("Formuläret innehåller fel").
    invalid = isinstance(error, FormInvalid) and form is not None and bool(form.errors)
    g.summarised_message = message if invalid else None
    if refusal.render is not None:
        response = make_response(refusal.render(message))
        response.status_code = 409 if isinstance(error, ConflictError) else 422
        session.commit()  # the view events of the page shown again
        return response
    flash(message or str(error.message), "error")
    if refusal.redirect_to is not None:
        return redirect(refusal.redirect_to)
    return render_template(
        "errors/error.html", code=422, title=_l("Det gick inte"), text=error.message
    ), 422


def _run_page(fn: ViewFunc, kwargs: dict[str, Any]) -> ResponseReturnValue:
    session = db_session()
    g.page_refusal = None
    try:
        try:
            response = fn(**kwargs)
            session.commit()
            return response
        except StaleDataError as exc:
            session.rollback()  # a failed flush: the message's locale reads the user again
            raise ConflictError() from exc
        except IntegrityError as exc:
            session.rollback()
            if not lost_a_race(exc):
                raise
            raise ConflictError() from exc
    except PermissionDenied as exc:
        refuse_access(exc)
    except ServiceError as exc:
        try:
            return _show_refusal(session, exc)
        except PermissionDenied as again:
            refuse_access(again)
    except BaseException:
        session.rollback()
        raise


def page_view(fn: ViewFunc, *, public: bool = False) -> ViewFunc:
    """``fn`` run through the wrapper (see the module's docstring)."""

    @functools.wraps(fn)
    def view(**kwargs: Any) -> ResponseReturnValue:
        if not public and not current_user.is_authenticated:
            return login_manager.unauthorized()
        return _run_page(fn, kwargs)

    view.samverkan_page = True  # type: ignore[attr-defined]
    return view


class PageBlueprint(Blueprint):
    """A blueprint whose HTML views are declared with :meth:`page` and so run through the
    wrapper."""

    def page(
        self,
        rule: str,
        *,
        methods: Iterable[str] = ("GET",),
        public: bool = False,
        endpoint: str | None = None,
        **options: Any,
    ) -> Callable[[ViewFunc], ViewFunc]:
        def decorator(fn: ViewFunc) -> ViewFunc:
            self.add_url_rule(
                rule,
                endpoint=endpoint or fn.__name__,
                view_func=page_view(fn, public=public),
                methods=list(methods),
                **options,
            )
            return fn

        return decorator
