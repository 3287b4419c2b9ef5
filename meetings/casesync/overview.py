"""Reading the sync page: what each agency sees of a meeting's sync, revealed in one call.
The police never tell a withheld answer from no answer: an answer without a live disclosure
to them is not even opened on their behalf."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from coordination.errors import PermissionDenied
from coordination.models import AgencyKind, Child, User
from meetings.casesync.access import is_bob_meeting, sync_role
from meetings.casesync.answers import ANSWERABLE
from meetings.models import CaseSyncEntry, CaseSyncState, Meeting
from secrecy.duplicates import services as duplicates
from secrecy.models import Disclosure, Record
from secrecy.policy.categories import IDENTITY
from secrecy.records.children import case_to_name
from secrecy.records.reveal import RevealResult, reveal_records


@dataclass(frozen=True)
class EntryView:
    entry: CaseSyncEntry
    police_record: RevealResult | None
    # Social services' view of a proposal: the identity the police disclosed.
    identity: RevealResult | None = None
    # The police see an answer only when it is disclosed to them and revealed; social services
    # see their own answer.
    answer: RevealResult | None = None
    answer_disclosures: tuple[Disclosure, ...] = ()
    police_disclosures: tuple[Disclosure, ...] = ()
    # Social services' view of a proposal held as a duplicate: the case of the number, when
    # their agency may be told of it (``case_to_name``); None otherwise, as for any proposal.
    known_as: Child | None = None

    @property
    def answered(self) -> bool:
        return self.answer is not None and not self.answer.withheld


@dataclass(frozen=True)
class SyncOverview:
    role: AgencyKind
    entries: list[EntryView]

    def with_state(self, *states: CaseSyncState) -> list[EntryView]:
        return [e for e in self.entries if e.entry.state in states]

    @property
    def matched(self) -> list[EntryView]:
        return self.with_state(CaseSyncState.MATCHED)

    @property
    def proposed(self) -> list[EntryView]:
        return self.with_state(CaseSyncState.PROPOSED, CaseSyncState.ACCEPTED)

    @property
    def declined(self) -> list[EntryView]:
        return self.with_state(CaseSyncState.DECLINED)

    @property
    def answered(self) -> list[EntryView]:
        if self.role is AgencyKind.POLICE:
            return [e for e in self.entries if e.answered]
        return [e for e in self.entries if e.entry.answer_record_id is not None]

    @property
    def outstanding(self) -> list[EntryView]:
        """Police: every live submission without an answer disclosed to them (a withheld
        answer and no answer look the same). Social services: what they have yet to answer."""
        if self.role is AgencyKind.POLICE:
            return [
                e
                for e in self.entries
                if not e.answered and e.entry.state is not CaseSyncState.DECLINED
            ]
        return [
            e
            for e in self.entries
            if e.entry.answer_record_id is None and e.entry.state in ANSWERABLE
        ]


def sync_overview(session: Session, viewer: User, meeting: Meeting) -> SyncOverview:
    """The meeting's sync as this viewer may see it, through one ``reveal_records`` call.

    Police: their agency's submissions, their own records, and the answers disclosed to their
    agency. Social services: every submission, the police records and identities disclosed to
    them, and their own answers with where each went.
    """
    role = sync_role(viewer, meeting)
    if role is None or not is_bob_meeting(meeting):
        raise PermissionDenied()
    query = (
        select(CaseSyncEntry)
        .where(CaseSyncEntry.meeting_id == meeting.id)
        .options(selectinload(CaseSyncEntry.child))
        .order_by(CaseSyncEntry.submitted_at, CaseSyncEntry.id)
    )
    if role is AgencyKind.POLICE:
        query = query.where(CaseSyncEntry.submitted_by_agency_id == viewer.agency_id)
    entries = list(session.scalars(query).all())
    police_ids = [e.police_record_id for e in entries]
    answer_ids = [e.answer_record_id for e in entries if e.answer_record_id is not None]
    identities: dict[int, int] = {}
    if role is AgencyKind.POLICE:
        # Only answers with a live disclosure to this agency are opened at all.
        answer_ids = _disclosed_to(session, answer_ids, viewer.agency_id)
    else:
        identities = _proposal_identities(session, entries)
    wanted = [*police_ids, *answer_ids, *identities.values()]
    records = (
        {
            r.id: r
            for r in session.scalars(
                select(Record).where(Record.id.in_(wanted)).options(selectinload(Record.child))
            )
        }
        if wanted
        else {}
    )
    ordered = [records[i] for i in dict.fromkeys(wanted) if i in records]
    results = {
        r.record.id: r for r in reveal_records(session, viewer, ordered, purpose="case_sync")
    }
    # Where the viewer's own records went: the police's to social services, social services'
    # answers to the police. Neither sees where the other agency's records went.
    live = _live_disclosures(session, police_ids if role is AgencyKind.POLICE else answer_ids)
    known = _known_cases(session, viewer, entries) if role is AgencyKind.SOCIAL_SERVICES else {}
    views = []
    for entry in entries:
        answer_id = entry.answer_record_id if entry.answer_record_id in answer_ids else None
        identity_id = identities.get(entry.id)
        views.append(
            EntryView(
                entry=entry,
                police_record=results.get(entry.police_record_id),
                identity=results.get(identity_id) if identity_id else None,
                answer=results.get(answer_id) if answer_id else None,
                answer_disclosures=tuple(live.get(answer_id, ())) if answer_id else (),
                police_disclosures=tuple(live.get(entry.police_record_id, ())),
                known_as=known.get(entry.id),
            )
        )
    return SyncOverview(role=role, entries=views)


def _known_cases(
    session: Session, viewer: User, entries: Sequence[CaseSyncEntry]
) -> dict[int, Child]:
    """Entry id -> the case its held proposal's number belongs to, for the proposals held as
    duplicates (``submit_case``) whose case the viewer may be told of. Held proposals are
    rare; the others cost no query."""
    found: dict[int, Child] = {}
    for entry in entries:
        child = entry.child
        if entry.state is not CaseSyncState.PROPOSED or not duplicates.is_held(child):
            continue
        holder = session.get(Child, child.duplicate_of_id)
        told = case_to_name(session, viewer, holder, excluding=child) if holder else None
        if told is not None:
            found[entry.id] = told
    return found


def _disclosed_to(session: Session, record_ids: Sequence[int], agency_id: int) -> list[int]:
    if not record_ids:
        return []
    return list(
        session.scalars(
            select(Disclosure.record_id).where(
                Disclosure.record_id.in_(record_ids),
                Disclosure.recipient_agency_id == agency_id,
                Disclosure.revoked_at.is_(None),
                Disclosure.lapsed_at.is_(None),
            )
        ).all()
    )


def _proposal_identities(session: Session, entries: Sequence[CaseSyncEntry]) -> dict[int, int]:
    """Entry id -> the submitting police agency's identity record of its proposed child."""
    proposals = [e for e in entries if e.state is CaseSyncState.PROPOSED]
    if not proposals:
        return {}
    rows = session.execute(
        select(Record.id, Record.child_id, Record.owner_agency_id)
        .where(
            Record.child_id.in_({e.child_id for e in proposals}),
            Record.category == IDENTITY,
            Record.superseded_at.is_(None),
        )
        .order_by(Record.id)
    ).all()
    newest = {(row.child_id, row.owner_agency_id): row.id for row in rows}
    return {
        e.id: newest[(e.child_id, e.submitted_by_agency_id)]
        for e in proposals
        if (e.child_id, e.submitted_by_agency_id) in newest
    }


def _live_disclosures(session: Session, record_ids: Sequence[int]) -> dict[int, list[Disclosure]]:
    if not record_ids:
        return {}
    rows = session.scalars(
        select(Disclosure)
        .where(
            Disclosure.record_id.in_(record_ids),
            Disclosure.revoked_at.is_(None),
            Disclosure.lapsed_at.is_(None),
        )
        .options(selectinload(Disclosure.recipient_agency))
        .order_by(Disclosure.id)
    ).all()
    result: dict[int, list[Disclosure]] = {}
    for row in rows:
        result.setdefault(row.record_id, []).append(row)
    return result
