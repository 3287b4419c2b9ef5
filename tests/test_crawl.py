"""A GET never writes (view audit events aside) and never answers 5xx: the whole demo crawled,
every GET route of the pages and the API, as nobody and as every demo user.

The verdict is a dump of every table (the audit log's aside) before and after the crawl. Each
request that changed something is named with what it changed, in one subtest per route.
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.crawling import (
    Crawl,
    anonymous,
    build_url,
    crawl_arguments,
    crawl_settings,
    get_rules,
    load_demo,
    sign_in,
)


def test_get_never_writes(app: Flask, db: Session, subtests: pytest.Subtests) -> None:
    with crawl_settings(app):
        demo = load_demo(app)
        visitors = [anonymous(app), *(sign_in(app, email, demo.password) for email in demo.emails)]
        arguments = crawl_arguments(app, db)
        rules = get_rules(app)
        plan = [
            (rule.rule, visitor, build_url(app, rule, values))
            for rule in rules
            for visitor in visitors
            for values in arguments.combinations(rule, visitor)
        ]
        with Crawl(db) as crawl:
            for route, visitor, url in plan:
                crawl.get(route, visitor, url)

    for rule in rules:
        with subtests.test(msg=rule.rule):
            failures = crawl.failures(rule.rule)
            if failures:
                pytest.fail(f"GET {rule.rule}\n{failures}", pytrace=False)
            # A route nobody could open was not crawled: its arguments need better values.
            assert rule.rule in crawl.opened, (
                f"GET {rule.rule} answered only {sorted(crawl.statuses[rule.rule])}"
            )
    changed = crawl.changes()
    assert not changed, (
        f"{crawl.requests} GET requests changed the database (the first: {crawl.first_write}):\n"
        + "\n".join(changed)
    )
