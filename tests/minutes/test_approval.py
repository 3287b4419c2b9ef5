"""Approval (justering): submission naming the adjuster, two different approvers, the lock with
its digest in the audit log, refusals of every later change, and amendments ("Rättelse")."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.errors import PermissionDenied, ServiceError
from coordination.models import AgencyKind
from meetings.models import (
    AgendaItem,
    AgendaSource,
    AttendanceStatus,
    MeetingStatus,
    Notification,
)
from minutes.actions.services import create_action
from minutes.models import (
    AgreedAction,
    AmendmentReason,
    EntryKind,
    Minutes,
    MinutesApproval,
    MinutesEntry,
    MinutesStatus,
)
from minutes.workspace import approval
from minutes.workspace import services as workspace
from secrecy.models import Record
from tests.conftest import Council3, log_in
from tests.factories import ASSESSED, make_meeting
from tests.minutes.test_workspace import (
    NOW,
    TODAY,
    Setting,
    action_form,
    count,
    entry_form,
    make_setting,
    mark,
    police_share,
    shown,
    social_note,
)


@pytest.fixture
def setting(db: Session, world: Council3) -> Setting:
    with time_machine.travel(NOW, tick=False):
        return make_setting(db, world)


def setting_with_social_minute_taker(db: Session, world: Council3) -> Setting:
    """The setting, with the social services member taking the minutes."""
    with time_machine.travel(NOW, tick=False):
        found = make_setting(db, world)
        found.meeting.minute_taker_id = found.social.id
        db.flush()
        return found


def notifications(db: Session, kind: str) -> list[Notification]:
    """The notifications of ``kind``, oldest first, as the database has them now."""
    db.expire_all()
    return list(
        db.scalars(select(Notification).where(Notification.kind == kind).order_by(Notification.id))
    )


def minutes_row(db: Session) -> Minutes:
    db.expire_all()
    return db.scalars(select(Minutes)).one()


def with_entry(db: Session, setting: Setting) -> MinutesEntry:
    return social_note(db, setting, "Original-Hemlig", police_share(setting), ASSESSED)


def submit(db: Session, world: Council3, setting: Setting) -> Minutes:
    """The coordinator sends the current minutes to the police member for adjustment."""
    return approval.submit_for_approval(
        db, world.coordinator, setting.meeting, setting.police, minutes_row(db).version
    )


def submit_with_entry(db: Session, world: Council3, setting: Setting) -> Minutes:
    """The minutes with social services' note, sent to the police member for adjustment."""
    with_entry(db, setting)
    return submit(db, world, setting)


def lock(db: Session, world: Council3, setting: Setting) -> Minutes:
    """The coordinator chairs; the police member adjusts; both approve."""
    submit(db, world, setting)
    approval.approve(db, world.coordinator, setting.meeting)
    return approval.approve(db, setting.police, setting.meeting)


def rows_written(db: Session) -> tuple[int, int, int]:
    """How many minutes entries, agreed actions and records there are."""
    return (count(db, MinutesEntry), count(db, AgreedAction), count(db, Record))


def assert_locked_unchanged(
    db: Session, digest: str | None, version: int, before: tuple[int, int, int]
) -> None:
    """The minutes are still approved at ``digest`` and ``version``, and no entry, action or
    record has been written since ``before`` (what ``rows_written`` gave)."""
    after = minutes_row(db)
    assert (after.status, after.digest, after.version) == (MinutesStatus.APPROVED, digest, version)
    assert rows_written(db) == before


def refused(db: Session, call, *args: object) -> ServiceError:  # type: ignore[no-untyped-def]
    with pytest.raises(ServiceError) as caught, db.begin_nested():
        call(db, *args)
    return caught.value


@time_machine.travel(NOW, tick=False)
def test_submission_needs_a_present_chair_and_a_different_present_adjuster(
    db: Session, world: Council3, setting: Setting
) -> None:
    with_entry(db, setting)
    version = minutes_row(db).version
    meeting = setting.meeting
    coordinator = world.coordinator

    assert refused(db, approval.submit_for_approval, coordinator, meeting, coordinator, version)
    absent = refused(
        db, approval.submit_for_approval, coordinator, meeting, setting.school, version
    )
    assert "närvarande" in str(absent.message)
    assert refused(db, approval.submit_for_approval, coordinator, meeting, None, version)
    stale = refused(
        db, approval.submit_for_approval, coordinator, meeting, setting.police, version - 1
    )
    assert "Någon annan har ändrat protokollet" in str(stale.message)
    with pytest.raises(PermissionDenied):
        approval.submit_for_approval(db, setting.police, meeting, setting.leisure, version)

    mark(db, meeting, coordinator, AttendanceStatus.ABSENT)
    chair_absent = refused(
        db, approval.submit_for_approval, coordinator, meeting, setting.police, version
    )
    assert "Ordföranden" in str(chair_absent.message)
    mark(db, meeting, coordinator, AttendanceStatus.PRESENT)
    meeting.chair_id = None
    db.flush()
    assert refused(db, approval.submit_for_approval, coordinator, meeting, setting.police, version)
    assert minutes_row(db).status is MinutesStatus.DRAFT

    meeting.chair_id = coordinator.id
    db.flush()
    assert meeting.status is MeetingStatus.PLANNED
    minutes = approval.submit_for_approval(db, coordinator, meeting, setting.police, version)
    assert minutes.status is MinutesStatus.SUBMITTED
    assert minutes.adjuster_id == setting.police.id
    assert meeting.status is MeetingStatus.HELD  # the minutes record a meeting that took place
    # Submitted minutes do not change until they are approved or taken back.
    assert refused(
        db, workspace.add_entry, setting.social, meeting, setting.child, EntryKind.ENTRY,
        "meeting_note", "Sent",
    )  # fmt: skip
    approval.withdraw_submission(db, coordinator, meeting)
    assert minutes_row(db).status is MinutesStatus.DRAFT


@time_machine.travel(NOW, tick=False)
def test_two_different_approvers_lock_the_minutes_with_a_stable_digest(
    db: Session, world: Council3, setting: Setting
) -> None:
    entry = with_entry(db, setting)
    meeting = setting.meeting
    submit(db, world, setting)
    with pytest.raises(PermissionDenied):
        approval.approve(db, setting.social, meeting)  # neither chair nor adjuster

    approval.approve(db, world.coordinator, meeting)
    assert minutes_row(db).status is MinutesStatus.SUBMITTED
    twice = refused(db, approval.approve, world.coordinator, meeting)
    assert "redan justerat" in str(twice.message)
    assert count(db, MinutesApproval) == 1
    assert minutes_row(db).status is MinutesStatus.SUBMITTED

    minutes = approval.approve(db, setting.police, meeting)
    assert minutes.status is MinutesStatus.APPROVED
    assert minutes.approved_at is not None
    assert {a.user_id for a in minutes.approvals} == {world.coordinator.id, setting.police.id}

    # The digest: canonical JSON of ids and ciphertext digests, never plaintext.
    record = db.get(Record, entry.record_id)
    assert record is not None and record.ciphertext is not None
    canonical = approval.canonical_content(db, minutes)
    assert b"Original-Hemlig" not in canonical
    payload = json.loads(canonical)
    assert payload["entries"] == [
        {
            "id": entry.id,
            "kind": "entry",
            "child_id": setting.child.id,
            "record_id": record.id,
            "conflict_with_id": None,
            "ciphertext_sha256": hashlib.sha256(record.ciphertext).hexdigest(),
        }
    ]
    assert minutes.digest == hashlib.sha256(canonical).hexdigest()
    assert approval.content_digest(db, minutes) == minutes.digest  # stable
    assert approval.digest_matches(db, minutes_row(db))
    lock_event = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == "minutes:minutes:lock")
    ).one()
    assert lock_event.details["digest"] == minutes.digest
    assert lock_event.object_ids == [minutes.id]
    assert "Original-Hemlig" not in json.dumps(lock_event.details)


@time_machine.travel(NOW, tick=False)
def test_the_same_user_cannot_be_chair_and_adjuster(
    db: Session, world: Council3, setting: Setting
) -> None:
    submit_with_entry(db, world, setting)
    approval.approve(db, world.coordinator, setting.meeting)
    # The police member is made chair after submission: one person cannot approve twice.
    setting.meeting.chair_id = setting.police.id
    db.flush()
    assert refused(db, approval.approve, setting.police, setting.meeting)
    assert minutes_row(db).status is MinutesStatus.SUBMITTED


@time_machine.travel(NOW, tick=False)
def test_locked_minutes_refuse_every_change_in_the_services(
    db: Session, world: Council3, setting: Setting
) -> None:
    entry = with_entry(db, setting)
    minutes = lock(db, world, setting)
    digest, version = minutes.digest, minutes.version
    before = rows_written(db)

    for call, args in [
        (
            workspace.add_entry,
            (setting.social, setting.meeting, setting.child, EntryKind.ENTRY, "meeting_note", "x"),
        ),
        (workspace.edit_entry, (setting.social, entry, "x", version)),
        (
            create_action,
            (setting.social, setting.meeting, setting.child, "x", setting.social.agency, None,
             TODAY, "", ()),
        ),
        (approval.submit_for_approval, (world.coordinator, setting.meeting, setting.police,
                                         version)),
        (approval.approve, (setting.police, setting.meeting)),
        (approval.withdraw_submission, (world.coordinator, setting.meeting)),
    ]:  # fmt: skip
        error = refused(db, call, *args)
        assert "låst" in str(error.message)
    assert_locked_unchanged(db, digest, version, before)


@time_machine.travel(NOW, tick=False)
def test_locked_minutes_refuse_every_change_in_the_ui(
    app: Flask, db: Session, world: Council3, setting: Setting, client_for
) -> None:
    entry = with_entry(db, setting)
    minutes = lock(db, world, setting)
    digest, version = minutes.digest, minutes.version
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    coordinator = log_in(app.test_client(), world.coordinator)
    url = f"/meetings/{setting.meeting.id}/minutes"

    page = social.get(url)
    assert "Justerat och låst" in page.text
    assert digest is not None and digest in page.text
    assert f"{url}/children/{setting.child.id}/entries" not in page.text
    assert f"{url}/children/{setting.child.id}/actions" not in page.text
    assert f"{url}/entries/{entry.id}/edit" not in page.text
    assert f"{url}/submit" not in coordinator.get(url).text
    assert f"{url}/approve" not in client_for(AgencyKind.POLICE).get(url).text

    before = rows_written(db)
    c = setting.child.id
    posts = [
        (social, f"{url}/children/{c}/entries", entry_form(c, "Efteråt")),
        (social, f"{url}/entries/{entry.id}/edit",
         {f"x{entry.id}-text": "Efteråt", f"x{entry.id}-version": version}),
        (social, f"{url}/children/{c}/actions",
         action_form(setting, "Efteråt", due_on="2026-04-01")),
        (coordinator, f"{url}/submit",
         {"adjuster_id": setting.police.id, "version": version, "confirm": "yes"}),
        (coordinator, f"{url}/withdraw", {}),
        (coordinator, f"{url}/approve", {"confirm": "yes"}),
    ]  # fmt: skip
    for client, path, data in posts:
        response = client.post(path, data=data)
        assert response.status_code in (403, 422), path
        if response.status_code == 422:
            assert "låst" in response.text
    assert_locked_unchanged(db, digest, version, before)


@time_machine.travel(NOW, tick=False)
def test_approval_through_the_pages(
    app: Flask, db: Session, world: Council3, setting: Setting, client_for
) -> None:
    with_entry(db, setting)
    url = f"/meetings/{setting.meeting.id}/minutes"
    coordinator = log_in(app.test_client(), world.coordinator)
    version = minutes_row(db).version
    page = coordinator.get(url)
    assert f"{url}/submit" in page.text
    same = coordinator.post(
        f"{url}/submit", data={"adjuster_id": world.coordinator.id, "version": version}
    )
    assert same.status_code == 422
    assert "annan person än ordföranden" in same.text
    # The form leads to the confirmation page, which writes nothing; its button submits.
    asked = coordinator.post(
        f"{url}/submit", data={"adjuster_id": setting.police.id, "version": version}
    )
    assert asked.status_code == 200 and "Det här händer" in asked.text
    assert minutes_row(db).status is MinutesStatus.DRAFT
    assert (
        coordinator.post(
            f"{url}/submit",
            data={"adjuster_id": setting.police.id, "version": version, "confirm": "yes"},
        ).status_code
        == 302
    )
    police = client_for(AgencyKind.POLICE)
    assert f"{url}/approve" in police.get(url).text
    assert coordinator.post(f"{url}/approve", data={"confirm": "yes"}).status_code == 302
    again = coordinator.post(f"{url}/approve", data={"confirm": "yes"})
    assert again.status_code == 422
    assert minutes_row(db).status is MinutesStatus.SUBMITTED
    assert police.post(f"{url}/approve", data={"confirm": "yes"}).status_code == 302
    assert minutes_row(db).status is MinutesStatus.APPROVED


@time_machine.travel(NOW, tick=False)
def test_amendments_are_new_entries_shown_as_rattelse(
    db: Session, world: Council3, setting: Setting, client_for
) -> None:
    entry = with_entry(db, setting)
    draft_amend = refused(
        db, workspace.amend_entry, setting.social, entry, "x", AmendmentReason.OMISSION
    )
    assert "rättelser" in str(draft_amend.message)
    minutes = lock(db, world, setting)
    digest = minutes.digest
    assert refused(
        db, workspace.amend_entry, setting.police, entry, "Polisens", AmendmentReason.OTHER
    )

    amendment = workspace.amend_entry(
        db,
        setting.social,
        entry,
        "Rättad-Hemlig",
        AmendmentReason.FACTUAL_ERROR,
        police_share(setting),
        ASSESSED,
    )
    assert amendment.amends_id == entry.id
    assert amendment.amendment_reason is AmendmentReason.FACTUAL_ERROR
    assert amendment.record_id != entry.record_id
    assert shown(db, setting.police, amendment.record_id)
    assert not shown(db, setting.school, amendment.record_id)
    after = minutes_row(db)
    assert after.digest == digest and approval.digest_matches(db, after)  # approved part intact

    url = f"/meetings/{setting.meeting.id}/minutes"
    police_page = client_for(AgencyKind.POLICE).get(url).text
    assert "Rättelse" in police_page and "Sakfel" in police_page
    assert police_page.index("Original-Hemlig") < police_page.index("Rättad-Hemlig")
    school_page = client_for(AgencyKind.SCHOOL).get(url).text
    assert "Rättelse" in school_page
    assert "Rättad-Hemlig" not in school_page and "Original-Hemlig" not in school_page

    # Through the page, with a 422 for a missing text.
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    amend_url = f"{url}/entries/{entry.id}/amend"
    child_url = f"{url}/children/{setting.child.id}"
    overview = social.get(url).text
    assert amend_url not in overview  # the workspace links to the child's page ("Rätta")
    assert f'href="{child_url}?edit={entry.id}#entry-{entry.id}">Rätta<' in overview
    writing = social.get(f"{child_url}?edit={entry.id}")
    assert writing.status_code == 200
    assert amend_url in writing.text and "Original-Hemlig" in writing.text
    assert f"{url}/children/{setting.child.id}/entries" not in writing.text  # locked: no new
    bad = social.post(amend_url, data={f"r{entry.id}-reason": "omission", f"r{entry.id}-text": ""})
    assert bad.status_code == 422
    ok = social.post(
        amend_url, data={f"r{entry.id}-reason": "omission", f"r{entry.id}-text": "Tillägg-2"}
    )
    assert ok.status_code == 302
    assert count(db, MinutesEntry) == 3


@time_machine.travel(NOW, tick=False)
def test_approval_carries_the_open_actions_over_to_the_next_agendas(
    app: Flask, db: Session, world: Council3, setting: Setting
) -> None:
    """The children with actions still open come back on the council's planned later
    meetings when the minutes are locked (not when someone opens those meetings' pages)."""
    create_action(
        db,
        setting.social,
        setting.meeting,
        setting.child,
        "Uppföljning",
        setting.social.agency,
        None,
        TODAY + dt.timedelta(days=14),
        "",
        (),
        assessment=ASSESSED,
    )
    later = make_meeting(db, world.council, NOW + dt.timedelta(days=28))

    def carried() -> list[tuple[int, AgendaSource]]:
        return [
            (i.child_id, i.source)
            for i in db.scalars(select(AgendaItem).where(AgendaItem.meeting_id == later.id))
        ]

    version = minutes_row(db).version
    approval.submit_for_approval(db, world.coordinator, setting.meeting, setting.police, version)
    approval.approve(db, world.coordinator, setting.meeting)
    assert carried() == []  # one approval locks nothing
    with app.app_context():  # the app's registered agenda contributors
        approval.approve(db, setting.police, setting.meeting)
    assert carried() == [(setting.child.id, AgendaSource.OPEN_ACTIONS)]
