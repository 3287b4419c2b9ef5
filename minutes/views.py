"""The meeting workspace page: per-child briefs, earlier open actions, entries and decisions,
agreed actions, approval (justering) and amendments.

Every request loads the meeting, checks access (members of the council write; guests invited to
the meeting may read), calls one service, commits once and redirects. All content on the page
is opened through one ``reveal_records`` call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from coordination.db import db_session, today_local
from coordination.forms import choices
from coordination.models import Agency, Child, Council, CouncilMembership, User
from coordination.policy import can_view_council
from coordination.services import PermissionDenied, ServiceError
from coordination.views import actor, deny, show_service_error
from meetings.agenda import can_view_meeting, is_meeting_coordinator
from meetings.models import AgendaItem, Meeting
from minutes import workspace
from minutes.actions_create import ACTION_CATEGORY, create_action
from minutes.contents import minutes_contents
from minutes.forms import (
    AMENDMENT_REASON_LABELS,
    ENTRY_KIND_LABELS,
    ActionForm,
    AmendForm,
    EditEntryForm,
    EntryForm,
    SubmitForApprovalForm,
)
from minutes.models import (
    ActionStatus,
    AgreedAction,
    AmendmentReason,
    ApprovalRole,
    EntryKind,
    Minutes,
    MinutesEntry,
    MinutesStatus,
)
from secrecy.categories import categories
from secrecy.disclosure import consents_by_child
from secrecy.reasons import explain
from secrecy.reveal import RevealResult

bp = Blueprint("minutes", __name__, template_folder="templates")

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


def _locale() -> str:
    return str(get_locale() or "sv")


def _load_meeting(session: Session, meeting_id: int) -> Meeting:
    """Load, then check access: members and the meeting's guests. Unknown ids are refused like
    forbidden ones (no 404 oracle)."""
    meeting = session.scalars(
        select(Meeting)
        .where(Meeting.id == meeting_id)
        .options(
            selectinload(Meeting.council).selectinload(Council.agencies),
            selectinload(Meeting.council)
            .selectinload(Council.memberships)
            .selectinload(CouncilMembership.user),
        )
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
    item = session.scalars(
        select(AgendaItem).where(
            AgendaItem.meeting_id == meeting.id, AgendaItem.child_id == child_id
        )
    ).one_or_none()
    if item is None:
        deny(session, "child", child_id)
    return item.child


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


# --- The page -----------------------------------------------------------------------------------


@dataclass
class EntryView:
    entry: MinutesEntry
    content: RevealResult
    author: User | None
    amendments: list[EntryView] = field(default_factory=list)
    edit_form: EditEntryForm | None = None
    amend_form: AmendForm | None = None
    shares: list[workspace.ShareOption] = field(default_factory=list)


@dataclass
class ActionView:
    action: AgreedAction
    description: RevealResult


@dataclass
class ChildSection:
    item: AgendaItem
    brief: RevealResult | None
    earlier_actions: list[ActionView]
    actions: list[ActionView]
    entries: list[EntryView]
    entry_form: EntryForm | None = None
    action_form: ActionForm | None = None
    shares: list[workspace.ShareOption] = field(default_factory=list)
    action_bases: list[workspace.ShareOption] = field(default_factory=list)


def _entry_form(child_id: int, category: str, formdata: bool = False) -> EntryForm:
    form = EntryForm(prefix=f"e{child_id}", formdata=None if not formdata else request.form)
    form.category.choices = choices(
        (key, categories()[key].label(_locale())) for key in workspace.entry_categories()
    )
    if not formdata:
        form.category.data = category
    return form


def _action_form(
    child_id: int, agencies: Sequence[Agency], members: Sequence[User], formdata: bool = False
) -> ActionForm:
    form = ActionForm(prefix=f"a{child_id}", formdata=None if not formdata else request.form)
    form.responsible_agency_id.choices = choices((a.id, a.name) for a in agencies)
    form.responsible_user_id.choices = choices(
        [(0, _("Ingen särskild person"))]
        + [(u.id, f"{u.display_name} ({u.agency.name})") for u in members]
    )
    return form


def _submit_form(
    session: Session, meeting: Meeting, minutes: Minutes | None, formdata: bool = False
) -> SubmitForApprovalForm:
    form = SubmitForApprovalForm(formdata=None if not formdata else request.form)
    present = workspace.present_user_ids(session, meeting)
    users = session.scalars(select(User).where(User.id.in_(present)).order_by(User.display_name))
    form.adjuster_id.choices = choices(
        (u.id, u.display_name) for u in users if u.id != meeting.chair_id
    )
    if not formdata:
        form.version.data = minutes.version if minutes else 1
    return form


def _render(
    session: Session,
    meeting: Meeting,
    *,
    status: int = 200,
    error: str | None = None,
    posted: tuple[str, int, Any] | None = None,
) -> ResponseReturnValue:
    """The workspace. ``posted`` is (kind, id, form) of a refused POST: that form is shown
    again with its data and the messages next to its fields."""

    def again(kind: str, ident: int) -> Any:
        return posted[2] if posted is not None and posted[:2] == (kind, ident) else None

    user = actor()
    writer = can_view_council(user, meeting.council) and user.is_active
    contents = minutes_contents(session, user, meeting)
    # The reveal's audit event holds the audit chain's lock until commit: commit it now rather
    # than after building and rendering the page, so no other request's event queues behind it.
    session.commit()
    minutes, items, entries = contents.minutes, contents.items, contents.entries
    earlier, current = contents.earlier, contents.current
    by_id, revealed, authors = contents.records, contents.revealed, contents.authors
    draft = minutes is None or minutes.status is MinutesStatus.DRAFT
    approved = minutes is not None and minutes.status is MinutesStatus.APPROVED
    category = request.args.get("category", workspace.DEFAULT_ENTRY_CATEGORY)
    if category not in workspace.entry_categories():
        category = workspace.DEFAULT_ENTRY_CATEGORY
    agencies = [a for a in meeting.council.agencies if a.active]
    members = sorted(
        (m.user for m in meeting.council.memberships if m.user.active),
        key=lambda u: (u.agency.name, u.display_name),
    )
    option_cache: dict[tuple[int, str], list[workspace.ShareOption]] = {}
    # Loaded once for the page, not per child: the attending agencies and every agenda child's
    # consents (the engine asks about each child and agency below).
    attending = workspace.attending_agencies(session, meeting) if writer else []
    consents = consents_by_child(session, [i.child for i in items]) if writer else {}

    def options_for(child: Child, key: str) -> list[workspace.ShareOption]:
        if (child.id, key) not in option_cache:
            option_cache[(child.id, key)] = workspace.share_options(
                session,
                user,
                meeting,
                child,
                key,
                attending=attending,
                consents=consents.get(child.id),
            )
        return option_cache[(child.id, key)]

    views: dict[int, EntryView] = {}
    for entry in entries:
        view = EntryView(entry, revealed[entry.record_id], authors.get(entry.author_id))
        views[entry.id] = view
        own = by_id[entry.record_id].owner_agency_id == user.agency_id
        if writer and own and entry.amends_id is None:
            if draft:
                view.edit_form = again("edit", entry.id)
                if view.edit_form is None:
                    view.edit_form = EditEntryForm(prefix=f"x{entry.id}", formdata=None)
                    view.edit_form.version.data = minutes.version if minutes else 1
            elif approved:
                view.amend_form = again("amend", entry.id) or AmendForm(
                    prefix=f"r{entry.id}", formdata=None
                )
            if view.edit_form or view.amend_form:
                view.shares = options_for(entry.child, by_id[entry.record_id].category)
        if entry.amends_id is not None and entry.amends_id in views:
            views[entry.amends_id].amendments.append(view)

    sections = []
    for item in items:
        child_entries = [
            views[e.id] for e in entries if e.child_id == item.child_id and e.amends_id is None
        ]
        section = ChildSection(
            item=item,
            brief=revealed.get(item.brief_record_id) if item.brief_record_id else None,
            earlier_actions=[
                ActionView(a, revealed[a.description_record_id])
                for a in earlier
                if a.child_id == item.child_id
            ],
            actions=[
                ActionView(a, revealed[a.description_record_id])
                for a in current
                if a.child_id == item.child_id
            ],
            entries=child_entries,
        )
        if writer and draft:
            section.entry_form = again("entry", item.child_id) or _entry_form(
                item.child_id, category
            )
            section.shares = options_for(item.child, category)
            section.action_bases = workspace.agency_options(
                session,
                user,
                meeting,
                item.child,
                ACTION_CATEGORY,
                agencies,
                consents=consents.get(item.child_id),
            )
            section.action_form = again("action", item.child_id) or _action_form(
                item.child_id, agencies, members
            )
        sections.append(section)

    coordinator = is_meeting_coordinator(user, meeting)
    approvals = {a.role: a for a in minutes.approvals} if minutes else {}
    can_approve = (
        writer
        and minutes is not None
        and minutes.status is MinutesStatus.SUBMITTED
        and user.id in {meeting.chair_id, minutes.adjuster_id}
        and user.id not in {a.user_id for a in approvals.values()}
    )
    return render_template(
        "minutes/workspace.html",
        meeting=meeting,
        minutes=minutes,
        sections=sections,
        writer=writer,
        draft=draft,
        approved=approved,
        coordinator=coordinator,
        approvals=approvals,
        ApprovalRole=ApprovalRole,
        can_approve=can_approve,
        submit_form=(
            (again("submit", 0) or _submit_form(session, meeting, minutes))
            if writer and coordinator and draft
            else None
        ),
        category=category,
        categories=categories(),
        entry_categories=workspace.entry_categories(),
        locale=_locale(),
        kind_labels=ENTRY_KIND_LABELS,
        reason_labels=AMENDMENT_REASON_LABELS,
        action_status_labels=ACTION_STATUS_LABELS,
        status_labels=MINUTES_STATUS_LABELS,
        explain=explain,
        error=error,
        today=today_local(),
        EntryKind=EntryKind,
    ), status


@bp.route("/meetings/<int:meeting_id>/minutes")
@login_required
def workspace_page(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_meeting(session, meeting_id)
    response = _render(session, meeting)
    session.commit()  # the reveal's audit event
    return response


def _refused(
    session: Session, meeting: Meeting, exc: ServiceError, form: Any, posted: tuple[str, int]
) -> ResponseReturnValue:
    """Nothing the refused POST did is kept; the page shows the message next to its field."""
    session.rollback()
    if isinstance(exc, PermissionDenied):
        deny(session, "meeting", meeting.id)
    message = show_service_error(form, exc) if form is not None else str(exc.message)
    if form is not None and message is None and exc.field not in form:
        message = str(exc.message)
    session.expire_all()
    response = _render(session, meeting, status=422, error=message, posted=(*posted, form))
    session.commit()
    return response


def _invalid(
    session: Session, meeting: Meeting, posted: tuple[str, int], form: Any
) -> ResponseReturnValue:
    session.rollback()
    response = _render(
        session,
        meeting,
        status=422,
        error=_("Formuläret innehåller fel. Se meddelandena vid fälten."),
        posted=(*posted, form),
    )
    session.commit()
    return response


def _back(meeting: Meeting, anchor: str = "") -> ResponseReturnValue:
    return redirect(url_for("minutes.workspace_page", meeting_id=meeting.id) + anchor)


@bp.route("/meetings/<int:meeting_id>/minutes/children/<int:child_id>/entries", methods=["POST"])
@login_required
def add_entry(meeting_id: int, child_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_for_writing(session, meeting_id)
    child = _child_on_agenda(session, meeting, child_id)
    posted = ("entry", child_id)
    form = _entry_form(child_id, workspace.DEFAULT_ENTRY_CATEGORY, formdata=True)
    if not form.validate_on_submit():
        return _invalid(session, meeting, posted, form)
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
        return _refused(session, meeting, exc, form, posted)
    session.commit()
    flash(_("Anteckningen är sparad i protokollet."), "success")
    return _back(meeting, f"#child-{child_id}")


@bp.route("/meetings/<int:meeting_id>/minutes/entries/<int:entry_id>/edit", methods=["POST"])
@login_required
def edit_entry(meeting_id: int, entry_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_for_writing(session, meeting_id)
    entry = _entry_of_meeting(session, meeting, entry_id)
    posted = ("edit", entry_id)
    form = EditEntryForm(prefix=f"x{entry_id}")
    if not form.validate_on_submit():
        return _invalid(session, meeting, posted, form)
    try:
        outcome = workspace.edit_entry(
            session, actor(), entry, form.text.data or "", form.version.data or 0, _share_choices()
        )
    except StaleDataError:
        return _refused(session, meeting, ServiceError(workspace.CONFLICT_MESSAGE), form, posted)
    except ServiceError as exc:
        return _refused(session, meeting, exc, form, posted)
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
    posted = ("amend", entry_id)
    form = AmendForm(prefix=f"r{entry_id}")
    if not form.validate_on_submit():
        return _invalid(session, meeting, posted, form)
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
        return _refused(session, meeting, exc, form, posted)
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
    agencies = [a for a in meeting.council.agencies if a.active]
    members = [m.user for m in meeting.council.memberships]
    form = _action_form(child_id, agencies, members, formdata=True)
    if not form.validate_on_submit():
        return _invalid(session, meeting, posted, form)
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
        return _refused(session, meeting, exc, form, posted)
    session.commit()
    flash(_("Åtgärden är sparad."), "success")
    return _back(meeting, f"#child-{child_id}")


@bp.route("/meetings/<int:meeting_id>/minutes/submit", methods=["POST"])
@login_required
def submit(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    meeting = _load_for_writing(session, meeting_id)
    posted = ("submit", 0)
    form = _submit_form(session, meeting, None, formdata=True)
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
