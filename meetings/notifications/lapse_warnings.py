"""Fourteen days ahead: the owner agency hears that one of its disclosures will lapse by itself
(the child reaches the basis's age limit, a consent's end date comes, a rule ends).

The days are the secrecy module's own verdict (``secrecy.disclosure.lapse.upcoming_lapses``, the
code the nightly sweep ends disclosures with), asked for the coming days. The notification goes
to the person who decided the disclosure, or when they are gone (inactive, moved to another
agency) to the owner agency's active members of the child's council. It names the lapse day and
links to the child's page by id: no pseudonym, no record, no recipient name (DESIGN rule 7).
Sent once per disclosure and lapse day (the dedup key), so the nightly job may run again.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE
from coordination.models import Child, CouncilMembership, User
from meetings.notifications.services import (
    LOCALES,
    Message,
    NotificationKind,
    PlannedNotification,
    notify_many,
)
from secrecy.disclosure.lapse import UpcomingLapse, upcoming_lapses

LAPSE_WARNING_LEAD = dt.timedelta(days=14)


def child_path(child_id: int) -> str:
    return f"/children/{int(child_id)}"


def disclosure_lapsing_message(recipient: User, lapses_on: dt.date, child_id: int) -> Message:
    locale = recipient.locale if recipient.locale in LOCALES else "sv"
    day = format_date(lapses_on, "d MMMM yyyy", locale=locale)
    with force_locale(locale):
        return Message(
            subject=_("Ett utlämnande från din myndighet upphör %(day)s", day=day),
            body=_(
                "En uppgift som din myndighet har lämnat ut upphör att vara synlig för "
                "mottagaren %(day)s, eftersom grunden för utlämnandet inte gäller längre "
                "(åldersgräns eller samtyckets slutdatum). Se ärendet i Samverkan och ta "
                "ställning till om ett nytt beslut behövs.",
                day=day,
            ),
            link=child_path(child_id),
        )


def _recipients(session: Session, lapses: list[UpcomingLapse]) -> dict[int, list[User]]:
    """Per disclosure id: its decider while active in the owner agency, else the owner
    agency's active members of the child's council (two queries for the whole run)."""
    deciders = {
        user.id: user
        for user in session.scalars(
            select(User).where(User.id.in_({lapse.disclosure.decided_by_id for lapse in lapses}))
        )
    }
    wanted = {
        (lapse.disclosure.record.child_id, lapse.disclosure.record.owner_agency_id)
        for lapse in lapses
    }
    members: dict[tuple[int, int], list[User]] = {}
    if wanted:
        rows = session.execute(
            select(Child.id, User)
            .join(CouncilMembership, CouncilMembership.council_id == Child.council_id)
            .join(User, User.id == CouncilMembership.user_id)
            .where(Child.id.in_({child_id for child_id, _agency in wanted}), User.active.is_(True))
            .order_by(User.id)
        ).all()
        for child_id, user in rows:
            if (child_id, user.agency_id) in wanted and user.is_active:
                members.setdefault((child_id, user.agency_id), []).append(user)
    found: dict[int, list[User]] = {}
    for lapse in lapses:
        record = lapse.disclosure.record
        decider = deciders.get(lapse.disclosure.decided_by_id)
        if (
            decider is not None
            and decider.is_active
            and decider.agency_id == record.owner_agency_id
        ):
            found[lapse.disclosure.id] = [decider]
        else:
            found[lapse.disclosure.id] = members.get((record.child_id, record.owner_agency_id), [])
    return found


def disclosure_lapse_warnings(session: Session, now: dt.datetime) -> int:
    """Nightly: warn the owner agency of the disclosures lapsing within 14 days; returns the
    number of notifications created."""
    today = now.astimezone(LOCAL_ZONE).date()
    lapses = upcoming_lapses(session, today, LAPSE_WARNING_LEAD)
    if not lapses:
        return 0
    recipients = _recipients(session, lapses)
    planned = []
    for lapse in lapses:
        for user in recipients[lapse.disclosure.id]:
            message = disclosure_lapsing_message(user, lapse.on, lapse.disclosure.record.child_id)
            planned.append(
                PlannedNotification.of(
                    user,
                    NotificationKind.DISCLOSURE_LAPSING,
                    message,
                    f"disclosure-lapsing:{lapse.disclosure.id}:{lapse.on.isoformat()}:{user.id}",
                )
            )
    return notify_many(session, planned)
