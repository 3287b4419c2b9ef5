"""Pages: the council's caseload, enrolment, the child page, corrections and registerutdrag.

Every page loads, checks access (members of the child's council only, refusals logged), calls
one service, commits once. Content is shown only through ``secrecy.records.reveal``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import Session, defaultload

from coordination.db import db_session
from coordination.errors import ServiceError
from coordination.models import Agency, Child, ChildStatus, CloseReason, Council
from coordination.policy import can_view_council
from coordination.web.page import actor, deny, show_service_error
from coordination.web.registries import register_council_section
from secrecy.disclosure.services import disclosures_by_record, expiring_consents
from secrecy.models import Record
from secrecy.policy.categories import IDENTITY, categories
from secrecy.policy.rules import legal_bases
from secrecy.records import services
from secrecy.records.forms import (
    CLOSE_REASON_LABELS,
    CloseCaseForm,
    CorrectionForm,
    DisclosureRevokeForm,
    IdentityForm,
    RecordForm,
    category_choices,
)
from secrecy.records.reveal import Revealed, RevealResult, reveal_listed, reveal_one, reveal_records

bp = Blueprint("secrecy", __name__, template_folder="templates")

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


def _locale() -> str:
    return str(get_locale() or "sv")


def _council_for_member(session: Session, council_id: int) -> Council:
    council = session.get(Council, council_id)
    if council is None or not can_view_council(actor(), council):
        deny(session, "council", council_id)
    return council


def _child_for_member(session: Session, child_id: int) -> Child:
    # The council comes with the child (joined); its agencies only if a page asks for them.
    child = session.get(
        Child, child_id, options=[defaultload(Child.council).lazyload(Council.agencies)]
    )
    if child is None or not can_view_council(actor(), child.council):
        deny(session, "child", child_id)
    return child


def _record_for_member(session: Session, record_id: int) -> Record:
    record = session.get(Record, record_id)
    if record is None or not can_view_council(actor(), record.child.council):
        deny(session, "record", record_id)
    return record


# --- Caseload -----------------------------------------------------------------------------------


@bp.route("/councils/<int:council_id>/children")
@login_required
def caseload(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = _council_for_member(session, council_id)
    status = request.args.get("status", "active")
    query = select(Child).where(Child.council_id == council.id)
    if status in {s.value for s in ChildStatus}:
        query = query.where(Child.status == ChildStatus(status))
    else:
        status = "all"
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    children = session.scalars(
        query.order_by(Child.pseudonym).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "secrecy/caseload.html",
        council=council,
        children=children,
        status=status,
        status_labels=STATUS_LABELS,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        total=total,
        expiring=expiring_consents(session, council),
    )


@bp.route("/councils/<int:council_id>/children/new", methods=["GET", "POST"])
@login_required
def enrol(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = _council_for_member(session, council_id)
    form = IdentityForm()
    error = None
    if form.validate_on_submit():
        try:
            child = services.enrol_child(session, actor(), council, _enrolment_data(form))
        except ServiceError as exc:
            # Enrolment validates before it changes anything; what remains to keep is the
            # audit event of a refused duplicate.
            session.commit()
            error = show_service_error(form, exc)
        else:
            session.commit()
            flash(_("Barnet är inskrivet som %(pseudonym)s.", pseudonym=child.pseudonym), "success")
            return redirect(url_for("secrecy.child", child_id=child.id))
    status = 422 if request.method == "POST" else 200
    return render_template("secrecy/enrol.html", council=council, form=form, error=error), status


def _enrolment_data(form: IdentityForm) -> services.EnrolmentData:
    guardians = [
        services.Guardian(
            name=form[f"guardian{n}_name"].data or "",
            phone=form[f"guardian{n}_phone"].data or "",
            email=form[f"guardian{n}_email"].data or "",
        )
        for n in (1, 2)
    ]
    return services.EnrolmentData(
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
    session.commit()  # the reveal event is part of this request's one transaction
    identity = [r for r in results if r.record.category == IDENTITY and not r.record.is_superseded]
    others = [r for r in results if r.record.category != IDENTITY]
    form = record_form or RecordForm()
    form.category.choices = category_choices(_locale())
    superseding = {r.supersedes_id: r for r in records if r.supersedes_id}
    own = [r for r in records if r.owner_agency_id == user.agency_id]
    return render_template(
        "secrecy/child.html",
        child=child,
        identity=identity[-1] if identity else None,
        groups=_group_by_category(others),
        categories=categories(),
        locale=_locale(),
        record_form=form,
        close_form=CloseCaseForm(),
        close_reason_labels=CLOSE_REASON_LABELS,
        status_labels=STATUS_LABELS,
        superseding=superseding,
        same_child_elsewhere=services.other_councils_with_same_child(session, user, child),
        can_write=child.status is ChildStatus.ACTIVE,
        can_manage_case=services.can_manage_case(user, child),
        disclosures=disclosures_by_record(session, own),
        bases=legal_bases(),
        revoke_form=DisclosureRevokeForm(),
        user=user,
    ), status


@bp.route("/children/<int:child_id>")
@login_required
def child(child_id: int) -> ResponseReturnValue:
    session = db_session()
    return _render_child(session, _child_for_member(session, child_id))


@bp.route("/children/<int:child_id>/records", methods=["POST"])
@login_required
def add_record(child_id: int) -> ResponseReturnValue:
    session = db_session()
    child = _child_for_member(session, child_id)
    form = RecordForm()
    form.category.choices = category_choices(_locale())
    if form.validate_on_submit():
        try:
            services.create_record(
                session, actor(), child, form.category.data or "", form.text.data or ""
            )
        except ServiceError as exc:
            session.rollback()
            message = show_service_error(form, exc)
            if message:
                flash(message, "error")
        else:
            session.commit()
            flash(_("Uppgiften är sparad."), "success")
            return redirect(url_for("secrecy.child", child_id=child.id) + "#records")
    return _render_child(session, child, form, 422)


@bp.route("/records/<int:record_id>/correct", methods=["GET", "POST"])
@login_required
def correct(record_id: int) -> ResponseReturnValue:
    session = db_session()
    record = _record_for_member(session, record_id)
    user = actor()
    if record.owner_agency_id != user.agency_id:
        deny(session, "record", record_id)
    revealed = reveal_one(session, user, record, purpose="correct")
    if not isinstance(revealed, Revealed):
        deny(session, "record", record_id)
    is_identity = record.category == IDENTITY
    form: IdentityForm | CorrectionForm = IdentityForm() if is_identity else CorrectionForm()
    error = None
    if request.method == "GET":
        _fill_correction_form(form, revealed.content)
    elif form.validate_on_submit():
        try:
            if isinstance(form, IdentityForm):
                services.correct_identity(session, user, record, _enrolment_data(form))
            else:
                services.correct_record(session, user, record, {"text": form.text.data or ""})
        except ServiceError as exc:
            session.rollback()
            error = show_service_error(form, exc)
        else:
            session.commit()
            flash(
                _("Rättelsen är sparad. Den tidigare versionen finns kvar i historiken."), "success"
            )
            return redirect(url_for("secrecy.child", child_id=record.child_id) + "#records")
    session.commit()
    return render_template(
        "secrecy/correct.html",
        record=record,
        form=form,
        error=error,
        is_identity=is_identity,
        category=categories().get(record.category),
        locale=_locale(),
    ), (422 if request.method == "POST" else 200)


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


@bp.route("/children/<int:child_id>/close", methods=["POST"])
@login_required
def close(child_id: int) -> ResponseReturnValue:
    session = db_session()
    child = _child_for_member(session, child_id)
    form = CloseCaseForm()
    if form.validate_on_submit():
        try:
            services.close_case(session, actor(), child, CloseReason(form.reason.data))
        except ServiceError as exc:
            session.rollback()
            flash(str(exc.message), "error")
        else:
            session.commit()
            flash(_("Ärendet är avslutat."), "success")
    return redirect(url_for("secrecy.child", child_id=child_id))


@bp.route("/children/<int:child_id>/reopen", methods=["POST"])
@login_required
def reopen(child_id: int) -> ResponseReturnValue:
    session = db_session()
    child = _child_for_member(session, child_id)
    if CloseCaseForm().is_submitted():
        try:
            services.reopen_case(session, actor(), child)
        except ServiceError as exc:
            session.rollback()
            flash(str(exc.message), "error")
        else:
            session.commit()
            flash(_("Ärendet är öppnat igen."), "success")
    return redirect(url_for("secrecy.child", child_id=child_id))


# --- Registerutdrag -----------------------------------------------------------------------------


@bp.route("/children/<int:child_id>/extract")
@login_required
def extract(child_id: int) -> ResponseReturnValue:
    """Everything the requesting agency owns about the child, and who else holds a key to it.
    Printing is an export: it is logged."""
    session = db_session()
    child = _child_for_member(session, child_id)
    user = actor()
    owned = services.records_owned_by(session, child, user.agency_id)
    results = reveal_records(session, user, owned, purpose="extract")
    services.log_extract(session, user, child, [r.id for r in owned])
    holders = services.recipients_of(session, owned)
    agencies = {
        a.id: a
        for a in session.scalars(
            select(Agency).where(Agency.id.in_({h.agency_id for h in holders}))
        )
    }
    session.commit()
    return render_template(
        "secrecy/extract.html",
        child=child,
        results=results,
        holders=holders,
        agencies=agencies,
        categories=categories(),
        locale=_locale(),
        user=user,
        status_labels=STATUS_LABELS,
    )
