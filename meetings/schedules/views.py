"""Pages: the council's meetings (list, month calendar, panel) for members; schedules, moving,
cancelling and extra meetings for the council's coordinators.

Every page runs through the page wrapper: it loads through an access function (members;
coordinators for changes; refusals logged by the wrapper), calls one service and redirects; the
wrapper commits once. Paths carry ids only.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from dateutil.relativedelta import relativedelta
from flask import Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from coordination.councils.access import council_for
from coordination.db import LOCAL_ZONE, db_session, today_local, utcnow
from coordination.errors import PermissionDenied, get_or_not_found
from coordination.models import Council, User
from coordination.numbers import page_count, plain_int
from coordination.policy import Need
from coordination.web import params
from coordination.web.forms import parse_version, validated
from coordination.web.page import PageBlueprint, actor, on_refusal, require_valid
from coordination.web.registries import register_council_panel, register_council_section
from meetings.agenda.forms import MEETING_STATUS_LABELS
from meetings.agenda.views import requested_meeting
from meetings.models import Meeting, Schedule
from meetings.schedules import checks, meeting_changes, queries, schedule_changes
from meetings.schedules.forms import (
    PRESET_LABELS,
    CancelMeetingForm,
    MeetingTimeForm,
    ScheduleForm,
    minutes_between,
)
from meetings.schedules.materialise import HORIZON_MONTHS, MaterialiseReport
from meetings.schedules.queries import meeting_path
from meetings.schedules.rules import Preset, preset_of
from meetings.schedules.swedish_holidays import holidays_between

bp = PageBlueprint("schedules", __name__, template_folder="templates")

PAGE_SIZE = 25
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
    upcoming = queries.next_meetings(session, council, now=utcnow(), limit=3)
    return render_template(
        "meetings/schedules/_panel.html",
        council=council,
        meetings=upcoming,
        meeting_path=meeting_path,
    )


# --- Loading and access -------------------------------------------------------------------------


def _council_for_coordinator(session: Session, council_id: int) -> Council:
    """The council's coordinators plan its meetings (administrators do not, unless they are
    one): loaded for its members, then the council role checked."""
    council = council_for(session, actor(), council_id, Need.VIEW)
    if not checks.can_manage_schedules(actor(), council):
        raise PermissionDenied(object_type="council", object_ids=[council_id])
    return council


def _schedule_for_coordinator(session: Session, schedule_id: int) -> Schedule:
    schedule = get_or_not_found(session, Schedule, schedule_id, "schedule")
    if not checks.can_manage_schedules(actor(), schedule.council):
        raise PermissionDenied(object_type="schedule", object_ids=[schedule_id])
    return schedule


# --- Members: list, calendar --------------------------------------------------------------------


@bp.page("/councils/<int:council_id>/meetings")
def meetings(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = council_for(session, actor(), council_id, Need.VIEW)
    past = request.args.get("when") == "past"
    page = params.page_number()
    rows, total = queries.meetings_page(
        session, council, now=utcnow(), past=past, page=page, size=PAGE_SIZE
    )
    return render_template(
        "meetings/schedules/meetings.html",
        council=council,
        meetings=rows,
        past=past,
        page=page,
        pages=page_count(total, PAGE_SIZE),
        total=total,
        status_labels=MEETING_STATUS_LABELS,
        can_manage=checks.can_manage_schedules(actor(), council),
        meeting_path=meeting_path,
        today=today_local(),
    )


def _month_from(raw: str | None, today: dt.date) -> dt.date:
    """``?month=YYYY-MM``; anything else, or a year far from any meeting, is this month."""
    year_text, _, month_text = (raw or "").partition("-")
    year, month = plain_int(year_text, max_digits=4), plain_int(month_text, max_digits=2)
    # A year near date.min/max would make the month arithmetic fail: none far from any meeting.
    if year is not None and month is not None and 2000 <= year <= 2200 and 1 <= month <= 12:
        return dt.date(year, month, 1)
    return today.replace(day=1)


@bp.page("/councils/<int:council_id>/meetings/calendar")
def month(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = council_for(session, actor(), council_id, Need.VIEW)
    today = today_local()
    first = _month_from(request.args.get("month", "")[:16], today)
    days_in_month = calendar.monthrange(first.year, first.month)[1]
    last = first.replace(day=days_in_month)
    after = last + dt.timedelta(days=1)
    rows = queries.meetings_between(
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
    first_month, last_month = queries.meeting_months(session, council)
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
        holidays=holidays_between(weeks[0][0], weeks[-1][-1]),
        previous=f"{previous:%Y-%m}" if first > lowest else None,
        next=f"{after:%Y-%m}" if first < highest else None,
        this_month=f"{today:%Y-%m}",
        today=today,
        weekday_names=WEEKDAY_NAMES,
        status_labels=MEETING_STATUS_LABELS,
        can_manage=checks.can_manage_schedules(actor(), council),
        meeting_path=meeting_path,
    )


# --- Coordinators: schedules --------------------------------------------------------------------


@bp.page("/councils/<int:council_id>/schedules")
def schedules(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = _council_for_coordinator(session, council_id)
    return render_template(
        "meetings/schedules/schedules.html",
        council=council,
        schedules=queries.council_schedules(session, council),
        describe=_describe_rule,
        holiday_meetings=queries.upcoming_holiday_meetings(session, council, now=utcnow()),
        meeting_path=meeting_path,
    )


def _describe_rule(schedule: Schedule) -> Any:
    preset = preset_of(schedule.rrule, schedule.starts_on)
    return schedule.rrule if preset is Preset.CUSTOM else PRESET_LABELS[preset]


def _schedule_data(form: ScheduleForm) -> schedule_changes.ScheduleData:
    return schedule_changes.ScheduleData(
        name=form.name.data or "",
        rrule=form.rule_text(),
        start_time=validated(form.start_time.data),
        duration_minutes=form.duration_minutes,
        starts_on=validated(form.starts_on.data),
        ends_on=form.ends_on.data,
        location=form.location.data,
        video_link=form.video_link.data,
        active=bool(form.active.data),
    )


def _materialised_message(report: MaterialiseReport) -> str:
    return _(
        "Schemat är sparat. Mötena fram till %(date)s är uppdaterade: %(created)s nya, "
        "%(updated)s ändrade, %(deleted)s borttagna.",
        date=report.last_day.isoformat(),
        created=report.created,
        updated=report.updated,
        deleted=report.deleted,
    )


@bp.page("/councils/<int:council_id>/schedules/new", methods=["GET", "POST"])
def new_schedule(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = _council_for_coordinator(session, council_id)
    form = ScheduleForm()

    def render(error: str | None = None) -> str:
        return render_template(
            "meetings/schedules/schedule_form.html", council=council, form=form, error=error
        )

    if request.method == "GET":
        form.starts_on.data = today_local()
        form.start_time.data = dt.time(9, 0)
        form.end_time.data = dt.time(11, 0)
        return render()
    on_refusal(form, render)
    require_valid(form)
    _, report = schedule_changes.create_schedule(
        session, actor(), council, _schedule_data(form), today=today_local()
    )
    flash(_materialised_message(report), "success")
    return redirect(url_for("schedules.schedules", council_id=council.id))


@bp.page("/schedules/<int:schedule_id>", methods=["GET", "POST"])
def edit_schedule(schedule_id: int) -> ResponseReturnValue:
    session = db_session()
    schedule = _schedule_for_coordinator(session, schedule_id)
    council = schedule.council
    form = ScheduleForm(obj=schedule if request.method == "GET" else None)

    def render(error: str | None = None) -> str:
        return render_template(
            "meetings/schedules/schedule_form.html",
            council=council,
            schedule=schedule,
            form=form,
            error=error,
        )

    if request.method == "GET":
        form.preset.data = preset_of(schedule.rrule, schedule.starts_on).value
        form.end_time.data = (
            dt.datetime.combine(dt.date.min, schedule.start_time)  # wall time
            + dt.timedelta(minutes=schedule.duration_minutes)
        ).time()
        form.version.data = str(schedule.version)
        return render()
    on_refusal(form, render)
    require_valid(form)
    report = schedule_changes.update_schedule(
        session,
        actor(),
        schedule,
        _schedule_data(form),
        expected_version=parse_version(form.version.data),
        today=today_local(),
    )
    flash(_materialised_message(report), "success")
    return redirect(url_for("schedules.schedules", council_id=council.id))


# --- Coordinators: one meeting ------------------------------------------------------------------


def _time_data(form: MeetingTimeForm) -> meeting_changes.MeetingTimeData:
    return meeting_changes.MeetingTimeData(
        day=validated(form.day.data),
        start_time=validated(form.start_time.data),
        duration_minutes=minutes_between(
            validated(form.start_time.data), validated(form.end_time.data)
        ),
        location=form.location.data,
        video_link=form.video_link.data,
    )


@bp.page("/councils/<int:council_id>/meetings/new", methods=["GET", "POST"])
def new_meeting(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = _council_for_coordinator(session, council_id)
    form = MeetingTimeForm()

    def render(error: str | None = None) -> str:
        return render_template(
            "meetings/schedules/meeting_form.html",
            council=council,
            form=form,
            error=error,
            meeting=None,
        )

    if request.method == "GET":
        form.day.data = today_local()
        form.start_time.data = dt.time(9, 0)
        form.end_time.data = dt.time(11, 0)
        return render()
    on_refusal(form, render)
    require_valid(form)
    meeting = meeting_changes.add_meeting(
        session, actor(), council, _time_data(form), today=today_local()
    )
    message = _("Mötet är tillagt och forumets medlemmar är kallade.")
    if meeting.holiday:
        message += " " + _("Obs! Dagen är %(holiday)s.", holiday=meeting.holiday)
    flash(message, "success")
    return redirect(url_for("schedules.meetings", council_id=council.id))


@bp.page("/occurrences/<int:meeting_id>/move", methods=["GET", "POST"])
def move_meeting(meeting_id: int) -> ResponseReturnValue:
    session, meeting = requested_meeting(meeting_id, Need.MANAGE)
    form = MeetingTimeForm()
    cancel_form = CancelMeetingForm()

    form_passed: list[bool] = []  # set once the form is valid (or filled from the meeting)

    def render(error: str | None = None) -> str:
        # Shown again after a refusal: the cancel button carries the meeting's version when
        # the service refused, the posted one when the form did.
        cancel_form.version.data = str(meeting.version) if form_passed else form.version.data
        return render_template(
            "meetings/schedules/meeting_form.html",
            council=meeting.council,
            form=form,
            cancel_form=cancel_form,
            error=error,
            meeting=meeting,
            status_labels=MEETING_STATUS_LABELS,
            meeting_path=meeting_path,
        )

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
        form.version.data = str(meeting.version)
        form_passed.append(True)
        return render()
    on_refusal(form, render)
    require_valid(form)
    form_passed.append(True)
    meeting_changes.move_meeting(
        session,
        actor(),
        meeting,
        _time_data(form),
        expected_version=parse_version(form.version.data),
        today=today_local(),
    )
    flash(_("Mötet är flyttat. De andra mötena i schemat är oförändrade."), "success")
    return redirect(url_for("schedules.meetings", council_id=meeting.council_id))


@bp.page("/occurrences/<int:meeting_id>/cancel", methods=["POST"])
def cancel_meeting(meeting_id: int) -> ResponseReturnValue:
    session, meeting = requested_meeting(meeting_id, Need.MANAGE)
    back = url_for("schedules.meetings", council_id=meeting.council_id)
    form = CancelMeetingForm()
    if not form.validate_on_submit():
        return redirect(back)
    on_refusal(redirect_to=back)
    meeting_changes.cancel_meeting(
        session,
        actor(),
        meeting,
        expected_version=parse_version(form.version.data),
        today=today_local(),
    )
    flash(_("Mötet är inställt. De andra mötena i schemat är oförändrade."), "success")
    return redirect(back)
