"""Helpers for the crawl tests (tests/test_crawl*.py): the demo signed in as every role, every
GET route of the url map filled with ids that exist, and a dump of every table to prove that the
crawl changed nothing.

Only the app's surface is used (the url map, ``flask demo``, the log-in form, the token pages),
never a view module, so the crawl follows the routes wherever the code that serves them lives.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from html.parser import HTMLParser
from itertools import product
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Inspector, event, inspect, text
from sqlalchemy.orm import Session
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from coordination.admin.lifecycle import USER_ACTIONS

# View audit events are allowed: a GET may append to the hash chain and its object index.
AUDIT_TABLES = frozenset({"audit_events", "audit_event_objects", "audit_chain_head"})

# Columns a read may legitimately change. They record when a credential (an API token, a
# calendar feed link, a SCIM client's token) was last presented, which the token pages show so
# that a user can spot a leaked one; the request that presents the credential is what updates
# them. Like a user's last log-in time they are bookkeeping of authentication, not data the read
# is about.
READ_BOOKKEEPING = frozenset(
    {
        ("api_tokens", "last_used_at"),
        ("calendar_feed_tokens", "last_used_at"),
        ("scim_clients", "last_used_at"),
    }
)

# The table behind every ``<int:...>`` argument of a GET route. A route with an argument not
# named here fails the crawl: add the new name (and its table) so the route is crawled too.
ID_TABLES = {
    "action_id": "agreed_actions",
    "agency_id": "agencies",
    "assessment_id": "assessments",
    "child_id": "children",
    "consent_id": "consents",
    "council_id": "councils",
    "disclosure_id": "disclosures",
    "goal_id": "plan_goals",
    "letter_id": "network_invitation_letters",
    "meeting_id": "meetings",
    "participant_id": "network_participants",
    "plan_id": "individual_plans",
    "record_id": "records",
    "request_id": "information_requests",
    "schedule_id": "schedules",
    "user_id": "users",
    "version_id": "plan_versions",
    "provider_id": "identity_providers",
    "identity_id": "user_identities",
}

LOCAL_ZONE = ZoneInfo("Europe/Stockholm")

# A column with at most this many distinct values, all of them names or numbers, is a state (a
# status, a kind, a flag): the crawl picks ids so that each of its values is visited.
STATE_VALUES = 8
# After one id of each shape of row (see ``sample_ids``), more ids up to this many per table:
# enough to reach every kind of meeting, record and action in the demo, few enough that the
# crawl stays quick.
SAMPLE_SIZE = 8


# --- the demo, signed in ---------------------------------------------------------------------


@dataclass
class Demo:
    password: str
    emails: list[str]


def load_demo(app: Flask) -> Demo:
    """Run ``flask demo`` (the same loader as the command line) and read the logins it prints."""
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    password = re.search(r"lösenord för alla: (\S+?)\)", result.output)
    assert password is not None, result.output
    emails = re.findall(r"^\s+(\S+@\S+)\s", result.output, flags=re.MULTILINE)
    assert emails, result.output
    return Demo(password=password[1], emails=emails)


@contextmanager
def crawl_settings(app: Flask) -> Iterator[None]:
    """Password log-in without two-factor (the crawl signs in through the real form), and rate
    limits out of the way: thousands of requests a minute from one address and one token are
    the crawl, not an attack."""
    names = ("REQUIRE_2FA", "LOGIN_RATE_LIMIT", "LOGIN_ACCOUNT_RATE_LIMIT", "API_RATE_LIMIT")
    saved = {name: app.config[name] for name in names}
    app.config.update(
        REQUIRE_2FA=False,
        LOGIN_RATE_LIMIT="1000 per minute",
        LOGIN_ACCOUNT_RATE_LIMIT="1000 per minute",
        API_RATE_LIMIT="100000 per minute",
    )
    try:
        yield
    finally:
        app.config.update(saved)


@dataclass
class Visitor:
    """One demo user (or nobody): a browser signed in through the log-in form, an API client
    with a bearer token made on the token page, the user's calendar feed token, and (for an
    administrator) the token of a SCIM client of the user's agency made on its SCIM page."""

    name: str
    browser: FlaskClient
    api: FlaskClient
    api_headers: dict[str, str] = field(default_factory=dict)
    feed_token: str | None = None
    scim_headers: dict[str, str] = field(default_factory=dict)

    def get(self, url: str) -> TestResponse:
        if url.startswith("/api/"):
            return self.api.get(url, headers=self.api_headers)
        if url.startswith("/scim/"):
            return self.api.get(url, headers=self.scim_headers)
        return self.browser.get(url)


def anonymous(app: Flask) -> Visitor:
    return Visitor("anonymous", app.test_client(), app.test_client())


def _post_rule(app: Flask, endpoint_end: str) -> str:
    """The address of the POST route whose endpoint ends so (wherever its blueprint lives)."""
    found = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and rule.endpoint.endswith(endpoint_end)
    ]
    assert len(found) == 1, f"one POST route ending in {endpoint_end!r} expected: {found}"
    return found[0]


def _feed_token(app: Flask, browser: FlaskClient) -> str | None:
    """A calendar feed token of the signed-in user, made where the calendar page makes one."""
    feeds = [rule.rule for rule in get_rules(app) if "<token>" in rule.rule]
    if not feeds:
        return None
    created = browser.post(_post_rule(app, "create_feed_token"))
    assert created.status_code == 200, created.status_code
    (feed,) = feeds
    pattern = re.escape(feed).replace(re.escape("<token>"), r"([^/\"?&<]+)")
    token = re.search(pattern, created.text)
    assert token is not None, created.text
    return token[1]


def _scim_headers(app: Flask, browser: FlaskClient, agency_id: int) -> dict[str, str]:
    """For an administrator: a SCIM client of their own agency, made on its SCIM page (the
    page refuses everyone else)."""
    created = browser.post(
        _post_rule(app, "scim_admin.create").replace("<int:agency_id>", str(agency_id)),
        data={"name": "crawl"},
    )
    if created.status_code == 403:
        return {}
    assert created.status_code == 200, created.status_code
    secret = re.search(r'id="new-token-value"[^>]*value="([^"]+)"', created.text)
    assert secret is not None, created.text
    return {"Authorization": f"Bearer {secret[1]}"}


def sign_in(app: Flask, email: str, password: str) -> Visitor:
    browser = app.test_client()
    response = browser.post(_post_rule(app, ".login"), data={"email": email, "password": password})
    assert response.status_code == 302, (email, response.status_code)
    assert "/login" not in response.headers["Location"], (email, response.headers["Location"])
    created = browser.post(
        _post_rule(app, "tokens.create"),
        data={"name": "crawl", "write": "y", "lifetime_days": "30"},
    )
    assert created.status_code == 200, (email, created.status_code)
    secret = re.search(r'id="new-token-value"[^>]*value="([^"]+)"', created.text)
    assert secret is not None, created.text
    api = app.test_client()
    api_headers = {"Authorization": f"Bearer {secret[1]}"}
    me = api.get("/api/v1/me", headers=api_headers).json
    assert me is not None
    return Visitor(
        name=email.split("@")[0],
        browser=browser,
        api=api,
        api_headers=api_headers,
        feed_token=_feed_token(app, browser),
        scim_headers=_scim_headers(app, browser, me["agency"]["id"]),
    )


# --- what a view reads from the query string -------------------------------------------------

ALL_NAMES = "*"


class _NotedArguments(ImmutableMultiDict[str, str]):
    """``request.args`` that notes the names a view asks for (``ALL_NAMES`` when it goes through
    all of them), whether the request carries them or not."""

    asked: ClassVar[set[str]] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None, type: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default=default, type=type)

    def getlist(self, key: str, type: Any = None) -> Any:
        self.asked.add(key)
        return super().getlist(key, type=type)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return super().__contains__(key)

    def _all(self) -> None:
        self.asked.add(ALL_NAMES)

    def __iter__(self) -> Iterator[str]:
        self._all()
        return super().__iter__()

    def __len__(self) -> int:
        self._all()
        return super().__len__()

    def keys(self) -> Any:
        self._all()
        return super().keys()

    def values(self) -> Any:
        self._all()
        return super().values()

    def items(self, multi: bool = False) -> Any:
        self._all()
        return super().items(multi=multi)

    def lists(self) -> Any:
        self._all()
        return super().lists()

    def to_dict(self, flat: bool = True) -> Any:
        self._all()
        return super().to_dict(flat=flat)

    def copy(self) -> Any:
        self._all()
        return super().copy()


@contextmanager
def noting_query_names(app: Flask) -> Iterator[set[str]]:
    """While inside, the names the views ask ``request.args`` for collect in the set yielded
    (clear it before a request to learn what that request's view reads)."""
    original = app.request_class
    app.request_class = type(
        "NotingRequest", (original,), {"parameter_storage_class": _NotedArguments}
    )
    try:
        yield _NotedArguments.asked
    finally:
        app.request_class = original
        _NotedArguments.asked.clear()


# --- what is in the database ---------------------------------------------------------------

Row = tuple[Any, ...]


@dataclass
class TableDump:
    columns: list[str]
    rows: dict[Row, Row]  # primary key -> the whole row (the bookkeeping columns left out)


Dump = dict[str, TableDump]


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


@dataclass(frozen=True)
class TableQuery:
    """How to dump one table: its columns (the bookkeeping ones left out), where its primary
    key sits among them, and the statement."""

    columns: list[str]
    key: list[int]
    statement: str


def table_queries(connection: Connection) -> dict[str, TableQuery]:
    """Every table but the audit log's (read from the schema once: reflection is slow)."""
    inspector = inspect(connection)
    queries = {}
    for table in sorted(set(inspector.get_table_names()) - AUDIT_TABLES):
        columns = [
            c["name"]
            for c in inspector.get_columns(table)
            if (table, c["name"]) not in READ_BOOKKEEPING
        ]
        key = inspector.get_pk_constraint(table)["constrained_columns"] or columns
        queries[table] = TableQuery(
            columns,
            [columns.index(k) for k in key],
            "SELECT {} FROM {} ORDER BY {}".format(
                ", ".join(_quote(connection, c) for c in columns),
                _quote(connection, table),
                ", ".join(_quote(connection, k) for k in key),
            ),
        )
    return queries


def dump_tables(
    session: Session, queries: Mapping[str, TableQuery] | None = None, tables: Iterable[str] = ()
) -> Dump:
    """The rows of these tables (all but the audit log's by default), by primary key."""
    connection = session.connection()
    queries = queries if queries is not None else table_queries(connection)
    dump: Dump = {}
    for table in tables or queries:
        query = queries[table]
        rows = {}
        for row in connection.execute(text(query.statement)):
            values = tuple(row)
            rows[tuple(values[p] for p in query.key)] = values
        dump[table] = TableDump(query.columns, rows)
    return dump


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _sort_key(key: Row) -> tuple[tuple[int, Any], ...]:
    return tuple((0, v) if isinstance(v, int) else (1, str(v)) for v in key)


def diff_dumps(before: Dump, after: Dump, limit: int = 8) -> list[str]:
    """What changed, table by table: rows added, removed, and columns changed."""
    lines = []
    for table in sorted(set(before) | set(after)):
        old = before.get(table)
        new = after.get(table)
        if old is None or new is None:
            lines.append(f"{table}: table {'added' if old is None else 'dropped'}")
            continue
        changes = []
        for key in sorted(set(old.rows) | set(new.rows), key=_sort_key):
            was, now = old.rows.get(key), new.rows.get(key)
            if was == now:
                continue
            if was is None:
                shown = ", ".join(
                    f"{c}={_short(v)}" for c, v in zip(new.columns, now or (), strict=True)
                )
                changes.append(f"+ {key}: {shown}")
            elif now is None:
                changes.append(f"- {key}")
            else:
                shown = ", ".join(
                    f"{c}: {_short(a)} -> {_short(b)}"
                    for c, a, b in zip(new.columns, was, now, strict=True)
                    if a != b
                )
                changes.append(f"~ {key}: {shown}")
        if changes:
            lines.append(f"{table}: {len(changes)} row(s) differ")
            lines.extend("  " + change for change in changes[:limit])
            if len(changes) > limit:
                lines.append(f"  ... and {len(changes) - limit} more")
    return lines


_WRITE = re.compile(
    r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO|TRUNCATE)"
    r"\s+(?:ONLY\s+)?\"?(\w+)\"?",
    re.IGNORECASE,
)


class WriteWatcher:
    """The tables that the statements since the last ``take()`` wrote to (the audit log aside).

    Only a hint of where to look: whether a request changed anything is decided by dumping the
    tables it wrote to before and after it, and the crawl's verdict by dumping everything."""

    def __init__(self, session: Session) -> None:
        self.engine = session.connection().engine
        self.tables: set[str] = set()

    def _seen(self, *args: Any) -> None:
        match = _WRITE.match(args[2])
        if match and match[1] not in AUDIT_TABLES:
            self.tables.add(match[1])

    def __enter__(self) -> WriteWatcher:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def take(self) -> set[str]:
        tables, self.tables = self.tables, set()
        return tables


# --- the routes --------------------------------------------------------------------------------


def is_static(rule: Rule) -> bool:
    return rule.endpoint.rsplit(".", 1)[-1] == "static"


def is_probe(rule: Rule) -> bool:
    """/healthz, /readyz, /metrics: no session, a token, and a 503 by design when the scheduler
    is idle (as in tests); tests/coordination/ops checks them."""
    return rule.endpoint.startswith("ops_")


def get_rules(app: Flask) -> list[Rule]:
    """Every GET route but static files, log-out and the operations probes, in path order."""
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and not is_static(rule)
        and not is_probe(rule)
        and not rule.endpoint.endswith("logout")
    ]
    return sorted(rules, key=lambda r: r.rule)


def arguments(rule: Rule) -> list[str]:
    return re.findall(r"<(?:[^>:]+:)?(\w+)>", rule.rule)


def int_arguments(rule: Rule) -> list[str]:
    return re.findall(r"<int(?:\([^)]*\))?:(\w+)>", rule.rule)


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:  # JSON columns read as lists and dicts on PostgreSQL
        return repr(value)
    return value


def _is_state(values: set[Any]) -> bool:
    """A handful of values that are names (an enum, a flag, a small number), not free text."""
    return len(values) <= STATE_VALUES and all(
        not isinstance(v, str) or re.fullmatch(r"\w+", v) for v in values
    )


def _state_facts(
    inspector: Inspector, table: str, rows: Sequence[Mapping[str, Any]], skip: set[str]
) -> list[set[Any]]:
    """Per row, the states it is in: the value of each state column (a status, a kind, a flag),
    and whether each other column is set (closed or not, revoked or not). References to other
    rows count only as set or not (which agency or user is not a state), and so does the
    optimistic-locking ``version`` (how often a row was edited is not a state either)."""
    references = {c for fk in inspector.get_foreign_keys(table) for c in fk["constrained_columns"]}
    columns = [c for c in (rows[0].keys() if rows else ()) if c not in skip]
    states = {
        c
        for c in columns
        if c not in references and c != "version" and _is_state({_hashable(r[c]) for r in rows})
    }
    return [
        {(c, _hashable(r[c])) if c in states else (c, r[c] is None) for c in columns} for r in rows
    ]


def sample_ids(session: Session, inspector: Inspector, table: str) -> list[int]:
    """A few ids of ``table`` that between them visit every state its rows are in.

    First one id of each shape: the row's states (see ``_state_facts``) together with which
    tables refer to it (a held meeting with minutes, a planned one with an agenda, a planned one
    without). Then, up to ``SAMPLE_SIZE``, ids that add the most states not yet visited, the
    referring rows' states included (an action in each status, a record on an agenda and one in
    the minutes)."""
    connection = session.connection()
    statement = f"SELECT * FROM {_quote(connection, table)}"
    rows = [dict(r._mapping) for r in connection.execute(text(statement))]
    if not rows:
        return []
    own = dict(
        zip(
            (row["id"] for row in rows),
            _state_facts(inspector, table, rows, {"id"}),
            strict=True,
        )
    )
    shapes: dict[int, set[Any]] = {id_: set(facts) for id_, facts in own.items()}
    facts: dict[int, set[Any]] = {id_: set(facts) for id_, facts in own.items()}
    for other in inspector.get_table_names():
        if other in AUDIT_TABLES:
            continue
        for fk in inspector.get_foreign_keys(other):
            if fk["referred_table"] != table or fk["referred_columns"] != ["id"]:
                continue
            (column,) = fk["constrained_columns"]
            statement = f"SELECT * FROM {_quote(connection, other)}"
            referring = [dict(r._mapping) for r in connection.execute(text(statement))]
            states = _state_facts(inspector, other, referring, {"id", column})
            for row, row_facts in zip(referring, states, strict=True):
                if row[column] in facts:
                    facts[row[column]] |= {(other, column, *fact) for fact in row_facts}
                    shapes[row[column]].add((other, column))
    chosen: list[int] = []
    seen_shapes: list[set[Any]] = []
    for id_ in sorted(shapes):
        if shapes[id_] not in seen_shapes:
            seen_shapes.append(shapes[id_])
            chosen.append(id_)
    uncovered = set().union(*facts.values()) - set().union(*(facts[i] for i in chosen))
    while uncovered and len(chosen) < SAMPLE_SIZE:
        best = max(sorted(facts), key=lambda i: len(facts[i] & uncovered))
        chosen.append(best)
        uncovered -= facts[best]
    return sorted(chosen)


@dataclass
class QueryParameter:
    """A query parameter the OpenAPI document declares, and values it accepts."""

    name: str
    required: bool
    values: list[str]


def _accepted_values(schema: Mapping[str, Any], components: Mapping[str, Any]) -> list[str]:
    if "$ref" in schema:
        schema = {**components[schema["$ref"].rsplit("/", 1)[-1]], **schema}
    if "enum" in schema:
        return [str(v) for v in schema["enum"]]
    if "default" in schema:
        return [
            str(schema["default"]).lower()
            if schema["default"] in (True, False)
            else str(schema["default"])
        ]
    if schema.get("format") == "date":
        return [dt.datetime.now(LOCAL_ZONE).date().isoformat()]
    return {"integer": [str(schema.get("minimum", 1))], "boolean": ["true"]}.get(
        schema.get("type", ""), ["x"]
    )


def declared_queries(app: Flask) -> dict[str, list[QueryParameter]]:
    """The query parameters of each GET operation of the API, by route, from the OpenAPI
    document the API publishes."""
    documents = [r.rule for r in app.url_map.iter_rules() if r.endpoint.endswith("openapi_json")]
    assert len(documents) == 1, documents
    document = app.test_client().get(documents[0]).get_json()
    components = document.get("components", {}).get("schemas", {})
    templates = {
        re.sub(r"<(?:[^>:]+:)?(\w+)>", r"{\1}", rule.rule): rule.rule
        for rule in app.url_map.iter_rules()
    }
    queries = {}
    for template, operations in document["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        assert template in templates, f"the OpenAPI document names {template}, no route serves it"
        queries[templates[template]] = [
            QueryParameter(
                p["name"], p.get("required", False), _accepted_values(p["schema"], components)
            )
            for p in operation.get("parameters", [])
            if p.get("in") == "query"
        ]
    return queries


@dataclass
class Arguments:
    """Values for the route arguments: sampled ids per table, related tuples of ids for routes
    with several, the values of the arguments that are not ids, and for the API the query
    parameters it requires (each value of each required choice, and with and without the
    optional ids it filters by, such as the council of ``scope=council``)."""

    session: Session
    strings: Mapping[str, Sequence[str]]
    queries: Mapping[str, list[QueryParameter]] = field(default_factory=dict)
    ids: dict[str, list[int]] = field(default_factory=dict)

    @cached_property
    def inspector(self) -> Inspector:
        return inspect(self.session.connection())

    def ids_for(self, name: str) -> list[int]:
        table = ID_TABLES.get(name)
        assert table is not None, (
            f"<int:{name}> is not in tests/crawling.py ID_TABLES: add the table it names so "
            "that the crawl can fill it"
        )
        if table not in self.ids:
            self.ids[table] = sample_ids(self.session, self.inspector, table)
            assert self.ids[table], f"the demo has no {table} for <int:{name}>"
        return self.ids[table]

    def all_ids(self, name: str) -> list[int]:
        table = ID_TABLES[name]
        connection = self.session.connection()
        statement = f"SELECT id FROM {_quote(connection, table)} ORDER BY id"
        return list(connection.execute(text(statement)).scalars())

    def first_ids(self, rule: Rule) -> dict[str, int]:
        """The first sampled id for each argument of a route (of any method)."""
        return {name: self.ids_for(name)[0] for name in int_arguments(rule)}

    def query_variants(self, rule: Rule) -> list[dict[str, str]]:
        declared = self.queries.get(rule.rule, [])
        required = [p for p in declared if p.required]
        base = {p.name: p.values[0] for p in required}
        variants = [base] + [{**base, p.name: v} for p in required for v in p.values[1:]]
        ids = {
            p.name: str(self.ids_for(p.name)[0])
            for p in declared
            if not p.required and p.name in ID_TABLES
        }
        if ids:
            variants += [{**variant, **ids} for variant in variants]
        return variants

    def combinations(self, rule: Rule, visitor: Visitor) -> list[dict[str, Any]]:
        """The values to crawl a route with: path arguments, and query parameters."""
        names = arguments(rule)
        numbers = int_arguments(rule)
        others = [n for n in names if n not in numbers]
        if len(numbers) <= 1:
            tuples = [{n: i} for n in numbers for i in self.ids_for(n)] or [{}]
        else:
            tuples = self._related(numbers)
        choices = [self._strings_for(rule, name, visitor) for name in others]
        paths = [
            {**values, **dict(zip(others, picked, strict=True))}
            for values in tuples
            for picked in product(*choices)
        ]
        queries = self.query_variants(rule)
        assert not {q for query in queries for q in query} & set(names), rule.rule
        return [{**path, **query} for path in paths for query in queries]

    def _strings_for(self, rule: Rule, name: str, visitor: Visitor) -> Sequence[str]:
        if name == "token":  # a calendar feed: the visitor's own link
            return [visitor.feed_token or "no-such-feed-token"]
        if name in ID_TABLES:  # an id the route takes as text (SCIM's): every one, and junk
            return [*(str(i) for i in self.all_ids(name)), "not-an-id"]
        assert name in self.strings, (
            f"{rule.rule}: no values for <{name}>; add them to string_arguments() in "
            "tests/crawling.py"
        )
        return self.strings[name]

    def _related(self, names: list[str]) -> list[dict[str, int]]:
        """Tuples of ids that belong together (rows of a table that has a column for each
        argument, e.g. an agenda item's meeting and child), covering each sampled id, and one
        tuple that does not belong together."""
        connection = self.session.connection()
        inspector = self.inspector
        samples = {n: self.ids_for(n) for n in names}
        related: set[tuple[int, ...]] = set()
        for table in inspector.get_table_names():
            columns = {c["name"] for c in inspector.get_columns(table)}
            if set(names) <= columns:
                statement = "SELECT DISTINCT {} FROM {}".format(
                    ", ".join(_quote(connection, n) for n in names), _quote(connection, table)
                )
                related |= {tuple(r) for r in connection.execute(text(statement))}
        chosen: list[tuple[int, ...]] = []
        wanted = {(i, v) for i, n in enumerate(names) for v in samples[n]}
        for candidate in sorted(related):
            covers = {(i, v) for i, v in enumerate(candidate)} & wanted
            if covers:
                chosen.append(candidate)
                wanted -= covers
        unrelated = next((t for t in product(*samples.values()) if t not in related), None)
        if unrelated is not None:
            chosen.append(unrelated)
        return [dict(zip(names, t, strict=True)) for t in chosen]


def crawl_arguments(app: Flask, session: Session) -> Arguments:
    return Arguments(session, string_arguments(), declared_queries(app))


def string_arguments() -> dict[str, list[str]]:
    """Values for the arguments that are not ids: months of the log review (this one and the
    one before, which the demo's history reaches back to), and the steps of an account's
    lifecycle (their confirmation pages)."""
    today = dt.datetime.now(LOCAL_ZONE).date()
    this_month = today.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    return {
        "month_text": [f"{m:%Y-%m}" for m in (this_month, last_month)],
        "action": sorted(USER_ACTIONS),
    }


def build_url(app: Flask, rule: Rule, values: Mapping[str, Any], method: str = "GET") -> str:
    adapter = app.url_map.bind("localhost")
    return adapter.build(rule.endpoint, dict(values), method=method)


# --- requests and what they did ------------------------------------------------------------


@dataclass
class Answer:
    status: int
    response: TestResponse | None = None
    error: str | None = None  # an exception that escaped the app (tests propagate them)

    @property
    def what(self) -> str:
        return f"{self.status} {self.error}" if self.error else str(self.status)


def send(call: Callable[[], TestResponse]) -> Answer:
    """One request; an exception escaping the app counts as the 500 it would be in production."""
    try:
        response = call()
    except Exception as error:  # noqa: BLE001 - any escaping exception is the finding
        message = str(error).splitlines()[0] if str(error) else ""
        return Answer(500, error=f"{type(error).__name__}: {message[:160]}")
    return Answer(response.status_code, response)


class _TableShapes(HTMLParser):
    """How many columns each row of each table spans (its cells' ``colspan`` summed), in the
    order the rows stand; a table with a ``rowspan`` is left out (its rows differ by design)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[int]] = []
        self._open: list[list[int]] = []
        self._spanned: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._open.append([])
            self._spanned.append(False)
        elif self._open and tag == "tr":
            self._open[-1].append(0)
        elif self._open and self._open[-1] and tag in ("td", "th"):
            values = dict(attrs)
            self._open[-1][-1] += int(values.get("colspan") or 1)
            self._spanned[-1] |= "rowspan" in values

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._open:
            rows, spanned = self._open.pop(), self._spanned.pop()
            if not spanned:
                self.tables.append(rows)


def ragged_tables(page: str) -> list[str]:
    """The tables of an HTML page whose rows do not all span as many columns as the first
    (an 'empty' row with a fixed colspan under a column shown only to some users, say)."""
    shapes = _TableShapes()
    shapes.feed(page)
    return [
        f"table {number} has rows of {sorted(set(rows))} columns"
        for number, rows in enumerate(shapes.tables, start=1)
        if rows and len(set(rows)) > 1
    ]


def view_answered(who: str, status: int) -> bool:
    """The view itself answered: a page or the view's redirect, or its refusal of a step the
    data's state does not allow (422: a confirmation page for minutes nobody may approve now).
    The anonymous visitor's redirect is the way to the log-in page, a 403 the wrapper's."""
    if who == "anonymous":
        return status < 300
    return status < 400 or status == 422


class Crawl:
    """Requests grouped by route (or any key), with what each did wrong: a 5xx answer, or a
    change to the database. After each request the tables its statements wrote to are dumped
    and compared with their dump before it, which names the request (role, method, address)
    that changed something and what; ``changes()`` compares every table before and after."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.errors: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.writes: dict[str, list[str]] = defaultdict(list)
        self.first_write: str | None = None
        self.requests = 0
        self.statuses: dict[str, set[int]] = defaultdict(set)
        # The routes a visitor could open: the view answered (a signed-in visitor's redirect
        # is the view's answer; the anonymous visitor's is the way to the log-in page).
        self.opened: set[str] = set()

    def __enter__(self) -> Crawl:
        self.queries = table_queries(self.session.connection())
        self.before = dump_tables(self.session, self.queries)
        self.current = dict(self.before)
        self.watcher = WriteWatcher(self.session).__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.watcher.__exit__()
        self.after = dump_tables(self.session, self.queries)

    def request(
        self, key: str, who: str, method: str, url: str, call: Callable[[], TestResponse]
    ) -> Answer:
        self.requests += 1
        request = f"as {who}: {method} {url!r}"
        answer = send(call)
        self.statuses[key].add(answer.status)
        if view_answered(who, answer.status):
            self.opened.add(key)
        if answer.status >= 500:
            self.errors[key].append((answer.what, request))
        elif answer.response is not None and answer.response.mimetype == "text/html":
            for table in ragged_tables(answer.response.get_data(as_text=True)):
                self.errors[key].append((table, request))
        changes = self._changes_since_last_request()
        if changes:
            self.writes[key].append(request + "\n" + "\n".join("    " + c for c in changes))
            self.first_write = self.first_write or request
        return answer

    def get(self, key: str, visitor: Visitor, url: str) -> Answer:
        return self.request(key, visitor.name, "GET", url, lambda: visitor.get(url))

    def _changes_since_last_request(self) -> list[str]:
        touched = sorted(t for t in self.watcher.take() if t in self.current)
        if not touched:
            return []
        now = dump_tables(self.session, self.queries, touched)
        changes = diff_dumps({t: self.current[t] for t in touched}, now)
        self.current.update(now)
        return changes

    def failures(self, key: str, limit: int = 6) -> str | None:
        """What went wrong for this key: 5xx answers grouped by status and error, and the
        requests that changed the database with what they changed."""
        lines = []
        groups: dict[str, list[str]] = defaultdict(list)
        for what, request in self.errors.get(key, []):
            groups[what].append(request)
        for what, requests in groups.items():
            lines.append(f"answered {what} ({len(requests)} requests):")
            lines += [f"  {r}" for r in requests[:limit]]
            if len(requests) > limit:
                lines.append(f"  ... and {len(requests) - limit} more")
        writes = self.writes.get(key, [])
        if writes:
            lines.append(f"changed the database ({len(writes)} requests):")
            lines += [f"  {w}" for w in writes[:limit]]
            if len(writes) > limit:
                lines.append(f"  ... and {len(writes) - limit} more")
        return "\n".join(lines) or None

    def changes(self) -> list[str]:
        return diff_dumps(self.before, self.after)
