"""The five benchmarked pages measured in process (issue 20): CPU time per request, SQL statements
per request, and statements run after the request's commit.

Loads a data set made by ``bench/generate.py`` (any scale; 0.01 is enough), picks the pages and
their viewers exactly as ``bench/run.py`` does, signs in through the real log-in form with
Flask's test client (the API with a token), warms each page up, then times ``--requests``
requests of each with ``time.process_time`` (the CPU this process spent, so it is much less
disturbed by other processes on a shared machine than wall time, though not immune: cache and
frequency effects remain). The PostgreSQL server's own CPU is not in it.

Statements are counted with a ``before_cursor_execute`` listener on the app's engine; a
statement is "after commit" when it runs after the first COMMIT of the request (the page
wrapper's), i.e. a lazy load or a hook that opened a new transaction.

    .venv/bin/python bench/generate.py --scale 0.01 --database-url URL --workers 1
    .venv/bin/python bench/inprocess.py --database-url URL --requests 50
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_DATABASE, PASSWORD, load_settings, make_app, say
from run import Page, pick_pages


@dataclass
class Counter:
    """Statements of the current request, and where its first commit fell."""

    statements: list[str] = field(default_factory=list)
    commit_at: int | None = None
    # With --show: the project's innermost frames that ran each statement.
    trace: bool = False
    origins: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.statements = []
        self.commit_at = None
        self.origins = []

    @property
    def after_commit(self) -> list[str]:
        if self.commit_at is None:
            return []
        return self.statements[self.commit_at :]


def origin() -> str:
    """The project's three innermost frames (not the libraries', not this script's)."""
    root = str(Path(__file__).resolve().parent.parent)
    frames = [
        f"{Path(frame.filename).relative_to(root)}:{frame.lineno}"
        for frame in traceback.extract_stack()
        if frame.filename.startswith(root)
        and "/.venv/" not in frame.filename
        and not frame.filename.endswith("bench/inprocess.py")
    ]
    return " < ".join(reversed(frames[-3:]))


def listen(app: Any) -> Counter:
    from sqlalchemy import event

    from coordination.db import get_database

    counter = Counter()
    engine = get_database(app).engine

    def on_statement(conn, cursor, statement, parameters, context, executemany) -> None:
        counter.statements.append(statement)
        if counter.trace:
            counter.origins.append(origin())

    def on_commit(conn) -> None:
        if counter.commit_at is None:
            counter.commit_at = len(counter.statements)

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    return counter


def signed_in(app: Any, page: Page) -> tuple[Any, dict[str, str]]:
    client = app.test_client()
    if page.token:
        return client, {"Authorization": f"Bearer {page.token}"}
    login = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login)
    if match is None:
        raise SystemExit("no CSRF token on the login page")
    response = client.post(
        "/login",
        data={"email": page.email, "password": PASSWORD, "csrf_token": html.unescape(match[1])},
    )
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        raise SystemExit(f"log-in failed for {page.email}")
    return client, {}


def measure(
    app: Any, counter: Counter, page: Page, requests: int, warm: int, show: bool
) -> dict[str, Any]:
    client, headers = signed_in(app, page)
    for _ in range(warm):
        response = client.get(page.path, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{page.path} answered {response.status_code}")
    counter.reset()
    counter.trace = show
    response = client.get(page.path, headers=headers)
    counter.trace = False
    statements = list(counter.statements)
    after = list(counter.after_commit)
    size = len(response.get_data())
    if show:
        say(f"--- {page.name}: {len(statements)} statements, commit after {counter.commit_at}")
        for number, statement in enumerate(statements, 1):
            late = counter.commit_at is not None and number > counter.commit_at
            mark = " (after commit)" if late else ""
            say(f"{number:3d}{mark}: {' '.join(statement.split())[:300]}")
            say(f"     from {counter.origins[number - 1]}")
    started = time.process_time()
    wall = time.perf_counter()
    for _ in range(requests):
        client.get(page.path, headers=headers)
    cpu = time.process_time() - started
    wall = time.perf_counter() - wall
    return {
        "page": page.name,
        "path": page.path,
        "cpu_ms": 1000 * cpu / requests,
        "wall_ms": 1000 * wall / requests,
        "statements": len(statements),
        "after_commit": len(after),
        "bytes": size,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page (50)")
    parser.add_argument("--warm", type=int, default=5, help="warm-up requests per page (5)")
    parser.add_argument("--only", action="append", help="pages whose name contains this")
    parser.add_argument("--show", action="store_true", help="print each page's statements")
    arguments = parser.parse_args(argv)

    settings = load_settings(arguments.database_url)
    pages = [page for page in pick_pages(settings) if not page.path.startswith("/baseline")]
    if arguments.only:
        pages = [p for p in pages if any(word in p.name for word in arguments.only)]
    app = make_app(settings)
    # The test client takes its scheme from here; over "https" the CSRF check wants a Referer.
    app.config["PREFERRED_URL_SCHEME"] = "http"
    counter = listen(app)
    rows = [
        measure(app, counter, page, arguments.requests, arguments.warm, arguments.show)
        for page in pages
    ]
    say(f"{arguments.requests} requests per page after {arguments.warm} warm-up, in process")
    say(f"{'page':<30} {'CPU ms':>7} {'wall ms':>8} {'stmts':>6} {'after commit':>13} {'bytes':>8}")
    for row in rows:
        say(
            f"{row['page'][:30]:<30} {row['cpu_ms']:7.1f} {row['wall_ms']:8.1f} "
            f"{row['statements']:6d} {row['after_commit']:13d} {row['bytes']:8d}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
