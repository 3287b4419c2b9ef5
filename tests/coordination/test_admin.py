"""Administration of agencies, users and councils; member management by coordinators."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination import security
from coordination.audit.log import AuditEvent, AuditTag
from coordination.models import Agency, AgencyKind, Council, CouncilMembership, CouncilRole, User
from tests.conftest import Council3, audit_events, log_in
from tests.coordination.conftest import START_PASSWORD, post_new_officer, post_new_user
from tests.factories import AgencyFactory, UserFactory


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


# --- Agencies -----------------------------------------------------------------------------------


def test_admin_creates_an_agency(admin_client: FlaskClient, db: Session, admin: User) -> None:
    response = admin_client.post("/admin/agencies", data={"kind": "police", "name": "Polisen Syd"})
    assert response.status_code == 302
    agency = db.scalars(select(Agency).where(Agency.name == "Polisen Syd")).one()
    assert agency.kind is AgencyKind.POLICE
    [event] = audit_events(db, AuditTag.ADMIN_AGENCY_CREATE)
    assert event.actor_user_id == admin.id and event.object_ids == [agency.id]
    assert "Polisen Syd" in admin_client.get("/admin/agencies").text


def test_duplicate_or_bad_agency_is_refused_and_changes_nothing(
    admin_client: FlaskClient, db: Session
) -> None:
    AgencyFactory(name="Skolan")
    before = count(db, Agency)
    duplicate = admin_client.post("/admin/agencies", data={"kind": "school", "name": "skolan"})
    assert duplicate.status_code == 422
    assert "Det finns redan en post med det namnet." in duplicate.text
    bad_kind = admin_client.post("/admin/agencies", data={"kind": "church", "name": "Kyrkan"})
    assert bad_kind.status_code == 422
    empty = admin_client.post("/admin/agencies", data={"kind": "school", "name": ""})
    assert "Fältet måste fyllas i." in empty.text
    assert count(db, Agency) == before
    assert not audit_events(db, AuditTag.ADMIN_AGENCY_CREATE)


def test_stale_agency_edit_is_a_conflict_not_an_overwrite(
    admin_client: FlaskClient, db: Session
) -> None:
    agency = AgencyFactory(name="Fritid Öst")
    loaded_version = agency.version
    first = admin_client.post(
        f"/admin/agencies/{agency.id}",
        data={"name": "Fritid Öster", "active": "y", "version": loaded_version},
    )
    assert first.status_code == 302
    second = admin_client.post(
        f"/admin/agencies/{agency.id}",
        data={"name": "Fritid Östra", "active": "y", "version": loaded_version},
    )
    # 409 since issue 14: the page wrapper answers every conflict so (as the API and the
    # schedule and action pages did); this page answered 422 before.
    assert second.status_code == 409
    assert "Någon annan har ändrat uppgifterna" in second.text
    db.refresh(agency)
    assert agency.name == "Fritid Öster"
    assert len(audit_events(db, AuditTag.ADMIN_AGENCY_UPDATE)) == 1


# --- Users --------------------------------------------------------------------------------------


def test_admin_creates_a_user_with_a_hashed_password(
    admin_client: FlaskClient, db: Session
) -> None:
    response = post_new_officer(admin_client, "Ny.Polis@example.com", ["member", "auditor"])
    assert response.status_code == 302
    user = db.scalars(select(User).where(User.email == "ny.polis@example.com")).one()
    assert user.password_hash.startswith("$argon2id$")
    assert security.verify_password(user.password_hash, START_PASSWORD)
    assert {str(r) for r in user.roles} == {"member", "auditor"}
    [event] = audit_events(db, AuditTag.ADMIN_USER_CREATE)
    assert event.details["roles"] == ["auditor", "member"]


def test_user_form_errors_are_shown_in_swedish_and_change_nothing(
    admin_client: FlaskClient, db: Session
) -> None:
    agency = AgencyFactory()
    UserFactory(email="taken@example.com")
    before = count(db, User)
    cases = {
        "Lösenordet måste vara minst 12 tecken långt.": {
            "email": "a@example.com",
            "password": "kort",
        },
        "E-postadressen används redan av ett annat konto.": {
            "email": "TAKEN@Example.com",
            "password": "ett långt lösenord",
        },
        "Ange en giltig e-postadress.": {
            "email": "inte-en-adress",
            "password": "ett långt lösenord",
        },
    }
    for message, data in cases.items():
        response = post_new_user(
            admin_client, agency, {"display_name": "Namn", "roles": ["member"], **data}
        )
        assert response.status_code == 422, message
        assert message in response.text
    assert count(db, User) == before


def test_admin_edits_roles_and_cannot_drop_own_admin_role(
    admin_client: FlaskClient, db: Session, admin: User
) -> None:
    user = UserFactory()
    response = admin_client.post(
        f"/admin/users/{user.id}",
        data={
            "email": user.email,
            "display_name": "Nytt Namn",
            "roles": ["coordinator", "member"],
            "version": user.version,
        },
    )
    assert response.status_code == 302
    db.refresh(user)
    assert user.display_name == "Nytt Namn"
    assert {str(r) for r in user.roles} == {"coordinator", "member"}
    own = admin_client.post(
        f"/admin/users/{admin.id}",
        data={
            "email": admin.email,
            "display_name": admin.display_name,
            "roles": ["member"],
            "version": admin.version,
        },
    )
    assert "Du kan inte ta bort din egen administratörsroll." in own.text


def test_deactivate_unlock_and_reset_two_factor_are_logged(
    app, admin_client: FlaskClient, db: Session, admin: User
) -> None:
    import datetime as dt

    user = UserFactory()
    member_client = log_in(app.test_client(), user)
    assert member_client.get("/").status_code == 200
    user.locked_until = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    user.totp_confirmed_at = dt.datetime.now(dt.UTC)
    user.totp_secret_sealed = b"sealed"
    db.flush()
    for action in ("unlock", "reset-two-factor", "deactivate"):
        assert admin_client.post(f"/admin/users/{user.id}/{action}").status_code == 302
    db.refresh(user)
    assert user.locked_until is None
    assert user.totp_secret_sealed is None and not user.has_two_factor
    assert not user.active
    assert member_client.get("/").status_code == 302, "a deactivated user is logged out"
    for tag in (
        AuditTag.ADMIN_USER_UNLOCK,
        AuditTag.ADMIN_USER_RESET_TWO_FACTOR,
        AuditTag.ADMIN_USER_DEACTIVATE,
    ):
        assert [e.object_ids for e in audit_events(db, tag)] == [[user.id]]
    assert admin_client.post(f"/admin/users/{user.id}/activate").status_code == 302
    assert audit_events(db, AuditTag.ADMIN_USER_ACTIVATE)
    assert admin_client.post(f"/admin/users/{user.id}/explode").status_code == 404
    refused = admin_client.post(f"/admin/users/{admin.id}/deactivate", follow_redirects=True)
    assert "Du kan inte inaktivera ditt eget konto." in refused.text


# --- Councils -----------------------------------------------------------------------------------


def test_admin_creates_a_council(admin_client: FlaskClient, db: Session) -> None:
    social = AgencyFactory(kind=AgencyKind.SOCIAL_SERVICES)
    police = AgencyFactory(kind=AgencyKind.POLICE)
    response = admin_client.post(
        "/admin/councils/new",
        data={
            "kind": "bob",
            "name": "Bob-råd Väst",
            "area": "Västra",
            "code": "vast",
            "agency_ids": [social.id, police.id],
            "retention_months": "18",
            "request_flag_days": "7",
            "assessment_interval_days": "90",
        },
    )
    assert response.status_code == 302
    council = db.scalars(select(Council).where(Council.name == "Bob-råd Väst")).one()
    assert council.code == "VAST"
    assert council.request_flag_days == 7
    assert council.assessment_interval_days == 90
    assert council.active  # the create form has no "Aktivt" box: a new council is active
    assert council.retention_months == 18
    assert {a.id for a in council.agencies} == {social.id, police.id}
    [event] = audit_events(db, AuditTag.ADMIN_COUNCIL_CREATE)
    assert event.details["agency_ids"] == sorted([social.id, police.id])


def test_council_validation(admin_client: FlaskClient, db: Session, world: Council3) -> None:
    social = world.agencies[AgencyKind.SOCIAL_SERVICES]
    police = world.agencies[AgencyKind.POLICE]
    base = {
        "kind": "sspf",
        "name": "SSPF Syd",
        "area": "Syd",
        "code": "SYD",
        "agency_ids": [social.id, police.id],
        "retention_months": "12",
    }
    cases = {
        "Koden ska vara 2–12 versaler eller siffror": {"code": "S Y D!"},
        "Koden används redan av ett annat forum.": {"code": "TEST"},
        "Välj minst två deltagande myndigheter.": {"agency_ids": [social.id]},
        "Ange ett antal månader mellan 0 och 600.": {"retention_months": "-1"},
        "Ange ett antal dagar mellan 1 och 365.": {"request_flag_days": "0"},
        "Ange ett antal dagar mellan 7 och 730.": {"assessment_interval_days": "3"},
    }
    before = count(db, Council)
    for message, change in cases.items():
        response = admin_client.post("/admin/councils/new", data={**base, **change})
        assert response.status_code == 422
        assert message in response.text
    assert count(db, Council) == before
    locked_code = admin_client.post(
        f"/admin/councils/{world.council.id}",
        data={
            **base,
            "name": "Testrådet",
            "code": "NYKOD",
            "version": world.council.version,
            "agency_ids": [a.id for a in world.agencies.values()],
            "active": "y",
        },
    )
    assert "Koden kan inte ändras" in locked_code.text


def test_agency_with_members_cannot_leave_a_council(
    admin_client: FlaskClient, world: Council3
) -> None:
    keep = [a.id for k, a in world.agencies.items() if k is not AgencyKind.SCHOOL]
    response = admin_client.post(
        f"/admin/councils/{world.council.id}",
        data={
            "kind": "sspf",
            "name": "Testrådet",
            "area": "x",
            "code": "TEST",
            "active": "y",
            "agency_ids": keep,
            "retention_months": "12",
            "version": world.council.version,
        },
    )
    assert response.status_code == 422
    assert "Ta först bort medlemmarna" in response.text


def test_coordinator_manages_members_of_own_council(app, world: Council3, db: Session) -> None:
    client = log_in(app.test_client(), world.coordinator)
    newcomer = UserFactory(agency=world.agencies[AgencyKind.LEISURE])
    outsider = UserFactory(agency=AgencyFactory())
    page = client.get(f"/councils/{world.council.id}")
    assert newcomer.display_name in page.text  # offered in the add form
    assert outsider.display_name not in page.text
    added = client.post(
        f"/councils/{world.council.id}/members",
        data={"user_id": newcomer.id, "council_role": "member"},
    )
    assert added.status_code == 302
    refused = client.post(
        f"/councils/{world.council.id}/members",
        data={"user_id": outsider.id, "council_role": "member"},
    )
    assert refused.status_code == 422
    membership = db.scalars(
        select(CouncilMembership).where(CouncilMembership.user_id == newcomer.id)
    ).one()
    assert (
        client.post(
            f"/councils/{world.council.id}/members/{membership.id}/role",
            data={"council_role": "coordinator"},
        ).status_code
        == 302
    )
    db.refresh(membership)
    assert membership.council_role is CouncilRole.COORDINATOR
    membership_id = membership.id
    assert (
        client.post(f"/councils/{world.council.id}/members/{membership_id}/remove").status_code
        == 302
    )
    db.expire_all()
    assert (
        db.scalar(select(CouncilMembership.id).where(CouncilMembership.id == membership_id)) is None
    )
    assert [e.details["user_id"] for e in audit_events(db, AuditTag.ADMIN_MEMBERSHIP_ADD)] == [
        newcomer.id
    ]
    assert audit_events(db, AuditTag.ADMIN_MEMBERSHIP_UPDATE)
    assert audit_events(db, AuditTag.ADMIN_MEMBERSHIP_REMOVE)


def test_last_coordinator_cannot_step_down(app, world: Council3, db: Session) -> None:
    client = log_in(app.test_client(), world.coordinator)
    own = db.scalars(
        select(CouncilMembership).where(CouncilMembership.user_id == world.coordinator.id)
    ).one()
    response = client.post(
        f"/councils/{world.council.id}/members/{own.id}/role",
        data={"council_role": "member"},
        follow_redirects=True,
    )
    assert "Forumet måste ha minst en samordnare." in response.text
    db.refresh(own)
    assert own.council_role is CouncilRole.COORDINATOR


def test_membership_of_another_council_cannot_be_touched(app, world: Council3, db: Session) -> None:
    from tests.factories import CouncilFactory, MembershipFactory

    other = CouncilFactory(agencies=list(world.agencies.values())[:2])
    foreign = MembershipFactory(
        council=other, user=UserFactory(agency=world.agencies[AgencyKind.SOCIAL_SERVICES])
    )
    client = log_in(app.test_client(), world.coordinator)
    response = client.post(f"/councils/{world.council.id}/members/{foreign.id}/remove")
    assert response.status_code == 403
    assert db.get(CouncilMembership, foreign.id) is not None


# --- Refusals and bounded input (issue 14) -------------------------------------------------------


def test_each_refusal_of_an_admin_page_is_logged_once(
    app: Flask, db: Session, world: Council3, admin: User
) -> None:
    """A non-administrator on a user's page used to leave no ``access:denied`` event."""
    member = world.members[AgencyKind.POLICE]
    client = log_in(app.test_client(), member)
    assert client.get(f"/admin/users/{admin.id}").status_code == 403
    [event] = audit_events(db, AuditTag.ACCESS_DENIED)
    assert (event.actor_user_id, event.object_type, event.object_ids) == (
        member.id,
        "user",
        [admin.id],
    )
    assert client.post(f"/admin/users/{admin.id}/deactivate").status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert len(audit_events(db, AuditTag.ACCESS_DENIED)) == 3
    db.refresh(admin)
    assert admin.active and not audit_events(db, AuditTag.ADMIN_USER_DEACTIVATE)


def test_unknown_ids_on_admin_pages_are_refused_like_forbidden_ones(
    admin_client: FlaskClient, db: Session
) -> None:
    """Issue 14: an unknown id answers 403 (it was 404), logged, as everywhere else."""
    for url in ("/admin/users/999999", "/admin/agencies/999999", "/admin/councils/999999"):
        assert admin_client.get(url).status_code == 403, url
    assert admin_client.post("/admin/users/999999/unlock").status_code == 403
    denied = audit_events(db, AuditTag.ACCESS_DENIED)
    assert [(e.object_type, e.object_ids) for e in denied] == [
        ("user", [999999]),
        ("agency", [999999]),
        ("council", [999999]),
        ("user", [999999]),
    ]


@pytest.mark.parametrize(
    "query",
    ["page=99999999999999999999", "page=0", "page=-3", "page=x", "agency=99999999999999999999"],
)
def test_user_list_parameters_beyond_range_are_a_bad_request(
    admin_client: FlaskClient, db: Session, query: str
) -> None:
    before = db.scalar(select(func.count()).select_from(AuditEvent))
    response = admin_client.get(f"/admin/users?{query}")
    assert response.status_code == 400
    assert 'lang="sv"' in response.text
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_user_list_pages(admin_client: FlaskClient, admin: User) -> None:
    assert admin_client.get("/admin/users?page=2").status_code == 200
    assert admin_client.get(f"/admin/users?agency={admin.agency_id}&page=").status_code == 200
