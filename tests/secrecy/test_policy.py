"""The policy engine of part 1: owner agency and council membership, nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secrecy.policy import RecordFacts, ViewerFacts, WithheldReason, visibility

OWNER, OTHER = 1, 2
COUNCIL, OTHER_COUNCIL = 10, 20


@pytest.mark.parametrize(
    ("record", "viewer", "expected"),
    [
        # owner agency, member of the child's council: sees
        (RecordFacts(OWNER, COUNCIL, False), ViewerFacts(OWNER, frozenset({COUNCIL})), None),
        (
            RecordFacts(OWNER, COUNCIL, False),
            ViewerFacts(OWNER, frozenset({OTHER_COUNCIL, COUNCIL})),
            None,
        ),
        # another agency in the same council: no disclosure
        (
            RecordFacts(OWNER, COUNCIL, False),
            ViewerFacts(OTHER, frozenset({COUNCIL})),
            WithheldReason.NO_DISCLOSURE,
        ),
        # owner agency outside the council, or in another council only: not a member
        (
            RecordFacts(OWNER, COUNCIL, False),
            ViewerFacts(OWNER, frozenset()),
            WithheldReason.NOT_MEMBER,
        ),
        (
            RecordFacts(OWNER, COUNCIL, False),
            ViewerFacts(OWNER, frozenset({OTHER_COUNCIL})),
            WithheldReason.NOT_MEMBER,
        ),
        (
            RecordFacts(OWNER, COUNCIL, False),
            ViewerFacts(OTHER, frozenset({OTHER_COUNCIL})),
            WithheldReason.NOT_MEMBER,
        ),
        # shredded: withheld as shredded for members, whoever owns it
        (
            RecordFacts(OWNER, COUNCIL, True),
            ViewerFacts(OWNER, frozenset({COUNCIL})),
            WithheldReason.SHREDDED,
        ),
        (
            RecordFacts(OWNER, COUNCIL, True),
            ViewerFacts(OTHER, frozenset({COUNCIL})),
            WithheldReason.SHREDDED,
        ),
        # ...and non-members do not even learn that it was shredded
        (
            RecordFacts(OWNER, COUNCIL, True),
            ViewerFacts(OWNER, frozenset()),
            WithheldReason.NOT_MEMBER,
        ),
        # the inactive viewer reveal builds (agency 0, no councils)
        (
            RecordFacts(OWNER, COUNCIL, False),
            ViewerFacts(0, frozenset()),
            WithheldReason.NOT_MEMBER,
        ),
    ],
)
def test_visibility_table(
    record: RecordFacts, viewer: ViewerFacts, expected: WithheldReason | None
) -> None:
    assert visibility(record, viewer) is expected


@pytest.mark.parametrize(
    ("reason", "stored"),
    [
        (WithheldReason.NOT_MEMBER, "not_member"),
        (WithheldReason.NO_DISCLOSURE, "no_disclosure"),
        (WithheldReason.SHREDDED, "shredded"),
        (WithheldReason.NO_KEY, "no_key"),
    ],
)
def test_reason_codes_are_stable_strings(reason: WithheldReason, stored: str) -> None:
    assert WithheldReason(stored) is reason and str(reason) == stored


def test_facts_are_immutable() -> None:
    facts = RecordFacts(OWNER, COUNCIL, False)
    with pytest.raises(AttributeError):
        facts.shredded = True  # type: ignore[misc]


ids = st.integers(min_value=1, max_value=50)
councils = st.frozensets(ids, max_size=6)


@settings(max_examples=300)
@given(owner=ids, council=ids, others=councils)
def test_owner_in_the_council_always_sees(owner: int, council: int, others: frozenset[int]) -> None:
    record = RecordFacts(owner, council, shredded=False)
    assert visibility(record, ViewerFacts(owner, others | {council})) is None


@settings(max_examples=300)
@given(owner=ids, viewer_agency=ids, council=ids, member_of=councils, shredded=st.booleans())
def test_a_non_owner_never_sees(
    owner: int, viewer_agency: int, council: int, member_of: frozenset[int], shredded: bool
) -> None:
    if viewer_agency == owner:
        viewer_agency = owner + 1000
    reason = visibility(
        RecordFacts(owner, council, shredded), ViewerFacts(viewer_agency, member_of)
    )
    assert reason is not None
    if council in member_of and not shredded:
        assert reason is WithheldReason.NO_DISCLOSURE


@settings(max_examples=300)
@given(owner=ids, viewer_agency=ids, council=ids, member_of=councils, shredded=st.booleans())
def test_a_non_member_never_sees(
    owner: int, viewer_agency: int, council: int, member_of: frozenset[int], shredded: bool
) -> None:
    reason = visibility(
        RecordFacts(owner, council, shredded), ViewerFacts(viewer_agency, member_of - {council})
    )
    assert reason is WithheldReason.NOT_MEMBER


@settings(max_examples=300)
@given(owner=ids, viewer_agency=ids, council=ids, member_of=councils)
def test_a_shredded_record_is_never_seen(
    owner: int, viewer_agency: int, council: int, member_of: frozenset[int]
) -> None:
    reason = visibility(RecordFacts(owner, council, True), ViewerFacts(viewer_agency, member_of))
    assert reason in (WithheldReason.SHREDDED, WithheldReason.NOT_MEMBER)
    assert (reason is WithheldReason.SHREDDED) == (council in member_of)


@settings(max_examples=300)
@given(owner=ids, viewer_agency=ids, council=ids, member_of=councils, shredded=st.booleans())
def test_seen_exactly_when_owner_member_and_not_shredded(
    owner: int, viewer_agency: int, council: int, member_of: frozenset[int], shredded: bool
) -> None:
    seen = (
        visibility(RecordFacts(owner, council, shredded), ViewerFacts(viewer_agency, member_of))
        is None
    )
    assert seen == (viewer_agency == owner and council in member_of and not shredded)
