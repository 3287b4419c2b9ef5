"""The outbox's side of ``coordination.notices``: lower layers' notices become notifications.

Each notice kind has fixed texts here; a notice brings only its kind, ids and a link, so no
name, pseudonym or content can reach a subject, a body or an e-mail.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
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


# Each kind's subject and body; ``%(days)s`` and ``%(n)s`` are the notice's ``days`` and
# ``count`` (0 when it has none).
TEXTS: dict[str, tuple[LazyString, LazyString]] = {
    REQUEST_RECEIVED: (
        _l("En begäran om uppgifter väntar på er bedömning"),
        _l(
            "En annan myndighet i forumet har begärt uppgifter från din myndighet. Begäran "
            "finns i Samverkan under Begäranden."
        ),
    ),
    REQUEST_CLOSED: (
        _l("Din begäran om uppgifter är besvarad"),
        _l(
            "Den tillfrågade myndigheten har besvarat din begäran om uppgifter. "
            "Svaret finns i Samverkan."
        ),
    ),
    REQUEST_OVERDUE: (
        _l("En begäran om uppgifter har väntat i mer än %(days)s dagar"),
        _l(
            "En begäran om uppgifter till din myndighet har varit obesvarad i mer än %(days)s "
            "dagar. Se till att den bedöms och besvaras."
        ),
    ),
    UNUSED_ACCOUNTS: (
        _l("Konton som inte har använts på %(days)s dagar: %(n)s"),
        _l(
            "%(n)s konton har inte loggat in på %(days)s dagar. Se listan under "
            "Administration och inaktivera de konton som inte längre behövs."
        ),
    ),
    AGE_EXCEPTION_REVIEW: (
        _l("Ett avsteg från forumets målgruppsålder ska omprövas"),
        _l(
            "Omprövningsdagen för ett avsteg från forumets målgruppsålder har kommit. Se "
            "avstegen i Samverkan och pröva om barnet ska stå kvar i forumet."
        ),
    ),
    AGE_THRESHOLD_AHEAD: (
        _l("En åldersgräns passeras om %(days)s dagar"),
        _l(
            "Ett barn i ett av dina forum passerar om %(days)s dagar en åldersgräns där "
            "utlämnanden eller samtycken från din myndighet kan upphöra eller måste förnyas. "
            "Se åldersgränserna i Samverkan."
        ),
    ),
    POSSIBLE_DUPLICATE: (
        _l("En möjlig dubblett väntar på ditt beslut"),
        _l(
            "Ett barn har skrivits in i ett av dina forum med ett personnummer som redan är "
            "ett ärende där. Se Möjliga dubbletter i Samverkan och besluta om ärendet ska "
            "avslutas som dubblett eller behållas."
        ),
    ),
}


def notice_texts(kind: str, params: dict[str, int]) -> tuple[str, str]:
    """The subject and body of a notice, in the current locale."""
    values = {"days": params.get("days", 0), "n": params.get("count", 0)}
    subject, body = TEXTS[kind]
    return str(subject) % values, str(body) % values


def store_notice(session: Session, recipient: User, notice: Notice) -> bool:
    """One notification from a notice, in the recipient's language; False for a duplicate."""
    locale = recipient.locale if recipient.locale in LOCALES else "sv"
    with force_locale(locale):
        subject, body = notice_texts(notice.kind, dict(notice.params))
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
