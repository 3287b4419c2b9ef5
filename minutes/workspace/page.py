"""What the two workspace pages show: the overview of every child on the agenda
(``/meetings/<id>/minutes``, read-only sections with links) and the writing page of one child
(``/meetings/<id>/minutes/children/<child>``, the same section with its forms).

The forms are built on the writing page only: each child's share options depend on the
attending agencies and on the child's age and consents, and rendering them for every child
made the overview slow (hundreds of kilobytes of HTML). The page helpers here build views from
``minutes_contents`` (one reveal per page) and the forms; the routes live in
``minutes.workspace.views``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from flask import request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from coordination.db import today_local
from coordination.models import Agency, Child, CouncilMembership, User
from coordination.web.forms import choices
from coordination.web.page import page_locale
from meetings.models import AgendaItem, Attendance, AttendanceStatus, Meeting
from minutes.actions.lists import is_overdue
from minutes.actions.services import ACTION_CATEGORY
from minutes.models import AgreedAction, Minutes, MinutesEntry, MinutesStatus
from minutes.workspace import services as workspace
from minutes.workspace import sharing
from minutes.workspace.contents import MinutesContents
from minutes.workspace.forms import (
    ActionForm,
    AmendForm,
    EditEntryForm,
    EntryForm,
    SubmitForApprovalForm,
)
from secrecy.disclosure.consents import consents_by_child
from secrecy.policy.categories import categories
from secrecy.policy.reasons import explain
from secrecy.records.reveal import RevealResult

# The pages of the workspace call it ``page.locale()``.
locale = page_locale


@dataclass
class EntryView:
    entry: MinutesEntry
    content: RevealResult
    author: User | None
    category: str  # of the entry's record: the share options of its edit or amendment
    own: bool = False  # written by the viewer's agency: the viewer may edit or amend it
    shared_with: list[str] = field(default_factory=list)  # agencies it is disclosed to
    amendments: list[EntryView] = field(default_factory=list)
    edit_form: EditEntryForm | None = None
    amend_form: AmendForm | None = None
    shares: list[sharing.ShareOption] = field(default_factory=list)


@dataclass
class ActionView:
    action: AgreedAction
    description: RevealResult
    overdue: bool = False  # open or in progress after its due date


@dataclass
class ChildSection:
    item: AgendaItem
    brief: RevealResult | None
    earlier_actions: list[ActionView]
    actions: list[ActionView]
    entries: list[EntryView]  # the originals; amendments hang under the entry they amend
    entry_form: EntryForm | None = None
    action_form: ActionForm | None = None
    shares: list[sharing.ShareOption] = field(default_factory=list)
    action_bases: list[sharing.ShareOption] = field(default_factory=list)
    recipients: list[Recipient] = field(default_factory=list)
    # Individual plan versions agreed at this meeting: (plan id, version number).
    plans: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Verdict:
    """What one recipient may be given of one kind of writing (a category's entries, or the
    description of an action): the bases that allow it, or why none does."""

    label: str
    bases: list[str]
    reasons: list[str]


@dataclass
class Recipient:
    """One agency the writer could share with, stated once for the whole page: the engine's
    verdict for each kind of writing on the page, each reason given once."""

    agency: Agency
    verdicts: list[Verdict] = field(default_factory=list)


def recipients(
    by_label: Sequence[tuple[str, Sequence[sharing.ShareOption]]],
) -> list[Recipient]:
    """The share options of the page's forms regrouped per agency, the kinds of writing with
    the same verdict stated together (the forms themselves then name the agencies without a
    basis, without repeating the legal reasons)."""
    verdicts: dict[int, dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]]] = {}
    agencies: dict[int, Agency] = {}
    for label, options in by_label:
        for option in options:
            agencies[option.agency.id] = option.agency
            bases = tuple(f"{a.basis.title} ({a.basis.reference})" for a in option.applicable)
            if bases:
                reasons: tuple[str, ...] = ()
            elif option.not_in_council:
                reasons = (_("Myndigheten deltar inte i barnets forum."),)
            else:
                reasons = tuple(
                    dict.fromkeys(explain(r) for a in option.refused for r in a.reasons)
                )
            verdicts.setdefault(option.agency.id, {}).setdefault((bases, reasons), []).append(label)
    found = []
    for agency_id, grouped in verdicts.items():
        recipient = Recipient(agencies[agency_id])
        for (bases, reasons), labels in grouped.items():
            joined = _(" och ").join(labels)
            recipient.verdicts.append(
                Verdict(joined[:1].upper() + joined[1:], list(bases), list(reasons))
            )
        found.append(recipient)
    return sorted(found, key=lambda r: r.agency.name)


def child_sections(contents: MinutesContents, viewer: User) -> list[ChildSection]:
    """One section per agenda item, in agenda order, without forms: grouped in one pass over
    the entries and actions (not one pass per child)."""
    by_id, revealed, authors = contents.records, contents.revealed, contents.authors
    views: dict[int, EntryView] = {}
    originals: dict[int, list[EntryView]] = {}
    for entry in contents.entries:
        record = by_id[entry.record_id]
        view = EntryView(
            entry,
            revealed[entry.record_id],
            authors.get(entry.author_id),
            record.category,
            own=record.owner_agency_id == viewer.agency_id,
            shared_with=contents.shared_with.get(entry.record_id, []),
        )
        views[entry.id] = view
        if entry.amends_id is None:
            originals.setdefault(entry.child_id, []).append(view)
        elif entry.amends_id in views:
            views[entry.amends_id].amendments.append(view)
    today = today_local()
    earlier: dict[int, list[ActionView]] = {}
    for action in contents.earlier:
        earlier.setdefault(action.child_id, []).append(
            ActionView(action, revealed[action.description_record_id], is_overdue(action, today))
        )
    current: dict[int, list[ActionView]] = {}
    for action in contents.current:
        current.setdefault(action.child_id, []).append(
            ActionView(action, revealed[action.description_record_id], is_overdue(action, today))
        )
    return [
        ChildSection(
            item=item,
            brief=revealed.get(item.brief_record_id) if item.brief_record_id else None,
            earlier_actions=earlier.get(item.child_id, []),
            actions=current.get(item.child_id, []),
            entries=originals.get(item.child_id, []),
            plans=contents.plans.get(item.child_id, []),
        )
        for item in contents.items
    ]


def chosen_category() -> str:
    """The category whose bases the new-entry form offers (``?category=``)."""
    category = request.args.get("category", workspace.DEFAULT_ENTRY_CATEGORY)
    if category not in workspace.entry_categories():
        return workspace.DEFAULT_ENTRY_CATEGORY
    return category


def entry_form(child_id: int, category: str, formdata: bool = False) -> EntryForm:
    form = EntryForm(prefix=f"e{child_id}", formdata=None if not formdata else request.form)
    language = locale()
    form.category.choices = choices(
        (key, categories()[key].label(language)) for key in workspace.entry_categories()
    )
    if not formdata:
        form.category.data = category
    return form


def action_form(
    child_id: int, agencies: Sequence[Agency], members: Sequence[User], formdata: bool = False
) -> ActionForm:
    form = ActionForm(prefix=f"a{child_id}", formdata=None if not formdata else request.form)
    form.responsible_agency_id.choices = choices((a.id, a.name) for a in agencies)
    form.responsible_user_id.choices = choices(
        [(0, _("Ingen särskild person"))]
        + [(u.id, f"{u.display_name} ({u.agency.name})") for u in members]
    )
    return form


def submit_form(
    session: Session, meeting: Meeting, minutes: Minutes | None, formdata: bool = False
) -> SubmitForApprovalForm:
    form = SubmitForApprovalForm(formdata=None if not formdata else request.form)
    # The people marked present, in one query: plain rows of the two columns the select shows.
    users = session.execute(
        select(User.id, User.display_name)
        .join(Attendance, Attendance.user_id == User.id)
        .where(
            Attendance.meeting_id == meeting.id,
            Attendance.status == AttendanceStatus.PRESENT,
        )
        .order_by(User.display_name)
    )
    form.adjuster_id.choices = choices(
        (u.id, u.display_name) for u in users if u.id != meeting.chair_id
    )
    if not formdata:
        form.version.data = minutes.version if minutes else 1
    return form


def council_agencies(meeting: Meeting) -> list[Agency]:
    return [a for a in meeting.council.agencies if a.active]


def council_members(session: Session, meeting: Meeting, *, active_only: bool = True) -> list[User]:
    """The council's (active) members, by agency and name (the responsible person of an
    action), in one query (not their roles: not needed here)."""
    query = (
        select(User)
        .join(CouncilMembership, CouncilMembership.user_id == User.id)
        .where(CouncilMembership.council_id == meeting.council_id)
        .options(lazyload(User.role_rows))
    )
    if active_only:
        query = query.where(User.active.is_(True))
    return sorted(session.scalars(query), key=lambda u: (u.agency.name, u.display_name))


@dataclass(frozen=True)
class Posted:
    """A refused POST shown again with its data and messages: (kind, id, form)."""

    kind: str
    ident: int
    form: object


def add_writing_forms(
    session: Session,
    viewer: User,
    meeting: Meeting,
    child: Child,
    section: ChildSection,
    minutes: Minutes | None,
    category: str,
    posted: Posted | None = None,
) -> None:
    """The forms of one child's writing page: a new entry and a new action while the minutes
    are a draft, an edit form per own entry, and after approval an amendment form per own
    entry; each with the engine's share options for the attending agencies."""

    def again(kind: str, ident: int) -> object | None:
        if posted is None or (posted.kind, posted.ident) != (kind, ident):
            return None
        return posted.form

    draft = minutes is None or minutes.status is MinutesStatus.DRAFT
    approved = minutes is not None and minutes.status is MinutesStatus.APPROVED
    attending = sharing.attending_agencies(session, meeting)
    consents = consents_by_child(session, [child])[child.id]
    options: dict[str, list[sharing.ShareOption]] = {}

    def options_for(key: str) -> list[sharing.ShareOption]:
        if key not in options:
            options[key] = sharing.share_options(
                session, viewer, meeting, child, key, attending=attending, consents=consents
            )
        return options[key]

    for view in section.entries:
        if not view.own:
            continue
        if draft:
            form = again("edit", view.entry.id)
            if not isinstance(form, EditEntryForm):
                form = EditEntryForm(prefix=f"x{view.entry.id}", formdata=None)
                form.version.data = minutes.version if minutes else 1
            view.edit_form = form
        elif approved:
            amend = again("amend", view.entry.id)
            view.amend_form = (
                amend
                if isinstance(amend, AmendForm)
                else AmendForm(prefix=f"r{view.entry.id}", formdata=None)
            )
        if view.edit_form or view.amend_form:
            view.shares = options_for(view.category)
    language = locale()

    def labelled() -> list[tuple[str, Sequence[sharing.ShareOption]]]:
        pairs: list[tuple[str, Sequence[sharing.ShareOption]]] = [
            (
                _(
                    "anteckningar i kategorin %(category)s",
                    category=categories()[key].label(language),
                ),
                found,
            )
            for key, found in options.items()
        ]
        if section.action_bases:
            pairs.append((_("beskrivningar av åtgärder"), section.action_bases))
        return pairs

    if not draft:
        section.recipients = recipients(labelled())
        return
    posted_entry = again("entry", child.id)
    section.entry_form = (
        posted_entry if isinstance(posted_entry, EntryForm) else entry_form(child.id, category)
    )
    section.shares = options_for(category)
    agencies = council_agencies(meeting)
    section.action_bases = sharing.agency_options(
        session,
        viewer,
        meeting,
        child,
        ACTION_CATEGORY,
        agencies,
        consents=consents,
    )
    posted_action = again("action", child.id)
    section.action_form = (
        posted_action
        if isinstance(posted_action, ActionForm)
        else action_form(child.id, agencies, council_members(session, meeting))
    )
    section.recipients = recipients(labelled())
