"""Pages: the council's caseload, enrolment, the child page, corrections and registerutdrag.

Every page runs through the page wrapper (``coordination.web.page``): it loads through
``secrecy.records.access`` (members of the child's council only, refusals logged), calls one
service, and the wrapper commits once. Content is shown only through ``secrecy.records.reveal``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any

from flask import Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.councils.access import council_for
from coordination.db import db_session
from coordination.errors import PermissionDenied, ServiceError
from coordination.models import Agency, Child, ChildStatus, CloseReason, Council
from coordination.numbers import page_count
from coordination.policy import Need
from coordination.web.confirm import is_confirmed, render_confirmation
from coordination.web.page import PageBlueprint, actor, on_refusal, page_locale, require_valid
from coordination.web.params import page_number
from coordination.web.registries import child_panels, register_council_section
from secrecy.agerules.ranges import STIGMA_AGE, age_range
from secrecy.agerules.services import ExceptionData
from secrecy.disclosure.consents import expiring_consents
from secrecy.disclosure.services import disclosures_by_record
from secrecy.policy.categories import ASSESSMENT, IDENTITY, NOT_BY_HAND, categories
from secrecy.policy.rules import legal_bases
from secrecy.records import children, services
from secrecy.records.access import child_for, record_for
from secrecy.records.confirmations import close_confirmation
from secrecy.records.forms import (
    CLOSE_REASON_LABELS,
    CloseCaseForm,
    CorrectionForm,
    DisclosureRevokeForm,
    EnrolForm,
    IdentityForm,
    RecordForm,
    category_choices,
)
from secrecy.records.reveal import Revealed, RevealResult, reveal_listed, reveal_one, reveal_records

bp = PageBlueprint("secrecy", __name__, template_folder="templates")

PAGE_SIZE = 100
STATUS_LABELS = {
    ChildStatus.ACTIVE: _l("Aktivt"),
    ChildStatus.CLOSED: _l("Avslutat"),
    ChildStatus.SHREDDED: _l("Gallrat"),
    ChildStatus.PROPOSED: _l("Föreslaget"),
    ChildStatus.DECLINED: _l("Avböjt"),
}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_council_section(app, "secrecy.caseload", _l("Ärenden"))


# --- Caseload -----------------------------------------------------------------------------------


@bp.page("/councils/<int:council_id>/children")
def caseload(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = council_for(session, actor(), council_id)
    page = page_number()
    status = request.args.get("status", "active")
    query = select(Child).where(Child.council_id == council.id)
    if status in {s.value for s in ChildStatus}:
        query = query.where(Child.status == ChildStatus(status))
    else:
        status = "all"
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    listed = session.scalars(
        query.order_by(Child.pseudonym).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "secrecy/caseload.html",
        council=council,
        children=listed,
        status=status,
        status_labels=STATUS_LABELS,
        page=page,
        pages=page_count(total, PAGE_SIZE),
        total=total,
        expiring=expiring_consents(session, council),
    )


@bp.page("/councils/<int:council_id>/children/new", methods=["GET", "POST"])
def enrol(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = council_for(session, actor(), council_id)
    form = EnrolForm()
    if request.method == "GET":
        return _render_enrol(council, form, None, 200)
    refused: list[children.DuplicateChild] = []

    def render_refused(message: str | None) -> ResponseReturnValue:
        # The refusal of a duplicate is logged although nothing else of the request is kept.
        for duplicate in refused:
            children.log_duplicate_refused(session, actor(), duplicate)
        return _render_enrol(council, form, message, 422)

    on_refusal(form, render_refused)
    require_valid(form)
    try:
        data = _enrolment_data(form)
        data.exception = ExceptionData(
            reason=form.exception_reason.data or "",
            decided_by=form.exception_decided_by.data or "",
            stigmatisation=form.exception_stigmatisation.data or "",
            review_on=form.exception_review_on.data,
        )
        child = children.enrol_child(session, actor(), council, data)
    except children.DuplicateChild as exc:
        refused.append(exc)
        raise
    flash(_("Barnet är inskrivet som %(pseudonym)s.", pseudonym=child.pseudonym), "success")
    return redirect(url_for("secrecy.child", child_id=child.id))


def _render_enrol(
    council: Council, form: EnrolForm, error: str | None, status: int
) -> ResponseReturnValue:
    return render_template(
        "secrecy/enrol.html",
        council=council,
        form=form,
        error=error,
        age_range=age_range(council),
        stigma_age=STIGMA_AGE,
    ), status


def _enrolment_data(form: IdentityForm) -> children.EnrolmentData:
    guardians = [
        children.Guardian(
            name=form[f"guardian{n}_name"].data or "",
            phone=form[f"guardian{n}_phone"].data or "",
            email=form[f"guardian{n}_email"].data or "",
        )
        for n in (1, 2)
    ]
    return children.EnrolmentData(
        given_names=form.given_names.data or "",
        family_name=form.family_name.data or "",
        personnummer=form.personnummer.data or "",
        guardians=guardians,
        address=form.address.data or "",
    )


# --- The child page -----------------------------------------------------------------------------


def _group_by_category(results: Sequence[RevealResult]) -> list[tuple[str, list[RevealResult]]]:
    order = {key: index for index, key in enumerate(categories())}
    ordered = sorted(
        results, key=lambda r: (order.get(r.record.category, 999), r.record.created_at, r.record.id)
    )
    return [(key, list(items)) for key, items in groupby(ordered, key=lambda r: r.record.category)]


def _render_child(
    session: Session, child: Child, record_form: RecordForm | None = None, status: int = 200
) -> ResponseReturnValue:
    user = actor()
    records = services.child_records(session, child)
    results = reveal_listed(session, user, records)
    records = [r.record for r in results]
    identity = [r for r in results if r.record.category == IDENTITY and not r.record.is_superseded]
    others = [r for r in results if r.record.category not in NOT_BY_HAND]
    # The agency's own assessments are shown with the decisions they stand behind.
    assessments = {
        r.record.id: r.content.get("text", "")
        for r in results
        if isinstance(r, Revealed) and r.record.category == ASSESSMENT
    }
    form = record_form or RecordForm()
    form.category.choices = category_choices(page_locale())
    superseding = {r.supersedes_id: r for r in records if r.supersedes_id}
    own = [r for r in records if r.owner_agency_id == user.agency_id]
    return render_template(
        "secrecy/child.html",
        child=child,
        identity=identity[-1] if identity else None,
        groups=_group_by_category(others),
        categories=categories(),
        locale=page_locale(),
        record_form=form,
        close_form=CloseCaseForm(),
        close_reason_labels=CLOSE_REASON_LABELS,
        status_labels=STATUS_LABELS,
        superseding=superseding,
        same_child_elsewhere=children.other_councils_with_same_child(session, user, child),
        can_write=child.status is ChildStatus.ACTIVE,
        can_request=child.status is ChildStatus.ACTIVE,
        can_manage_case=children.can_manage_case(user, child),
        disclosures=disclosures_by_record(session, own),
        assessments=assessments,
        bases=legal_bases(),
        revoke_form=DisclosureRevokeForm(),
        user=user,
        panels=child_panels(session, user, child),
    ), status


@bp.page("/children/<int:child_id>")
def child(child_id: int) -> ResponseReturnValue:
    session = db_session()
    return _render_child(session, child_for(session, actor(), child_id))


@bp.page("/children/<int:child_id>/records", methods=["POST"])
def add_record(child_id: int) -> ResponseReturnValue:
    session = db_session()
    found = child_for(session, actor(), child_id)
    form = RecordForm()
    form.category.choices = category_choices(page_locale())

    def render_refused(message: str | None) -> ResponseReturnValue:
        if message:
            flash(message, "error")
        return _render_child(session, found, form, 422)

    on_refusal(form, render_refused)
    require_valid(form)
    services.create_record(session, actor(), found, form.category.data or "", form.text.data or "")
    flash(_("Uppgiften är sparad."), "success")
    return redirect(url_for("secrecy.child", child_id=found.id))


@bp.page("/records/<int:record_id>/correct", methods=["GET", "POST"])
def correct(record_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    record = record_for(session, user, record_id, Need.MANAGE)
    revealed = reveal_one(session, user, record, purpose="correct")
    if not isinstance(revealed, Revealed):
        # Owned but not to be opened (shredded, a damaged key): nothing to correct.
        raise PermissionDenied(object_type="record", object_ids=[record_id])
    is_identity = record.category == IDENTITY
    form: IdentityForm | CorrectionForm = IdentityForm() if is_identity else CorrectionForm()

    def render(message: str | None, status: int = 422) -> ResponseReturnValue:
        return render_template(
            "secrecy/correct.html",
            record=record,
            form=form,
            error=message,
            is_identity=is_identity,
            category=categories().get(record.category),
            locale=page_locale(),
        ), status

    if request.method == "GET":
        _fill_correction_form(form, revealed.content)
        return render(None, 200)

    def render_refused(message: str | None) -> ResponseReturnValue:
        reveal_one(session, user, record, purpose="correct")  # the page shown again
        return render(message)

    on_refusal(form, render_refused)
    require_valid(form)
    if isinstance(form, IdentityForm):
        children.correct_identity(session, user, record, _enrolment_data(form))
    else:
        services.correct_record(session, user, record, {"text": form.text.data or ""})
    flash(_("Rättelsen är sparad. Den tidigare versionen finns kvar i historiken."), "success")
    return redirect(url_for("secrecy.child", child_id=record.child_id))


def _fill_correction_form(form: IdentityForm | CorrectionForm, content: dict[str, Any]) -> None:
    if isinstance(form, CorrectionForm):
        form.text.data = content.get("text", "")
        return
    form.given_names.data = content.get("given_names", "")
    form.family_name.data = content.get("family_name", "")
    number = str(content.get("personnummer", ""))
    form.personnummer.data = f"{number[:8]}-{number[8:]}" if len(number) == 12 else number
    for n, guardian in enumerate(content.get("guardians", [])[:2], start=1):
        form[f"guardian{n}_name"].data = guardian.get("name", "")
        form[f"guardian{n}_phone"].data = guardian.get("phone", "")
        form[f"guardian{n}_email"].data = guardian.get("email", "")
    form.address.data = content.get("address", "")


@bp.page("/children/<int:child_id>/close", methods=["GET", "POST"])
def close(child_id: int) -> ResponseReturnValue:
    """Closing a case starts its way to shredding: the GET, and the button on the child's page,
    show the confirmation page; its button closes."""
    session = db_session()
    found = child_for(session, actor(), child_id, Need.MANAGE)
    on_refusal(redirect_to=url_for("secrecy.child", child_id=child_id))
    posted = request.method == "POST"
    form = CloseCaseForm() if posted else CloseCaseForm(request.args, meta={"csrf": False})
    if not (form.validate_on_submit() if posted else form.validate()):
        raise ServiceError(_("Välj ett skäl till att ärendet avslutas."))
    reason = CloseReason(form.reason.data)
    if not is_confirmed():
        children.check_close(actor(), found)
        label = str(CLOSE_REASON_LABELS[reason])
        return render_confirmation(close_confirmation(found, reason.value, label))
    children.close_case(session, actor(), found, reason)
    flash(_("Ärendet är avslutat."), "success")
    return redirect(url_for("secrecy.child", child_id=child_id))


@bp.page("/children/<int:child_id>/reopen", methods=["POST"])
def reopen(child_id: int) -> ResponseReturnValue:
    session = db_session()
    found = child_for(session, actor(), child_id, Need.MANAGE)
    on_refusal(redirect_to=url_for("secrecy.child", child_id=child_id))
    if CloseCaseForm().is_submitted():
        children.reopen_case(session, actor(), found)
        flash(_("Ärendet är öppnat igen."), "success")
    return redirect(url_for("secrecy.child", child_id=child_id))


# --- Registerutdrag -----------------------------------------------------------------------------


@bp.page("/children/<int:child_id>/extract")
def extract(child_id: int) -> ResponseReturnValue:
    """Everything the requesting agency owns about the child, and who else holds a key to it.
    Printing is an export: it is logged."""
    session = db_session()
    user = actor()
    found = child_for(session, user, child_id)
    owned = services.records_owned_by(session, found, user.agency_id)
    results = reveal_records(session, user, owned, purpose="extract")
    services.log_extract(session, user, found, [r.id for r in owned])
    holders = services.recipients_of(session, owned)
    agencies = {
        a.id: a
        for a in session.scalars(
            select(Agency).where(Agency.id.in_({h.agency_id for h in holders}))
        )
    }
    return render_template(
        "secrecy/extract.html",
        child=found,
        results=results,
        holders=holders,
        agencies=agencies,
        categories=categories(),
        locale=page_locale(),
        user=user,
        status_labels=STATUS_LABELS,
    )
