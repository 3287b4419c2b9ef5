"""Log review pages (loggkontroll): the agency's audit log, filtered and exported, and the
monthly review with its sign-off. Only users with ``Permission.REVIEW_AGENCY_LOG``.

Filters travel in the query string as ids, tags and dates only: a child's pseudonym is posted
and turned into the child's id before the redirect, so it never appears in a URL.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from coordination import spreadsheets
from coordination.db import LOCAL_ZONE, db_session, today_local
from coordination.logreview import describe, monthly
from coordination.logreview.events import (
    EventPage,
    LogFilter,
    agency_users,
    child_by_pseudonym,
    child_for_filter,
    event_page,
    export_events,
)
from coordination.logreview.models import ReviewOutcome
from coordination.logreview.monthly import (
    OUTCOME_LABELS,
    REVIEW_MONTHS,
    add_months,
    month_key,
    month_report,
    parse_month,
    review_months,
    reviewers,
    sign_off_month,
)
from coordination.logreview.scopes import (
    OBJECT_TYPE_LABELS,
    audit_scopes,
    require_reviewer,
    tag_labels,
)
from coordination.models import Child
from coordination.web.confirm import Confirmation, is_confirmed, render_confirmation
from coordination.web.forms import choices, sane_date
from coordination.web.page import PageBlueprint, actor, on_refusal
from coordination.web.params import BadParameter, arg_date, arg_int, is_sane_date

bp = PageBlueprint("logreview", __name__, url_prefix="/logreview", template_folder="templates")


class LogFilterForm(FlaskForm):
    user = SelectField(_l("Användare"), validators=[Optional()])
    pseudonym = StringField(_l("Barnets pseudonym"), validators=[Optional(), Length(max=40)])
    tag = SelectField(_l("Händelse"), validators=[Optional()])
    date_from = DateField(_l("Från och med"), validators=[Optional(), sane_date])
    date_to = DateField(_l("Till och med"), validators=[Optional(), sane_date])


class SignOffForm(FlaskForm):
    outcome = SelectField(
        _l("Kommentar"),
        choices=choices(
            [("", _l("Ingen kommentar"))]
            + [(o.value, label) for o, label in OUTCOME_LABELS.items()]
        ),
        validators=[Optional()],
    )


def _tag_choices() -> list[tuple[str, str]]:
    labels = tag_labels(current_app)
    return sorted(((tag, str(label)) for tag, label in labels.items()), key=lambda c: c[1])


def _filter_form(session: Session, filters: LogFilter, child: Child | None) -> LogFilterForm:
    form = LogFilterForm()
    form.user.choices = choices(
        [("", _("Alla"))] + [(str(u.id), u.display_name) for u in agency_users(session, actor())]
    )
    form.tag.choices = choices([("", _("Alla")), *_tag_choices()])
    if request.method == "GET":
        form.user.data = str(filters.user_id) if filters.user_id else ""
        form.pseudonym.data = child.pseudonym if child else ""
        form.tag.data = filters.tag or ""
        form.date_from.data = filters.date_from
        form.date_to.data = filters.date_to
    return form


# Sequence numbers of the audit log: 64-bit in the database.
MAX_SEQ = 2**63 - 1


def _filters_from_args() -> LogFilter:
    return LogFilter(
        user_id=arg_int("user"),
        child_id=arg_int("child"),
        tag=request.args.get("tag") or None,
        date_from=arg_date("from"),
        date_to=arg_date("to"),
    )


def _filter_args(filters: LogFilter) -> dict[str, Any]:
    args = {
        "user": filters.user_id,
        "child": filters.child_id,
        "tag": filters.tag,
        "from": filters.date_from.isoformat() if filters.date_from else None,
        "to": filters.date_to.isoformat() if filters.date_to else None,
    }
    return {key: value for key, value in args.items() if value is not None}


def _render_events(
    form: LogFilterForm, filters: LogFilter, page: EventPage | None, status: int = 200
) -> ResponseReturnValue:
    names = describe.names_for(db_session(), page.events) if page is not None else None
    return render_template(
        "coordination/logreview/events.html",
        form=form,
        page=page,
        filter_args=_filter_args(filters),
        tag_labels=tag_labels(current_app),
        object_labels=OBJECT_TYPE_LABELS,
        describe=lambda details: describe.describe(details, names) if names else [],
    ), status


@bp.page("/", methods=["GET", "POST"])
def events() -> ResponseReturnValue:
    session = db_session()
    require_reviewer(actor())
    if request.method == "POST":
        form = _filter_form(session, LogFilter(), None)
        if form.validate_on_submit():
            child = None
            if form.pseudonym.data:
                child = child_by_pseudonym(session, form.pseudonym.data, actor().agency_id)
                if child is None:
                    form.pseudonym.errors = [_("Det finns inget barn med den pseudonymen.")]
            if not form.pseudonym.errors:
                filters = LogFilter(
                    user_id=int(form.user.data) if form.user.data else None,
                    child_id=child.id if child else None,
                    tag=form.tag.data or None,
                    date_from=form.date_from.data,
                    date_to=form.date_to.data,
                )
                return redirect(url_for("logreview.events", **_filter_args(filters)))
        # No list under a refused filter: it would look like the answer to it.
        return _render_events(form, LogFilter(), None, 422)
    filters = _filters_from_args()
    child = (
        child_for_filter(session, filters.child_id, actor().agency_id) if filters.child_id else None
    )
    form = _filter_form(session, filters, child)
    page = event_page(
        session,
        actor(),
        filters,
        audit_scopes(current_app),
        before=arg_int("before", low=0, high=MAX_SEQ),
        after=arg_int("after", low=0, high=MAX_SEQ),
    )
    return _render_events(form, filters, page)


def _csv(page: EventPage, labels: dict[str, Any]) -> str:
    rows: list[list[object]] = [
        [
            _("Löpnummer"),
            _("Tid"),
            _("Användar-id"),
            _("Användare"),
            _("Myndighet"),
            _("Händelse"),
            _("Beskrivning"),
            _("Objekttyp"),
            _("Objekt"),
            _("Detaljer"),
        ]
    ]
    for event in page.events:
        user = page.users.get(event.actor_user_id) if event.actor_user_id else None
        rows.append(
            [
                event.seq,
                event.occurred_at.astimezone(LOCAL_ZONE).isoformat(timespec="seconds"),
                event.actor_user_id,
                user.name if user else "",
                user.agency if user else "",
                event.tag,
                labels.get(event.tag, event.tag),
                event.object_type,
                " ".join(map(str, event.object_ids)),
                json.dumps(event.details, sort_keys=True, ensure_ascii=False),
            ]
        )
    return spreadsheets.csv_text(rows)  # the formula guard, the BOM and ";" for Swedish Excel


@bp.page("/export.csv")
def export() -> ResponseReturnValue:
    session = db_session()
    require_reviewer(actor())
    filters = _filters_from_args()
    page = export_events(session, actor(), filters, audit_scopes(current_app))
    body = _csv(page, tag_labels(current_app))
    filename = f"logg-{today_local().isoformat()}.csv"
    return Response(
        body,
        mimetype=spreadsheets.CSV_MIMETYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- Monthly review -----------------------------------------------------------------------------


@bp.page("/months")
def months() -> ResponseReturnValue:
    session = db_session()
    require_reviewer(actor())
    statuses = review_months(session, actor(), today_local())
    return render_template(
        "coordination/logreview/months.html",
        statuses=statuses,
        reviewers=reviewers(session, (s.review for s in statuses)),
        outcome_labels=OUTCOME_LABELS,
    )


def _month_or_404(text: str) -> dt.date:
    """A past or current month: 404 for what is not a month or lies ahead, 400 for a month
    before the calendar pages may ask about (its previous month need not be a date)."""
    month = parse_month(text)
    if month is None or month > today_local():
        abort(404)
    if not is_sane_date(month):
        raise BadParameter()
    return month


def _render_month(
    session: Session, month: dt.date, form: SignOffForm, status: int = 200
) -> ResponseReturnValue:
    today = today_local()
    report = month_report(session, actor(), month, today, audit_scopes(current_app))
    previous = add_months(month, -1)
    oldest_listed = add_months(today.replace(day=1), -REVIEW_MONTHS)
    return render_template(
        "coordination/logreview/month.html",
        report=report,
        form=form,
        reviewers=reviewers(session, [report.review]),
        outcome_labels=OUTCOME_LABELS,
        constants=monthly,
        # Within the index's window only: older months are reached by their address.
        previous=month_key(previous) if previous >= oldest_listed else None,
    ), status


@bp.page("/months/<month_text>")
def month_page(month_text: str) -> ResponseReturnValue:
    require_reviewer(actor())
    return _render_month(db_session(), _month_or_404(month_text), SignOffForm())


@bp.page("/months/<month_text>/sign", methods=["GET", "POST"])
def sign_month(month_text: str) -> ResponseReturnValue:
    """Signing cannot be undone: the GET, and the month page's button, show what it means;
    the button of that confirmation page signs."""
    session = db_session()
    require_reviewer(actor())
    month = _month_or_404(month_text)
    posted = request.method == "POST"
    form = SignOffForm() if posted else SignOffForm(request.args, meta={"csrf": False})
    valid = form.validate_on_submit() if posted else form.validate()
    if not valid:
        return _render_month(session, month, form, 422)
    outcome = ReviewOutcome(form.outcome.data) if form.outcome.data else None

    def refused(message: str | None) -> ResponseReturnValue:
        flash(message or "", "error")
        return _render_month(session, month, form)

    on_refusal(None, refused)
    if not is_confirmed():
        monthly.check_sign_off(session, actor(), month, today_local())
        return render_confirmation(
            Confirmation(
                title=_("Signera loggkontrollen"),
                lead=_(
                    "Du signerar din myndighets granskning av loggen för %(month)s.",
                    month=month_text,
                ),
                consequences=[
                    _("Kommentar: %(outcome)s.", outcome=OUTCOME_LABELS[outcome])
                    if outcome is not None
                    else _("Ingen kommentar."),
                    _(
                        "Signeringen visar att månaden är granskad. Den kan inte ändras eller "
                        "tas bort, och ingen annan kan signera månaden efter dig."
                    ),
                    _("Signeringen skrivs i loggen."),
                ],
                action=url_for("logreview.sign_month", month_text=month_text),
                button=_("Signera"),
                cancel_url=url_for("logreview.month_page", month_text=month_text),
                hidden={"outcome": form.outcome.data or ""},
            )
        )
    sign_off_month(session, actor(), month, outcome, today_local())
    flash(_("Loggkontrollen för %(month)s är signerad.", month=month_text), "success")
    return redirect(url_for("logreview.month_page", month_text=month_text))
