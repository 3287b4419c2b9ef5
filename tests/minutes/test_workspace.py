"""The meeting workspace: entries and decisions disclosed to the attending agencies, agreed
actions with their disclosed description, and optimistic locking of concurrent edits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.errors import PermissionDenied, ServiceError
from coordination.models import AgencyKind, Child, User
from meetings.agenda.items import add_agenda_item
from meetings.models import AgendaItem, Attendance, AttendanceStatus, Meeting
from minutes.actions.services import create_action
from minutes.models import ActionStatus, AgreedAction, EntryKind, Minutes, MinutesEntry
from minutes.workspace import services as workspace
from minutes.workspace import sharing
from minutes.workspace.sharing import ShareChoice
from secrecy.models import Disclosure, Record
from secrecy.records.children import EnrolmentData, enrol_child
from secrecy.records.reveal import reveal_one
from tests.conftest import Council3, audit_tags, log_in
from tests.factories import ASSESSED, AgencyFactory, UserFactory, make_meeting

# Wednesday 4 March 2026, 10:00 UTC; the child (born 2008-05-10) is 17.
NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 4)
SOL_POLICE = "sol-police-u21"
TO_POLICE = (0, 1, 2, 3)  # the four statements of 10 kap. 18 a § OSL


@dataclass
class Setting:
    meeting: Meeting
    child: Child
    item: AgendaItem
    social: User
    police: User
    school: User
    leisure: User


def police_share(setting: Setting) -> list[ShareChoice]:
    """Share with the setting's police under 10 kap. 18 a § OSL, all four statements made."""
    return [ShareChoice(setting.police.agency_id, SOL_POLICE, TO_POLICE)]


def social_note(
    db: Session,
    setting: Setting,
    text: str,
    shares: list[ShareChoice] | None = None,
    assessment: str | None = None,
) -> MinutesEntry:
    """The social services member's meeting note about the setting's child (shared as
    ``shares`` say, under ``assessment``)."""
    return workspace.add_entry(
        db,
        setting.social,
        setting.meeting,
        setting.child,
        EntryKind.ENTRY,
        "meeting_note",
        text,
        shares or [],
        assessment,
    )


def entry_form(child_id: int, text: str, category: str = "meeting_note") -> dict[str, object]:
    """The child's new-entry form: a note of ``category``, shared with no one."""
    prefix = f"e{child_id}"
    return {f"{prefix}-kind": "entry", f"{prefix}-category": category, f"{prefix}-text": text}


def police_share_form(setting: Setting, *, confirmed: bool = True) -> dict[str, object]:
    """The entry form's fields that share it with the police under the under-21 rule, every
    statement confirmed unless ``confirmed`` is false."""
    police = setting.police.agency_id
    fields: dict[str, object] = {f"share-{police}": "y", f"basis-{police}": SOL_POLICE}
    if confirmed:
        fields.update({f"confirm-{police}-{SOL_POLICE}-{i}": "y" for i in TO_POLICE})
    return fields


def action_form(setting: Setting, text: str, *, due_on: str) -> dict[str, object]:
    """The child's new-action form: social services responsible, no one named."""
    prefix = f"a{setting.child.id}"
    return {
        f"{prefix}-text": text,
        f"{prefix}-responsible_agency_id": setting.social.agency_id,
        f"{prefix}-responsible_user_id": "0",
        f"{prefix}-due_on": due_on,
    }


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def mark(db: Session, meeting: Meeting, user: User, status: AttendanceStatus) -> None:
    row = db.get(Attendance, (meeting.id, user.id))
    if row is None:
        db.add(Attendance(meeting_id=meeting.id, user_id=user.id, status=status))
    else:
        row.status = status
    db.flush()


def make_setting(db: Session, world: Council3) -> Setting:
    """A meeting today with one child on the agenda; social services, police and leisure are
    present, school is absent; the coordinator (social services) is present and chairs."""
    members = world.members
    meeting = Meeting(
        council_id=world.council.id,
        starts_at=NOW - dt.timedelta(hours=1),
        ends_at=NOW + dt.timedelta(hours=1),
        chair_id=world.coordinator.id,
    )
    db.add(meeting)
    db.flush()
    child = enrol_child(
        db,
        members[AgencyKind.SOCIAL_SERVICES],
        world.council,
        EnrolmentData("Vilgot", "Provsson", "20080510-1235"),
    )
    item = add_agenda_item(
        db, world.coordinator, meeting, child, "risk_protective", "Brief-Hemlig-1", today=None
    )
    for kind in (AgencyKind.SOCIAL_SERVICES, AgencyKind.POLICE, AgencyKind.LEISURE):
        mark(db, meeting, members[kind], AttendanceStatus.PRESENT)
    mark(db, meeting, members[AgencyKind.SCHOOL], AttendanceStatus.ABSENT)
    mark(db, meeting, world.coordinator, AttendanceStatus.PRESENT)
    return Setting(
        meeting,
        child,
        item,
        members[AgencyKind.SOCIAL_SERVICES],
        members[AgencyKind.POLICE],
        members[AgencyKind.SCHOOL],
        members[AgencyKind.LEISURE],
    )


@pytest.fixture
def setting(db: Session, world: Council3) -> Setting:
    with time_machine.travel(NOW, tick=False):
        return make_setting(db, world)


def shown(db: Session, viewer: User, record_id: int) -> bool:
    record = db.get(Record, record_id)
    assert record is not None
    return not reveal_one(db, viewer, record).withheld


# --- Entries ------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_share_options_list_attending_agencies_and_the_reason_for_those_without_a_basis(
    db: Session, setting: Setting
) -> None:
    options = sharing.share_options(
        db, setting.social, setting.meeting, setting.child, "meeting_note"
    )
    by_name = {o.agency.name: o for o in options}
    # Social services' own agency is not offered; school is absent, so not offered at all.
    assert set(by_name) == {"Test police", "Test leisure"}
    police = by_name["Test police"]
    assert police.first_basis is not None
    assert police.first_basis.basis.id in {a.basis.id for a in police.applicable}
    assert SOL_POLICE in {a.basis.id for a in police.applicable}
    leisure = by_name["Test leisure"]
    assert leisure.applicable == []
    assert leisure.refused and all(a.reasons for a in leisure.refused)


@time_machine.travel(NOW, tick=False)
def test_an_entry_is_disclosed_to_the_chosen_attending_agency_only(
    db: Session, setting: Setting
) -> None:
    entry = social_note(db, setting, "Anteckning-Hemlig-7", police_share(setting), ASSESSED)
    minutes = db.scalars(select(Minutes)).one()
    assert minutes.version == 2  # created at 1, raised by the entry
    assert shown(db, setting.social, entry.record_id)
    assert shown(db, setting.police, entry.record_id)
    assert not shown(db, setting.school, entry.record_id)  # absent: never shared
    assert not shown(db, setting.leisure, entry.record_id)  # present, but not chosen
    assert "minutes:entry:add" in audit_tags(db)
    record = db.get(Record, entry.record_id)
    assert record is not None and record.category == "meeting_note"

    decision = workspace.add_entry(
        db, setting.police, setting.meeting, setting.child, EntryKind.DECISION, "crime_police", "B"
    )
    assert decision.kind is EntryKind.DECISION
    assert db.scalars(select(Minutes)).one().version == 3


@time_machine.travel(NOW, tick=False)
def test_entries_refuse_absent_and_basisless_agencies_and_bad_categories(
    db: Session, setting: Setting
) -> None:
    before = (count(db, MinutesEntry), count(db, Record), count(db, Disclosure))

    def attempt(category: str, shares: list[ShareChoice]) -> ServiceError:
        with pytest.raises(ServiceError) as caught, db.begin_nested():
            workspace.add_entry(
                db,
                setting.social,
                setting.meeting,
                setting.child,
                EntryKind.ENTRY,
                category,
                "Text",
                shares,
                ASSESSED,
            )
        return caught.value

    school = attempt("meeting_note", [ShareChoice(setting.school.agency_id, "own-task", (0,))])
    assert "närvarande" in str(school.message)
    leisure = attempt("meeting_note", [ShareChoice(setting.leisure.agency_id, "own-task", (0,))])
    assert "Test leisure" in str(leisure.message)
    assert attempt("identity", []).field == "category"
    assert attempt("consent", []).field == "category"
    assert (count(db, MinutesEntry), count(db, Record), count(db, Disclosure)) == before


@time_machine.travel(NOW, tick=False)
def test_the_workspace_page_for_writers_readers_guests_and_outsiders(
    app: Flask, db: Session, world: Council3, setting: Setting, client_for
) -> None:
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    url = f"/meetings/{setting.meeting.id}/minutes"
    page = social.get(url)
    assert page.status_code == 200
    assert setting.child.pseudonym in page.text
    assert "Brief-Hemlig-1" in page.text  # the coordinator (social services) wrote the brief
    # The workspace links to each child's writing page, which holds the forms and the choices.
    child_url = f"{url}/children/{setting.child.id}"
    assert f'href="{child_url}#new-entry"' in page.text
    assert f'href="{child_url}#new-action"' in page.text
    assert "<textarea" not in page.text and 'name="share-' not in page.text
    writing = social.get(child_url)
    assert writing.status_code == 200
    assert "Brief-Hemlig-1" in writing.text
    assert f'action="{child_url}/entries"' in writing.text
    assert f'action="{child_url}/actions"' in writing.text
    assert f'name="share-{setting.police.agency_id}"' in writing.text
    assert f'name="share-{setting.leisure.agency_id}"' not in writing.text
    assert f'name="share-{setting.school.agency_id}"' not in writing.text
    assert "Test leisure" in writing.text and "kan inte få uppgiften" in writing.text
    assert f'value="{SOL_POLICE}"' in writing.text

    posted = social.post(
        f"{url}/children/{setting.child.id}/entries",
        data={
            **entry_form(setting.child.id, "Sidtext-Hemlig-3"),
            f"e{setting.child.id}-assessment": ASSESSED,
            **police_share_form(setting),
        },
    )
    assert posted.status_code == 302
    assert "Sidtext-Hemlig-3" in social.get(url).text
    assert "Sidtext-Hemlig-3" in client_for(AgencyKind.POLICE).get(url).text
    school_page = client_for(AgencyKind.SCHOOL).get(url)
    assert school_page.status_code == 200
    assert "Sidtext-Hemlig-3" not in school_page.text
    assert "Brief-Hemlig-1" not in school_page.text
    assert "Ingen uppgiftslämning till din myndighet." in school_page.text
    assert "Sidtext-Hemlig-3" not in client_for(AgencyKind.LEISURE).get(url).text

    # A missing confirmation: 422, the message, nothing stored.
    entries = count(db, MinutesEntry)
    refused = social.post(
        f"{url}/children/{setting.child.id}/entries",
        data={
            **entry_form(setting.child.id, "Utan-bekräftelse"),
            f"e{setting.child.id}-assessment": ASSESSED,
            **police_share_form(setting, confirmed=False),
        },
    )
    assert refused.status_code == 422
    assert "Bekräfta varje förutsättning" in refused.text
    assert "Utan-bekräftelse" in refused.text  # the child's page again, with what was written
    assert f'action="{child_url}/entries"' in refused.text
    assert count(db, MinutesEntry) == entries

    # A guest invited to this meeting reads but cannot write.
    guest_user = UserFactory(agency=AgencyFactory(kind=AgencyKind.HEALTHCARE, name="Vården"))
    db.add(Attendance(meeting_id=setting.meeting.id, user_id=guest_user.id, guest=True))
    db.flush()
    guest = log_in(app.test_client(), guest_user)
    guest_page = guest.get(url)
    assert guest_page.status_code == 200
    assert "Sidtext-Hemlig-3" not in guest_page.text
    assert "<textarea" not in guest_page.text
    assert child_url not in guest_page.text
    assert guest.get(child_url).status_code == 403  # guests read; the writing page is refused
    assert (
        guest.post(
            f"{url}/children/{setting.child.id}/entries",
            data={f"e{setting.child.id}-kind": "entry", f"e{setting.child.id}-text": "x"},
        ).status_code
        == 403
    )
    assert count(db, MinutesEntry) == entries

    outsider = log_in(app.test_client(), UserFactory(agency=world.agencies[AgencyKind.SCHOOL]))
    assert outsider.get(url).status_code == 403
    assert outsider.get(child_url).status_code == 403
    # A child who is not on this meeting's agenda: refused like a forbidden one.
    assert social.get(f"{url}/children/{setting.child.id + 1000}").status_code == 403

    meeting_page = social.get(f"/meetings/{setting.meeting.id}")
    assert f'href="{url}"' in meeting_page.text
    assert "Protokoll / arbetsyta" in meeting_page.text


# --- Agreed actions -----------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_an_action_description_is_disclosed_to_the_responsible_agency(
    db: Session, setting: Setting
) -> None:
    action = create_action(
        db,
        setting.social,
        setting.meeting,
        setting.child,
        "Åtgärd-Hemlig-9",
        setting.police.agency,
        setting.police,
        TODAY + dt.timedelta(days=14),
        SOL_POLICE,
        TO_POLICE,
        assessment=ASSESSED,
    )
    assert action.status is ActionStatus.OPEN
    record = db.get(Record, action.description_record_id)
    assert record is not None
    assert record.category == "agreed_action"
    assert record.owner_agency_id == setting.social.agency_id
    assert shown(db, setting.police, record.id)
    assert not shown(db, setting.school, record.id)
    assert not shown(db, setting.leisure, record.id)
    assert "minutes:action:create" in audit_tags(db)

    # Own agency responsible: no disclosure needed, and none made.
    own = create_action(
        db, setting.social, setting.meeting, setting.child, "Egen", setting.social.agency,
        None, TODAY, "", (),
        assessment=ASSESSED,
    )  # fmt: skip
    assert (
        db.scalars(
            select(Disclosure).where(Disclosure.record_id == own.description_record_id)
        ).all()
        == []
    )


@time_machine.travel(NOW, tick=False)
def test_actions_are_refused_without_basis_wrong_person_or_past_date(
    db: Session, setting: Setting, world: Council3
) -> None:
    before = (count(db, AgreedAction), count(db, Record))

    def attempt(**overrides: object) -> ServiceError:
        args: dict[str, object] = {
            "text": "Åtgärd",
            "responsible_agency": setting.police.agency,
            "responsible_user": None,
            "due_on": TODAY,
            "basis_id": SOL_POLICE,
            "confirmed": TO_POLICE,
        } | overrides
        with pytest.raises(ServiceError) as caught, db.begin_nested():
            create_action(db, setting.social, setting.meeting, setting.child, **args)  # type: ignore[arg-type]
        return caught.value

    leisure = attempt(responsible_agency=setting.leisure.agency, basis_id="own-task")
    assert "Test leisure" in str(leisure.message) and leisure.field == "basis"
    assert attempt(basis_id="").field == "basis"
    assert attempt(confirmed=(0,)).field == "confirmations"
    assert attempt(responsible_user=setting.school).field == "responsible_user_id"
    assert attempt(due_on=TODAY - dt.timedelta(days=1)).field == "due_on"
    with pytest.raises(PermissionDenied):
        create_action(
            db,
            UserFactory(agency=world.agencies[AgencyKind.POLICE]),
            setting.meeting,
            setting.child,
            "x",
            setting.police.agency,
            None,
            TODAY,
            "",
            (),
            assessment=ASSESSED,
        )
    assert (count(db, AgreedAction), count(db, Record)) == before


@time_machine.travel(NOW, tick=False)
def test_actions_through_the_page_and_earlier_open_actions_on_the_next_meeting(
    db: Session, world: Council3, setting: Setting, client_for
) -> None:
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    prefix = f"a{setting.child.id}"
    url = f"/meetings/{setting.meeting.id}/minutes"
    form = {
        f"{prefix}-text": "Sidåtgärd-Hemlig-5",
        f"{prefix}-responsible_agency_id": setting.police.agency_id,
        f"{prefix}-responsible_user_id": "0",
        f"{prefix}-due_on": "2026-03-20",
        f"{prefix}-basis": SOL_POLICE,
        **{f"{prefix}-confirm-{SOL_POLICE}-{i}": "y" for i in TO_POLICE},
    }
    writing = social.get(f"{url}/children/{setting.child.id}").text
    assert f'name="{prefix}-assessment"' in writing
    # Disclosed to another agency without the written assessment: refused next to its field.
    records = count(db, Record)
    unassessed = social.post(f"{url}/children/{setting.child.id}/actions", data=form)
    assert unassessed.status_code == 422
    assert "Skriv er bedömning" in unassessed.text
    assert count(db, AgreedAction) == 0 and count(db, Record) == records
    why = "ÅTGÄRD-BEDÖMNING: polisen behöver beskrivningen för att kunna göra hembesöket."
    response = social.post(
        f"{url}/children/{setting.child.id}/actions",
        data={**form, f"{prefix}-assessment": why},
    )
    assert response.status_code == 302, response.text
    action = db.scalars(select(AgreedAction)).one()
    assert action.responsible_user_id is None
    police_page = client_for(AgencyKind.POLICE).get(url).text
    assert "Sidåtgärd-Hemlig-5" in police_page
    assert why in police_page  # the recipient reads the assessment with the description
    assert why not in client_for(AgencyKind.SCHOOL).get(url).text

    past = social.post(
        f"{url}/children/{setting.child.id}/actions",
        data=action_form(setting, "För sent", due_on="2026-03-01"),
    )
    assert past.status_code == 422
    assert "Datumet har redan passerat." in past.text
    assert count(db, AgreedAction) == 1

    # The next meeting: the open action is listed for everyone, its description for police.
    later = make_meeting(db, world.council, NOW + dt.timedelta(days=28))
    add_agenda_item(
        db, world.coordinator, later, setting.child, "agreed_action", "Nästa", today=None
    )
    next_url = f"/meetings/{later.id}/minutes"
    police_page = client_for(AgencyKind.POLICE).get(next_url)
    assert "Öppna åtgärder från tidigare möten" in police_page.text
    assert "Sidåtgärd-Hemlig-5" in police_page.text
    school_page = client_for(AgencyKind.SCHOOL).get(next_url)
    assert "Öppna åtgärder från tidigare möten" in school_page.text
    assert "2026-03-20" in school_page.text  # metadata for everyone
    assert "Sidåtgärd-Hemlig-5" not in school_page.text


# --- Optimistic locking -------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_concurrent_edits_keep_both_versions(
    db: Session, world: Council3, setting: Setting, client_for
) -> None:
    coordinator = world.coordinator
    entry = social_note(db, setting, "Ur")
    version = db.scalars(select(Minutes)).one().version

    # Two users of the same agency open the form at the same version; the first save wins.
    first = workspace.edit_entry(db, setting.social, entry, "Första-versionen", version)
    assert not first.conflict
    second = workspace.edit_entry(db, coordinator, entry, "Andra-versionen", version)
    assert second.conflict
    assert second.entry.conflict_with_id == entry.id
    assert "minutes:entry:conflict" in audit_tags(db)
    texts = {
        str(r.content["text"])
        for r in [
            reveal_one(db, setting.social, db.get(Record, e.record_id))  # type: ignore[arg-type]
            for e in db.scalars(select(MinutesEntry))
        ]
        if not r.withheld
    }
    assert {"Första-versionen", "Andra-versionen"} <= texts

    # Through the page: the stale form gets the Swedish conflict message; nothing lost.
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    url = f"/meetings/{setting.meeting.id}/minutes"
    stale = db.scalars(select(Minutes)).one().version
    assert (
        social.post(
            f"{url}/entries/{entry.id}/edit",
            data={f"x{entry.id}-text": "Tredje-versionen", f"x{entry.id}-version": stale},
        ).status_code
        == 302
    )
    raced = social.post(
        f"{url}/entries/{entry.id}/edit",
        data={f"x{entry.id}-text": "Fjärde-versionen", f"x{entry.id}-version": stale},
        follow_redirects=True,
    )
    assert "Någon annan har ändrat protokollet" in raced.text
    assert "Tredje-versionen" in raced.text and "Fjärde-versionen" in raced.text
    assert "Konfliktversion" in raced.text


@time_machine.travel(NOW, tick=False)
def test_only_the_writing_agency_edits_its_entry(db: Session, setting: Setting, client_for) -> None:
    entry = social_note(db, setting, "Ur")
    version = db.scalars(select(Minutes)).one().version
    with pytest.raises(ServiceError):
        workspace.edit_entry(db, setting.police, entry, "Polisens text", version)
    response = client_for(AgencyKind.POLICE).post(
        f"/meetings/{setting.meeting.id}/minutes/entries/{entry.id}/edit",
        data={f"x{entry.id}-text": "Polisens text", f"x{entry.id}-version": version},
    )
    assert response.status_code == 422
    assert db.scalars(select(Minutes)).one().version == version


@time_machine.travel(NOW, tick=False)
def test_numbers_and_dates_out_of_range_are_refused_and_change_nothing(
    db: Session, setting: Setting, client_for
) -> None:
    """``?edit=`` beyond 64 bits: the 400 page; a due date at the end of the calendar: the form
    again with the message on the date."""
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    url = f"/meetings/{setting.meeting.id}/minutes/children/{setting.child.id}"
    assert social.get(url).status_code == 200
    assert social.get(f"{url}?edit=99999999999999999999999").status_code == 400
    far = social.post(
        f"{url}/actions",
        data=action_form(setting, "Långt fram", due_on="9999-12-31"),
    )
    assert far.status_code == 422
    assert "Ange ett datum mellan 1900 och 2199." in far.text
    assert count(db, AgreedAction) == 0
