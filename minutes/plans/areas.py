"""The life areas of a plan's goals, loaded from ``areas.toml`` (data, not code)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask_babel import get_locale

AREAS_FILE = Path(__file__).with_name("areas.toml")


class AreaFileError(ValueError):
    """The areas file is malformed; the message names the entry and field."""


@dataclass(frozen=True)
class LifeArea:
    key: str
    sv: str
    en: str

    def label(self, locale: str | None = None) -> str:
        if locale is None:
            found = get_locale()
            locale = found.language if found is not None else "sv"
        return self.en if locale == "en" else self.sv


def parse_areas(text: str) -> dict[str, LifeArea]:
    result: dict[str, LifeArea] = {}
    for index, entry in enumerate(tomllib.loads(text).get("area", []), start=1):
        where = f"area #{index} ({entry.get('key', '?')})"
        for name in ("key", "sv", "en"):
            if not isinstance(entry.get(name), str) or not entry[name].strip():
                raise AreaFileError(f"{where}: field {name!r} missing or empty")
        key = entry["key"]
        if not key.isidentifier() or len(key) > 40:
            raise AreaFileError(f"{where}: key must be a short identifier")
        if key in result:
            raise AreaFileError(f"{where}: key {key!r} appears twice")
        result[key] = LifeArea(key=key, sv=entry["sv"], en=entry["en"])
    if not result:
        raise AreaFileError("the areas file names no area")
    return result


@cache
def life_areas() -> dict[str, LifeArea]:
    return parse_areas(AREAS_FILE.read_text(encoding="utf-8"))


def area_label(key: str) -> str:
    """The area's label in the request's language; an area dropped from the file keeps its
    key (old goals still show something)."""
    area = life_areas().get(key)
    return area.label() if area is not None else key
