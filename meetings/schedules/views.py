"""Pages: the council's meetings (list, month calendar, panel) for members; schedules, moving,
cancelling and extra meetings for the council's coordinators.

Every page loads, checks access (members; coordinators for changes; refusals logged), calls
one service, commits once and redirects. Paths carry ids only.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from dateutil.relativedelta import relativedelta
from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from coordination.db import LOCAL_ZONE, db_session, today_local, utcnow
from coordination.errors import ConflictError, ServiceError
from coordination.models import Council, User
from coordination.policy import can_view_council
from coordination.web.forms import parse_version
from coordination.web.page import actor, deny, show_service_error
from coordination.web.registries import register_council_panel, register_council_section
from meetings import schedules as service
from meetings.models import Meeting, MeetingStatus, Schedule
from meetings.schedules import HORIZON_MONTHS, Preset, meeting_path, preset_of
from meetings.schedules.forms import (
    PRESET_LABELS,
    CancelMeetingForm,
    MeetingTimeForm,
    ScheduleForm,
    minutes_between,
)

bp = Blueprint("schedules", __name__, template_folder="templates")

PAGE_SIZE = 25
STATUS_LABELS = {
    MeetingStatus.PLANNED: _l("Planerat"),
    MeetingStatus.HELD: _l("Genomfört"),
    MeetingStatus.CANCELLED: _l("Inställt"),
}
WEEKDAY_NAMES = (
    (_l("mån"), _l("måndag")),
    (_l("tis"), _l("tisdag")),
    (_l("ons"), _l("onsdag")),
    (_l("tor"), _l("torsdag")),
    (_l("fre"), _l("fredag")),
    (_l("lör"), _l("lördag")),
    (_l("sön"), _l("söndag")),
)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_council_section(app, "schedules.meetings", _l("Möten"))
    register_council_panel(app, next_meetings_panel)


def next_meetings_panel(session: Session, user: User, council: Council) -> str | None:
    """On the council page: the next three meetings (date, time, place; nothing about children)."""
    upcoming = service.next_meetings(session, council, now=utcnow(), limit=3)
    return render_template(
        "meetings/schedules/_panel.html",
        council=council,
        meetings=upcoming,
        meeting_path=meeting_path,
    )


# --- Loading and access -------------------------------------------------------------------------


def _council_for_member(session: Session, council_id: int) -> Council:
    council = session.get(Council, council_id)
    if council is None or not can_view_council(actor(), council):
        deny(session, "council", council_id)
    return council


def _council_for_coordinator(session: Session, council_id: int) -> Council:
    council = session.get(Council, council_id)
    if council is None or not service.can_manage_schedules(actor(), council):
        deny(session, "council", council_id)
    return council


def _schedule_for_coordinator(session: Session, schedule_id: int) -> Schedule:
    schedule = session.get(Schedule, schedule_id)
    if schedule is None or not service.can_manage_schedules(actor(), schedule.council):
        deny(session, "schedule", schedule_id)
    return schedule


def _meeting_for_coordinator(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or not service.can_manage_schedules(actor(), meeting.council):
        deny(session, "meeting", meeting_id)
    return meeting


def _page() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


# --- Members: list, calendar --------------------------------------------------------------------


@bp.route("/councils/<int:council_id>/meetings")
@login_required
def meetings(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = _council_for_member(session, council_id)
    past = request.args.get("when") == "past"
    page = _page()
    rows, total = service.meetings_page(
        session, council, now=utcnow(), past=past, page=page, size=PAGE_SIZE
    )
    return render_template(
        "meetings/schedules/meetings.html",
        council=council,
        meetings=rows,
        past=past,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        total=total,
        status_labels=STATUS_LABELS,
        can_manage=service.can_manage_schedules(actor(), council),
        meeting_path=meeting_path,
        today=today_local(),
    )


def _month_from(raw: str | None, today: dt.date) -> dt.date:
    try:
        year, month = (int(part) for part in (raw or "").split("-"))
        if 2000 <= year <= 2200:  # and never near date.min/max, where month arithmetic fails
            return dt.date(year, month, 1)
    except ValueError:
        pass
    return today.replace(day=1)


@bp.route("/councils/<int:council_id>/meetings/calendar")
@login_required
def month(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = _council_for_member(session, council_id)
    today = today_local()
    first = _month_from(request.args.get("month"), today)
    days_in_month = calendar.monthrange(first.year, first.month)[1]
    last = first.replace(day=days_in_month)
    after = last + dt.timedelta(days=1)
    rows = service.meetings_between(
        session,
        council,
        dt.datetime.combine(first, dt.time.min, tzinfo=LOCAL_ZONE),
        dt.datetime.combine(after, dt.time.min, tzinfo=LOCAL_ZONE),
    )
    by_day: dict[dt.date, list[Meeting]] = {}
    for meeting in rows:
        by_day.setdefault(meeting.starts_at.astimezone(LOCAL_ZONE).date(), []).append(meeting)
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    # Browsing is bounded by the meetings there are (and the planning horizon), so the month
    # links end somewhere: crawlers and the leak test follow every link.
    first_month, last_month = service.meeting_months(session, council)
    this_month = today.replace(day=1)
    lowest = min(filter(None, (first_month, this_month)))
    highest = max(filter(None, (last_month, this_month + relativedelta(months=HORIZON_MONTHS))))
    return render_template(
        "meetings/schedules/calendar.html",
        council=council,
        first=first,
        title=format_date(first, "LLLL yyyy"),
        weeks=weeks,
        by_day=by_day,
        holidays=service.holidays_between(weeks[0][0], weeks[-1][-1]),
        previous=f"{previous:%Y-%m}" if first > lowest else None,
        next=f"{after:%Y-%m}" if first < highest else None,
        this_month=f"{today:%Y-%m}",
        today=today,
        weekday_names=WEEKDAY_NAMES,
        status_labels=STATUS_LABELS,
        can_manage=service.can_manage_schedules(actor(), council),
        meeting_path=meeting_path,
    )


# --- Coordinators: schedules --------------------------------------------------------------------


@bp.route("/councils/<int:council_id>/schedules")
@login_required
def schedules(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = _council_for_coordinator(session, council_id)
    rows = service.council_schedules(session, council)
    return render_template(
        "meetings/schedules/schedules.html",
        council=council,
        schedules=rows,
        describe=_describe_rule,
        holiday_meetings=service.upcoming_holiday_meetings(session, council, now=utcnow()),
        meeting_path=meeting_path,
    )


def _describe_rule(schedule: Schedule) -> Any:
    preset = preset_of(schedule.rrule, schedule.starts_on)
    return schedule.rrule if preset is Preset.CUSTOM else PRESET_LABELS[preset]


def _schedule_data(form: ScheduleForm) -> service.ScheduleData:
    return service.ScheduleData(
        name=form.name.data or "",
        rrule=form.rule_text(),
        start_time=form.start_time.data,
        duration_minutes=form.duration_minutes,
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        location=form.location.data,
        video_link=form.video_link.data,
        active=bool(form.active.data),
    )


def _materialised_message(report: service.MaterialiseReport) -> str:
    return _(
        "Schemat är sparat. Mötena fram till %(date)s är uppdaterade: %(created)s nya, "
        "%(updated)s ändrade, %(deleted)s borttagna.",
        date=report.last_day.isoformat(),
        created=report.created,
        updated=report.updated,
        deleted=report.deleted,
    )


@bp.route("/councils/<int:council_id>/schedules/new", methods=["GET", "POST"])
@login_required
def new_schedule(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = _council_for_coordinator(session, council_id)
    form = ScheduleForm()
    error = None
    if request.method == "GET":
        form.starts_on.data = today_local()
        form.start_time.data = dt.time(9, 0)
        form.end_time.data = dt.time(11, 0)
    if form.validate_on_submit():
        try:
            _, report = service.create_schedule(
                session, actor(), council, _schedule_data(form), today=today_local()
            )
        except ServiceError as exc:
            session.rollback()
            error = show_service_error(form, exc)
        else:
            session.commit()
            flash(_materialised_message(report), "success")
            return redirect(url_for("schedules.schedules", council_id=council.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "meetings/schedules/schedule_form.html", council=council, form=form, error=error
    ), status


@bp.route("/schedules/<int:schedule_id>", methods=["GET", "POST"])
@login_required
def edit_schedule(schedule_id: int) -> ResponseReturnValue:
    session = db_session()
    schedule = _schedule_for_coordinator(session, schedule_id)
    council = schedule.council
    form = ScheduleForm(obj=schedule if request.method == "GET" else None)
    error = None
    status = 200
    if request.method == "GET":
        form.preset.data = preset_of(schedule.rrule, schedule.starts_on).value
        form.end_time.data = (
            dt.datetime.combine(dt.date.min, schedule.start_time)  # wall time
            + dt.timedelta(minutes=schedule.duration_minutes)
        ).time()
        form.version.data = str(schedule.version)
    elif form.validate_on_submit():
        try:
            report = service.update_schedule(
                session,
                actor(),
                schedule,
                _schedule_data(form),
                expected_version=parse_version(form.version.data),
                today=today_local(),
            )
        except StaleDataError:
            session.rollback()
            error, status = str(ConflictError().message), 409
        except ConflictError as exc:
            session.rollback()
            error, status = str(exc.message), 409
        except ServiceError as exc:
            session.rollback()
            error, status = show_service_error(form, exc), 422
        else:
            session.commit()
            flash(_materialised_message(report), "success")
            return redirect(url_for("schedules.schedules", council_id=council.id))
    else:
        status = 422
    return render_template(
        "meetings/schedules/schedule_form.html",
        council=council,
        schedule=schedule,
        form=form,
        error=error,
    ), status


# --- Coordinators: one meeting ------------------------------------------------------------------


def _time_data(form: MeetingTimeForm) -> service.MeetingTimeData:
    return service.MeetingTimeData(
        day=form.day.data,
        start_time=form.start_time.data,
        duration_minutes=minutes_between(form.start_time.data, form.end_time.data),
        location=form.location.data,
        video_link=form.video_link.data,
    )


@bp.route("/councils/<int:council_id>/meetings/new", methods=["GET", "POST"])
@login_required
def new_meeting(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = _council_for_coordinator(session, council_id)
    form = MeetingTimeForm()
    error = None
    if request.method == "GET":
        form.day.data = today_local()
        form.start_time.data = dt.time(9, 0)
        form.end_time.data = dt.time(11, 0)
    if form.validate_on_submit():
        try:
            meeting = service.add_meeting(
                session, actor(), council, _time_data(form), today=today_local()
            )
        except ServiceError as exc:
            session.rollback()
            error = show_service_error(form, exc)
        else:
            session.commit()
            message = _("Mötet är tillagt och forumets medlemmar är kallade.")
            if meeting.holiday:
                message += " " + _("Obs! Dagen är %(holiday)s.", holiday=meeting.holiday)
            flash(message, "success")
            return redirect(url_for("schedules.meetings", council_id=council.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "meetings/schedules/meeting_form.html",
        council=council,
        form=form,
        error=error,
        meeting=None,
    ), status


@bp.route("/occurrences/<int:meeting_id>/move", methods=["GET", "POST"])
@login_required
def move_meeting(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _meeting_for_coordinator(session, meeting_id)
    form = MeetingTimeForm()
    cancel_form = CancelMeetingForm()
    error = None
    status = 200
    if request.method == "GET":
        starts, ends = (
            meeting.starts_at.astimezone(LOCAL_ZONE),
            meeting.ends_at.astimezone(LOCAL_ZONE),
        )
        form.day.data = starts.date()
        form.start_time.data = starts.time().replace(tzinfo=None)
        form.end_time.data = ends.time().replace(tzinfo=None)
        form.location.data = meeting.location
        form.video_link.data = meeting.video_link
        form.version.data = cancel_form.version.data = str(meeting.version)
    elif form.validate_on_submit():
        try:
            service.move_meeting(
                session,
                actor(),
                meeting,
                _time_data(form),
                expected_version=parse_version(form.version.data),
                today=today_local(),
            )
        except StaleDataError:
            session.rollback()
            error, status = str(ConflictError().message), 409
        except ConflictError as exc:
            session.rollback()
            error, status = str(exc.message), 409
        except ServiceError as exc:
            session.rollback()
            error, status = show_service_error(form, exc), 422
        else:
            session.commit()
            flash(_("Mötet är flyttat. De andra mötena i schemat är oförändrade."), "success")
            return redirect(url_for("schedules.meetings", council_id=meeting.council_id))
        cancel_form.version.data = str(meeting.version)
    else:
        status = 422
        cancel_form.version.data = form.version.data
    return render_template(
        "meetings/schedules/meeting_form.html",
        council=meeting.council,
        form=form,
        cancel_form=cancel_form,
        error=error,
        meeting=meeting,
        status_labels=STATUS_LABELS,
        meeting_path=meeting_path,
    ), status


@bp.route("/occurrences/<int:meeting_id>/cancel", methods=["POST"])
@login_required
def cancel_meeting(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _meeting_for_coordinator(session, meeting_id)
    form = CancelMeetingForm()
    if form.validate_on_submit():
        try:
            service.cancel_meeting(
                session,
                actor(),
                meeting,
                expected_version=parse_version(form.version.data),
                today=today_local(),
            )
        except StaleDataError:
            session.rollback()
            flash(str(ConflictError().message), "error")
        except ServiceError as exc:
            session.rollback()
            flash(str(exc.message), "error")
        else:
            session.commit()
            flash(_("Mötet är inställt. De andra mötena i schemat är oförändrade."), "success")
    return redirect(url_for("schedules.meetings", council_id=meeting.council_id))
