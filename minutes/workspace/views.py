"""The meeting workspace pages: the workspace (every child on the agenda with its brief, earlier
open actions, entries and decisions, agreed actions; approval, justering) and one child's
writing page (new entries and actions, edits, amendments, each shared with the attending
agencies).

Every request loads the meeting, checks access (members of the council write; guests invited to
the meeting may read), calls one service, commits once and redirects. All content on a page is
opened through one ``reveal_records`` call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, lazyload
from sqlalchemy.orm.exc import StaleDataError

from coordination.db import db_session
from coordination.errors import PermissionDenied, ServiceError
from coordination.models import Agency, Child, Council, User
from coordination.policy import can_view_council
from coordination.web.page import actor, deny, show_service_error
from meetings.agenda import can_view_meeting, is_meeting_coordinator
from meetings.models import AgendaItem, Meeting
from minutes.actions.create import create_action
from minutes.models import (
    ActionStatus,
    AmendmentReason,
    ApprovalRole,
    EntryKind,
    Minutes,
    MinutesEntry,
    MinutesStatus,
)
from minutes.workspace import page
from minutes.workspace import services as workspace
from minutes.workspace.contents import minutes_contents
from minutes.workspace.forms import (
    AMENDMENT_REASON_LABELS,
    ENTRY_KIND_LABELS,
    AmendForm,
    EditEntryForm,
    SubmitForApprovalForm,
)
from minutes.workspace.page import Posted
from secrecy.policy.categories import categories
from secrecy.policy.reasons import explain

bp = Blueprint("minutes", __name__, template_folder="templates")
K = TypeVar("K")

ACTION_STATUS_LABELS = {
    ActionStatus.OPEN: _l("Öppen"),
    ActionStatus.IN_PROGRESS: _l("Pågår"),
    ActionStatus.DONE: _l("Genomförd"),
    ActionStatus.NOT_DONE: _l("Inte genomförd"),
    ActionStatus.CANCELLED: _l("Avbruten"),
}
MINUTES_STATUS_LABELS = {
    MinutesStatus.DRAFT: _l("Utkast"),
    MinutesStatus.SUBMITTED: _l("Väntar på justering"),
    MinutesStatus.APPROVED: _l("Justerat och låst"),
}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _load_meeting(session: Session, meeting_id: int) -> Meeting:
    """Load, then check access: members and the meeting's guests. Unknown ids are refused like
    forbidden ones (no 404 oracle). The council comes with the meeting; its agencies when a
    writing form asks for them; not its members: the access checks read the viewer's own
    memberships, and the pages that list members query them."""
    meeting = session.scalars(
        select(Meeting)
        .where(Meeting.id == meeting_id)
        .options(joinedload(Meeting.council, innerjoin=True).lazyload(Council.agencies))
    ).one_or_none()
    if meeting is None or not can_view_meeting(session, actor(), meeting):
        deny(session, "meeting", meeting_id)
    return meeting


def _load_for_writing(session: Session, meeting_id: int) -> Meeting:
    """Writing is for the council's members; a guest's POST is refused and logged."""
    meeting = _load_meeting(session, meeting_id)
    if not can_view_council(actor(), meeting.council):
        deny(session, "meeting", meeting_id)
    return meeting


def _child_on_agenda(session: Session, meeting: Meeting, child_id: int) -> Child:
    child = session.scalars(
        select(Child)
        .join(AgendaItem, AgendaItem.child_id == Child.id)
        .where(AgendaItem.meeting_id == meeting.id, AgendaItem.child_id == child_id)
        .options(lazyload(Child.council))  # the meeting's, loaded with it
    ).one_or_none()
    if child is None:
        deny(session, "child", child_id)
    return child


def _entry_of_meeting(session: Session, meeting: Meeting, entry_id: int) -> MinutesEntry:
    entry = session.get(MinutesEntry, entry_id)
    if entry is None or entry.minutes.meeting_id != meeting.id:
        deny(session, "minutes_entry", entry_id)
    return entry


def _confirmed(prefix: str) -> tuple[int, ...]:
    indexes = []
    for key in request.form:
        if key.startswith(prefix):
            try:
                indexes.append(int(key[len(prefix) :]))
            except ValueError:
                continue
    return tuple(sorted(indexes))


def _share_choices() -> list[workspace.ShareChoice]:
    """``share-<agency>`` ticked, ``basis-<agency>`` chosen, ``confirm-<agency>-<basis>-<n>``."""
    shares = []
    for key in request.form:
        if not key.startswith("share-"):
            continue
        try:
            agency_id = int(key[len("share-") :])
        except ValueError:
            continue
        basis_id = request.form.get(f"basis-{agency_id}", "")
        shares.append(
            workspace.ShareChoice(
                agency_id, basis_id, _confirmed(f"confirm-{agency_id}-{basis_id}-")
            )
        )
    return shares


# --- The pages ----------------------------------------------------------------------------------


def _translated(labels: Mapping[K, Any]) -> dict[K, str]:
    return {key: str(label) for key, label in labels.items()}


def _common(meeting: Meeting, minutes: Minutes | None) -> dict[str, Any]:
    """What both pages' templates use besides their sections."""
    return {
        "meeting": meeting,
        "minutes": minutes,
        "draft": minutes is None or minutes.status is MinutesStatus.DRAFT,
        "approved": minutes is not None and minutes.status is MinutesStatus.APPROVED,
        # Translated once per page, not once per entry or action.
        "kind_labels": _translated(ENTRY_KIND_LABELS),
        "reason_labels": _translated(AMENDMENT_REASON_LABELS),
        "action_status_labels": _translated(ACTION_STATUS_LABELS),
        "status_labels": MINUTES_STATUS_LABELS,
        "due_pattern": _("senast %(date)s"),
        "workspace_url": url_for("minutes.workspace_page", meeting_id=meeting.id),
    }


def _render(
    session: Session,
    meeting: Meeting,
    *,
    status: int = 200,
    error: str | None = None,
    posted: Posted | None = None,
) -> ResponseReturnValue:
    """The workspace: every child on the agenda, read-only, with links to each child's writing
    page. ``posted``: a refused approval form, shown again with its messages."""
    user = actor()
    writer = can_view_council(user, meeting.council) and user.is_active
    contents = minutes_contents(session, user, meeting, record_authors=False)
    # The reveal's audit event holds the audit chain's lock until commit: commit it now rather
    # than after building and rendering the page, so no other request's event queues behind it.
    session.commit()
    minutes = contents.minutes
    common = _common(meeting, minutes)
    coordinator = is_meeting_coordinator(user, meeting)
    approvals = {a.role: a for a in minutes.approvals} if minutes else {}
    can_approve = (
        writer
        and minutes is not None
        and minutes.status is MinutesStatus.SUBMITTED
        and user.id in {meeting.chair_id, minutes.adjuster_id}
        and user.id not in {a.user_id for a in approvals.values()}
    )
    submit = None
    if writer and coordinator and common["draft"]:
        refused = posted.form if posted is not None and posted.kind == "submit" else None
        submit = (
            refused
            if isinstance(refused, SubmitForApprovalForm)
            else page.submit_form(session, meeting, minutes)
        )
    return render_template(
        "minutes/workspace.html",
        **common,
        sections=page.child_sections(contents, user),
        writer=writer,
        coordinator=coordinator,
        approvals=approvals,
        ApprovalRole=ApprovalRole,
        can_approve=can_approve,
        submit_form=submit,
        error=error,
    ), status


def _render_child(
    session: Session,
    meeting: Meeting,
    child: Child,
    *,
    status: int = 200,
    error: str | None = None,
    posted: Posted | None = None,
) -> ResponseReturnValue:
    """One child's writing page: the child's section of the workspace with its forms (new
    entry, new action, edits or amendments of the viewer's agency's entries). ``posted``: a
    refused form of this page, shown again with its data and the messages next to its fields."""
    user = actor()
    contents = minutes_contents(session, user, meeting, child_id=child.id, record_authors=False)
    session.commit()  # the reveal's audit event, as on the workspace
    (section,) = page.child_sections(contents, user)
    category = page.chosen_category()
    page.add_writing_forms(
        session, user, meeting, child, section, contents.minutes, category, posted
    )
    opened = request.args.get("edit", type=int)
    if posted is not None and posted.kind in ("edit", "amend"):
        opened = posted.ident
    language = page.locale()
    return render_template(
        "minutes/child.html",
        **_common(meeting, contents.minutes),
        section=section,
        child=child,
        opened=opened,
        category=category,
        category_choices=[
            (key, categories()[key].label(language)) for key in workspace.entry_categories()
        ],
        explain=explain,
        error=error,
    ), status


@bp.route("/meetings/<int:meeting_id>/minutes")
@login_required
def workspace_page(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_meeting(session, meeting_id)
    response = _render(session, meeting)
    session.commit()
    return response


@bp.route("/meetings/<int:meeting_id>/minutes/children/<int:child_id>")
@login_required
def child_page(meeting_id: int, child_id: int) -> ResponseReturnValue:
    """Writing is for the council's members: a guest's or outsider's request is refused and
    logged, like a child who is not on this meeting's agenda."""
    session = db_session()
    meeting = _load_for_writing(session, meeting_id)
    child = _child_on_agenda(session, meeting, child_id)
    response = _render_child(session, meeting, child)
    session.commit()
    return response


def _show_again(
    session: Session,
    meeting: Meeting,
    child: Child | None,
    message: str | None,
    posted: Posted,
) -> ResponseReturnValue:
    """The page the refused form came from (the child's writing page, or the workspace for
    the approval forms), with the form and its messages."""
    if child is None:
        response = _render(session, meeting, status=422, error=message, posted=posted)
    else:
        response = _render_child(session, meeting, child, status=422, error=message, posted=posted)
    session.commit()
    return response


def _refused(
    session: Session,
    meeting: Meeting,
    exc: ServiceError,
    form: Any,
    posted: tuple[str, int],
    child: Child | None = None,
) -> ResponseReturnValue:
    """Nothing the refused POST did is kept; the page shows the message next to its field."""
    session.rollback()
    if isinstance(exc, PermissionDenied):
        deny(session, "meeting", meeting.id)
    message = show_service_error(form, exc) if form is not None else str(exc.message)
    if form is not None and message is None and exc.field not in form:
        message = str(exc.message)
    session.expire_all()
    return _show_again(session, meeting, child, message, Posted(*posted, form))


def _invalid(
    session: Session,
    meeting: Meeting,
    posted: tuple[str, int],
    form: Any,
    child: Child | None = None,
) -> ResponseReturnValue:
    session.rollback()
    message = _("Formuläret innehåller fel. Se meddelandena vid fälten.")
    return _show_again(session, meeting, child, message, Posted(*posted, form))


def _back(meeting: Meeting, anchor: str = "") -> ResponseReturnValue:
    return redirect(url_for("minutes.workspace_page", meeting_id=meeting.id) + anchor)


@bp.route("/meetings/<int:meeting_id>/minutes/children/<int:child_id>/entries", methods=["POST"])
@login_required
def add_entry(meeting_id: int, child_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_for_writing(session, meeting_id)
    child = _child_on_agenda(session, meeting, child_id)
    posted = ("entry", child_id)
    form = page.entry_form(child_id, workspace.DEFAULT_ENTRY_CATEGORY, formdata=True)
    if not form.validate_on_submit():
        return _invalid(session, meeting, posted, form, child)
    try:
        workspace.add_entry(
            session,
            actor(),
            meeting,
            child,
            EntryKind(form.kind.data),
            form.category.data or "",
            form.text.data or "",
            _share_choices(),
        )
    except ServiceError as exc:
        return _refused(session, meeting, exc, form, posted, child)
    session.commit()
    flash(_("Anteckningen är sparad i protokollet."), "success")
    return _back(meeting, f"#child-{child_id}")


@bp.route("/meetings/<int:meeting_id>/minutes/entries/<int:entry_id>/edit", methods=["POST"])
@login_required
def edit_entry(meeting_id: int, entry_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_for_writing(session, meeting_id)
    entry = _entry_of_meeting(session, meeting, entry_id)
    child = entry.child
    posted = ("edit", entry_id)
    form = EditEntryForm(prefix=f"x{entry_id}")
    if not form.validate_on_submit():
        return _invalid(session, meeting, posted, form, child)
    try:
        outcome = workspace.edit_entry(
            session, actor(), entry, form.text.data or "", form.version.data or 0, _share_choices()
        )
    except StaleDataError:
        conflict = ServiceError(workspace.CONFLICT_MESSAGE)
        return _refused(session, meeting, conflict, form, posted, child)
    except ServiceError as exc:
        return _refused(session, meeting, exc, form, posted, child)
    session.commit()
    if outcome.conflict:
        flash(str(workspace.CONFLICT_MESSAGE), "warning")
    else:
        flash(_("Ändringen är sparad."), "success")
    return _back(meeting, f"#entry-{outcome.entry.id}")


@bp.route("/meetings/<int:meeting_id>/minutes/entries/<int:entry_id>/amend", methods=["POST"])
@login_required
def amend_entry(meeting_id: int, entry_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_for_writing(session, meeting_id)
    entry = _entry_of_meeting(session, meeting, entry_id)
    child = entry.child
    posted = ("amend", entry_id)
    form = AmendForm(prefix=f"r{entry_id}")
    if not form.validate_on_submit():
        return _invalid(session, meeting, posted, form, child)
    try:
        amendment = workspace.amend_entry(
            session,
            actor(),
            entry,
            form.text.data or "",
            AmendmentReason(form.reason.data),
            _share_choices(),
        )
    except ServiceError as exc:
        return _refused(session, meeting, exc, form, posted, child)
    session.commit()
    flash(_("Rättelsen är sparad."), "success")
    return _back(meeting, f"#entry-{amendment.id}")


@bp.route("/meetings/<int:meeting_id>/minutes/children/<int:child_id>/actions", methods=["POST"])
@login_required
def add_action(meeting_id: int, child_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_for_writing(session, meeting_id)
    child = _child_on_agenda(session, meeting, child_id)
    posted = ("action", child_id)
    # Every member is a valid choice here; the service says why an inactive one is refused.
    members = page.council_members(session, meeting, active_only=False)
    form = page.action_form(child_id, page.council_agencies(meeting), members, formdata=True)
    if not form.validate_on_submit():
        return _invalid(session, meeting, posted, form, child)
    basis_id = request.form.get(f"a{child_id}-basis", "")
    try:
        create_action(
            session,
            actor(),
            meeting,
            child,
            form.text.data or "",
            session.get(Agency, form.responsible_agency_id.data or 0),
            session.get(User, form.responsible_user_id.data)
            if form.responsible_user_id.data
            else None,
            form.due_on.data,
            basis_id,
            _confirmed(f"a{child_id}-confirm-{basis_id}-"),
        )
    except ServiceError as exc:
        return _refused(session, meeting, exc, form, posted, child)
    session.commit()
    flash(_("Åtgärden är sparad."), "success")
    return _back(meeting, f"#child-{child_id}")


@bp.route("/meetings/<int:meeting_id>/minutes/submit", methods=["POST"])
@login_required
def submit(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_for_writing(session, meeting_id)
    posted = ("submit", 0)
    form = page.submit_form(session, meeting, None, formdata=True)
    form.adjuster_id.validate_choice = False  # the service says why a person cannot adjust
    if not form.validate_on_submit():
        return _invalid(session, meeting, posted, form)
    try:
        workspace.submit_for_approval(
            session,
            actor(),
            meeting,
            session.get(User, form.adjuster_id.data or 0),
            form.version.data or 0,
        )
    except StaleDataError:
        return _refused(session, meeting, ServiceError(workspace.CONFLICT_MESSAGE), form, posted)
    except ServiceError as exc:
        return _refused(session, meeting, exc, form, posted)
    session.commit()
    flash(_("Protokollet är skickat för justering."), "success")
    return _back(meeting, "#approval")


@bp.route("/meetings/<int:meeting_id>/minutes/withdraw", methods=["POST"])
@login_required
def withdraw(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_for_writing(session, meeting_id)
    try:
        workspace.withdraw_submission(session, actor(), meeting)
    except ServiceError as exc:
        return _refused(session, meeting, exc, None, ("withdraw", 0))
    session.commit()
    flash(_("Protokollet är ett utkast igen."), "success")
    return _back(meeting, "#approval")


@bp.route("/meetings/<int:meeting_id>/minutes/approve", methods=["POST"])
@login_required
def approve(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_for_writing(session, meeting_id)
    try:
        minutes = workspace.approve(session, actor(), meeting)
    except ServiceError as exc:
        return _refused(session, meeting, exc, None, ("approve", 0))
    session.commit()
    if minutes.status is MinutesStatus.APPROVED:
        flash(_("Protokollet är justerat och låst."), "success")
    else:
        flash(_("Din justering är sparad. Den andra justeringen saknas."), "success")
    return _back(meeting, "#approval")
