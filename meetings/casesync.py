"""The Bob case sync: before each Bob meeting the police submit the young people they are
concerned about; social services see what was submitted, accept or decline enrolment
proposals, and answer per young person.

Secrecy, step by step:

- The personnummer is validated and turned into a blind index at once; matching against the
  council's caseload compares blind indexes only. The number itself is stored only inside
  sealed identity records, never in a column, a log event or a URL.
- The police information is a sealed record of the police, disclosed to social services under
  the first basis the policy engine accepts among ``SUBMISSION_BASES`` (the concern-report duty
  for a child under 18, else the general clause, else a consent on file), with the submitter's
  confirmations of that basis. No basis, no submission: nothing is written.
- Social services' answer is a sealed record of theirs. Even "known to social services" is
  their secret, so the answer is disclosed to the police under a basis (10 kap. 18 a § OSL or
  a consent), or withheld. The police's view never tells a withheld answer from no answer:
  it reveals only answers that carry a live disclosure to the police, so a withheld answer is
  not even opened (and leaves no trace in the police's log) on their behalf.

Services take ``(session, actor, ...)``, validate, change, flush and append their audit events
(ids and codes only) in the caller's transaction; they never commit.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from coordination.audit import record_event
from coordination.db import today_local, utcnow
from coordination.models import (
    Agency,
    AgencyKind,
    Child,
    ChildStatus,
    CloseReason,
    CouncilKind,
    User,
)
from coordination.policy import can_view_council
from coordination.services import ConflictError, PermissionDenied, ServiceError
from meetings.models import (
    AgendaItem,
    AgendaSource,
    CaseSyncEntry,
    CaseSyncState,
    Meeting,
    MeetingStatus,
)
from meetings.tags import MeetingTag
from secrecy import sealing
from secrecy.categories import IDENTITY
from secrecy.disclosure import decide_disclosure, disclosure_options
from secrecy.identity import IdentityNumber, parse_identity_number
from secrecy.models import Disclosure, Record
from secrecy.policy import Assessment
from secrecy.reasons import explain
from secrecy.reveal import Revealed, RevealResult, reveal_one, reveal_records
from secrecy.rules import LegalBasis, legal_bases
from secrecy.services import (
    MAX_TEXT,
    add_sealed_record,
    create_record,
    next_pseudonym,
    require_child_access,
)
from secrecy.tags import SecrecyTag

POLICE_CATEGORY = "crime_police"
ANSWER_CATEGORY = "social_measures"
# In this order: the first one the engine accepts carries the police information.
SUBMISSION_BASES = ("concern-report", "general-clause", "consent")
# What social services may answer under; anything else means the answer is withheld.
ANSWER_BASES = ("sol-police-u21", "consent")
# The council's caseload: a number matching one of these attaches to that child.
CASELOAD_STATUSES = frozenset({ChildStatus.ACTIVE, ChildStatus.CLOSED})
# The entry's blind index is replaced by this (and the entry id) once a proposal is declined
# and shredded: the column cannot be empty, and a kept index would still link the number.
FORGOTTEN_INDEX = "forgotten:"


class DeclineReason(enum.StrEnum):
    """Why social services declined an enrolment proposal: codes, never free text."""

    NOT_IN_AREA = "not_in_area"
    ALREADY_KNOWN_ELSEWHERE = "already_known_elsewhere"
    INSUFFICIENT_GROUNDS = "insufficient_grounds"
    OTHER = "other"


# --- Access -------------------------------------------------------------------------------------


def is_bob_meeting(meeting: Meeting) -> bool:
    return meeting.council.kind is CouncilKind.BOB


def sync_role(user: User, meeting: Meeting) -> AgencyKind | None:
    """POLICE or SOCIAL_SERVICES for the members of those agencies in the meeting's council
    (the agency must still take part in it); None for everyone else."""
    if not can_view_council(user, meeting.council):
        return None
    kind = user.agency.kind
    if kind not in (AgencyKind.POLICE, AgencyKind.SOCIAL_SERVICES):
        return None
    if user.agency_id not in {a.id for a in meeting.council.agencies}:
        return None
    return kind


def _require_bob(meeting: Meeting) -> None:
    if not is_bob_meeting(meeting):
        raise ServiceError(_l("Ärendeavstämning finns bara inför möten i Bob-råd."))


def _require_role(actor: User, meeting: Meeting, kind: AgencyKind) -> None:
    _require_bob(meeting)
    if sync_role(actor, meeting) is not kind:
        raise PermissionDenied()


def _check_version(entry: CaseSyncEntry, expected_version: int | None) -> None:
    if expected_version is not None and entry.version != expected_version:
        raise ConflictError()


def _flush_entries(session: Session) -> None:
    """A concurrent change of the same entry (version column) is a conflict, not a 500."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConflictError() from exc


def _lock_meeting(session: Session, meeting: Meeting) -> None:
    """Submissions and agenda changes of one meeting queue on its row (PostgreSQL)."""
    session.execute(select(Meeting.id).where(Meeting.id == meeting.id).with_for_update())


def _social_services(meeting: Meeting) -> list[Agency]:
    return [
        a for a in meeting.council.agencies if a.kind is AgencyKind.SOCIAL_SERVICES and a.active
    ]


def _validate_text(text: str, field_name: str = "text") -> str:
    value = text.strip()
    if not value:
        raise ServiceError(_l("Skriv uppgiften."), field=field_name)
    if len(value) > MAX_TEXT:
        raise ServiceError(_l("Texten är för lång (högst 20 000 tecken)."), field=field_name)
    return value


# --- Records and disclosure ---------------------------------------------------------------------


def _add_text_record(
    session: Session,
    actor: User,
    child: Child,
    category: str,
    text: str,
    *,
    existence_secret: bool = False,
) -> Record:
    """``create_record`` for an active case. It refuses any other case, but the sync attaches
    to closed cases (the council decides at the meeting whether to reopen) and to proposals;
    those get the same sealed record and the same audit event, written here. An answer's very
    existence is secret (``existence_secret``): it is sealed here for every case."""
    if child.status is ChildStatus.ACTIVE and not existence_secret:
        return create_record(session, actor, child, category, text)
    require_child_access(actor, child)
    record = add_sealed_record(
        session, actor, child, category, {"text": text}, existence_secret=existence_secret
    )
    record_event(
        session,
        actor,
        SecrecyTag.RECORD_CREATE,
        object_type="record",
        object_ids=[record.id],
        details={"child_id": child.id, "category": category},
    )
    return record


def _explain_refusals(assessments: Sequence[Assessment], basis_ids: Sequence[str]) -> str:
    by_id = {a.basis.id: a for a in assessments}
    parts = [
        f"{by_id[b].basis.title}: {' '.join(explain(r) for r in by_id[b].reasons)}"
        for b in basis_ids
        if b in by_id
    ]
    return " ".join(parts) if parts else str(_l("Ingen av grunderna finns i regelverket."))


def choose_basis(
    session: Session,
    actor: User,
    record: Record,
    recipient: Agency,
    candidates: Sequence[str],
) -> LegalBasis:
    """The first of ``candidates`` the engine accepts for this record and recipient today;
    refused with the engine's reasons when none does."""
    assessments = disclosure_options(session, actor, record, recipient)
    by_id = {a.basis.id: a for a in assessments}
    for basis_id in candidates:
        assessment = by_id.get(basis_id)
        if assessment is not None and assessment.applicable:
            return assessment.basis
    raise ServiceError(
        _l(
            "Ingen rättslig grund medger att uppgiften lämnas till %(agency)s. %(reasons)s",
            agency=recipient.name,
            reasons=_explain_refusals(assessments, candidates),
        )
    )


def _require_confirmed(basis: LegalBasis, confirmed: Sequence[int]) -> list[int]:
    indexes = sorted(set(confirmed))
    if indexes != list(range(len(basis.confirmations))):
        raise ServiceError(
            _l(
                "Uppgiften lämnas med stöd av %(title)s (%(reference)s). Bekräfta "
                "förutsättningarna för den grunden.",
                title=basis.title,
                reference=basis.reference,
            ),
            field="confirmations",
        )
    return indexes


# --- Submission (police) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    personnummer: str
    text: str
    # Basis id -> the indexes of its statements the submitter ticked.
    confirmations: Mapping[str, Sequence[int]] = field(default_factory=dict)


def submission_bases() -> list[LegalBasis]:
    """The bases a submission may go under, in the order they are tried (for the form)."""
    rules = legal_bases()
    return [rules[b] for b in SUBMISSION_BASES if b in rules]


def answer_bases() -> list[LegalBasis]:
    rules = legal_bases()
    return [rules[b] for b in ANSWER_BASES if b in rules]


def submit_case(
    session: Session, actor: User, meeting: Meeting, submission: Submission
) -> CaseSyncEntry:
    """A police member submits a young person before a Bob meeting.

    A number on the council's caseload (active or closed case) attaches the police record to
    that child and puts the child on the agenda; an unknown number becomes an enrolment
    proposal (a child in status PROPOSED, enrolled by the police, whose identity record is the
    police's). Either way the police records go to social services under one basis, and
    everything is undone if any step is refused.
    """
    _require_role(actor, meeting, AgencyKind.POLICE)
    council = meeting.council
    if not council.active:
        raise ServiceError(_l("Forumet är inaktiverat."))
    if meeting.status is not MeetingStatus.PLANNED:
        raise ServiceError(_l("Det går bara att anmäla inför ett planerat möte."))
    number = parse_identity_number(submission.personnummer)
    text = _validate_text(submission.text)
    recipients = _social_services(meeting)
    if not recipients:
        raise ServiceError(_l("Forumet har ingen socialtjänst att lämna uppgiften till."))
    index = sealing.personnummer_index(session, number.normalised)
    _lock_meeting(session, meeting)
    if _entry_with_index(session, meeting, index) is not None:
        raise ServiceError(
            _l("Den unge är redan anmäld inför det här mötet."), field="personnummer"
        )
    try:
        with session.begin_nested():
            entry = _submit(session, actor, meeting, number, index, text, submission, recipients)
    except IntegrityError as exc:
        # Someone submitted or enrolled the same number at the same moment.
        raise ServiceError(
            _l("Samma person anmäldes samtidigt av någon annan. Ladda om sidan och försök igen."),
            field="personnummer",
        ) from exc
    return entry


def _entry_with_index(session: Session, meeting: Meeting, index: str) -> int | None:
    return session.scalar(
        select(CaseSyncEntry.id).where(
            CaseSyncEntry.meeting_id == meeting.id, CaseSyncEntry.identity_index == index
        )
    )


def _submit(
    session: Session,
    actor: User,
    meeting: Meeting,
    number: IdentityNumber,
    index: str,
    text: str,
    submission: Submission,
    recipients: Sequence[Agency],
) -> CaseSyncEntry:
    council = meeting.council
    known = session.scalars(
        select(Child).where(Child.council_id == council.id, Child.identity_index == index)
    ).first()
    identity: Record | None = None
    joined = False
    if known is not None and known.status in CASELOAD_STATUSES:
        child, state = known, CaseSyncState.MATCHED
    elif known is not None and known.status is ChildStatus.PROPOSED:
        # Proposed before and not yet answered: this submission joins that proposal.
        child, state, joined = known, CaseSyncState.PROPOSED, True
    elif known is not None:
        raise ServiceError(_l("Den unges ärende kan inte ta emot anmälningar."))
    else:
        child, identity = _propose_child(session, actor, meeting, number, index)
        state = CaseSyncState.PROPOSED
    record = _add_text_record(session, actor, child, POLICE_CATEGORY, text)
    disclosure_ids: list[int] = []
    bases: list[str] = []
    for recipient in recipients:
        basis = choose_basis(session, actor, record, recipient, SUBMISSION_BASES)
        confirmed = _require_confirmed(basis, submission.confirmations.get(basis.id, ()))
        shared = [record] if identity is None else [record, identity]
        for sealed in shared:
            disclosure = decide_disclosure(session, actor, sealed, recipient, basis.id, confirmed)
            disclosure_ids.append(disclosure.id)
        bases.append(basis.id)
    entry = CaseSyncEntry(
        meeting_id=meeting.id,
        submitted_by_id=actor.id,
        submitted_by_agency_id=actor.agency_id,
        identity_index=index,
        child_id=child.id,
        police_record_id=record.id,
        state=state,
    )
    session.add(entry)
    session.flush()
    record_event(
        session,
        actor,
        MeetingTag.CASE_SYNC_SUBMIT,
        object_type="case_sync_entry",
        object_ids=[entry.id],
        details={
            "meeting_id": meeting.id,
            "child_id": child.id,
            "police_record_id": record.id,
            "bases": bases,
            "disclosure_ids": disclosure_ids,
        },
    )
    if state is CaseSyncState.MATCHED:
        item = put_on_agenda(session, meeting, child)
        record_event(
            session,
            actor,
            MeetingTag.CASE_SYNC_MATCH,
            object_type="case_sync_entry",
            object_ids=[entry.id],
            details={
                "meeting_id": meeting.id,
                "child_id": child.id,
                "case_status": str(child.status),
                "agenda_item_id": item.id if item else None,
            },
        )
    else:
        record_event(
            session,
            actor,
            MeetingTag.CASE_SYNC_PROPOSE,
            object_type="case_sync_entry",
            object_ids=[entry.id],
            details={
                "meeting_id": meeting.id,
                "child_id": child.id,
                "identity_record_id": identity.id if identity else None,
                "joined_earlier_proposal": joined,
            },
        )
    return entry


def _propose_child(
    session: Session, actor: User, meeting: Meeting, number: IdentityNumber, index: str
) -> tuple[Child, Record]:
    """A child in status PROPOSED, enrolled by the police, known by a pseudonym; the number
    (no names: the police need not know them) is the police's sealed identity record."""
    council = meeting.council
    today = today_local()
    child = Child(
        council=council,
        pseudonym=next_pseudonym(session, council, today.year),
        status=ChildStatus.PROPOSED,
        enrolled_on=today,
        enrolling_agency_id=actor.agency_id,
        identity_index=index,
    )
    session.add(child)
    session.flush()
    sealing.seal_birth_date(session, child, number.birth_date)
    identity = add_sealed_record(
        session,
        actor,
        child,
        IDENTITY,
        {
            "personnummer": number.normalised,
            "coordination_number": number.coordination_number,
            "birth_date": number.birth_date.isoformat(),
        },
    )
    return child, identity


def put_on_agenda(session: Session, meeting: Meeting, child: Child) -> AgendaItem | None:
    """Last on the agenda of a planned meeting (source CASE_SYNC, reason "crime and police
    information", no brief), unless the child is already on it."""
    if meeting.status is not MeetingStatus.PLANNED:
        return None
    _lock_meeting(session, meeting)
    on_agenda = session.scalar(
        select(AgendaItem.id).where(
            AgendaItem.meeting_id == meeting.id, AgendaItem.child_id == child.id
        )
    )
    if on_agenda is not None:
        return None
    last = session.scalar(
        select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting.id)
    )
    item = AgendaItem(
        meeting_id=meeting.id,
        child_id=child.id,
        position=(last or 0) + 1,
        reason_category=POLICE_CATEGORY,
        source=AgendaSource.CASE_SYNC,
    )
    session.add(item)
    session.flush()
    session.expire(meeting, ["agenda_items"])
    return item


# --- Proposals (social services) ----------------------------------------------------------------


def _proposal_entries(session: Session, child: Child) -> list[CaseSyncEntry]:
    return list(
        session.scalars(
            select(CaseSyncEntry)
            .where(
                CaseSyncEntry.child_id == child.id,
                CaseSyncEntry.state == CaseSyncState.PROPOSED,
            )
            .order_by(CaseSyncEntry.id)
        ).all()
    )


def _require_open_proposal(entry: CaseSyncEntry) -> None:
    if entry.state is not CaseSyncState.PROPOSED or entry.child.status is not ChildStatus.PROPOSED:
        raise ServiceError(_l("Förslaget är redan besvarat."))


def _police_identity(session: Session, entry: CaseSyncEntry) -> Record | None:
    return session.scalars(
        select(Record)
        .where(
            Record.child_id == entry.child_id,
            Record.category == IDENTITY,
            Record.owner_agency_id == entry.submitted_by_agency_id,
            Record.superseded_at.is_(None),
        )
        .order_by(Record.id.desc())
    ).first()


def accept_proposal(
    session: Session, actor: User, entry: CaseSyncEntry, expected_version: int | None = None
) -> Child:
    """Social services take the young person onto the council's caseload.

    The child becomes ACTIVE and social services become the enrolling agency (they answer for
    the case from now on: they close and reopen it). What the police disclosed of the identity
    became social services' document when it was handed over, so it is kept as their own
    identity record (names empty; they add them by correcting it) and does not vanish when
    the concern-report basis ends at 18. Every open proposal of the child is accepted, and the
    child goes on the meeting's agenda while the meeting is planned.
    """
    meeting = entry.meeting
    _require_role(actor, meeting, AgencyKind.SOCIAL_SERVICES)
    _check_version(entry, expected_version)
    _require_open_proposal(entry)
    child = entry.child
    own_identity: Record | None = None
    police_identity = _police_identity(session, entry)
    if police_identity is not None:
        seen = reveal_one(session, actor, police_identity, purpose="case_sync_accept")
        if isinstance(seen, Revealed):
            own_identity = add_sealed_record(
                session,
                actor,
                child,
                IDENTITY,
                {
                    "given_names": "",
                    "family_name": "",
                    "personnummer": seen.content.get("personnummer", ""),
                    "coordination_number": bool(seen.content.get("coordination_number")),
                    "birth_date": seen.content.get("birth_date", ""),
                    "guardians": [],
                    "address": "",
                },
            )
    entries = _proposal_entries(session, child)
    child.status = ChildStatus.ACTIVE
    child.enrolling_agency_id = actor.agency_id
    child.enrolled_on = today_local()
    for accepted in entries:
        accepted.state = CaseSyncState.ACCEPTED
    _flush_entries(session)
    item = put_on_agenda(session, meeting, child)
    record_event(
        session,
        actor,
        MeetingTag.CASE_SYNC_ACCEPT,
        object_type="case_sync_entry",
        object_ids=[e.id for e in entries],
        details={
            "meeting_id": meeting.id,
            "child_id": child.id,
            "identity_record_id": own_identity.id if own_identity else None,
            "agenda_item_id": item.id if item else None,
        },
    )
    return child


def decline_proposal(
    session: Session,
    actor: User,
    entry: CaseSyncEntry,
    reason: DeclineReason | str,
    expected_version: int | None = None,
) -> int:
    """Social services decline: every open proposal of the child is declined with the reason
    code and the proposal's records are crypto-shredded at once. Returns the number of records
    shredded.

    ``shred_child`` shreds closed cases only, so the proposal is closed first (reason
    "other") and shredded in the same transaction; the child ends SHREDDED, the status the
    secrecy package treats as final (it refuses to reopen it). The entries keep the decision;
    their blind index is forgotten as well."""
    meeting = entry.meeting
    _require_role(actor, meeting, AgencyKind.SOCIAL_SERVICES)
    try:
        code = DeclineReason(reason)
    except ValueError:
        raise ServiceError(_l("Välj ett skäl."), field="reason") from None
    _check_version(entry, expected_version)
    _require_open_proposal(entry)
    child = entry.child
    entries = _proposal_entries(session, child)
    for declined in entries:
        declined.state = CaseSyncState.DECLINED
        declined.decline_reason = code.value
        declined.identity_index = f"{FORGOTTEN_INDEX}{declined.id}"
    child.status = ChildStatus.CLOSED
    child.closed_on = today_local()
    child.close_reason = CloseReason.OTHER
    _flush_entries(session)
    shredded = sealing.shred_child(session, child)
    record_event(
        session,
        actor,
        MeetingTag.CASE_SYNC_DECLINE,
        object_type="case_sync_entry",
        object_ids=[e.id for e in entries],
        details={
            "meeting_id": meeting.id,
            "child_id": child.id,
            "reason": code.value,
            "shredded_records": shredded,
        },
    )
    return shredded


# --- Answers (social services) ------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    text: str
    basis_id: str | None  # None: recorded but not disclosed to the police
    confirmations: Sequence[int] = ()


ANSWERABLE = frozenset({CaseSyncState.MATCHED, CaseSyncState.ACCEPTED})


def answer_entry(
    session: Session,
    actor: User,
    entry: CaseSyncEntry,
    answer: Answer,
    expected_version: int | None = None,
) -> Record:
    """Social services' answer: a record of theirs (social services measures) about the child,
    disclosed to the submitting police agency under the chosen basis, or withheld. A refused
    disclosure stores nothing."""
    meeting = entry.meeting
    _require_role(actor, meeting, AgencyKind.SOCIAL_SERVICES)
    _check_version(entry, expected_version)
    if entry.state not in ANSWERABLE:
        raise ServiceError(_l("Ta först ställning till förslaget om inskrivning."))
    if entry.answer_record_id is not None:
        raise ServiceError(_l("Anmälan är redan besvarad."))
    child = entry.child
    if child.status not in CASELOAD_STATUSES:
        raise ServiceError(_l("Den unges ärende kan inte ta emot uppgifter."))
    text = _validate_text(answer.text)
    if answer.basis_id is not None and answer.basis_id not in ANSWER_BASES:
        raise ServiceError(_l("Välj om och hur svaret lämnas ut."), field="basis")
    police = session.get(Agency, entry.submitted_by_agency_id)
    if police is None:
        raise ServiceError(_l("Den anmälande myndigheten finns inte."))
    disclosure: Disclosure | None = None
    with session.begin_nested():
        record = _add_text_record(
            session, actor, child, ANSWER_CATEGORY, text, existence_secret=True
        )
        if answer.basis_id is not None:
            disclosure = decide_disclosure(
                session, actor, record, police, answer.basis_id, answer.confirmations
            )
        entry.answer_record_id = record.id
        entry.answered_at = utcnow()
        _flush_entries(session)
    record_event(
        session,
        actor,
        MeetingTag.CASE_SYNC_ANSWER,
        object_type="case_sync_entry",
        object_ids=[entry.id],
        details={
            "meeting_id": meeting.id,
            "child_id": child.id,
            "answer_record_id": record.id,
            "disclosed": disclosure is not None,
            "basis": answer.basis_id,
            "disclosure_id": disclosure.id if disclosure else None,
        },
    )
    return record


# --- Reading the sync page ----------------------------------------------------------------------


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
            )
        )
    return SyncOverview(role=role, entries=views)


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
