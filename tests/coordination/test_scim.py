"""SCIM 2.0 deprovisioning: an agency's identity provider creates, changes, deactivates and
deletes that agency's accounts; a deactivated account's sessions and API tokens stop at once;
the provider can neither see nor touch another agency's accounts, nor give access."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordination.accounts.scim.models import ScimClient, ScimLink
from coordination.accounts.scim.services import ScimTag, create_client, revoke_client
from coordination.accounts.sessions import EndReason, UserSession
from coordination.models import AgencyKind, Role, User
from coordination.tokens.services import Scope, create_token
from tests.conftest import Council3, audit_tags, log_in
from tests.factories import UserFactory

PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class Scim:
    """A SCIM client of one agency, as an identity provider would call."""

    def __init__(self, app: Flask, token: str | None) -> None:
        self.client = app.test_client()
        self.token = token

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> TestResponse:
        sent = {"Content-Type": "application/scim+json", **headers}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        data = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
        response = self.client.open(f"/scim/v2{path}", method=method, data=data, headers=sent)
        assert response.mimetype in ("application/scim+json", None), response.mimetype
        return response


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


@pytest.fixture
def admin(db: Session, world: Council3) -> User:
    return UserFactory(agency=world.agencies[AgencyKind.SOCIAL_SERVICES], roles={Role.ADMIN})


@pytest.fixture
def scim(app: Flask, db: Session, world: Council3, admin: User) -> Scim:
    issued = create_client(db, admin, world.agencies[AgencyKind.SCHOOL], "Entra ID")
    db.flush()
    return Scim(app, issued.token)


def school_user(world: Council3) -> User:
    return world.members[AgencyKind.SCHOOL]


# --- authentication ---------------------------------------------------------------------------


def test_without_a_live_token_nothing_is_answered_and_the_attempt_is_logged(
    app: Flask, db: Session, world: Council3, admin: User
) -> None:
    for token in (None, "svs_guessed", "svk_an_api_token"):
        response = Scim(app, token).call("GET", "/Users")
        assert response.status_code == 401
        assert response.json is not None and response.json["schemas"] == [ERROR_SCHEMA]
        assert "Bearer" in response.headers["WWW-Authenticate"]
    assert audit_tags(db).count(ScimTag.AUTH_FAILURE) == 3

    issued = create_client(db, admin, world.agencies[AgencyKind.SCHOOL], "Entra ID")
    assert Scim(app, issued.token).call("GET", "/Users").status_code == 200
    revoke_client(db, admin, issued.client)
    assert Scim(app, issued.token).call("GET", "/Users").status_code == 401


def test_a_client_of_an_inactive_agency_is_refused(
    app: Flask, db: Session, world: Council3, scim: Scim
) -> None:
    world.agencies[AgencyKind.SCHOOL].active = False
    db.flush()
    assert scim.call("GET", "/Users").status_code == 401


def test_the_token_is_stored_only_as_its_hash(db: Session, world: Council3, admin: User) -> None:
    issued = create_client(db, admin, world.agencies[AgencyKind.SCHOOL], "Entra ID")
    stored = db.get(ScimClient, issued.client.id)
    assert stored is not None
    assert issued.token not in (stored.secret_hash, stored.prefix)
    assert issued.token.startswith(stored.prefix)


# --- the provisioning flow of Entra ID -------------------------------------------------------


def test_the_provider_finds_an_existing_account_links_it_and_deactivates_it(
    app: Flask, db: Session, world: Council3, scim: Scim
) -> None:
    user = school_user(world)
    browser = log_in(app.test_client(), user)
    assert browser.get("/").status_code == 200
    api_token = create_token(db, user, "ärendesystem", {Scope.READ}, 30)
    db.flush()

    found = scim.call("GET", f'/Users?filter=userName eq "{user.email.upper()}"')
    assert found.status_code == 200
    listed = found.json
    assert listed is not None and listed["totalResults"] == 1
    assert listed["Resources"][0]["id"] == str(user.id)
    assert listed["Resources"][0]["active"] is True

    linked = scim.call(
        "PATCH", f"/Users/{user.id}", patch({"op": "add", "path": "externalId", "value": "oid-1"})
    )
    assert linked.status_code == 200, linked.text
    assert linked.json is not None and linked.json["externalId"] == "oid-1"
    by_external = scim.call("GET", '/Users?filter=externalId eq "oid-1"')
    assert by_external.json is not None and by_external.json["totalResults"] == 1

    # Entra ID sends the boolean as the string "False".
    gone = scim.call(
        "PATCH", f"/Users/{user.id}", patch({"op": "Replace", "path": "active", "value": "False"})
    )
    assert gone.status_code == 200, gone.text
    assert gone.json is not None and gone.json["active"] is False
    db.refresh(user)
    assert user.active is False
    ended = db.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    assert ended and all(row.end_reason == EndReason.DEACTIVATED for row in ended)
    assert browser.get("/").status_code == 302, "the open browser session has ended"
    db.refresh(api_token.token)
    assert api_token.token.revoked_at is not None
    answer = app.test_client().get(
        "/api/v1/me", headers={"Authorization": f"Bearer {api_token.secret}"}
    )
    assert answer.status_code == 401
    assert ScimTag.USER_DEACTIVATE in audit_tags(db)

    link = db.get(ScimLink, user.id)
    assert link is not None and link.deactivated_by_provider and not link.provisioned


def test_the_provider_reactivates_what_it_deactivated_but_not_what_an_administrator_did(
    db: Session, world: Council3, scim: Scim
) -> None:
    user = school_user(world)
    off = patch({"op": "replace", "value": {"active": False}})
    on = patch({"op": "replace", "value": {"active": True}})
    assert scim.call("PATCH", f"/Users/{user.id}", off).status_code == 200
    assert scim.call("PATCH", f"/Users/{user.id}", on).status_code == 200
    db.refresh(user)
    assert user.active is True

    other = UserFactory(agency=user.agency, active=False)  # deactivated by an administrator
    db.flush()
    answer = scim.call("PATCH", f"/Users/{other.id}", on)
    assert answer.status_code == 200
    assert answer.json is not None and answer.json["active"] is False
    db.refresh(other)
    assert other.active is False


def test_a_created_account_has_no_roles_no_councils_and_waits_for_an_administrator(
    app: Flask, db: Session, world: Council3, scim: Scim, admin: User
) -> None:
    body = {
        "schemas": [USER_SCHEMA],
        "userName": "Ny.Larare@Skola.example",
        "externalId": "oid-new",
        "displayName": "Ny Lärare",
        "active": True,
        "roles": [{"value": "admin"}],
    }
    created = scim.call("POST", "/Users", body)
    assert created.status_code == 201, created.text
    assert created.json is not None
    assert created.headers["Location"].endswith(f"/scim/v2/Users/{created.json['id']}")
    user = db.get(User, int(created.json["id"]))
    assert user is not None
    assert user.email == "ny.larare@skola.example"
    assert user.agency_id == world.agencies[AgencyKind.SCHOOL].id
    assert user.roles == frozenset() and user.memberships == []
    assert ScimTag.USER_CREATE in audit_tags(db)

    page = log_in(app.test_client(), admin).get(
        f"/admin/agencies/{world.agencies[AgencyKind.SCHOOL].id}/scim"
    )
    assert page.status_code == 200
    assert "Ny Lärare" in page.text

    again = scim.call("POST", "/Users", {**body, "externalId": "oid-other"})
    assert again.status_code == 409
    assert again.json is not None and again.json["scimType"] == "uniqueness"
    assert db.scalar(select(func.count()).select_from(User).where(User.email == user.email)) == 1


def test_delete_deactivates_and_the_account_is_no_longer_a_resource(
    db: Session, world: Council3, scim: Scim
) -> None:
    user = school_user(world)
    assert scim.call("DELETE", f"/Users/{user.id}").status_code == 204
    db.refresh(user)
    assert user.active is False
    assert scim.call("GET", f"/Users/{user.id}").status_code == 404
    listed = scim.call("GET", f'/Users?filter=userName eq "{user.email}"').json
    assert listed is not None and listed["totalResults"] == 0


def test_put_replaces_the_name_and_email_and_a_stale_version_is_refused(
    db: Session, world: Council3, scim: Scim
) -> None:
    user = school_user(world)
    current = scim.call("GET", f"/Users/{user.id}")
    etag = current.headers["ETag"]
    body = {"schemas": [USER_SCHEMA], "userName": "bytt@skola.example", "displayName": "Bytt"}
    replaced = scim.call("PUT", f"/Users/{user.id}", body, **{"If-Match": etag})
    assert replaced.status_code == 200, replaced.text
    db.refresh(user)
    assert (user.email, user.display_name) == ("bytt@skola.example", "Bytt")
    stale = scim.call(
        "PUT", f"/Users/{user.id}", {**body, "displayName": "X"}, **{"If-Match": etag}
    )
    assert stale.status_code == 412
    db.refresh(user)
    assert user.display_name == "Bytt"


# --- one agency's provider, one agency's accounts --------------------------------------------


def test_another_agencys_accounts_are_invisible_and_untouchable(
    db: Session, world: Council3, scim: Scim
) -> None:
    police = world.members[AgencyKind.POLICE]
    assert scim.call("GET", f"/Users/{police.id}").status_code == 404
    listed = scim.call("GET", f'/Users?filter=userName eq "{police.email}"').json
    assert listed is not None and listed["totalResults"] == 0
    everyone = scim.call("GET", "/Users").json
    assert everyone is not None
    assert {r["id"] for r in everyone["Resources"]} == {
        str(u.id)
        for u in db.scalars(select(User).where(User.agency_id == school_user(world).agency_id))
    }
    off = patch({"op": "replace", "path": "active", "value": False})
    assert scim.call("PATCH", f"/Users/{police.id}", off).status_code == 404
    assert scim.call("DELETE", f"/Users/{police.id}").status_code == 404
    db.refresh(police)
    assert police.active is True


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "scim_type"),
    [
        ("GET", "/Users?filter=userName eq", None, 400, "invalidFilter"),
        ("GET", "/Users?startIndex=-1", None, 400, "invalidValue"),
        ("POST", "/Users", "{not json", 400, "invalidSyntax"),
        ("POST", "/Users", "[1, 2]", 400, "invalidSyntax"),
        ("POST", "/Users", '{"a":' * 5000 + "1" + "}" * 5000, 400, "invalidSyntax"),
        (
            "POST",
            "/Users",
            {"schemas": [USER_SCHEMA], "userName": "inte en adress"},
            400,
            "invalidValue",
        ),
        ("POST", "/Users", {"schemas": [USER_SCHEMA]}, 400, None),
        ("GET", "/Users/abc", None, 404, None),
        ("GET", "/Users/99999999999999999999999", None, 404, None),
        # A superscript digit passes str.isdigit but not int().
        ("GET", "/Users/\N{SUPERSCRIPT TWO}", None, 404, None),
    ],
)
def test_bad_requests_get_a_scim_error_and_change_nothing(
    db: Session,
    world: Council3,
    scim: Scim,
    method: str,
    path: str,
    body: Any,
    status: int,
    scim_type: str | None,
) -> None:
    users_before = db.scalar(select(func.count()).select_from(User))
    response = scim.call(method, path, body)
    assert response.status_code == status, response.text
    assert response.json is not None and response.json["schemas"] == [ERROR_SCHEMA]
    if scim_type:
        assert response.json.get("scimType") == scim_type
    assert db.scalar(select(func.count()).select_from(User)) == users_before


def test_a_patch_to_an_unknown_attribute_changes_nothing(
    db: Session, world: Council3, scim: Scim
) -> None:
    user = school_user(world)
    email = user.email
    bad = patch(
        {"op": "replace", "path": "userName", "value": "ny@skola.example"},
        {"op": "replace", "path": "active", "value": "kanske"},
    )
    assert scim.call("PATCH", f"/Users/{user.id}", bad).status_code == 400
    db.refresh(user)
    assert user.email == email and user.active is True


# --- discovery and the administration page ----------------------------------------------------


def test_the_discovery_documents_describe_users_only(scim: Scim) -> None:
    config = scim.call("GET", "/ServiceProviderConfig").json
    assert config is not None and config["patch"]["supported"] is True
    assert config["bulk"]["supported"] is False
    types = scim.call("GET", "/ResourceTypes").json
    assert types is not None and [t["endpoint"] for t in types["Resources"]] == ["/Users"]
    schemas = scim.call("GET", "/Schemas").json
    assert schemas is not None and schemas["Resources"][0]["id"] == USER_SCHEMA


def test_only_administrators_manage_clients_and_the_token_is_shown_once(
    app: Flask, db: Session, world: Council3, admin: User
) -> None:
    school = world.agencies[AgencyKind.SCHOOL]
    url = f"/admin/agencies/{school.id}/scim"
    member = log_in(app.test_client(), school_user(world))
    assert member.get(url).status_code == 403
    assert member.post(url, data={"name": "x"}).status_code == 403
    assert db.scalar(select(func.count()).select_from(ScimClient)) == 0

    browser = log_in(app.test_client(), admin)
    assert browser.post(url, data={"name": ""}).status_code == 422
    created = browser.post(url, data={"name": "Entra ID"})
    assert created.status_code == 200
    client = db.scalars(select(ScimClient)).one()
    assert client.prefix in created.text and "svs_" in created.text
    listing = browser.get(url)
    assert client.prefix in listing.text
    assert ScimTag.CLIENT_CREATE in audit_tags(db)
    assert "Entra ID" in listing.text


def test_the_scim_client_of_another_agency_cannot_be_revoked_through_this_agencys_page(
    app: Flask, db: Session, world: Council3, admin: User, scim: Scim
) -> None:
    client = db.scalars(select(ScimClient)).one()
    police = world.agencies[AgencyKind.POLICE]
    browser: FlaskClient = log_in(app.test_client(), admin)
    answer = browser.post(f"/admin/agencies/{police.id}/scim/{client.id}/revoke", data={})
    assert answer.status_code == 403
    db.refresh(client)
    assert client.revoked_at is None
