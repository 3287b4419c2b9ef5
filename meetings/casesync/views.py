"""The Bob case sync page of a meeting: police submit, social services accept, decline and
answer. For the police and social services members of a Bob council only.

Every request loads, checks access (refusals logged through ``deny``), calls one service,
commits once and redirects. Content is shown only through ``secrecy.records.reveal`` (in
``meetings.casesync.sync_overview``). URLs carry ids only.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from coordination.db import db_session
from coordination.errors import ServiceError
from coordination.logreview import register_tag_labels
from coordination.models import AgencyKind
from coordination.policy import can_view_council
from coordination.web.forms import parse_version
from coordination.web.page import actor, deny, show_service_error
from meetings import casesync
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
from meetings.models import CaseSyncEntry, CaseSyncState, Meeting, MeetingStatus
from meetings.tags import MeetingTag
from secrecy.policy.rules import Duty, legal_bases

bp = Blueprint("casesync", __name__, template_folder="templates")

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


def _meeting_for_sync(session: Session, meeting_id: int) -> tuple[Meeting, AgencyKind]:
    """Members of the meeting's council only (others: 403, logged). The page exists for Bob
    councils only: a member of another council gets 404. Within a Bob council only the police
    and social services take part in the sync: anyone else gets 403."""
    meeting = session.get(Meeting, meeting_id)
    user = actor()
    if meeting is None or not can_view_council(user, meeting.council):
        deny(session, "meeting", meeting_id)
    if not casesync.is_bob_meeting(meeting):
        abort(404)
    role = casesync.sync_role(user, meeting)
    if role is None:
        deny(session, "meeting", meeting_id)
    return meeting, role


def _entry_of(session: Session, meeting: Meeting, entry_id: int) -> CaseSyncEntry:
    entry = session.get(CaseSyncEntry, entry_id)
    if entry is None or entry.meeting_id != meeting.id:
        deny(session, "case_sync_entry", entry_id)
    return entry


def _require_role(session: Session, meeting: Meeting, role: AgencyKind, kind: AgencyKind) -> None:
    if role is not kind:
        deny(session, "meeting", meeting.id)


def _submission_form() -> CaseSubmissionForm:
    form = CaseSubmissionForm()
    form.confirmations.choices = confirmation_choices(casesync.submission_bases())
    return form


def _answer_form(entry: CaseSyncEntry, *, fill: bool = False) -> AnswerForm:
    form = AnswerForm(prefix=f"answer-{entry.id}")
    bases = casesync.answer_bases()
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
    status: int = 200,
) -> ResponseReturnValue:
    overview = casesync.sync_overview(session, actor(), meeting)
    session.commit()  # the reveal event is this request's one transaction
    forms: dict[tuple[str, int], FlaskForm] = {}
    if role is AgencyKind.SOCIAL_SERVICES:
        for view in overview.entries:
            entry = view.entry
            if entry.state is CaseSyncState.PROPOSED:
                forms[("accept", entry.id)] = _accept_form(entry, fill=True)
                forms[("decline", entry.id)] = _decline_form(entry, fill=True)
            elif entry.state in casesync.ANSWERABLE and entry.answer_record_id is None:
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
        submission_bases=casesync.submission_bases(),
        answer_bases=casesync.answer_bases(),
        can_submit=meeting.status is MeetingStatus.PLANNED and meeting.council.active,
        state_labels=STATE_LABELS,
        decline_labels={r.value: label for r, label in DECLINE_REASON_LABELS.items()},
        bases=legal_bases(),
        Duty=Duty,
        withhold=WITHHOLD,
        error=error,
    ), status


def _back(meeting: Meeting) -> ResponseReturnValue:
    return redirect(url_for("casesync.page", meeting_id=meeting.id))


@bp.route("/meetings/<int:meeting_id>/sync")
@login_required
def page(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting, role = _meeting_for_sync(session, meeting_id)
    return _render(session, meeting, role)


@bp.route("/meetings/<int:meeting_id>/sync/submit", methods=["POST"])
@login_required
def submit(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting, role = _meeting_for_sync(session, meeting_id)
    _require_role(session, meeting, role, AgencyKind.POLICE)
    form = _submission_form()
    error = None
    if form.validate_on_submit():
        submission = casesync.Submission(
            personnummer=form.personnummer.data or "",
            text=form.text.data or "",
            confirmations=confirmed_by_basis(form.confirmations.data),
        )
        try:
            entry = casesync.submit_case(session, actor(), meeting, submission)
        except ServiceError as exc:
            session.rollback()
            error = show_service_error(form, exc)
        else:
            pseudonym = entry.child.pseudonym
            matched = entry.state is CaseSyncState.MATCHED
            session.commit()
            if matched:
                flash(
                    _(
                        "Anmälan är sparad och matchad mot %(pseudonym)s, som står på "
                        "mötets dagordning.",
                        pseudonym=pseudonym,
                    ),
                    "success",
                )
            else:
                flash(
                    _(
                        "Anmälan är sparad som förslag om inskrivning (%(pseudonym)s). "
                        "Socialtjänsten tar ställning till förslaget.",
                        pseudonym=pseudonym,
                    ),
                    "success",
                )
            return _back(meeting)
    return _render(session, meeting, role, submission_form=form, error=error, status=422)


def _form_version(raw: str | None) -> int:
    """A form without its version cannot prove it saw the latest state: that is a conflict,
    never a silent overwrite."""
    version = parse_version(raw)
    return -1 if version is None else version


@bp.route("/meetings/<int:meeting_id>/sync/entries/<int:entry_id>/accept", methods=["POST"])
@login_required
def accept(meeting_id: int, entry_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting, role = _meeting_for_sync(session, meeting_id)
    _require_role(session, meeting, role, AgencyKind.SOCIAL_SERVICES)
    entry = _entry_of(session, meeting, entry_id)
    form = _accept_form(entry)
    error = None
    if form.validate_on_submit():
        try:
            child = casesync.accept_proposal(
                session, actor(), entry, expected_version=_form_version(form.version.data)
            )
        except ServiceError as exc:
            session.rollback()
            error = str(exc.message)
        else:
            pseudonym = child.pseudonym
            session.commit()
            flash(_("%(pseudonym)s är inskriven i Bob-rådet.", pseudonym=pseudonym), "success")
            return _back(meeting)
    return _render(session, meeting, role, error=error, status=422)


@bp.route("/meetings/<int:meeting_id>/sync/entries/<int:entry_id>/decline", methods=["POST"])
@login_required
def decline(meeting_id: int, entry_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting, role = _meeting_for_sync(session, meeting_id)
    _require_role(session, meeting, role, AgencyKind.SOCIAL_SERVICES)
    entry = _entry_of(session, meeting, entry_id)
    form = _decline_form(entry)
    error = None
    if form.validate_on_submit():
        try:
            casesync.decline_proposal(
                session,
                actor(),
                entry,
                form.reason.data or "",
                expected_version=_form_version(form.version.data),
            )
        except ServiceError as exc:
            session.rollback()
            error = show_service_error(form, exc)
        else:
            session.commit()
            flash(_("Förslaget är avböjt och dess uppgifter är gallrade."), "success")
            return _back(meeting)
    return _render(
        session, meeting, role, entry_forms={("decline", entry_id): form}, error=error, status=422
    )


@bp.route("/meetings/<int:meeting_id>/sync/entries/<int:entry_id>/answer", methods=["POST"])
@login_required
def answer(meeting_id: int, entry_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting, role = _meeting_for_sync(session, meeting_id)
    _require_role(session, meeting, role, AgencyKind.SOCIAL_SERVICES)
    entry = _entry_of(session, meeting, entry_id)
    form = _answer_form(entry)
    error = None
    if form.validate_on_submit():
        basis_id = None if form.basis.data == WITHHOLD else form.basis.data
        confirmed = confirmed_by_basis(form.confirmations.data)
        reply = casesync.Answer(
            text=form.text.data or "",
            basis_id=basis_id,
            confirmations=confirmed.get(basis_id, []) if basis_id else [],
        )
        try:
            casesync.answer_entry(
                session, actor(), entry, reply, expected_version=_form_version(form.version.data)
            )
        except ServiceError as exc:
            session.rollback()
            error = show_service_error(form, exc)
        else:
            session.commit()
            flash(
                _("Svaret är sparat och utlämnat till polisen.")
                if basis_id
                else _("Svaret är sparat. Det är inte utlämnat till polisen."),
                "success",
            )
            return _back(meeting)
    return _render(
        session, meeting, role, entry_forms={("answer", entry_id): form}, error=error, status=422
    )
