"""Single logout with the real pysaml2 IdP on loopback. IdP-initiated: it sends a LogoutRequest
(over HTTP-Redirect with the browser's cookie, over HTTP-POST without it); the matching sessions
end server-side, the IdP gets our signed LogoutResponse; a bad request ends nothing. After ours:
its LogoutResponse (over HTTP-Redirect or HTTP-POST) is said only when it is the IdP's own
answer to this browser's request."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from coordination.accounts.providers.models import IdentityProvider
from coordination.accounts.providers.services import ProviderTag
from coordination.accounts.sessions import EndReason, UserSession
from coordination.models import AgencyKind
from tests.conftest import Council3, audit_events
from tests.coordination.providers.conftest import (
    RunningProvider,
    _hidden,
    open_rows,
    post_saml_response,
    saml_response_for,
)

SCHOOL = AgencyKind.SCHOOL
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
RESPONDER = "urn:oasis:names:tc:SAML:2.0:status:Responder"
UNKNOWN_PRINCIPAL = "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal"
REFUSED_TEXT = "Utloggningen kunde inte godtas"


def signed_in(app: Flask, school_idp: IdentityProvider, subject: str = "skola-42") -> FlaskClient:
    client = app.test_client()
    answer = post_saml_response(client, saml_response_for(client, school_idp, subject))
    assert answer.headers["Location"] == "/", answer.headers.get("Location")
    assert client.get("/").status_code == 200
    return client


def logout_request(saml_idp: RunningProvider, **wanted: Any) -> dict[str, str]:
    answer = requests.post(f"{saml_idp.issuer}/test/logout-request", json=wanted, timeout=10)
    answer.raise_for_status()
    result: dict[str, str] = answer.json()
    return result


def responses(saml_idp: RunningProvider) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = requests.get(
        f"{saml_idp.issuer}/test/responses", timeout=10
    ).json()
    return result


def deliver(client: FlaskClient, made: dict[str, str]) -> Any:
    """As the browser: the IdP's redirect (a GET, with our cookie) or its auto-posted form (a
    POST from another site)."""
    url = urlsplit(made["url"])
    assert url.path == "/saml/slo"
    if "SAMLRequest" in made:
        return client.post(
            "/saml/slo", data={"SAMLRequest": made["SAMLRequest"], "RelayState": made["RelayState"]}
        )
    return client.get(f"{url.path}?{url.query}")


def test_the_service_provider_advertises_single_logout(
    app: Flask, saml_idp: RunningProvider
) -> None:
    metadata = app.test_client().get("/saml/metadata").text
    assert "SingleLogoutService" in metadata
    assert 'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"' in metadata
    assert 'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"' in metadata
    assert 'Location="http://localhost/saml/slo"' in metadata


def test_the_session_remembers_the_provider_s_names(
    app: Flask, db: Session, world: Council3, school_idp: IdentityProvider
) -> None:
    signed_in(app, school_idp)
    (row,) = open_rows(db, world.members[SCHOOL])
    assert row.identity_provider_id == school_idp.id
    assert row.provider_subject == "skola-42"
    assert row.provider_session


def test_a_redirect_logout_request_ends_the_session_and_is_answered_signed(
    app: Flask,
    db: Session,
    world: Council3,
    school_idp: IdentityProvider,
    saml_idp: RunningProvider,
) -> None:
    user = world.members[SCHOOL]
    client = signed_in(app, school_idp)
    other = signed_in(app, school_idp)  # another browser of the same user, another IdP session
    mine, theirs = sorted(open_rows(db, user), key=lambda r: r.created_at)
    made = logout_request(saml_idp, name_id="skola-42", session_indexes=[mine.provider_session])
    assert "Signature=" in made["url"]
    answer = deliver(client, made)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(f"{saml_idp.issuer}/slo/redirect?SAMLResponse=")
    assert "Signature=" in location
    assert requests.get(location, timeout=10).status_code == 200
    response = responses(saml_idp)[-1]
    assert response["status"] == SUCCESS
    assert response["verified"] is True
    assert response["in_response_to"] == made["id"]
    assert response["issuer"] == "http://localhost/saml/metadata"
    assert response["relay_state"] == "idp-logout"
    # This browser's session ended (server-side, the cookie is cleared); the other holds.
    assert client.get("/").status_code == 302
    assert other.get("/").status_code == 200
    assert [row.sid_hash for row in open_rows(db, user)] == [theirs.sid_hash]
    db.refresh(mine)
    assert mine.end_reason == EndReason.PROVIDER_LOGOUT
    (event,) = audit_events(db, ProviderTag.PROVIDER_LOGOUT)
    assert event.details == {
        "provider_ids": [school_idp.id],
        "channel": "saml_slo",
        "sessions_ended": 1,
    }


def test_a_post_logout_request_without_the_cookie_ends_every_session_of_the_name_id(
    app: Flask,
    db: Session,
    world: Council3,
    school_idp: IdentityProvider,
    saml_idp: RunningProvider,
) -> None:
    user = world.members[SCHOOL]
    first, second = signed_in(app, school_idp), signed_in(app, school_idp)
    made = logout_request(saml_idp, name_id="skola-42", binding="post")
    answer = deliver(app.test_client(), made)  # cross-site POST: no cookie of ours
    assert answer.status_code == 302, answer.text
    assert requests.get(answer.headers["Location"], timeout=10).status_code == 200
    assert responses(saml_idp)[-1]["status"] == SUCCESS
    for client in (first, second):
        assert client.get("/").status_code == 302
    assert open_rows(db, user) == []
    assert audit_events(db, ProviderTag.PROVIDER_LOGOUT)[-1].details["sessions_ended"] == 2


@pytest.mark.csrf
def test_the_idp_s_post_needs_no_csrf_token(
    app: Flask,
    db: Session,
    world: Council3,
    school_idp: IdentityProvider,
    saml_idp: RunningProvider,
) -> None:
    client = signed_in(app, school_idp)
    made = logout_request(saml_idp, name_id="skola-42", binding="post")
    assert deliver(app.test_client(), made).status_code == 302
    assert client.get("/").status_code == 302


def test_a_request_naming_no_live_session_ends_nothing(
    app: Flask,
    db: Session,
    world: Council3,
    school_idp: IdentityProvider,
    saml_idp: RunningProvider,
) -> None:
    client = signed_in(app, school_idp)
    for wanted in (
        {"name_id": "skola-42", "session_indexes": ["id-not-ours"]},
        {"name_id": "skola-43"},
    ):
        answer = deliver(app.test_client(), logout_request(saml_idp, **wanted))
        assert answer.status_code == 302
        requests.get(answer.headers["Location"], timeout=10)
        response = responses(saml_idp)[-1]
        assert response["status"] == RESPONDER
        assert response["second_status"] == UNKNOWN_PRINCIPAL
        assert response["verified"] is True
        assert audit_events(db, ProviderTag.PROVIDER_LOGOUT)[-1].details["sessions_ended"] == 0
    assert client.get("/").status_code == 200
    assert len(open_rows(db, world.members[SCHOOL])) == 1


@pytest.mark.parametrize(
    ("wanted", "reason"),
    [
        ({"unsigned": True}, "IncorrectlySigned"),
        ({"unsigned": True, "binding": "post"}, "IncorrectlySigned"),
        ({"signer": "impostor"}, "IncorrectlySigned"),
        ({"signer": "impostor", "binding": "post"}, "IncorrectlySigned"),
        ({"signer": "stranger"}, "IncorrectlySigned"),
        ({"signer": "stranger", "binding": "post"}, "IncorrectlySigned"),
        ({"destination": "http://localhost/saml/elsewhere"}, None),
    ],
    ids=[
        "unsigned-redirect",
        "unsigned-post",
        "bad-signature-redirect",
        "bad-signature-post",
        "unknown-idp-redirect",
        "unknown-idp-post",
        "other-destination",
    ],
)
def test_a_bad_logout_request_ends_nothing(
    app: Flask,
    db: Session,
    world: Council3,
    school_idp: IdentityProvider,
    saml_idp: RunningProvider,
    wanted: dict[str, Any],
    reason: str | None,
) -> None:
    client = signed_in(app, school_idp)
    made = logout_request(saml_idp, name_id="skola-42", **wanted)
    if "destination" in wanted:
        made["url"] = made["url"].replace("/saml/elsewhere", "/saml/slo")
    answered = len(responses(saml_idp))
    answer = deliver(client, made)
    assert answer.status_code == 400
    assert REFUSED_TEXT in answer.text
    assert "Ingen inloggning i Samverkan har avslutats" in answer.text
    assert client.get("/").status_code == 200
    assert len(open_rows(db, world.members[SCHOOL])) == 1
    assert audit_events(db, ProviderTag.PROVIDER_LOGOUT) == []
    (refused,) = audit_events(db, ProviderTag.PROVIDER_LOGOUT_REFUSED)
    assert refused.details["channel"] == "saml_slo"
    if reason:
        assert refused.details["reason"] == reason
    assert len(responses(saml_idp)) == answered  # nothing was sent back


def test_a_session_from_the_password_log_in_is_not_touched(
    app: Flask,
    db: Session,
    world: Council3,
    school_idp: IdentityProvider,
    saml_idp: RunningProvider,
) -> None:
    user = world.members[SCHOOL]
    signed_in(app, school_idp)
    local = UserSession(
        sid_hash="0" * 64,
        user_id=user.id,
        method="password",
        expires_at=open_rows(db, user)[0].expires_at,
    )
    db.add(local)
    db.flush()
    deliver(app.test_client(), logout_request(saml_idp, name_id="skola-42", binding="post"))
    assert [row.method for row in open_rows(db, user)] == ["password"]


# --- The IdP's LogoutResponse to ours (SP-initiated single logout) ------------------------------


def log_out_at_the_idp(client: FlaskClient, school_idp: IdentityProvider) -> requests.Response:
    """As the browser: our log-out, our page that goes on to the IdP with the signed
    LogoutRequest, and the IdP's answer (a redirect back, or a form posting back)."""
    page = client.get("/").text
    # The log-out form's token where CSRF is on (the page has none where it is off).
    token = _hidden(page, "csrf_token") if 'name="csrf_token"' in page else ""
    answer = client.post("/logout", data={"csrf_token": token})
    assert answer.headers["Location"] == f"/logout/provider/{school_idp.id}"
    going_on = client.get(f"/logout/provider/{school_idp.id}")
    logout_request = going_on.headers["Refresh"].split("url=", 1)[1]
    return requests.get(logout_request, allow_redirects=False, timeout=10)


def said_logged_out(client: FlaskClient, school_idp: IdentityProvider) -> bool:
    return f"Du är utloggad även hos {school_idp.display_name}" in client.get("/login").text


def post_logout_response(client: FlaskClient, form_page: str) -> Any:
    """The IdP's form, posted from its site (no cookie of ours goes with it), then this site's
    page that hands it on (with the cookie)."""
    assert client.application is not None
    fields = {"SAMLResponse": _hidden(form_page, "SAMLResponse")}  # our request had no RelayState
    handed = client.application.test_client().post("/saml/slo", data=fields)
    assert handed.status_code == 200, handed.text
    assert "Set-Cookie" not in handed.headers
    assert 'action="/saml/slo/continue"' in handed.text
    assert "Utloggningen fortsätter" in handed.text
    return client.post(
        "/saml/slo/continue", data={"SAMLResponse": _hidden(handed.text, "SAMLResponse")}
    )


def test_a_logout_response_by_post_says_the_idp_logged_out_too(
    app: Flask,
    db: Session,
    world: Council3,
    school_idp: IdentityProvider,
    saml_idp: RunningProvider,
) -> None:
    saml_idp.set_mode(logout_response={"binding": "post"})
    client = signed_in(app, school_idp)
    answer = log_out_at_the_idp(client, school_idp)
    assert answer.status_code == 200, answer.text
    assert 'action="http://localhost/saml/slo"' in answer.text
    done = post_logout_response(client, answer.text)
    assert done.status_code == 302
    assert done.headers["Location"] == "/login"
    assert said_logged_out(client, school_idp)
    assert client.get("/").status_code == 302
    assert audit_events(db, ProviderTag.PROVIDER_LOGOUT_REFUSED) == []


@pytest.mark.csrf
def test_the_handed_on_logout_response_needs_no_csrf_token(
    app: Flask, school_idp: IdentityProvider, saml_idp: RunningProvider
) -> None:
    saml_idp.set_mode(logout_response={"binding": "post"})
    client = signed_in(app, school_idp)
    post_logout_response(client, log_out_at_the_idp(client, school_idp).text)
    assert said_logged_out(client, school_idp)


def test_a_logout_response_by_redirect_is_still_read(
    app: Flask, school_idp: IdentityProvider, saml_idp: RunningProvider
) -> None:
    client = signed_in(app, school_idp)
    answer = log_out_at_the_idp(client, school_idp)
    location = answer.headers["Location"]
    assert location.startswith("http://localhost/saml/slo?SAMLResponse=")
    assert "Signature=" in location
    assert client.get(location.removeprefix("http://localhost")).headers["Location"] == "/login"
    assert said_logged_out(client, school_idp)


@pytest.mark.parametrize(
    "wanted",
    [
        {"binding": "post", "unsigned": True},
        {"binding": "post", "signer": "impostor"},
        {"binding": "post", "signer": "stranger"},
        {"unsigned": True},
        {"signer": "impostor"},
        {"signer": "stranger"},
    ],
    ids=[
        "unsigned-post",
        "bad-signature-post",
        "other-issuer-post",
        "unsigned-redirect",
        "bad-signature-redirect",
        "other-issuer-redirect",
    ],
)
def test_a_logout_response_that_is_not_the_idp_s_says_nothing(
    app: Flask,
    db: Session,
    school_idp: IdentityProvider,
    saml_idp: RunningProvider,
    wanted: dict[str, Any],
) -> None:
    saml_idp.set_mode(logout_response=wanted)
    client = signed_in(app, school_idp)
    answer = log_out_at_the_idp(client, school_idp)
    if wanted.get("binding") == "post":
        done = post_logout_response(client, answer.text)
    else:
        done = client.get(answer.headers["Location"].removeprefix("http://localhost"))
    assert done.status_code == 302
    assert done.headers["Location"] == "/login"
    assert not said_logged_out(client, school_idp)
    assert client.get("/").status_code == 302  # the session here ended all the same


def test_a_logout_response_counts_once_and_only_in_the_browser_that_asked(
    app: Flask, school_idp: IdentityProvider, saml_idp: RunningProvider
) -> None:
    saml_idp.set_mode(logout_response={"binding": "post"})
    client = signed_in(app, school_idp)
    form_page = log_out_at_the_idp(client, school_idp).text
    other = signed_in(app, school_idp)
    assert other.post("/logout").status_code == 302
    post_logout_response(other, form_page)
    assert not said_logged_out(other, school_idp)
    post_logout_response(client, form_page)
    assert said_logged_out(client, school_idp)
    post_logout_response(client, form_page)
    assert not said_logged_out(client, school_idp)
