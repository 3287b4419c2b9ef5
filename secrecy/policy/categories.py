"""Categories of information, loaded from ``categories.toml`` (data, not code)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CATEGORIES_FILE = Path(__file__).with_name("categories.toml")
IDENTITY = "identity"
# The discloser's written assessment behind a disclosure decision: written with the decision,
# never as a record of its own on the child's page.
ASSESSMENT = "disclosure_assessment"
# The texts of an information request (its purpose; the answer or the reason for a refusal):
# written in the request, never as a record of their own on the child's page.
REQUEST_TEXT = "information_request"
# The texts of an exception from the council's age range (reason, stigmatisation
# consideration): written with the exception, never as a record of their own.
AGE_EXCEPTION = "age_exception"
# Categories written only by the services that own them, never by a user on their own.
NOT_BY_HAND = frozenset({IDENTITY, ASSESSMENT, REQUEST_TEXT, AGE_EXCEPTION})


def writable_by_hand(key: str) -> bool:
    """Whether a user may write a record of this category on its own (the identity is written
    by enrolment and corrections, an assessment with its disclosure decision)."""
    return key not in NOT_BY_HAND


class CategoryFileError(ValueError):
    """The categories file is malformed; the message names the entry and field."""


@dataclass(frozen=True)
class Category:
    key: str
    sv: str
    en: str
    special: bool

    def label(self, locale: str) -> str:
        return self.en if locale == "en" else self.sv


def parse_categories(text: str) -> dict[str, Category]:
    data = tomllib.loads(text)
    result: dict[str, Category] = {}
    for index, entry in enumerate(data.get("category", []), start=1):
        where = f"category #{index} ({entry.get('key', '?')})"
        for field_name, kind in (("key", str), ("sv", str), ("en", str), ("special", bool)):
            if not isinstance(entry.get(field_name), kind):
                raise CategoryFileError(
                    f"{where}: field {field_name!r} missing or not {kind.__name__}"
                )
        key = entry["key"]
        if not key.isidentifier() or len(key) > 40:
            raise CategoryFileError(f"{where}: key must be a short identifier")
        if key in result:
            raise CategoryFileError(f"{where}: key {key!r} appears twice")
        result[key] = Category(key=key, sv=entry["sv"], en=entry["en"], special=entry["special"])
    if IDENTITY not in result:
        raise CategoryFileError("the 'identity' category is required")
    return result


@cache
def categories() -> dict[str, Category]:
    return parse_categories(CATEGORIES_FILE.read_text(encoding="utf-8"))


def category(key: str) -> Category:
    try:
        return categories()[key]
    except KeyError:
        raise LookupError(f"unknown category {key!r}") from None
