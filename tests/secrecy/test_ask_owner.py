"""A withheld record says whom to ask, to a viewer who may know it: a member of the child's
council (who sees the owner named in the minutes anyway); never to someone outside the council,
for whom even the owner's name would tell which agencies know the child."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from minutes.models import MinutesEntry
from secrecy.models import Record
from secrecy.records.reveal import reveal_one
from tests.conftest import Council3, log_in
from tests.factories import UserFactory
from tests.minutes.test_reports import POLICE, SOCIAL, SOCIAL_TEXT
from tests.minutes.test_reports import printed as printed  # a fixture, re-exported

ASK_SOCIAL = "Uppgiften tillhör Test social_services. Fråga dem om du behöver den."


def test_a_council_member_is_told_whom_to_ask_an_outsider_is_not(
    app: Flask, db: Session, world: Council3, printed: tuple[object, object, list[MinutesEntry]]
) -> None:
    meeting, _child, entries = printed
    social_record = db.get(Record, entries[0].record_id)
    assert social_record is not None and social_record.owner_agency_id == world.agencies[SOCIAL].id
    member = reveal_one(db, world.members[POLICE], social_record)
    assert member.withheld and member.ask_owner == ASK_SOCIAL
    outsider = UserFactory(agency=world.agencies[POLICE])  # same agency, not in the council
    outside = reveal_one(db, outsider, social_record)
    assert outside.withheld and outside.ask_owner is None
    own = reveal_one(db, world.members[SOCIAL], social_record)
    assert not own.withheld
    # The pages say it where they show the reason: the print view of the minutes.
    html = (
        log_in(app.test_client(), world.members[POLICE])
        .get(
            f"/meetings/{meeting.id}/minutes/print"  # type: ignore[attr-defined]
        )
        .text
    )
    assert ASK_SOCIAL in html and SOCIAL_TEXT not in html
