"""Internationalisation: every UI string has an English translation, and English renders.

The source language is Swedish. Strings are extracted with the same map as ``babel.cfg`` (the
one ``pybabel extract`` uses), so a new ``_("...")`` without an entry in the English catalog
fails here with a list of what is missing; run the Makefile's ``translations`` target and fill
in the new ``msgstr`` lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = ROOT / "babel.cfg"
ENGLISH_PO = ROOT / "coordination" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
# The same keywords as `pybabel extract -k _l -k lazy_gettext` (on top of Babel's defaults).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}

Key = tuple[str | tuple[str, ...], str | None]


def extracted_messages() -> dict[Key, list[str]]:
    """Every translatable message in the source tree -> the places it occurs."""
    with BABEL_CFG.open(encoding="utf-8") as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, str(BABEL_CFG))
    found: dict[Key, list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        found.setdefault((message, context), []).append(f"{filename}:{lineno}")
    return found


def english_catalog() -> Catalog:
    with ENGLISH_PO.open("rb") as fileobj:
        return read_po(fileobj, locale="en")


def is_translated(catalog: Catalog, message: str | tuple[str, ...], context: str | None) -> bool:
    msgid = message[0] if isinstance(message, tuple) else message
    entry = catalog.get(msgid, context)
    if entry is None or entry.fuzzy:
        return False
    strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
    return all(strings)


def test_extraction_reads_only_project_sources() -> None:
    places = [place for found in extracted_messages().values() for place in found]
    files = {place.rsplit(":", 1)[0] for place in places}
    assert "templates/base.html" in files
    assert "coordination/accounts/templates/coordination/login.html" in files
    assert "coordination/accounts/forms.py" in files
    assert not [f for f in files if f.startswith((".venv/", "tests/", "migrations/"))]


def test_every_extracted_message_has_an_english_translation() -> None:
    catalog = english_catalog()
    missing = [
        f"{message!r} ({', '.join(places)})"
        for (message, context), places in extracted_messages().items()
        if not is_translated(catalog, message, context)
    ]
    assert not missing, (
        f"{len(missing)} UI string(s) lack an English translation in "
        f"{ENGLISH_PO.relative_to(ROOT)} (run the translations target, then fill in msgstr):\n"
        + "\n".join(missing)
    )


def test_english_translations_keep_their_placeholders() -> None:
    problems = [
        f"{message.id!r}: {'; '.join(str(error) for error in errors)}"
        for message, errors in english_catalog().check()
    ]
    assert not problems, "\n".join(problems)


@pytest.fixture
def english_compiled(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """Compile the English catalog into a temporary folder and point Flask-Babel at it.

    Flask-Babel resolves the translation folders once, in ``init_app``, and caches loaded
    catalogs on the (module-level) Babel instance's domain, so both are swapped and the cache
    is emptied before and after.
    """
    target = tmp_path / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as fileobj:
        write_mo(fileobj, english_catalog())

    babel_config = app.extensions["babel"]
    with app.app_context():  # the domain is created lazily, from the current app's settings
        domain = babel_config.instance.domain_instance
    saved_setting = app.config.get("BABEL_TRANSLATION_DIRECTORIES")
    saved_directories = babel_config.translation_directories
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(tmp_path)
    babel_config.translation_directories = [str(tmp_path)]
    domain.cache.clear()
    try:
        yield tmp_path
    finally:
        app.config["BABEL_TRANSLATION_DIRECTORIES"] = saved_setting
        babel_config.translation_directories = saved_directories
        domain.cache.clear()


@pytest.mark.usefixtures("english_compiled")
def test_login_page_renders_in_english_when_chosen(client: FlaskClient) -> None:
    with client.session_transaction() as session:
        session["locale"] = "en"

    response = client.get("/login")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "<h1>Log in</h1>" in html
    assert "Email address" in html
    assert "Password" in html
    assert "Logga in" not in html
    assert "Lösenord" not in html


@pytest.mark.usefixtures("english_compiled")
def test_login_page_defaults_to_swedish(client: FlaskClient) -> None:
    response = client.get("/login")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="sv">' in html
    assert "<h1>Logga in</h1>" in html
    assert "Log in" not in html
