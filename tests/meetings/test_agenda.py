"""The meeting page: access, guests, attendance, chair and minute taker, the agenda with sealed
briefs, its order and deadline, the projector view and the seam for open actions."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import time_machine
from flask import Flask, render_template_string
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.db import LOCAL_ZONE
from coordination.models import AgencyKind, Child, CloseReason, Council, User
from coordination.registry import AGENDA_CONTRIBUTORS
from meetings.agenda import contributors as contributors_module
from meetings.agenda.contributors import (
    AgendaContributor,
    register_agenda_contributor,
)
from meetings.agenda.deadline import (
    agenda_deadline,
    deadline_passed,
    is_working_day,
    working_days_before,
)
from meetings.agenda.forms import BriefForm
from meetings.agenda.items import add_agenda_item
from meetings.models import (
    AgendaItem,
    AgendaSource,
    Attendance,
    AttendanceStatus,
    Meeting,
    MeetingStatus,
)
from secrecy.models import Record
from secrecy.records.children import close_case
from tests import factories
from tests.conftest import Council3, audit_tags, log_in
from tests.crawling import diff_dumps, dump_tables
from tests.factories import (
    AgencyFactory,
    CouncilFactory,
    MembershipFactory,
    UserFactory,
    disclose_under_21_rule,
    enrol,
)

# Monday 2 March 2026; the meeting is on Wednesday 11 March at 09:00 Swedish time, so the
# agenda deadline (three working days before) is Friday 6 March.
MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MEETING_START = dt.datetime(2026, 3, 11, 8, 0, tzinfo=dt.UTC)
AFTER_DEADLINE = dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)


def make_meeting(
    db: Session,
    council: Council,
    starts_at: dt.datetime = MEETING_START,
    **fields: object,
) -> Meeting:
    return factories.make_meeting(
        db, council, starts_at, **{"location": "Stadshuset, rum 3", **fields}
    )


def meeting_with_two_children(db: Session, world: Council3) -> tuple[User, Meeting, Child, Child]:
    """The social services member, a meeting of the council, and two children that member
    enrolled (Kalle, born 2012, and Stina, born 2010)."""
    social_user = world.members[AgencyKind.SOCIAL_SERVICES]
    meeting = make_meeting(db, world.council)
    first = enrol(db, social_user, world.council, "20121212-1212")
    second = enrol(db, social_user, world.council, "20100101-0014", "Stina")
    return social_user, meeting, first, second


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def add_item(db: Session, user: User, meeting: Meeting, child: Child, brief: str) -> AgendaItem:
    return add_agenda_item(db, user, meeting, child, "risk_protective", brief, today=None)


def enrolled_in_another_council(db: Session, world: Council3, social_user: User) -> Child:
    """Kalle (20121212-1212) as ``social_user`` enrolled him on a second council, of social
    services alone."""
    other_council = CouncilFactory(agencies=[world.agencies[AgencyKind.SOCIAL_SERVICES]])
    MembershipFactory(council=other_council, user=social_user)
    db.flush()
    db.expire_all()
    return enrol(db, social_user, other_council, "20121212-1212")


@pytest.fixture
def outsider(db: Session, world: Council3) -> User:
    """A user of a participating agency who is not a member of the council."""
    return UserFactory(agency=world.agencies[AgencyKind.SCHOOL], email="outsider@example.com")


# --- Access -------------------------------------------------------------------------------------


@time_machine.travel(MONDAY, tick=False)
def test_member_sees_the_meeting_and_an_outsider_is_refused_and_logged(
    app: Flask, world: Council3, client_for, db: Session, outsider: User
) -> None:
    meeting = make_meeting(db, world.council, video_link="https://video.example/abc")
    page = client_for(AgencyKind.POLICE).get(f"/meetings/{meeting.id}")
    assert page.status_code == 200
    assert "onsdag 11 mars 2026, 09:00" in page.text  # 08:00 UTC shown in Swedish time
    assert "Stadshuset, rum 3" in page.text
    assert 'href="https://video.example/abc"' in page.text
    assert "Planerat" in page.text
    assert "Sista dag att anmäla barn: 2026-03-06." in page.text
    assert f"/meetings/{meeting.id}/projector" in page.text
    assert f"/meetings/{meeting.id}/meeting.ics" in page.text
    assert f'href="/councils/{world.council.id}/meetings"' in page.text  # the council's meetings

    before = audit_tags(db).count("access:denied")
    stranger = log_in(app.test_client(), outsider)
    assert stranger.get(f"/meetings/{meeting.id}").status_code == 403
    assert stranger.get(f"/meetings/{meeting.id}/projector").status_code == 403
    assert stranger.get(f"/meetings/{meeting.id}/meeting.ics").status_code == 403
    assert stranger.get("/meetings/999999").status_code == 403  # no 404 oracle
    assert audit_tags(db).count("access:denied") == before + 4


@time_machine.travel(MONDAY, tick=False)
def test_a_guest_sees_that_meeting_only(
    app: Flask, world: Council3, client_for, db: Session, outsider: User
) -> None:
    meeting = make_meeting(db, world.council)
    other = make_meeting(db, world.council, starts_at=MEETING_START + dt.timedelta(days=28))
    coordinator = log_in(app.test_client(), world.coordinator)
    member = client_for(AgencyKind.POLICE)

    # Only the coordinator invites guests.
    assert (
        member.post(f"/meetings/{meeting.id}/guests", data={"user_id": outsider.id}).status_code
        == 403
    )
    # A user of an agency outside the council cannot be a guest.
    foreign = UserFactory(agency=AgencyFactory(name="Annan kommun"), email="foreign@example.com")
    refused = coordinator.post(f"/meetings/{meeting.id}/guests", data={"user_id": foreign.id})
    assert refused.status_code == 422
    assert "Gäster måste höra till en av forumets deltagande myndigheter." in refused.text
    # Neither can a member (they are invited already as a member).
    refused = coordinator.post(
        f"/meetings/{meeting.id}/guests", data={"user_id": world.members[AgencyKind.POLICE].id}
    )
    assert refused.status_code == 422
    assert "Personen är redan medlem i forumet." in refused.text
    assert db.scalars(select(Attendance).where(Attendance.guest.is_(True))).all() == []

    added = coordinator.post(f"/meetings/{meeting.id}/guests", data={"user_id": outsider.id})
    assert added.status_code == 302
    row = db.get(Attendance, (meeting.id, outsider.id))
    assert row is not None
    assert row.guest
    assert row.status is AttendanceStatus.INVITED
    assert "meetings:guest:add" in audit_tags(db)

    guest = log_in(app.test_client(), outsider)
    page = guest.get(f"/meetings/{meeting.id}")
    assert page.status_code == 200
    assert outsider.display_name in page.text
    assert guest.get(f"/meetings/{meeting.id}/projector").status_code == 200
    assert guest.get(f"/meetings/{meeting.id}/meeting.ics").status_code == 200
    # Nothing else of the council: not its other meetings, its page or its caseload.
    assert guest.get(f"/meetings/{other.id}").status_code == 403
    assert guest.get(f"/councils/{world.council.id}").status_code == 403
    assert guest.get(f"/councils/{world.council.id}/children").status_code == 403
    assert f"/councils/{world.council.id}" not in page.text  # no links to what is closed
    # A guest sets their own attendance, and cannot add children to the agenda.
    assert (
        guest.post(
            f"/meetings/{meeting.id}/attendance/{outsider.id}", data={"status": "absent"}
        ).status_code
        == 302
    )
    db.expire_all()
    assert db.get(Attendance, (meeting.id, outsider.id)).status is AttendanceStatus.ABSENT  # type: ignore[union-attr]

    removed = coordinator.post(f"/meetings/{meeting.id}/guests/{outsider.id}/remove")
    assert removed.status_code == 302
    assert guest.get(f"/meetings/{meeting.id}").status_code == 403


# --- Attendance ---------------------------------------------------------------------------------


@time_machine.travel(MONDAY, tick=False)
def test_members_without_invitation_are_shown_invited_and_written_when_attendance_is_set(
    world: Council3, client_for, db: Session
) -> None:
    """A meeting without invitation rows (a member who joined later): the page shows every
    member as invited without writing (GET never writes); the first attendance set writes the
    invitations, once."""
    meeting = make_meeting(db, world.council)
    assert count(db, Attendance) == 0
    school = client_for(AgencyKind.SCHOOL)
    page = school.get(f"/meetings/{meeting.id}")
    assert page.status_code == 200
    assert "Kallad" in page.text
    for member in [*world.members.values(), world.coordinator]:
        assert member.display_name in page.text
    assert count(db, Attendance) == 0
    assert audit_tags(db).count("meetings:attendance:invite") == 0
    school_user = world.members[AgencyKind.SCHOOL]
    url = f"/meetings/{meeting.id}/attendance/{school_user.id}"
    assert school.post(url, data={"status": "absent"}).status_code == 302
    rows = db.scalars(select(Attendance).where(Attendance.meeting_id == meeting.id)).all()
    expected = {u.id for u in world.members.values()} | {world.coordinator.id}
    assert {r.user_id for r in rows} == expected
    assert all(not r.guest for r in rows)
    assert {r.user_id for r in rows if r.status is AttendanceStatus.ABSENT} == {school_user.id}
    client_for(AgencyKind.POLICE).get(f"/meetings/{meeting.id}")
    assert count(db, Attendance) == len(expected)
    assert audit_tags(db).count("meetings:attendance:invite") == 1


@time_machine.travel(MONDAY, tick=False)
def test_attendance_own_status_or_the_coordinators(
    app: Flask, world: Council3, client_for, db: Session
) -> None:
    meeting = make_meeting(db, world.council)
    police_user = world.members[AgencyKind.POLICE]
    school_user = world.members[AgencyKind.SCHOOL]
    police = client_for(AgencyKind.POLICE)
    police.get(f"/meetings/{meeting.id}")  # shows them invited; the first set writes them

    def status_of(user: User) -> AttendanceStatus:
        db.expire_all()
        row = db.get(Attendance, (meeting.id, user.id))
        assert row is not None
        return row.status

    url = f"/meetings/{meeting.id}/attendance"
    assert police.post(f"{url}/{police_user.id}", data={"status": "absent"}).status_code == 302
    assert status_of(police_user) is AttendanceStatus.ABSENT
    # Not someone else's.
    assert police.post(f"{url}/{school_user.id}", data={"status": "absent"}).status_code == 403
    assert status_of(school_user) is AttendanceStatus.INVITED
    # The coordinator sets anyone's.
    coordinator = log_in(app.test_client(), world.coordinator)
    assert (
        coordinator.post(f"{url}/{school_user.id}", data={"status": "excused"}).status_code == 302
    )
    assert status_of(school_user) is AttendanceStatus.EXCUSED
    # A made-up status changes nothing and says so in Swedish.
    bad = police.post(f"{url}/{police_user.id}", data={"status": "maybe"}, follow_redirects=True)
    assert "Välj närvarande, frånvarande eller anmält förhinder." in bad.text
    assert status_of(police_user) is AttendanceStatus.ABSENT
    page = police.get(f"/meetings/{meeting.id}").text
    assert "Frånvarande" in page and "Anmält förhinder" in page
    assert ">Närvarande<" not in page  # not offered before the meeting has started
    assert audit_tags(db).count("meetings:attendance:set") == 2


@time_machine.travel(MONDAY, tick=False)
def test_coordinator_names_chair_and_minute_taker(
    app: Flask, world: Council3, client_for, db: Session, outsider: User
) -> None:
    meeting = make_meeting(db, world.council)
    chair = world.members[AgencyKind.POLICE]
    taker = world.members[AgencyKind.SOCIAL_SERVICES]
    coordinator = log_in(app.test_client(), world.coordinator)
    version = meeting.version
    url = f"/meetings/{meeting.id}/roles"

    member = client_for(AgencyKind.SCHOOL)
    assert member.post(url, data={"chair_id": chair.id, "version": version}).status_code == 403

    refused = coordinator.post(
        url, data={"chair_id": outsider.id, "minute_taker_id": 0, "version": version}
    )
    assert refused.status_code == 422
    assert "Ordföranden måste vara medlem i forumet." in refused.text

    done = coordinator.post(
        url, data={"chair_id": chair.id, "minute_taker_id": taker.id, "version": version}
    )
    assert done.status_code == 302
    db.expire_all()
    saved = db.get(Meeting, meeting.id)
    assert saved is not None
    assert (saved.chair_id, saved.minute_taker_id) == (chair.id, taker.id)
    page = member.get(f"/meetings/{meeting.id}").text
    assert chair.display_name in page and taker.display_name in page

    # The same form again, loaded before the change: a conflict, not a silent overwrite.
    stale = coordinator.post(
        url, data={"chair_id": taker.id, "minute_taker_id": 0, "version": version}
    )
    assert stale.status_code == 409  # a conflict, as the page wrapper answers every one
    assert "Någon annan har ändrat uppgifterna" in stale.text
    db.expire_all()
    assert db.get(Meeting, meeting.id).chair_id == chair.id  # type: ignore[union-attr]


# --- Agenda -------------------------------------------------------------------------------------


@time_machine.travel(MONDAY, tick=False)
def test_adding_to_the_agenda_and_every_refusal_changes_nothing(
    app: Flask, world: Council3, client_for, db: Session
) -> None:
    social_user, meeting, child, closed = meeting_with_two_children(db, world)
    close_case(db, social_user, closed, CloseReason.MOVED)
    elsewhere = enrolled_in_another_council(db, world, social_user)
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    url = f"/meetings/{meeting.id}/agenda"

    form = social.get(f"/meetings/{meeting.id}").text
    assert child.pseudonym in form and closed.pseudonym not in form
    assert "Identitet" not in form.split('id="add-item"')[1]  # not a reason
    done = social.post(
        url, data={"child_id": child.id, "reason_category": "school", "brief": "Skolk sedan jul."}
    )
    assert done.status_code == 302
    item = db.scalars(select(AgendaItem)).one()
    assert (item.position, item.reason_category, item.source) == (1, "school", AgendaSource.MANUAL)
    record = db.get(Record, item.brief_record_id)
    assert record is not None
    assert record.category == "meeting_note"
    assert record.owner_agency_id == social_user.agency_id
    assert record.child_id == child.id
    assert {"secrecy:record:create", "meetings:agenda:add"} <= set(audit_tags(db))

    items, records = count(db, AgendaItem), count(db, Record)
    cases = [
        (
            # Another council's child is answered like an unknown id (no id oracle).
            {"child_id": elsewhere.id, "reason_category": "school", "brief": "X"},
            "Välj ett barn.",
        ),
        (
            {"child_id": child.id, "reason_category": "school", "brief": "Igen"},
            "Barnet står redan på dagordningen.",
        ),
        (
            {"child_id": closed.id, "reason_category": "school", "brief": "X"},
            "Barnets ärende är inte aktivt.",
        ),
        (
            {"child_id": "abc", "reason_category": "school", "brief": "X"},
            "Välj ett barn.",
        ),
        (
            {"child_id": child.id, "reason_category": "identity", "brief": "X"},
            "Välj ett skäl.",
        ),
        (
            {"child_id": child.id, "reason_category": "school", "brief": ""},
            "Fältet måste fyllas i.",
        ),
    ]
    for data, message in cases:
        refused = social.post(url, data=data)
        assert refused.status_code == 422, data
        assert message in refused.text, data
    assert elsewhere.pseudonym not in social.post(url, data=cases[0][0]).text
    assert (count(db, AgendaItem), count(db, Record)) == (items, records)

    # Someone who is neither a member nor a guest cannot post here at all.
    stranger = UserFactory(agency=world.agencies[AgencyKind.POLICE], email="s@example.com")
    second = enrol(db, social_user, world.council, "20100101-0022", "Pelle")
    items, records = count(db, AgendaItem), count(db, Record)
    assert (
        log_in(app.test_client(), stranger)
        .post(url, data={"child_id": second.id, "reason_category": "school", "brief": "X"})
        .status_code
        == 403
    )
    assert (count(db, AgendaItem), count(db, Record)) == (items, records)


def test_after_the_deadline_only_the_coordinator_adds(
    app: Flask, world: Council3, db: Session
) -> None:
    social_user = world.members[AgencyKind.SOCIAL_SERVICES]
    with time_machine.travel(MONDAY, tick=False):
        meeting = make_meeting(db, world.council)
        child = enrol(db, social_user, world.council, "20121212-1212")
        other = enrol(db, social_user, world.council, "20100101-0014", "Stina")
    data = {"child_id": child.id, "reason_category": "family", "brief": "Sent anmäld."}
    with time_machine.travel(AFTER_DEADLINE, tick=False):
        social = log_in(app.test_client(), social_user)
        page = social.get(f"/meetings/{meeting.id}").text
        assert "Tiden har gått ut" in page
        assert 'id="add-item"' not in page
        refused = social.post(f"/meetings/{meeting.id}/agenda", data=data)
        assert refused.status_code == 422
        assert "Sista dag att anmäla barn till dagordningen var 2026-03-06." in refused.text
        assert count(db, AgendaItem) == 0
        assert db.scalars(select(Record).where(Record.category == "meeting_note")).all() == []

        coordinator = log_in(app.test_client(), world.coordinator)
        assert 'id="add-item"' in coordinator.get(f"/meetings/{meeting.id}").text
        done = coordinator.post(
            f"/meetings/{meeting.id}/agenda",
            data={"child_id": other.id, "reason_category": "family", "brief": "Sent."},
        )
        assert done.status_code == 302
        assert count(db, AgendaItem) == 1


@time_machine.travel(MONDAY, tick=False)
def test_the_coordinator_orders_the_agenda_and_positions_stay_contiguous(
    app: Flask, world: Council3, client_for, db: Session
) -> None:
    social_user = world.members[AgencyKind.SOCIAL_SERVICES]
    meeting = make_meeting(db, world.council)
    children = [
        enrol(db, social_user, world.council, number, name)
        for number, name in (
            ("20121212-1212", "A"),
            ("20100101-0014", "B"),
            ("20100101-0022", "C"),
        )
    ]
    items = [add_item(db, social_user, meeting, c, f"Brief {c.id}") for c in children]
    assert [i.position for i in items] == [1, 2, 3]

    def order() -> list[int]:
        db.expire_all()
        rows = db.scalars(
            select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting.id)
            .order_by(AgendaItem.position)
        ).all()
        assert [r.position for r in rows] == list(range(1, len(rows) + 1))
        return [r.child_id for r in rows]

    a, b, c = (child.id for child in children)
    coordinator = log_in(app.test_client(), world.coordinator)
    move = f"/meetings/{meeting.id}/agenda/{{}}/move"

    def moved(item: AgendaItem, **form: object) -> int:
        return coordinator.post(move.format(item.id), data=form).status_code

    assert moved(items[2], to="up", expected_position=3) == 302
    assert order() == [a, c, b]
    assert moved(items[0], to="down", expected_position=1) == 302
    assert order() == [c, a, b]
    assert moved(items[1], to="1") == 302
    assert order() == [b, c, a]
    # A move made on a stale page is refused, not applied to the wrong place.
    stale = coordinator.post(
        move.format(items[2].id), data={"to": "up", "expected_position": 3}, follow_redirects=True
    )
    assert "Dagordningen har ändrats sedan du öppnade sidan." in stale.text
    assert order() == [b, c, a]
    # Members do not reorder.
    member = client_for(AgencyKind.POLICE)
    assert member.post(move.format(items[2].id), data={"to": "1"}).status_code == 403
    assert order() == [b, c, a]
    # Removing keeps the numbering without gaps.
    assert (
        coordinator.post(f"/meetings/{meeting.id}/agenda/{items[2].id}/remove").status_code == 302
    )
    assert order() == [b, a]
    assert "meetings:agenda:move" in audit_tags(db) and "meetings:agenda:remove" in audit_tags(db)
    page = coordinator.get(f"/meetings/{meeting.id}").text
    assert page.index(children[1].pseudonym) < page.index(children[0].pseudonym)


@time_machine.travel(MONDAY, tick=False)
def test_briefs_are_revealed_for_the_owner_and_withheld_for_others_until_disclosed(
    app: Flask, world: Council3, client_for, db: Session, outsider: User
) -> None:
    social_user = world.members[AgencyKind.SOCIAL_SERVICES]
    police_user = world.members[AgencyKind.POLICE]
    meeting = make_meeting(db, world.council)
    child = enrol(db, social_user, world.council, "20121212-1212")
    second = enrol(db, police_user, world.council, "20100101-0014", "Stina")
    item = add_item(db, social_user, meeting, child, "BRIEFMARK-social")
    add_item(db, police_user, meeting, second, "BRIEFMARK-police")
    db.flush()

    def reveal_events() -> list[AuditEvent]:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.tag == "secrecy:record:reveal")))

    social = client_for(AgencyKind.SOCIAL_SERVICES)
    before = len(reveal_events())
    page = social.get(f"/meetings/{meeting.id}").text
    events = reveal_events()
    assert len(events) == before + 1  # one reveal call for every brief on the page
    assert events[-1].details["purpose"] == "agenda"
    assert events[-1].details["withheld"] == 1
    assert "BRIEFMARK-social" in page
    assert "BRIEFMARK-police" not in page
    assert "Ingen uppgiftslämning till din myndighet." in page
    for secret in ("Kalle", "Stina", "Hemligsson", "20121212"):
        assert secret not in page  # pseudonyms only
    assert child.pseudonym in page and second.pseudonym in page

    police = client_for(AgencyKind.POLICE)
    page = police.get(f"/meetings/{meeting.id}").text
    assert "BRIEFMARK-social" not in page
    assert "BRIEFMARK-police" in page
    assert "Ingen uppgiftslämning till din myndighet." in page

    # The school has nothing disclosed: both withheld.
    page = client_for(AgencyKind.SCHOOL).get(f"/meetings/{meeting.id}").text
    assert "BRIEFMARK" not in page
    assert page.count("Ingen uppgiftslämning till din myndighet.") == 2

    # Social services disclose their brief to the police under 10 kap. 18 a § OSL.
    record = db.get(Record, item.brief_record_id)
    assert record is not None
    disclose_under_21_rule(db, social_user, record, world.agencies[AgencyKind.POLICE])
    page = police.get(f"/meetings/{meeting.id}").text
    assert "BRIEFMARK-social" in page
    assert "10 kap. 18 a § OSL" in page
    assert "BRIEFMARK" not in client_for(AgencyKind.SCHOOL).get(f"/meetings/{meeting.id}").text

    # A guest is not a member of the children's council: withheld, with that reason.
    coordinator = log_in(app.test_client(), world.coordinator)
    coordinator.post(f"/meetings/{meeting.id}/guests", data={"user_id": outsider.id})
    page = log_in(app.test_client(), outsider).get(f"/meetings/{meeting.id}").text
    assert "BRIEFMARK" not in page
    assert "Du är inte medlem i barnets forum." in page
    assert f"/children/{child.id}" not in page


@time_machine.travel(MONDAY, tick=False)
def test_the_projector_view_shows_only_order_pseudonyms_and_categories(
    app: Flask, world: Council3, client_for, db: Session
) -> None:
    social_user, meeting, first, second = meeting_with_two_children(db, world)
    add_agenda_item(db, social_user, meeting, first, "school", "PROJMARK-1")
    add_agenda_item(db, social_user, meeting, second, "crime_police", "PROJMARK-2")

    page = client_for(AgencyKind.SOCIAL_SERVICES).get(f"/meetings/{meeting.id}/projector")
    assert page.status_code == 200
    text = page.text
    assert "PROJMARK" not in text  # not even for the brief's owner
    assert text.index(first.pseudonym) < text.index(second.pseudonym)
    assert "Skola" in text and "Brott och polisiär information" in text
    for user in [*world.members.values(), world.coordinator]:
        assert user.display_name not in text
    for agency in world.agencies.values():
        assert agency.name not in text
    for secret in ("Kalle", "Stina", "Hemligsson", "20121212", "Ingen uppgiftslämning"):
        assert secret not in text
    assert "Logga ut" not in text  # not the layout with the user box


# --- The seam for open actions ------------------------------------------------------------------


@pytest.fixture
def contributors(app: Flask) -> Iterator[list[AgendaContributor]]:
    """The app's contributor registry, restored after the test (the app is session-wide)."""
    registry = app.extensions.setdefault(AGENDA_CONTRIBUTORS.key, [])
    saved = list(registry)
    yield registry
    registry[:] = saved


@time_machine.travel(MONDAY, tick=False)
def test_registered_contributors_put_children_on_the_agenda(
    app: Flask, world: Council3, client_for, db: Session, contributors: list
) -> None:
    social_user, meeting, manual, with_actions = meeting_with_two_children(db, world)
    closed = enrol(db, social_user, world.council, "20100101-0022", "Pelle")
    close_case(db, social_user, closed, CloseReason.MOVED)
    foreign = enrolled_in_another_council(db, world, social_user)
    add_item(db, social_user, meeting, manual, "Manuell")
    calls: list[int] = []

    def open_actions(session: Session, for_meeting: Meeting) -> list[int]:
        calls.append(for_meeting.id)
        return [with_actions.id, manual.id, closed.id, foreign.id, 999999]

    register_agenda_contributor(app, open_actions)
    page = client_for(AgencyKind.POLICE).get(f"/meetings/{meeting.id}")
    assert page.status_code == 200
    assert calls == [meeting.id]
    # The page shows the child that is to come without writing it (GET never writes) ...
    assert with_actions.pseudonym in page.text and "Öppna åtgärder" in page.text
    assert count(db, AgendaItem) == 1
    # ... which happens where it arises: materialising, adding a meeting, approving minutes.
    earlier = make_meeting(db, world.council, MEETING_START - dt.timedelta(days=7))
    with app.app_context():  # the contributors registered with the app
        added = contributors_module.add_contributed_items_after(db, earlier)
    assert [i.child_id for i in added] == [with_actions.id]
    rows = db.scalars(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting.id).order_by(AgendaItem.position)
    ).all()
    assert [(r.child_id, r.position, r.source) for r in rows] == [
        (manual.id, 1, AgendaSource.MANUAL),
        (with_actions.id, 2, AgendaSource.OPEN_ACTIONS),
    ]
    assert rows[1].reason_category == "agreed_action" and rows[1].brief_record_id is None
    page = client_for(AgencyKind.POLICE).get(f"/meetings/{meeting.id}")
    assert with_actions.pseudonym in page.text and "Öppna åtgärder" in page.text
    # Idempotent, and an open-actions child stays on the agenda.
    with app.app_context():
        assert contributors_module.add_contributed_items(db, meeting) == []
    assert count(db, AgendaItem) == 2
    assert audit_tags(db).count("meetings:agenda:contributed") == 1
    coordinator = log_in(app.test_client(), world.coordinator)
    refused = coordinator.post(
        f"/meetings/{meeting.id}/agenda/{rows[1].id}/remove", follow_redirects=True
    )
    assert "Barn med öppna åtgärder står kvar" in refused.text
    assert count(db, AgendaItem) == 2
    # Held meetings are history: contributors are not asked.
    asked = len(calls)
    meeting.status = MeetingStatus.HELD
    db.flush()
    assert client_for(AgencyKind.SCHOOL).get(f"/meetings/{meeting.id}").status_code == 200
    assert len(calls) == asked


# The markup form_tag and field give a brief form on the agenda (meetings/meeting.html).
BRIEF_FORM = (
    '{% from "_forms.html" import field, form_tag %}'
    '{% call form_tag(form, action, id="brief-" ~ child.id) %}\n'
    '            {{ field(form.brief, hint=_("Skriv inga namn. Lägesbeskrivningen är en uppgift '
    'från din myndighet.")) }}\n'
    '            <button type="submit">{{ _("Spara lägesbeskrivningen") }}'
    '<span class="visually-hidden"> {{ child.pseudonym }}</span></button>\n'
    "          {% endcall %}"
)


def without_csrf_values(html: str) -> str:
    """The markup without the token's value, white space folded (it does not render)."""
    return " ".join(re.sub(r'(csrf_token" type="hidden" value=")[^"]+', r"\1", html).split())


@pytest.mark.csrf
@time_machine.travel(MONDAY, tick=False)
def test_a_blank_brief_form_is_the_markup_of_the_form_macros(
    app: Flask, world: Council3, client_for, db: Session, contributors: list
) -> None:
    """The agenda writes a blank brief form out itself (no WTForms form per item): the same
    markup (but for white space) as form_tag and field give a blank BriefForm."""
    _, meeting, carried, _ = meeting_with_two_children(db, world)
    register_agenda_contributor(app, lambda session, for_meeting: [carried.id])
    page = client_for(AgencyKind.SOCIAL_SERVICES).get(f"/meetings/{meeting.id}").text
    action = f"/meetings/{meeting.id}/agenda/children/{carried.id}/brief"
    with app.test_request_context():
        form = BriefForm(prefix=f"b{carried.id}", formdata=None)
        expected = render_template_string(BRIEF_FORM, form=form, action=action, child=carried)
    assert f'name="b{carried.id}-csrf_token"' in expected
    assert page.count('id="brief-') == 1
    assert without_csrf_values(expected) in without_csrf_values(page)


@time_machine.travel(MONDAY, tick=False)
def test_reading_a_meeting_writes_nothing_but_view_events(
    app: Flask, world: Council3, client_for, db: Session, contributors: list
) -> None:
    """Uninvited members and a child that a contributor names: the meeting page, the projector
    and the API show them without writing a row (audit events of the views aside)."""
    social_user, meeting, manual, with_actions = meeting_with_two_children(db, world)
    add_item(db, social_user, meeting, manual, "Manuell")
    register_agenda_contributor(app, lambda session, for_meeting: [with_actions.id])
    police = client_for(AgencyKind.POLICE)
    coordinator = log_in(app.test_client(), world.coordinator)
    db.flush()
    before = dump_tables(db)
    page = police.get(f"/meetings/{meeting.id}")
    assert page.status_code == 200
    assert with_actions.pseudonym in page.text and "Kallad" in page.text
    assert with_actions.pseudonym in police.get(f"/meetings/{meeting.id}/projector").text
    assert coordinator.get(f"/meetings/{meeting.id}").status_code == 200
    assert police.get(f"/api/v1/meetings/{meeting.id}/agenda").status_code in (200, 401)
    db.expire_all()
    assert diff_dumps(before, dump_tables(db)) == []


@time_machine.travel(MONDAY, tick=False)
def test_numbers_beyond_range_are_refused_without_a_500(
    app: Flask, world: Council3, client_for, db: Session
) -> None:
    meeting = make_meeting(db, world.council)
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    huge = str(2**70)
    refused = social.post(
        f"/meetings/{meeting.id}/agenda",
        data={"child_id": huge, "reason_category": "school", "brief": "Text"},
    )
    assert refused.status_code == 422  # the form's message: no such child
    assert count(db, AgendaItem) == 0
    coordinator = log_in(app.test_client(), world.coordinator)
    guest = coordinator.post(f"/meetings/{meeting.id}/guests", data={"user_id": huge})
    assert guest.status_code == 422
    for url in (
        f"/councils/{world.council.id}/meetings?page={huge}",
        f"/councils/{world.council.id}/meetings?page=-1",
        f"/notifications?page={huge}",
    ):
        assert social.get(url).status_code == 400, url
    month = social.get(f"/councils/{world.council.id}/meetings/calendar?month=99999-99")
    assert month.status_code == 200  # an impossible month shows this one


# --- Deadline -----------------------------------------------------------------------------------


def test_deadline_counts_working_days_over_weekends_and_holidays() -> None:
    def deadline_for(local_day: dt.date) -> dt.date:
        starts = dt.datetime.combine(local_day, dt.time(9, 0), tzinfo=LOCAL_ZONE)
        return agenda_deadline(Meeting(starts_at=starts.astimezone(dt.UTC)))

    # Wednesday: Tue, Mon, (weekend), Fri.
    assert deadline_for(dt.date(2026, 3, 11)) == dt.date(2026, 3, 6)
    # Tuesday: Mon, (weekend), Fri, Thu.
    assert deadline_for(dt.date(2026, 3, 10)) == dt.date(2026, 3, 5)
    # Thursday after Easter: Wed, Tue, (Easter Monday, Sunday, Saturday, Good Friday), Thu.
    assert deadline_for(dt.date(2026, 4, 9)) == dt.date(2026, 4, 2)
    # Tuesday 5 January 2027: Mon, (weekend, New Year's Day, New Year's Eve), Wed, Tue.
    assert deadline_for(dt.date(2027, 1, 5)) == dt.date(2026, 12, 29)
    # Midsummer Eve is a day off in practice.
    assert not is_working_day(dt.date(2026, 6, 19))
    assert is_working_day(dt.date(2026, 6, 18))
    # A late-evening UTC start counts on its Swedish date.
    late = Meeting(starts_at=dt.datetime(2026, 3, 10, 23, 30, tzinfo=dt.UTC))  # 00:30 on Mar 11
    assert agenda_deadline(late) == dt.date(2026, 3, 6)
    assert deadline_passed(late, today=dt.date(2026, 3, 7))
    assert not deadline_passed(late, today=dt.date(2026, 3, 6))
    assert working_days_before(dt.date(2026, 3, 11), 0) == dt.date(2026, 3, 11)
