"""The instrument files: the shipped one loads, every malformed file is refused with a message
naming the file and the field, the published JSON Schema matches the models, and the overall
level is derived as the file says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from minutes.assessments.instruments import (
    SCHEMA_PATH,
    SHIPPED_DIR,
    InstrumentFileError,
    catalogue,
    json_schema,
    load_directory,
    parse_instrument,
    schema_text,
)

GOOD = """
id = "test-instrument"
version = "2"
name = "Testinstrument"
age_min = 12
age_max = 20

[scales.risk]
label = "Risk"
steps = [
  { value = "0", label = "Ingen", points = 0 },
  { value = "1", label = "Viss", points = 1 },
  { value = "2", label = "Tydlig", points = 2 },
]

[[areas]]
code = "school"
label = "Skola"
scale = "risk"
category = "school"

[[areas]]
code = "peers"
label = "Kamrater"
scale = "risk"
critical = true

[overall]
method = "rule"
levels = [{ code = "low", label = "Låg" }, { code = "high", label = "Hög" }]
thresholds = [{ level = "high", min_points = 3 }]
critical_level = "high"
"""


def test_the_shipped_instrument_loads_and_is_current() -> None:
    found = load_directory(SHIPPED_DIR)
    [instrument] = found.current()
    assert instrument.id == "samverkan-risk-skydd"
    assert {"school", "leisure", "networks"} <= {a.code for a in instrument.areas}
    assert instrument.area("school").category == "school"  # type: ignore[union-attr]
    assert instrument.area("leisure").category == "leisure"  # type: ignore[union-attr]


def test_the_shipped_file_names_its_public_sources_and_no_licensed_instrument_text() -> None:
    text = next(SHIPPED_DIR.glob("*.toml")).read_text(encoding="utf-8")
    assert "Socialstyrelsen" in text and "Brå" in text and "kunskapsguiden.se" in text
    assert "NOT ESTER, EARL" in text


def test_a_rule_derives_the_level_from_points_and_critical_areas() -> None:
    instrument = parse_instrument(GOOD, "good.toml")
    assert instrument.derive_level({"school": "1"}) == "low"
    assert instrument.derive_level({"school": "2", "peers": "1"}) == "high"
    # A critical area at the top of its scale raises the level whatever the sum.
    assert instrument.derive_level({"peers": "2"}) == "high"
    assert instrument.derive_level({"school": "2"}) == "low"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('id = "test-instrument"', 'id = "Test Instrument"'), "bad.toml: id: String should match"),
        (("age_min = 12", "age_min = 25"), "bad.toml: age_min: must not be above age_max"),
        (("age_max = 20", "age_max = 99"), "bad.toml: age_max:"),
        (('name = "Testinstrument"\n', ""), "bad.toml: name: Field required"),
        (('scale = "risk"\ncategory', 'scale = "nope"\ncategory'), "no scale 'nope' in [scales]"),
        (('code = "peers"', 'code = "school"'), "areas: each code may appear once"),
        (('category = "school"', 'category = "weather"'), "areas.0.category: 'weather'"),
        (('category = "school"', 'category = "identity"'), "areas.0.category: 'identity'"),
        (("critical = true", 'critical = "yes"'), "bad.toml: areas.1.critical:"),
        (('method = "rule"', 'method = "magic"'), "bad.toml: overall.method:"),
        (('level = "high", min', 'level = "extreme", min'), "unknown level 'extreme'"),
        (('critical_level = "high"', 'critical_level = "top"'), "critical_level: unknown level"),
        (
            ('thresholds = [{ level = "high", min_points = 3 }]', "thresholds = []"),
            "a rule needs at least one threshold",
        ),
        (
            ('{ value = "1", label = "Viss"', '{ value = "0", label = "Viss"'),
            "steps: each value may appear once",
        ),
        (('label = "Skola"', 'label = "Skola"\ncolour = "red"'), "Extra inputs are not permitted"),
        (('version = "2"', 'version = "två tre"'), "bad.toml: version:"),
        (("[overall]", "[overall"), "bad.toml: not valid TOML"),
    ],
)
def test_a_malformed_file_is_refused_naming_the_file_and_the_field(
    change: tuple[str, str], message: str
) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(InstrumentFileError) as refused:
        parse_instrument(GOOD.replace(old, new, 1), "bad.toml")
    assert message in str(refused.value)
    assert str(refused.value).startswith("bad.toml: ")


def test_a_directory_holds_one_current_version_per_instrument(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.toml").write_text(GOOD.replace('version = "2"', 'version = "1"'), "utf-8")
    with pytest.raises(InstrumentFileError, match=r"b.toml: status: test-instrument has two"):
        load_directory(tmp_path)
    (tmp_path / "b.toml").write_text(
        GOOD.replace('version = "2"', 'version = "1"\nstatus = "replaced"'), "utf-8"
    )
    found = load_directory(tmp_path)
    assert [i.version for i in found.current()] == ["2"]
    assert found.get("test-instrument", "1").is_replaced  # type: ignore[union-attr]
    (tmp_path / "c.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(InstrumentFileError, match=r"c.toml: id/version test-instrument 2"):
        load_directory(tmp_path)


def test_an_empty_or_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InstrumentFileError, match="no instrument files"):
        load_directory(tmp_path)
    with pytest.raises(InstrumentFileError, match="no such directory"):
        load_directory(tmp_path / "nowhere")


def test_the_instruments_directory_is_configurable(app: Flask, tmp_path: Path) -> None:
    (tmp_path / "own.toml").write_text(GOOD, encoding="utf-8")
    with app.app_context():
        assert catalogue().current()[0].id == "samverkan-risk-skydd"
        app.config["ASSESSMENT_INSTRUMENTS_DIR"] = str(tmp_path)
        try:
            assert [i.id for i in catalogue().current()] == ["test-instrument"]
        finally:
            app.config["ASSESSMENT_INSTRUMENTS_DIR"] = None


def test_the_committed_json_schema_matches_the_models() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "run `flask assessments schema` and commit docs/assessment-instrument.schema.json"
    )
    schema = json_schema()
    assert {"id", "version", "name", "areas", "scales", "overall"} <= set(schema["required"])
    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["title"] == schema["title"]


def test_the_cli_writes_the_schema_and_checks_a_directory(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["assessments", "schema", "--output", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s.json").read_text(encoding="utf-8") == schema_text()
    result = runner.invoke(args=["assessments", "check"])
    assert result.exit_code == 0 and "samverkan-risk-skydd 1 (current)" in result.output
    (tmp_path / "bad.toml").write_text(GOOD.replace("age_min = 12", "age_min = 30"), "utf-8")
    result = runner.invoke(args=["assessments", "check", str(tmp_path)])
    assert result.exit_code == 1 and "bad.toml: age_min" in result.output
