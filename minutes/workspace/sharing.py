"""Sharing what is written in the minutes with the agencies attending the meeting: the engine's
options for each attending agency (for the forms) and the writer's decisions, one disclosure per
chosen agency.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.errors import ServiceError
from coordination.models import Agency, Child, User
from meetings.agenda.attendance import agencies_attending
from meetings.models import Attendance, AttendanceStatus, Meeting
from secrecy.disclosure.assessments import seal_form_assessment
from secrecy.disclosure.services import decide_disclosure, disclosure_options
from secrecy.models import Consent, Record
from secrecy.policy.engine import Assessment


def present_user_ids(session: Session, meeting: Meeting) -> set[int]:
    return set(
        session.scalars(
            select(Attendance.user_id).where(
                Attendance.meeting_id == meeting.id,
                Attendance.status == AttendanceStatus.PRESENT,
            )
        )
    )


def attending_agencies(session: Session, meeting: Meeting) -> list[Agency]:
    """The agencies of the users marked present, in name order."""
    return agencies_attending(session, meeting.id, (AttendanceStatus.PRESENT,))


@dataclass(frozen=True)
class ShareChoice:
    """The writer's decision to share a new record with one attending agency."""

    agency_id: int
    basis_id: str
    confirmed: tuple[int, ...] = ()


@dataclass
class ShareOption:
    """What the engine says about one attending agency, for the form."""

    agency: Agency
    applicable: list[Assessment] = field(default_factory=list)
    refused: list[Assessment] = field(default_factory=list)
    not_in_council: bool = False

    @property
    def first_basis(self) -> Assessment | None:
        return self.applicable[0] if self.applicable else None


def probe_record(actor: User, child: Child, category: str) -> Record:
    """A record of ``category`` about the child as the actor's agency would write it, for
    asking the engine; never added to the session: it only carries the facts the engine asks
    about."""
    return Record(
        child=child,
        child_id=child.id,
        owner_agency=actor.agency,
        owner_agency_id=actor.agency_id,
        category=category,
    )


def share_option(
    session: Session,
    actor: User,
    probe: Record,
    agency: Agency,
    *,
    consents: Sequence[Consent] | None = None,
) -> ShareOption:
    """The bases the engine accepts for disclosing ``probe`` to the agency (leaving out those
    that need a written statement), and the refused ones with their reasons."""
    assessments = disclosure_options(session, actor, probe, agency, consents=consents)
    return ShareOption(
        agency,
        applicable=[a for a in assessments if a.applicable and not a.basis.requires_statement],
        refused=[a for a in assessments if not a.applicable],
    )


def agency_options(
    session: Session,
    actor: User,
    meeting: Meeting,
    child: Child,
    category: str,
    agencies: Sequence[Agency],
    *,
    consents: Sequence[Consent] | None = None,
) -> list[ShareOption]:
    """For each agency other than the writer's, the bases the engine accepts for a record of
    this category about this child, and the refused ones with their reasons. ``consents``:
    the child's consents, when the caller loaded them for many children at once."""
    probe = probe_record(actor, child, category)
    council_agencies = {a.id for a in meeting.council.agencies if a.active}
    options = []
    for agency in agencies:
        if agency.id == actor.agency_id:
            continue
        if agency.id not in council_agencies:
            options.append(ShareOption(agency, not_in_council=True))
            continue
        options.append(share_option(session, actor, probe, agency, consents=consents))
    return options


def share_options(
    session: Session,
    actor: User,
    meeting: Meeting,
    child: Child,
    category: str,
    *,
    attending: Sequence[Agency] | None = None,
    consents: Sequence[Consent] | None = None,
) -> list[ShareOption]:
    """The choices for sharing a new entry with the attending agencies (``attending`` and
    ``consents`` when the caller loaded them once for the whole page)."""
    if attending is None:
        attending = attending_agencies(session, meeting)
    return agency_options(session, actor, meeting, child, category, attending, consents=consents)


def share_record(
    session: Session,
    actor: User,
    meeting: Meeting,
    record: Record,
    shares: Sequence[ShareChoice],
    assessment: str | None = None,
) -> None:
    """Disclose a new record to the attending agencies the writer chose, under one written
    assessment for the whole choice (sealed once, shown to each recipient with the record;
    required as soon as anything is shared)."""
    chosen = chosen_agencies(
        actor,
        shares,
        attending_agencies(session, meeting),
        _l("Uppgiften kan bara delas med myndigheter som är närvarande på mötet."),
    )
    if not chosen:
        return
    written = seal_form_assessment(
        session, actor, record.child, assessment, [c.basis_id for _, c in chosen]
    )
    disclose_to_chosen(session, actor, record, chosen, written)


def chosen_agencies(
    actor: User, shares: Sequence[ShareChoice], allowed: Iterable[Agency], refusal: object
) -> list[tuple[Agency, ShareChoice]]:
    """Each choice with its agency, one of ``allowed`` (else ``refusal``, next to the share
    block); the writer's own agency is left out, as it holds the record already."""
    agencies = {a.id: a for a in allowed}
    chosen: list[tuple[Agency, ShareChoice]] = []
    for choice in shares:
        agency = agencies.get(choice.agency_id)
        if agency is None:
            raise ServiceError(refusal, field="shares")
        if agency.id != actor.agency_id:
            chosen.append((agency, choice))
    return chosen


def disclose_to_chosen(
    session: Session,
    actor: User,
    record: Record,
    chosen: Sequence[tuple[Agency, ShareChoice]],
    written: Record,
) -> None:
    """One disclosure decision per chosen agency, under the one written assessment; a refusal
    names the agency."""
    for agency, choice in chosen:
        try:
            decide_disclosure(
                session,
                actor,
                record,
                agency,
                choice.basis_id,
                choice.confirmed,
                assessment=written,
            )
        except ServiceError as exc:
            raise ServiceError(
                _l("%(agency)s: %(reason)s", agency=agency.name, reason=str(exc.message)),
                field="shares",
            ) from exc
