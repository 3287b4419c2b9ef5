"""The one door: record content is decrypted here and nowhere else.

``reveal_records`` decides per record with the policy, and opens only what the policy allows
*and* the viewer's agency holds a wrapped key for: policy and keys must agree. Each call appends
one audit event naming the revealed record ids (never content).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from coordination.accounts.providers.assurance import session_assurance
from coordination.audit.log import record_event
from coordination.db import today_local
from coordination.models import Agency, CouncilMembership, User
from coordination.ops.metrics import count_reveal
from coordination.policy import Permission, has_permission
from secrecy.models import Record
from secrecy.policy.categories import ASSESSMENT
from secrecy.policy.engine import (
    Reason,
    ViewerFacts,
    WithheldReason,
    visibility,
)
from secrecy.policy.facts import PolicyFacts
from secrecy.policy.versions import basis_as_decided
from secrecy.records import crypto
from secrecy.records.results import (
    DisclosedVia,
    Revealed,
    RevealResult,
    Via,
    Withheld,
)
from secrecy.records.reveal.facts import (
    KeyProblem,
    SealedLevel,
    assessment_levels,
    check_owner_keys,
    child_birth_date,
)
from secrecy.records.reveal.rows import (
    _children_of,
    _consents_of,
    _live_disclosures_with_assessments,
    _record_keys,
    _SealedAssessment,
    live_disclosures,
)
from secrecy.tags import SecrecyTag

logger = logging.getLogger(__name__)

__all__ = [
    "KeyProblem",
    "SealedLevel",
    "assessment_levels",
    "check_owner_keys",
    "child_birth_date",
]


def viewer_facts(session: Session, viewer: User) -> ViewerFacts:
    """The viewer's agency and councils: from the memberships loaded with the user where the
    request loaded them (the signed-in user's statement does) and no membership is being
    added or removed in this session, else one query."""
    changing = any(isinstance(o, CouncilMembership) for o in (*session.new, *session.deleted))
    if "memberships" not in inspect(viewer).unloaded and not changing:
        council_ids: Sequence[int] = [m.council_id for m in viewer.memberships]
    else:
        council_ids = session.scalars(
            select(CouncilMembership.council_id).where(CouncilMembership.user_id == viewer.id)
        ).all()
    return ViewerFacts(agency_id=viewer.agency_id, council_ids=frozenset(council_ids))


def reveal_records(
    session: Session,
    viewer: User,
    records: Sequence[Record],
    *,
    purpose: str = "view",
    wrapped_keys: Mapping[int, tuple[int, bytes]] | None = None,
) -> list[RevealResult]:
    """For each record, its content or a ``Withheld`` with the reason; one audit event.

    ``wrapped_keys``, where the caller's statement loaded them with the records (a list page's
    rows, joined to ``record_keys`` for the viewer's agency): every key the viewer's agency
    holds to these records, by record id, as (key version, wrapped key); it spares the reveal
    its own statement for them. A key is only ever opened with the viewer's agency's key, so
    one that is not the agency's fails to open (withheld, as a key error), and a missing one
    withholds the record: neither can show anything the policy and the keys would not."""
    return _reveal(session, viewer, records, purpose, listed=False, wrapped_keys=wrapped_keys)


def reveal_one(
    session: Session, viewer: User, record: Record, *, purpose: str = "view"
) -> RevealResult:
    return reveal_records(session, viewer, [record], purpose=purpose)[0]


def reveal_listed(
    session: Session, viewer: User, records: Sequence[Record], *, purpose: str = "view"
) -> list[RevealResult]:
    """``reveal_records`` for a list shown to the viewer: records whose very existence is
    secret (``existence_secret``) are left out, not shown as withheld, for an agency that
    neither owns them nor holds a live disclosure; they are not even passed to the reveal, so
    its audit event does not count them either."""
    return _reveal(session, viewer, records, purpose, listed=True)


@dataclass(frozen=True)
class _Decision:
    """The policy's and the keys' answer for one record, before anything is opened."""

    record: Record
    reason: WithheldReason | None  # None: the viewer may read it (and holds a key)
    key: crypto.WrappedKey | None
    live: Sequence[DisclosedVia]
    verdicts: list[Reason | None]


def _decide(
    session: Session,
    viewer: User,
    records: Sequence[Record],
    disclosures: dict[int, list[DisclosedVia]],
    keys: dict[int, crypto.WrappedKey] | None = None,
) -> tuple[PolicyFacts, list[_Decision]]:
    facts = viewer_facts(session, viewer) if viewer.is_active else ViewerFacts(0, frozenset())
    assurance = session_assurance(viewer)
    # A log-in below the level the viewer's agency requires opens nothing, its own agency's
    # records included: whoever holds the session may not be the person it names.
    too_low = assurance is not None and assurance.too_low
    return _decide_for(
        session, viewer.agency, facts, records, disclosures, too_low=too_low, keys=keys
    )


def _decide_for(
    session: Session,
    agency: Agency,
    facts: ViewerFacts,
    records: Sequence[Record],
    disclosures: dict[int, list[DisclosedVia]],
    *,
    too_low: bool = False,
    keys: dict[int, crypto.WrappedKey] | None = None,
) -> tuple[PolicyFacts, list[_Decision]]:
    if keys is None:
        keys = _record_keys(session, [r.id for r in records], agency.id)
    consents, maturity = _consents_of(session, disclosures)
    policy = PolicyFacts(
        agency,
        _children_of(session, records),
        consents,
        lambda child: child_birth_date(session, child.id, child.birth_date_sealed),
        today_local(),
        maturity,
    )
    decisions: list[_Decision] = []
    for record in records:
        facts_of_record = policy.record_facts(record)
        live = disclosures.get(record.id, ())
        verdicts = [
            policy.verdict(
                d.basis_id, d.consent_id, d.lapsed_at is not None, facts_of_record, record.child_id
            )
            for d in live
        ]
        reason = visibility(facts_of_record, facts, verdicts)
        if too_low and reason is None:
            reason = WithheldReason.LOW_ASSURANCE
        key = keys.get(record.id)
        if reason is None and key is None:
            reason = WithheldReason.NO_KEY
        decisions.append(_Decision(record, reason, key, live, verdicts))
    return policy, decisions


def readable_record_ids(session: Session, viewer: User, records: Sequence[Record]) -> set[int]:
    """The ids of the records ``reveal_records`` would open for the viewer (the policy and the
    keys agree), without opening any: for a page that shows what follows from a record's
    content (two pseudonyms are one young person because their identity records say so)."""
    if not records:
        return set()
    disclosures = live_disclosures(session, [r.id for r in records], viewer.agency_id)
    _, decisions = _decide(session, viewer, records, disclosures)
    return {d.record.id for d in decisions if d.reason is None and d.key is not None}


def readable_by_agency(
    session: Session, agency: Agency, council_id: int, records: Sequence[Record]
) -> set[int]:
    """The ids of the records a member of ``agency`` in the council could read (the policy and
    the keys agree), without opening any and without a user of that agency: for a screen that
    several agencies look at together, which may show only what every one of them may read."""
    if not records:
        return set()
    disclosures = live_disclosures(session, [r.id for r in records], agency.id)
    facts = ViewerFacts(agency_id=agency.id, council_ids=frozenset({council_id}))
    _, decisions = _decide_for(session, agency, facts, records, disclosures)
    return {d.record.id for d in decisions if d.reason is None and d.key is not None}


def _reveal(
    session: Session,
    viewer: User,
    records: Sequence[Record],
    purpose: str,
    *,
    listed: bool,
    wrapped_keys: Mapping[int, tuple[int, bytes]] | None = None,
) -> list[RevealResult]:
    if not records:
        return []
    agency_id = viewer.agency_id
    keys = (
        {
            record_id: crypto.WrappedKey(record_id, agency_id, version, wrapped)
            for record_id, (version, wrapped) in wrapped_keys.items()
        }
        if wrapped_keys is not None
        else None
    )
    disclosures, sealed_assessments = _live_disclosures_with_assessments(
        session, [r.id for r in records], agency_id
    )
    if listed:
        records = [
            r
            for r in records
            if not r.existence_secret or r.owner_agency_id == agency_id or r.id in disclosures
        ]
        if not records:
            return []
    _policy, decisions = _decide(session, viewer, records, disclosures, keys)
    ring = crypto.keyring(session)
    results: list[RevealResult] = []
    for decision in decisions:
        record, reason, key, live, verdicts = (
            decision.record,
            decision.reason,
            decision.key,
            decision.live,
            decision.verdicts,
        )
        if reason is not None or key is None:
            lapse = next((v for v in verdicts if v is not None), None) if live else None
            results.append(Withheld(record, reason or WithheldReason.NO_KEY, lapse))
            continue
        in_force = (
            next((d for d, v in zip(live, verdicts, strict=True) if v is None), None)
            if live
            else None
        )
        # The basis as it read when decided (a later edit of the rule set never rewrites the
        # recorded basis of a past decision); whether it still holds was judged above by today's.
        via = (
            Via(in_force, basis_as_decided(in_force.basis_id, in_force.ruleset_version))
            if in_force
            else None
        )
        try:
            results.append(Revealed(record, crypto.open_record(ring, record, key), via))
        except (crypto.SealingError, LookupError):
            # One damaged key must not take the whole page down; `flask keys check` finds it.
            logger.exception("record %s could not be opened for agency %s", record.id, agency_id)
            results.append(Withheld(record, WithheldReason.KEY_ERROR))
    results, assessment_ids = _with_assessments(session, agency_id, results, sealed_assessments)
    revealed = [r.record.id for r in results if isinstance(r, Revealed)]
    count_reveal(len(revealed), len(results) - len(revealed))
    record_event(
        session,
        viewer,
        SecrecyTag.RECORD_REVEAL,
        object_type="record",
        object_ids=revealed + assessment_ids,
        details={
            "purpose": purpose,
            "child_ids": sorted({r.child_id for r in records}),
            "withheld": len(results) - len(revealed),
            "via_disclosure": sorted(
                r.via.disclosure.id for r in results if isinstance(r, Revealed) and r.via
            ),
        },
    )
    if listed:
        return [r for r in results if not (r.withheld and r.record.existence_secret)]
    return results


def _open_with_agency_keys(
    session: Session, agency_id: int, records: Sequence[crypto.SealedRow]
) -> dict[int, dict[str, Any]]:
    """Open each record with the agency's own key to it, where it holds one; the callers have
    decided that the agency may read them."""
    keys = _record_keys(session, [r.id for r in records], agency_id) if records else {}
    ring = crypto.keyring(session) if keys else None
    opened: dict[int, dict[str, Any]] = {}
    for record in records:
        key = keys.get(record.id)
        if key is None or ring is None or record.shredded_at is not None:
            continue
        try:
            opened[record.id] = crypto.open_record(ring, record, key)
        except (crypto.SealingError, LookupError):
            logger.exception("record %s could not be opened for agency %s", record.id, agency_id)
    return opened


def _with_assessments(
    session: Session,
    agency_id: int,
    results: list[RevealResult],
    sealed: dict[int, _SealedAssessment],
) -> tuple[list[RevealResult], list[int]]:
    """A recipient reads the discloser's assessment with each record shown to it under a
    disclosure in force, with its key to the assessment (wrapped by the decision), loaded with
    the disclosures (``sealed``). Returns the results and the ids of the assessments opened."""
    ids = sorted(
        {
            r.via.disclosure.assessment_record_id
            for r in results
            if isinstance(r, Revealed) and r.via and r.via.disclosure.assessment_record_id
        }
        - {None}
    )
    if not ids:
        return results, []
    # An assessment the agency holds no key to is not among them, and is not opened.
    rows = [sealed[i] for i in ids if i in sealed]
    ring = crypto.keyring(session)
    opened: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row.shredded_at is not None:
            continue
        key = crypto.WrappedKey(row.id, agency_id, row.agency_key_version, row.wrapped_key)
        try:
            opened[row.id] = crypto.open_record(ring, row, key)
        except (crypto.SealingError, LookupError):
            logger.exception("record %s could not be opened for agency %s", row.id, agency_id)
    shown: list[RevealResult] = []
    for result in results:
        if isinstance(result, Revealed) and result.via:
            content = opened.get(result.via.disclosure.assessment_record_id or 0)
            if content is not None:
                text = str(content.get("text", ""))
                result = replace(result, via=replace(result.via, assessment=text))
        shown.append(result)
    return shown, sorted(opened)


def reveal_exchanged(
    session: Session,
    viewer: User,
    records: Sequence[tuple[Record, frozenset[int]]],
    *,
    purpose: str,
) -> dict[int, dict[str, Any]]:
    """Texts that agencies read outside a disclosure decision, each record with the agencies
    that may read it: an information request's purpose and answer (the two agencies), and,
    with ``purpose="log_review"``, the assessments behind an agency's disclosure decisions
    (its log reviewer, who need not sit in the child's council). Otherwise a record is opened
    for an active viewer in the child's council whose agency is named and holds a key; one
    audit event names what was opened."""
    if not records:
        return {}
    if purpose == "log_review":
        allowed = [
            record
            for record, agencies in records
            if viewer.is_active
            and has_permission(viewer, Permission.REVIEW_AGENCY_LOG)
            and record.category == ASSESSMENT
            and record.owner_agency_id == viewer.agency_id
            and viewer.agency_id in agencies
        ]
    else:
        member_of = viewer_facts(session, viewer).council_ids if viewer.is_active else frozenset()
        children = _children_of(session, [r for r, _ in records])
        allowed = [
            record
            for record, agencies in records
            if viewer.agency_id in agencies and children[record.child_id].council_id in member_of
        ]
    opened = _open_with_agency_keys(session, viewer.agency_id, allowed)
    record_event(
        session,
        viewer,
        SecrecyTag.RECORD_REVEAL,
        object_type="record",
        object_ids=sorted(opened),
        details={
            "purpose": purpose,
            "child_ids": sorted({r.child_id for r, _ in records}),
            "withheld": len(records) - len(opened),
            "via_disclosure": [],
        },
    )
    return opened
