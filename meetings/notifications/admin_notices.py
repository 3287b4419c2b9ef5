"""Notices to the administrators from the ground floor's nightly reports (the unused accounts),
delivered through the outbox. ``coordination.admin.unused`` calls what is registered here; the
ground floor never imports this package.

The text is a count and a number of days with a link to the administration page: no names,
no e-mail addresses (DESIGN rule 7).
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from coordination.admin.unused import AdminNotice, register_admin_notifier
from coordination.models import User
from meetings.notifications.services import (
    LOCALES,
    Message,
    NotificationKind,
    PlannedNotification,
    notify_many,
)


def unused_accounts_message(recipient: User, count: int, days: int, link: str) -> Message:
    locale = recipient.locale if recipient.locale in LOCALES else "sv"
    with force_locale(locale):
        return Message(
            subject=_("Konton som inte har använts på %(days)s dagar: %(n)s", days=days, n=count),
            body=_(
                "%(n)s konton har inte loggat in på %(days)s dagar. Se listan under "
                "Administration och inaktivera de konton som inte längre behövs.",
                n=count,
                days=days,
            ),
            link=link,
        )


def notify_administrators(session: Session, recipients: Sequence[User], notice: AdminNotice) -> int:
    """One notification per administrator and night (the dedup key holds the day)."""
    planned = []
    for recipient in recipients:
        message = unused_accounts_message(recipient, notice.count, notice.days, notice.link)
        planned.append(
            PlannedNotification(
                recipient=recipient,
                kind=NotificationKind.UNUSED_ACCOUNTS,
                subject=message.subject,
                body=message.body,
                link=message.link,
                dedup_key=f"{notice.kind}:{notice.day.isoformat()}:{recipient.id}",
            )
        )
    return notify_many(session, planned)


def init_app(app: Flask) -> None:
    register_admin_notifier(app, notify_administrators)
