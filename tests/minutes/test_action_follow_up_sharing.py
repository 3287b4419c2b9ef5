"""A follow-up comment shared with the council's agencies under a basis the engine accepts:
a police officer's follow-up of the police's own action reaches social services (before, it
stayed police-only: there was nobody to share it with), and no other agency."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.db import today_local
from minutes.models import ActionStatus, AgreedAction
from secrecy.models import Disclosure, Record
from secrecy.policy.categories import ASSESSMENT
from secrecy.records.services import create_record
from tests.conftest import Council3
from tests.minutes.test_actions import POLICE, SCHOOL, SOCIAL, fresh, post_update
from tests.minutes.test_actions import child as child  # a fixture, re-exported
from tests.minutes.test_actions import earlier as earlier  # a fixture, re-exported

WHY = "BEDOMNING-POLIS: socialtjänsten behöver veta att kontakten är tagen inför mötet."


def test_the_police_share_a_follow_up_of_their_own_action_with_social_services(
    world: Council3, client_for, db: Session, child, earlier
) -> None:
    police_user = world.members[POLICE]
    record = create_record(db, police_user, child, "agreed_action", "Polisens-egen-atgard")
    action = AgreedAction(
        child_id=child.id,
        meeting_id=earlier.id,
        description_record_id=record.id,
        responsible_agency_id=world.agencies[POLICE].id,
        responsible_user_id=police_user.id,
        due_on=today_local() + dt.timedelta(days=14),
        status=ActionStatus.OPEN,
        created_by_id=police_user.id,
    )
    db.add(action)
    db.flush()
    police = client_for(POLICE)
    social_id = world.agencies[SOCIAL].id
    page = police.get(f"/actions/{action.id}").text
    assert f'name="share-{social_id}"' in page  # social services can be given it
    assert 'value="concern-report"' in page
    # Without the statement confirmed: refused, nothing saved.
    refused = post_update(
        police,
        action,
        comment="Uppfoljning-fran-polisen",
        **{f"share-{social_id}": "y", f"basis-{social_id}": "concern-report"},
    )
    assert refused.status_code == 422
    assert "Test social_services" in refused.text
    assert fresh(db, action).status is ActionStatus.OPEN
    share = {
        f"share-{social_id}": "y",
        f"basis-{social_id}": "concern-report",
        f"confirm-{social_id}-concern-report-0": "y",
    }
    # Confirmed but without the written assessment: refused at the field, nothing saved.
    assert 'name="assessment"' in page
    unassessed = post_update(police, action, comment="Uppfoljning-fran-polisen", **share)
    assert unassessed.status_code == 422
    assert "Skriv er bedömning" in unassessed.text
    assert fresh(db, action).status is ActionStatus.OPEN
    assert db.scalars(select(Disclosure)).all() == []
    shared = post_update(
        police, action, comment="Uppfoljning-fran-polisen", assessment=WHY, **share
    )
    assert shared.status_code == 302
    social_page = client_for(SOCIAL).get(f"/actions/{action.id}").text
    assert "Uppfoljning-fran-polisen" in social_page
    assert WHY in social_page  # the recipient reads the assessment with the comment
    (disclosure,) = db.scalars(select(Disclosure)).all()
    assessment = db.get_one(Record, disclosure.assessment_record_id)
    assert assessment.category == ASSESSMENT and assessment.owner_agency_id == police_user.agency_id
    school = client_for(SCHOOL).get(f"/actions/{action.id}")
    assert school.status_code == 200 and "Uppfoljning-fran-polisen" not in school.text
    assert WHY not in school.text
    event = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.tag == "minutes:action:update")
        .order_by(AuditEvent.seq.desc())
    ).first()
    assert event is not None and event.details["shared_with_agency_ids"] == [social_id]
