"""The meeting workspace pages: the workspace (every child on the agenda with its brief, earlier
open actions, entries and decisions, agreed actions; approval, justering) and one child's
writing page (new entries and actions, edits, amendments, each shared with the attending
agencies).

Every request runs through the page wrapper: it loads the meeting with ``meeting_for`` (members
of the council write; guests invited to the meeting may read), calls one service and redirects;
the wrapper commits once, and shows a refused form again on its page with the messages next to
its fields (422). All content on a page is opened through one ``reveal_records`` call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from coordination.errors import PermissionDenied, ServiceError
from coordination.models import Agency, Child, User
from coordination.policy import Need, can_view_council
from coordination.web.forms import translated_labels
from coordination.web.page import PageBlueprint, actor, on_refusal, require_valid
from coordination.web.params import arg_int
from meetings.agenda.access import is_meeting_coordinator
from meetings.agenda.views import requested_meeting
from meetings.models import Meeting
from minutes.actions.services import create_action
from minutes.models import AmendmentReason, ApprovalRole, EntryKind, Minutes, MinutesStatus
from minutes.workspace import page
from minutes.workspace import services as workspace
from minutes.workspace.access import child_on_agenda, entry_of_meeting
from minutes.workspace.contents import minutes_contents
from minutes.workspace.forms import (
    ACTION_STATUS_LABELS,
    AMENDMENT_REASON_LABELS,
    ENTRY_KIND_LABELS,
    MINUTES_STATUS_LABELS,
    AmendForm,
    EditEntryForm,
    EntryForm,
    SubmitForApprovalForm,
    confirmed,
    share_choices,
)
from minutes.workspace.page import Posted
from secrecy.policy.categories import categories
from secrecy.policy.reasons import explain

bp = PageBlueprint("minutes", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@contextmanager
def changing(meeting: Meeting) -> Iterator[None]:
    """Around a service: its refusal of access is logged against the meeting, and a
    concurrent change of the minutes found at flush gets the workspace's own message."""
    try:
        yield
    except PermissionDenied as exc:
        if exc.object_type is not None:
            raise
        raise PermissionDenied(object_type="meeting", object_ids=[meeting.id]) from exc
    except StaleDataError as exc:
        raise ServiceError(workspace.CONFLICT_MESSAGE) from exc


# --- The pages ----------------------------------------------------------------------------------


def _common(meeting: Meeting, minutes: Minutes | None) -> dict[str, Any]:
    """What both pages' templates use besides their sections."""
    return {
        "meeting": meeting,
        "minutes": minutes,
        "draft": minutes is None or minutes.status is MinutesStatus.DRAFT,
        "approved": minutes is not None and minutes.status is MinutesStatus.APPROVED,
        # Translated once per page, not once per entry or action.
        "kind_labels": translated_labels(ENTRY_KIND_LABELS),
        "reason_labels": translated_labels(AMENDMENT_REASON_LABELS),
        "action_status_labels": translated_labels(ACTION_STATUS_LABELS),
        "status_labels": MINUTES_STATUS_LABELS,
        "due_pattern": _("senast %(date)s"),
        "workspace_url": url_for("minutes.workspace_page", meeting_id=meeting.id),
    }


def render_workspace(
    session: Session,
    meeting: Meeting,
    *,
    error: str | None = None,
    posted: Posted | None = None,
) -> str:
    """The workspace: every child on the agenda, read-only, with links to each child's writing
    page. ``posted``: a refused approval form, shown again with its messages."""
    user = actor()
    writer = can_view_council(user, meeting.council) and user.is_active
    contents = minutes_contents(session, user, meeting, record_authors=False)
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
    can_send_back = (
        writer
        and minutes is not None
        and minutes.status is MinutesStatus.SUBMITTED
        and user.id in {meeting.chair_id, minutes.adjuster_id}
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
        can_send_back=can_send_back,
        submit_form=submit,
        error=error,
    )


def _render_child(
    session: Session,
    meeting: Meeting,
    child: Child,
    *,
    error: str | None = None,
    posted: Posted | None = None,
) -> str:
    """One child's writing page: the child's section of the workspace with its forms (new
    entry, new action, edits or amendments of the viewer's agency's entries). ``posted``: a
    refused form of this page, shown again with its data and the messages next to its fields."""
    user = actor()
    contents = minutes_contents(session, user, meeting, child_id=child.id, record_authors=False)
    (section,) = page.child_sections(contents, user)
    category = page.chosen_category()
    refused_entry = posted.form if posted is not None and posted.kind == "entry" else None
    if isinstance(refused_entry, EntryForm) and refused_entry.category.data in (
        workspace.entry_categories()
    ):
        category = refused_entry.category.data  # shown again with the category it was sent in
    page.add_writing_forms(
        session, user, meeting, child, section, contents.minutes, category, posted
    )
    opened = arg_int("edit")
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
    )


@bp.page("/meetings/<int:meeting_id>/minutes")
def workspace_page(meeting_id: int) -> ResponseReturnValue:
    session, meeting = requested_meeting(meeting_id, Need.VIEW)
    return render_workspace(session, meeting)


@bp.page("/meetings/<int:meeting_id>/minutes/children/<int:child_id>")
def child_page(meeting_id: int, child_id: int) -> ResponseReturnValue:
    """Writing is for the council's members: a guest's or outsider's request is refused and
    logged, like a child who is not on this meeting's agenda."""
    session, meeting = requested_meeting(meeting_id, Need.WRITE)
    return _render_child(session, meeting, child_on_agenda(session, meeting, child_id))


def _show_again_on(
    session: Session, meeting: Meeting, child: Child | None, kind: str, ident: int, form: Any
) -> None:
    """A refusal shows the page the form came from (the child's writing page, or the workspace
    for the approval forms) again, with the form and its messages."""

    def render(message: str | None) -> str:
        posted = Posted(kind, ident, form)
        if child is None:
            return render_workspace(session, meeting, error=message, posted=posted)
        return _render_child(session, meeting, child, error=message, posted=posted)

    on_refusal(form, render)


def _back(meeting: Meeting) -> ResponseReturnValue:
    """After a change, the workspace opened at its top, where the message is (an anchor
    further down would leave the message off-screen)."""
    return redirect(url_for("minutes.workspace_page", meeting_id=meeting.id))


@bp.page("/meetings/<int:meeting_id>/minutes/children/<int:child_id>/entries", methods=["POST"])
def add_entry(meeting_id: int, child_id: int) -> ResponseReturnValue:
    session, meeting = requested_meeting(meeting_id, Need.WRITE)
    child = child_on_agenda(session, meeting, child_id)
    form = page.entry_form(child_id, workspace.DEFAULT_ENTRY_CATEGORY, formdata=True)
    _show_again_on(session, meeting, child, "entry", child_id, form)
    require_valid(form)
    with changing(meeting):
        workspace.add_entry(
            session,
            actor(),
            meeting,
            child,
            EntryKind(form.kind.data),
            form.category.data or "",
            form.text.data or "",
            share_choices(),
            form.assessment.data,
        )
    flash(_("Anteckningen är sparad i protokollet."), "success")
    return _back(meeting)


@bp.page("/meetings/<int:meeting_id>/minutes/entries/<int:entry_id>/edit", methods=["POST"])
def edit_entry(meeting_id: int, entry_id: int) -> ResponseReturnValue:
    session, meeting = requested_meeting(meeting_id, Need.WRITE)
    entry = entry_of_meeting(session, meeting, entry_id)
    form = EditEntryForm(prefix=f"x{entry_id}")
    _show_again_on(session, meeting, entry.child, "edit", entry_id, form)
    require_valid(form)
    with changing(meeting):
        outcome = workspace.edit_entry(
            session,
            actor(),
            entry,
            form.text.data or "",
            form.version.data or 0,
            share_choices(),
            form.assessment.data,
        )
    if outcome.conflict:
        flash(str(workspace.CONFLICT_MESSAGE), "warning")
    else:
        flash(_("Ändringen är sparad."), "success")
    return _back(meeting)


@bp.page("/meetings/<int:meeting_id>/minutes/entries/<int:entry_id>/amend", methods=["POST"])
def amend_entry(meeting_id: int, entry_id: int) -> ResponseReturnValue:
    session, meeting = requested_meeting(meeting_id, Need.WRITE)
    entry = entry_of_meeting(session, meeting, entry_id)
    form = AmendForm(prefix=f"r{entry_id}")
    _show_again_on(session, meeting, entry.child, "amend", entry_id, form)
    require_valid(form)
    with changing(meeting):
        workspace.amend_entry(
            session,
            actor(),
            entry,
            form.text.data or "",
            AmendmentReason(form.reason.data),
            share_choices(),
            form.assessment.data,
        )
    flash(_("Rättelsen är sparad."), "success")
    return _back(meeting)


@bp.page("/meetings/<int:meeting_id>/minutes/children/<int:child_id>/actions", methods=["POST"])
def add_action(meeting_id: int, child_id: int) -> ResponseReturnValue:
    session, meeting = requested_meeting(meeting_id, Need.WRITE)
    child = child_on_agenda(session, meeting, child_id)
    # Every member is a valid choice here; the service says why an inactive one is refused.
    members = page.council_members(session, meeting, active_only=False)
    form = page.action_form(child_id, page.council_agencies(meeting), members, formdata=True)
    _show_again_on(session, meeting, child, "action", child_id, form)
    require_valid(form)
    basis_id = request.form.get(f"a{child_id}-basis", "")
    user_id = form.responsible_user_id.data
    with changing(meeting):
        create_action(
            session,
            actor(),
            meeting,
            child,
            form.text.data or "",
            session.get(Agency, form.responsible_agency_id.data or 0),
            session.get(User, user_id) if user_id else None,
            form.due_on.data,
            basis_id,
            confirmed(f"a{child_id}-confirm-{basis_id}-"),
            assessment=form.assessment.data,
        )
    flash(_("Åtgärden är sparad."), "success")
    return _back(meeting)
