"""The confirmation pages of revoking a disclosure and closing a case: the GET (and the child
page's button, a POST without confirm) say what will happen and change nothing; only the owner
agency (revoke) and those who may close a case see them; the confirmed POST does the step."""

from __future__ import annotations

import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.models import AgencyKind, Child, ChildStatus
from secrecy.models import Disclosure, RecordKey
from tests.conftest import Council3, audit_tags, log_in
from tests.factories import AgencyFactory, UserFactory
from tests.secrecy.test_disclosure import SOL_POLICE, enrol_with_record

NOW = "2026-03-04 10:00Z"


@time_machine.travel(NOW, tick=False)
def test_revoking_asks_on_a_page_of_its_own_and_changes_nothing_until_confirmed(
    app: Flask, db: Session, world: Council3, client_for
) -> None:
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    police = client_for(AgencyKind.POLICE)
    record = enrol_with_record(social, world.council.id, db, "Återkallamarkör")
    police_agency = world.agencies[AgencyKind.POLICE]
    social.post(
        f"/records/{record.id}/disclose", data={"recipient": police_agency.id, **SOL_POLICE}
    )
    disclosure = db.scalars(select(Disclosure)).one()
    url = f"/disclosures/{disclosure.id}/revoke"
    child_page = social.get(f"/children/{record.child_id}").text
    assert f'action="{url}"' in child_page
    before = len(audit_tags(db))

    asked = social.get(url)
    from_button = social.post(url, data={"reason": "no_longer_needed"})
    for page in (asked, from_button):
        assert page.status_code == 200
        assert "Återkalla utlämnandet" in page.text
        assert police_agency.name in page.text
        assert "10 kap. 18 a § OSL" in page.text
        assert "kan inte ångras" in page.text
        assert "Återkallamarkör" not in page.text  # what, not the content
    db.expire_all()
    assert db.get(Disclosure, disclosure.id).revoked_at is None  # type: ignore[union-attr]
    assert len(audit_tags(db)) == before
    assert "Återkallamarkör" in police.get(f"/children/{record.child_id}").text

    # The recipient cannot open the owner's page; an unknown reason is refused.
    denied = police.get(url)
    assert denied.status_code == 403 and audit_tags(db)[-1] == "access:denied"
    bad = social.get(f"{url}?reason=whatever", follow_redirects=True)
    assert "Välj ett skäl till återkallandet." in bad.text

    done = social.post(url, data={"reason": "no_longer_needed", "confirm": "yes"})
    assert done.status_code == 302
    db.expire_all()
    assert db.get(Disclosure, disclosure.id).revoked_at is not None  # type: ignore[union-attr]
    assert db.get(RecordKey, (record.id, police_agency.id)) is None
    again = social.get(url, follow_redirects=True)
    assert "Uppgiftslämningen har redan upphört." in again.text


@time_machine.travel(NOW, tick=False)
def test_closing_a_case_asks_on_a_page_of_its_own(
    app: Flask, db: Session, world: Council3, client_for
) -> None:
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    record = enrol_with_record(social, world.council.id, db, "Stängmarkör")
    child = db.get_one(Child, record.child_id)
    url = f"/children/{child.id}/close"
    before = len(audit_tags(db))

    asked = social.get(f"{url}?reason=moved")
    from_button = social.post(url, data={"reason": "moved"})
    for page in (asked, from_button):
        assert page.status_code == 200
        assert "Avsluta ärendet" in page.text and child.pseudonym in page.text
        assert "Har flyttat" in page.text
        assert "gallras (förstörs) 2027-03-04, 12 månader efter avslutet" in page.text
        assert 'name="reason" value="moved"' in page.text
        assert "Stängmarkör" not in page.text
    db.expire_all()
    assert db.get_one(Child, child.id).status is ChildStatus.ACTIVE
    assert len(audit_tags(db)) == before

    outsider = UserFactory(agency=AgencyFactory(kind=AgencyKind.SCHOOL, name="Annan skola"))
    db.flush()
    denied = log_in(app.test_client(), outsider).get(f"{url}?reason=moved")
    assert denied.status_code == 403 and audit_tags(db)[-1] == "access:denied"
    assert child.pseudonym not in denied.text

    done = social.post(url, data={"reason": "moved", "confirm": "yes"})
    assert done.status_code == 302
    db.expire_all()
    assert db.get_one(Child, child.id).status is ChildStatus.CLOSED
    closed_again = social.get(f"{url}?reason=moved", follow_redirects=True)
    assert "Ärendet är redan avslutat." in closed_again.text
