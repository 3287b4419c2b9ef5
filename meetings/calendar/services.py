"""Calendar files (RFC 5545): one ``.ics`` per meeting, and a secret per-user feed.

A calendar leaves the application: it lands on phones and in mail servers. So it carries the
council's name, the time, the place and a link back, never names, pseudonyms or anything from
the agenda. Feed URLs hold a random token; only its SHA-256 is stored, the token itself is shown
once, and revoking the token ends the feed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Sequence

import icalendar
from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from coordination.audit.log import record_event
from coordination.db import LOCAL_ZONE, utcnow
from coordination.models import CouncilMembership, User
from meetings.models import Attendance, CalendarFeedToken, Meeting, MeetingStatus
from meetings.tags import MeetingTag

PRODID = "-//Samverkan//Möten//SV"
UID_DOMAIN = "samverkan"
FEED_PAST = relativedelta(months=3)
FEED_FUTURE = relativedelta(months=6)

ICS_STATUS = {
    MeetingStatus.PLANNED: "CONFIRMED",
    MeetingStatus.HELD: "CONFIRMED",
    MeetingStatus.CANCELLED: "CANCELLED",
}


def meeting_uid(meeting: Meeting) -> str:
    """Stable across renders and changes: calendars update the event instead of adding one."""
    return f"meeting-{meeting.id}@{UID_DOMAIN}"


def _offset_change(
    observance: icalendar.cal.Component,
    name: str,
    start: dt.datetime,
    hours_from: int,
    hours_to: int,
) -> icalendar.cal.Component:
    """One of Stockholm's yearly offset changes, on the last Sunday of ``start``'s month."""
    observance.add("tzname", name)
    observance.add("dtstart", start)
    observance.add("tzoffsetfrom", dt.timedelta(hours=hours_from))
    observance.add("tzoffsetto", dt.timedelta(hours=hours_to))
    observance.add("rrule", {"freq": "yearly", "bymonth": start.month, "byday": "-1su"})
    return observance


def stockholm_timezone() -> icalendar.Timezone:
    """VTIMEZONE for Europe/Stockholm with the EU summer-time rules (last Sunday of March at
    02:00 to the last Sunday of October at 03:00), as rules rather than a list of dates."""
    tz = icalendar.Timezone()
    tz.add("tzid", LOCAL_ZONE.key)
    tz.add("x-lic-location", LOCAL_ZONE.key)
    # Local wall times, as RFC 5545 wants them in a VTIMEZONE.
    summer_starts = dt.datetime(1970, 3, 29, 2, 0, 0)  # noqa: DTZ001
    winter_starts = dt.datetime(1970, 10, 25, 3, 0, 0)  # noqa: DTZ001
    tz.add_component(_offset_change(icalendar.TimezoneDaylight(), "CEST", summer_starts, 1, 2))
    tz.add_component(_offset_change(icalendar.TimezoneStandard(), "CET", winter_starts, 2, 1))
    return tz


def meeting_event(meeting: Meeting, link: str, stamp: dt.datetime) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", meeting_uid(meeting))
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("dtstart", meeting.starts_at.astimezone(LOCAL_ZONE))
    event.add("dtend", meeting.ends_at.astimezone(LOCAL_ZONE))
    event.add("sequence", meeting.sequence)
    event.add("status", ICS_STATUS[meeting.status])
    # The council's name and "möte": never who attends or whom the meeting is about.
    event.add("summary", _("%(council)s – möte", council=meeting.council.name))
    if meeting.location:
        event.add("location", meeting.location)
    lines = []
    if meeting.video_link:
        lines.append(_("Videolänk: %(link)s", link=meeting.video_link))
    lines.append(_("Mötet i Samverkan: %(link)s", link=link))
    event.add("description", "\n".join(lines))
    event.add("url", link)
    event.add("transp", "TRANSPARENT" if meeting.status is MeetingStatus.CANCELLED else "OPAQUE")
    return event


def render_calendar(
    meetings: Sequence[Meeting],
    link: Callable[[Meeting], str],
    *,
    now: dt.datetime | None = None,
    name: str | None = None,
) -> bytes:
    """A VCALENDAR with the Stockholm VTIMEZONE and one VEVENT per meeting."""
    stamp = (now or utcnow()).replace(microsecond=0)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    if name:
        cal.add("x-wr-calname", name)
        cal.add("x-wr-timezone", LOCAL_ZONE.key)
    cal.add_component(stockholm_timezone())
    for meeting in meetings:
        cal.add_component(meeting_event(meeting, link(meeting), stamp))
    return cal.to_ical()


def log_meeting_export(session: Session, actor: User, meeting: Meeting) -> None:
    record_event(session, actor, MeetingTag.CALENDAR_EXPORT, on=meeting)


# --- The per-user feed --------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def active_feed_token(session: Session, user: User) -> CalendarFeedToken | None:
    return session.scalars(
        select(CalendarFeedToken)
        .where(CalendarFeedToken.user_id == user.id, CalendarFeedToken.revoked_at.is_(None))
        .order_by(CalendarFeedToken.id.desc())
    ).first()


def _revoke_active(session: Session, user: User) -> list[int]:
    now = utcnow()
    rows = session.scalars(
        select(CalendarFeedToken).where(
            CalendarFeedToken.user_id == user.id, CalendarFeedToken.revoked_at.is_(None)
        )
    ).all()
    for row in rows:
        row.revoked_at = now
    session.flush()
    return [row.id for row in rows]


def create_feed_token(session: Session, actor: User) -> tuple[CalendarFeedToken, str]:
    """A new secret feed URL for the actor; an older one stops working. Returns the row and
    the token, which is not stored anywhere and must be shown to the user now."""
    replaced = _revoke_active(session, actor)
    token = secrets.token_urlsafe(32)
    row = CalendarFeedToken(user_id=actor.id, token_hash=hash_token(token))
    session.add(row)
    session.flush()
    record_event(
        session, actor, MeetingTag.FEED_TOKEN_CREATE, on=row, details={"replaced": replaced}
    )
    return row, token


def revoke_feed_token(session: Session, actor: User) -> int:
    """End the actor's feed; returns how many tokens were ended (0 when there was none)."""
    revoked = _revoke_active(session, actor)
    if revoked:
        record_event(
            session,
            actor,
            MeetingTag.FEED_TOKEN_REVOKE,
            object_type="calendar_feed_token",
            object_ids=revoked,
        )
    return len(revoked)


def find_feed_token(session: Session, token: str) -> CalendarFeedToken | None:
    if not token or len(token) > 100:
        return None
    return session.scalars(
        select(CalendarFeedToken).where(CalendarFeedToken.token_hash == hash_token(token))
    ).one_or_none()


def mark_feed_used(row: CalendarFeedToken, now: dt.datetime | None = None) -> None:
    row.last_used_at = now or utcnow()


def feed_meetings(session: Session, user: User, now: dt.datetime | None = None) -> list[Meeting]:
    """Meetings of the user's councils, and those they are a guest at, from three months back
    to six months ahead (cancelled ones included, so calendars remove them)."""
    now = now or utcnow()
    councils = select(CouncilMembership.council_id).where(CouncilMembership.user_id == user.id)
    as_guest = select(Attendance.meeting_id).where(
        Attendance.user_id == user.id, Attendance.guest.is_(True)
    )
    return list(
        session.scalars(
            select(Meeting)
            .where(
                or_(Meeting.council_id.in_(councils), Meeting.id.in_(as_guest)),
                Meeting.starts_at >= now - FEED_PAST,
                Meeting.starts_at <= now + FEED_FUTURE,
            )
            .options(selectinload(Meeting.council))
            .order_by(Meeting.starts_at, Meeting.id)
        ).all()
    )
