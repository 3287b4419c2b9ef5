"""Pages for consents and disclosure decisions, and the legal bases for administrators.

Every page runs through the page wrapper and loads through ``secrecy.records.access``:
disclosure decisions for the owner agency's users, consents for the members of the child's
council.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.db import db_session, today_local
from coordination.errors import ServiceError
from coordination.models import Agency, AgencyKind, Child, Council, User
from coordination.numbers import plain_int
from coordination.policy import Need, Permission
from coordination.web.confirm import is_confirmed, render_confirmation
from coordination.web.forms import AGENCY_KIND_LABELS, ConfirmForm, choices, labels_by_value
from coordination.web.page import (
    PageBlueprint,
    actor,
    on_refusal,
    page_locale,
    require_permission,
    require_valid,
)
from coordination.web.params import BadParameter, arg_int, form_int, ticked_indexes
from coordination.web.registries import register_admin_section, register_council_panel
from secrecy.disclosure import consents as consent_services
from secrecy.disclosure import services as service
from secrecy.disclosure.assessments import assessment_prompt
from secrecy.disclosure.confirmations import revoke_confirmation
from secrecy.models import ConsentRevokeReason, DisclosureEndReason, Record
from secrecy.policy import versions
from secrecy.policy.categories import NOT_BY_HAND, categories
from secrecy.policy.engine import Signer
from secrecy.policy.facts import is_weakly_protected
from secrecy.policy.reasons import SIGNER_LABELS, explain
from secrecy.policy.rules import Duty, legal_bases, recipient_protection
from secrecy.records.access import child_for, consent_for, disclosure_for, record_for
from secrecy.records.forms import (
    CONSENT_REVOKE_LABELS,
    ConsentForm,
    ConsentRevokeForm,
    DisclosureRevokeForm,
)
from secrecy.records.reveal import reveal_records

bp = PageBlueprint("disclosures", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # The log reviewer's page is declared on this blueprint in its own module.
    from secrecy.disclosure import review

    review.init_app(app)
    app.register_blueprint(bp)
    register_admin_section(app, "disclosures.legal_bases_page", _l("Rättsliga grunder"))
    register_council_panel(app, expiring_consents_panel)


def expiring_consents_panel(session: Session, user: User, council: Council) -> str | None:
    """On the council page: consents that end within 30 days (pseudonyms and dates only)."""
    expiring = consent_services.expiring_consents(session, council)
    if not expiring:
        return None
    return render_template("secrecy/_expiring_consents.html", expiring=expiring)


def _confirmed_indexes(basis_id: str) -> list[int]:
    return ticked_indexes(f"confirm-{basis_id}-")


def _typed_assessment() -> str:
    """The assessment as typed (shown again on a refused form; never logged)."""
    return request.form.get("assessment", "")[:20_000] if request.method == "POST" else ""


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


@bp.page("/records/<int:record_id>/disclose", methods=["GET", "POST"])
def disclose(record_id: int) -> ResponseReturnValue:
    session = db_session()
    record = record_for(session, actor(), record_id, Need.MANAGE)

    def render(error: str | None, status: int = 422) -> ResponseReturnValue:
        live = service.live_disclosures_of(session, [record])
        # The discloser reads what they are about to disclose (their own agency's record),
        # through the one door, which logs the view.
        (shown,) = reveal_records(session, actor(), [record], purpose="disclose")
        return render_template(
            "secrecy/disclose.html",
            record=record,
            shown=shown,
            category=categories().get(record.category),
            locale=page_locale(),
            rows=_option_rows(session, record),
            live={d.recipient_agency_id: d for d in live},
            bases=legal_bases(),
            explain=explain,
            kind_labels=AGENCY_KIND_LABELS,
            Duty=Duty,
            error=error,
            form=ConfirmForm(),
            revoke_form=DisclosureRevokeForm(),
            assessment_prompt=assessment_prompt,
            typed=_typed_assessment(),
        ), status

    if request.method == "GET" or not ConfirmForm().validate_on_submit():
        return render(None, 200)
    on_refusal(render=render)
    recipient_id = form_int("recipient")
    recipient = session.get(Agency, recipient_id) if recipient_id is not None else None
    if recipient is None:
        raise ServiceError(_("Välj en mottagare."))
    basis_id = request.form.get("basis", "")
    service.decide_disclosure(
        session,
        actor(),
        record,
        recipient,
        basis_id,
        _confirmed_indexes(basis_id),
        assessment=_typed_assessment(),
    )
    flash(_("Uppgiften är utlämnad till %(agency)s.", agency=recipient.name), "success")
    return redirect(url_for("secrecy.child", child_id=record.child_id))


def _chosen_record_ids() -> set[int]:
    """The records ticked on the batch page; anything that is not an id is ignored, as any id
    that is not one of the agency's disclosable records is."""
    values = request.form.getlist("records")
    return {n for v in values if (n := plain_int(v)) is not None}


@bp.page("/children/<int:child_id>/disclose", methods=["GET", "POST"])
def disclose_many(child_id: int) -> ResponseReturnValue:
    """Several of the agency's records about one child to one recipient, in one decision."""
    session = db_session()
    user = actor()
    child = child_for(session, user, child_id)
    recipient_id = arg_int("recipient") if "recipient" in request.args else form_int("recipient")

    def render(error: str | None, status: int = 422) -> ResponseReturnValue:
        batch = service.batch_disclosure(session, user, child, recipient_id)
        recipient = batch.recipient
        return render_template(
            "secrecy/disclose_many.html",
            child=child,
            results=reveal_records(session, user, batch.records, purpose="disclose"),
            recipients=batch.recipients,
            recipient=recipient,
            weak=recipient is not None and is_weakly_protected(recipient),
            bases=batch.bases,
            categories=categories(),
            locale=page_locale(),
            Duty=Duty,
            error=error,
            form=ConfirmForm(),
            assessment_prompt=assessment_prompt,
            typed=_typed_assessment(),
        ), status

    if request.method == "GET":
        return render(None, 200)
    batch = service.batch_disclosure(session, user, child, recipient_id)
    if batch.recipient is None or not ConfirmForm().validate_on_submit():
        return render(None, 200)
    on_refusal(render=render)
    chosen_ids = _chosen_record_ids()
    chosen = [r for r in batch.records if r.id in chosen_ids]
    basis_id = request.form.get("basis", "")
    service.decide_disclosures(
        session,
        user,
        chosen,
        batch.recipient,
        basis_id,
        _confirmed_indexes(basis_id),
        assessment=_typed_assessment(),
    )
    flash(
        _(
            "%(n)s uppgifter är utlämnade till %(agency)s.",
            n=len(chosen),
            agency=batch.recipient.name,
        ),
        "success",
    )
    return redirect(url_for("secrecy.child", child_id=child.id))


@bp.page("/disclosures/<int:disclosure_id>/revoke", methods=["GET", "POST"])
def revoke(disclosure_id: int) -> ResponseReturnValue:
    """Revoking cannot be undone: the GET, and the button on the child's page, show the
    confirmation page; its button revokes."""
    session = db_session()
    disclosure = disclosure_for(session, actor(), disclosure_id)
    back = url_for("secrecy.child", child_id=disclosure.record.child_id) + "#records"
    on_refusal(redirect_to=back)
    posted = request.method == "POST"
    form = (
        DisclosureRevokeForm()
        if posted
        else DisclosureRevokeForm(request.args, meta={"csrf": False})
    )
    if not posted and not form.reason.data:
        form.reason.data = DisclosureEndReason.NO_LONGER_NEEDED.value
    if not (form.validate_on_submit() if posted else form.validate()):
        raise ServiceError(_("Välj ett skäl till återkallandet."))
    reason = DisclosureEndReason(form.reason.data)
    if not is_confirmed():
        if not disclosure.active:
            raise ServiceError(_("Uppgiftslämningen har redan upphört."))
        return render_confirmation(revoke_confirmation(disclosure, reason))
    service.revoke_disclosure(session, actor(), disclosure, reason)
    flash(_("Uppgiftslämningen är återkallad."), "success")
    return redirect(back)


# --- Consents -----------------------------------------------------------------------------------


# Purposes a link may prefill the consent form with, by code.
PREFILLED_PURPOSES = {
    "network_meeting": _l(
        "Samverkan i nätverksmöte och forumets fortsatta arbete med stöd till den unge"
    ),
}


def _consent_form(child: Child) -> ConsentForm:
    form = ConsentForm()
    form.agency_ids.choices = choices((a.id, a.name) for a in child.council.agencies)
    form.categories.choices = choices(
        (c.key, c.label(page_locale()))
        for c in categories().values()
        if c.key != "consent" and c.key not in NOT_BY_HAND
    )
    if request.method == "GET":
        form.valid_from.data = today_local()
        # Prefilled from a meeting page (a network meeting: the agencies invited); only ids of
        # the council's agencies and a purpose code travel in the link, never a name.
        council_agencies = {a.id for a in child.council.agencies}
        wanted = [i for i in request.args.getlist("agency_ids", type=int) if i in council_agencies]
        if wanted:
            form.agency_ids.data = wanted
        if request.args.get("purpose") in PREFILLED_PURPOSES:
            form.purpose.data = str(PREFILLED_PURPOSES[request.args["purpose"]])
    return form


def _consent_data(form: ConsentForm) -> consent_services.ConsentData:
    return consent_services.ConsentData(
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
        maturity_assessment=form.maturity_assessment.data or "",
    )


def _render_consents(
    session: Session, child: Child, form: ConsentForm, error: str | None, status: int
) -> ResponseReturnValue:
    user = actor()
    on_file = consent_services.consents_of(session, child)
    details = session.scalars(
        select(Record).where(Record.id.in_([c.details_record_id for c in on_file]))
    ).all()
    revealed = {r.record.id: r for r in reveal_records(session, user, details, purpose="consent")}
    today = today_local()
    missing = {c.id: consent_services.missing_signers(session, c, today) for c in on_file}
    return render_template(
        "secrecy/consents.html",
        child=child,
        consents=on_file,
        revealed=revealed,
        missing=missing,
        agencies={a.id: a for a in child.council.agencies},
        kind_labels=labels_by_value(AGENCY_KIND_LABELS),
        categories=categories(),
        locale=page_locale(),
        signer_labels=SIGNER_LABELS,
        revoke_labels=CONSENT_REVOKE_LABELS,
        today=today,
        form=form,
        revoke_form=ConsentRevokeForm(),
        error=error,
    ), status


@bp.page("/children/<int:child_id>/consents", methods=["GET", "POST"])
def consents(child_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    child = child_for(session, user, child_id)
    form = _consent_form(child)
    if request.method == "GET":
        return _render_consents(session, child, form, None, 200)
    on_refusal(form, lambda message: _render_consents(session, child, form, message, 422))
    require_valid(form)
    consent = consent_services.register_consent(session, user, child, _consent_data(form))
    lacking = consent_services.missing_signers(session, consent, today_local())
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


@bp.page("/consents/<int:consent_id>/revoke", methods=["POST"])
def revoke_consent(consent_id: int) -> ResponseReturnValue:
    session = db_session()
    consent = consent_for(session, actor(), consent_id)
    back = url_for("disclosures.consents", child_id=consent.child_id)
    on_refusal(redirect_to=back)
    form = ConsentRevokeForm()
    if form.validate_on_submit():
        ended = consent_services.revoke_consent(
            session, actor(), consent, ConsentRevokeReason(form.reason.data)
        )
        flash(
            _(
                "Samtycket är återkallat. %(n)s uppgiftslämningar som vilade på det har upphört.",
                n=ended,
            ),
            "success",
        )
    return redirect(back)


# --- Legal bases (administrators and everyone who wants to read them) ---------------------------


@bp.page("/admin/legal-bases")
def legal_bases_page() -> ResponseReturnValue:
    """The rules in force with their review status, the change log, and the differences
    between two versions (``?from=2026.1&to=2026.2``; an unknown version is the 400 page)."""
    require_permission(Permission.MANAGE_COUNCILS)
    history = versions.rule_set_history()
    current = versions.current_rule_set()
    older = [v for v in history if v != current.version]
    compare_to = _version_arg("to", history) or current.version
    compare_from = _version_arg("from", history) or (older[0] if older else compare_to)
    diffs = (
        versions.diff_rule_sets(history[compare_from], history[compare_to])
        if compare_from in history and compare_to in history
        else []
    )
    return render_template(
        "secrecy/legal_bases.html",
        bases=list(legal_bases().values()),
        protection=recipient_protection(),
        kind_labels=labels_by_value(AGENCY_KIND_LABELS),
        categories=categories(),
        locale=page_locale(),
        Duty=Duty,
        AgencyKind=AgencyKind,
        current=current,
        history=history,
        unrecorded_change=versions.unrecorded_change(),
        compare_from=compare_from,
        compare_to=compare_to,
        diffs=diffs,
        Change=versions.Change,
    )


def _version_arg(name: str, history: Mapping[str, object]) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if value not in history:
        raise BadParameter()
    return value
