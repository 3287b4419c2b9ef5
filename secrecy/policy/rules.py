"""The legal bases and the recipient-protection table, loaded from ``secrecy/rules/*.toml``.

Rules are data: a municipality's lawyer edits the files, and loading refuses a malformed file
with a message naming the rule and the field at fault.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from coordination.models import AgencyKind

RULES_DIR = Path(__file__).with_name("rules")
ANY = "*"
KINDS = frozenset(k.value for k in AgencyKind)


class RuleFileError(ValueError):
    """A rules file is malformed; the message names the rule and the field."""


class Duty(enum.StrEnum):
    MAY = "may"
    MUST = "must"


class Review(enum.StrEnum):
    CONFIRMED = "confirmed"
    TO_CONFIRM = "to_confirm"


class Strength(enum.StrEnum):
    STRONG = "strong"
    PARTIAL = "partial"
    WEAK = "weak"


@dataclass(frozen=True)
class LegalBasis:
    id: str
    title: str
    reference: str
    from_kinds: frozenset[str]  # agency kinds, or {"*"}
    to_kinds: frozenset[str]
    confirmations: tuple[str, ...]
    duty: Duty
    review: Review
    enabled: bool
    different_kinds: bool = False
    age_limit: int | None = None
    allowed_categories: frozenset[str] | None = None
    denied_categories: frozenset[str] = frozenset()
    excluded_owner_kinds: frozenset[str] = frozenset()
    weak_recipients: bool = False
    requires_consent: bool = False
    public_owners_only: bool = False
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    note: str = ""

    def allows_from(self, kind: str) -> bool:
        return ANY in self.from_kinds or kind in self.from_kinds

    def allows_to(self, kind: str) -> bool:
        return ANY in self.to_kinds or kind in self.to_kinds


@dataclass(frozen=True)
class RecipientProtection:
    kind: str
    provision: str
    strength: Strength
    note: str


_BASIS_FIELDS = {
    "id", "title", "reference", "from_kinds", "to_kinds", "confirmations", "duty", "review",
    "enabled", "different_kinds", "age_limit", "allowed_categories", "denied_categories",
    "excluded_owner_kinds", "weak_recipients", "requires_consent", "effective_from",
    "effective_to", "note", "public_owners_only",
}  # fmt: skip


class _Reader:
    """Typed access to one TOML table with errors that name the entry and the field."""

    def __init__(self, entry: Mapping[str, Any], where: str) -> None:
        self.entry, self.where = entry, where

    def fail(self, field: str, problem: str) -> RuleFileError:
        return RuleFileError(f"{self.where}: field {field!r} {problem}")

    def text(self, field: str, *, required: bool = True, default: str = "") -> str:
        value = self.entry.get(field, None if required else default)
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(field, "must be a non-empty text" if required else "must be a text")
        return value

    def flag(self, field: str, default: bool | None = None) -> bool:
        value = self.entry.get(field, default)
        if not isinstance(value, bool):
            raise self.fail(field, "must be true or false")
        return value

    def texts(self, field: str, *, required: bool = True) -> tuple[str, ...] | None:
        if field not in self.entry and not required:
            return None
        value = self.entry.get(field)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(field, "must be a list of texts")
        return tuple(value)

    def kinds(self, field: str, *, required: bool = True) -> frozenset[str]:
        values = self.texts(field, required=required) or ()
        unknown = [v for v in values if v != ANY and v not in KINDS]
        if unknown:
            raise self.fail(field, f"names unknown agency kinds {unknown}")
        if required and not values:
            raise self.fail(field, "must name at least one agency kind")
        return frozenset(values)

    def date(self, field: str) -> dt.date | None:
        value = self.entry.get(field)
        if value is None:
            return None
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise self.fail(field, "must be a date such as 2025-04-01")
        return value

    def choice(self, field: str, enum_type: type[enum.StrEnum]) -> Any:
        value = self.entry.get(field)
        try:
            return enum_type(str(value))
        except ValueError:
            options = ", ".join(m.value for m in enum_type)
            raise self.fail(field, f"must be one of {options}") from None


def parse_legal_bases(text: str, categories: frozenset[str]) -> dict[str, LegalBasis]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleFileError(f"legal_bases.toml is not valid TOML: {exc}") from exc
    bases: dict[str, LegalBasis] = {}
    for index, entry in enumerate(data.get("basis", []), start=1):
        read = _Reader(entry, f"rule #{index} ({entry.get('id', '?')})")
        unknown = set(entry) - _BASIS_FIELDS
        if unknown:
            raise read.fail(sorted(unknown)[0], "is not a known field")
        basis_id = read.text("id")
        if basis_id in bases:
            raise read.fail("id", "is used by an earlier rule")
        age_limit = entry.get("age_limit")
        if age_limit is not None and (
            not isinstance(age_limit, int) or isinstance(age_limit, bool) or not 0 < age_limit < 30
        ):
            raise read.fail("age_limit", "must be a whole number of years between 1 and 29")
        allowed = read.texts("allowed_categories", required=False)
        denied = read.texts("denied_categories", required=False) or ()
        for field, values in (("allowed_categories", allowed or ()), ("denied_categories", denied)):
            unknown_categories = [c for c in values if c not in categories]
            if unknown_categories:
                raise read.fail(field, f"names unknown categories {unknown_categories}")
        confirmations = read.texts("confirmations") or ()
        if not confirmations:
            raise read.fail("confirmations", "must list at least one statement to confirm")
        basis = LegalBasis(
            id=basis_id,
            title=read.text("title"),
            reference=read.text("reference"),
            from_kinds=read.kinds("from_kinds"),
            to_kinds=read.kinds("to_kinds"),
            confirmations=confirmations,
            duty=read.choice("duty", Duty),
            review=read.choice("review", Review),
            enabled=read.flag("enabled"),
            different_kinds=read.flag("different_kinds", False),
            age_limit=age_limit,
            allowed_categories=frozenset(allowed) if allowed is not None else None,
            denied_categories=frozenset(denied),
            excluded_owner_kinds=read.kinds("excluded_owner_kinds", required=False),
            weak_recipients=read.flag("weak_recipients", False),
            requires_consent=read.flag("requires_consent", False),
            public_owners_only=read.flag("public_owners_only", False),
            effective_from=read.date("effective_from"),
            effective_to=read.date("effective_to"),
            note=read.text("note", required=False),
        )
        if (
            basis.effective_from
            and basis.effective_to
            and basis.effective_to < basis.effective_from
        ):
            raise read.fail("effective_to", "is before effective_from")
        bases[basis_id] = basis
    if not bases:
        raise RuleFileError("legal_bases.toml defines no rules")
    return bases


def parse_recipient_protection(text: str) -> dict[str, RecipientProtection]:
    data = tomllib.loads(text)
    table: dict[str, RecipientProtection] = {}
    for index, entry in enumerate(data.get("kind", []), start=1):
        read = _Reader(entry, f"kind #{index} ({entry.get('kind', '?')})")
        kind = read.text("kind")
        if kind not in KINDS:
            raise read.fail("kind", "is not an agency kind")
        table[kind] = RecipientProtection(
            kind=kind,
            provision=read.text("provision", required=False),
            strength=read.choice("strength", Strength),
            note=read.text("note", required=False),
        )
    missing = KINDS - set(table)
    if missing:
        raise RuleFileError(f"recipient_protection.toml lacks the kinds {sorted(missing)}")
    return table


@cache
def legal_bases() -> dict[str, LegalBasis]:
    from secrecy.policy.categories import categories

    text = (RULES_DIR / "legal_bases.toml").read_text(encoding="utf-8")
    return parse_legal_bases(text, frozenset(categories()))


@cache
def recipient_protection() -> dict[str, RecipientProtection]:
    return parse_recipient_protection(
        (RULES_DIR / "recipient_protection.toml").read_text(encoding="utf-8")
    )


@cache
def ruleset_version() -> str:
    """The version of the rule set in force, stored with every disclosure decision: the
    ``version`` key of ``legal_bases.toml`` where the file has one, otherwise a SHA-256 of the
    rule files (so any edit gives a new version)."""
    text = (RULES_DIR / "legal_bases.toml").read_text(encoding="utf-8")
    declared = tomllib.loads(text).get("version")
    if isinstance(declared, str) and declared.strip():
        return declared.strip()[:80]
    digest = hashlib.sha256()
    for path in sorted(RULES_DIR.glob("*.toml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"sha256:{digest.hexdigest()[:16]}"
