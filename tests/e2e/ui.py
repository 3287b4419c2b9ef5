"""Driving the browser as a person would: one browser context per user, log-in with a TOTP code
computed here from the secret the enrolment page shows, axe-core on the pages, screenshots.

Locators are by role and label wherever the page allows it, so the tests also prove that the
controls have accessible names.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Playwright,
    ViewportSize,
    expect,
)

from tests.clock import INSTALLATION, Clock
from tests.e2e.harness import ARTIFACTS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # Swedish date fields (åååå-mm-dd), as the users see them.
    "--lang=sv-SE",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
TOTP_STEP = 30
# axe-core impacts that fail a page; "moderate" and "minor" are reported in the artifacts only.
BLOCKING_IMPACTS = ("serious", "critical")

_axe = Axe()


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def today() -> dt.date:
    """The installations' idea of today: the calendar day in Stockholm on their clock."""
    return INSTALLATION.today()


# --- TOTP (RFC 6238), independent of the app's own implementation -----------------------------


def totp_code(secret_base32: str, step: int) -> str:
    secret = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    digest = hmac.new(secret, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


@dataclass
class Person:
    email: str
    name: str
    password: str
    totp_secret: str | None = None
    # The app refuses a time step it has accepted before (no replay): remember the last one.
    last_step: int | None = None
    # An administrator typed the password (a new account): the first log-in replaces it.
    start_password: bool = False
    # The clock of the installation the person logs in to: the codes are computed on it.
    clock: Clock = INSTALLATION

    def next_code(self) -> str:
        """A code for a step the app has not seen from this user. The app accepts the current
        step and one on either side, so two log-ins within one 30-second window still work."""
        assert self.totp_secret is not None, f"{self.email} has no authenticator yet"
        now = int(self.clock.timestamp()) // TOTP_STEP
        step = now if self.last_step is None else max(now, self.last_step + 1)
        assert step <= now + 1, "more than two codes in one 30-second window"
        self.last_step = step
        return totp_code(self.totp_secret, step)

    def wrong_code(self) -> str:
        """Six digits that are no valid code now, whatever the clock does meanwhile."""
        assert self.totp_secret is not None
        now = int(self.clock.timestamp()) // TOTP_STEP
        valid = {totp_code(self.totp_secret, step) for step in range(now - 2, now + 3)}
        return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in valid)


# --- One person's browser ---------------------------------------------------------------------


@dataclass
class Visitor:
    """A person with a browser context of their own (their own cookies), and its one tab."""

    person: Person
    context: BrowserContext
    page: Page
    base_url: str
    dialogs: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, browser: Browser, person: Person, base_url: str) -> Visitor:
        context = browser.new_context(
            base_url=base_url,
            viewport=VIEWPORT,
            locale="sv-SE",
            timezone_id="Europe/Stockholm",
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        visitor = cls(person, context, page, base_url)

        def accept(dialog: Any) -> None:
            # data-confirm buttons ask first; the person says yes (the text is kept for asserts).
            visitor.dialogs.append(dialog.message)
            dialog.accept()

        page.on("dialog", accept)
        OPEN_PAGES.append((person.email, page))
        return visitor

    def close(self) -> None:
        OPEN_PAGES[:] = [(who, p) for who, p in OPEN_PAGES if p is not self.page]
        self.context.close()

    def goto(self, path: str) -> Page:
        response = self.page.goto(path)
        assert response is not None and response.ok, f"GET {path}: {response and response.status}"
        return self.page

    def heading(self, name: str | re.Pattern[str]) -> Locator:
        return self.page.get_by_role("heading", level=1, name=name)

    def main(self) -> Locator:
        return self.page.get_by_role("main")

    def flash(self) -> Locator:
        return self.page.get_by_role("status")

    # -- log-in --------------------------------------------------------------------------------

    def submit_password(self) -> None:
        page = self.goto("/login")
        expect(self.heading("Logga in")).to_be_visible()
        page.get_by_label("E-postadress").fill(self.person.email)
        page.get_by_label("Lösenord").fill(self.person.password)
        page.get_by_role("button", name="Logga in").click()

    def enrol(self) -> list[str]:
        """First log-in when two-factor is required: read the key the page shows for typing by
        hand, compute the code, and return the recovery codes the app hands out once."""
        page = self.page
        expect(self.heading("Ställ in tvåfaktorsinloggning")).to_be_visible()
        expect(page.get_by_role("img", name="QR-kod för autentiseringsappen")).to_be_visible()
        secret = page.locator("p", has_text="Nyckel för inmatning för hand").locator("code")
        self.person.totp_secret = secret.inner_text().strip()
        page.get_by_label("Sexsiffrig kod från appen").fill(self.person.next_code())
        page.get_by_role("button", name="Aktivera tvåfaktorsinloggning").click()
        expect(self.heading("Dina reservkoder")).to_be_visible()
        codes = [c.strip() for c in page.locator("ul.codes li").all_inner_texts()]
        page.get_by_role("link", name="Jag har sparat koderna").click()
        if self.person.start_password:
            self.choose_own_password()
        expect(self.heading("Mina forum")).to_be_visible()
        return codes

    def choose_own_password(self) -> None:
        """The first log-in with an administrator's start password: the app asks for one's own
        before anything else."""
        page = self.page
        expect(self.heading("Välj ett eget lösenord")).to_be_visible()
        own = self.person.password + "-eget"
        page.get_by_label("Nytt lösenord (minst 12 tecken)").fill(own)
        page.get_by_label("Upprepa det nya lösenordet").fill(own)
        page.get_by_role("button", name="Spara lösenordet").click()
        expect(self.flash()).to_contain_text("Ditt lösenord är sparat.")
        self.person.password = own
        self.person.start_password = False

    def second_factor(self) -> None:
        page = self.page
        expect(self.heading("Tvåfaktorsinloggning")).to_be_visible()
        page.get_by_label("Kod från autentiseringsappen eller en reservkod").fill(
            self.person.next_code()
        )
        page.get_by_role("button", name="Fortsätt").click()
        expect(self.heading("Mina forum")).to_be_visible()

    def log_in(self) -> None:
        """Password, then enrolment on the first log-in or the TOTP code after that."""
        self.submit_password()
        if self.person.totp_secret is None:
            self.enrol()
        else:
            self.second_factor()
        expect(self.page.get_by_role("button", name="Logga ut")).to_be_visible()

    def log_out(self) -> None:
        self.page.get_by_role("button", name="Logga ut").click()
        expect(self.heading("Logga in")).to_be_visible()
        expect(self.flash()).to_contain_text("Du är utloggad.")

    # -- navigation ----------------------------------------------------------------------------

    def nav(self, name: str) -> Page:
        """A link of the main menu."""
        menu = self.page.get_by_role("navigation", name="Huvudmeny")
        menu.get_by_role("link", name=name).click()
        return self.page

    def open_council(self, council: str) -> Page:
        self.nav("Mina forum")
        self.main().get_by_role("link", name=council).click()
        expect(self.heading(council)).to_be_visible()
        return self.page

    def council_section(self, name: str) -> Page:
        """A link of the open council's own menu (Ärenden, Möten, Åtgärder, ...)."""
        menu = self.page.get_by_role("navigation", name="Forumets sidor")
        menu.get_by_role("link", name=name).click()
        return self.page


OPEN_PAGES: list[tuple[str, Page]] = []


# --- The keyboard ---------------------------------------------------------------------------------


def focused(locator: Locator) -> bool:
    return bool(locator.evaluate("element => element === document.activeElement"))


def press_until_focused(page: Page, target: Locator, key: str = "Tab", limit: int = 60) -> int:
    """Press Tab (or Shift+Tab) until the target has the focus; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press(key)
        if focused(target):
            return presses
    raise AssertionError(f"{key} never reached {target}")


def assert_focus_visible(page: Page) -> None:
    """The focused element shows a focus indicator: a solid outline at least 2 px wide."""
    ring: dict[str, str] = page.evaluate(
        """() => {
            const style = getComputedStyle(document.activeElement);
            return {outline: style.outlineStyle, width: style.outlineWidth,
                    tag: document.activeElement.tagName, id: document.activeElement.id};
        }"""
    )
    assert ring["outline"] not in ("none", "") and float(ring["width"].rstrip("px")) >= 2, ring


# --- Accessibility and pictures ---------------------------------------------------------------


@dataclass
class AxeFinding:
    rule: str
    impact: str
    help: str
    targets: list[str]

    def __str__(self) -> str:
        return f"{self.impact}: {self.rule} ({self.help}) at {', '.join(self.targets[:5])}"


def axe_findings(page: Page) -> list[AxeFinding]:
    results = _axe.run(page)
    # A run that checked nothing would pass every page: axe must have evaluated its rules.
    assert len(results.response["passes"]) >= 5, f"axe checked almost nothing on {page.url}"
    return [
        AxeFinding(
            rule=v["id"],
            impact=v.get("impact") or "unknown",
            help=v["help"],
            targets=[" ".join(map(str, n["target"])) for n in v["nodes"]],
        )
        for v in results.response["violations"]
    ]


AXE_LOG: list[str] = []


def assert_accessible(page: Page, label: str) -> None:
    """No serious or critical axe-core violation on the page as it is now. Lesser findings go
    to the artifacts' axe report."""
    findings = axe_findings(page)
    for finding in findings:
        AXE_LOG.append(f"{label} {page.url}: {finding}")
    blocking = [f for f in findings if f.impact in BLOCKING_IMPACTS]
    assert not blocking, f"axe on {label} ({page.url}):\n" + "\n".join(map(str, blocking))


NARROW: ViewportSize = {"width": 320, "height": 800}

# Elements that stick out of the viewport, outside the boxes that scroll tables on purpose.
_OVERFLOWING = """() => {
    const limit = window.innerWidth + 1;
    const out = [];
    for (const el of document.body.querySelectorAll("*")) {
        if (el.closest(".table-scroll") || el.closest(".visually-hidden")) continue;
        const box = el.getBoundingClientRect();
        const spills = el.scrollWidth > el.clientWidth + 1
            && getComputedStyle(el).overflowX === "visible" && el.clientWidth > 0;
        if ((box.width > 0 && box.right > limit) || spills) {
            const name = el.tagName.toLowerCase() + (el.className ? "." + String(el.className)
                .trim().split(/\\s+/).join(".") : "");
            out.push(`${name} (right edge ${Math.round(box.right)} px)`);
        }
    }
    return {width: document.documentElement.scrollWidth, offenders: out.slice(-5)};
}"""


def settle(page: Page) -> None:
    """Let the page handle a resize (app.js marks scrollable tables): two animation frames."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def assert_reflows(page: Page, label: str) -> None:
    """WCAG 1.4.10: at 320 CSS pixels the page needs no horizontal scrolling (tables scroll in
    their own box), and axe still finds nothing serious (e.g. a scroll box the keyboard cannot
    reach). The viewport is restored afterwards."""
    page.set_viewport_size(NARROW)
    try:
        settle(page)
        reflow = page.evaluate(_OVERFLOWING)
        assert reflow["width"] <= NARROW["width"], (
            f"{label} ({page.url}) is {reflow['width']} px wide at 320 px: {reflow['offenders']}"
        )
        assert_accessible(page, f"{label} at 320 px")
    finally:
        page.set_viewport_size(VIEWPORT)
        settle(page)


def screenshot(page: Page, folder: str, name: str) -> Path:
    path = ARTIFACTS / folder / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path
