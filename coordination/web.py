"""Web plumbing shared by every package: extensions, login, sessions, headers, errors, locale."""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Callable
from typing import Any

from babel.support import NullTranslations, Translations
from flask import (
    Flask,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import Babel, format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import AnonymousUserMixin, LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy.orm import Session, joinedload
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response
from wtforms.i18n import messages_path

from coordination.api.problems import ApiError, is_api_request, problem_response, render_api_error
from coordination.db import LOCAL_ZONE, db_session, utcnow
from coordination.models import Council, User
from coordination.services import record_logout

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[], strategy="moving-window")

LOCALES = ("sv", "en")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


# Seconds between refreshes of the session's last-seen time (see _enforce_session_limits).
SEEN_AT_RESOLUTION = 60

# The largest id a 32-bit INTEGER column holds: a larger number in a URL is simply not found,
# instead of an out-of-range error from PostgreSQL.
MAX_DB_ID = 2**31 - 1


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` in every route: non-negative and within the database's integer range."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_DB_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseIdConverter
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Logga in för att se sidan.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "Europe/Stockholm")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    app.before_request(_use_worker_form_catalog)
    app.before_request(_enforce_session_limits)
    app.after_request(_security_headers)
    app.context_processor(_template_globals)
    app.jinja_env.filters["localtime"] = _format_local
    app.jinja_env.globals["url_for_ids"] = url_for_ids
    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, _render_error)
    app.register_error_handler(CSRFError, _render_csrf_error)
    app.register_error_handler(ApiError, render_api_error)


UserColumn = Callable[[], ColumnElement[Any]]


def register_user_column(app: Flask, name: str, column: UserColumn) -> None:
    """Upper layers add a value about the logged-in user that every page shows (the header's
    unread count) to the statement that loads the user, instead of a query of their own on
    every page: ``column`` makes an expression correlated with ``User`` (a scalar subquery).
    The page reads it with :func:`user_column`."""
    app.extensions.setdefault("samverkan.user_columns", {})[name] = column


def user_column(name: str) -> Any:
    """A registered value loaded with this request's logged-in user; None when no user was
    loaded from the session (anonymous, or an API call authenticated by token)."""
    values: dict[str, Any] = g.get("samverkan_user_columns", {})
    return values.get(name)


def _user_statement() -> Select[Any]:
    """The user with agency (joined by default), roles and the registered columns, by id. Built
    once per app: its structure holds no data (the id is a parameter)."""
    extensions = current_app.extensions
    if "samverkan.user_statement" not in extensions:
        columns: dict[str, UserColumn] = extensions.get("samverkan.user_columns", {})
        extensions["samverkan.user_statement"] = (
            select(User, *(make().label(name) for name, make in columns.items()))
            .where(User.id == bindparam("user_id"))
            .options(joinedload(User.role_rows))
        )
    statement: Select[Any] = extensions["samverkan.user_statement"]
    return statement


def _load_user(user_id: str) -> User | None:
    """The cookie holds ``<id>.<epoch>``; a raised epoch (logout everywhere) ends the session.
    One statement: the roles and what every page shows of the user come with it."""
    try:
        raw_id, raw_epoch = user_id.split(".", 1)
        uid, epoch = int(raw_id), int(raw_epoch)
    except ValueError:
        return None
    if not 0 < uid <= MAX_DB_ID:
        return None
    row = db_session().execute(_user_statement(), {"user_id": uid}).unique().one_or_none()
    if row is None:
        return None
    user: User = row[0]
    if user.session_epoch != epoch or not user.is_active:
        return None
    g.samverkan_user_columns = row._asdict()
    return user


@functools.cache
def _form_catalog(locale: str) -> NullTranslations:
    """WTForms' own messages (not a number, not one of the choices) in one locale: read from
    disk once per worker, not once per request."""
    return Translations.load(messages_path(), [locale], domain="wtforms")


class _WorkerFormCatalog:
    """What Flask-WTF looks for as ``request.wtforms_translations`` (without it, it loads the
    catalog from disk on every request that builds a form, about 0.7 ms): the worker's catalog
    of the request's locale, chosen when the first message is translated."""

    def ugettext(self, string: str) -> str:
        return str(_form_catalog(str(get_locale() or "sv")).ugettext(string))

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return str(_form_catalog(str(get_locale() or "sv")).ungettext(singular, plural, n))


def _use_worker_form_catalog() -> None:
    request.wtforms_translations = _WorkerFormCatalog()  # type: ignore[attr-defined]


def select_locale() -> str:
    if not has_request_context():
        return "sv"  # CLI and scheduler jobs speak Swedish
    user = current_user
    if user and user.is_authenticated and user.locale in LOCALES:
        return str(user.locale)
    chosen = session.get("locale")
    return chosen if chosen in LOCALES else "sv"


def start_session(session_db: Session, user: User) -> None:
    """A fresh cookie session for a fully authenticated user: old session state is dropped."""
    locale = session.get("locale")
    session.clear()
    login_user(user, remember=False, fresh=True)
    now = int(utcnow().timestamp())
    session["sid"] = secrets.token_urlsafe(16)
    session["login_at"] = now
    session["seen_at"] = now
    if locale:
        session["locale"] = locale


def end_session() -> None:
    locale = session.get("locale")
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale


def _enforce_session_limits() -> ResponseReturnValue | None:
    if request.endpoint == "static" or is_api_request() or not current_user.is_authenticated:
        return None  # the API reads no session cookie: it authenticates every call by token
    now = int(utcnow().timestamp())
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    absolute = current_app.config["SESSION_MAX_HOURS"] * 3600
    expired = None
    if now - int(session.get("seen_at", 0)) > idle:
        expired = "idle"
    elif now - int(session.get("login_at", 0)) > absolute:
        expired = "absolute"
    if expired is None:
        if now - int(session.get("seen_at", 0)) >= SEEN_AT_RESOLUTION:
            # Re-signing the cookie on every request costs more than the check; refreshing it
            # at most once a minute ends an idle session up to a minute early, never late.
            session["seen_at"] = now
        return None
    dbs = db_session()
    record_logout(dbs, current_user, expired=expired)
    dbs.commit()
    end_session()
    flash(
        _l("Du har loggats ut efter en tids inaktivitet.")
        if expired == "idle"
        else _l("Din inloggning har gått ut. Logga in igen."),
        "info",
    )
    return redirect(url_for("auth.login"))


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_user and current_user.is_authenticated:
        # Pages about people must not linger in shared caches or the browser's back history.
        headers.setdefault("Cache-Control", "no-store")
    if current_app.config["ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    return response


def register_council_section(app: Flask, endpoint: str, label: Any) -> None:
    """Upper layers add their pages to the council page's menu without coordination importing
    them: (endpoint taking ``council_id``, label)."""
    app.extensions.setdefault("samverkan.council_sections", []).append((endpoint, label))


CouncilPanel = Callable[[Session, User, Council], str | None]


def register_council_panel(app: Flask, panel: CouncilPanel) -> None:
    """Upper layers add a part to the council page (members only): a function returning HTML
    rendered by the upper layer, or None. The upper layer serves what it owns."""
    app.extensions.setdefault("samverkan.council_panels", []).append(panel)


def council_panels(session: Session, user: User, council: Council) -> list[str]:
    panels: list[CouncilPanel] = current_app.extensions.get("samverkan.council_panels", [])
    return [html for panel in panels if (html := panel(session, user, council))]


def register_admin_section(app: Flask, endpoint: str, label: Any) -> None:
    """Upper layers add pages to the administration menu (endpoint without arguments)."""
    app.extensions.setdefault("samverkan.admin_sections", []).append((endpoint, label))


def _template_globals() -> dict[str, Any]:
    return {
        "admin_sections": current_app.extensions.get("samverkan.admin_sections", []),
        "council_sections": current_app.extensions.get("samverkan.council_sections", []),
        "two_factor_required": current_app.config["REQUIRE_2FA"],
        "current_locale": select_locale(),
        "locales": LOCALES,
    }


# Patterns made of numbers only need no locale data: strftime gives Babel's result in a tenth
# of the time (a child page formats a time per record).
NUMERIC_PATTERNS = {
    "yyyy-MM-dd HH:mm": "%Y-%m-%d %H:%M",
    "yyyy-MM-dd HH:mm:ss": "%Y-%m-%d %H:%M:%S",
    "yyyy-MM-dd": "%Y-%m-%d",
    "HH:mm": "%H:%M",
}


def _format_local(value: dt.datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A time in Swedish local time (the zone Babel is given too), in a CLDR pattern."""
    if value is None:
        return ""
    numeric = NUMERIC_PATTERNS.get(fmt)
    if numeric is not None and isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(LOCAL_ZONE).strftime(numeric)
    return format_datetime(value, fmt)


# An id no row has (the largest the database holds), standing in for the id in url_for_ids.
_ID_MARKER = str(MAX_DB_ID)


def url_for_ids(endpoint: str, key: str, **values: Any) -> Callable[[int], str]:
    """``url_for(endpoint, key=id, **values)`` for many ids (one link per row of a list):
    the URL is built once and the id put in its place, about a tenth of url_for's time."""
    arguments: dict[str, Any] = {**values, key: MAX_DB_ID}
    prefix, suffix = url_for(endpoint, **arguments).rsplit(_ID_MARKER, 1)
    return lambda object_id: f"{prefix}{int(object_id)}{suffix}"


ERROR_TITLES = {
    400: _l("Felaktig begäran"),
    403: _l("Åtkomst nekad"),
    404: _l("Sidan finns inte"),
    405: _l("Metoden är inte tillåten"),
    413: _l("För stor begäran"),
    429: _l("För många försök"),
    500: _l("Något gick fel"),
}
ERROR_TEXTS = {
    400: _l("Begäran kunde inte behandlas. Gå tillbaka och försök igen."),
    403: _l("Du har inte behörighet till den här sidan."),
    404: _l("Sidan du söker finns inte eller har flyttats."),
    405: _l("Sidan kan inte användas på det sättet."),
    413: _l("Det du skickade är för stort."),
    429: _l("Du har gjort för många försök på kort tid. Vänta en stund och försök igen."),
    500: _l("Ett oväntat fel inträffade. Felet är loggat; försök igen om en stund."),
}


def _render_error(error: Exception) -> ResponseReturnValue:
    code = error.code if isinstance(error, HTTPException) and error.code else 500
    if is_api_request():
        headers = {}
        if isinstance(error, HTTPException) and code in (405, 429):
            headers = {k: v for k, v in error.get_headers() if k in ("Allow", "Retry-After")}
        return problem_response(code, headers=headers)
    return (
        render_template(
            "errors/error.html",
            code=code,
            title=ERROR_TITLES.get(code, ERROR_TITLES[500]),
            text=ERROR_TEXTS.get(code, ERROR_TEXTS[500]),
        ),
        code,
    )


def _render_csrf_error(error: CSRFError) -> tuple[str, int]:
    text = _l(
        "Formuläret hade gått ut eller saknade säkerhetstoken. Ladda om sidan och försök igen."
    )
    return render_template("errors/error.html", code=400, title=ERROR_TITLES[400], text=text), 400


class Anonymous(AnonymousUserMixin):
    roles: frozenset[str] = frozenset()

    def has_role(self, role: object) -> bool:
        return False


login_manager.anonymous_user = Anonymous
