"""Network meetings: calling one about a child, participants without accounts (names sealed),
invitation letters (sealed, logged at every print), the young person's voice, the pages, the
projector view with its extension point, and refusals that change nothing."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest
import time_machine
from flask import Flask
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.errors import PermissionDenied, ServiceError
from coordination.models import AgencyKind, Child
from coordination.registry import AGENDA_CONTRIBUTORS, NETWORK_PROJECTION_PARTS
from meetings.models import AgendaItem, Attendance, AttendanceStatus, Meeting
from meetings.network import letters, services
from meetings.network.models import (
    InvitationLetter,
    NetworkMeeting,
    NetworkParticipant,
    ParticipantStatus,
    YoungPersonVoice,
)
from meetings.network.projection import register_network_projection_part
from meetings.tags import MeetingTag
from secrecy.models import Record
from tests.conftest import Council3, log_in
from tests.crawling import diff_dumps, dump_tables
from tests.meetings.network_helpers import NOW, child_of, meeting_data, network_with_family

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def registries(app: Flask) -> Iterator[None]:
    """The app's agenda contributors and projection parts, restored after the test (the app
    is session-wide)."""
    saved = {
        key: list(app.extensions.setdefault(key, []))
        for key in (AGENDA_CONTRIBUTORS.key, NETWORK_PROJECTION_PARTS.key)
    }
    yield
    for key, items in saved.items():
        app.extensions[key][:] = items


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _events(db: Session, tag: MeetingTag) -> int:
    return db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.tag == tag))


# --- Services ------------------------------------------------------------------------------------


@pytest.fixture
def network(db: Session, world: Council3) -> NetworkMeeting:
    """A network meeting about a child of the council, with the child and a guardian."""
    return network_with_family(db, world, child_of(db, world))


def test_a_network_meeting_has_the_child_as_its_one_agenda_item(
    db: Session, world: Council3
) -> None:
    child = child_of(db, world)
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    police = world.agencies[AgencyKind.POLICE]
    network = services.create_network_meeting(
        db, social, world.council, meeting_data(child, agency_ids=[police.id]), now=NOW
    )
    assert network.inviting_agency_id == social.agency_id
    items = db.scalars(select(AgendaItem).where(AgendaItem.meeting_id == network.meeting_id)).all()
    assert [i.child_id for i in items] == [child.id]
    invited = set(
        db.scalars(select(Attendance.user_id).where(Attendance.meeting_id == network.meeting_id))
    )
    assert invited == {
        social.id,
        world.coordinator.id,  # social services too
        world.members[AgencyKind.POLICE].id,
    }
    assert _events(db, MeetingTag.NETWORK_CREATE) == 1


def test_the_coordinator_may_call_one_and_a_school_member_may_not(
    db: Session, world: Council3
) -> None:
    child = child_of(db, world)
    network = services.create_network_meeting(
        db, world.coordinator, world.council, meeting_data(child), now=NOW
    )
    assert network.created_by_id == world.coordinator.id
    with pytest.raises(PermissionDenied):
        services.create_network_meeting(
            db, world.members[AgencyKind.SCHOOL], world.council, meeting_data(child), now=NOW
        )


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"child": None}, "child_id", "Välj det barn"),
        ({"day": dt.date(2026, 3, 1)}, "day", "Tiden har redan varit"),
        ({"day": dt.date(2026, 3, 2), "start_time": dt.time(9, 0)}, "day", "Tiden har redan varit"),
        ({"kind": "party"}, "kind", "Välj vilket slags"),
        ({"location": "", "video_link": ""}, "location", "Ange en plats"),
    ],
)
def test_bad_input_is_refused_with_a_swedish_message(
    db: Session, world: Council3, changes: dict[str, object], field: str, words: str
) -> None:
    child = child_of(db, world)
    rest = dict(changes)
    data = meeting_data(rest.pop("child", child), **rest)  # type: ignore[arg-type]
    before = db.scalar(select(func.count()).select_from(Meeting))
    with pytest.raises(ServiceError) as refused:
        services.create_network_meeting(
            db, world.members[AgencyKind.SOCIAL_SERVICES], world.council, data, now=NOW
        )
    assert refused.value.field == field
    assert words in str(refused.value.message)
    assert db.scalar(select(func.count()).select_from(Meeting)) == before


def test_a_child_of_another_council_is_refused(db: Session, world: Council3) -> None:
    from tests.factories import CouncilFactory, MembershipFactory

    other = CouncilFactory(
        name="Annat", code="ANN", agencies=[world.agencies[AgencyKind.SOCIAL_SERVICES]]
    )
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    MembershipFactory(council=other, user=social)
    db.flush()
    from secrecy.records.children import EnrolmentData, enrol_child

    elsewhere = enrol_child(db, social, other, EnrolmentData("A", "B", "20130405-0014"))
    with pytest.raises(ServiceError) as refused:
        services.create_network_meeting(db, social, world.council, meeting_data(elsewhere), now=NOW)
    assert refused.value.field == "child_id"
    assert "inte bland forumets" in str(refused.value.message)


def test_participants_names_are_sealed_records_of_the_inviting_agency(
    db: Session, world: Council3, network: NetworkMeeting
) -> None:
    participants = db.scalars(select(NetworkParticipant)).all()
    assert [p.role.value for p in participants] == ["young_person", "guardian"]
    records = [db.get(Record, p.name_record_id) for p in participants]
    assert {r.owner_agency_id for r in records if r} == {network.inviting_agency_id}
    assert _events(db, MeetingTag.NETWORK_PARTICIPANT_ADD) == 2
    details = db.scalars(
        select(AuditEvent.details).where(AuditEvent.tag == MeetingTag.NETWORK_PARTICIPANT_ADD)
    ).all()
    assert "Namnmarkör" not in repr(details) and "vh@example.se" not in repr(details)


@pytest.mark.parametrize("email", ["inte en adress", "a@b", "x@@example.se", "namn@exempel .se"])
def test_an_invalid_email_is_refused_and_nothing_is_added(
    db: Session, world: Council3, email: str, network: NetworkMeeting
) -> None:
    before = dump_tables(db)
    with pytest.raises(ServiceError) as refused:
        services.add_participant(
            db, world.members[AgencyKind.SOCIAL_SERVICES], network, "relative", "Moster", email
        )
    assert refused.value.field == "email"
    assert "E-postadressen är inte giltig" in str(refused.value.message)
    assert not diff_dumps(before, dump_tables(db))


def test_only_the_inviting_agency_adds_participants(
    db: Session, world: Council3, network: NetworkMeeting
) -> None:
    with pytest.raises(PermissionDenied):
        services.add_participant(
            db, world.members[AgencyKind.POLICE], network, "guardian", "Någon", None
        )
    with pytest.raises(ServiceError) as refused:
        services.add_participant(
            db, world.members[AgencyKind.SOCIAL_SERVICES], network, "guardian", "  ", None
        )
    assert refused.value.field == "name"


def test_attendance_of_participants_only_once_the_meeting_has_begun(
    db: Session, world: Council3, network: NetworkMeeting
) -> None:
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    participant = network.participants[0]
    with pytest.raises(ServiceError):
        services.set_participant_status(db, social, network, participant, "present", now=NOW)
    later = network.meeting.starts_at + dt.timedelta(minutes=5)
    services.set_participant_status(db, social, network, participant, "present", now=later)
    assert participant.status is ParticipantStatus.PRESENT
    assert _events(db, MeetingTag.NETWORK_PARTICIPANT_STATUS) == 1


def test_the_voice_is_a_sealed_record_of_the_recording_agency(
    db: Session, world: Council3, network: NetworkMeeting
) -> None:
    school = world.members[AgencyKind.SCHOOL]
    voice = services.record_voice(db, school, network, "Jag vill gå kvar i min klass.")
    record = db.get(Record, voice.record_id)
    assert record is not None and record.owner_agency_id == school.agency_id
    with pytest.raises(ServiceError) as refused:
        services.record_voice(db, school, network, "   ")
    assert refused.value.field == "voice"
    assert db.scalar(select(func.count()).select_from(YoungPersonVoice)) == 1


def test_a_letter_is_sealed_and_names_roles_not_other_names(
    db: Session, world: Council3, network: NetworkMeeting
) -> None:
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    letter = letters.create_letter(db, social, network, network.participants[1], now=NOW)
    record = db.get(Record, letter.record_id)
    assert record is not None and record.owner_agency_id == social.agency_id
    from secrecy.records.reveal import reveal_one

    content = reveal_one(db, social, record).content  # type: ignore[union-attr]
    assert content["name"] == "Vhnamn Namnmarkör"
    assert content["other_roles"] == ["Den unge"]
    assert "Ungnamn" not in repr(content)
    with pytest.raises(PermissionDenied):
        letters.create_letter(
            db, world.members[AgencyKind.POLICE], network, network.participants[1], now=NOW
        )


# --- Pages -----------------------------------------------------------------------------------


def test_the_page_shows_names_to_the_inviting_agency_only(
    app: Flask, db: Session, world: Council3, network: NetworkMeeting
) -> None:
    services.record_voice(db, world.members[AgencyKind.POLICE], network, "Röstmarkör från polisen.")
    db.commit()
    url = f"/network-meetings/{network.meeting_id}"
    social = log_in(app.test_client(), world.members[AgencyKind.SOCIAL_SERVICES]).get(url)
    assert social.status_code == 200
    text = social.get_data(as_text=True)
    assert "Ungnamn Namnmarkör" in text and "vh@example.se" in text
    assert "Röstmarkör" not in text  # the police's voice record: not disclosed
    police = (
        log_in(app.test_client(), world.members[AgencyKind.POLICE]).get(url).get_data(as_text=True)
    )
    assert "Namnmarkör" not in police and "Röstmarkör" in police
    assert "Undanhållen" in police


def test_the_form_refuses_an_invalid_email_with_422(
    app: Flask, db: Session, world: Council3, network: NetworkMeeting
) -> None:
    db.commit()
    client = log_in(app.test_client(), world.members[AgencyKind.SOCIAL_SERVICES])
    response = client.post(
        f"/network-meetings/{network.meeting_id}/participants",
        data={"role": "relative", "name": "Morbror", "email": "fel@"},
    )
    assert response.status_code == 422
    assert "E-postadressen är inte giltig" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(NetworkParticipant)) == 2


def test_calling_a_meeting_through_the_form(app: Flask, db: Session, world: Council3) -> None:
    child = child_of(db, world)
    db.commit()
    client = log_in(app.test_client(), world.members[AgencyKind.SOCIAL_SERVICES])
    url = f"/councils/{world.council.id}/network-meetings/new"
    assert client.get(url).status_code == 200
    base = {
        "kind": "custom_under_18",
        "purpose": "support_offer",
        "day": "2026-03-12",
        "start_time": "10:00",
        "end_time": "11:00",
        "location": "Polishuset",
    }
    for no_child in ("", "\N{SUPERSCRIPT TWO}"):  # a superscript digit passes str.isdigit
        refused = client.post(url, data={**base, "child_id": no_child})
        assert refused.status_code == 422
        assert "Välj det barn" in refused.get_data(as_text=True)
    past = client.post(url, data={**base, "child_id": str(child.id), "day": "2026-02-27"})
    assert past.status_code == 422 and "Tiden har redan varit" in past.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(NetworkMeeting)) == 0
    created = client.post(url, data={**base, "child_id": str(child.id)})
    assert created.status_code == 302
    network = db.scalars(select(NetworkMeeting)).one()
    assert created.location.endswith(f"/network-meetings/{network.meeting_id}")
    listed = client.get(f"/councils/{world.council.id}/network-meetings").get_data(as_text=True)
    assert child.pseudonym in listed
    school = log_in(app.test_client(), world.members[AgencyKind.SCHOOL])
    assert school.get(url).status_code == 403


def test_the_letter_pdf_is_logged_at_every_print_and_refused_to_others(
    app: Flask, db: Session, world: Council3, network: NetworkMeeting
) -> None:
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    letter = letters.create_letter(db, social, network, network.participants[0], now=NOW)
    db.commit()
    url = f"/network-letters/{letter.id}.pdf"
    client = log_in(app.test_client(), social)
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert "Namnmarkör" not in response.headers["Content-Disposition"]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "Ungnamn Namnmarkör" in text
    assert "Vårdnadshavare" in text and "Familjecentralen" in text
    assert _events(db, MeetingTag.NETWORK_LETTER_PRINT) == 2
    police = log_in(app.test_client(), world.members[AgencyKind.POLICE])
    assert police.get(url).status_code == 403
    assert _events(db, MeetingTag.NETWORK_LETTER_PRINT) == 2


def test_consent_link_prefills_the_invited_agencies(
    app: Flask, db: Session, world: Council3, network: NetworkMeeting
) -> None:
    db.commit()
    client = log_in(app.test_client(), world.members[AgencyKind.SOCIAL_SERVICES])
    page = client.get(f"/network-meetings/{network.meeting_id}").get_data(as_text=True)
    assert f"/children/{network.child_id}/consents?" in page
    police = world.agencies[AgencyKind.POLICE].id
    form = client.get(
        f"/children/{network.child_id}/consents?agency_ids={police}&purpose=network_meeting"
    ).get_data(as_text=True)
    assert f'value="{police}" selected' in form or f'selected value="{police}"' in form
    assert "nätverksmöte" in form


# --- Projector ---------------------------------------------------------------------------------


def test_the_projector_shows_roles_and_what_every_attending_agency_may_see(
    app: Flask, db: Session, world: Council3, network: NetworkMeeting
) -> None:
    social = world.members[AgencyKind.SOCIAL_SERVICES]
    services.record_voice(db, social, network, "Röstmarkör bara för socialtjänsten.")
    db.commit()
    url = f"/network-meetings/{network.meeting_id}/projector"
    text = log_in(app.test_client(), social).get(url).get_data(as_text=True)
    assert network.child.pseudonym in text
    assert "Den unge" in text and "Vårdnadshavare" in text
    assert "Namnmarkör" not in text and "Förnamn" not in text
    # Every agency is invited, and the voice is social services' own: not on the shared screen.
    assert "Röstmarkör" not in text
    # With only social services attending, it is.
    db.execute(
        Attendance.__table__.update()
        .where(Attendance.meeting_id == network.meeting_id, Attendance.user_id != social.id)
        .values(status=AttendanceStatus.EXCUSED)
    )
    db.commit()
    assert "Röstmarkör" in log_in(app.test_client(), social).get(url).get_data(as_text=True)


def test_the_projector_renders_the_registered_parts_with_the_attending_agencies(
    app: Flask, db: Session, world: Council3, registries: None, network: NetworkMeeting
) -> None:
    db.commit()
    calls: list[tuple[int, int, list[int]]] = []

    def dummy_part(
        session: Session, viewer: object, council_id: int, child_id: int, agency_ids
    ) -> str:  # type: ignore[no-untyped-def]
        calls.append((council_id, child_id, list(agency_ids)))
        return f"<section>{escape('Planens del <b>')}</section>"

    register_network_projection_part(app, dummy_part)
    url = f"/network-meetings/{network.meeting_id}/projector"
    text = (
        log_in(app.test_client(), world.members[AgencyKind.POLICE]).get(url).get_data(as_text=True)
    )
    assert "Planens del &lt;b&gt;" in text
    assert calls == [
        (world.council.id, network.child_id, sorted(a.id for a in world.agencies.values()))
    ]


def test_outsiders_get_403_on_every_network_path(app: Flask, db: Session, world: Council3) -> None:
    from tests.factories import UserFactory

    network = network_with_family(db, world, child_of(db, world))
    letter = letters.create_letter(
        db, world.members[AgencyKind.SOCIAL_SERVICES], network, network.participants[0], now=NOW
    )
    outsider = UserFactory(agency=world.agencies[AgencyKind.POLICE], email="ute@example.com")
    db.commit()
    client = log_in(app.test_client(), outsider)
    base = f"/network-meetings/{network.meeting_id}"
    for url in (base, f"{base}/projector", f"/network-letters/{letter.id}.pdf"):
        assert client.get(url).status_code == 403, url
    assert client.get(f"/councils/{world.council.id}/network-meetings").status_code == 403
    assert db.scalar(select(func.count()).select_from(InvitationLetter)) == 1
    assert db.get(Child, network.child_id) is not None


def test_the_demo_has_a_network_meeting_with_participants(app: Flask, db: Session) -> None:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    network = db.scalars(select(NetworkMeeting)).one()
    assert network.meeting.council.code == "NORR"
    assert [p.role.value for p in network.participants] == [
        "young_person",
        "guardian",
        "support_person",
    ]
    assert db.scalar(select(func.count()).select_from(InvitationLetter)) == 3
    assert db.scalar(select(func.count()).select_from(YoungPersonVoice)) == 1
    again = app.test_cli_runner().invoke(args=["demo"])
    assert again.exit_code == 0
    assert db.scalar(select(func.count()).select_from(NetworkMeeting)) == 1


def test_no_other_child_comes_onto_a_network_meetings_agenda(
    app: Flask, db: Session, world: Council3, registries: None
) -> None:
    from meetings.agenda.contributors import add_contributed_items, register_agenda_contributor
    from meetings.agenda.items import add_agenda_item

    network = network_with_family(db, world, child_of(db, world))
    other = child_of(db, world, "20100101-0014")
    register_agenda_contributor(app, lambda session, meeting: [other.id])
    assert add_contributed_items(db, network.meeting) == []
    with pytest.raises(ServiceError) as refused:
        add_agenda_item(db, world.coordinator, network.meeting, other, "school", "Läge")
    assert "gäller ett enda barn" in str(refused.value.message)
    items = db.scalars(
        select(AgendaItem.child_id).where(AgendaItem.meeting_id == network.meeting_id)
    )
    assert list(items) == [network.child_id]


def test_the_meeting_page_links_to_the_network_meeting(
    app: Flask, db: Session, world: Council3, network: NetworkMeeting
) -> None:
    db.commit()
    client = log_in(app.test_client(), world.members[AgencyKind.POLICE])
    page = client.get(f"/meetings/{network.meeting_id}").get_data(as_text=True)
    assert f'href="/network-meetings/{network.meeting_id}"' in page
    assert 'name="child_id"' not in page  # nothing is added to a network meeting's agenda


def test_letters_and_attendance_through_the_page_forms(
    app: Flask,
    db: Session,
    world: Council3,
    clock: time_machine.Coordinates,
    network: NetworkMeeting,
) -> None:
    participant = network.participants[0]
    db.commit()
    base = f"/network-meetings/{network.meeting_id}/participants/{participant.id}"
    police = log_in(app.test_client(), world.members[AgencyKind.POLICE])
    assert police.post(f"{base}/letter").status_code == 403
    social = log_in(app.test_client(), world.members[AgencyKind.SOCIAL_SERVICES])
    assert social.post(f"{base}/letter").status_code == 302
    assert db.scalar(select(func.count()).select_from(InvitationLetter)) == 1
    early = social.post(f"{base}/status", data={"status": "present", "version": "1"})
    assert early.status_code == 302
    db.expire_all()
    assert db.get(NetworkParticipant, participant.id).status is ParticipantStatus.INVITED  # type: ignore[union-attr]
    clock.move_to(network.meeting.starts_at + dt.timedelta(minutes=10))
    social = log_in(app.test_client(), world.members[AgencyKind.SOCIAL_SERVICES])
    assert (
        social.post(f"{base}/status", data={"status": "present", "version": "1"}).status_code == 302
    )
    db.expire_all()
    assert db.get(NetworkParticipant, participant.id).status is ParticipantStatus.PRESENT  # type: ignore[union-attr]
