"""Rule-set versions: every version of legal_bases.toml ever shipped, and the differences.

The file in force carries ``[ruleset] version`` and a change log (``secrecy.policy.rules``);
``rules/history/legal_bases-<version>.toml`` keeps every version as it read, the one in force
included. Each disclosure records the version it was decided under, so its recorded basis can
be shown as it read then (``basis_as_decided``) whatever the rules say now. Whether a
disclosure still holds is always judged by the rules in force (a rule whose end date has
passed ends it), never by the version it was decided under.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from dataclasses import dataclass
from functools import cache

from secrecy.policy.rules import (
    RULES_DIR,
    ChangeLogEntry,
    LegalBasis,
    legal_bases,
    parse_legal_bases,
    parse_rule_set_version,
    ruleset_version,
)

HISTORY_DIR = RULES_DIR / "history"


@dataclass(frozen=True)
class RuleSet:
    version: str
    bases: dict[str, LegalBasis]
    changelog: tuple[ChangeLogEntry, ...]


class Change(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class BasisDiff:
    basis_id: str
    change: Change
    fields: tuple[FieldChange, ...] = ()


def _categories() -> frozenset[str]:
    from secrecy.policy.categories import categories

    return frozenset(categories())


def parse_rule_set(text: str) -> RuleSet:
    version, changelog = parse_rule_set_version(text)
    return RuleSet(version, parse_legal_bases(text, _categories()), changelog)


@cache
def rule_set_history() -> dict[str, RuleSet]:
    """Every shipped version by its version string, newest first (by the date of its change
    log entry), read from ``rules/history``."""
    found: dict[str, RuleSet] = {}
    for path in sorted(HISTORY_DIR.glob("legal_bases-*.toml")):
        ruleset = parse_rule_set(path.read_text(encoding="utf-8"))
        expected = path.stem.removeprefix("legal_bases-")
        if ruleset.version != expected:
            raise ValueError(f"{path.name} holds version {ruleset.version!r}")
        found[ruleset.version] = ruleset

    def released(ruleset: RuleSet) -> dt.date:
        return next(e.date for e in ruleset.changelog if e.version == ruleset.version)

    return {r.version: r for r in sorted(found.values(), key=released, reverse=True)}


def current_rule_set() -> RuleSet:
    """The rules in force, as the engine reads them."""
    version = ruleset_version()
    snapshot = rule_set_history().get(version)
    changelog = snapshot.changelog if snapshot is not None else ()
    return RuleSet(version, legal_bases(), changelog)


def unrecorded_change() -> bool:
    """True when the file in force differs from the recorded copy of its version (or has none):
    a rule was changed without raising the version, so past decisions recorded under that
    version would be shown with today's text. The admin page says so."""
    snapshot = rule_set_history().get(ruleset_version())
    return snapshot is None or snapshot.bases != legal_bases()


def basis_as_decided(basis_id: str, version: str | None) -> LegalBasis | None:
    """The basis as it read under ``version`` (a disclosure's recorded version); the rule in
    force when the version is unknown or not recorded."""
    ruleset = rule_set_history().get(version) if version else None
    if ruleset is not None and basis_id in ruleset.bases:
        return ruleset.bases[basis_id]
    return legal_bases().get(basis_id)


def show_value(value: object) -> str:
    """A rule field's value as the admin page shows it."""
    if value is None or value == frozenset() or value == "":
        return "–"
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, frozenset):
        return ", ".join(sorted(str(v) for v in value))
    if isinstance(value, tuple):
        return " | ".join(str(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def diff_rule_sets(old: RuleSet, new: RuleSet) -> list[BasisDiff]:
    """What changed from ``old`` to ``new``: rules added, removed, and each changed field of
    the others, in the order of the newer file (removed ones last)."""
    diffs: list[BasisDiff] = []
    for basis_id, basis in new.bases.items():
        before = old.bases.get(basis_id)
        if before is None:
            diffs.append(BasisDiff(basis_id, Change.ADDED))
            continue
        changes = tuple(
            FieldChange(f.name, show_value(getattr(before, f.name)), show_value(after))
            for f in dataclasses.fields(LegalBasis)
            if (after := getattr(basis, f.name)) != getattr(before, f.name)
        )
        if changes:
            diffs.append(BasisDiff(basis_id, Change.CHANGED, changes))
    diffs.extend(BasisDiff(b, Change.REMOVED) for b in old.bases if b not in new.bases)
    return diffs
