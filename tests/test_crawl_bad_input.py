"""Bad input never gives a 5xx and changes nothing: every GET route of the pages and the API
with nonsense in the query string, the agenda form with child ids beyond 64 bits, and a JSON
body nested 5,000 levels deep to every API operation that takes a body (answered with a 4xx
problem document).

Each GET route is crawled as the first of the coordinator, the administrator, the log reviewer
and nobody who may open it. Each query parameter its view reads (noted on a first request
without any) or the API declares for it gets each bad value, one parameter at a time; then the
parameters lists, filters and reports commonly take get each bad value all at once, which
covers a view that reads one in a way that was not noted. One subtest per route and per API
operation; the database is dumped before and after all of it.
"""

from __future__ import annotations

import re
from functools import partial
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.crawling import (
    ALL_NAMES,
    Answer,
    Arguments,
    Crawl,
    Visitor,
    anonymous,
    arguments,
    build_url,
    crawl_arguments,
    crawl_settings,
    get_rules,
    load_demo,
    noting_query_names,
    send,
    sign_in,
    view_answered,
)

# The query parameters lists, filters and reports commonly take, tried on every route whether
# its view was seen to read them or not; and values no form sends: beyond 64 bits, negative,
# not a number, the ends of the calendar, a float overflowing to infinity, a NUL byte, and a
# superscript digit (str.isdigit says yes, int() says no).
BAD_PARAMETERS = ("page", "before", "user", "child", "from", "to", "limit", "cursor", "month")
BAD_VALUES = (
    "99999999999999999999999",
    "-1",
    "abc",
    "0001-01-01",
    "9999-12-31",
    "1e309",
    "\x00",
    "\N{SUPERSCRIPT TWO}",
)

# The first of these who may open a route crawls it: the coordinator sees the councils, the
# administrator the admin pages, the log reviewer the log, nobody the log-in pages.
CRAWLERS = ("samordnare", "admin", "granskare")

BAD_CHILD_IDS = (
    "18446744073709551616",
    "99999999999999999999999",
    "-1",
    "abc",
    "\N{SUPERSCRIPT TWO}",
)
PROBLEM = "application/problem+json"
DEPTH = 5000
DEEP_BODIES = {
    "arrays": "[" * DEPTH + "]" * DEPTH,
    "objects": '{"a":' * DEPTH + "1" + "}" * DEPTH,
}


def _with_query(url: str, **values: str) -> str:
    """The address with these query parameters set (replacing any of the same name)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(values)
    return f"{parts.path}?{urlencode(query)}"


def _bad_requests(
    visitors: list[Visitor], urls: list[str], declared: set[str], asked: set[str]
) -> list[tuple[Visitor, str]]:
    """Who crawls the route (the first who opens it, at the first of its addresses anyone
    opens), and the requests with bad values: each parameter its view asks for or the API
    declares, one at a time; then the common ones all at once, in case a view reads one in a
    way that was not noted."""
    crawler: Visitor | None = None
    read: set[str] = set()
    for url in urls:
        for visitor in visitors:
            asked.clear()
            if view_answered(visitor.name, send(partial(visitor.get, url)).status):
                crawler, read = visitor, set(asked)
                break
        if crawler is not None:
            break
    # A route nobody opens would be probed behind its refusal only, its view never reached.
    assert crawler is not None, f"{urls[0]}: no crawler could open it"
    names = sorted((read - {ALL_NAMES}) | declared)
    return [
        (crawler, _with_query(url, **{name: value})) for name in names for value in BAD_VALUES
    ] + [
        (crawler, _with_query(url, **dict.fromkeys(BAD_PARAMETERS, value))) for value in BAD_VALUES
    ]


def _agenda_form(app: Flask, values: Arguments, visitor: Visitor) -> tuple[str, dict[str, str]]:
    """The form with a child_id on the pages about one meeting (the agenda form): its address
    and its fields filled in as a user would, preferably on a meeting that offers a child (the
    child_id is then set to it)."""
    pages = sorted(
        (rule for rule in get_rules(app) if arguments(rule) == ["meeting_id"]),
        key=lambda rule: len(rule.rule),
    )
    found = []
    for rule in pages:
        for meeting_id in reversed(values.all_ids("meeting_id")):
            url = build_url(app, rule, {"meeting_id": meeting_id})
            page = send(partial(visitor.browser.get, url))
            if page.status != 200 or page.response is None:
                continue
            for form in re.findall(r"<form\b.*?</form>", page.response.text, flags=re.DOTALL):
                action = re.search(r'action="([^"]+)"', form)
                if 'name="child_id"' not in form or action is None:
                    continue
                fields = {"brief": "Bevakas: hög skolfrånvaro sedan oktober."}
                for select in re.findall(r"<select\b.*?</select>", form, flags=re.DOTALL):
                    name = re.search(r'name="([^"]+)"', select)
                    # the first real choice, not a "choose one" placeholder
                    option = re.search(r'<option value="([^"0][^"]*)"', select)
                    if name and option:
                        fields[name[1]] = option[1]
                if "child_id" in fields:
                    return action[1], fields
                found.append((action[1], fields))
        if found:
            break
    assert found, "no page about a meeting has a form with a child_id (the agenda form)"
    return found[0]


def test_bad_input_never_gives_5xx(app: Flask, db: Session, subtests: pytest.Subtests) -> None:
    with crawl_settings(app):
        demo = load_demo(app)
        by_name = {email.split("@")[0]: email for email in demo.emails}
        assert set(CRAWLERS) <= set(by_name), demo.emails
        visitors = [sign_in(app, by_name[name], demo.password) for name in CRAWLERS]
        visitors.append(anonymous(app))
        coordinator = visitors[0]
        values = crawl_arguments(app, db)
        rules = get_rules(app)
        plan = []
        with noting_query_names(app) as asked:
            for rule in rules:
                urls = [build_url(app, rule, c) for c in values.combinations(rule, coordinator)]
                declared = {p.name for p in values.queries.get(rule.rule, [])}
                plan += [
                    (rule.rule, crawler, bad_url)
                    for crawler, bad_url in _bad_requests(visitors, urls, declared, asked)
                ]
        agenda_url, agenda_fields = _agenda_form(app, values, coordinator)
        if "child_id" in agenda_fields:
            # The form as filled in is accepted with a child it offers, so that below only the
            # child id makes it bad. (This adds an item before the database is first dumped.)
            accepted = coordinator.browser.post(agenda_url, data=agenda_fields)
            assert accepted.status_code in (302, 303), (agenda_url, accepted.status_code)
        operations = sorted(
            (
                (method, rule)
                for rule in app.url_map.iter_rules()
                if rule.rule.startswith("/api/")
                for method in (rule.methods or set()) & {"POST", "PUT", "PATCH"}
            ),
            key=lambda operation: (operation[1].rule, operation[0]),
        )
        assert operations, "no API operation takes a JSON body"
        deep_answers: dict[str, list[tuple[str, Answer]]] = {}
        with Crawl(db) as crawl:
            for route, visitor, url in plan:
                crawl.get(route, visitor, url)
            for child_id in BAD_CHILD_IDS:
                crawl.request(
                    "agenda form",
                    coordinator.name,
                    "POST",
                    f"{agenda_url} child_id={child_id}",
                    partial(
                        coordinator.browser.post,
                        agenda_url,
                        data={**agenda_fields, "child_id": child_id},
                    ),
                )
            for method, rule in operations:
                url = build_url(app, rule, values.first_ids(rule), method)
                key = f"{method} {rule.rule}"
                for shape, body in DEEP_BODIES.items():
                    answer = crawl.request(
                        key,
                        coordinator.name,
                        method,
                        f"{url} with {shape} {DEPTH} deep",
                        partial(
                            coordinator.api.open,
                            url,
                            method=method,
                            data=body,
                            headers={**coordinator.api_headers, "Content-Type": "application/json"},
                        ),
                    )
                    deep_answers.setdefault(key, []).append((shape, answer))

    for rule in rules:
        with subtests.test(msg=f"GET {rule.rule} with bad query values"):
            failures = crawl.failures(rule.rule)
            if failures:
                pytest.fail(f"GET {rule.rule}\n{failures}", pytrace=False)
    with subtests.test(msg="agenda form with child ids beyond 64 bits"):
        failures = crawl.failures("agenda form")
        if failures:
            pytest.fail(f"the agenda form\n{failures}", pytrace=False)
    for key, answers in deep_answers.items():
        with subtests.test(msg=f"{key} with JSON nested {DEPTH} deep"):
            failures = crawl.failures(key)
            if failures:
                pytest.fail(f"{key}\n{failures}", pytrace=False)
            for shape, answer in answers:
                assert answer.response is not None
                assert (answer.status // 100, answer.response.mimetype) == (4, PROBLEM), (
                    f"{key} with {shape} {DEPTH} deep: {answer.status} {answer.response.mimetype}"
                )
    changed = crawl.changes()
    assert not changed, (
        f"bad input changed the database (the first: {crawl.first_write}):\n" + "\n".join(changed)
    )
