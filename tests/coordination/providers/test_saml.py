"""Log-in through an agency's SAML 2.0 identity provider: a real pysaml2 IdP process on loopback
with signed assertions, the app's pysaml2 service provider, and every refusal."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.accounts.providers.models import IdentityProvider, ProviderKind
from coordination.audit.log import AuditTag
from coordination.models import AgencyKind
from tests.conftest import Council3, audit_events
from tests.coordination.providers.conftest import (
    LOA3,
    RunningProvider,
    failures,
    post_saml_response,
    saml_response_for,
    user_count,
)

SCHOOL = AgencyKind.SCHOOL


def test_a_linked_user_signs_in_with_a_signed_assertion(
    app: Flask, db: Session, world: Council3, school_idp: IdentityProvider
) -> None:
    assert school_idp.kind is ProviderKind.SAML
    client = app.test_client()
    fields = saml_response_for(client, school_idp, "skola-42", acr=LOA3)
    answer = post_saml_response(client, fields)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"
    assert world.members[SCHOOL].display_name in client.get("/").text
    with client.session_transaction() as cookie:
        assert cookie["idp"] == school_idp.id
        assert cookie["assurance"] == "loa3"
    success = audit_events(db, AuditTag.AUTH_LOGIN_SUCCESS)
    assert [e.details["method"] for e in success] == [f"saml:{school_idp.id}"]


def test_the_service_provider_publishes_its_metadata(app: Flask) -> None:
    answer = app.test_client().get("/saml/metadata")
    assert answer.status_code == 200
    assert 'entityID="http://localhost/saml/metadata"' in answer.text
    assert "http://localhost/saml/acs" in answer.text


def test_the_request_asks_for_the_requested_level(
    app: Flask, db: Session, school_idp: IdentityProvider
) -> None:
    school_idp.requested_acr = LOA3
    db.flush()
    client = app.test_client()
    started = client.get(f"/login/provider/{school_idp.id}")
    assert "SAMLRequest=" in started.headers["Location"]
    import requests

    page = requests.get(started.headers["Location"], timeout=10)
    assert f'value="{LOA3}" selected' in page.text


@pytest.mark.parametrize(
    "mode",
    [{"unsigned": True}, {"bad_signature": True}, {"wrong_issuer": True}],
    ids=["unsigned", "bad-signature", "wrong-issuer"],
)
def test_a_bad_assertion_is_refused(
    app: Flask,
    db: Session,
    school_idp: IdentityProvider,
    saml_idp: RunningProvider,
    mode: dict[str, bool],
) -> None:
    saml_idp.set_mode(**mode)
    try:
        before = user_count(db)
        client = app.test_client()
        answer = post_saml_response(client, saml_response_for(client, school_idp, "skola-42"))
        assert answer.headers["Location"] == "/login"
        assert "Svaret från inloggningstjänsten kunde inte godtas" in client.get("/login").text
        assert client.get("/").status_code == 302
        assert user_count(db) == before
        assert failures(db)[-1]["reason"] == "protocol"
    finally:
        saml_idp.set_mode()


def test_a_changed_assertion_is_refused(
    app: Flask, db: Session, school_idp: IdentityProvider
) -> None:
    client = app.test_client()
    fields = saml_response_for(client, school_idp, "skola-42")
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    assert "skola-42" in xml
    fields["SAMLResponse"] = base64.b64encode(xml.replace("skola-42", "skola-43").encode()).decode()
    answer = post_saml_response(client, fields)
    assert answer.headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    assert failures(db)[-1]["reason"] == "protocol"


def test_an_expired_assertion_is_refused(
    app: Flask, db: Session, school_idp: IdentityProvider
) -> None:
    client = app.test_client()
    fields = saml_response_for(client, school_idp, "skola-42")
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=2), tick=True):
        answer = post_saml_response(client, fields)
    assert answer.headers["Location"] == "/login"
    assert failures(db)[-1]["reason"] == "protocol"


def test_a_replayed_assertion_is_refused(
    app: Flask, db: Session, school_idp: IdentityProvider
) -> None:
    client = app.test_client()
    fields = saml_response_for(client, school_idp, "skola-42")
    assert post_saml_response(client, fields).headers["Location"] == "/"
    for other in (app.test_client(), client):
        again = post_saml_response(other, fields)
        assert again.headers["Location"] == "/login"
        assert failures(db)[-1] == {"reason": "protocol", "error": "unsolicited"}
    # Signed in once only: the replay in the same browser ended nothing and started nothing.
    assert client.get("/").status_code == 200


def test_an_unknown_subject_is_refused_and_nothing_created(
    app: Flask, db: Session, school_idp: IdentityProvider
) -> None:
    before = user_count(db)
    client = app.test_client()
    answer = post_saml_response(client, saml_response_for(client, school_idp, "okand-1"))
    assert answer.headers["Location"] == "/login"
    assert "Det finns inget konto i Samverkan för dig" in client.get("/login").text
    assert user_count(db) == before
    assert failures(db)[-1] == {"provider_id": school_idp.id, "reason": "unknown_subject"}


def test_a_disabled_agency_is_refused(
    app: Flask, db: Session, world: Council3, school_idp: IdentityProvider
) -> None:
    client = app.test_client()
    fields = saml_response_for(client, school_idp, "skola-42")
    world.agencies[SCHOOL].active = False
    db.flush()
    assert post_saml_response(client, fields).headers["Location"] == "/login"
    assert failures(db)[-1]["reason"] == "disabled"


@pytest.mark.csrf
def test_the_provider_s_post_needs_no_csrf_token(
    app: Flask, db: Session, school_idp: IdentityProvider
) -> None:
    client = app.test_client()
    answer = post_saml_response(client, saml_response_for(client, school_idp, "skola-42"))
    assert answer.headers["Location"] == "/"


def test_saving_a_saml_provider_checks_its_metadata(
    db: Session, admin_client: FlaskClient, world: Council3, saml_idp: RunningProvider
) -> None:
    agency = world.agencies[AgencyKind.LEISURE]
    data = {
        "kind": "saml",
        "display_name": "Fritidsfederationen",
        "enabled": "y",
        "minimum_assurance": "",
    }
    broken = admin_client.post(
        f"/admin/sign-in/{agency.id}", data={**data, "metadata_xml": "<inte>metadata"}
    )
    assert broken.status_code == 422
    assert "kunde inte läsas som SAML-metadata" in broken.text
    unreachable = admin_client.post(
        f"/admin/sign-in/{agency.id}", data={**data, "issuer": "http://127.0.0.1:1/metadata"}
    )
    assert unreachable.status_code == 422 and "kunde inte hämtas" in unreachable.text
    assert db.scalar(select(func.count()).select_from(IdentityProvider)) == 0
    saved = admin_client.post(
        f"/admin/sign-in/{agency.id}", data={**data, "issuer": saml_idp.issuer + "/metadata"}
    )
    assert saved.status_code == 302, saved.text
    provider = db.scalars(select(IdentityProvider)).one()
    assert provider.kind is ProviderKind.SAML
    assert provider.discovered["entity_id"] == saml_idp.issuer + "/metadata"
    assert provider.claim("subject") == "NameID"


def test_log_out_ends_the_session_here_and_at_the_identity_provider(
    app: Flask, db: Session, school_idp: IdentityProvider, saml_idp: RunningProvider
) -> None:
    import requests

    client = app.test_client()
    assert (
        post_saml_response(client, saml_response_for(client, school_idp, "skola-42")).status_code
        == 302
    )
    answer = client.post("/logout")
    assert answer.headers["Location"] == f"/logout/provider/{school_idp.id}"
    assert client.get("/").status_code == 302  # the local session has ended
    page = client.get(answer.headers["Location"])
    assert page.status_code == 200
    logout_request = page.headers["Refresh"].split("url=", 1)[1]
    assert logout_request.startswith(saml_idp.issuer + "/slo/redirect?SAMLRequest=")
    assert "Signature=" in logout_request
    back = requests.get(logout_request, allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text
    recorded = requests.get(saml_idp.issuer + "/test/logouts", timeout=10).json()[-1]
    assert recorded["name_id"] == "skola-42" and recorded["signed"]
    assert recorded["issuer"] == "http://localhost/saml/metadata"
    location = back.headers["Location"]
    assert location.startswith("http://localhost/saml/slo?SAMLResponse=")
    done = client.get(location.removeprefix("http://localhost"))
    assert done.headers["Location"] == "/login"
    assert f"Du är utloggad även hos {school_idp.display_name}" in client.get("/login").text
