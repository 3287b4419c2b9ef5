"""Pages: the user's own notifications, marking them read, and e-mail on or off.

A user sees only notifications addressed to them; anyone else's is refused (logged 403), the
same as a notification that does not exist, so ids reveal nothing. The header's unread count
comes from a context processor: one COUNT, only when the page shows the header to a logged-in
user.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import SQLAlchemyError
from wtforms import BooleanField

from coordination.db import db_session
from coordination.errors import NotFound
from coordination.notices import register_notice_sink
from coordination.numbers import page_count
from coordination.web import params
from coordination.web.forms import translated_labels
from coordination.web.page import FormInvalid, PageBlueprint, actor
from coordination.web.registries import register_user_column, user_column
from meetings.models import EmailStatus, Notification
from meetings.notifications import services as notifications
from meetings.notifications import settings
from meetings.notifications.notices import store_notice
from meetings.notifications.settings import (
    Channels,
    notification_kinds,
    register_notification_kinds,
)

bp = PageBlueprint("notifications", __name__, template_folder="templates")

PAGE_SIZE = 50
EMAIL_STATUS_LABELS = {
    EmailStatus.PENDING: _l("E-post väntar"),
    EmailStatus.SENT: _l("E-post skickad"),
    EmailStatus.FAILED: _l("E-post kunde inte skickas"),
    EmailStatus.SKIPPED: _l("Ingen e-post"),
}
# Without an SMTP server nothing is waiting to be sent: the deliverer will skip the row.
NO_SMTP_LABEL = _l("Ingen e-post (ingen e-postserver är inställd)")


def email_status_labels() -> dict[EmailStatus, str]:
    """The outbox's e-mail column, true to this installation: "E-post väntar" only when an
    SMTP server is configured to send it."""
    labels = translated_labels(EMAIL_STATUS_LABELS)
    if not current_app.config.get("SMTP_HOST"):
        labels[EmailStatus.PENDING] = str(NO_SMTP_LABEL)
    return labels


class EmailPreferenceForm(FlaskForm):
    email_enabled = BooleanField(_l("Skicka mina notiser även med e-post"))


class ConfirmForm(FlaskForm):
    """A button: nothing but the CSRF token."""


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # Lower layers' notices (an information request) go to this outbox.
    register_notice_sink(app, store_notice)
    app.context_processor(_header_context)
    register_user_column(app, "unread_notifications", notifications.unread_count_column)
    register_notification_kinds(app, notifications.KIND_LABELS)


def _unread_for_header() -> int | None:
    """Counted in the statement that loads the logged-in user (no query of its own), never for
    anonymous visitors; otherwise (a user not loaded from the session) on first use."""
    if "unread_notifications" not in g:
        count: int | None = None
        if current_user.is_authenticated:
            count = user_column("unread_notifications")
            if count is None:
                try:
                    count = notifications.unread_count(db_session(), current_user)
                except SQLAlchemyError:
                    count = None  # an error page after a failed transaction still renders
        g.unread_notifications = count
    value: int | None = g.unread_notifications
    return value


def _header_context() -> dict[str, Any]:
    return {"unread_notification_count": _unread_for_header}


def _own_notification(notification_id: int) -> Notification:
    """The actor's own notification; anyone else's is refused like an unknown id."""
    notification = db_session().get(Notification, notification_id)
    if notification is None or notification.recipient_id != actor().id:
        raise NotFound(object_type="notification", object_ids=[notification_id])
    return notification


@bp.page("/notifications")
def index() -> ResponseReturnValue:
    session = db_session()
    user = actor()
    page = params.page_number()
    rows, total = notifications.notifications_of(session, user, page=page, page_size=PAGE_SIZE)
    form = EmailPreferenceForm(email_enabled=notifications.email_enabled(session, user))
    return render_template(
        "meetings/notifications/index.html",
        notifications=rows,
        total=total,
        page=page,
        pages=page_count(total, PAGE_SIZE),
        form=form,
        email_labels=email_status_labels(),
    )


@bp.page("/notifications/<int:notification_id>/read", methods=["POST"])
def mark_read(notification_id: int) -> ResponseReturnValue:
    notification = _own_notification(notification_id)
    if ConfirmForm().validate_on_submit():
        notifications.mark_read(db_session(), actor(), notification)
    return redirect(url_for("notifications.index", page=params.page_number()))


@bp.page("/notifications/read-all", methods=["POST"])
def mark_all_read() -> ResponseReturnValue:
    if ConfirmForm().validate_on_submit():
        count = notifications.mark_all_read(db_session(), actor())
        if count:
            flash(_("Alla notiser är markerade som lästa."), "success")
    return redirect(url_for("notifications.index"))


@bp.page("/notifications/email", methods=["POST"])
def email_preference() -> ResponseReturnValue:
    form = EmailPreferenceForm()
    if form.validate_on_submit():
        notifications.set_email_enabled(db_session(), actor(), bool(form.email_enabled.data))
        flash(
            _("Dina notiser skickas även med e-post.")
            if form.email_enabled.data
            else _("Dina notiser visas bara här, inte med e-post."),
            "success",
        )
    return redirect(url_for("notifications.index"))


@bp.page("/notifications/settings", methods=["GET", "POST"])
def settings_page() -> ResponseReturnValue:
    """The actor's own settings, per kind: in the app, by e-mail. Nobody else's: the page has
    no user in its address, and the service writes the actor's rows only."""
    session = db_session()
    user = actor()
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            raise FormInvalid()
        wanted = {
            kind: Channels(
                in_app=request.form.get(f"in_app-{kind}") == "on",
                email=request.form.get(f"email-{kind}") == "on",
            )
            for kind in notification_kinds()
        }
        settings.save_settings(session, user, wanted)
        flash(_("Dina notisinställningar är sparade."), "success")
        return redirect(url_for("notifications.settings_page"))
    return render_template(
        "meetings/notifications/settings.html",
        form=form,
        kinds=notification_kinds(),
        chosen=settings.settings_of(session, user),
        email_enabled=notifications.email_enabled(session, user),
    )
