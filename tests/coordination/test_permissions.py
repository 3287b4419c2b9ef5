"""The permission matrix: every role against every page, deny by default."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent, AuditTag
from coordination.models import AgencyKind, Role, User
from coordination.policy import Permission, has_permission
from tests.conftest import Council3, log_in
from tests.factories import AgencyFactory, CouncilFactory, MembershipFactory, UserFactory

ROLES = ("anonymous", "admin", "coordinator", "member", "auditor", "outsider")

# page -> the roles that get 200; every other role is refused (403, or a login redirect for
# the anonymous visitor).
PAGES = {
    "/": {"admin", "coordinator", "member", "auditor", "outsider"},
    "/account": {"admin", "coordinator", "member", "auditor", "outsider"},
    "/councils/{council}": {"admin", "coordinator", "member"},
    "/admin/agencies": {"admin"},
    "/admin/agencies/{agency}": {"admin"},
    "/admin/users": {"admin"},
    "/admin/users/new": {"admin"},
    "/admin/users/{user}": {"admin"},
    "/admin/councils": {"admin"},
    "/admin/councils/new": {"admin"},
    "/admin/councils/{council}": {"admin"},
    "/admin/legal-bases": {"admin"},
    "/logreview/": {"auditor"},
    "/logreview/months": {"auditor"},
    "/logreview/months/2026-01": {"auditor"},
    "/logreview/export.csv": {"auditor"},
}


@pytest.fixture
def people(db: Session, world: Council3, admin: User) -> dict[str, User]:
    auditor = UserFactory(agency=world.agencies[AgencyKind.SOCIAL_SERVICES], roles={Role.AUDITOR})
    other_agency = AgencyFactory(kind=AgencyKind.SOCIAL_SERVICES)
    other_council = CouncilFactory(agencies=[other_agency, world.agencies[AgencyKind.POLICE]])
    outsider = UserFactory(agency=other_agency)
    MembershipFactory(council=other_council, user=outsider)
    db.flush()
    return {
        "admin": admin,
        "coordinator": world.coordinator,
        "member": world.members[AgencyKind.POLICE],
        "auditor": auditor,
        "outsider": outsider,
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", sorted(PAGES))
def test_permission_matrix(
    app: Flask, world: Council3, people: dict[str, User], role: str, page: str
) -> None:
    client = app.test_client()
    if role != "anonymous":
        log_in(client, people[role])
    url = page.format(
        council=world.council.id,
        agency=world.agencies[AgencyKind.POLICE].id,
        user=world.members[AgencyKind.POLICE].id,
    )
    response = client.get(url)
    if role in PAGES[page]:
        assert response.status_code == 200, (role, url)
    elif role == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    else:
        assert response.status_code == 403, (role, url)
        assert "Åtkomst nekad" in response.text


def test_unknown_council_is_refused_like_a_forbidden_one(
    client: FlaskClient, world: Council3, people: dict[str, User], db: Session
) -> None:
    log_in(client, people["outsider"])
    forbidden = client.get(f"/councils/{world.council.id}")
    unknown = client.get("/councils/999999")
    assert forbidden.status_code == unknown.status_code == 403

    # Apart from the path echoed in the language form and the CSRF tokens' timestamps, the
    # answers are identical.
    def normalised(text: str, council_id: object) -> str:
        text = re.sub(r'name="csrf_token" value="[^"]*"', "", text)
        return text.replace(f"/councils/{council_id}", "/councils/X")

    assert normalised(forbidden.text, world.council.id) == normalised(unknown.text, 999999), (
        "the answer must not tell whether the council exists"
    )
    denied = db.scalars(select(AuditEvent).where(AuditEvent.tag == AuditTag.ACCESS_DENIED)).all()
    assert [e.object_ids for e in denied] == [[world.council.id], [999999]]


def test_member_cannot_manage_members(
    client: FlaskClient, world: Council3, people: dict[str, User]
) -> None:
    log_in(client, people["member"])
    response = client.post(
        f"/councils/{world.council.id}/members",
        data={"user_id": people["auditor"].id, "council_role": "member"},
    )
    assert response.status_code == 403


def test_start_page_lists_only_own_councils(
    client: FlaskClient, world: Council3, people: dict[str, User]
) -> None:
    log_in(client, people["outsider"])
    page = client.get("/")
    assert "Testrådet" not in page.text
    log_in(client, people["member"])
    assert "Testrådet" in client.get("/").text


def test_admin_role_gives_no_child_permissions() -> None:
    # Administrators manage structure; their role carries no permission on case information.
    from coordination.policy import ROLE_PERMISSIONS

    assert ROLE_PERMISSIONS[Role.ADMIN] == {
        Permission.MANAGE_AGENCIES,
        Permission.MANAGE_USERS,
        Permission.MANAGE_COUNCILS,
    }


def test_deactivated_user_has_no_permission(db: Session, admin: User) -> None:
    assert has_permission(admin, Permission.MANAGE_USERS)
    admin.active = False
    assert not has_permission(admin, Permission.MANAGE_USERS)
    assert not has_permission(None, Permission.MANAGE_USERS)


def test_deactivated_user_is_logged_out_on_next_request(
    client: FlaskClient, world: Council3, db: Session
) -> None:
    member = world.members[AgencyKind.SCHOOL]
    log_in(client, member)
    assert client.get("/").status_code == 200
    member.active = False
    db.flush()
    assert client.get("/").status_code == 302
