"""The demo shows the secrecy model at work: revealed and withheld side by side."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.models import Child, User
from secrecy.models import Consent, Disclosure
from tests.conftest import log_in


def test_demo_children_disclosures_and_what_the_police_see(app: Flask, db: Session) -> None:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert len(db.scalars(select(Child)).all()) == 3
    assert {d.basis_id for d in db.scalars(select(Disclosure))} == {
        "sol-police-u21",
        "concern-report",
        "consent",
    }
    assert len(db.scalars(select(Consent)).all()) == 1
    police = db.scalars(select(User).where(User.email == "polis@exempelstad.se")).one()
    elias = db.scalars(select(Child).where(Child.pseudonym.like("CENTRUM-%"))).first()
    assert elias is not None
    page = log_in(app.test_client(), police).get(f"/children/{elias.id}").text
    assert "Kontaktperson beviljad" in page  # disclosed under 10 kap. 18 a §
    assert "10 kap. 18 a § OSL" in page
    assert "Elias" not in page  # the identity was not disclosed
