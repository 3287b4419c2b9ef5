"""The administrator removes a user's link to the agency's provider: a confirmation page first,
then the link is gone, the user's sessions from that provider end (not the others), audited."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.accounts.providers.models import IdentityProvider, UserIdentity
from coordination.accounts.providers.services import ProviderTag
from coordination.accounts.sessions import EndReason, UserSession
from coordination.models import AgencyKind, User
from tests.conftest import Council3, audit_events, log_in
from tests.coordination.providers.conftest import (
    post_saml_response,
    saml_response_for,
)

SCHOOL = AgencyKind.SCHOOL


def identity_of(db: Session, user: User) -> UserIdentity | None:
    db.expire_all()
    return db.scalars(select(UserIdentity).where(UserIdentity.user_id == user.id)).one_or_none()


def test_removing_a_link_asks_first_then_ends_the_provider_s_sessions(
    app: Flask,
    db: Session,
    world: Council3,
    admin_client: FlaskClient,
    school_idp: IdentityProvider,
) -> None:
    user = world.members[SCHOOL]
    through_idp = app.test_client()
    assert (
        post_saml_response(
            through_idp, saml_response_for(through_idp, school_idp, "skola-42")
        ).headers["Location"]
        == "/"
    )
    with_password = log_in(app.test_client(), user)
    identity = identity_of(db, user)
    assert identity is not None
    agency_id = world.agencies[SCHOOL].id
    address = f"/admin/sign-in/identities/{identity.id}/remove"

    page = admin_client.get(f"/admin/sign-in/{agency_id}")
    assert address in page.text
    for asked in (admin_client.get(address), admin_client.post(address)):
        assert asked.status_code == 200
        assert "Ta bort kopplingen till inloggningstjänsten" in asked.text
        assert user.display_name in asked.text
        assert 'name="confirm" value="yes"' in asked.text
    assert identity_of(db, user) is not None
    assert through_idp.get("/").status_code == 200

    done = admin_client.post(address, data={"confirm": "yes"})
    assert done.status_code == 302
    assert done.headers["Location"] == f"/admin/sign-in/{agency_id}"
    assert "Avslutade inloggningar: 1" in admin_client.get(done.headers["Location"]).text
    assert identity_of(db, user) is None
    assert through_idp.get("/").status_code == 302
    assert with_password.get("/").status_code == 200, "a session from elsewhere holds"
    ended = db.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_not(None))
    ).all()
    assert [row.end_reason for row in ended] == [EndReason.IDENTITY_UNLINKED]
    (event,) = audit_events(db, ProviderTag.UNLINK)
    assert event.details == {"provider_id": school_idp.id, "sessions_ended": 1}

    # The provider's log-in no longer finds the user.
    again = app.test_client()
    refused = post_saml_response(again, saml_response_for(again, school_idp, "skola-42"))
    assert refused.headers["Location"] == "/login"


def test_only_an_administrator_removes_a_link(
    app: Flask,
    db: Session,
    world: Council3,
    admin: User,
    admin_client: FlaskClient,
    school_idp: IdentityProvider,
) -> None:
    user = world.members[SCHOOL]
    identity = identity_of(db, user)
    assert identity is not None
    address = f"/admin/sign-in/identities/{identity.id}/remove"
    member = log_in(app.test_client(), world.members[AgencyKind.SOCIAL_SERVICES])
    assert member.get(address).status_code == 403
    assert member.post(address, data={"confirm": "yes"}).status_code == 403
    # An unknown link: refused like any other object out of reach.
    unknown = f"/admin/sign-in/identities/{identity.id + 1000}/remove"
    assert admin_client.post(unknown, data={"confirm": "yes"}).status_code == 403
    assert identity_of(db, user) is not None
    assert audit_events(db, ProviderTag.UNLINK) == []
