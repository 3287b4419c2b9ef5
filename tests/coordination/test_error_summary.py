"""Feedback people can see: every form carries an error summary at its top (role=alert,
focused when the page opens, links to the fields in error), a refusal that belongs to no field
stands in the same summary, and a change made lands on a page that opens at its message."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from coordination.models import AgencyKind
from tests.coordination.conftest import post_new_user
from tests.factories import AgencyFactory

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = ("templates", "coordination", "secrecy", "meetings", "minutes")


def summary_of(html: str) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert match, "no error summary on the page"
    return match.group(0)


def test_an_invalid_form_opens_at_a_summary_that_links_to_its_fields(
    admin_client: FlaskClient, db: Session
) -> None:
    agency = AgencyFactory(kind=AgencyKind.POLICE)
    response = post_new_user(
        admin_client, agency, {"email": "inte-en-adress", "display_name": "", "roles": []}
    )
    assert response.status_code == 422
    summary = summary_of(response.text)
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary and "autofocus" in summary
    assert "Det finns fel i formuläret" in summary
    assert re.search(r'<a href="#email">E-post[^<]*: [^<]+</a>', summary)
    assert re.search(r'<a href="#display_name">[^<]+: Fältet måste fyllas i\.</a>', summary)
    # The summary stands inside the form, before its first field; the general sentence of an
    # invalid form is not repeated above it.
    at = response.text.index('class="error-summary"')
    before = response.text[:at]
    assert before.rfind("<form") > before.rfind("</form>")  # inside the form
    assert at < response.text.index('id="email"')
    assert "Formuläret innehåller fel" not in response.text
    # Every linked field exists on the page.
    for target in re.findall(r'href="#([^"]+)"', summary):
        assert f'id="{target}"' in response.text


def test_a_refusal_without_a_field_stands_in_the_summary(
    admin_client: FlaskClient, db: Session
) -> None:
    admin_client.post("/admin/agencies", data={"kind": "school", "name": "Skolan"})
    duplicate = admin_client.post("/admin/agencies", data={"kind": "school", "name": "skolan"})
    assert duplicate.status_code == 422
    summary = summary_of(duplicate.text)
    assert 'role="alert"' in summary
    assert summary.count("<li>") + summary.count("<li><a") >= 1


def test_a_change_made_lands_on_a_page_opening_at_its_message(
    admin_client: FlaskClient, db: Session
) -> None:
    response = admin_client.post("/admin/agencies", data={"kind": "police", "name": "Polisen Öst"})
    assert response.status_code == 302
    assert "#" not in response.headers["Location"]  # no anchor that scrolls the message away
    page = admin_client.get(response.headers["Location"])
    assert re.search(r'<div class="flashes" role="status" tabindex="-1" data-flashes>', page.text)
    assert "Polisen Öst" in page.text


def test_every_form_with_fields_goes_through_the_shared_macro() -> None:
    """A WTForms form's CSRF token is rendered only by form_tag (templates/_forms.html), which
    puts the error summary at the top of the form; a hand-written form is a button or a GET
    filter, with nothing to summarise."""
    offenders = []
    for folder in TEMPLATE_DIRS:
        for path in (ROOT / folder).rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            if path.name == "_forms.html":
                continue
            if re.search(r"\{\{\s*[\w.]+\.(csrf_token|hidden_tag\(\))\s*\}\}", text):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_page_script_focuses_the_summary_and_the_site_has_a_favicon(
    admin_client: FlaskClient,
) -> None:
    script = (ROOT / "static" / "app.js").read_text(encoding="utf-8")
    assert "[data-error-summary]" in script and ".focus()" in script
    page = admin_client.get("/admin/agencies")
    assert re.search(r'<link rel="icon" href="/static/favicon.svg', page.text)
    icon = admin_client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    icon.close()
