"""Structured assessments in a real browser, on the demo installation: a social secretary
assesses a child twice, a month apart, discloses the school area of the latest assessment to the
school on the family's consent, and the school's member sees that area, and only that, in the
history and in the chart on the child page.

The first assessment is dated a month back (the assessor types the day it was made, as when an
assessment is entered afterwards); "today" is the installation's clock (``tests/clock.py``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.harness import DemoLogins, Stack, demo_installation
from tests.e2e.ui import Person, Visitor, assert_accessible, assert_reflows, screenshot, today

SHOTS = "assessments"
COUNCIL = "SSPF Norr"
SCHOOL_AGENCY = "Grundskoleförvaltningen Exempelstad"
SCHOOL_1 = "Hög frånvaro hela hösten [markör ASK1-7B]"
SCHOOL_2 = "Närvaron är bättre efter nytt schema [markör ASK2-3D]"
FAMILY_1 = "Svårt att sätta gränser på kvällarna [markör AFA1-5Q]"
FAMILY_2 = "Familjen har börjat i föräldrastöd [markör AFA2-9Z]"
LEISURE_2 = "Provar på fotboll [markör ALE2-2K]"


@dataclass
class Demo:
    stack: Stack
    logins: DemoLogins
    browser: Browser

    def visitor(self, local_part: str) -> Visitor:
        person = Person(self.logins.email(local_part), local_part, self.logins.password)
        visitor = Visitor.open(self.browser, person, self.stack.base_url)
        visitor.log_in()
        return visitor


@pytest.fixture(scope="module")
def demo(browser: Browser) -> Iterator[Demo]:
    with demo_installation("samverkan_e2e_assessments") as (stack, logins):
        yield Demo(stack, logins, browser)


def check(page: Page, label: str) -> None:
    assert_accessible(page, label)
    assert_reflows(page, label)


def fill_assessment(page: Page, day: dt.date, scores: dict[str, tuple[str, str]]) -> None:
    page.get_by_label("Datum för bedömningen").fill(day.isoformat())
    for area, (score, comment) in scores.items():
        page.get_by_label(area, exact=True).select_option(score)
        page.get_by_label(f"Kommentar: {area}", exact=True).fill(comment)
    page.get_by_role("button", name="Spara bedömningen").click()


def test_two_assessments_a_month_apart_and_the_school_sees_only_the_disclosed_area(
    demo: Demo,
) -> None:
    social = demo.visitor("socialsekreterare")
    page = social.page
    social.open_council(COUNCIL)
    social.council_section("Ärenden")
    # Alva, the first child of SSPF Norr: her family's consent covers school information.
    caseload = page.get_by_role("main").get_by_role("table")
    caseload.get_by_role("link", name=f"NORR-{today().year}-001").click()
    child_path = re.sub(r"^https?://[^/]+", "", page.url)
    panel = page.get_by_role("region", name="Strukturerade bedömningar")
    expect(panel).to_contain_text("Inga bedömningar ännu.")
    panel.get_by_role("link", name="Alla bedömningar").click()
    page.get_by_role("link", name=re.compile(r"^Risk- och skyddsfaktorer")).click()
    expect(social.heading(re.compile("^Ny bedömning"))).to_be_visible()
    check(page, "new assessment")

    # A day in the future is refused, with the message next to the field; nothing is saved.
    fill_assessment(page, today() + dt.timedelta(days=3), {"Skola": ("2", SCHOOL_1)})
    expect(page.locator("[data-error-summary]")).to_contain_text("i framtiden")
    first_day = today() - dt.timedelta(days=31)
    fill_assessment(
        page, first_day, {"Skola": ("2", SCHOOL_1), "Familj och föräldraskap": ("2", FAMILY_1)}
    )
    expect(social.flash()).to_contain_text("Bedömningen är sparad.")
    expect(social.main()).to_contain_text("Förhöjd")

    page.get_by_role("link", name=re.compile("^Strukturerade bedömningar för")).click()
    page.get_by_role("link", name=re.compile(r"^Risk- och skyddsfaktorer")).click()
    fill_assessment(
        page,
        today(),
        {
            "Skola": ("1", SCHOOL_2),
            "Familj och föräldraskap": ("1", FAMILY_2),
            "Fritid": ("1", LEISURE_2),
        },
    )
    expect(social.flash()).to_contain_text("Bedömningen är sparad.")
    check(page, "assessment")
    screenshot(page, SHOTS, "01-assessment-owner")

    # The school area of the latest assessment, to the school, on the consent.
    page.get_by_role("link", name="Lämna ut området Skola").click()
    recipient = page.locator(
        "section.disclosure-recipient",
        has=page.get_by_role("heading", name=re.compile(SCHOOL_AGENCY)),
    )
    recipient.locator('input[type="radio"][value="consent"]').check()
    for box in recipient.locator('input[type="checkbox"][name^="confirm-consent-"]').all():
        box.check()
    recipient.get_by_label("Er bedömning i det enskilda fallet").fill(
        "Vårdnadshavaren och Alva har samtyckt till att skolan får veta hur det går i skolan."
    )
    recipient.get_by_role("button", name=f"Lämna ut till {SCHOOL_AGENCY}").click()
    expect(social.flash()).to_contain_text(f"Uppgiften är utlämnad till {SCHOOL_AGENCY}.")

    social.goto(child_path + "/assessments")
    expect(page.locator("#spark-school")).to_contain_text("−1 sedan föregående")
    expect(page.locator("#spark-family")).to_be_visible()
    check(page, "assessment history owner")

    school = demo.visitor("skola")
    history = school.goto(child_path + "/assessments")
    main = school.main()
    expect(main).to_contain_text(SCHOOL_2)
    expect(main.get_by_text("Undanhållen").first).to_be_visible()
    html = history.content()
    for marker in (SCHOOL_1, FAMILY_1, FAMILY_2, LEISURE_2):
        assert marker not in html, f"{marker!r} leaked to the school"
    expect(history.locator("#spark-school")).to_be_visible()
    expect(history.locator("#spark-family")).to_have_count(0)
    check(history, "assessment history school")
    screenshot(history, SHOTS, "02-history-school")
    school.goto(child_path)
    expect(school.page.get_by_role("region", name="Strukturerade bedömningar")).to_be_visible()
    expect(school.page.locator("#spark-school")).to_be_visible()
    expect(school.page.locator("#spark-family")).to_have_count(0)
    assert FAMILY_2 not in school.page.content()
    social.close()
    school.close()
