"""Pages for following up agreed actions: "Mina åtgärder", "Min myndighets åtgärder", a
council's actions, and one action with its history and the status form.

Lists show metadata to every council member; descriptions are revealed with one
``reveal_records`` call per page, so a withheld description shows its reason.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from coordination.db import db_session, today_local
from coordination.errors import ConflictError, PermissionDenied, ServiceError
from coordination.models import Council, CouncilMembership, User
from coordination.policy import can_view_council
from coordination.web.forms import REQUIRED, choices
from coordination.web.page import actor, deny, show_service_error
from coordination.web.registries import register_council_section
from minutes.actions import agenda_seam
from minutes.actions.services import (
    MAX_COMMENT,
    DueFilter,
    ListQuery,
    ListScope,
    SortKey,
    StatusChange,
    StatusFilter,
    action_history,
    allowed_statuses,
    can_view_action,
    comment_recipient,
    is_overdue,
    list_actions,
    update_action,
)
from minutes.models import ActionStatus, AgreedAction, NotDoneReason
from secrecy.models import Record
from secrecy.policy.rules import legal_bases
from secrecy.records.reveal import RevealResult, reveal_records

bp = Blueprint("actions", __name__, template_folder="templates")

STATUS_LABELS = {
    ActionStatus.OPEN: _l("Öppen"),
    ActionStatus.IN_PROGRESS: _l("Pågår"),
    ActionStatus.DONE: _l("Utförd"),
    ActionStatus.NOT_DONE: _l("Inte utförd"),
    ActionStatus.CANCELLED: _l("Struken"),
}
REASON_LABELS = {
    NotDoneReason.CIRCUMSTANCES_CHANGED: _l("Omständigheterna har ändrats"),
    NotDoneReason.NOT_CARRIED_OUT: _l("Blev inte genomförd"),
}
STATUS_FILTER_LABELS = {
    StatusFilter.ACTIVE: _l("Öppna och pågående"),
    StatusFilter.OPEN: _l("Öppna"),
    StatusFilter.IN_PROGRESS: _l("Pågående"),
    StatusFilter.DONE: _l("Utförda"),
    StatusFilter.NOT_DONE: _l("Inte utförda"),
    StatusFilter.CANCELLED: _l("Strukna"),
    StatusFilter.ALL: _l("Alla"),
}
DUE_FILTER_LABELS = {
    DueFilter.ALL: _l("Alla"),
    DueFilter.OVERDUE: _l("Försenade"),
    DueFilter.NEXT_7: _l("Nästa 7 dagar"),
    DueFilter.NEXT_30: _l("Nästa 30 dagar"),
}
SORT_LABELS = {
    SortKey.DUE: _l("Klart senast"),
    SortKey.STATUS: _l("Status"),
    SortKey.COUNCIL: _l("Forum"),
}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_council_section(app, "actions.council_actions", _l("Åtgärder"))
    agenda_seam.init_app(app)


class ActionFilterForm(FlaskForm):
    """The list filters travel in the query string (no personal data in them)."""

    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"),
        choices=choices(STATUS_FILTER_LABELS.items()),
        default=StatusFilter.ACTIVE.value,
    )
    due = SelectField(
        _l("Klart senast"), choices=choices(DUE_FILTER_LABELS.items()), default=DueFilter.ALL.value
    )
    council = SelectField(_l("Forum"), choices=[], default="")
    sort = SelectField(
        _l("Sortera efter"), choices=choices(SORT_LABELS.items()), default=SortKey.DUE.value
    )
    page = IntegerField(validators=[Optional()], default=1)


class ActionUpdateForm(FlaskForm):
    status = SelectField(_l("Ny status"), validators=[DataRequired(REQUIRED)], choices=[])
    reason = SelectField(
        _l("Skäl (om åtgärden inte blev utförd)"),
        choices=choices([("", "—"), *REASON_LABELS.items()]),
        default="",
    )
    comment = TextAreaField(
        _l("Kommentar"),
        validators=[DataRequired(REQUIRED), Length(max=MAX_COMMENT)],
        render_kw={"autocomplete": "off", "rows": 4},
    )
    share_basis = SelectField(_l("Lämna ut kommentaren"), choices=[], default="")
    share_confirm = BooleanField(_l("Jag bekräftar förutsättningarna för den valda grunden."))
    version = HiddenField(validators=[InputRequired()])


# --- Lists --------------------------------------------------------------------------------------


def _filter_form(user: User) -> ActionFilterForm:
    form = ActionFilterForm(request.args)
    # Ids and names in one query (loading each membership's council would cost two per council).
    councils = db_session().execute(
        select(Council.id, Council.name)
        .join(CouncilMembership, CouncilMembership.council_id == Council.id)
        .where(CouncilMembership.user_id == user.id)
        .order_by(Council.name, Council.id)
    )
    form.council.choices = choices(
        [("", _("Alla forum")), *((str(c.id), c.name) for c in councils)]
    )
    # Labels translated once here; lazy ones would be translated again at every use in the
    # options' rendering.
    form.status.choices = choices((k, str(v)) for k, v in STATUS_FILTER_LABELS.items())
    form.due.choices = choices((k, str(v)) for k, v in DUE_FILTER_LABELS.items())
    form.sort.choices = choices((k, str(v)) for k, v in SORT_LABELS.items())
    return form


def _list_query(form: ActionFilterForm) -> ListQuery:
    """Unknown values fall back to the defaults (a hand-edited URL is not an error)."""
    form.validate()
    council_id = form.council.data if form.council.data and not form.council.errors else None
    return ListQuery(
        status=StatusFilter(form.status.data)
        if not form.status.errors and form.status.data
        else StatusFilter.ACTIVE,
        due=DueFilter(form.due.data) if not form.due.errors and form.due.data else DueFilter.ALL,
        council_id=int(council_id) if council_id else None,
        sort=SortKey(form.sort.data) if not form.sort.errors and form.sort.data else SortKey.DUE,
        page=form.page.data if not form.page.errors and form.page.data else 1,
    )


def _render_list(
    session: Session,
    scope: ListScope,
    title: str,
    council: Council | None = None,
) -> str:
    user = actor()
    form = _filter_form(user)
    query = _list_query(form)
    today = today_local()
    page = list_actions(session, user, scope, query, today, council)
    revealed = {
        r.record.id: r
        for r in reveal_records(
            session, user, [a.description for a in page.actions], purpose="action_list"
        )
    }
    session.commit()  # the reveal event
    args: dict[str, Any] = {
        "status": query.status.value,
        "due": query.due.value,
        "sort": query.sort.value,
    }
    if query.council_id:
        args["council"] = query.council_id
    if council is not None:
        args["council_id"] = council.id
    return render_template(
        "minutes/actions/list.html",
        title=title,
        council=council,
        endpoint=request.endpoint,
        args=args,
        form=form,
        page=page,
        descriptions=revealed,
        overdue={a.id for a in page.actions if is_overdue(a, today)},
        # Each label translated once per page, not once per row.
        status_labels={key: str(label) for key, label in STATUS_LABELS.items()},
        reason_labels={key: str(label) for key, label in REASON_LABELS.items()},
    )


@bp.get("/actions/mine")
@login_required
def mine() -> ResponseReturnValue:
    return _render_list(db_session(), ListScope.MINE, _("Mina åtgärder"))


@bp.get("/actions/agency")
@login_required
def agency() -> ResponseReturnValue:
    return _render_list(db_session(), ListScope.AGENCY, _("Min myndighets åtgärder"))


@bp.get("/councils/<int:council_id>/actions")
@login_required
def council_actions(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = session.get(Council, council_id)
    if council is None or not can_view_council(actor(), council):
        deny(session, "council", council_id)
    return _render_list(
        session, ListScope.COUNCIL, _("Åtgärder – %(council)s", council=council.name), council
    )


# --- One action ---------------------------------------------------------------------------------


def _load_action(session: Session, action_id: int) -> AgreedAction:
    action = session.get(AgreedAction, action_id)
    if action is None or not can_view_action(actor(), action):
        deny(session, "agreed_action", action_id)
    return action


def _update_form(user: User, action: AgreedAction, formdata: Any = None) -> ActionUpdateForm:
    form = ActionUpdateForm(formdata)
    form.status.choices = choices(
        (s.value, STATUS_LABELS[s]) for s in allowed_statuses(user, action)
    )
    bases = [b for b in legal_bases().values() if b.enabled]
    form.share_basis.choices = choices(
        [
            ("", _("Lämna inte ut – bara min myndighet ser kommentaren")),
            *((b.id, f"{b.title} ({b.reference})") for b in bases),
        ]
    )
    if formdata is None:
        form.version.data = str(action.version)
    return form


def _render_detail(
    session: Session, action: AgreedAction, form: ActionUpdateForm, error: str | None = None
) -> str:
    user = actor()
    history = action_history(session, action)
    record_ids = [action.description_record_id] + [
        u.comment_record_id for u in history if u.comment_record_id is not None
    ]
    records = {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(record_ids)))}
    results: dict[int, RevealResult] = {
        r.record.id: r
        for r in reveal_records(
            session, user, [records[i] for i in record_ids], purpose="agreed_action"
        )
    }
    authors = {
        u.id: u
        for u in session.scalars(select(User).where(User.id.in_({h.author_id for h in history})))
    }
    description = records[action.description_record_id]
    recipient = comment_recipient(user, action, description)
    session.commit()  # the reveal event
    return render_template(
        "minutes/actions/detail.html",
        action=action,
        form=form,
        error=error,
        history=history,
        results=results,
        authors=authors,
        recipient=recipient,
        bases={b.id: b for b in legal_bases().values()},
        overdue=is_overdue(action, today_local()),
        status_labels=STATUS_LABELS,
        reason_labels=REASON_LABELS,
    )


@bp.get("/actions/<int:action_id>")
@login_required
def detail(action_id: int) -> ResponseReturnValue:
    session = db_session()
    action = _load_action(session, action_id)
    return _render_detail(session, action, _update_form(actor(), action))


@bp.post("/actions/<int:action_id>/update")
@login_required
def update(action_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    action = _load_action(session, action_id)
    if not allowed_statuses(user, action):
        deny(session, "agreed_action", action_id)
    form = _update_form(user, action, request.form)
    error: str | None = None
    if form.validate():
        try:
            change = StatusChange(
                to_status=ActionStatus(form.status.data),
                comment=form.comment.data or "",
                version=int(form.version.data or 0),
                reason=NotDoneReason(form.reason.data) if form.reason.data else None,
                share_basis=form.share_basis.data or None,
                confirmed=(
                    list(range(len(legal_bases()[form.share_basis.data].confirmations)))
                    if form.share_basis.data and form.share_confirm.data
                    else []
                ),
            )
            update_action(session, user, action, change)
            session.commit()
        except StaleDataError:
            session.rollback()
            error = str(ConflictError().message)
            return _render_detail(session, _load_action(session, action_id), form, error), 409
        except ConflictError as exc:
            session.rollback()
            return _render_detail(session, action, form, str(exc.message)), 409
        except PermissionDenied:
            session.rollback()
            deny(session, "agreed_action", action_id)
        except ServiceError as exc:
            session.rollback()
            if exc.field == "confirmations":
                exc.field = "share_confirm"
            elif exc.field in ("basis", "recipient"):
                exc.field = "share_basis"
            elif exc.field == "text":
                exc.field = "comment"
            error = show_service_error(form, exc)
            return _render_detail(session, action, form, error), 422
        flash(_("Åtgärden är uppdaterad."), "success")
        return redirect(url_for("actions.detail", action_id=action.id))
    return _render_detail(session, action, form, error), 422
