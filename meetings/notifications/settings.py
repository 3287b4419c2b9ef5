"""Each user's notification settings: per kind, shown in the app and sent by e-mail.

The kinds are registered by the packages that send them (``register_notification_kinds``, as
minutes registers its own from above), so the settings page lists every kind without this
package importing upward. A user without a row for a kind gets both channels; the old switch
for all e-mail (``NotificationPreference``) still applies on top, in the mail delivery.

``notify`` and ``notify_many`` ask ``channels_for`` before inserting: a kind switched off in
both channels is not created at all; off in the app only, the row is the e-mail's outbox entry
and is neither listed nor counted; off by e-mail only, it is inserted as already SKIPPED.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.errors import ServiceError
from coordination.models import User
from coordination.registry import NOTIFICATION_KINDS
from meetings.models import NotificationSetting

# The mail deliverer's code for a notification whose kind the recipient gets in the app only.
EMAIL_OFF_FOR_KIND = "email_disabled_for_kind"


@dataclass(frozen=True)
class Channels:
    in_app: bool = True
    email: bool = True

    @property
    def any(self) -> bool:
        return self.in_app or self.email


DEFAULT = Channels()


def register_notification_kinds(app: Flask, labels: Mapping[str, Any]) -> None:
    """A package names the kinds it sends, with their Swedish labels for the settings page."""
    NOTIFICATION_KINDS.add(app, {str(k): v for k, v in labels.items()})


def notification_kinds() -> dict[str, Any]:
    """The registered kinds and labels of the running app, in registration order."""
    if not has_app_context():
        return {}
    return {k: v for labels in NOTIFICATION_KINDS.of(current_app) for k, v in labels.items()}


def channels_for(session: Session, user_ids: Iterable[int], kind: str) -> dict[int, Channels]:
    """Each user's channels for ``kind``, in one query (users without a row: both on)."""
    ids = sorted(set(user_ids))
    found: dict[int, Channels] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(
                NotificationSetting.user_id, NotificationSetting.in_app, NotificationSetting.email
            ).where(
                NotificationSetting.kind == kind,
                NotificationSetting.user_id.in_(ids[start : start + 500]),
            )
        )
        found.update({row.user_id: Channels(row.in_app, row.email) for row in rows})
    return {user_id: found.get(user_id, DEFAULT) for user_id in ids}


def settings_of(session: Session, user: User) -> dict[str, Channels]:
    """The user's channels for every registered kind."""
    rows = {
        row.kind: Channels(row.in_app, row.email)
        for row in session.scalars(
            select(NotificationSetting).where(NotificationSetting.user_id == user.id)
        )
    }
    return {kind: rows.get(kind, DEFAULT) for kind in notification_kinds()}


def save_settings(session: Session, actor: User, wanted: Mapping[str, Channels]) -> int:
    """The actor's own settings (nobody sets anyone else's); returns how many kinds changed.
    A kind that is not registered is refused."""
    known = notification_kinds()
    unknown = [kind for kind in wanted if kind not in known]
    if unknown:
        raise ServiceError(_l("Okänd sorts notis."))
    existing = {
        row.kind: row
        for row in session.scalars(
            select(NotificationSetting).where(NotificationSetting.user_id == actor.id)
        )
    }
    changed = 0
    for kind, channels in wanted.items():
        row = existing.get(kind)
        if row is None:
            if channels == DEFAULT:
                continue
            session.add(
                NotificationSetting(
                    user_id=actor.id, kind=kind, in_app=channels.in_app, email=channels.email
                )
            )
            changed += 1
        elif (row.in_app, row.email) != (channels.in_app, channels.email):
            row.in_app, row.email = channels.in_app, channels.email
            changed += 1
    session.flush()
    return changed
