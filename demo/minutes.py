"""Demo minutes for Exempelstad: the six past meetings of each council held in order, their
minutes written, shared and approved, the agreed actions followed up; then the next agendas get
their children with open actions, one approved entry is corrected, a consent is withdrawn and a
case is closed.

Every step goes through the services (``minutes.workspace.services``,
``minutes.actions.services``, ``secrecy.disclosure.services``, ``secrecy.records.services``), so
every record is sealed, every disclosure is a decision the policy engine accepted today, and every
step is in the audit
log. What was said is in ``demo.story``.

Limits the services set, kept rather than worked around: records, disclosures, approvals and
action updates carry the time the demo was loaded, not the meeting's; an action's due date
cannot lie in the past when it is agreed, so no action is overdue on the day the demo is loaded
(one is due that day and is overdue from the next).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE, today_local
from coordination.models import Agency, Child, CloseReason, Council, User
from demo import history, plans
from demo.coordination import COORDINATOR, SECRETARY, demo_users
from demo.meetings import past_meetings, prepared_meeting, upcoming_meetings
from demo.secrecy import (
    all_confirmed,
    demo_children,
    meeting_assessment,
    pick_basis,
    preferred_bases,
)
from demo.story import (
    ADJUSTERS,
    AMENDMENTS,
    CLOSED_CASE_CHILD,
    FOLLOW_UPS,
    REVOKED_CONSENT_CHILD,
    STORY,
    Action,
    Beat,
    Note,
    Step,
    decision,
)
from meetings.agenda.contributors import add_contributed_items
from meetings.agenda.items import agenda_items
from meetings.models import Meeting
from minutes.actions.access import comment_recipient
from minutes.actions.agenda_seam import children_with_open_actions
from minutes.actions.services import ACTION_CATEGORY, StatusChange, create_action, update_action
from minutes.models import ActionUpdate, AgreedAction, AmendmentReason, Minutes, MinutesEntry
from minutes.workspace.approval import approve, submit_for_approval
from minutes.workspace.services import add_entry, amend_entry, minutes_of
from minutes.workspace.sharing import ShareChoice, agency_options, share_options
from secrecy.disclosure.consents import consents_of, revoke_consent
from secrecy.models import ConsentRevokeReason, Record
from secrecy.records.children import close_case


class DemoStoryError(RuntimeError):
    """The story asks for something the services refuse: a mistake in the demo data."""


def load_minutes_demo(session: Session) -> None:
    """Hold the past meetings and follow up their actions. Does nothing when the demo
    councils have minutes already."""
    councils = {c.code: c for c in session.scalars(select(Council).where(Council.code.in_(STORY)))}
    written = session.scalar(
        select(Minutes.id)
        .join(Meeting, Meeting.id == Minutes.meeting_id)
        .where(Meeting.council_id.in_([c.id for c in councils.values()]))
        .limit(1)
    )
    if written is not None:
        return
    demo = _Demo(session, demo_users(session), demo_children(session), today_local())
    for code, story in STORY.items():
        demo.hold_history(councils[code], story)
    demo.amend()
    plans.after_history(session, demo.users, demo.children, demo.today)
    demo.withdraw_consent_and_close_case()
    for council in councils.values():
        demo.bring_back_open_actions(council)


class _Demo:
    def __init__(
        self, session: Session, users: dict[str, User], children: dict[str, Child], today: dt.date
    ) -> None:
        self.session = session
        self.users = users
        self.children = children
        self.keys = {child.id: key for key, child in children.items()}
        self.today = today

    # --- Meetings -------------------------------------------------------------------------------

    def hold_history(self, council: Council, story: list[dict[str, Beat]]) -> None:
        meetings = past_meetings(self.session, council, self.today)
        agreed: list[tuple[AgreedAction, Action]] = []
        for index, (meeting, beats) in enumerate(zip(meetings, story, strict=True)):
            new = self.hold(council, meeting, index, beats)
            if any(not index <= s.after < len(story) for _, spec in new for s in spec.steps):
                raise DemoStoryError(f"{council.code} #{index}: a step outside the six months")
            agreed.extend(new)
            for action, spec in agreed:
                for step in spec.steps:
                    if step.after == index:
                        update = self.follow_up(action, step)
                        history.date_follow_up(
                            self.session, update, history.follow_up_time(meeting)
                        )

    def hold(
        self, council: Council, meeting: Meeting, index: int, beats: dict[str, Beat]
    ) -> list[tuple[AgreedAction, Action]]:
        """One meeting: its children with open actions come back, every child on the agenda
        gets its entries and actions, the chair and the adjuster approve."""
        add_contributed_items(self.session, meeting, [children_with_open_actions])
        on_agenda = [self.keys[item.child_id] for item in agenda_items(self.session, meeting)]
        missing = set(beats) - set(on_agenda)
        if missing:
            raise DemoStoryError(f"{council.code} #{index}: not on the agenda: {sorted(missing)}")
        agreed = []
        for position, key in enumerate(on_agenda):
            child = self.children[key]
            beat = beats.get(key) or (decision(FOLLOW_UPS[(index + position) % len(FOLLOW_UPS)]),)
            for part in beat:
                if isinstance(part, Note):
                    self.write(meeting, child, part)
                else:
                    agreed.append((self.agree(meeting, child, part), part))
        plans.at_meeting(self.session, self.users, self.children, council, meeting, index)
        minutes = minutes_of(self.session, meeting)
        if minutes is None:
            raise DemoStoryError(f"{council.code} #{index}: nothing was written")
        coordinator, adjuster = self.users[COORDINATOR], self.users[ADJUSTERS[council.code]]
        submit_for_approval(self.session, coordinator, meeting, adjuster, minutes.version)
        approve(self.session, coordinator, meeting)
        approve(self.session, adjuster, meeting)
        history.date_meeting(self.session, meeting, minutes)
        return agreed

    def bring_back_open_actions(self, council: Council) -> None:
        """The next meeting and the one whose agenda is being prepared list the children whose
        actions are still open (the meeting page would do it on its first view)."""
        ahead = upcoming_meetings(self.session, council, self.today)[:1]
        prepared = prepared_meeting(self.session, council, self.today)
        for meeting in dict.fromkeys([*ahead, *([prepared] if prepared else [])]):
            add_contributed_items(self.session, meeting, [children_with_open_actions])

    # --- Entries and actions --------------------------------------------------------------------

    def shares(self, author: User, meeting: Meeting, child: Child, note: Note) -> list[ShareChoice]:
        """The author's choices among the attending agencies: the first preferred basis the
        engine accepts for each; none where it accepts none."""
        choices = []
        for option in share_options(self.session, author, meeting, child, note.category):
            kind = option.agency.kind
            if note.share_with is not None and kind not in note.share_with:
                continue
            preferred = note.bases.get(kind) or preferred_bases(author.agency.kind, kind)
            chosen = pick_basis(option.applicable, preferred)
            if chosen is not None:
                choices.append(
                    ShareChoice(option.agency.id, chosen.basis.id, tuple(all_confirmed(chosen)))
                )
        return choices

    def write(self, meeting: Meeting, child: Child, note: Note) -> MinutesEntry:
        author = self.users[note.author]
        shares = self.shares(author, meeting, child, note)
        return add_entry(
            self.session,
            author,
            meeting,
            child,
            note.kind,
            note.category,
            note.text,
            shares,
            meeting_assessment([c.basis_id for c in shares]),
        )

    def basis_for(
        self, actor: User, meeting: Meeting, child: Child, recipient: Agency
    ) -> tuple[str, list[int]] | None:
        """The basis the actor would choose for an action text or comment to the recipient."""
        (option,) = agency_options(
            self.session, actor, meeting, child, ACTION_CATEGORY, [recipient]
        )
        chosen = pick_basis(option.applicable, preferred_bases(actor.agency.kind, recipient.kind))
        return None if chosen is None else (chosen.basis.id, all_confirmed(chosen))

    def agree(self, meeting: Meeting, child: Child, spec: Action) -> AgreedAction:
        """Due ``spec.due_in`` days after the meeting that agreed it: actions of earlier
        meetings that are still open are overdue, as in a living council."""
        creator, responsible = self.users[spec.creator], self.users[spec.responsible]
        agreed_on = min(meeting.starts_at.astimezone(LOCAL_ZONE).date(), self.today)
        agency = responsible.agency
        basis: tuple[str, Sequence[int]] = ("", ())
        if agency.id != creator.agency_id:
            found = self.basis_for(creator, meeting, child, agency)
            if found is None:
                raise DemoStoryError(f"no basis for an action of {creator.email} to {agency.name}")
            basis = found
        return create_action(
            self.session,
            creator,
            meeting,
            child,
            spec.text,
            agency,
            responsible,
            agreed_on + dt.timedelta(days=spec.due_in),
            *basis,
            assessment=meeting_assessment([basis[0]]),
            today=agreed_on,
        )

    def follow_up(self, action: AgreedAction, step: Step) -> ActionUpdate:
        """A status change; the comment goes to the action's owner (or the responsible
        agency) when the engine accepts a basis for it."""
        actor = self.users[step.actor]
        description = self.session.get_one(Record, action.description_record_id)
        recipient = comment_recipient(actor, action, description)
        found = (
            self.basis_for(actor, action.meeting, action.child, recipient)
            if recipient is not None
            else None
        )
        return update_action(
            self.session,
            actor,
            action,
            StatusChange(
                to_status=step.status,
                comment=step.comment,
                version=action.version,
                reason=step.reason,
                share_basis=found[0] if found else None,
                confirmed=found[1] if found else (),
                assessment=meeting_assessment([found[0]]) if found else None,
            ),
        )

    # --- After the six months -------------------------------------------------------------------

    def amend(self) -> None:
        """Correct approved entries with an amendment (Rättelse) that names its reason."""
        for code, index, key, author_email, text in AMENDMENTS:
            council = self.children[key].council
            if council.code != code:
                raise DemoStoryError(f"{key} is not in {code}")
            meeting = past_meetings(self.session, council, self.today)[index]
            author = self.users[author_email]
            entry = self.session.scalars(
                select(MinutesEntry)
                .join(Minutes, Minutes.id == MinutesEntry.minutes_id)
                .where(
                    Minutes.meeting_id == meeting.id,
                    MinutesEntry.child_id == self.children[key].id,
                    MinutesEntry.author_id == author.id,
                    MinutesEntry.amends_id.is_(None),
                )
                .order_by(MinutesEntry.id)
            ).first()
            if entry is None:
                raise DemoStoryError(f"no entry of {author_email} about {key} to amend")
            category = self.session.get_one(Record, entry.record_id).category
            note = Note(author_email, category, text)
            shares = self.shares(author, meeting, self.children[key], note)
            amend_entry(
                self.session,
                author,
                entry,
                text,
                AmendmentReason.FACTUAL_ERROR,
                shares,
                meeting_assessment([c.basis_id for c in shares]),
            )

    def withdraw_consent_and_close_case(self) -> None:
        secretary = self.users[SECRETARY]
        for consent in consents_of(self.session, self.children[REVOKED_CONSENT_CHILD]):
            revoke_consent(
                self.session, secretary, consent, ConsentRevokeReason.WITHDRAWN_BY_YOUNG_PERSON
            )
        close_case(self.session, secretary, self.children[CLOSED_CASE_CHILD], CloseReason.AGE_LIMIT)
