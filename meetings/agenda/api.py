"""API: Möten.

The same reads as the pages, loaded through the same ``meeting_for``: members without an
invitation row yet are shown as invited, and children that contributors will put on the agenda
are shown after its items; nothing is written except the reveal's audit event. Briefs are
opened with one ``reveal_records`` call per request, like the page.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.api.core import (
    ApiBlueprint,
    OutModel,
    Page,
    PageQuery,
    api_user,
    paginate_then_convert,
)
from coordination.api.problems import invalid_field
from coordination.councils.access import council_for
from coordination.db import LOCAL_ZONE, db_session, today_local
from coordination.models import User
from coordination.policy import Need
from meetings.agenda.access import meeting_for
from meetings.agenda.attendance import meeting_attendance
from meetings.agenda.contributors import pending_contributed_items
from meetings.agenda.deadline import agenda_deadline, deadline_passed
from meetings.agenda.items import agenda_items
from meetings.agenda.overview import AgendaEntry, build_agenda
from meetings.models import (
    AgendaSource,
    AttendanceStatus,
    Meeting,
    MeetingStatus,
)
from meetings.schedules.queries import meetings_between
from secrecy.records.api import AgencyRef, RecordOut, record_out

bp = ApiBlueprint(
    "api_meetings",
    __name__,
    tag="Möten",
    description="Möten per forum och datum, ett möte och dess dagordning.",
)

DEFAULT_PAST = dt.timedelta(days=30)
DEFAULT_FUTURE = dt.timedelta(days=180)
# Far enough for any real meeting, near enough that day arithmetic never overflows.
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2200, 12, 31)


class PersonRef(OutModel):
    id: int
    name: str = Field(description="Namn som det visas i Samverkan.")


class MeetingOut(OutModel):
    id: int
    council_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: MeetingStatus
    place: str | None = Field(description="Plats; null om ingen är angiven.")
    video_link: str | None
    holiday: str | None = Field(description="Helgdag eller afton som mötet infaller på.")
    schedule_name: str | None = Field(
        description="Mötesplanen mötet hör till; null för extramöten."
    )
    chair: PersonRef | None = Field(description="Ordförande; null om ingen är utsedd.")
    minute_taker: PersonRef | None = Field(description="Sekreterare; null om ingen är utsedd.")
    agenda_deadline: dt.date = Field(description="Sista dag att anmäla barn till dagordningen.")
    agenda_deadline_passed: bool = Field(
        description="Tiden har gått ut; nu lägger bara samordnaren till barn."
    )


class AttendanceOut(OutModel):
    user: PersonRef
    agency: AgencyRef
    status: AttendanceStatus
    guest: bool = Field(description="Inbjuden gäst till just det här mötet, inte medlem.")


class MeetingDetailOut(MeetingOut):
    council_name: str
    attendance: list[AttendanceOut] = Field(
        description="Kallade i samma ordning som på mötessidan: medlemmar först, sedan gäster."
    )


class MeetingsQuery(PageQuery):
    from_: dt.date | None = Field(
        None,
        alias="from",
        ge=EARLIEST,
        le=LATEST,
        description="Första dag (ÅÅÅÅ-MM-DD, svensk tid); standard: 30 dagar före i dag.",
    )
    to: dt.date | None = Field(
        None,
        ge=EARLIEST,
        le=LATEST,
        description="Sista dag (ÅÅÅÅ-MM-DD, svensk tid); standard: 180 dagar efter i dag.",
    )


class AgendaItemOut(OutModel):
    child_id: int
    pseudonym: str
    position: int = Field(description="Plats på dagordningen, 1 först.")
    reason_category: str = Field(description="Kategorin skälet gäller (nyckel).")
    source: AgendaSource = Field(
        description="manual: anmält av en medlem; open_actions: tas upp igen för att barnet "
        "har öppna åtgärder från tidigare möten; case_sync: från ärendeavstämningen."
    )
    brief: RecordOut | None = Field(description="Lägesbeskrivningen; null om det inte finns någon.")


class AgendaOut(OutModel):
    meeting_id: int
    status: MeetingStatus
    agenda_deadline: dt.date
    items: list[AgendaItemOut]


# --- Loading and access -------------------------------------------------------------------------


def _deadline_days() -> int:
    return int(current_app.config["AGENDA_DEADLINE_WORKING_DAYS"])


def person_ref(user: User) -> PersonRef:
    """A user as the API names them: id and the name shown in Samverkan."""
    return PersonRef(id=user.id, name=user.display_name)


def person(user: User | None) -> PersonRef | None:
    return person_ref(user) if user is not None else None


def _meeting_fields(meeting: Meeting, days: int, people: dict[int, User]) -> dict[str, object]:
    return {
        "id": meeting.id,
        "council_id": meeting.council_id,
        "starts_at": meeting.starts_at,
        "ends_at": meeting.ends_at,
        "status": meeting.status,
        "place": meeting.location,
        "video_link": meeting.video_link,
        "holiday": meeting.holiday,
        "schedule_name": meeting.schedule.name if meeting.schedule else None,
        "chair": person(people.get(meeting.chair_id or 0)),
        "minute_taker": person(people.get(meeting.minute_taker_id or 0)),
        "agenda_deadline": agenda_deadline(meeting, days),
        "agenda_deadline_passed": deadline_passed(meeting, days),
    }


def _meetings_out(session: Session, meetings: Sequence[Meeting]) -> list[MeetingOut]:
    people = _roles(session, meetings)
    days = _deadline_days()
    return [MeetingOut.model_validate(_meeting_fields(m, days, people)) for m in meetings]


def _roles(session: Session, meetings: Sequence[Meeting]) -> dict[int, User]:
    """The chairs and minute takers of these meetings, in one query."""
    ids = {i for m in meetings for i in (m.chair_id, m.minute_taker_id) if i is not None}
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}


# --- Operations ---------------------------------------------------------------------------------


@bp.operation(
    "/councils/<int:council_id>/meetings",
    summary="Forumets möten i ett datumintervall",
)
def council_meetings(council_id: int, query: MeetingsQuery) -> Page[MeetingOut]:
    """Möten som börjar från och med `from` till och med `to` (svensk tid), tidigast först,
    inställda möten också. För forumets medlemmar."""
    session = db_session()
    council = council_for(session, api_user(), council_id, Need.VIEW)
    today = today_local()
    first = query.from_ or today - DEFAULT_PAST
    last = query.to or today + DEFAULT_FUTURE
    if first > last:
        raise invalid_field("from", _l("Första dagen måste komma före den sista."))
    found = meetings_between(
        session,
        council,
        dt.datetime.combine(first, dt.time.min, tzinfo=LOCAL_ZONE),
        dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL_ZONE),
    )
    return paginate_then_convert(found, query, functools.partial(_meetings_out, session))


def _attendance(session: Session, meeting: Meeting) -> list[AttendanceOut]:
    """The attendance as the page shows it: members without a row yet as invited."""
    return [
        AttendanceOut(
            user=person_ref(row.user),
            agency=AgencyRef.model_validate(row.user.agency),
            status=row.status,
            guest=row.guest,
        )
        for row in meeting_attendance(session, meeting)
    ]


@bp.operation("/meetings/<int:meeting_id>", summary="Ett möte med närvaro")
def meeting(meeting_id: int) -> MeetingDetailOut:
    """Tid, plats, status, ordförande, sekreterare, sista anmälningsdag och närvaro, som på
    mötessidan. För forumets medlemmar och mötets inbjudna gäster."""
    session = db_session()
    found = meeting_for(session, api_user(), meeting_id, Need.VIEW, members=True)
    return MeetingDetailOut.model_validate(
        {
            **_meeting_fields(found, _deadline_days(), _roles(session, [found])),
            "council_name": found.council.name,
            "attendance": _attendance(session, found),
        }
    )


@bp.operation(
    "/meetings/<int:meeting_id>/agenda",
    summary="Mötets dagordning med lägesbeskrivningar",
)
def meeting_agenda(meeting_id: int) -> AgendaOut:
    """Barnen i ordning, med pseudonym, skälets kategori och lägesbeskrivningen: visad eller
    undanhållen med skäl. Barn med öppna åtgärder från tidigare möten står med av sig själva
    (källa open_actions); de överenskomna åtgärderna visas i protokollet."""
    session = db_session()
    user = api_user()
    found = meeting_for(session, user, meeting_id, Need.VIEW, members=True)
    on_agenda = agenda_items(session, found)
    entries = build_agenda(session, user, found, items=on_agenda)
    entries += [
        AgendaEntry(item, None)
        for item in pending_contributed_items(session, found, on_agenda=on_agenda)
    ]
    items = [
        AgendaItemOut(
            child_id=entry.item.child_id,
            pseudonym=entry.item.child.pseudonym,
            position=entry.item.position,
            reason_category=entry.item.reason_category,
            source=entry.item.source,
            brief=record_out(entry.brief) if entry.brief is not None else None,
        )
        for entry in entries
    ]
    return AgendaOut(
        meeting_id=found.id,
        status=found.status,
        agenda_deadline=agenda_deadline(found, _deadline_days()),
        items=items,
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
