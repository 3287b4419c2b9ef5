"""Assessment instruments (bedömningsinstrument) as data: one TOML file per instrument version.

An instrument names its areas (or factors), the scale each area is scored on, which areas are
critical, and how the overall level is reached: derived by a rule from the scores, or set by the
assessor. The files are validated on load by the pydantic models below; a malformed file stops
with a message naming the file and the field. ``flask assessments schema`` writes the JSON Schema
of these models for editors (``docs/assessment-instrument.schema.json``).

The project ships one neutral instrument written from public sources. A municipality that holds
a licence for another instrument (ESTER, EARL …) writes its own file and points
``SAMVERKAN_ASSESSMENT_INSTRUMENTS_DIR`` at the directory holding it; licensed item texts are
never part of this repository.
"""

from __future__ import annotations

import enum
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from flask import current_app, has_app_context
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)

from secrecy.policy.categories import categories, writable_by_hand

SHIPPED_DIR = Path(__file__).with_name("instrument_files")
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "assessment-instrument.schema.json"
DEFAULT_CATEGORY = "risk_protective"

Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]{0,39}$")]
InstrumentId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
Label = Annotated[str, Field(min_length=1, max_length=120)]


class InstrumentFileError(ValueError):
    """An instrument file is malformed; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ScaleStep(_Strict):
    """One step of a scale: the value stored, its label, and the points it adds to a derived
    overall level (risk counts up; a protective step may count down)."""

    value: Code = Field(description="Stored value, e.g. '0', 'low', 'protective'.")
    label: Label = Field(description="Shown to the assessor, e.g. 'Ingen risk'.")
    points: StrictInt = Field(
        0, ge=-10, le=10, description="Points towards a derived overall level."
    )


class Scale(_Strict):
    label: Label
    steps: list[ScaleStep] = Field(min_length=2, max_length=10)

    @model_validator(mode="after")
    def _unique_steps(self) -> Scale:
        values = [step.value for step in self.steps]
        if len(set(values)) != len(values):
            raise ValueError("steps: each value may appear once")
        return self

    def step(self, value: str) -> ScaleStep | None:
        return next((s for s in self.steps if s.value == value), None)

    @property
    def top_points(self) -> int:
        return max(step.points for step in self.steps)


class AreaKind(enum.StrEnum):
    RISK = "risk"
    PROTECTIVE = "protective"
    BOTH = "both"


class Area(_Strict):
    code: Code = Field(description="Stable code of the area, e.g. 'school'.")
    label: Label = Field(description="Short label, e.g. 'Skola'.")
    description: str = Field("", max_length=600, description="What the area covers.")
    kind: AreaKind = AreaKind.RISK
    scale: Code = Field(description="The id of a scale in [scales].")
    critical: StrictBool = Field(
        False, description="A critical area scored at its top raises the level."
    )
    category: Code = Field(
        DEFAULT_CATEGORY,
        description="The secrecy category of this area's sealed record (decides which consents "
        "and legal bases may disclose it).",
    )


class Level(_Strict):
    code: Code
    label: Label


class Threshold(_Strict):
    level: Code
    min_points: StrictInt = Field(ge=-100, le=1000)


class Overall(_Strict):
    method: Literal["assessor", "rule"] = Field(
        description="'assessor': the assessor sets the level; 'rule': derived from the points."
    )
    levels: list[Level] = Field(min_length=2, max_length=8, description="Lowest first.")
    thresholds: list[Threshold] = Field(
        default_factory=list, description="rule: the highest level whose min_points is reached."
    )
    critical_level: Code | None = Field(
        None, description="rule: at least this level when a critical area is scored at its top."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Overall:
        codes = [level.code for level in self.levels]
        if len(set(codes)) != len(codes):
            raise ValueError("levels: each code may appear once")
        for threshold in self.thresholds:
            if threshold.level not in codes:
                raise ValueError(f"thresholds: unknown level {threshold.level!r}")
        if self.critical_level is not None and self.critical_level not in codes:
            raise ValueError(f"critical_level: unknown level {self.critical_level!r}")
        if self.method == "rule" and not self.thresholds:
            raise ValueError("thresholds: a rule needs at least one threshold")
        return self

    def rank(self, code: str) -> int:
        return [level.code for level in self.levels].index(code)

    def label(self, code: str) -> str:
        return next((level.label for level in self.levels if level.code == code), code)


class Instrument(_Strict):
    """One version of an assessment instrument."""

    id: InstrumentId = Field(description="Stable id of the instrument across its versions.")
    version: Annotated[str, Field(pattern=r"^[0-9A-Za-z.\-]{1,20}$")]
    name: Label
    status: Literal["current", "replaced"] = Field(
        "current", description="'replaced': kept so that older assessments can be read."
    )
    age_min: StrictInt = Field(ge=0, le=30, description="Intended age range, lower end.")
    age_max: StrictInt = Field(ge=0, le=30, description="Intended age range, upper end.")
    source: str = Field("", max_length=1000, description="Where the areas come from.")
    scales: dict[Code, Scale] = Field(min_length=1)
    areas: list[Area] = Field(min_length=1, max_length=40)
    overall: Overall

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        if self.age_min > self.age_max:
            raise ValueError("age_min: must not be above age_max")
        codes = [area.code for area in self.areas]
        if len(set(codes)) != len(codes):
            raise ValueError("areas: each code may appear once")
        for area in self.areas:
            if area.scale not in self.scales:
                raise ValueError(f"areas: {area.code}: no scale {area.scale!r} in [scales]")
        return self

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.version)

    @property
    def is_replaced(self) -> bool:
        return self.status == "replaced"

    def area(self, code: str) -> Area | None:
        return next((a for a in self.areas if a.code == code), None)

    def scale_of(self, area: Area) -> Scale:
        return self.scales[area.scale]

    def derive_level(self, scores: Mapping[str, str]) -> str | None:
        """The overall level a rule gives for these scores (area code → step value); None when
        the assessor sets it."""
        if self.overall.method != "rule":
            return None
        points = 0
        critical_hit = False
        for code, value in scores.items():
            area = self.area(code)
            if area is None:
                continue
            scale = self.scale_of(area)
            step = scale.step(value)
            if step is None:
                continue
            points += step.points
            critical_hit |= area.critical and step.points == scale.top_points > 0
        level = self.overall.levels[0].code
        for threshold in sorted(self.overall.thresholds, key=lambda t: t.min_points):
            if points >= threshold.min_points:
                level = threshold.level
        critical = self.overall.critical_level
        if critical_hit and critical and self.overall.rank(critical) > self.overall.rank(level):
            level = critical
        return level


def _describe(error: ValidationError) -> str:
    """The first problem as ``field.path: message``. The models' own checks (value errors)
    name the field inside the model they check, which is appended to the model's path."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"])
    if first["type"] == "value_error":
        message = message.removeprefix("Value error, ")
        return f"{where}.{message}" if where else message
    return f"{where or '(top level)'}: {message}"


def parse_instrument(text: str, source: str) -> Instrument:
    """One instrument file's text, validated; errors name ``source`` and the field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InstrumentFileError(f"{source}: not valid TOML ({exc})") from None
    try:
        instrument = Instrument.model_validate(data)
    except ValidationError as exc:
        raise InstrumentFileError(f"{source}: {_describe(exc)}") from None
    known = categories()
    for index, area in enumerate(instrument.areas):
        if area.category not in known or not writable_by_hand(area.category):
            raise InstrumentFileError(
                f"{source}: areas.{index}.category: {area.category!r} is not a category of "
                "information (secrecy/policy/categories.toml)"
            )
    return instrument


@dataclass(frozen=True)
class Catalogue:
    """Every instrument version found in one directory."""

    by_key: Mapping[tuple[str, str], Instrument]

    def get(self, instrument_id: str, version: str) -> Instrument | None:
        return self.by_key.get((instrument_id, version))

    def current(self) -> list[Instrument]:
        return sorted(
            (i for i in self.by_key.values() if not i.is_replaced), key=lambda i: (i.name, i.id)
        )

    def all(self) -> list[Instrument]:
        return sorted(self.by_key.values(), key=lambda i: (i.name, i.id, i.version))


def load_directory(directory: Path) -> Catalogue:
    """Every ``*.toml`` in ``directory``; at most one current version per instrument id."""
    if not directory.is_dir():
        raise InstrumentFileError(f"{directory}: no such directory of instruments")
    found: dict[tuple[str, str], Instrument] = {}
    current: dict[str, str] = {}
    for path in sorted(directory.glob("*.toml")):
        instrument = parse_instrument(path.read_text(encoding="utf-8"), path.name)
        if instrument.key in found:
            raise InstrumentFileError(
                f"{path.name}: id/version {instrument.id} {instrument.version} appears twice"
            )
        if not instrument.is_replaced:
            if instrument.id in current:
                raise InstrumentFileError(
                    f"{path.name}: status: {instrument.id} has two current versions "
                    f"({current[instrument.id]} and {instrument.version}); mark one 'replaced'"
                )
            current[instrument.id] = instrument.version
        found[instrument.key] = instrument
    if not found:
        raise InstrumentFileError(f"{directory}: no instrument files (*.toml)")
    return Catalogue(by_key=found)


@cache
def _catalogue_of(directory: str) -> Catalogue:
    return load_directory(Path(directory))


def instruments_dir() -> Path:
    configured = current_app.config.get("ASSESSMENT_INSTRUMENTS_DIR") if has_app_context() else None
    return Path(configured) if configured else SHIPPED_DIR


def catalogue() -> Catalogue:
    """The configured directory's instruments (read once per process)."""
    return _catalogue_of(str(instruments_dir()))


def json_schema() -> dict[str, Any]:
    schema = Instrument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Samverkan assessment instrument"
    return schema


def schema_text() -> str:
    return json.dumps(json_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
