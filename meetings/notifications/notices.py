"""The outbox's side of ``coordination.notices``: lower layers' notices become notifications.

Each notice kind has fixed texts here; a notice brings only its kind, ids and a link, so no
name, pseudonym or content can reach a subject, a body or an e-mail.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from coordination.models import User
from coordination.notices import Notice
from meetings.notifications.services import LOCALES, notify

REQUEST_RECEIVED = "information_request_received"
REQUEST_CLOSED = "information_request_closed"
REQUEST_OVERDUE = "information_request_overdue"
UNUSED_ACCOUNTS = "unused_accounts"  # coordination.admin.unused, to the administrators
AGE_EXCEPTION_REVIEW = "age_exception_review"  # secrecy.agerules.services
AGE_THRESHOLD_AHEAD = "age_threshold_ahead"  # secrecy.agerules.thresholds
POSSIBLE_DUPLICATE = "possible_duplicate"  # secrecy.duplicates.services


def _received(params: dict[str, int]) -> tuple[str, str]:
    return (
        _("En begäran om uppgifter väntar på er bedömning"),
        _(
            "En annan myndighet i forumet har begärt uppgifter från din myndighet. Begäran "
            "finns i Samverkan under Begäranden."
        ),
    )


def _closed(params: dict[str, int]) -> tuple[str, str]:
    return (
        _("Din begäran om uppgifter är besvarad"),
        _(
            "Den tillfrågade myndigheten har besvarat din begäran om uppgifter. "
            "Svaret finns i Samverkan."
        ),
    )


def _overdue(params: dict[str, int]) -> tuple[str, str]:
    days = params.get("days", 0)
    return (
        _("En begäran om uppgifter har väntat i mer än %(days)s dagar", days=days),
        _(
            "En begäran om uppgifter till din myndighet har varit obesvarad i mer än %(days)s "
            "dagar. Se till att den bedöms och besvaras.",
            days=days,
        ),
    )


def _unused_accounts(params: dict[str, int]) -> tuple[str, str]:
    count, days = params.get("count", 0), params.get("days", 0)
    return (
        _("Konton som inte har använts på %(days)s dagar: %(n)s", days=days, n=count),
        _(
            "%(n)s konton har inte loggat in på %(days)s dagar. Se listan under "
            "Administration och inaktivera de konton som inte längre behövs.",
            n=count,
            days=days,
        ),
    )


def _age_exception_review(params: dict[str, int]) -> tuple[str, str]:
    return (
        _("Ett avsteg från forumets målgruppsålder ska omprövas"),
        _(
            "Omprövningsdagen för ett avsteg från forumets målgruppsålder har kommit. Se "
            "avstegen i Samverkan och pröva om barnet ska stå kvar i forumet."
        ),
    )


def _age_threshold_ahead(params: dict[str, int]) -> tuple[str, str]:
    days = params.get("days", 0)
    return (
        _("En åldersgräns passeras om %(days)s dagar", days=days),
        _(
            "Ett barn i ett av dina forum passerar om %(days)s dagar en åldersgräns där "
            "utlämnanden eller samtycken från din myndighet kan upphöra eller måste förnyas. "
            "Se åldersgränserna i Samverkan.",
            days=days,
        ),
    )


def _possible_duplicate(params: dict[str, int]) -> tuple[str, str]:
    return (
        _("En möjlig dubblett väntar på ditt beslut"),
        _(
            "Ett barn har skrivits in i ett av dina forum med ett personnummer som redan är "
            "ett ärende där. Se Möjliga dubbletter i Samverkan och besluta om ärendet ska "
            "avslutas som dubblett eller behållas."
        ),
    )


TEXTS: dict[str, Callable[[dict[str, int]], tuple[str, str]]] = {
    REQUEST_RECEIVED: _received,
    REQUEST_CLOSED: _closed,
    REQUEST_OVERDUE: _overdue,
    UNUSED_ACCOUNTS: _unused_accounts,
    AGE_EXCEPTION_REVIEW: _age_exception_review,
    AGE_THRESHOLD_AHEAD: _age_threshold_ahead,
    POSSIBLE_DUPLICATE: _possible_duplicate,
}


def store_notice(session: Session, recipient: User, notice: Notice) -> bool:
    """One notification from a notice, in the recipient's language; False for a duplicate."""
    texts = TEXTS[notice.kind]
    locale = recipient.locale if recipient.locale in LOCALES else "sv"
    with force_locale(locale):
        subject, body = texts(dict(notice.params))
    stored = notify(
        session,
        recipient,
        kind=notice.kind,
        subject=subject,
        body=body,
        link=notice.link,
        dedup_key=notice.dedup_key,
    )
    return stored is not None
