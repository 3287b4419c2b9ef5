"""The leak test: markers in sealed content are seen only by the agencies allowed to see them.

Every agency writes one record per category with a unique marker; then a user of each agency
(and an administrator, and an auditor) follows every link reachable from the navigation and
collects every page. A marker must appear exactly where its owner's users are looking.
"""

from __future__ import annotations

import re
from collections import deque

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from coordination.models import AgencyKind, Role, User
from secrecy.categories import IDENTITY, categories
from secrecy.services import EnrolmentData, Guardian, create_record, enrol_child
from tests.conftest import Council3, log_in
from tests.factories import UserFactory

HREF = re.compile(r'href="(/[^"#]*)"')
SKIP = ("/static/",)
MAX_PAGES = 400


def crawl(client: FlaskClient) -> dict[str, str]:
    """Every page reachable by following links from the start page (GET only)."""
    seen: dict[str, str] = {}
    queue = deque(["/"])
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen or url.startswith(SKIP):
            continue
        response = client.get(url)
        assert response.status_code in (200, 302, 403), (url, response.status_code)
        seen[url] = response.get_data(as_text=True)
        for link in HREF.findall(seen[url]):
            link = link.replace("&amp;", "&")
            if link not in seen:
                queue.append(link)
    assert len(seen) < MAX_PAGES, "crawl did not finish"
    return seen


def seed(db: Session, world: Council3) -> dict[str, AgencyKind]:
    """Markers by owner agency kind: two enrolled children and a record per agency × category."""
    markers: dict[str, AgencyKind] = {}
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    police = world.members[AgencyKind.POLICE]
    children = []
    for enroller, number, tag in ((social, "20121212-1212", "A"), (police, "20100101-0014", "B")):
        given, family = f"Förnamn{tag}leak", f"Efternamn{tag}leak"
        children.append(
            enrol_child(
                db,
                enroller,
                world.council,
                EnrolmentData(
                    given, family, number, [Guardian(f"Vh{tag}leak")], f"Adress{tag}leak"
                ),
            )
        )
        for marker in (given, family, f"Vh{tag}leak", f"Adress{tag}leak"):
            markers[marker] = enroller.agency.kind
    for kind, user in world.members.items():
        for key in categories():
            if key == IDENTITY:
                continue
            for child in children:
                marker = f"MARK-{kind.value}-{key}-{child.id}"
                create_record(db, user, child, key, f"Text med {marker} i.")
                markers[marker] = kind
    db.flush()
    return markers


def visible_markers(pages: dict[str, str], markers: dict[str, AgencyKind]) -> set[str]:
    text = "\n".join(pages.values())
    return {m for m in markers if m in text}


def test_each_marker_is_seen_only_by_its_owner(
    app: Flask, world: Council3, db: Session, admin: User
) -> None:
    markers = seed(db, world)
    for kind, user in world.members.items():
        pages = crawl(log_in(app.test_client(), user))
        assert any("/children/" in url for url in pages), "the crawl must reach the child pages"
        seen = visible_markers(pages, markers)
        own = {m for m, owner in markers.items() if owner is kind}
        assert seen == own, (kind, sorted(seen ^ own)[:5])

    auditor = UserFactory(agency=world.agencies[AgencyKind.SOCIAL_SERVICES], roles={Role.AUDITOR})
    outsider = UserFactory(agency=world.agencies[AgencyKind.POLICE])
    for nobody in (admin, auditor, outsider):
        pages = crawl(log_in(app.test_client(), nobody))
        assert visible_markers(pages, markers) == set(), nobody.roles


def test_raw_database_holds_no_marker_in_clear(world: Council3, db: Session) -> None:
    """Encrypted at rest: dump every table and search for the markers."""
    from coordination.db import Base

    markers = seed(db, world)
    connection = db.connection()
    dump: list[str] = []
    raw: list[bytes] = []
    for table in Base.metadata.sorted_tables:
        for row in connection.execute(table.select()):
            for value in row:
                if isinstance(value, bytes | memoryview):
                    raw.append(bytes(value))
                else:
                    dump.append(str(value))
    text = "\n".join(dump)
    blob = b"\n".join(raw)
    assert len(markers) > 100
    for marker in markers:
        assert marker not in text, marker
        assert marker.encode() not in blob, marker
    for number in ("201212121212", "20121212-1212", "201001010014"):
        assert number not in text and number.encode() not in blob
