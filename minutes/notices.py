"""The notifications the minutes services send when something happens (the sweeps' reminders
are in ``minutes.jobs``): minutes sent for approval (to the chair and the adjuster), approved and
locked or sent back (to the secretary), an action assigned to a person (to that person).

Content-free like every notification (DESIGN rule 7): the council's name and the meeting's day,
a link of ids; never the child, a pseudonym, an entry or an action's text. Nobody is told what
they did themselves. Each has a dedup key fixed by what happened (the minutes' version for a
submission or a sending back, which rises with each), so a retried request sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from babel.dates import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE
from coordination.models import User
from meetings.models import Meeting
from meetings.notifications.services import (
    Message,
    PlannedNotification,
    Texts,
    localised_message,
    notify_many,
)
from minutes.jobs import MinutesNotificationKind, action_path, minutes_path
from minutes.models import AgreedAction, Minutes


def _day(meeting: Meeting, locale: str) -> str:
    return format_date(
        meeting.starts_at.astimezone(LOCAL_ZONE).date(), "d MMMM yyyy", locale=locale
    )


# The subject and body of each notice about the minutes themselves.
MINUTES_TEXTS: dict[MinutesNotificationKind, Texts] = {
    MinutesNotificationKind.MINUTES_SUBMITTED: (
        _l("Protokollet från %(council)s %(day)s är skickat till dig för justering"),
        _l(
            "Protokollet från mötet i %(council)s %(day)s är klart för justering. Läs det "
            "och justera det i Samverkan, eller skicka tillbaka det för ändring."
        ),
    ),
    MinutesNotificationKind.MINUTES_APPROVED: (
        _l("Protokollet från %(council)s %(day)s är justerat"),
        _l(
            "Ordföranden och justeraren har justerat protokollet från mötet i %(council)s "
            "%(day)s. Det är låst; ändringar görs som rättelser."
        ),
    ),
    MinutesNotificationKind.MINUTES_SENT_BACK: (
        _l("Protokollet från %(council)s %(day)s är skickat tillbaka för ändring"),
        _l(
            "Protokollet från mötet i %(council)s %(day)s justerades inte och är ett utkast "
            "igen. Gör ändringarna i Samverkan och skicka det för justering på nytt."
        ),
    ),
}


ASSIGNED_TEXTS = (
    _l("Du är ansvarig för en åtgärd från %(council)s"),
    _l(
        "På mötet i %(council)s %(day)s blev du ansvarig för en överenskommen åtgärd "
        "som ska vara klar %(due)s. Se åtgärden i Samverkan."
    ),
)


def assigned_message(recipient: User, meeting: Meeting, action: AgreedAction) -> Message:
    def values(locale: str) -> dict[str, str]:
        due = format_date(action.due_on, "d MMMM yyyy", locale=locale)
        return {"council": meeting.council.name, "day": _day(meeting, locale), "due": due}

    return localised_message(recipient, ASSIGNED_TEXTS, action_path(action), values)


def _send(
    session: Session,
    actor: User,
    recipients: Iterable[User | None],
    kind: MinutesNotificationKind,
    build: Callable[[User], Message],
    key: str,
) -> int:
    planned: list[PlannedNotification] = []
    seen: set[int] = set()
    for user in recipients:
        if user is None or user.id == actor.id or user.id in seen or not user.is_active:
            continue
        seen.add(user.id)
        message = build(user)
        planned.append(PlannedNotification.of(user, kind, message, f"{key}:{user.id}"))
    return notify_many(session, planned) if planned else 0


def _notify_minutes(
    session: Session,
    actor: User,
    meeting: Meeting,
    recipients: Iterable[User | None],
    kind: MinutesNotificationKind,
    key: str,
) -> int:
    def values(locale: str) -> dict[str, str]:
        return {"council": meeting.council.name, "day": _day(meeting, locale)}

    def build(user: User) -> Message:
        return localised_message(user, MINUTES_TEXTS[kind], minutes_path(meeting.id), values)

    return _send(session, actor, recipients, kind, build, key)


def notify_submitted(session: Session, actor: User, meeting: Meeting, minutes: Minutes) -> int:
    """The chair and the adjuster: the minutes wait for their approval."""
    key = f"minutes-submitted:{minutes.id}:{minutes.version}"
    recipients = [meeting.chair, minutes.adjuster]
    kind = MinutesNotificationKind.MINUTES_SUBMITTED
    return _notify_minutes(session, actor, meeting, recipients, kind, key)


def _secretaries(session: Session, meeting: Meeting, minutes: Minutes) -> list[User | None]:
    """The meeting's secretary (minute taker) and whoever sent the minutes for approval."""
    submitter = session.get(User, minutes.submitted_by_id) if minutes.submitted_by_id else None
    return [meeting.minute_taker, submitter]


def notify_approved(session: Session, actor: User, meeting: Meeting, minutes: Minutes) -> int:
    """The secretary: the minutes are approved and locked."""
    key = f"minutes-approved:{minutes.id}"
    recipients = _secretaries(session, meeting, minutes)
    kind = MinutesNotificationKind.MINUTES_APPROVED
    return _notify_minutes(session, actor, meeting, recipients, kind, key)


def notify_sent_back(session: Session, actor: User, meeting: Meeting, minutes: Minutes) -> int:
    """The secretary: the chair or the adjuster sent the minutes back to draft."""
    key = f"minutes-sent-back:{minutes.id}:{minutes.version}"
    recipients = _secretaries(session, meeting, minutes)
    kind = MinutesNotificationKind.MINUTES_SENT_BACK
    return _notify_minutes(session, actor, meeting, recipients, kind, key)


def notify_assigned(
    session: Session, actor: User, meeting: Meeting, action: AgreedAction, user: User | None
) -> int:
    """The person made responsible for a new action."""
    return _send(
        session,
        actor,
        [user],
        MinutesNotificationKind.ACTION_ASSIGNED,
        lambda recipient: assigned_message(recipient, meeting, action),
        f"action-assigned:{action.id}",
    )
