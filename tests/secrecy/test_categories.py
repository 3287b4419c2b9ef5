"""Categories are data: the shipped file, and what a malformed file is told."""

from __future__ import annotations

import tomllib

import pytest

from secrecy.policy.categories import (
    CATEGORIES_FILE,
    IDENTITY,
    Category,
    CategoryFileError,
    categories,
    category,
    parse_categories,
)

SHIPPED = [
    "identity",
    "family",
    "social_measures",
    "risk_protective",
    "crime_police",
    "threat_protection",
    "school",
    "health",
    "leisure",
    "agreed_action",
    "meeting_note",
    "individual_plan",
    "consent",
    "disclosure_assessment",
    "information_request",
    "age_exception",
]


def entry(key: str, sv: str = "Svensk", en: str = "English", special: str = "false") -> str:
    return f'[[category]]\nkey = "{key}"\nsv = "{sv}"\nen = "{en}"\nspecial = {special}\n\n'


def test_the_shipped_file_has_the_categories_of_the_design() -> None:
    """The eleven of DESIGN.md, plus consent (where a consent's sealed details live) and the
    written assessment behind a disclosure decision, the texts of an information request and
    of an exception from a council's age range."""
    loaded = categories()
    assert list(loaded) == SHIPPED  # file order is display order
    assert all(isinstance(c, Category) and c.key == key for key, c in loaded.items())
    assert {key for key, c in loaded.items() if c.special} == {"health", "crime_police"}
    assert all(c.sv and c.en and c.sv != c.key for c in loaded.values())


def test_labels_by_locale() -> None:
    health = category("health")
    assert (health.label("sv"), health.label("en")) == ("Hälsa", "Health")
    assert category("crime_police").label("sv") == "Brott och polisiär information"
    assert category(IDENTITY).label("de") == "Identitet"  # anything but English is Swedish


def test_an_unknown_category_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="unknown category 'horoscope'"):
        category("horoscope")


def test_the_shipped_file_parses_the_same_as_the_cache() -> None:
    assert parse_categories(CATEGORIES_FILE.read_text(encoding="utf-8")) == categories()


def test_a_minimal_file() -> None:
    parsed = parse_categories(entry("identity") + entry("pets", special="true"))
    assert parsed == {
        "identity": Category("identity", "Svensk", "English", False),
        "pets": Category("pets", "Svensk", "English", True),
    }


@pytest.mark.parametrize("missing", ["key", "sv", "en", "special"])
def test_a_missing_field_is_named_with_its_entry(missing: str) -> None:
    broken = "\n".join(
        line for line in entry("family").splitlines() if not line.startswith(f"{missing} =")
    )
    text = entry("identity") + broken + "\n"
    with pytest.raises(CategoryFileError) as caught:
        parse_categories(text)
    where = "category #2 (?)" if missing == "key" else "category #2 (family)"
    assert str(caught.value) == f"{where}: field {missing!r} missing or not " + (
        "bool" if missing == "special" else "str"
    )


def test_a_field_of_the_wrong_type_is_named() -> None:
    text = entry("identity") + entry("family", special='"yes"')
    with pytest.raises(CategoryFileError, match=r"category #2 \(family\): field 'special'"):
        parse_categories(text)
    text = entry("identity") + '[[category]]\nkey = 7\nsv = "a"\nen = "b"\nspecial = false\n'
    with pytest.raises(CategoryFileError, match=r"category #2 \(7\): field 'key'"):
        parse_categories(text)


def test_a_duplicate_key_is_named() -> None:
    text = entry("identity") + entry("school") + entry("school", sv="Skolan igen")
    with pytest.raises(CategoryFileError) as caught:
        parse_categories(text)
    assert str(caught.value) == "category #3 (school): key 'school' appears twice"


def test_identity_is_required() -> None:
    with pytest.raises(CategoryFileError, match="'identity' category is required"):
        parse_categories(entry("family") + entry("school"))
    with pytest.raises(CategoryFileError, match="'identity' category is required"):
        parse_categories("")


@pytest.mark.parametrize("key", ["not-an-identifier", "två ord", "", "k" * 41])
def test_a_key_must_be_a_short_identifier(key: str) -> None:
    with pytest.raises(CategoryFileError) as caught:
        parse_categories(entry("identity") + entry(key))
    assert str(caught.value) == f"category #2 ({key}): key must be a short identifier"


def test_a_category_file_error_is_a_value_error() -> None:
    assert issubclass(CategoryFileError, ValueError)


def test_toml_syntax_errors_surface_with_their_position() -> None:
    with pytest.raises(tomllib.TOMLDecodeError, match="line 1"):
        parse_categories("[[category]\nkey = ")
