"""The disclosure page shows the discloser the text of the record being disclosed, read through
the one door (a view event), and never to another agency (the page is the owner's)."""

from __future__ import annotations

import datetime as dt

import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent
from coordination.models import AgencyKind
from tests.conftest import Council3
from tests.secrecy.test_disclosure import enrol_with_record


@time_machine.travel(dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC), tick=False)
def test_the_discloser_reads_what_is_disclosed_and_others_do_not(
    app: Flask, world: Council3, client_for, db: Session
) -> None:
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    record = enrol_with_record(social, world.council.id, db, "Texten-som-lamnas-ut")
    page = social.get(f"/records/{record.id}/disclose")
    assert page.status_code == 200
    section = page.text[page.text.index('id="disclosed-heading"') :]
    assert "Uppgiften som lämnas ut" in section
    assert section.index("Texten-som-lamnas-ut") < section.index("Rättslig grund")
    reveal = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.tag == "secrecy:record:reveal")
        .order_by(AuditEvent.seq.desc())
    ).first()
    assert reveal is not None and reveal.details.get("purpose") == "disclose"
    assert record.id in reveal.object_ids
    police = client_for(AgencyKind.POLICE).get(f"/records/{record.id}/disclose")
    assert police.status_code == 403
    assert "Texten-som-lamnas-ut" not in police.text
