"""The README's screenshots: the demo, photographed as its users see it.

    .venv/bin/python -m tests.e2e.docs_screenshots

starts an installation with ``flask demo`` (like the browser tests: gunicorn, the scheduler,
a scratch PostgreSQL database that is dropped afterwards), logs in as the demo users and writes
``docs/screenshots/*.png``: 1280 pixels wide, one screen high, reduced to a 256-colour palette.
Run it again after a change to the pages or the demo, and look at the pictures before you
commit them.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e import ui
from tests.e2e.harness import ROOT, demo_installation
from tests.e2e.ui import Person, Visitor

DOCS = ROOT / "docs" / "screenshots"
HEIGHT = 900


def save(page: Page, name: str, width: int = 1280, height: int = HEIGHT, at: str = "") -> Path:
    """One screen of the page, as a palette PNG (a fraction of the size of a true-colour one);
    ``at``: a selector scrolled to the top of the screen, else the page's top."""
    page.set_viewport_size({"width": width, "height": height})
    page.evaluate("() => window.scrollTo(0, 0)")
    if at:
        page.locator(at).first.evaluate("element => element.scrollIntoView()")
    picture = Image.open(io.BytesIO(page.screenshot(full_page=False)))
    path = DOCS / f"{name}.png"
    picture.convert("RGB").quantize(colors=256).save(path, optimize=True)
    return path


def past_meeting(visitor: Visitor) -> None:
    visitor.council_section("Möten")
    visitor.page.get_by_role("link", name="Tidigare").click()
    expect(visitor.page.get_by_role("link", name="Tidigare")).to_have_attribute(
        "aria-current", "page"
    )
    visitor.main().get_by_role("table").get_by_role("link").first.click()


def council_page(visitor: Visitor) -> None:
    visitor.open_council("SSPF Norr")


def child_as_police(visitor: Visitor) -> None:
    visitor.open_council("Bob-råd Centrum")
    visitor.council_section("Ärenden")
    visitor.main().get_by_role("table").get_by_role("link").first.click()


def minutes(visitor: Visitor) -> None:
    visitor.open_council("Bob-råd Centrum")
    past_meeting(visitor)
    visitor.page.get_by_role("link", name="Protokoll / arbetsyta").click()


def actions(visitor: Visitor) -> None:
    visitor.nav("Min myndighets åtgärder")


def log_review(visitor: Visitor) -> None:
    visitor.nav("Loggkontroll")
    review = visitor.page.get_by_role("navigation", name="Loggkontroll", exact=True)
    review.get_by_role("link", name="Månadsgranskning").click()
    visitor.main().get_by_role("table").get_by_role("link").first.click()


def writing_page(visitor: Visitor) -> None:
    """A child's writing page: who can be given what is written, stated once per recipient."""
    minutes(visitor)
    visitor.page.locator("a[href*='/minutes/children/']").first.click()
    expect(visitor.heading("Skriv i protokollet")).to_be_visible()
    why = visitor.page.locator("#recipients details")
    if why.count():
        why.first.evaluate("element => element.open = true")


def attendance(visitor: Visitor) -> None:
    visitor.open_council("Bob-råd Centrum")
    past_meeting(visitor)


def error_summary(visitor: Visitor) -> None:
    visitor.nav("Mitt konto")
    visitor.page.get_by_role("button", name="Byt lösenord").click()


def reports(visitor: Visitor) -> None:
    visitor.open_council("SSPF Norr")
    visitor.council_section("Rapporter")


def log_events(visitor: Visitor) -> None:
    visitor.nav("Loggkontroll")


def phone(visitor: Visitor) -> None:
    visitor.open_council("Bob-råd Centrum")
    past_meeting(visitor)


# file name -> (demo account, how to get there[, (width, height, selector at the top)])
SHOTS: dict[
    str,
    tuple[str, Callable[[Visitor], None]]
    | tuple[str, Callable[[Visitor], None], tuple[int, int, str]],
] = {
    "council": ("samordnare", council_page),
    "child-as-police": ("polis", child_as_police),
    "minutes": ("samordnare", minutes),
    "actions-police": ("polis", actions),
    "log-review-month": ("granskare", log_review),
    "writing-page": ("socialsekreterare", writing_page, (1280, HEIGHT, "h1")),
    "attendance": ("samordnare", attendance, (1280, HEIGHT, "#attendance")),
    "error-summary": ("samordnare", error_summary, (1280, HEIGHT, "#password")),
    "reports": ("samordnare", reports, (1280, HEIGHT, "")),
    "log-events": ("granskare", log_events, (1280, HEIGHT, "")),
    "meeting-375px": ("samordnare", phone, (375, 667, "")),
}


def main() -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = ui.launch(playwright)
        with demo_installation("samverkan_e2e_docs") as (stack, logins):
            visitors: dict[str, Visitor] = {}
            for name, (account, go, *view) in SHOTS.items():
                if account not in visitors:
                    person = Person(logins.email(account), account, logins.password)
                    visitors[account] = Visitor.open(browser, person, stack.base_url)
                    visitors[account].log_in()
                visitor = visitors[account]
                go(visitor)
                visitor.page.wait_for_load_state()
                width, height, at = view[0] if view else (1280, HEIGHT, "")
                path = save(visitor.page, name, width, height, at)
                print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KiB")  # noqa: T201 - a script's report
            for visitor in visitors.values():
                visitor.close()
        browser.close()


if __name__ == "__main__":
    main()
