"""Log-in through an agency's OpenID provider: a real provider process on loopback (Authlib's
server parts), the app's Authlib client, and every refusal with its message and audit event."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.accounts.providers.models import IdentityProvider, UserIdentity
from coordination.audit.log import AuditTag
from coordination.models import AgencyKind, Role, User
from tests.conftest import Council3, audit_events, log_in
from tests.coordination.providers.conftest import (
    LOA3,
    RunningProvider,
    bind_provider,
    failures,
    sign_in,
    user_count,
)
from tests.factories import PASSWORD, UserFactory

POLICE = AgencyKind.POLICE


def test_a_linked_user_signs_in_and_lands_on_the_start_page(
    app: Flask, db: Session, world: Council3, police_idp: IdentityProvider
) -> None:
    client = app.test_client()
    answer = sign_in(client, police_idp, "polis-123")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"
    start = client.get("/")
    assert start.status_code == 200
    assert world.members[POLICE].display_name in start.text
    with client.session_transaction() as cookie:
        assert cookie["idp"] == police_idp.id
        assert cookie["assurance"] == "loa2"
        assert cookie["auth_method"] == f"oidc:{police_idp.id}"
    success = audit_events(db, AuditTag.AUTH_LOGIN_SUCCESS)
    assert [e.details["method"] for e in success] == [f"oidc:{police_idp.id}"]
    identity = db.scalars(
        select(UserIdentity).where(UserIdentity.provider_id == police_idp.id)
    ).one()
    assert identity.last_login_at is not None


def test_the_log_in_page_offers_the_provider(app: Flask, police_idp: IdentityProvider) -> None:
    page = app.test_client().get("/login")
    assert f"Logga in med {police_idp.display_name}" in page.text
    assert f'href="/login/provider/{police_idp.id}' in page.text


def test_the_request_carries_state_nonce_and_pkce(app: Flask, police_idp: IdentityProvider) -> None:
    started = app.test_client().get(f"/login/provider/{police_idp.id}")
    query = parse_qs(urlsplit(started.headers["Location"]).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0]
    assert "openid" in query["scope"][0].split()


def test_an_unknown_subject_without_provisioning_is_refused(
    app: Flask, db: Session, police_idp: IdentityProvider
) -> None:
    before = user_count(db)
    client = app.test_client()
    answer = sign_in(client, police_idp, "okand-999")
    assert answer.headers["Location"] == "/login"
    page = client.get("/login")
    assert "Det finns inget konto i Samverkan för dig" in page.text
    assert user_count(db) == before
    assert failures(db)[-1] == {"provider_id": police_idp.id, "reason": "unknown_subject"}
    assert client.get("/").status_code == 302  # not signed in


def test_the_e_mail_address_alone_never_signs_anybody_in(
    app: Flask, db: Session, world: Council3, police_idp: IdentityProvider
) -> None:
    """Another subject with the e-mail address of a linked user is not that user."""
    client = app.test_client()
    sign_in(client, police_idp, "imposter-1", email=world.members[POLICE].email)
    assert client.get("/").status_code == 302
    assert failures(db)[-1]["reason"] == "unknown_subject"


def test_just_in_time_provisioning_creates_a_pending_account_without_roles(
    app: Flask, db: Session, admin: User, world: Council3, openid_provider: RunningProvider
) -> None:
    idp = bind_provider(
        db,
        admin,
        world.agencies[AgencyKind.SOCIAL_SERVICES],
        openid_provider,
        jit_provisioning=True,
    )
    db.flush()
    client = app.test_client()
    sign_in(client, idp, "ny-1", name="Nora Ny", email="Nora.Ny@Example.org")
    assert "väntar på att en administratör eller samordnare godkänner" in client.get("/login").text
    created = db.scalars(select(User).where(User.email == "nora.ny@example.org")).one()
    assert created.pending_approval and not created.active
    assert created.agency_id == world.agencies[AgencyKind.SOCIAL_SERVICES].id
    assert created.roles == frozenset() and created.memberships == []
    assert (
        db.scalars(select(UserIdentity).where(UserIdentity.user_id == created.id)).one().subject
        == "ny-1"
    )
    # Again before approval: still waiting, nothing new.
    before = user_count(db)
    sign_in(client, idp, "ny-1", email="nora.ny@example.org")
    assert user_count(db) == before
    assert failures(db)[-1]["reason"] == "pending"
    assert client.get("/").status_code == 302

    # The coordinator of the same agency approves; a police member may not.
    police = log_in(app.test_client(), world.members[POLICE])
    assert police.post(f"/accounts/pending/{created.id}/approve").status_code == 403
    coordinator = log_in(app.test_client(), world.coordinator)
    assert "Nora Ny" in coordinator.get("/accounts/pending").text
    assert coordinator.post(f"/accounts/pending/{created.id}/approve").status_code == 302
    db.refresh(created)
    assert created.active and not created.pending_approval and created.roles == frozenset()
    answer = sign_in(client, idp, "ny-1")
    assert answer.headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_provisioning_refuses_an_e_mail_address_already_taken(
    app: Flask, db: Session, admin: User, world: Council3, openid_provider: RunningProvider
) -> None:
    idp = bind_provider(
        db, admin, world.agencies[AgencyKind.SCHOOL], openid_provider, jit_provisioning=True
    )
    db.flush()
    before = user_count(db)
    client = app.test_client()
    sign_in(client, idp, "skola-7", email=world.members[POLICE].email)
    assert "Det finns redan ett konto med din e-postadress" in client.get("/login").text
    assert user_count(db) == before
    assert failures(db)[-1]["reason"] == "email_taken"


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ({"wrong_issuer": True}, "invalid_claim"),
        ({"bad_signature": True}, "bad_signature"),
        ({"bad_nonce": True}, "invalid_claim"),
        ({"expired": True}, "expired_token"),
    ],
    ids=["wrong-issuer", "bad-signature", "changed-nonce", "expired"],
)
def test_a_bad_id_token_is_refused(
    app: Flask,
    db: Session,
    police_idp: IdentityProvider,
    openid_provider: RunningProvider,
    mode: dict[str, bool],
    error: str,
) -> None:
    openid_provider.set_mode(**mode)
    before = user_count(db)
    client = app.test_client()
    answer = sign_in(client, police_idp, "polis-123")
    assert answer.headers["Location"] == "/login"
    assert "Svaret från inloggningstjänsten kunde inte godtas" in client.get("/login").text
    assert client.get("/").status_code == 302
    assert user_count(db) == before
    last = failures(db)[-1]
    assert last["reason"] == "protocol" and last["provider_id"] == police_idp.id
    assert last["error"] == error
    assert not audit_events(db, AuditTag.AUTH_LOGIN_SUCCESS)


def _callback_of(client: FlaskClient, police_idp: IdentityProvider, subject: str) -> str:
    started = client.get(f"/login/provider/{police_idp.id}")
    answer = requests.post(
        started.headers["Location"],
        data={"sub": subject, "name": "N", "email": "n@example.org", "acr": LOA3},
        allow_redirects=False,
        timeout=10,
    )
    back = urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"


def test_a_changed_state_is_refused(app: Flask, db: Session, police_idp: IdentityProvider) -> None:
    client = app.test_client()
    callback = _callback_of(client, police_idp, "polis-123")
    path, query = callback.split("?", 1)
    params = {k: v[0] for k, v in parse_qs(query).items()}
    params["state"] = "changed-" + params["state"][:10]
    answer = client.get(f"{path}?{urlencode(params)}")
    assert answer.headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    assert failures(db)[-1]["reason"] == "protocol"


def test_a_replayed_answer_is_refused(
    app: Flask, db: Session, police_idp: IdentityProvider
) -> None:
    client = app.test_client()
    callback = _callback_of(client, police_idp, "polis-123")
    assert client.get(callback).headers["Location"] == "/"
    # The same answer in another browser (a stolen URL), and in the same one again.
    for other in (app.test_client(), client):
        again = other.get(callback)
        assert again.headers["Location"] == "/login"
        assert failures(db)[-1]["reason"] == "protocol"


def test_the_provider_s_error_is_refused(
    app: Flask, db: Session, police_idp: IdentityProvider
) -> None:
    client = app.test_client()
    client.get(f"/login/provider/{police_idp.id}")
    answer = client.get(f"/login/provider/{police_idp.id}/callback?error=access_denied&state=x")
    assert answer.headers["Location"] == "/login"
    assert "Inloggningstjänsten avbröt inloggningen" in client.get("/login").text
    assert failures(db)[-1] == {
        "provider_id": police_idp.id,
        "reason": "provider_error",
        "error": "access_denied",
    }


def test_free_text_in_the_callback_s_error_does_not_reach_the_audit_log(
    app: Flask, db: Session, police_idp: IdentityProvider
) -> None:
    """Anyone can craft the callback's query: only an error code is kept, never free text."""
    client = app.test_client()
    client.get(f"/login/provider/{police_idp.id}")
    crafted = urlencode({"error": "Anna Andersson 20121212-1212", "state": "x"})
    answer = client.get(f"/login/provider/{police_idp.id}/callback?{crafted}")
    assert answer.headers["Location"] == "/login"
    assert failures(db)[-1]["error"] == "other"


def test_a_disabled_agency_cannot_sign_in(
    app: Flask, db: Session, world: Council3, police_idp: IdentityProvider
) -> None:
    client = app.test_client()
    started = client.get(f"/login/provider/{police_idp.id}")
    answer = requests.post(
        started.headers["Location"],
        data={"sub": "polis-123", "name": "N", "email": "n@example.org"},
        allow_redirects=False,
        timeout=10,
    )
    world.agencies[POLICE].active = False  # switched off while the user was at the provider
    db.flush()
    back = urlsplit(answer.headers["Location"])
    assert client.get(f"{back.path}?{back.query}").headers["Location"] == "/login"
    assert "avstängd för myndigheten" in client.get("/login").text
    assert failures(db)[-1]["reason"] == "disabled"
    # The button is gone and the start refuses too.
    assert f"/login/provider/{police_idp.id}" not in client.get("/login").text
    assert client.get(f"/login/provider/{police_idp.id}").headers["Location"] == "/login"


def test_a_provider_s_minimum_level_refuses_a_weaker_log_in(
    app: Flask, db: Session, police_idp: IdentityProvider
) -> None:
    police_idp.minimum_assurance = "loa3"
    db.flush()
    client = app.test_client()
    sign_in(client, police_idp, "polis-123")  # loa2
    assert "för låg tillitsnivå för den här tjänsten" in client.get("/login").text
    assert failures(db)[-1]["reason"] == "assurance"
    assert sign_in(client, police_idp, "polis-123", acr=LOA3).headers["Location"] == "/"


def test_local_log_in_is_for_agencies_without_a_provider_and_for_administrators(
    app: Flask, db: Session, world: Council3, admin: User, police_idp: IdentityProvider
) -> None:
    police = world.members[POLICE]
    answer = app.test_client().post("/login", data={"email": police.email, "password": PASSWORD})
    assert "Din myndighet loggar in via sin inloggningstjänst" in answer.text
    assert failures(db)[-1]["reason"] == "use_provider"
    # Break-glass: an administrator of the same agency still signs in locally.
    police_admin = UserFactory(
        agency=world.agencies[POLICE], email="bg@example.com", roles={Role.ADMIN}
    )
    db.flush()
    answer = app.test_client().post(
        "/login", data={"email": police_admin.email, "password": PASSWORD}
    )
    assert answer.status_code == 302


def test_log_out_ends_the_session_here_and_at_the_provider(
    app: Flask, db: Session, police_idp: IdentityProvider, openid_provider: RunningProvider
) -> None:
    client = app.test_client()
    sign_in(client, police_idp, "polis-123")
    answer = client.post("/logout")
    assert answer.headers["Location"] == f"/logout/provider/{police_idp.id}"
    assert client.get("/").status_code == 302  # the local session has ended
    page = client.get(answer.headers["Location"])
    assert page.status_code == 200
    end_session = page.headers["Refresh"].split("url=", 1)[1]
    assert end_session.startswith(openid_provider.issuer + "/logout?")
    assert parse_qs(urlsplit(end_session).query)["client_id"] == [police_idp.client_id]
    back = requests.get(end_session, allow_redirects=False, timeout=10)
    assert back.headers["Location"].startswith("http://localhost/login")
    assert openid_provider.logouts()[-1]["post_logout_redirect_uri"] == "http://localhost/login"


def test_a_provider_that_stops_answering_is_a_message_not_an_error(
    app: Flask, db: Session, police_idp: IdentityProvider
) -> None:
    police_idp.discovered = {**police_idp.discovered, "token_endpoint": "http://127.0.0.1:1/token"}
    db.flush()
    client = app.test_client()
    answer = sign_in(client, police_idp, "polis-123")
    assert answer.headers["Location"] == "/login"
    assert "Inloggningstjänsten svarar inte just nu" in client.get("/login").text
    assert failures(db)[-1]["reason"] == "protocol"
