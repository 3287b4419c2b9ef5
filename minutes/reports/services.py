"""Reports per council and period: meetings held, children discussed, agreed actions and how
they went, by responsible agency. Figures only: no pseudonyms, no content (DESIGN rule 7).

Charts are SVG rendered on the server by pygal and placed inline in the page. The CSP forbids
inline scripts and styles, so pygal's script and style elements are removed; the colours come
from the minutes stylesheet, and every chart has an HTML table with the same figures beside it.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import pygal
from dateutil.relativedelta import relativedelta
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination import spreadsheets
from coordination.audit.log import record_event
from coordination.db import LOCAL_ZONE
from coordination.models import Agency, Council, User
from meetings.models import AgendaItem, Meeting, MeetingStatus
from minutes.models import OPEN_STATUSES, ActionStatus, AgreedAction
from minutes.tags import MinutesTag

# pygal appends a legacy ``sys.meta_path`` finder for its map plugins (unused here). Python 3.11
# warns (ImportWarning) on every later failed import that reaches it, and warnings are errors in
# the tests; take it out again.
sys.meta_path[:] = [
    finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"
]

DEFAULT_MONTHS = 12


@dataclass(frozen=True)
class Period:
    start: dt.date  # inclusive, local dates
    end: dt.date  # inclusive

    def utc_bounds(self) -> tuple[dt.datetime, dt.datetime]:
        start = dt.datetime.combine(self.start, dt.time(), LOCAL_ZONE)
        end = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), LOCAL_ZONE)
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def default_period(today: dt.date) -> Period:
    """The last twelve months, today included."""
    return Period(today - relativedelta(months=DEFAULT_MONTHS) + dt.timedelta(days=1), today)


@dataclass
class AgencyFigures:
    agency_id: int
    agency_name: str
    agreed: int = 0
    done_on_time: int = 0
    overdue: int = 0  # open past due, or done late
    not_done: int = 0


@dataclass
class CouncilReport:
    council: Council
    period: Period
    meetings_held: int
    children_discussed: int
    by_agency: list[AgencyFigures]
    meetings_by_month: list[tuple[str, int]] = field(default_factory=list)

    @property
    def totals(self) -> AgencyFigures:
        total = AgencyFigures(0, _("Totalt"))
        for row in self.by_agency:
            total.agreed += row.agreed
            total.done_on_time += row.done_on_time
            total.overdue += row.overdue
            total.not_done += row.not_done
        return total


def _months(period: Period) -> list[str]:
    months: list[str] = []
    month = period.start.replace(day=1)
    while month <= period.end:
        months.append(f"{month.year}-{month.month:02d}")
        month += relativedelta(months=1)
    return months


def council_report(
    session: Session, council: Council, period: Period, today: dt.date
) -> CouncilReport:
    """All figures in three queries; the status arithmetic runs here, on plain values."""
    start, end = period.utc_bounds()
    in_period = (
        Meeting.council_id == council.id,
        Meeting.starts_at >= start,
        Meeting.starts_at < end,
    )
    held_starts = session.scalars(
        select(Meeting.starts_at).where(*in_period, Meeting.status == MeetingStatus.HELD)
    ).all()
    children = (
        session.scalar(
            select(func.count(func.distinct(AgendaItem.child_id)))
            .join(Meeting, Meeting.id == AgendaItem.meeting_id)
            .where(*in_period, Meeting.status == MeetingStatus.HELD)
        )
        or 0
    )
    per_month = dict.fromkeys(_months(period), 0)
    for starts_at in held_starts:
        local = starts_at.astimezone(LOCAL_ZONE)
        key = f"{local.year}-{local.month:02d}"
        if key in per_month:
            per_month[key] += 1

    rows = session.execute(
        select(
            Agency.id,
            Agency.name,
            AgreedAction.status,
            AgreedAction.due_on,
            AgreedAction.closed_at,
        )
        .join(Meeting, Meeting.id == AgreedAction.meeting_id)
        .join(Agency, Agency.id == AgreedAction.responsible_agency_id)
        .where(*in_period)
    ).all()
    figures: dict[int, AgencyFigures] = {}
    for agency_id, agency_name, status, due_on, closed_at in rows:
        row = figures.setdefault(agency_id, AgencyFigures(agency_id, agency_name))
        row.agreed += 1
        if status == ActionStatus.DONE:
            closed_on = closed_at.astimezone(LOCAL_ZONE).date() if closed_at else None
            if closed_on is None or closed_on <= due_on:  # no close time: not provably late
                row.done_on_time += 1
            else:
                row.overdue += 1
        elif status in OPEN_STATUSES and due_on < today:
            row.overdue += 1
        elif status == ActionStatus.NOT_DONE:
            row.not_done += 1
    return CouncilReport(
        council=council,
        period=period,
        meetings_held=len(held_starts),
        children_discussed=int(children),
        by_agency=sorted(figures.values(), key=lambda r: r.agency_name),
        meetings_by_month=list(per_month.items()),
    )


# --- Charts ---------------------------------------------------------------------------------------

_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)
_STYLE = re.compile(r"<style\b.*?</style>", re.DOTALL)
_INLINE_STYLE = re.compile(r'\sstyle="[^"]*"')


def _inline_svg(chart: pygal.graph.graph.Graph) -> str:
    """pygal's SVG without its script, its style element and style attributes (CSP)."""
    svg = str(chart.render(is_unicode=True))
    svg = _SCRIPT.sub("", svg)
    svg = _STYLE.sub("", svg)
    return _INLINE_STYLE.sub("", svg)


def _chart_config(title: str, counts: Sequence[int]) -> dict[str, object]:
    """Counts on the y axis in whole numbers (at most about eight labels), from zero."""
    top = max([*counts, 1])
    step = max(1, -(-top // 8))
    return {
        "title": title,
        "disable_xml_declaration": True,
        "js": [],
        "css": [],
        "width": 720,
        "height": 360,
        "no_prefix": True,
        "show_legend": True,
        "legend_at_bottom": True,
        "print_values": False,
        "classes": ["pygal-chart", "report-chart"],
        "range": (0, top),
        "y_labels": list(range(0, top + step, step)),
        "value_formatter": lambda value: f"{value:.0f}",
        "truncate_label": -1,
        "truncate_legend": -1,
        "title_font_size": 16,
    }


def month_label(key: str) -> str:
    """``2026-03`` as "mar 2026" (in the user's language)."""
    year, month = (int(part) for part in key.split("-"))
    return format_date(dt.date(year, month, 1), "MMM yyyy")


def actions_chart(report: CouncilReport) -> str:
    rows = report.by_agency
    stacked = [r.done_on_time + r.overdue + r.not_done for r in rows]
    chart = pygal.StackedBar(**_chart_config(_("Åtgärder per ansvarig myndighet"), stacked))
    chart.x_labels = [row.agency_name for row in rows]
    chart.x_label_rotation = 20 if len(rows) > 3 else 0
    chart.add(_("Klara i tid"), [row.done_on_time for row in rows])
    chart.add(_("Försenade"), [row.overdue for row in rows])
    chart.add(_("Inte genomförda"), [row.not_done for row in rows])
    return _inline_svg(chart)


def meetings_chart(report: CouncilReport) -> str:
    counts = [count for _month, count in report.meetings_by_month]
    chart = pygal.Bar(**_chart_config(_("Hållna möten per månad"), counts))
    chart.x_labels = [month_label(month) for month, _count in report.meetings_by_month]
    chart.x_label_rotation = 30 if len(counts) > 6 else 0
    chart.add(_("Hållna möten"), counts)
    return _inline_svg(chart)


# --- CSV and XLSX -------------------------------------------------------------------------------


def report_rows(report: CouncilReport) -> list[list[object]]:
    """The report as rows: figures as numbers (the exports guard the texts)."""
    rows: list[list[object]] = [
        [_("Forum"), report.council.name],
        [_("Från"), report.period.start.isoformat()],
        [_("Till"), report.period.end.isoformat()],
        [_("Hållna möten"), report.meetings_held],
        [_("Barn som diskuterats"), report.children_discussed],
        [],
        [
            _("Ansvarig myndighet"),
            _("Överenskomna"),
            _("Klara i tid"),
            _("Försenade"),
            _("Inte genomförda"),
        ],
    ]
    for row in [*report.by_agency, report.totals]:
        rows.append([row.agency_name, row.agreed, row.done_on_time, row.overdue, row.not_done])
    return rows


def report_csv(report: CouncilReport) -> str:
    return spreadsheets.csv_text(report_rows(report))


def report_xlsx(report: CouncilReport) -> bytes:
    """Two sheets: the figures per agency, and the meetings held per month."""
    months: list[list[object]] = [[_("Månad"), _("Hållna möten")]]
    months += [[month, count] for month, count in report.meetings_by_month]
    return spreadsheets.xlsx_bytes(
        [(_("Åtgärder"), report_rows(report)), (_("Möten per månad"), months)]
    )


def log_report_export(session: Session, actor: User, report: CouncilReport) -> None:
    """A CSV download is an export: logged with the council and period (no figures needed)."""
    record_event(
        session,
        actor,
        MinutesTag.REPORT_EXPORT,
        on=report.council,
        details={"from": report.period.start.isoformat(), "to": report.period.end.isoformat()},
    )
