"""Pages for requests for information: ask, the list of requests with their age, one request
with its answer, and the asked agency's answer (disclosure of chosen records, or closing).

Every page runs through the page wrapper and loads through ``secrecy.requests.access`` (a
child through ``secrecy.records.access``); the texts are opened through
``secrecy.records.reveal``.
"""

from __future__ import annotations

from flask import Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from coordination.db import db_session, utcnow
from coordination.models import Child
from coordination.numbers import plain_int
from coordination.policy import Need
from coordination.web.forms import ConfirmForm, choices
from coordination.web.page import PageBlueprint, actor, on_refusal, page_locale, require_valid
from coordination.web.params import arg_int, ticked_indexes
from secrecy.disclosure.assessments import assessment_prompt
from secrecy.disclosure.services import batch_disclosure
from secrecy.models import InformationRequest, RequestStatus, RequestUrgency
from secrecy.policy.categories import categories, writable_by_hand
from secrecy.policy.rules import Duty, legal_bases
from secrecy.records.access import child_for
from secrecy.records.reveal import reveal_records
from secrecy.requests import services
from secrecy.requests.access import request_for
from secrecy.requests.forms import (
    ALL_CATEGORIES,
    STATUS_LABELS,
    URGENCY_LABELS,
    CloseRequestForm,
    RequestForm,
)

bp = PageBlueprint("requests", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _request_form(child: Child) -> RequestForm:
    user = actor()
    form = RequestForm()
    form.owner_agency.choices = choices(
        (a.id, a.name) for a in child.council.agencies if a.active and a.id != user.agency_id
    )
    form.category.choices = choices(
        [(ALL_CATEGORIES, _("Allt ni har om barnet"))]
        + [
            (c.key, c.label(page_locale()))
            for c in categories().values()
            if writable_by_hand(c.key)
        ]
    )
    form.basis.choices = choices(
        [("", _("Vet inte / låt den tillfrågade bedöma"))]
        + [(b.id, f"{b.title} ({b.reference})") for b in legal_bases().values() if b.enabled]
    )
    if request.method == "GET":
        owner = arg_int("owner")
        if owner is not None:
            form.owner_agency.data = owner
        category = request.args.get("category", "")
        if category in categories() and writable_by_hand(category):
            form.category.data = category
    return form


@bp.page("/children/<int:child_id>/requests/new", methods=["GET", "POST"])
def ask(child_id: int) -> ResponseReturnValue:
    session = db_session()
    child = child_for(session, actor(), child_id)
    form = _request_form(child)

    def render(error: str | None, status: int = 422) -> ResponseReturnValue:
        return render_template(
            "secrecy/requests/new.html", child=child, form=form, error=error
        ), status

    if request.method == "GET":
        return render(None, 200)
    on_refusal(form, render)
    require_valid(form)
    created = services.request_information(
        session,
        actor(),
        child,
        services.RequestData(
            owner_agency_id=form.owner_agency.data or 0,
            category=form.category.data or None,
            basis_id=form.basis.data or None,
            urgency=RequestUrgency(form.urgency.data or RequestUrgency.NORMAL.value),
            purpose=form.purpose.data or "",
        ),
    )
    flash(_("Begäran är skickad. Den tillfrågade myndigheten har fått ett meddelande."), "success")
    return redirect(url_for("requests.detail", request_id=created.id))


@bp.page("/requests")
def index() -> ResponseReturnValue:
    session = db_session()
    user = actor()
    rows = services.requests_of(session, user)
    return render_template(
        "secrecy/requests/index.html",
        incoming=[r for r in rows if r.owner_agency_id == user.agency_id],
        outgoing=[r for r in rows if r.requesting_agency_id == user.agency_id],
        status_labels=STATUS_LABELS,
        urgency_labels=URGENCY_LABELS,
        categories=categories(),
        locale=page_locale(),
        now=utcnow(),
        age=services.age_in_days,
    )


def _render_detail(
    found: InformationRequest, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    texts = services.request_texts(session, user, [found]).get(found.id, {})
    answer_batch = None
    results = []
    if found.is_open and user.agency_id == found.owner_agency_id:
        answer_batch = batch_disclosure(session, user, found.child, found.requesting_agency_id)
        allowed = {r.id for r in services.answerable_records(session, found)}
        results = reveal_records(
            session, user, [r for r in answer_batch.records if r.id in allowed], purpose="request"
        )
    return render_template(
        "secrecy/requests/detail.html",
        req=found,
        texts=texts,
        status_labels=STATUS_LABELS,
        urgency_labels=URGENCY_LABELS,
        categories=categories(),
        bases=legal_bases(),
        locale=page_locale(),
        age=services.age_in_days(found),
        disclosures=services.answering_disclosures(session, found),
        batch=answer_batch,
        results=results,
        Duty=Duty,
        assessment_prompt=assessment_prompt,
        form=ConfirmForm(),
        close_form=CloseRequestForm(),
        error=error,
        typed=request.form.get("assessment", "")[:20_000] if request.method == "POST" else "",
    ), status


@bp.page("/requests/<int:request_id>")
def detail(request_id: int) -> ResponseReturnValue:
    session = db_session()
    return _render_detail(request_for(session, actor(), request_id))


@bp.page("/requests/<int:request_id>/disclose", methods=["POST"])
def disclose(request_id: int) -> ResponseReturnValue:
    session = db_session()
    found = request_for(session, actor(), request_id, Need.MANAGE)
    on_refusal(render=lambda message: _render_detail(found, message, 422))
    require_valid(ConfirmForm())
    values = request.form.getlist("records")
    record_ids = [n for v in values if (n := plain_int(v)) is not None]
    basis_id = request.form.get("basis", "")
    decided = services.answer_with_disclosures(
        session,
        actor(),
        found,
        record_ids,
        basis_id,
        ticked_indexes(f"confirm-{basis_id}-"),
        request.form.get("assessment", ""),
    )
    flash(_("%(n)s uppgifter är utlämnade som svar på begäran.", n=len(decided)), "success")
    return redirect(url_for("requests.detail", request_id=found.id))


@bp.page("/requests/<int:request_id>/close", methods=["POST"])
def close(request_id: int) -> ResponseReturnValue:
    session = db_session()
    found = request_for(session, actor(), request_id, Need.MANAGE)
    form = CloseRequestForm()
    on_refusal(render=lambda message: _render_detail(found, message, 422))
    require_valid(form)
    services.close_request(
        session, actor(), found, RequestStatus(form.outcome.data), form.note.data or ""
    )
    flash(_("Begäran är avslutad. Den som begärde har fått ett meddelande."), "success")
    return redirect(url_for("requests.detail", request_id=found.id))
