"""Demo meetings for Exempelstad: each council's monthly schedule, begun six meetings ago, with
those six meetings held (attendance, chair and minute taker, an agenda with sealed briefs) and
the meetings ahead materialised, the next agenda being prepared.

Back-dating goes only as far as the services' own date parameters allow: the schedule is
created as of its first meeting (``create_schedule(today=...)``, the day materialising counts
from), materialised from there up to today (``horizon_months``), and the nightly materialising
is then run for today; agenda items of the past meetings are added with
``add_agenda_item(today=...)`` set to a day before each meeting's agenda deadline. No service
marks a meeting as held, so past meetings keep the status ``planned``; the minutes demo
(minutes/demo) writes and approves their minutes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE, today_local
from coordination.models import Child, Council, User
from demo import history
from demo.coordination import (
    COORDINATOR,
    HEALTH,
    LEISURE,
    LSS,
    POLICE,
    SCHOOL,
    SECRETARY,
    demo_users,
)
from demo.secrecy import demo_children, disclose_as_engine_allows
from meetings.agenda.attendance import set_attendance, set_meeting_roles
from meetings.agenda.deadline import deadline_passed
from meetings.agenda.items import add_agenda_item
from meetings.models import Attendance, AttendanceStatus, Meeting, MeetingStatus, Schedule
from meetings.schedules.materialise import HORIZON_MONTHS, materialise_meetings
from meetings.schedules.schedule_changes import ScheduleData, create_schedule
from secrecy.models import Record

HISTORY_MEETINGS = 6
# Agenda items of a past meeting are added as if on this many days before it: before the
# deadline (three working days), even across Easter.
AGENDA_LEAD_DAYS = 10

# council code -> (schedule name, RRULE, start, minutes, location). The weekdays are chosen to
# avoid the Swedish public holidays as far as a monthly rule can; the councils with the school
# take a summer break, the Bob council (the preset "second Wednesday") meets all year.
NOT_JULY = "1,2,3,4,5,6,8,9,10,11,12"
SCHEDULES = {
    "CENTRUM": (
        "Månadsmöte",
        "FREQ=MONTHLY;BYDAY=+2WE",
        dt.time(9, 0),
        120,
        "Stadshuset, rum 3",
    ),
    "NORR": (
        "Månadsmöte (uppehåll i juli)",
        f"FREQ=MONTHLY;BYMONTH={NOT_JULY};BYDAY=+2TU",
        dt.time(13, 0),
        90,
        "Norrskolan, aulan",
    ),
    "SIG": (
        "SIG-möte (uppehåll i juli)",
        f"FREQ=MONTHLY;BYMONTH={NOT_JULY};BYDAY=+3TH",
        dt.time(10, 0),
        90,
        "Socialkontoret, Storgatan 5",
    ),
}

# council code -> past meeting index (0 = the oldest) -> members not present and why.
AWAY: dict[str, dict[int, dict[str, AttendanceStatus]]] = {
    "NORR": {2: {LEISURE: AttendanceStatus.EXCUSED}},
    "SIG": {
        0: {LEISURE: AttendanceStatus.ABSENT},
        1: {LEISURE: AttendanceStatus.EXCUSED},
        2: {LEISURE: AttendanceStatus.ABSENT, SCHOOL: AttendanceStatus.EXCUSED},
        3: {HEALTH: AttendanceStatus.EXCUSED},
    },
}


@dataclass(frozen=True)
class Brief:
    """A child put on an agenda by a member, with the reason and a short sealed brief."""

    child: str  # key in demo.secrecy.CHILDREN
    author: str  # e-mail
    reason: str  # category
    text: str
    disclose: bool = False  # the author also discloses the brief as the engine allows


# council code -> one list per past meeting, oldest first. Children with open actions come
# back by themselves (minutes/demo.py adds them when it holds the meeting).
PAST_AGENDAS: dict[str, list[list[Brief]]] = {
    "CENTRUM": [
        [
            Brief(
                "elias",
                SECRETARY,
                "risk_protective",
                "Oro för kontakter med äldre i kriminella nätverk vid Stationsområdet; mamman "
                "beskriver sena kvällar.",
            ),
            Brief(
                "noah",
                POLICE,
                "crime_police",
                "Den unge förekommer i en förundersökning om narkotikabrott i Ekparken.",
            ),
        ],
        [
            Brief(
                "liam",
                SECRETARY,
                "school",
                "Skolan har gjort orosanmälan om hög frånvaro; den unge ses i centrum under "
                "skoltid.",
            ),
            Brief(
                "wilma",
                POLICE,
                "threat_protection",
                "Den unge har fått hot via sociala medier; polisanmälan är upprättad.",
            ),
        ],
        [
            Brief(
                "elias",
                SECRETARY,
                "risk_protective",
                "Uppföljning: fortsatt sena kvällar men bättre närvaro i skolan.",
            ),
        ],
        [
            Brief(
                "noah",
                SECRETARY,
                "social_measures",
                "Plan för fortsatt stöd; kontaktpersonen vill veta hur samverkan fortsätter.",
            ),
        ],
        [
            Brief(
                "wilma",
                SECRETARY,
                "risk_protective",
                "Den unge mår bättre; uppföljning av skolsituationen.",
            ),
            Brief(
                "liam",
                POLICE,
                "crime_police",
                "Den unge har setts med äldre ungdomar i samband med ett rån vid Torget.",
            ),
        ],
        [
            Brief(
                "elias",
                POLICE,
                "crime_police",
                "Den unge har åter setts vid Stationsområdet sent på kvällen.",
            ),
        ],
    ],
    "NORR": [
        [
            Brief(
                "alva",
                SCHOOL,
                "school",
                "Hög frånvaro den senaste månaden; den unge har ont i magen på morgnarna.",
            ),
            Brief(
                "malte",
                SCHOOL,
                "school",
                "Klasskamrater säger att den unge har haft med sig en kniv till skolan.",
            ),
        ],
        [
            Brief(
                "hugo",
                SCHOOL,
                "school",
                "Konflikter på rasterna; den unge har svårt att komma tillbaka efter lunch.",
            ),
            Brief(
                "saga",
                SECRETARY,
                "social_measures",
                "Den unge och mamman har familjebehandling; den unge vill hitta en "
                "fritidsaktivitet.",
            ),
        ],
        [
            Brief(
                "malte",
                SECRETARY,
                "risk_protective",
                "Förhandsbedömningen är klar och utredning inleds.",
            ),
        ],
        [
            Brief(
                "alva",
                SCHOOL,
                "school",
                "Närvaron har ökat till 85 %; uppföljning av planen.",
            ),
        ],
        [
            Brief(
                "saga",
                SCHOOL,
                "school",
                "Den unge har tappat i flera ämnen och säger att hon inte orkar.",
            ),
            Brief(
                "malte",
                POLICE,
                "crime_police",
                "Den unge har setts tillsammans med en av de ungdomar som är misstänkta för "
                "vapenbrott.",
            ),
        ],
        [
            Brief(
                "hugo",
                SECRETARY,
                "family",
                "Den unges föräldrar har separerat; båda vill vara med i planeringen.",
            ),
        ],
    ],
    "SIG": [
        [
            Brief(
                "kevin",
                SECRETARY,
                "social_measures",
                "Den unge vill lämna sitt kriminella umgänge och behöver boende och "
                "sysselsättning.",
            ),
            Brief(
                "tilde",
                POLICE,
                "crime_police",
                "Den unge är vittne i en utredning om grov misshandel och har fått hot.",
            ),
        ],
        [
            Brief(
                "isak",
                LSS,
                "social_measures",
                "Kontaktpersonen ser oro för nya kontakter på nätet och pengar från okända.",
            ),
            Brief(
                "nils",
                HEALTH,
                "health",
                "Sömnsvårigheter och hög frånvaro; kontakt med ungdomsmottagningen.",
            ),
        ],
        [
            Brief(
                "tilde",
                SECRETARY,
                "risk_protective",
                "Den unge vill flytta från centrum efter hoten.",
            ),
        ],
        [
            Brief(
                "kevin",
                SECRETARY,
                "social_measures",
                "Den unge har börjat på Komvux; uppföljning av boendet.",
            ),
        ],
        [
            Brief("nils", SCHOOL, "school", "Frånvaron har minskat till 15 %."),
            Brief(
                "isak",
                HEALTH,
                "health",
                "Den unge mår bättre; uppföljning efter korttidsvistelsen.",
            ),
        ],
        [
            Brief(
                "tilde",
                POLICE,
                "threat_protection",
                "Rättegången är avslutad; uppföljning av den unges trygghet.",
            ),
        ],
    ],
}

# council code -> the agenda being prepared for the first meeting whose deadline is still ahead.
NEXT_AGENDAS: dict[str, list[Brief]] = {
    "CENTRUM": [
        Brief(
            "elias",
            SECRETARY,
            "risk_protective",
            "Oro för kontakter med äldre i kriminella nätverk; familjen har tackat ja till "
            "kontaktperson.",
            disclose=True,
        ),
        Brief(
            "wilma",
            SECRETARY,
            "risk_protective",
            "Förslag att avsluta den unges ärende i Bob-rådet; inga nya hot på flera månader.",
        ),
    ],
    "NORR": [
        Brief(
            "saga",
            SECRETARY,
            "meeting_note",
            "Den unge har återkallat sitt samtycke. Vi går igenom vad det betyder för samverkan.",
        ),
        Brief(
            "malte",
            SCHOOL,
            "school",
            "Uppföljning av rastvärden och av socialtjänstens utredning.",
        ),
    ],
    "SIG": [
        Brief("isak", LSS, "social_measures", "Uppföljning av den unges ekonomi och fritid."),
        Brief(
            "nils",
            SECRETARY,
            "meeting_note",
            "Den unge fyller 18 inom kort; fråga om eget samtycke till fortsatt samverkan.",
        ),
    ],
}

# council code -> members who answer the next meeting's invitation themselves. Only
# refusals: nobody is present at a meeting that has not started.
NEXT_ANSWERS: dict[str, dict[str, AttendanceStatus]] = {
    "CENTRUM": {POLICE: AttendanceStatus.EXCUSED},
    "NORR": {LEISURE: AttendanceStatus.EXCUSED},
    "SIG": {HEALTH: AttendanceStatus.EXCUSED},
}


def local_day(meeting: Meeting) -> dt.date:
    return meeting.starts_at.astimezone(LOCAL_ZONE).date()


def first_of_history(rule: str, start: dt.time, today: dt.date) -> dt.date:
    """The date of the ``HISTORY_MEETINGS``-th last occurrence before today: the schedule
    starts there, so exactly that many of its meetings lie in the past."""
    since = dt.datetime.combine(today - relativedelta(months=HISTORY_MEETINGS + 2), start)
    past = list(rrulestr(rule, dtstart=since).between(since, dt.datetime.combine(today, start)))
    return [o.date() for o in past if o.date() < today][-HISTORY_MEETINGS]


def past_meetings(session: Session, council: Council, today: dt.date) -> list[Meeting]:
    """The council's scheduled meetings before today, oldest first."""
    return list(
        session.scalars(
            select(Meeting)
            .where(Meeting.council_id == council.id, Meeting.occurrence_on < today)
            .order_by(Meeting.starts_at)
        )
    )


def upcoming_meetings(session: Session, council: Council, today: dt.date) -> list[Meeting]:
    return list(
        session.scalars(
            select(Meeting)
            .where(
                Meeting.council_id == council.id,
                Meeting.occurrence_on >= today,
                Meeting.status == MeetingStatus.PLANNED,
            )
            .order_by(Meeting.starts_at)
        )
    )


def prepared_meeting(session: Session, council: Council, today: dt.date) -> Meeting | None:
    """The first meeting ahead whose agenda deadline has not passed: its agenda is open."""
    return next(
        (
            m
            for m in upcoming_meetings(session, council, today)
            if not deadline_passed(m, today=today)
        ),
        None,
    )


def load_meetings_demo(session: Session) -> None:
    """Schedules with six past meetings held and the next agenda being prepared. Does nothing
    when the demo councils have schedules already."""
    councils = {
        c.code: c for c in session.scalars(select(Council).where(Council.code.in_(SCHEDULES)))
    }
    if session.scalar(
        select(Schedule.id).where(Schedule.council_id.in_([c.id for c in councils.values()]))
    ):
        return
    users = demo_users(session)
    coordinator = users[COORDINATOR]
    children = demo_children(session)
    today = today_local()
    for code, (name, rule, start, minutes, place) in SCHEDULES.items():
        council = councils[code]
        first = first_of_history(rule, start, today)
        create_schedule(
            session,
            coordinator,
            council,
            ScheduleData(
                name=name,
                rrule=rule,
                start_time=start,
                duration_minutes=minutes,
                starts_on=first,
                location=place,
            ),
            today=first,
        )
        # Six meetings with a summer break span more than the default horizon: catch up the
        # history, then the nightly run for today.
        since = relativedelta(today, first)
        history_months = since.years * 12 + since.months + 1
        for day, months in ((first, history_months), (today, HORIZON_MONTHS)):
            materialise_meetings(
                session, today=day, horizon_months=months, council=council, actor=coordinator
            )
        for index, meeting in enumerate(past_meetings(session, council, today)):
            _hold(session, users, meeting, AWAY.get(code, {}).get(index, {}))
            for brief in PAST_AGENDAS[code][index]:
                on = local_day(meeting) - dt.timedelta(days=AGENDA_LEAD_DAYS)
                _add(session, users, children, meeting, brief, on)
        _prepare_next(session, users, children, council, today)


def _hold(
    session: Session, users: dict[str, User], meeting: Meeting, away: dict[str, AttendanceStatus]
) -> None:
    """Attendance as the coordinator marked it; she chairs, the social secretary takes notes."""
    coordinator = users[COORDINATOR]
    by_id = {u.id: email for email, u in users.items()}
    invited = session.scalars(
        select(Attendance.user_id).where(Attendance.meeting_id == meeting.id)
    ).all()
    for user_id in sorted(invited):
        status = away.get(by_id.get(user_id, ""), AttendanceStatus.PRESENT)
        set_attendance(session, coordinator, meeting, user_id, status)
    set_meeting_roles(
        session,
        coordinator,
        meeting,
        coordinator.id,
        users[SECRETARY].id,
        expected_version=meeting.version,
    )


def _add(
    session: Session,
    users: dict[str, User],
    children: dict[str, Child],
    meeting: Meeting,
    brief: Brief,
    on: dt.date,
) -> None:
    author = users[brief.author]
    item = add_agenda_item(
        session, author, meeting, children[brief.child], brief.reason, brief.text, today=on
    )
    if brief.disclose and item.brief_record_id is not None:
        record = session.get_one(Record, item.brief_record_id)
        for agency in meeting.council.agencies:
            if agency.id != author.agency_id:
                disclose_as_engine_allows(session, author, record, agency)
    if on < today_local():
        item.added_at = history.local_time(on, 10)
        if item.brief_record_id is not None:
            history.date_records(session, [item.brief_record_id], item.added_at)


def _prepare_next(
    session: Session,
    users: dict[str, User],
    children: dict[str, Child],
    council: Council,
    today: dt.date,
) -> None:
    meeting = prepared_meeting(session, council, today)
    if meeting is None:
        return
    for brief in NEXT_AGENDAS[council.code]:
        _add(session, users, children, meeting, brief, today)
    for email, status in NEXT_ANSWERS[council.code].items():
        set_attendance(session, users[email], meeting, users[email].id, status)
