"""The Bob case sync page of a meeting: police submit, social services accept, decline and
answer. For the police and social services members of a Bob council only.

Every request runs through the page wrapper: it loads through ``sync_meeting_for`` (refusals
logged by the wrapper), calls one service and redirects; the wrapper commits once. Content is
shown only through ``secrecy.records.reveal`` (in
``meetings.sync_overview``). URLs carry ids only.
"""

from __future__ import annotations

from flask import Flask, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from coordination.db import db_session
from coordination.logreview.scopes import register_tag_labels
from coordination.models import AgencyKind
from coordination.web.forms import labels_by_value, parse_version
from coordination.web.page import PageBlueprint, Render, actor, on_refusal, require_valid
from meetings.casesync.access import entry_for, require_sync_role, sync_meeting_for
from meetings.casesync.answers import ANSWERABLE, Answer, answer_entry
from meetings.casesync.forms import (
    DECLINE_REASON_LABELS,
    WITHHOLD,
    AcceptForm,
    AnswerForm,
    CaseSubmissionForm,
    DeclineForm,
    answer_basis_choices,
    confirmation_choices,
    confirmed_by_basis,
)
from meetings.casesync.overview import sync_overview
from meetings.casesync.proposals import accept_proposal, decline_proposal
from meetings.casesync.records import answer_bases, submission_bases
from meetings.casesync.submission import Submission, submit_case
from meetings.models import CaseSyncEntry, CaseSyncState, Meeting, MeetingStatus
from meetings.tags import MeetingTag
from secrecy.policy.rules import Duty, legal_bases

bp = PageBlueprint("casesync", __name__, template_folder="templates")

TAG_LABELS = {
    MeetingTag.CASE_SYNC_SUBMIT.value: _l("Bob: ung person anmäld av polisen"),
    MeetingTag.CASE_SYNC_MATCH.value: _l("Bob: anmälan matchad mot ett ärende"),
    MeetingTag.CASE_SYNC_PROPOSE.value: _l("Bob: förslag om inskrivning"),
    MeetingTag.CASE_SYNC_ACCEPT.value: _l("Bob: förslag om inskrivning godtaget"),
    MeetingTag.CASE_SYNC_DECLINE.value: _l("Bob: förslag om inskrivning avböjt"),
    MeetingTag.CASE_SYNC_ANSWER.value: _l("Bob: socialtjänsten har svarat"),
}
STATE_LABELS = {
    CaseSyncState.MATCHED: _l("Matchad mot ett ärende"),
    CaseSyncState.PROPOSED: _l("Förslag om inskrivning"),
    CaseSyncState.ACCEPTED: _l("Inskriven"),
    CaseSyncState.DECLINED: _l("Avböjd"),
}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_tag_labels(app, TAG_LABELS)


def _submission_form() -> CaseSubmissionForm:
    form = CaseSubmissionForm()
    form.confirmations.choices = confirmation_choices(submission_bases())
    return form


def _answer_form(entry: CaseSyncEntry, *, fill: bool = False) -> AnswerForm:
    form = AnswerForm(prefix=f"answer-{entry.id}")
    bases = answer_bases()
    form.basis.choices = answer_basis_choices(bases)
    form.confirmations.choices = confirmation_choices(bases)
    if fill:
        form.version.data = str(entry.version)
        form.basis.data = WITHHOLD
    return form


def _decline_form(entry: CaseSyncEntry, *, fill: bool = False) -> DeclineForm:
    form = DeclineForm(prefix=f"decline-{entry.id}")
    if fill:
        form.version.data = str(entry.version)
    return form


def _accept_form(entry: CaseSyncEntry, *, fill: bool = False) -> AcceptForm:
    form = AcceptForm(prefix=f"accept-{entry.id}")
    if fill:
        form.version.data = str(entry.version)
    return form


def _render(
    session: Session,
    meeting: Meeting,
    role: AgencyKind,
    *,
    submission_form: CaseSubmissionForm | None = None,
    entry_forms: dict[tuple[str, int], FlaskForm] | None = None,
    error: str | None = None,
) -> str:
    overview = sync_overview(session, actor(), meeting)
    forms: dict[tuple[str, int], FlaskForm] = {}
    if role is AgencyKind.SOCIAL_SERVICES:
        for view in overview.entries:
            entry = view.entry
            if entry.state is CaseSyncState.PROPOSED:
                forms[("accept", entry.id)] = _accept_form(entry, fill=True)
                forms[("decline", entry.id)] = _decline_form(entry, fill=True)
            elif entry.state in ANSWERABLE and entry.answer_record_id is None:
                forms[("answer", entry.id)] = _answer_form(entry, fill=True)
    forms.update(entry_forms or {})
    return render_template(
        "meetings/sync/page.html",
        meeting=meeting,
        council=meeting.council,
        role=role,
        police=role is AgencyKind.POLICE,
        overview=overview,
        form=submission_form or _submission_form(),
        forms=forms,
        submission_bases=submission_bases(),
        answer_bases=answer_bases(),
        can_submit=meeting.status is MeetingStatus.PLANNED and meeting.council.active,
        state_labels=STATE_LABELS,
        decline_labels=labels_by_value(DECLINE_REASON_LABELS),
        bases=legal_bases(),
        Duty=Duty,
        withhold=WITHHOLD,
        error=error,
    )


def _refused(
    session: Session,
    meeting: Meeting,
    role: AgencyKind,
    *,
    submission_form: CaseSubmissionForm | None = None,
    entry_forms: dict[tuple[str, int], FlaskForm] | None = None,
) -> Render:
    """The page shown again with a refused form (``on_refusal``'s render)."""
    return lambda message: _render(
        session,
        meeting,
        role,
        submission_form=submission_form,
        entry_forms=entry_forms,
        error=message,
    )


def _back(meeting: Meeting) -> ResponseReturnValue:
    return redirect(url_for("casesync.page", meeting_id=meeting.id))


@bp.page("/meetings/<int:meeting_id>/sync")
def page(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting, role = sync_meeting_for(session, actor(), meeting_id)
    return _render(session, meeting, role)


@bp.page("/meetings/<int:meeting_id>/sync/submit", methods=["POST"])
def submit(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting, role = sync_meeting_for(session, actor(), meeting_id)
    require_sync_role(meeting, role, AgencyKind.POLICE)
    form = _submission_form()
    on_refusal(form, _refused(session, meeting, role, submission_form=form))
    require_valid(form)
    submission = Submission(
        personnummer=form.personnummer.data or "",
        text=form.text.data or "",
        confirmations=confirmed_by_basis(form.confirmations.data),
        assessment=form.assessment.data,
    )
    entry = submit_case(session, actor(), meeting, submission)
    if entry.state is CaseSyncState.MATCHED:
        flash(
            _(
                "Anmälan är sparad och matchad mot %(pseudonym)s, som står på mötets dagordning.",
                pseudonym=entry.child.pseudonym,
            ),
            "success",
        )
    else:
        flash(
            _(
                "Anmälan är sparad som förslag om inskrivning (%(pseudonym)s). "
                "Socialtjänsten tar ställning till förslaget.",
                pseudonym=entry.child.pseudonym,
            ),
            "success",
        )
    return _back(meeting)


def _form_version(raw: str | None) -> int:
    """A form without its version cannot prove it saw the latest state: that is a conflict,
    never a silent overwrite."""
    version = parse_version(raw)
    return -1 if version is None else version


def _social_services_entry(
    session: Session, meeting_id: int, entry_id: int
) -> tuple[Meeting, AgencyKind, CaseSyncEntry]:
    """The meeting and one of its entries, for the social services' answer to a proposal."""
    meeting, role = sync_meeting_for(session, actor(), meeting_id)
    require_sync_role(meeting, role, AgencyKind.SOCIAL_SERVICES)
    return meeting, role, entry_for(session, meeting, entry_id)


@bp.page("/meetings/<int:meeting_id>/sync/entries/<int:entry_id>/accept", methods=["POST"])
def accept(meeting_id: int, entry_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting, role, entry = _social_services_entry(session, meeting_id, entry_id)
    form = _accept_form(entry)
    # The message at the top of the page: the accept button has no field to carry it.
    on_refusal(None, _refused(session, meeting, role))
    require_valid(form)
    child = accept_proposal(
        session, actor(), entry, expected_version=_form_version(form.version.data)
    )
    flash(_("%(pseudonym)s är inskriven i Bob-rådet.", pseudonym=child.pseudonym), "success")
    return _back(meeting)


@bp.page("/meetings/<int:meeting_id>/sync/entries/<int:entry_id>/decline", methods=["POST"])
def decline(meeting_id: int, entry_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting, role, entry = _social_services_entry(session, meeting_id, entry_id)
    form = _decline_form(entry)
    on_refusal(form, _refused(session, meeting, role, entry_forms={("decline", entry_id): form}))
    require_valid(form)
    decline_proposal(
        session,
        actor(),
        entry,
        form.reason.data or "",
        expected_version=_form_version(form.version.data),
    )
    flash(_("Förslaget är avböjt och dess uppgifter är gallrade."), "success")
    return _back(meeting)


@bp.page("/meetings/<int:meeting_id>/sync/entries/<int:entry_id>/answer", methods=["POST"])
def answer(meeting_id: int, entry_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting, role, entry = _social_services_entry(session, meeting_id, entry_id)
    form = _answer_form(entry)
    on_refusal(form, _refused(session, meeting, role, entry_forms={("answer", entry_id): form}))
    require_valid(form)
    basis_id = None if form.basis.data == WITHHOLD else form.basis.data
    confirmed = confirmed_by_basis(form.confirmations.data)
    reply = Answer(
        text=form.text.data or "",
        basis_id=basis_id,
        confirmations=confirmed.get(basis_id, []) if basis_id else [],
        assessment=form.assessment.data,
    )
    answer_entry(session, actor(), entry, reply, expected_version=_form_version(form.version.data))
    flash(
        _("Svaret är sparat och utlämnat till polisen.")
        if basis_id
        else _("Svaret är sparat. Det är inte utlämnat till polisen."),
        "success",
    )
    return _back(meeting)
