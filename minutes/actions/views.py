"""Pages for following up agreed actions: "Mina åtgärder", "Min myndighets åtgärder", a
council's actions, and one action with its history and the status form.

Lists show metadata to every council member; descriptions are revealed with one
``reveal_records`` call per page, so a withheld description shows its reason. Every page runs
through the page wrapper and loads through ``minutes.actions.access.action_for`` (the API's
loader too).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.councils.access import council_for
from coordination.db import db_session, today_local
from coordination.errors import ConflictError, fields_named
from coordination.models import Council, CouncilMembership, User
from coordination.policy import Need
from coordination.web.forms import choices, translated_labels
from coordination.web.page import PageBlueprint, actor, on_refusal, require_valid
from coordination.web.params import bounded_int, page_number
from coordination.web.registries import register_council_section
from minutes.actions import agenda_seam
from minutes.actions.access import action_for, allowed_statuses
from minutes.actions.forms import (
    DUE_FILTER_LABELS,
    REASON_LABELS,
    SORT_LABELS,
    STATUS_FILTER_LABELS,
    STATUS_LABELS,
    ActionFilterForm,
    ActionUpdateForm,
)
from minutes.actions.lists import (
    DueFilter,
    ListQuery,
    ListScope,
    SortKey,
    StatusFilter,
    description_keys,
    is_overdue,
    list_actions,
)
from minutes.actions.services import (
    ACTION_CATEGORY,
    StatusChange,
    action_history,
    update_action,
)
from minutes.models import ActionStatus, AgreedAction, NotDoneReason
from minutes.workspace import sharing
from minutes.workspace.forms import share_choices
from secrecy.models import Record
from secrecy.policy.reasons import explain
from secrecy.policy.rules import legal_bases
from secrecy.records.reveal import RevealResult, reveal_records

bp = PageBlueprint("actions", __name__, template_folder="templates")

# The service's field names, as the update form names them.
FORM_FIELDS = {
    "confirmations": "share_confirm",
    "basis": "share_basis",
    "recipient": "share_basis",
    "text": "comment",
}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_council_section(app, "actions.council_actions", _l("Åtgärder"))
    agenda_seam.init_app(app)


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
    """Unknown filter values fall back to the defaults (a hand-edited URL is not an error); a
    page number out of range is refused (400)."""
    page = page_number()
    form.validate()
    council_id = form.council.data if form.council.data and not form.council.errors else None
    return ListQuery(
        status=StatusFilter(form.status.data)
        if not form.status.errors and form.status.data
        else StatusFilter.ACTIVE,
        due=DueFilter(form.due.data) if not form.due.errors and form.due.data else DueFilter.ALL,
        council_id=int(council_id) if council_id else None,
        sort=SortKey(form.sort.data) if not form.sort.errors and form.sort.data else SortKey.DUE,
        page=page,
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
            session,
            user,
            [a.description for a in page.actions],
            purpose="action_list",
            wrapped_keys=description_keys(page.actions),
        )
    }
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
        status_labels=translated_labels(STATUS_LABELS),
        reason_labels=translated_labels(REASON_LABELS),
    )


@bp.page("/actions/mine")
def mine() -> ResponseReturnValue:
    return _render_list(db_session(), ListScope.MINE, _("Mina åtgärder"))


@bp.page("/actions/agency")
def agency() -> ResponseReturnValue:
    return _render_list(db_session(), ListScope.AGENCY, _("Min myndighets åtgärder"))


@bp.page("/councils/<int:council_id>/actions")
def council_actions(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = council_for(session, actor(), council_id, Need.VIEW)
    return _render_list(
        session, ListScope.COUNCIL, _("Åtgärder – %(council)s", council=council.name), council
    )


# --- One action ---------------------------------------------------------------------------------


def _update_form(user: User, action: AgreedAction, formdata: Any = None) -> ActionUpdateForm:
    form = ActionUpdateForm(formdata)
    form.status.choices = choices(
        (s.value, STATUS_LABELS[s]) for s in allowed_statuses(user, action)
    )
    # Bases that need a written statement (own-task) are decided on the record's own page.
    bases = [b for b in legal_bases().values() if b.enabled and not b.requires_statement]
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
    # The follow-up comment can go to any of the council's agencies the engine accepts.
    share_options = (
        sharing.agency_options(
            session,
            user,
            action.meeting,
            action.child,
            ACTION_CATEGORY,
            [a for a in action.meeting.council.agencies if a.active],
        )
        if form.status.choices
        else []
    )
    return render_template(
        "minutes/actions/detail.html",
        share_options=share_options,
        explain=explain,
        action=action,
        form=form,
        error=error,
        history=history,
        results=results,
        authors=authors,
        bases={b.id: b for b in legal_bases().values()},
        overdue=is_overdue(action, today_local()),
        status_labels=STATUS_LABELS,
        reason_labels=REASON_LABELS,
    )


@bp.page("/actions/<int:action_id>")
def detail(action_id: int) -> ResponseReturnValue:
    session = db_session()
    action = action_for(session, actor(), action_id, Need.VIEW)
    return _render_detail(session, action, _update_form(actor(), action))


@bp.page("/actions/<int:action_id>/update", methods=["POST"])
def update(action_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    action = action_for(session, user, action_id, Need.WRITE)
    form = _update_form(user, action, request.form)
    on_refusal(form, lambda message: _render_detail(session, action, form, message))
    require_valid(form)
    version = bounded_int(form.version.data, low=0, high=2**31 - 1) or 0
    if version != action.version:
        # Someone else followed it up since the form was loaded: the page again, nothing kept.
        return _render_detail(session, action, form, str(ConflictError().message)), 409
    share_basis = form.share_basis.data or ""
    change = StatusChange(
        to_status=ActionStatus(form.status.data),
        comment=form.comment.data or "",
        version=version,
        reason=NotDoneReason(form.reason.data) if form.reason.data else None,
        share_basis=share_basis or None,
        shares=[(c.agency_id, c.basis_id, c.confirmed) for c in share_choices()],
        assessment=form.assessment.data,
        confirmed=(
            list(range(len(legal_bases()[share_basis].confirmations)))
            if share_basis and form.share_confirm.data
            else []
        ),
    )
    with fields_named(FORM_FIELDS):
        update_action(session, user, action, change)
    flash(_("Åtgärden är uppdaterad."), "success")
    return redirect(url_for("actions.detail", action_id=action.id))
