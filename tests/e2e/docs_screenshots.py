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


def save(page: Page, name: str) -> Path:
    """One screen of the page, as a palette PNG (a fraction of the size of a true-colour one)."""
    page.set_viewport_size({"width": 1280, "height": HEIGHT})
    page.evaluate("() => window.scrollTo(0, 0)")
    picture = Image.open(io.BytesIO(page.screenshot(full_page=False)))
    path = DOCS / f"{name}.png"
    picture.convert("RGB").quantize(colors=256).save(path, optimize=True)
    return path


def first_council(visitor: Visitor, name: str) -> None:
    visitor.nav("Mina forum")
    visitor.main().get_by_role("link", name=name).click()
    expect(visitor.heading(name)).to_be_visible()


def council_section(visitor: Visitor, name: str) -> None:
    visitor.page.get_by_role("navigation", name="Forumets sidor").get_by_role(
        "link", name=name
    ).click()


def past_meeting(visitor: Visitor) -> None:
    council_section(visitor, "Möten")
    visitor.page.get_by_role("link", name="Tidigare").click()
    expect(visitor.page.get_by_role("link", name="Tidigare")).to_have_attribute(
        "aria-current", "page"
    )
    visitor.main().get_by_role("table").get_by_role("link").first.click()


def council_page(visitor: Visitor) -> None:
    first_council(visitor, "SSPF Norr")


def child_as_police(visitor: Visitor) -> None:
    first_council(visitor, "Bob-råd Centrum")
    council_section(visitor, "Ärenden")
    visitor.main().get_by_role("table").get_by_role("link").first.click()


def minutes(visitor: Visitor) -> None:
    first_council(visitor, "Bob-råd Centrum")
    past_meeting(visitor)
    visitor.page.get_by_role("link", name="Protokoll / arbetsyta").click()


def actions(visitor: Visitor) -> None:
    visitor.nav("Min myndighets åtgärder")


def log_review(visitor: Visitor) -> None:
    visitor.nav("Loggkontroll")
    review = visitor.page.get_by_role("navigation", name="Loggkontroll", exact=True)
    review.get_by_role("link", name="Månadsgranskning").click()
    visitor.main().get_by_role("table").get_by_role("link").first.click()


# file name -> (demo account, how to get there)
SHOTS: dict[str, tuple[str, Callable[[Visitor], None]]] = {
    "council": ("samordnare", council_page),
    "child-as-police": ("polis", child_as_police),
    "minutes": ("samordnare", minutes),
    "actions-police": ("polis", actions),
    "log-review-month": ("granskare", log_review),
}


def main() -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = ui.launch(playwright)
        with demo_installation("samverkan_e2e_docs") as (stack, logins):
            visitors: dict[str, Visitor] = {}
            for name, (account, go) in SHOTS.items():
                if account not in visitors:
                    person = Person(logins.email(account), account, logins.password)
                    visitors[account] = Visitor.open(browser, person, stack.base_url)
                    visitors[account].log_in()
                visitor = visitors[account]
                go(visitor)
                visitor.page.wait_for_load_state()
                path = save(visitor.page, name)
                print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KiB")  # noqa: T201 - a script's report
            for visitor in visitors.values():
                visitor.close()
        browser.close()


if __name__ == "__main__":
    main()
