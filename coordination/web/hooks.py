"""Per-request plumbing: loading the user, session limits, security headers, locale."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from babel.support import NullTranslations, Translations
from flask import (
    Flask,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, joinedload
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response
from wtforms.i18n import messages_path

from coordination.accounts import session_redis
from coordination.accounts.providers.assurance import (
    assurance_of_session,
    attach_session_assurance,
)
from coordination.accounts.services import record_logout
from coordination.accounts.session_redis import redis_sessions
from coordination.accounts.sessions import (
    EndReason,
    ProviderOrigin,
    UserSession,
    end_session_row,
    hash_session_id,
    open_session,
)
from coordination.api.problems import ApiError, is_api_request, render_api_error
from coordination.db import UTCDateTime, db_session, utcnow
from coordination.errors import PermissionDenied
from coordination.models import User
from coordination.registry import (
    ADMIN_SECTIONS,
    COUNCIL_SECTIONS,
    REVIEW_SECTIONS,
    USER_COLUMNS,
)
from coordination.web.converters import MAX_DB_ID, DatabaseIdConverter, _format_local, url_for_ids
from coordination.web.errors import _render_csrf_error, render_error
from coordination.web.extensions import (
    LOCALES,
    babel,
    csrf,
    limiter,
    login_manager,
    use_lazy_text,
)
from coordination.web.page import page_locale, refused_access_page
from coordination.web.params import refuse_nul_bytes

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


def init_app(app: Flask) -> None:
    hops = app.config["PROXY_FIX_HOPS"]
    if hops:
        # Behind ``hops`` trusted proxies the client's address (rate limits, the log) and the
        # scheme and host (redirects, secure cookies) come from their X-Forwarded-* headers.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
    app.url_map.converters["int"] = DatabaseIdConverter
    csrf.init_app(app)
    login_manager.init_app(app)
    session_redis.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Logga in för att se sidan.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "Europe/Stockholm")
    use_lazy_text(app)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    app.before_request(refuse_nul_bytes)
    app.before_request(_use_worker_form_catalog)
    app.before_request(_enforce_session_limits)
    app.after_request(_security_headers)
    app.context_processor(_template_globals)
    app.jinja_env.filters["localtime"] = _format_local
    app.jinja_env.globals["url_for_ids"] = url_for_ids
    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, render_error)
    app.register_error_handler(CSRFError, _render_csrf_error)
    app.register_error_handler(ApiError, render_api_error)
    app.register_error_handler(PermissionDenied, refused_access_page)


def _user_statement(*, with_session_row: bool = True) -> Select[Any]:
    """The user with agency (joined by default), roles, council memberships and the registered
    columns, by id. Built
    once per app: its structure holds no data (the id is a parameter). Without the session
    row's check where Redis answers it (``SESSION_REDIS_URL``)."""
    extensions = current_app.extensions
    key = "samverkan.user_statement" if with_session_row else "samverkan.user_statement_only"
    if key not in extensions:
        columns = dict(USER_COLUMNS.of(current_app))
        statement = (
            select(User, *(make().label(name) for name, make in columns.items()))
            .where(User.id == bindparam("user_id"))
            # The viewer's council memberships too: every council page's access check and
            # every reveal's policy facts read them, a lazy load each otherwise.
            .options(joinedload(User.role_rows), joinedload(User.memberships))
        )
        if with_session_row:
            # The session row by its primary key, correlated with the user: a revoked,
            # expired or foreign session id loads no user, in the same statement.
            statement = statement.where(
                select(UserSession.sid_hash)
                .where(
                    UserSession.sid_hash == bindparam("sid_hash"),
                    UserSession.user_id == User.id,
                    UserSession.ended_at.is_(None),
                    UserSession.expires_at > bindparam("now", type_=UTCDateTime()),
                )
                .exists()
            )
        extensions[key] = statement
    built: Select[Any] = extensions[key]
    return built


def _load_user(user_id: str) -> User | None:
    """The cookie holds ``<id>.<epoch>`` and the session id; a raised epoch or an ended
    session row (log-out, log out everywhere, a password reset, deactivation) ends the session.
    One statement: the session check, the roles and what every page shows of the user."""
    try:
        raw_id, raw_epoch = user_id.split(".", 1)
        uid, epoch = int(raw_id), int(raw_epoch)
    except ValueError:
        return None
    sid = session.get("sid")
    if not 0 < uid <= MAX_DB_ID or not isinstance(sid, str) or not sid:
        return None
    sid_hash = hash_session_id(sid)
    store = redis_sessions()
    if store is not None:
        # One GET in Redis (constant cost), then the user alone.
        if not store.holds(sid_hash, uid):
            return None
        statement = _user_statement(with_session_row=False)
        parameters: dict[str, object] = {"user_id": uid}
    else:
        statement = _user_statement()
        parameters = {"user_id": uid, "sid_hash": sid_hash, "now": utcnow()}
    row = db_session().execute(statement, parameters).unique().one_or_none()
    if row is None:
        return None
    user: User = row[0]
    if user.session_epoch != epoch or not user.is_active:
        return None
    g.samverkan_user_columns = row._asdict()
    attach_session_assurance(
        user, assurance_of_session(current_app.config, session, user.agency.required_assurance)
    )
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
        return str(_form_catalog(page_locale()).ugettext(string))

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return str(_form_catalog(page_locale()).ungettext(singular, plural, n))


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


def start_session(
    session_db: Session, user: User, method: str, origin: ProviderOrigin | None = None
) -> None:
    """A fresh cookie session for a fully authenticated user: old session state is dropped,
    and a new session row is opened for the id the cookie carries (with the identity provider
    the log-in came from, ``origin``)."""
    locale = session.get("locale")
    end_session_row(session_db, session.get("sid"), EndReason.LOGOUT)
    session.clear()
    login_user(user, remember=False, fresh=True)
    now = int(utcnow().timestamp())
    lifetime = dt.timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    session["sid"] = open_session(session_db, user, method=method, lifetime=lifetime, origin=origin)
    session["auth_method"] = method
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


def is_probe_request() -> bool:
    """The operations endpoints (/healthz, /readyz, /metrics): no session, no user, no cookie."""
    return (request.blueprint or "").startswith("ops_")


def _enforce_session_limits() -> ResponseReturnValue | None:
    if (
        request.endpoint == "static"
        or is_api_request()
        or is_probe_request()
        or not current_user.is_authenticated
    ):
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
        return _require_own_password()
    dbs = db_session()
    record_logout(dbs, current_user, expired=expired)
    end_session_row(dbs, session.get("sid"), EndReason.EXPIRED)
    dbs.commit()
    end_session()
    flash(
        _l("Du har loggats ut efter en tids inaktivitet.")
        if expired == "idle"
        else _l("Din inloggning har gått ut. Logga in igen."),
        "info",
    )
    return redirect(url_for("auth.login"))


# What a user with an administrator's start password may reach before setting their own.
START_PASSWORD_ENDPOINTS = frozenset({"auth.start_password", "auth.logout", "auth.locale"})


def _require_own_password() -> ResponseReturnValue | None:
    """A start password (a new account, a reset) is replaced before anything else is shown."""
    if not current_user.must_change_password or request.endpoint in START_PASSWORD_ENDPOINTS:
        return None
    return redirect(url_for("auth.start_password"))


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if not is_probe_request() and current_user and current_user.is_authenticated:
        # Pages about people must not linger in shared caches or the browser's back history.
        headers.setdefault("Cache-Control", "no-store")
    if current_app.config["ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    return response


def _template_globals() -> dict[str, Any]:
    return {
        "admin_sections": ADMIN_SECTIONS.of(current_app),
        "council_sections": COUNCIL_SECTIONS.of(current_app),
        "review_sections": REVIEW_SECTIONS.of(current_app),
        "two_factor_required": current_app.config["REQUIRE_2FA"],
        "current_locale": select_locale(),
        "locales": LOCALES,
    }
