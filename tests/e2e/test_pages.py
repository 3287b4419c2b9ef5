"""Every main page, as each role sees it, checked with axe-core and photographed.

The installation is loaded with ``flask demo`` (three councils, children, meetings, minutes,
actions, consents), so the pages are full, as a newcomer sees them. The tour follows links the
way a person does, so it adapts to whatever the demo holds; a page it cannot reach fails the
test. Screenshots go to ``artifacts/demo/screenshots`` (one per page and role).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Locator, expect

from tests.e2e.harness import DemoLogins, Stack, demo_installation
from tests.e2e.ui import (
    Person,
    Visitor,
    assert_accessible,
    assert_focus_visible,
    assert_reflows,
    axe_findings,
    press_until_focused,
    screenshot,
)

# role -> the demo account's local part
ROLES = {
    "admin": "admin",
    "coordinator": "samordnare",
    "social": "socialsekreterare",
    "police": "polis",
    "school": "skola",
    "auditor": "granskare",
}


@dataclass
class Demo:
    stack: Stack
    logins: DemoLogins
    browser: Browser


@pytest.fixture(scope="module")
def demo(browser: Browser) -> Iterator[Demo]:
    with demo_installation("samverkan_e2e_demo") as (stack, logins):
        yield Demo(stack, logins, browser)


class Tour:
    """One person's walk through the pages: each page is checked and photographed."""

    def __init__(self, visitor: Visitor, role: str) -> None:
        self.visitor = visitor
        self.page = visitor.page
        self.role = role
        self.seen: list[str] = []

    def check(self, name: str) -> None:
        expect(self.page.get_by_role("heading", level=1)).to_have_count(1)
        expect(self.page.get_by_role("main")).to_be_visible()
        assert_accessible(self.page, f"{self.role}: {name}")
        assert_reflows(self.page, f"{self.role}: {name}")
        screenshot(self.page, "demo", f"{self.role}-{len(self.seen) + 1:02d}-{name}")
        self.seen.append(name)

    def follow(self, link: Locator, name: str) -> None:
        expect(link).to_be_visible()
        link.click()
        self.page.wait_for_load_state()
        self.check(name)

    def menu(self, name: str, page_name: str) -> None:
        self.visitor.nav(name)
        self.check(page_name)

    def first_link_in_table(self) -> Locator:
        return self.page.get_by_role("main").get_by_role("table").first.get_by_role("link").first


def personal_pages(tour: Tour) -> None:
    tour.menu("Mina åtgärder", "my-actions")
    tour.menu("Min myndighets åtgärder", "agency-actions")
    tour.menu("Notiser", "notifications")
    tour.menu("Mitt konto", "account")
    tour.follow(tour.page.get_by_role("link", name="Hantera API-tokens"), "api-tokens")


def council_pages(tour: Tour) -> None:
    """A council the person belongs to, and everything it holds about its children."""
    page = tour.page
    tour.visitor.nav("Mina forum")
    tour.follow(
        page.get_by_role("main").get_by_role("heading", level=2).get_by_role("link").first,
        "council",
    )
    council = page.url
    sections = page.get_by_role("navigation", name="Forumets sidor")

    tour.follow(sections.get_by_role("link", name="Ärenden"), "caseload")
    tour.follow(tour.first_link_in_table(), "child")
    tour.follow(page.get_by_role("link", name="Samtycken"), "consents")

    page.goto(council)
    tour.follow(sections.get_by_role("link", name="Möten"), "meetings")
    page.get_by_role("link", name="Tidigare").click()
    expect(page.get_by_role("link", name="Tidigare")).to_have_attribute("aria-current", "page")
    held = tour.first_link_in_table()
    if held.count() == 0:  # a demo without past meetings: the next one
        page.get_by_role("link", name="Kommande").click()
    tour.follow(tour.first_link_in_table(), "meeting")
    tour.follow(page.get_by_role("link", name="Protokoll / arbetsyta"), "minutes")
    # A child's writing page, where the person's agency may write (draft) or correct (approved).
    writing = page.get_by_role("main").get_by_role(
        "link", name=re.compile(r"^(Ny anteckning eller nytt beslut|Rätta)\b")
    )
    if writing.count():
        tour.follow(writing.first, "minutes-child")
    page.goto(council)
    tour.follow(sections.get_by_role("link", name="Nätverk och familj"), "network-meetings")
    network = tour.first_link_in_table()
    if network.count():
        tour.follow(network, "network-meeting")
    page.goto(council)
    tour.follow(sections.get_by_role("link", name="Åtgärder"), "council-actions")
    action = tour.first_link_in_table()
    if action.count():
        tour.follow(action, "action")
    page.goto(council)
    tour.follow(sections.get_by_role("link", name="Rapporter"), "reports")
    page.goto(council)
    tour.follow(sections.get_by_role("link", name="Målgruppsålder"), "age-rules")
    tour.follow(page.get_by_role("link", name="Avsteg från målgruppsålder"), "age-exceptions")
    page.go_back()
    tour.follow(
        page.get_by_role("link", name="Åldersgränser de närmaste 60 dagarna"), "age-thresholds"
    )


def coordinator_pages(tour: Tour) -> None:
    page = tour.page
    tour.visitor.nav("Mina forum")
    page.get_by_role("main").get_by_role("heading", level=2).get_by_role("link").first.click()
    tour.visitor.council_section("Möten")
    tour.follow(page.get_by_role("link", name="Mötesplaner"), "schedules")
    tour.follow(page.get_by_role("link", name="Ny mötesplan"), "schedule-form")
    page.go_back()
    tour.follow(page.get_by_role("link", name="Lägg till ett extra möte"), "meeting-form")
    page.go_back()
    page.go_back()
    tour.follow(page.get_by_role("link", name="Månadskalender"), "calendar")


def admin_pages(tour: Tour) -> None:
    page = tour.page
    tour.menu("Administration", "admin-agencies")
    admin = page.get_by_role("navigation", name="Administration")
    tour.follow(tour.first_link_in_table(), "admin-agency")
    tour.follow(admin.get_by_role("link", name="Användare"), "admin-users")
    tour.follow(tour.first_link_in_table(), "admin-user")
    tour.follow(admin.get_by_role("link", name="Forum"), "admin-councils")
    tour.follow(tour.first_link_in_table(), "council-as-admin")
    tour.follow(page.get_by_role("link", name="Ändra forumets uppgifter"), "admin-council")
    tour.follow(admin.get_by_role("link", name="Rättsliga grunder"), "admin-legal-bases")


def auditor_pages(tour: Tour) -> None:
    page = tour.page
    tour.menu("Loggkontroll", "log-review")
    review = page.get_by_role("navigation", name="Loggkontroll", exact=True)
    tour.follow(review.get_by_role("link", name="Månadsgranskning"), "log-months")
    tour.follow(tour.first_link_in_table(), "log-month")


@pytest.mark.parametrize("role", list(ROLES))
def test_main_pages_pass_axe_for_each_role(demo: Demo, role: str) -> None:
    person = Person(demo.logins.email(ROLES[role]), role, demo.logins.password)
    visitor = Visitor.open(demo.browser, person, demo.stack.base_url)
    try:
        visitor.submit_password()
        tour = Tour(visitor, role)
        tour.check("enrolment")
        visitor.enrol()
        tour.check("start")
        personal_pages(tour)
        if role == "admin":
            admin_pages(tour)
        elif role == "auditor":
            auditor_pages(tour)
        else:
            council_pages(tour)
        if role == "coordinator":
            coordinator_pages(tour)
        # An error page, as anyone may meet one.
        response = visitor.page.goto("/no-such-page")
        assert response is not None and response.status == 404
        tour.check("not-found")
        assert len(tour.seen) >= 9, tour.seen
    finally:
        visitor.close()


@pytest.fixture
def anonymous(demo: Demo) -> Iterator[Visitor]:
    """Someone not logged in, on the log-in page."""
    visitor = Visitor.open(
        demo.browser, Person("nobody@exempelstad.se", "", ""), demo.stack.base_url
    )
    visitor.goto("/login")
    expect(visitor.heading("Logga in")).to_be_visible()
    yield visitor
    visitor.close()


def test_log_in_page_passes_axe(anonymous: Visitor) -> None:
    page = anonymous.page
    assert_accessible(page, "login")
    screenshot(page, "demo", "anonymous-login")
    # A wrong password: the message, and the page is still accessible.
    page.get_by_label("E-postadress").fill("nobody@exempelstad.se")
    page.get_by_label("Lösenord").fill("fel-lösenord-123")
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("alert")).to_contain_text(re.compile("Inloggningen misslyckades"))
    assert_accessible(page, "login refused")


def test_language_changes_only_on_its_button_with_the_keyboard(anonymous: Visitor) -> None:
    """Arrow keys on the language select change its value, not the page (WCAG 3.2.2 On
    Input): the form is sent when the person presses its button."""
    page = anonymous.page
    page.evaluate(
        "() => { window.submits = 0;"
        " document.addEventListener('submit', () => { window.submits += 1; }, true); }"
    )
    language = page.get_by_label("Språk", exact=True)
    press_until_focused(page, language)
    assert_focus_visible(page)
    page.keyboard.press("ArrowDown")
    expect(language).to_have_value("en")
    # A submit would have been dispatched during the key press itself.
    assert page.evaluate("window.submits") == 0
    assert page.evaluate("document.documentElement.lang") == "sv"
    button = page.get_by_role("button", name="Byt språk")
    press_until_focused(page, button)
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_accessible(page, "login in English")
    language = page.get_by_label("Language", exact=True)
    language.focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "sv")


def test_the_checks_fail_on_a_page_with_faults(anonymous: Visitor) -> None:
    """The checks above can fail: faults planted in a real page are reported."""
    page = anonymous.page
    page.evaluate(
        """() => {
            const main = document.querySelector("main");
            main.append(document.createElement("input"));  // a field without a label
            const wide = document.createElement("div");
            wide.style.width = "600px";  // CSSOM, so the CSP allows it
            wide.textContent = "x";
            main.append(wide);
        }"""
    )
    rules = {(f.rule, f.impact) for f in axe_findings(page)}
    assert ("label", "critical") in rules
    with pytest.raises(AssertionError, match="label"):
        assert_accessible(page, "planted faults")
    with pytest.raises(AssertionError, match="px wide at 320 px"):
        assert_reflows(page, "planted faults")
