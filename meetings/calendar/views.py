"""Pages: a meeting's calendar file, the user's secret calendar feed link, and the feed itself.

A calendar leaves the application, so it carries time, place and a link back, never anything
from the agenda (``meetings.calendar.services``). The feed is read by calendar apps that cannot
log in: the token in its URL is the credential.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from coordination.db import db_session
from coordination.models import User
from coordination.policy import Need
from coordination.web.page import PageBlueprint, actor
from meetings.agenda.forms import FeedTokenForm
from meetings.agenda.views import requested_meeting
from meetings.calendar import services as calendar
from meetings.models import Meeting

bp = PageBlueprint("calendar", __name__, template_folder="templates")

ICS_MIMETYPE = "text/calendar"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def absolute(path: str) -> str:
    """Links that leave the app (calendar entries, feed URLs) use the configured BASE_URL, so
    they are right behind any proxy; without it, the request's own host."""
    base = current_app.config.get("BASE_URL")
    return f"{str(base).rstrip('/')}{path}" if base else f"{request.host_url.rstrip('/')}{path}"


def _meeting_link(meeting: Meeting) -> str:
    return absolute(url_for("meetings.meeting", meeting_id=meeting.id))


def _ics_response(body: bytes, filename: str | None = None) -> Response:
    response = Response(body, mimetype=ICS_MIMETYPE)
    response.headers["Content-Type"] = f"{ICS_MIMETYPE}; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.page("/meetings/<int:meeting_id>/meeting.ics")
def meeting_ics(meeting_id: int) -> ResponseReturnValue:
    session, meeting = requested_meeting(meeting_id, Need.VIEW)
    body = calendar.render_calendar([meeting], _meeting_link)
    calendar.log_meeting_export(session, actor(), meeting)  # an audit event of the export
    return _ics_response(body, f"mote-{meeting.id}.ics")


@bp.page("/calendar")
def calendar_page() -> ResponseReturnValue:
    return render_template(
        "meetings/calendar.html",
        token=calendar.active_feed_token(db_session(), actor()),
        form=FeedTokenForm(formdata=None),
        past_months=calendar.FEED_PAST.months,
        future_months=calendar.FEED_FUTURE.months,
    )


@bp.page("/calendar/token", methods=["POST"])
def create_feed_token() -> ResponseReturnValue:
    if not FeedTokenForm().validate_on_submit():
        return redirect(url_for("calendar.calendar_page"))
    row, token = calendar.create_feed_token(db_session(), actor())
    # Shown once, in this response: the token is not stored anywhere it could be read back.
    feed_url = absolute(url_for("calendar.feed", token=token))
    return render_template("meetings/feed_created.html", feed_url=feed_url, row=row)


@bp.page("/calendar/token/revoke", methods=["POST"])
def revoke_feed_token() -> ResponseReturnValue:
    form = FeedTokenForm()
    if form.validate_on_submit():
        if calendar.revoke_feed_token(db_session(), actor()):
            flash(_("Kalenderlänken är återkallad och slutar fungera nu."), "success")
        else:
            flash(_("Du har ingen aktiv kalenderlänk."), "info")
    return redirect(url_for("calendar.calendar_page"))


def _plain(text: str, status: int) -> Response:
    response = Response(text, status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.page("/calendar/<token>.ics", public=True)
def feed(token: str) -> ResponseReturnValue:
    """The secret feed: no login (calendar apps cannot log in); the token is the credential.

    The one write of this GET is the token's ``last_used_at``, which the calendar page shows so
    that a user can spot a leaked link: bookkeeping of the credential presented, like an API
    token's last use, not data the read is about (the crawl tests allow exactly that column).
    """
    session = db_session()
    row = calendar.find_feed_token(session, token)
    if row is None:
        return _plain(_("Kalenderlänken finns inte."), 404)
    owner = session.get(User, row.user_id)
    if row.revoked_at is not None or owner is None or not owner.is_active:
        return _plain(_("Kalenderlänken har återkallats."), 410)
    body = calendar.render_calendar(
        calendar.feed_meetings(session, owner), _meeting_link, name=_("Samverkan – möten")
    )
    calendar.mark_feed_used(row)
    return _ics_response(body)
