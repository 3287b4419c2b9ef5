"""Pages for consents and disclosure decisions, and the legal bases for administrators."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.db import db_session, today_local
from coordination.errors import ServiceError
from coordination.models import Agency, AgencyKind, Child, Council, User
from coordination.policy import Permission, can_view_council
from coordination.web.forms import AGENCY_KIND_LABELS, ConfirmForm, choices
from coordination.web.page import actor, deny, require_permission, show_service_error
from coordination.web.registries import register_admin_section, register_council_panel
from secrecy.disclosure import services as service
from secrecy.models import Consent, ConsentRevokeReason, Disclosure, DisclosureEndReason, Record
from secrecy.policy.categories import IDENTITY, categories
from secrecy.policy.engine import Signer
from secrecy.policy.facts import is_weakly_protected
from secrecy.policy.reasons import SIGNER_LABELS, explain
from secrecy.policy.rules import Duty, legal_bases, recipient_protection
from secrecy.records.forms import (
    CONSENT_REVOKE_LABELS,
    ConsentForm,
    ConsentRevokeForm,
    DisclosureRevokeForm,
)
from secrecy.records.reveal import reveal_records
from secrecy.records.services import child_records

bp = Blueprint("disclosures", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_admin_section(app, "disclosures.legal_bases_page", _l("Rättsliga grunder"))
    register_council_panel(app, expiring_consents_panel)


def expiring_consents_panel(session: Session, user: User, council: Council) -> str | None:
    """On the council page: consents that end within 30 days (pseudonyms and dates only)."""
    expiring = service.expiring_consents(session, council)
    if not expiring:
        return None
    return render_template("secrecy/_expiring_consents.html", expiring=expiring)


def _locale() -> str:
    return str(get_locale() or "sv")


def _record_of_owner(session: Session, record_id: int) -> Record:
    """Disclosure pages are for the owner agency's users in the child's council."""
    record = session.get(Record, record_id)
    user = actor()
    if (
        record is None
        or not can_view_council(user, record.child.council)
        or record.owner_agency_id != user.agency_id
    ):
        deny(session, "record", record_id)
    return record


def _child_for_member(session: Session, child_id: int) -> Child:
    child = session.get(Child, child_id)
    if child is None or not can_view_council(actor(), child.council):
        deny(session, "child", child_id)
    return child


def _confirmed_indexes(basis_id: str) -> list[int]:
    prefix = f"confirm-{basis_id}-"
    indexes = []
    for key in request.form:
        if key.startswith(prefix):
            try:
                indexes.append(int(key[len(prefix) :]))
            except ValueError:
                continue
    return indexes


def _option_rows(session: Session, record: Record) -> list[dict[str, object]]:
    user = actor()
    rows = []
    for recipient in service.recipients_for(record):
        assessments = service.disclosure_options(session, user, record, recipient)
        rows.append(
            {
                "agency": recipient,
                "weak": is_weakly_protected(recipient),
                "protection": recipient_protection()[recipient.kind.value],
                "applicable": [a for a in assessments if a.applicable],
                "refused": [a for a in assessments if not a.applicable],
            }
        )
    return rows


# --- Disclosure of one record -------------------------------------------------------------------


@bp.route("/records/<int:record_id>/disclose", methods=["GET", "POST"])
@login_required
def disclose(record_id: int) -> ResponseReturnValue:
    session = db_session()
    record = _record_of_owner(session, record_id)
    error = None
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        recipient = session.get(Agency, request.form.get("recipient", type=int) or 0)
        basis_id = request.form.get("basis", "")
        try:
            if recipient is None:
                raise ServiceError(_("Välj en mottagare."))
            service.decide_disclosure(
                session, actor(), record, recipient, basis_id, _confirmed_indexes(basis_id)
            )
        except ServiceError as exc:
            session.rollback()
            error = str(exc.message)
        else:
            session.commit()
            flash(_("Uppgiften är utlämnad till %(agency)s.", agency=recipient.name), "success")
            return redirect(url_for("secrecy.child", child_id=record.child_id) + "#records")
    live = service.live_disclosures_of(session, [record])
    return render_template(
        "secrecy/disclose.html",
        record=record,
        category=categories().get(record.category),
        locale=_locale(),
        rows=_option_rows(session, record),
        live={d.recipient_agency_id: d for d in live},
        bases=legal_bases(),
        explain=explain,
        kind_labels=AGENCY_KIND_LABELS,
        Duty=Duty,
        error=error,
        form=ConfirmForm(),
        revoke_form=DisclosureRevokeForm(),
    ), (422 if error else 200)


@bp.route("/children/<int:child_id>/disclose", methods=["GET", "POST"])
@login_required
def disclose_many(child_id: int) -> ResponseReturnValue:
    """Several of the agency's records about one child to one recipient, in one decision."""
    session = db_session()
    child = _child_for_member(session, child_id)
    user = actor()
    own = [
        r
        for r in child_records(session, child)
        if r.owner_agency_id == user.agency_id
        and not r.is_superseded
        and not r.is_shredded
        and r.category not in (IDENTITY, "consent")
    ]
    recipients = [a for a in child.council.agencies if a.id != user.agency_id and a.active]
    recipient = next(
        (a for a in recipients if a.id == request.values.get("recipient", type=int)), None
    )
    error = None
    if request.method == "POST" and recipient is not None and ConfirmForm().validate_on_submit():
        chosen_ids = {int(v) for v in request.form.getlist("records") if v.isdigit()}
        chosen = [r for r in own if r.id in chosen_ids]
        basis_id = request.form.get("basis", "")
        try:
            service.decide_disclosures(
                session, user, chosen, recipient, basis_id, _confirmed_indexes(basis_id)
            )
        except ServiceError as exc:
            session.rollback()
            error = str(exc.message)
        else:
            session.commit()
            flash(
                _(
                    "%(n)s uppgifter är utlämnade till %(agency)s.",
                    n=len(chosen),
                    agency=recipient.name,
                ),
                "success",
            )
            return redirect(url_for("secrecy.child", child_id=child.id) + "#records")
    bases = []
    if recipient is not None and own:
        # A basis is offered when it applies to at least one of the records; the decision
        # refuses the whole set, naming the reason, if it does not apply to every chosen one.
        seen: set[str] = set()
        for record in own:
            for assessment in service.disclosure_options(session, user, record, recipient):
                if assessment.applicable and assessment.basis.id not in seen:
                    seen.add(assessment.basis.id)
                    bases.append(assessment.basis)
    results = reveal_records(session, user, own, purpose="disclose")
    session.commit()
    return render_template(
        "secrecy/disclose_many.html",
        child=child,
        results=results,
        recipients=recipients,
        recipient=recipient,
        weak=recipient is not None and is_weakly_protected(recipient),
        bases=[b for b in legal_bases().values() if b in bases],
        categories=categories(),
        locale=_locale(),
        Duty=Duty,
        error=error,
        form=ConfirmForm(),
    ), (422 if error else 200)


@bp.route("/disclosures/<int:disclosure_id>/revoke", methods=["POST"])
@login_required
def revoke(disclosure_id: int) -> ResponseReturnValue:
    session = db_session()
    disclosure = session.get(Disclosure, disclosure_id)
    if disclosure is None:
        deny(session, "disclosure", disclosure_id)
    record = _record_of_owner(session, disclosure.record_id)
    form = DisclosureRevokeForm()
    if form.validate_on_submit():
        try:
            service.revoke_disclosure(
                session, actor(), disclosure, DisclosureEndReason(form.reason.data)
            )
        except ServiceError as exc:
            session.rollback()
            flash(str(exc.message), "error")
        else:
            session.commit()
            flash(_("Uppgiftslämningen är återkallad."), "success")
    return redirect(url_for("secrecy.child", child_id=record.child_id) + "#records")


# --- Consents -----------------------------------------------------------------------------------


def _consent_form(child: Child) -> ConsentForm:
    form = ConsentForm()
    form.agency_ids.choices = choices((a.id, a.name) for a in child.council.agencies)
    form.categories.choices = choices(
        (c.key, c.label(_locale())) for c in categories().values() if c.key != "consent"
    )
    if request.method == "GET":
        form.valid_from.data = today_local()
    return form


@bp.route("/children/<int:child_id>/consents", methods=["GET", "POST"])
@login_required
def consents(child_id: int) -> ResponseReturnValue:
    session = db_session()
    child = _child_for_member(session, child_id)
    user = actor()
    form = _consent_form(child)
    error = None
    if request.method == "POST" and form.validate_on_submit():
        data = service.ConsentData(
            signers={
                Signer.GUARDIAN_1: form.guardian_1.data or "",
                Signer.GUARDIAN_2: form.guardian_2.data or "",
                Signer.YOUNG_PERSON: form.young_person.data or "",
            },
            two_guardians=form.custody.data == "two",
            agency_ids=list(form.agency_ids.data or []),
            agency_kinds=list(form.agency_kinds.data or []),
            categories=list(form.categories.data or []),
            valid_from=form.valid_from.data,
            valid_to=form.valid_to.data,
            purpose=form.purpose.data or "",
            form_location=form.form_location.data or "",
        )
        try:
            consent = service.register_consent(session, user, child, data)
        except ServiceError as exc:
            session.rollback()
            error = show_service_error(form, exc)
        else:
            lacking = service.missing_signers(session, consent, today_local())
            session.commit()
            if lacking:
                flash(
                    _(
                        "Samtycket är registrerat men ofullständigt: underskrift saknas av "
                        "%(who)s. Det kan inte användas för uppgiftslämning.",
                        who=", ".join(str(SIGNER_LABELS[s]) for s in sorted(lacking)),
                    ),
                    "warning",
                )
            else:
                flash(_("Samtycket är registrerat."), "success")
            return redirect(url_for("disclosures.consents", child_id=child.id))
    on_file = service.consents_of(session, child)
    details = session.scalars(
        select(Record).where(Record.id.in_([c.details_record_id for c in on_file]))
    ).all()
    revealed = {r.record.id: r for r in reveal_records(session, user, details, purpose="consent")}
    missing = {c.id: service.missing_signers(session, c, today_local()) for c in on_file}
    agencies = {a.id: a for a in child.council.agencies}
    session.commit()
    return render_template(
        "secrecy/consents.html",
        child=child,
        consents=on_file,
        revealed=revealed,
        missing=missing,
        agencies=agencies,
        kind_labels={k.value: v for k, v in AGENCY_KIND_LABELS.items()},
        categories=categories(),
        locale=_locale(),
        signer_labels=SIGNER_LABELS,
        revoke_labels=CONSENT_REVOKE_LABELS,
        today=today_local(),
        form=form,
        revoke_form=ConsentRevokeForm(),
        error=error,
    ), (422 if request.method == "POST" else 200)


@bp.route("/consents/<int:consent_id>/revoke", methods=["POST"])
@login_required
def revoke_consent(consent_id: int) -> ResponseReturnValue:
    session = db_session()
    consent = session.get(Consent, consent_id)
    if consent is None or not can_view_council(actor(), consent.child.council):
        deny(session, "consent", consent_id)
    form = ConsentRevokeForm()
    if form.validate_on_submit():
        try:
            ended = service.revoke_consent(
                session, actor(), consent, ConsentRevokeReason(form.reason.data)
            )
        except ServiceError as exc:
            session.rollback()
            flash(str(exc.message), "error")
        else:
            session.commit()
            flash(
                _(
                    "Samtycket är återkallat. %(n)s uppgiftslämningar som vilade på det "
                    "har upphört.",
                    n=ended,
                ),
                "success",
            )
    return redirect(url_for("disclosures.consents", child_id=consent.child_id))


# --- Legal bases (administrators and everyone who wants to read them) ---------------------------


@bp.route("/admin/legal-bases")
@login_required
def legal_bases_page() -> ResponseReturnValue:
    require_permission(Permission.MANAGE_COUNCILS)
    return render_template(
        "secrecy/legal_bases.html",
        bases=list(legal_bases().values()),
        protection=recipient_protection(),
        kind_labels={k.value: v for k, v in AGENCY_KIND_LABELS.items()},
        categories=categories(),
        locale=_locale(),
        Duty=Duty,
        AgencyKind=AgencyKind,
    )
