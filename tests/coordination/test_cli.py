"""The command-line entry points: create-admin and the demo loader."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent, AuditTag
from coordination.audit.verify import verify_chain
from coordination.models import Agency, AgencyKind, Council, CouncilMembership, Role, User
from demo.coordination import DEMO_PASSWORD


def test_create_admin(app: Flask, db: Session) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-admin",
            "--email",
            "Chef@Example.com",
            "--name",
            "Chefen",
            "--agency",
            "Kommunledningen",
            "--password",
            "ett långt lösenord",
        ],
    )
    assert result.exit_code == 0, result.output
    user = db.scalars(select(User).where(User.email == "chef@example.com")).one()
    assert user.roles == {Role.ADMIN}
    assert user.agency.kind is AgencyKind.OTHER
    tags = set(db.scalars(select(AuditEvent.tag)))
    assert {AuditTag.ADMIN_AGENCY_CREATE, AuditTag.ADMIN_USER_CREATE} <= tags


def test_create_admin_refuses_a_short_password(app: Flask, db: Session) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "create-admin",
            "--email",
            "a@example.com",
            "--name",
            "A",
            "--agency",
            "X",
            "--password",
            "kort",
        ],
    )
    assert result.exit_code != 0
    assert "minst 12 tecken" in result.output
    assert db.scalar(select(func.count()).select_from(User)) == 0
    assert db.scalar(select(func.count()).select_from(Agency)) == 0


def test_demo_loads_once_and_its_logins_work(app: Flask, db: Session) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "samordnare@exempelstad.se" in first.output
    counts = [
        db.scalar(select(func.count()).select_from(m))
        for m in (Agency, User, Council, CouncilMembership)
    ]
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert "inget ändrades" in second.output
    assert [
        db.scalar(select(func.count()).select_from(m))
        for m in (Agency, User, Council, CouncilMembership)
    ] == counts
    kinds = set(db.scalars(select(Agency.kind)))
    assert kinds == set(AgencyKind), "the demo has an agency of every kind"
    assert {c.kind.value for c in db.scalars(select(Council))} == {"bob", "sspf", "sig"}
    roles = set().union(*(u.roles for u in db.scalars(select(User))))
    assert roles == set(Role), "the demo has a user of every role"
    assert verify_chain(db).ok

    app.config["REQUIRE_2FA"] = False
    try:
        client = app.test_client()
        response = client.post(
            "/login", data={"email": "polis@exempelstad.se", "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302
        page = client.get("/")
        assert "Bob-råd Centrum" in page.text
        assert "Demoläge" in page.text
    finally:
        app.config["REQUIRE_2FA"] = True
