"""Notifications: the outbox that the app shows and the scheduler e-mails.

A notification only says that something needs attention, with a link: DESIGN rule 7. Its texts
are therefore never free text. They are built here from fixed templates that take a council's
name, a meeting's time and ids (``agenda_preparation_message``, ``meeting_reminder_message``),
and the link is a path made of fixed words and ids (``SAFE_LINK``). Names, pseudonyms and record
content have no way in: none of the builders accepts them.

``notify`` is idempotent per ``dedup_key``: the jobs are sweeps that may run twice, or again
after a crash, and a second insert of the same key changes nothing (``INSERT ... ON CONFLICT DO
NOTHING`` on PostgreSQL and SQLite, so two concurrent sweeps cannot both insert it either).
E-mail delivery lives in ``meetings.notifications.mail``.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date, format_time
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import ColumnElement, ScalarSelect, and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from coordination.db import LOCAL_ZONE, count_rows, execute_bulk, utcnow
from coordination.errors import ServiceError
from coordination.models import User
from meetings.models import EmailStatus, Notification, NotificationPreference
from meetings.notifications.settings import EMAIL_OFF_FOR_KIND, Channels, channels_for

# A link is a path of fixed lower-case words and numeric ids, e.g. "/meetings/12". Nothing else
# fits, so no name, pseudonym, query string or outside address can ride along.
SAFE_LINK = re.compile(r"/(?:[a-z0-9_-]+/)*[a-z0-9_-]*")
LOCALES = ("sv", "en")


class NotificationKind(enum.StrEnum):
    AGENDA_PREPARATION = "agenda_preparation"
    MEETING_REMINDER = "meeting_reminder"
    UNUSED_ACCOUNTS = "unused_accounts"
    DISCLOSURE_LAPSING = "disclosure_lapsing"


KIND_LABELS: dict[str, Any] = {
    NotificationKind.AGENDA_PREPARATION: _l("Dagordningen behöver förberedas"),
    NotificationKind.MEETING_REMINDER: _l("Påminnelse om möte"),
    NotificationKind.DISCLOSURE_LAPSING: _l("Ett utlämnande upphör snart"),
    NotificationKind.UNUSED_ACCOUNTS: _l("Konton som inte har använts"),
}


@dataclass(frozen=True)
class Message:
    """The three texts of one notification, in the recipient's language."""

    subject: str
    body: str
    link: str


def meeting_path(meeting_id: int) -> str:
    """The meeting page (served by the meetings pages), by id only."""
    return f"/meetings/{int(meeting_id)}"


def locale_of(user: User) -> str:
    return user.locale if user.locale in LOCALES else "sv"


# A notification's subject and body: lazy strings with ``%(name)s`` placeholders.
Texts = tuple[LazyString, LazyString]


def localised_message(
    recipient: User, texts: Texts, link: str, values: Callable[[str], Mapping[str, str]]
) -> Message:
    """A notification in the recipient's language: ``texts`` filled with ``values(locale)``
    (council names, days and times; never a person or a child)."""
    locale = locale_of(recipient)
    filled = values(locale)
    subject, body = texts
    with force_locale(locale):
        return Message(subject=str(subject) % filled, body=str(body) % filled, link=link)


def _when(starts_at: dt.datetime, locale: str) -> tuple[str, str]:
    """("12 mars", "13:00") in Swedish local time, in the recipient's language."""
    local = starts_at.astimezone(LOCAL_ZONE)
    return (
        format_date(local.date(), "d MMMM", locale=locale),
        format_time(local.time(), "HH:mm", locale=locale),
    )


MEETING_TEXTS: dict[NotificationKind, Texts] = {
    NotificationKind.AGENDA_PREPARATION: (
        _l("Dagordningen för %(council)s %(day)s behöver förberedas"),
        _l(
            "Mötet i %(council)s hålls %(day)s kl. %(time)s. Förbered dagordningen i "
            "Samverkan: vilka barn som ska tas upp och en kort lägesbeskrivning för varje."
        ),
    ),
    NotificationKind.MEETING_REMINDER: (
        _l("Påminnelse: möte i %(council)s %(day)s kl. %(time)s"),
        _l(
            "Du är kallad till mötet i %(council)s %(day)s kl. %(time)s. Dagordningen finns "
            "i Samverkan."
        ),
    ),
}


def _meeting_message(
    kind: NotificationKind,
    recipient: User,
    council_name: str,
    starts_at: dt.datetime,
    meeting_id: int,
) -> Message:
    def values(locale: str) -> dict[str, str]:
        day, time = _when(starts_at, locale)
        return {"council": council_name, "day": day, "time": time}

    return localised_message(recipient, MEETING_TEXTS[kind], meeting_path(meeting_id), values)


def agenda_preparation_message(
    recipient: User, council_name: str, starts_at: dt.datetime, meeting_id: int
) -> Message:
    """To social services a week ahead: the agenda (children, briefs) needs preparing."""
    kind = NotificationKind.AGENDA_PREPARATION
    return _meeting_message(kind, recipient, council_name, starts_at, meeting_id)


def meeting_reminder_message(
    recipient: User, council_name: str, starts_at: dt.datetime, meeting_id: int
) -> Message:
    """To the invited a day ahead: the meeting is coming up."""
    kind = NotificationKind.MEETING_REMINDER
    return _meeting_message(kind, recipient, council_name, starts_at, meeting_id)


def _check(kind: str, subject: str, body: str, link: str, dedup_key: str) -> None:
    """Programming errors, not user input: the builders above never trip these."""
    if not SAFE_LINK.fullmatch(link) or len(link) > 500:
        raise ValueError("a notification link is an internal path of words and ids")
    if not subject or len(subject) > 300 or any(c in subject for c in "\r\n"):
        raise ValueError("a notification subject is one line of at most 300 characters")
    if not body or not kind or len(kind) > 60:
        raise ValueError("a notification needs a kind and a body")
    if not dedup_key or len(dedup_key) > 200:
        raise ValueError("a notification needs a dedup key of at most 200 characters")


def notify(
    session: Session,
    recipient: User,
    *,
    kind: str,
    subject: str,
    body: str,
    link: str,
    dedup_key: str,
) -> Notification | None:
    """Put one notification in the outbox; None when ``dedup_key`` is already there.

    Race-safe: a concurrent transaction inserting the same key makes this one a no-op once it
    commits (the unique index decides, never a read-then-write). Flushes, never commits.
    """
    _check(kind, subject, body, link, dedup_key)
    channels = channels_for(session, [recipient.id], kind)[recipient.id]
    if not channels.any:
        return None  # the recipient switched this kind off
    values = {
        "recipient_id": recipient.id,
        "kind": kind,
        "subject": subject,
        "body": body,
        "link": link,
        "dedup_key": dedup_key,
        "created_at": utcnow(),
        "attempts": 0,
        **_channel_values(channels),
    }
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(Notification)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[Notification.dedup_key])
            .returning(Notification.id)
        )
        new_id = session.execute(statement).scalar_one_or_none()
        return None if new_id is None else session.get(Notification, new_id)
    # Any other database: a savepoint keeps the caller's transaction usable after the clash.
    notification = Notification(**values)
    try:
        with session.begin_nested():
            session.add(notification)
    except IntegrityError:
        return None
    return notification


def _channel_values(channels: Channels) -> dict[str, object]:
    """The columns that carry the recipient's choice: shown in the app, e-mailed or not."""
    if channels.email:
        return {"in_app": channels.in_app, "email_status": EmailStatus.PENDING, "last_error": None}
    return {
        "in_app": channels.in_app,
        "email_status": EmailStatus.SKIPPED,
        "last_error": EMAIL_OFF_FOR_KIND,
    }


@dataclass(frozen=True)
class PlannedNotification:
    """One notification for ``notify_many``: ``notify``'s arguments."""

    recipient: User
    kind: str
    subject: str
    body: str
    link: str
    dedup_key: str

    @classmethod
    def of(
        cls, recipient: User, kind: str, message: Message, dedup_key: str
    ) -> PlannedNotification:
        """The notification that carries ``message`` (its texts in the recipient's language)."""
        return cls(
            recipient=recipient,
            kind=kind,
            subject=message.subject,
            body=message.body,
            link=message.link,
            dedup_key=dedup_key,
        )


def notify_many(session: Session, planned: Sequence[PlannedNotification], batch: int = 500) -> int:
    """``notify`` for many at once (a reminder sweep): one INSERT per batch of 500 instead of
    two statements per notification, with the same guarantees (checked, de-duplicated by the
    unique index, race-safe, flushed, never committed). Returns how many were new."""
    for item in planned:
        _check(item.kind, item.subject, item.body, item.link, item.dedup_key)
    # The recipients' choices, one query per kind; the switched-off ones are dropped here.
    channels: dict[tuple[str, int], Channels] = {}
    for kind in {item.kind for item in planned}:
        ids = [item.recipient.id for item in planned if item.kind == kind]
        for user_id, chosen in channels_for(session, ids, kind).items():
            channels[(kind, user_id)] = chosen
    planned = [item for item in planned if channels[(item.kind, item.recipient.id)].any]
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        return sum(
            notify(
                session,
                item.recipient,
                kind=item.kind,
                subject=item.subject,
                body=item.body,
                link=item.link,
                dedup_key=item.dedup_key,
            )
            is not None
            for item in planned
        )
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    created = 0
    for start in range(0, len(planned), batch):
        rows = [
            {
                "recipient_id": item.recipient.id,
                "kind": item.kind,
                "subject": item.subject,
                "body": item.body,
                "link": item.link,
                "dedup_key": item.dedup_key,
                "created_at": now,
                "attempts": 0,
                **_channel_values(channels[(item.kind, item.recipient.id)]),
            }
            for item in planned[start : start + batch]
        ]
        statement = (
            insert(Notification)
            .values(rows)
            .on_conflict_do_nothing(index_elements=[Notification.dedup_key])
            .returning(Notification.id)
        )
        created += len(session.execute(statement).all())
    return created


def existing_dedup_keys(session: Session, keys: Sequence[str], batch: int = 500) -> set[str]:
    """Which of ``keys`` are already in the outbox (lets a re-run skip them in a few queries)."""
    found: set[str] = set()
    for start in range(0, len(keys), batch):
        chunk = list(keys[start : start + batch])
        found.update(
            session.scalars(select(Notification.dedup_key).where(Notification.dedup_key.in_(chunk)))
        )
    return found


# --- The in-app list ------------------------------------------------------------------------------


def _in_app_of(recipient_id: int | InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """The recipient's rows in the app's list (not the outbox rows of e-mail-only kinds)."""
    return and_(Notification.recipient_id == recipient_id, Notification.in_app.is_(True))


def _unread_in_app_of(recipient_id: int | InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """The recipient's rows in the app's list not yet read: what the header counts."""
    return and_(_in_app_of(recipient_id), Notification.read_at.is_(None))


def unread_count_column() -> ScalarSelect[int]:
    """``unread_count`` as a column of the statement that loads the logged-in user (correlated
    with ``User``): the header's count comes with the user, not in a query of its own."""
    return (
        select(func.count())
        .select_from(Notification)
        .where(_unread_in_app_of(User.id))
        .correlate(User)
        .scalar_subquery()
    )


def unread_count(session: Session, user: User) -> int:
    """One COUNT over the (recipient_id, read_at) index, for the header."""
    return count_rows(session, Notification, _unread_in_app_of(user.id))


def notifications_of(
    session: Session, user: User, *, page: int, page_size: int
) -> tuple[Sequence[Notification], int]:
    """One page of the user's notifications, newest first, and the total."""
    total = count_rows(session, Notification, _in_app_of(user.id))
    rows = session.scalars(
        select(Notification)
        .where(_in_app_of(user.id))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return rows, total


def _require_own(actor: User, notification: Notification) -> None:
    if notification.recipient_id != actor.id:
        raise ServiceError(_l("Notisen tillhör någon annan."))


def mark_read(session: Session, actor: User, notification: Notification) -> None:
    _require_own(actor, notification)
    if notification.read_at is None:
        notification.read_at = utcnow()
        session.flush()


def mark_all_read(session: Session, actor: User) -> int:
    """One UPDATE; returns how many were unread."""
    return execute_bulk(
        session, update(Notification).where(_unread_in_app_of(actor.id)).values(read_at=utcnow())
    )


def email_enabled(session: Session, user: User) -> bool:
    """E-mail is on unless the user switched it off."""
    enabled = session.scalar(
        select(NotificationPreference.email_enabled).where(
            NotificationPreference.user_id == user.id
        )
    )
    return True if enabled is None else bool(enabled)


def set_email_enabled(session: Session, actor: User, enabled: bool) -> None:
    """The user's own choice; notifications stay in the app either way."""
    preference = session.get(NotificationPreference, actor.id)
    if preference is None:
        session.add(NotificationPreference(user_id=actor.id, email_enabled=enabled))
    else:
        preference.email_enabled = enabled
    session.flush()
