"""Pages: the minutes' print view and the council's reports (page and CSV).

Members of the council only (``meeting_for`` WRITE, ``council_for`` VIEW); the page wrapper
logs refusals and commits once. The print view is an export and is
logged by ``minutes.reports.printing``; the reports hold figures only, no pseudonyms.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, Response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from coordination import spreadsheets
from coordination.councils.access import council_for
from coordination.db import db_session, today_local, utcnow
from coordination.logreview.scopes import register_tag_labels
from coordination.policy import Need
from coordination.web.page import PageBlueprint, actor, on_refusal
from coordination.web.params import BadParameter, is_sane_date
from coordination.web.registries import register_council_section
from meetings.agenda.forms import ATTENDANCE_LABELS
from meetings.agenda.views import requested_meeting
from minutes.assessments import stats as assessment_stats
from minutes.models import ActionStatus, AmendmentReason, MinutesStatus
from minutes.reports import pdf, printing
from minutes.reports import services as reports
from minutes.tags import MinutesTag
from minutes.workspace.forms import ENTRY_KIND_LABELS

bp = PageBlueprint(
    "minute_reports",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/minutes",
)

TAG_LABELS = {
    MinutesTag.PRINT_EXPORT.value: _l("Protokoll utskrivet"),
    MinutesTag.REPORT_EXPORT.value: _l("Rapport exporterad"),
    MinutesTag.PDF_EXPORT.value: _l("Protokoll exporterat som PDF"),
}
STATUS_LABELS = {
    MinutesStatus.DRAFT: _l("Utkast"),
    MinutesStatus.SUBMITTED: _l("Lämnat för justering"),
    MinutesStatus.APPROVED: _l("Justerat"),
}
ACTION_STATUS_LABELS = {
    ActionStatus.OPEN: _l("Öppen"),
    ActionStatus.IN_PROGRESS: _l("Pågår"),
    ActionStatus.DONE: _l("Klar"),
    ActionStatus.NOT_DONE: _l("Inte genomförd"),
    ActionStatus.CANCELLED: _l("Avbruten"),
}
CHANGE_LABELS = {
    assessment_stats.Change.LOWER: _l("Lägre nivå"),
    assessment_stats.Change.SAME: _l("Samma nivå"),
    assessment_stats.Change.HIGHER: _l("Högre nivå"),
}
AMENDMENT_LABELS = {
    AmendmentReason.FACTUAL_ERROR: _l("sakfel"),
    AmendmentReason.OMISSION: _l("utelämnande"),
    AmendmentReason.WRONG_CHILD: _l("fel barn"),
    AmendmentReason.OTHER: _l("annat"),
}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_council_section(app, "minute_reports.council_report", _l("Rapporter"))
    register_tag_labels(app, TAG_LABELS)


# --- Print view -----------------------------------------------------------------------------------


@bp.page("/meetings/<int:meeting_id>/minutes/print")
def print_minutes(meeting_id: int) -> ResponseReturnValue:
    """Members of the council only: guests of one meeting do not print its minutes."""
    session, meeting = requested_meeting(meeting_id, Need.WRITE)
    view = printing.print_view(session, actor(), meeting, utcnow())
    return render_template(
        "minutes/print.html",
        view=view,
        status_labels=STATUS_LABELS,
        action_status_labels=ACTION_STATUS_LABELS,
        entry_kind_labels=ENTRY_KIND_LABELS,
        amendment_labels=AMENDMENT_LABELS,
    )


@bp.page("/meetings/<int:meeting_id>/minutes.pdf")
def minutes_pdf(meeting_id: int) -> ResponseReturnValue:
    """The approved minutes as PDF/A, for the council's members (as the print view); before
    approval the meeting page is shown with the reason. Logged as an export."""
    session, meeting = requested_meeting(meeting_id, Need.WRITE)
    on_refusal(redirect_to=url_for("minutes.workspace_page", meeting_id=meeting.id))
    document = pdf.minutes_document(session, actor(), meeting, utcnow())
    body = pdf.render_pdf(
        document,
        status_labels=STATUS_LABELS,
        action_status_labels=ACTION_STATUS_LABELS,
        entry_kind_labels=ENTRY_KIND_LABELS,
        amendment_labels=AMENDMENT_LABELS,
        attendance_labels=ATTENDANCE_LABELS,
    )
    day = meeting.starts_at.date().isoformat()
    return Response(
        body,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="protokoll-{meeting.id}-{day}.pdf"',
            "Cache-Control": "no-store",
        },
    )


# --- Reports --------------------------------------------------------------------------------------


def _parse_day(name: str) -> tuple[dt.date | None, str | None]:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None, None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return None, _("Ange ett datum som ÅÅÅÅ-MM-DD.")
    if not is_sane_date(day):
        raise BadParameter()  # beyond any real period: the ordinary 400 page
    return day, None


def _period() -> tuple[reports.Period, dict[str, str]]:
    """The requested period, or the last twelve months; errors per field."""
    default = reports.default_period(today_local())
    start, start_error = _parse_day("from")
    end, end_error = _parse_day("to")
    errors = {k: v for k, v in (("from", start_error), ("to", end_error)) if v}
    period = reports.Period(start or default.start, end or default.end)
    if not errors and period.start > period.end:
        errors["to"] = _("Slutdatumet måste vara samma dag som startdatumet eller senare.")
    if errors:
        return default, errors
    return period, errors


@bp.page("/councils/<int:council_id>/reports")
def council_report(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = council_for(session, actor(), council_id, Need.VIEW)
    period, errors = _period()
    report = reports.council_report(session, council, period, today_local())
    html = render_template(
        "minutes/reports/council.html",
        council=council,
        report=report,
        errors=errors,
        raw_from=request.args.get("from", ""),
        raw_to=request.args.get("to", ""),
        actions_svg=Markup(reports.actions_chart(report)),  # noqa: S704 - pygal's own escaped SVG
        meetings_svg=Markup(reports.meetings_chart(report)),  # noqa: S704 - as above
        month_label=reports.month_label,
        assessment_statistics=assessment_stats.council_statistics(session, council),
        change_labels=CHANGE_LABELS,
        suppressed_below=assessment_stats.SUPPRESS_BELOW,
    )
    return (html, 422) if errors else html


def _export(council_id: int, kind: str) -> ResponseReturnValue:
    """The report as a file for a spreadsheet program (CSV for Swedish Excel, or XLSX);
    logged as an export."""
    session = db_session()
    council = council_for(session, actor(), council_id, Need.VIEW)
    period, errors = _period()
    if errors:
        return Response(" ".join(errors.values()), status=422, mimetype="text/plain")
    report = reports.council_report(session, council, period, today_local())
    reports.log_report_export(session, actor(), report)
    filename = f"rapport-{council.id}-{period.start.isoformat()}-{period.end.isoformat()}.{kind}"
    if kind == "xlsx":
        body: str | bytes = reports.report_xlsx(report)
        mimetype = spreadsheets.XLSX_MIMETYPE
    else:
        body, mimetype = reports.report_csv(report), spreadsheets.CSV_MIMETYPE
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.page("/councils/<int:council_id>/reports.csv")
def council_report_csv(council_id: int) -> ResponseReturnValue:
    return _export(council_id, "csv")


@bp.page("/councils/<int:council_id>/reports.xlsx")
def council_report_xlsx(council_id: int) -> ResponseReturnValue:
    return _export(council_id, "xlsx")
