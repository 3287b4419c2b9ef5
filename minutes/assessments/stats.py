"""Statistics without a register: per council, how the latest overall levels are distributed
and how the level changed between each child's first and latest assessment. Counts only, no
pseudonyms, and every count under five is suppressed (shown as "färre än 5"), so that no cell
points at a single child. The levels are sealed on the rows and opened through the one door
(``secrecy.records.reveal.assessment_levels``), in one batch per council."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.models import Child, ChildStatus, Council
from minutes.assessments.instruments import Instrument, catalogue
from minutes.assessments.models import Assessment
from secrecy.records.reveal import SealedLevel, assessment_levels

SUPPRESS_BELOW = 5


class Change(enum.StrEnum):
    LOWER = "lower"
    SAME = "same"
    HIGHER = "higher"


def suppressed(count: int) -> int | None:
    """The count, or None where it is under the threshold (zero included)."""
    return count if count >= SUPPRESS_BELOW else None


@dataclass(frozen=True)
class LevelCount:
    code: str
    label: str
    count: int | None


@dataclass(frozen=True)
class ChangeCount:
    change: Change
    count: int | None


@dataclass(frozen=True)
class InstrumentStatistics:
    instrument_id: str
    name: str
    levels: list[LevelCount]
    changes: list[ChangeCount]


def _instrument(instrument_id: str, versions: set[str]) -> Instrument | None:
    found = catalogue()
    current = next((i for i in found.current() if i.id == instrument_id), None)
    if current is not None:
        return current
    return next((i for v in sorted(versions) if (i := found.get(instrument_id, v))), None)


def _first_and_latest(
    session: Session, council: Council
) -> tuple[dict[str, dict[int, list[str | None]]], dict[str, set[str]]]:
    """Per instrument and child, the first and the latest overall level (only the first where
    there is one assessment; None where one failed to open), and the versions seen per
    instrument. One query over the council's assessments (children not shredded, levels not
    erased) and one batch opening only the levels the counts need."""
    rows = session.execute(
        select(
            Assessment.child_id,
            Assessment.instrument_id,
            Assessment.instrument_version,
            Assessment.overall_record_id,
            Assessment.overall_level_sealed,
        )
        .join(Child, Child.id == Assessment.child_id)
        .where(
            Child.council_id == council.id,
            Child.status != ChildStatus.SHREDDED,
            Assessment.overall_level_sealed.is_not(None),
        )
        .order_by(Assessment.child_id, Assessment.assessed_on, Assessment.id)
    ).all()
    # Per instrument and child, [first] or [first, latest]: all the counts need opened.
    ends: dict[tuple[str, int], list[SealedLevel]] = {}
    versions: dict[str, set[str]] = {}
    for child_id, instrument_id, version, record_id, blob in rows:
        if blob is None:  # the query leaves out erased levels; this narrows the type
            continue
        level = SealedLevel(child_id, record_id, blob)
        found = ends.setdefault((instrument_id, child_id), [level])
        if found[0] is not level:
            found[1:] = [level]
        versions.setdefault(instrument_id, set()).add(version)
    opened = iter(assessment_levels(session, [level for end in ends.values() for level in end]))
    series: dict[str, dict[int, list[str | None]]] = {}
    for (instrument_id, child_id), end in ends.items():
        series.setdefault(instrument_id, {})[child_id] = [next(opened) for _ in end]
    return series, versions


def council_statistics(session: Session, council: Council) -> list[InstrumentStatistics]:
    """Per instrument, the latest level per child and the change from the first; every count
    under five suppressed."""
    series, versions = _first_and_latest(session, council)
    result = []
    for instrument_id in sorted(series):
        instrument = _instrument(instrument_id, versions[instrument_id])
        if instrument is None:
            continue  # the file is gone: its level codes cannot be named
        levels = instrument.overall.levels
        ranks = {level.code: index for index, level in enumerate(levels)}
        latest_counts = {level.code: 0 for level in levels}
        change_counts = dict.fromkeys(Change, 0)
        for levels_of_child in series[instrument_id].values():
            first, latest = levels_of_child[0], levels_of_child[-1]
            if latest in latest_counts:
                latest_counts[latest] += 1
            if len(levels_of_child) > 1 and first in ranks and latest in ranks:
                delta = ranks[latest] - ranks[first]
                change = Change.SAME if delta == 0 else Change.HIGHER if delta > 0 else Change.LOWER
                change_counts[change] += 1
        result.append(
            InstrumentStatistics(
                instrument_id=instrument_id,
                name=instrument.name,
                levels=[
                    LevelCount(level.code, level.label, suppressed(latest_counts[level.code]))
                    for level in levels
                ],
                changes=[ChangeCount(c, suppressed(change_counts[c])) for c in Change],
            )
        )
    return result
