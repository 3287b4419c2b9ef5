"""The leak test: markers in sealed content are seen only by the agencies allowed to see them.

Every agency writes one record per category with a unique marker; then a user of each agency
(and an administrator, and an auditor) follows every link reachable from the navigation and
collects every page. A marker must appear exactly where its owner's users are looking.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections import deque

from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE, today_local, utcnow
from coordination.models import AgencyKind, Child, Role, User
from minutes.assessments.instruments import catalogue
from minutes.assessments.models import Assessment
from minutes.assessments.services import AreaInput, AssessmentInput, record_assessment
from secrecy.policy.categories import IDENTITY, categories, writable_by_hand
from secrecy.records.children import EnrolmentData, Guardian, enrol_child
from secrecy.records.services import create_record
from tests.conftest import Council3, log_in
from tests.factories import UserFactory, days_from_now, make_meeting, put_on_agenda

HREF = re.compile(r'href="(/[^"#]*)"')
SKIP = ("/static/",)
MAX_PAGES = 400


def readable_text(mimetype: str, body: bytes) -> str:
    """What a reader sees in a response: the text of a PDF (the approved minutes) or of a
    workbook's cells (the reports) too, so that the markers are searched there as well."""
    if mimetype == "application/pdf":
        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)
    if mimetype.endswith("spreadsheetml.sheet"):
        with zipfile.ZipFile(io.BytesIO(body)) as book:
            names = [n for n in book.namelist() if n.endswith(".xml")]
            return "\n".join(book.read(n).decode() for n in names)
    return body.decode()


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
        seen[url] = readable_text(response.mimetype, response.get_data())
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
            if not writable_by_hand(key):
                continue
            for child in children:
                marker = f"MARK-{kind.value}-{key}-{child.id}"
                create_record(db, user, child, key, f"Text med {marker} i.")
                markers[marker] = kind
    seed_plan(db, world, children[0], markers)
    seed_assessments(db, world, children, markers)
    seed_age_exception(db, world, markers)
    seed_network_meeting(db, world, children[0], markers)
    db.flush()
    return markers


def seed_plan(db: Session, world: Council3, child: Child, markers: dict[str, AgencyKind]) -> None:
    """An individual plan of the first child: a goal (text and indicator) from social services,
    the police and the school, the views from social services, agreed at a meeting, a new
    measure of social services' goal, and the police's goal evaluated by the police. Social
    services' goal text is disclosed to the police (its markers are added to the shared ones by
    ``disclose_some``)."""
    import datetime as dt

    from coordination.db import today_local
    from minutes.plans import evaluation, goals, services
    from minutes.plans.models import EvaluationOutcome
    from minutes.workspace.sharing import ShareChoice
    from secrecy.models import Record

    social = world.members[AgencyKind.SOCIAL_SERVICES]
    plan = services.create_plan(db, social, child, world.coordinator)
    draft = services.latest_version(plan)
    target = today_local() + dt.timedelta(days=60)
    for kind in (AgencyKind.SOCIAL_SERVICES, AgencyKind.POLICE, AgencyKind.SCHOOL):
        shares = (
            [ShareChoice(world.agencies[AgencyKind.POLICE].id, "sol-police-u21", (0, 1, 2, 3))]
            if kind is AgencyKind.SOCIAL_SERVICES
            else []
        )
        text, indicator = f"PLANMAL-{kind.value}-X", f"PLANIND-{kind.value}-X"
        goal = goals.GoalInput("school", target, f"Mål {text}.", f"Mäts {indicator}.")
        goals.add_goal(
            db,
            world.members[kind],
            draft,
            goal,
            shares=shares,
            assessment="Polisen behöver målet för att samordna sina insatser.",
        )
        markers[text] = markers[indicator] = kind
    services.set_views(db, social, draft, "Ung PLANUNG-social-X.", "Vh PLANVH-social-X.")
    markers["PLANUNG-social-X"] = markers["PLANVH-social-X"] = AgencyKind.SOCIAL_SERVICES
    services.set_evaluation_date(db, social, draft, today_local() + dt.timedelta(days=30))
    starts = days_from_now(1)
    meeting = make_meeting(db, world.council, starts, ends_at=starts)
    put_on_agenda(db, meeting, child)
    services.agree_version(db, social, draft, meeting)
    # A new measure of social services' goal, agreed at the meeting (its own sealed description;
    # the meeting's printed minutes record the plan agreed, by structure only).
    goals.add_measure(
        db,
        social,
        draft.goals[0],
        meeting,
        "Insats PLANINS-social-X.",
        world.agencies[AgencyKind.SOCIAL_SERVICES],
        None,
        today_local() + dt.timedelta(days=20),
    )
    markers["PLANINS-social-X"] = AgencyKind.SOCIAL_SERVICES
    police = world.members[AgencyKind.POLICE]
    police_goal = next(
        g
        for g in draft.goals
        if db.get_one(Record, g.text_record_id).owner_agency_id == police.agency_id
    )
    evaluation.evaluate_goal(
        db, police, police_goal, EvaluationOutcome.PARTLY, "Uppföljt PLANUPP-police-X."
    )
    markers["PLANUPP-police-X"] = AgencyKind.POLICE


def seed_assessments(
    db: Session, world: Council3, children: list[Child], markers: dict[str, AgencyKind]
) -> None:
    """Every agency assesses both children: each area's comment and the overall comment carry a
    marker of their own (``assessment_markers`` maps their records back to them)."""
    instrument = catalogue().current()[0]
    for kind, user in world.members.items():
        for child in children:
            areas = {}
            for area in instrument.areas:
                marker = f"AREA-{kind.value}-{area.code}-{child.id}"
                areas[area.code] = AreaInput(score="1", comment=f"Område {marker}.")
                markers[marker] = kind
            overall = f"OVERALL-{kind.value}-{child.id}"
            markers[overall] = kind
            record_assessment(
                db,
                user,
                child,
                AssessmentInput(
                    instrument.id, instrument.version, today_local(), areas, None, overall
                ),
            )


def assessment_markers(db: Session) -> dict[int, str]:
    """The marker in each assessment record, by record id."""
    found: dict[int, str] = {}
    for assessment in db.scalars(select(Assessment)):
        kind = assessment.agency.kind.value
        found[assessment.overall_record_id] = f"OVERALL-{kind}-{assessment.child_id}"
        for area in assessment.areas:
            if area.record_id is not None:
                found[area.record_id] = f"AREA-{kind}-{area.area_code}-{assessment.child_id}"
    return found


def seed_age_exception(db: Session, world: Council3, markers: dict[str, AgencyKind]) -> None:
    """A third child, younger than the council's age range, enrolled by social services with
    an exception (avsteg) whose texts carry markers: sealed for the enrolling agency."""
    from coordination.db import today_local
    from secrecy.agerules.services import ExceptionData
    from tests.numbers import personnummer

    social = world.members[AgencyKind.SOCIAL_SERVICES]
    world.council.age_range_set, world.council.age_min, world.council.age_max = True, 12, 20
    today = today_local()
    enrol_child(
        db,
        social,
        world.council,
        EnrolmentData(
            "Tredje",
            "Barnsson",
            personnummer(dt.date(today.year - 9, 1, 15), 23),
            exception=ExceptionData(
                reason="Skälet AVSTEG-skal-leak i det enskilda fallet.",
                decided_by="Enhetschef",
                stigmatisation="Bedömningen AVSTEG-stigma-leak av stigmatisering.",
                review_on=today + dt.timedelta(days=90),
            ),
        ),
    )
    markers["AVSTEG-skal-leak"] = AgencyKind.SOCIAL_SERVICES
    markers["AVSTEG-stigma-leak"] = AgencyKind.SOCIAL_SERVICES


def seed_network_meeting(
    db: Session, world: Council3, child: Child, markers: dict[str, AgencyKind]
) -> None:
    """A network meeting about the child: participants whose names and e-mail are social
    services' records, a printed letter (social services' too), and the young person's voice
    recorded by every agency (each its own record)."""
    from meetings.network.letters import create_letter
    from meetings.network.services import (
        NetworkMeetingData,
        add_participant,
        create_network_meeting,
        record_voice,
    )

    social = world.members[AgencyKind.SOCIAL_SERVICES]
    start = utcnow() + dt.timedelta(days=30)
    local = start.astimezone(LOCAL_ZONE)
    network = create_network_meeting(
        db,
        social,
        world.council,
        NetworkMeetingData(
            child=child,
            kind="sspf_network",
            purpose="agree_plan",
            day=local.date(),
            start_time=dt.time(13, 0),
            duration_minutes=60,
            location="Mötesrum",
            agency_ids=[a.id for a in world.agencies.values()],
        ),
        now=start - dt.timedelta(days=30),
    )
    for role, marker in (("young_person", "DELTAGARE-ung-leak"), ("guardian", "DELTAGARE-vh-leak")):
        add_participant(db, social, network, role, marker, f"{marker.lower()}@example.se")
        markers[marker] = AgencyKind.SOCIAL_SERVICES
        markers[f"{marker.lower()}@example.se"] = AgencyKind.SOCIAL_SERVICES
    create_letter(db, social, network, network.participants[0], now=start - dt.timedelta(days=30))
    for kind, user in world.members.items():
        marker = f"ROST-{kind.value}-leak"
        record_voice(db, user, network, f"Den unge sa {marker}.")
        markers[marker] = kind


def visible_markers(pages: dict[str, str], markers: dict[str, AgencyKind]) -> set[str]:
    text = "\n".join(pages.values())
    return {m for m in markers if m in text}


def disclose_some(
    db: Session, world: Council3, markers: dict[str, AgencyKind]
) -> dict[str, set[AgencyKind]]:
    """Disclosures under several bases, one of them on a consent that is then revoked.
    Returns, per marker, the recipient kinds that hold a disclosure in force."""
    from secrecy.disclosure.consents import ConsentData, register_consent, revoke_consent
    from secrecy.disclosure.services import decide_disclosure
    from secrecy.models import ConsentRevokeReason, Record
    from secrecy.policy.engine import Signer

    social = world.members[AgencyKind.SOCIAL_SERVICES]
    police = world.members[AgencyKind.POLICE]
    school = world.members[AgencyKind.SCHOOL]
    agencies = world.agencies
    records = db.scalars(select(Record).where(Record.category != IDENTITY)).all()
    in_assessments = assessment_markers(db)

    def marker_of(record: Record) -> str:
        if record.id in in_assessments:
            return in_assessments[record.id]
        return f"MARK-{record.owner_agency.kind.value}-{record.category}-{record.child_id}"

    def assessment_of_marker(record: Record) -> str:
        suffix = "" if record.id not in in_assessments else f"-{record.id}"
        kind = record.owner_agency.kind.value
        return f"BEDOMNING-{kind}-{record.category}-{record.child_id}{suffix}"

    def assessment_of(record: Record) -> str:
        """The decision's written assessment, with a marker of its own: seen by the owner and
        by a recipient in force, with the record."""
        marker = assessment_of_marker(record)
        markers[marker] = record.owner_agency.kind
        return f"Bedömningen {marker} i det enskilda fallet."

    # The plan's goal (text and indicator) that social services disclosed to the police in
    # ``seed_plan``.
    shared: dict[str, set[AgencyKind]] = {
        "PLANMAL-social_services-X": {AgencyKind.POLICE},
        "PLANIND-social_services-X": {AgencyKind.POLICE},
    }
    plan = [
        (social, "risk_protective", AgencyKind.POLICE, "sol-police-u21", 4),
        (police, "crime_police", AgencyKind.SOCIAL_SERVICES, "concern-report", 1),
        (school, "school", AgencyKind.SOCIAL_SERVICES, "concern-report", 1),
        (school, "school", AgencyKind.POLICE, "duty-to-police", 3),
    ]
    for author, category, to_kind, basis, n in plan:
        for record in records:
            if record.owner_agency_id == author.agency_id and record.category == category:
                decide_disclosure(
                    db,
                    author,
                    record,
                    agencies[to_kind],
                    basis,
                    list(range(n)),
                    assessment=assessment_of(record),
                )
                shared.setdefault(marker_of(record), set()).add(to_kind)
                shared.setdefault(assessment_of_marker(record), set()).add(to_kind)
    # A consent-based disclosure of social services' family notes to leisure, then revoked.
    for record in records:
        if record.owner_agency_id == social.agency_id and record.category == "family":
            consent = register_consent(
                db,
                social,
                record.child,
                ConsentData(
                    signers={
                        Signer.GUARDIAN_1: "G",
                        Signer.GUARDIAN_2: "H",
                        Signer.YOUNG_PERSON: "Y",
                    },
                    two_guardians=True,
                    agency_ids=[agencies[AgencyKind.LEISURE].id],
                    categories=["family"],
                    purpose="SSPF",
                ),
            )
            decide_disclosure(
                db,
                social,
                record,
                agencies[AgencyKind.LEISURE],
                "consent",
                [0],
                assessment=assessment_of(record),
            )
            revoke_consent(db, social, consent, ConsentRevokeReason.WITHDRAWN_BY_GUARDIAN)
    # Single areas of social services' assessments (school and leisure) to the school on a
    # consent that stays in force; the other areas stay with social services.
    school_agency = agencies[AgencyKind.SCHOOL]
    for child_id in sorted({r.child_id for r in records}):
        areas = [
            r
            for r in records
            if r.child_id == child_id
            and r.owner_agency_id == social.agency_id
            and r.id in in_assessments
            and in_assessments[r.id].split("-")[2] in ("school", "leisure")
        ]
        if not areas:  # a child nobody assessed (the age exception's)
            continue
        register_consent(
            db,
            social,
            areas[0].child,
            ConsentData(
                signers={Signer.GUARDIAN_1: "G", Signer.GUARDIAN_2: "H", Signer.YOUNG_PERSON: "Y"},
                two_guardians=True,
                agency_ids=[school_agency.id],
                categories=["school", "leisure"],
                purpose="SSPF",
            ),
        )
        for record in areas:
            decide_disclosure(
                db, social, record, school_agency, "consent", [0], assessment=assessment_of(record)
            )
            shared.setdefault(marker_of(record), set()).add(AgencyKind.SCHOOL)
            shared.setdefault(assessment_of_marker(record), set()).add(AgencyKind.SCHOOL)
    db.flush()
    return shared


def test_each_marker_is_seen_only_by_its_owner_and_its_recipients(
    app: Flask, world: Council3, db: Session, admin: User
) -> None:
    markers = seed(db, world)
    shared = disclose_some(db, world, markers)
    assert len(shared) >= 6
    for kind, user in world.members.items():
        pages = crawl(log_in(app.test_client(), user))
        assert any("/children/" in url for url in pages), "the crawl must reach the child pages"
        seen = visible_markers(pages, markers)
        allowed = {
            m for m, owner in markers.items() if owner is kind or kind in shared.get(m, set())
        }
        assert seen == allowed, (kind, sorted(seen ^ allowed)[:5])

    auditor = UserFactory(agency=world.agencies[AgencyKind.SOCIAL_SERVICES], roles={Role.AUDITOR})
    outsider = UserFactory(agency=world.agencies[AgencyKind.POLICE])
    for nobody in (admin, auditor, outsider):
        pages = crawl(log_in(app.test_client(), nobody))
        # The owner's log reviewer reads the agency's assessments behind its disclosures (and
        # nothing else); nobody else outside the council reads anything.
        expected = (
            {m for m in markers if m.startswith("BEDOMNING-social_services-")}
            if nobody is auditor
            else set()
        )
        assert visible_markers(pages, markers) == expected, nobody.roles


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
