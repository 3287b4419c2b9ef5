"""The council's target age range and the exceptions (avsteg) from it.

Services take ``(session, actor, ...)``, check access, change, flush and append their audit
event in the caller's transaction. An exception's texts (the reason, the stigmatisation
consideration) are a sealed record of the recording agency; they are read only through
``secrecy.records.reveal``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from coordination.audit.log import record_event
from coordination.councils.services import council_coordinators
from coordination.db import today_local
from coordination.errors import PermissionDenied, ServiceError, check_version
from coordination.models import Child, ChildStatus, Council, User
from coordination.notices import Notice, send_notice
from coordination.policy import can_manage_members, membership_in
from secrecy.agerules.ranges import HIGHEST, LOWEST, STIGMA_AGE, AgeRange, age_range
from secrecy.models import AgeException
from secrecy.policy.categories import AGE_EXCEPTION
from secrecy.policy.engine import age_on
from secrecy.records.reveal import Revealed, child_birth_date, reveal_records
from secrecy.records.services import add_sealed_record, require_child_access
from secrecy.tags import SecrecyTag

MAX_TEXT = 5_000
MAX_REVIEW_DAYS = 2 * 366
REVIEW_DUE = "age_exception_review"


def exceptions_path(council_id: int) -> str:
    return f"/councils/{int(council_id)}/age-exceptions"


# --- The range ---------------------------------------------------------------------------------


def set_age_range(
    session: Session,
    actor: User,
    council: Council,
    min_age: int | None,
    max_age: int | None,
    *,
    expected_version: int | None = None,
) -> AgeRange:
    """Set the council's range (None: open at that end); coordinators and administrators."""
    if not can_manage_members(actor, council):
        raise PermissionDenied(object_type="council", object_ids=[council.id])
    check_version(council, expected_version)
    for value, field in ((min_age, "min_age"), (max_age, "max_age")):
        if value is not None and not LOWEST <= value <= HIGHEST:
            raise ServiceError(_l("Ange en ålder mellan 0 och 99 år."), field=field)
    if min_age is not None and max_age is not None and min_age > max_age:
        raise ServiceError(
            _l(
                "Den lägsta åldern (%(min)s år) är högre än den högsta (%(max)s år).",
                min=min_age,
                max=max_age,
            ),
            field="min_age",
        )
    before = age_range(council)
    council.age_range_set = True
    council.age_min = min_age
    council.age_max = max_age
    session.flush()
    record_event(
        session,
        actor,
        SecrecyTag.AGE_RANGE_SET,
        on=council,
        details={
            "before": [before.min_age, before.max_age],
            "after": [min_age, max_age],
        },
    )
    return age_range(council)


# --- Exceptions --------------------------------------------------------------------------------


@dataclass
class ExceptionData:
    reason: str = ""
    decided_by: str = ""
    stigmatisation: str = ""
    review_on: dt.date | None = None

    @property
    def given(self) -> bool:
        return bool(
            self.reason.strip()
            or self.decided_by.strip()
            or self.stigmatisation.strip()
            or self.review_on
        )


@dataclass(frozen=True)
class CheckedException:
    reason: str
    decided_by: str
    stigmatisation: str
    review_on: dt.date


def outside_range_message(council_range: AgeRange, age: int) -> str:
    return str(
        _l(
            "Barnet är %(age)s år, utanför forumets målgrupp (%(range)s år). Registrera ett "
            "avsteg med skäl, vem som beslutade, en bedömning av risken för stigmatisering och "
            "när avsteget ska omprövas.",
            age=age,
            range=council_range.label(),
        )
    )


def check_exception(data: ExceptionData | None, age: int, today: dt.date) -> CheckedException:
    """The exception's fields, or a refusal naming the first field at fault (nothing written)."""
    if data is None or not data.reason.strip():
        raise ServiceError(
            _l("Ange skälet till avsteget från forumets målgruppsålder."),
            field="exception_reason",
        )
    reason = data.reason.strip()
    stigma = data.stigmatisation.strip()
    decided_by = data.decided_by.strip()
    if len(reason) > MAX_TEXT or len(stigma) > MAX_TEXT:
        raise ServiceError(_l("Texten är för lång (högst 5 000 tecken)."), field="exception_reason")
    if not decided_by:
        raise ServiceError(_l("Ange vem som beslutade om avsteget."), field="exception_decided_by")
    if len(decided_by) > 200:
        raise ServiceError(
            _l("Ange vem som beslutade med högst 200 tecken."), field="exception_decided_by"
        )
    if age < STIGMA_AGE and not stigma:
        raise ServiceError(
            _l(
                "Barnet är under %(age)s år: beskriv hur risken för stigmatisering har bedömts.",
                age=STIGMA_AGE,
            ),
            field="exception_stigmatisation",
        )
    if data.review_on is None:
        raise ServiceError(_l("Ange när avsteget ska omprövas."), field="exception_review_on")
    if data.review_on <= today:
        raise ServiceError(
            _l("Omprövningsdagen ska ligga efter i dag."), field="exception_review_on"
        )
    if data.review_on > today + dt.timedelta(days=MAX_REVIEW_DAYS):
        raise ServiceError(_l("Avsteget ska omprövas inom två år."), field="exception_review_on")
    return CheckedException(reason, decided_by, stigma, data.review_on)


def add_exception(
    session: Session,
    actor: User,
    child: Child,
    checked: CheckedException,
    age: int,
    council_range: AgeRange,
) -> AgeException:
    """Store a checked exception: the texts sealed for the actor's agency, the row, the event."""
    today = today_local()
    record = add_sealed_record(
        session,
        actor,
        child,
        AGE_EXCEPTION,
        {"reason": checked.reason, "stigmatisation": checked.stigmatisation},
    )
    exception = AgeException(
        child_id=child.id,
        council_id=child.council_id,
        age_at_decision=age,
        range_min=council_range.min_age,
        range_max=council_range.max_age,
        decided_by=checked.decided_by,
        decided_on=today,
        review_on=checked.review_on,
        details_record_id=record.id,
        recorded_by_id=actor.id,
    )
    session.add(exception)
    session.flush()
    record_event(
        session,
        actor,
        SecrecyTag.AGE_EXCEPTION_RECORD,
        on=exception,
        details={
            "child_id": child.id,
            "council_id": child.council_id,
            "record_id": record.id,
            "review_on": checked.review_on.isoformat(),
        },
    )
    return exception


def record_exception(
    session: Session, actor: User, child: Child, data: ExceptionData
) -> AgeException:
    """An exception for a child on the caseload whose age is outside the range (kept on past
    the upper limit): recorded by the agency responsible for the case, whose record the texts
    become."""
    require_child_access(actor, child)
    if child.status is not ChildStatus.ACTIVE:
        raise ServiceError(_l("Ärendet är inte aktivt."))
    if actor.agency_id != child.enrolling_agency_id:
        raise ServiceError(_l("Avsteg registreras av den myndighet som ansvarar för ärendet."))
    today = today_local()
    birth_date = child_birth_date(session, child.id, child.birth_date_sealed)
    if birth_date is None:
        raise ServiceError(_l("Barnets ålder är okänd."))
    age = age_on(birth_date, today)
    council_range = age_range(child.council)
    if council_range.contains(age):
        raise ServiceError(
            _l(
                "Barnet är %(age)s år och inom forumets målgrupp (%(range)s år); inget avsteg "
                "behövs.",
                age=age,
                range=council_range.label(),
            )
        )
    return add_exception(
        session, actor, child, check_exception(data, age, today), age, council_range
    )


def council_exceptions(session: Session, council: Council) -> Sequence[AgeException]:
    """The council's exceptions, newest first, with their children and records (no query per
    row)."""
    return session.scalars(
        select(AgeException)
        .where(AgeException.council_id == council.id)
        .options(
            selectinload(AgeException.child),
            selectinload(AgeException.details_record),
            selectinload(AgeException.recorded_by),
        )
        .order_by(AgeException.decided_on.desc(), AgeException.id.desc())
    ).all()


@dataclass(frozen=True)
class ExceptionView:
    exception: AgeException
    reason: str | None
    stigmatisation: str | None
    withheld: str | None  # why the texts are not shown, or None


def exception_views(
    session: Session, viewer: User, exceptions: Sequence[AgeException]
) -> list[ExceptionView]:
    """The exceptions with their texts opened for the viewer (one reveal, one audit event);
    a viewer whose agency neither owns nor holds a disclosure sees them withheld."""
    if not exceptions:
        return []
    results = reveal_records(
        session, viewer, [e.details_record for e in exceptions], purpose="age_exceptions"
    )
    views: list[ExceptionView] = []
    for exception, result in zip(exceptions, results, strict=True):
        if isinstance(result, Revealed):
            views.append(
                ExceptionView(
                    exception,
                    str(result.content.get("reason", "")),
                    str(result.content.get("stigmatisation", "")),
                    None,
                )
            )
        else:
            views.append(ExceptionView(exception, None, None, result.reason))
    return views


def open_exception_ids(session: Session, child_ids: Sequence[int], on: dt.date) -> set[int]:
    """Children with an exception not yet due for review on ``on``."""
    if not child_ids:
        return set()
    return set(
        session.scalars(
            select(AgeException.child_id).where(
                AgeException.child_id.in_(child_ids), AgeException.review_on > on
            )
        )
    )


def remind_exception_reviews(session: Session, now: dt.datetime, today: dt.date) -> int:
    """Tell the council's coordinators (and the recording user) that an exception is due for
    review on its review date; once per exception. Returns the number of exceptions due."""
    due = session.scalars(
        select(AgeException)
        .where(AgeException.review_on <= today, AgeException.review_notified_at.is_(None))
        .options(selectinload(AgeException.recorded_by))
        .order_by(AgeException.id)
    ).all()
    for exception in due:
        told = council_coordinators(session, exception.council_id)
        recorder = exception.recorded_by
        if recorder not in told and recorder.is_active:
            told.append(recorder)
        send_notice(
            session,
            told,
            Notice(
                REVIEW_DUE,
                exceptions_path(exception.council_id),
                f"age-exception:{exception.id}:review",
            ),
        )
        exception.review_notified_at = now
        record_event(
            session,
            None,
            SecrecyTag.AGE_EXCEPTION_REVIEW_DUE,
            on=exception,
            details={"told": [u.id for u in told]},
        )
    session.flush()
    return len(due)


def can_see_age_rules(actor: User, council: Council) -> bool:
    return membership_in(actor, council) is not None and actor.is_active
