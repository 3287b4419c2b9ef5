"""Browser tests: Playwright drives Debian's chromium against the real app (gunicorn) and the
real scheduler on a fresh PostgreSQL database. ``make e2e`` runs them; the ordinary ``pytest``
run leaves this folder out (``--ignore=tests/e2e`` in pyproject's addopts).

Each test module starts its own installation (``harness.Stack``); the browser is shared. When a
test fails, every open tab is photographed and saved with its HTML under ``artifacts/failures``,
next to the server logs each installation writes to ``artifacts/<name>/logs``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.e2e import ui
from tests.e2e.harness import ARTIFACTS


@pytest.fixture(autouse=True)
def _csrf_switch() -> None:
    """The unit tests' CSRF switch needs their in-process app; these tests have none (the
    real app runs in gunicorn, with CSRF on as always)."""


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = ui.launch(playwright)
    yield browser
    browser.close()
    report = ARTIFACTS / "axe-findings.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(ui.AXE_LOG) + "\n", encoding="utf-8")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and call.when in ("call", "setup"):
        folder = ARTIFACTS / "failures"
        folder.mkdir(parents=True, exist_ok=True)
        for who, page in list(ui.OPEN_PAGES):
            if page.is_closed():
                continue
            stem = f"{item.name}-{who.split('@')[0]}"
            try:
                page.screenshot(path=str(folder / f"{stem}.png"), full_page=True)
                (folder / f"{stem}.html").write_text(page.content(), encoding="utf-8")
            except Exception as exc:  # noqa: BLE001 - a broken tab must not hide the real failure
                (folder / f"{stem}.txt").write_text(f"no screenshot: {exc!r}\n", encoding="utf-8")
    return report
