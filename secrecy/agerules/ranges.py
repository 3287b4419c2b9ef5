"""A council's target age range (målgruppsålder): the one set on the council, or its kind's
default. Bob's upper limit follows the 10 kap. 18 a § OSL basis in the rule set (under 21:
the 18–20 group beside the children under 18), so a changed rule moves the default with it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from coordination.models import Council, CouncilKind
from secrecy.policy.engine import age_on
from secrecy.policy.rules import legal_bases

# The basis whose age limit bounds what a Bob council may discuss with the police.
BOB_BASIS = "sol-police-u21"
# Stockholm's guidance for SIG Unga: 12–20.
SIG_DEFAULT = (12, 20)
# Below this age the stigmatisation consideration of an exception is required.
STIGMA_AGE = 12
LOWEST = 0
HIGHEST = 99


@dataclass(frozen=True)
class AgeRange:
    """Inclusive completed years; None: open at that end. ``is_default``: the kind's default,
    not set on the council."""

    min_age: int | None
    max_age: int | None
    is_default: bool = False

    @property
    def limited(self) -> bool:
        return self.min_age is not None or self.max_age is not None

    def contains(self, age: int) -> bool:
        if self.min_age is not None and age < self.min_age:
            return False
        return self.max_age is None or age <= self.max_age

    def label(self) -> str:
        if self.min_age is not None and self.max_age is not None:
            return f"{self.min_age}–{self.max_age}"
        if self.min_age is not None:
            return f"{self.min_age}–"
        if self.max_age is not None:
            return f"–{self.max_age}"
        return "–"


def default_range(kind: CouncilKind) -> AgeRange:
    if kind is CouncilKind.SIG:
        return AgeRange(*SIG_DEFAULT, is_default=True)
    if kind is CouncilKind.BOB:
        basis = legal_bases().get(BOB_BASIS)
        limit = basis.age_limit if basis is not None else None
        return AgeRange(None, limit - 1 if limit is not None else None, is_default=True)
    # SSPF: the coordinator sets it.
    return AgeRange(None, None, is_default=True)


def age_range(council: Council) -> AgeRange:
    if council.age_range_set:
        return AgeRange(council.age_min, council.age_max)
    return default_range(council.kind)


def past_upper_limit(council_range: AgeRange, birth_date: dt.date, on: dt.date) -> bool:
    return council_range.max_age is not None and age_on(birth_date, on) > council_range.max_age
