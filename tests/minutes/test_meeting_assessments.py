"""Every disclosure the meeting writes carries its written assessment (issue 19): an entry
shared with attending agencies, an edit or an amendment shared again. The writer writes one
text for all the agencies chosen; it is sealed once as the writer's agency's record, read by the
recipients with the entry and by no one else; a form that shares nothing asks for none."""

from __future__ import annotations

import json

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.errors import ServiceError
from coordination.models import AgencyKind
from minutes.models import AmendmentReason, MinutesEntry
from minutes.workspace import services as workspace
from secrecy.models import Disclosure, Record
from secrecy.policy.categories import ASSESSMENT
from secrecy.records.reveal import reveal_one
from tests.conftest import Council3
from tests.minutes.test_approval import lock
from tests.minutes.test_workspace import (
    NOW,
    Setting,
    count,
    entry_form,
    police_share,
    police_share_form,
    social_note,
)
from tests.minutes.test_workspace import setting as setting  # a fixture, re-exported

WHY = "MÖTESBEDÖMNING-7: polisen behöver anteckningen för att kunna förebygga nya brott nu."


def shared_entry_form(
    setting: Setting, text: str, assessment: str | None = None
) -> dict[str, object]:
    """The child's new-entry form shared with the police, with the writer's ``assessment`` if
    one is given."""
    written = {} if assessment is None else {f"e{setting.child.id}-assessment": assessment}
    return {**entry_form(setting.child.id, text), **police_share_form(setting), **written}


@time_machine.travel(NOW, tick=False)
def test_an_entry_shared_at_the_meeting_carries_the_writers_assessment(
    db: Session, setting: Setting, client_for
) -> None:
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    url = f"/meetings/{setting.meeting.id}/minutes"
    child_url = f"{url}/children/{setting.child.id}"
    page = social.get(child_url).text
    assert f'name="e{setting.child.id}-assessment"' in page
    before = (count(db, MinutesEntry), count(db, Record), count(db, Disclosure))

    missing = social.post(f"{child_url}/entries", data=shared_entry_form(setting, "Utan-bedömning"))
    assert missing.status_code == 422
    assert f'id="e{setting.child.id}-assessment-error"' in missing.text
    assert "Skriv er bedömning" in missing.text
    too_short = social.post(
        f"{child_url}/entries",
        data=shared_entry_form(setting, "Kort", "För kort."),
    )
    assert too_short.status_code == 422
    assert (count(db, MinutesEntry), count(db, Record), count(db, Disclosure)) == before

    done = social.post(
        f"{child_url}/entries",
        data=shared_entry_form(setting, "Delad-med-bedömning", WHY),
    )
    assert done.status_code == 302
    disclosure = db.scalars(select(Disclosure)).one()
    assessment = db.get_one(Record, disclosure.assessment_record_id)
    assert assessment.category == ASSESSMENT
    assert assessment.owner_agency_id == setting.social.agency_id
    assert assessment.child_id == setting.child.id

    police_page = client_for(AgencyKind.POLICE).get(url).text
    assert "Delad-med-bedömning" in police_page and WHY in police_page
    for kind in (AgencyKind.SCHOOL, AgencyKind.LEISURE):
        assert WHY not in client_for(kind).get(url).text
    assert not any(
        WHY in json.dumps(e.details) for e in db.scalars(select(AuditEvent)).all()
    )  # the log holds the assessment's id, never its text


@time_machine.travel(NOW, tick=False)
def test_an_entry_kept_to_the_writers_agency_needs_no_assessment(
    db: Session, setting: Setting
) -> None:
    records = count(db, Record)
    social_note(db, setting, "Egen")
    assert count(db, Record) == records + 1  # the entry, no assessment
    assert count(db, Disclosure) == 0


@time_machine.travel(NOW, tick=False)
def test_edits_and_amendments_shared_again_need_their_own_assessment(
    db: Session, world: Council3, setting: Setting
) -> None:
    share = police_share(setting)
    entry = social_note(db, setting, "Första", share, WHY)
    minutes = entry.minutes
    with pytest.raises(ServiceError) as unassessed, db.begin_nested():
        workspace.edit_entry(db, setting.social, entry, "Ändrad", minutes.version, share)
    assert unassessed.value.field == "assessment"
    edited = workspace.edit_entry(
        db, setting.social, entry, "Ändrad", minutes.version, share, WHY + " Ändrad."
    )
    correction = db.get_one(Record, edited.entry.record_id)
    (decided,) = db.scalars(select(Disclosure).where(Disclosure.record_id == correction.id)).all()
    shown = reveal_one(db, setting.police, correction)
    assert not shown.withheld
    assert shown.via is not None and shown.via.assessment == WHY + " Ändrad."

    lock(db, world, setting)
    with pytest.raises(ServiceError) as amend_unassessed, db.begin_nested():
        workspace.amend_entry(
            db, setting.social, entry, "Rättad", AmendmentReason.FACTUAL_ERROR, share
        )
    assert amend_unassessed.value.field == "assessment"
    amendment = workspace.amend_entry(
        db, setting.social, entry, "Rättad", AmendmentReason.FACTUAL_ERROR, share, WHY
    )
    (amended,) = db.scalars(
        select(Disclosure).where(Disclosure.record_id == amendment.record_id)
    ).all()
    assert amended.assessment_record_id not in (None, decided.assessment_record_id)
