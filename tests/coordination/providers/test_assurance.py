"""Assurance levels: a session below the level its agency requires sees every record withheld
with the reason, and steps up through its provider; the local log-in counts as configured."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from coordination.accounts.providers.assurance import (
    Assurance,
    SessionAssurance,
    attach_session_assurance,
    level_of_acr,
)
from coordination.accounts.providers.models import IdentityProvider
from coordination.models import AgencyKind, Child, User
from secrecy.models import Record
from secrecy.policy.engine import WithheldReason
from secrecy.records import reveal, services
from tests.conftest import Council3, log_in
from tests.coordination.providers.conftest import (
    LOA3,
    RunningProvider,
    bind_provider,
    linked,
    sign_in,
)
from tests.secrecy.test_reveal import child as child  # a fixture, re-exported

SOCIAL = AgencyKind.SOCIAL_SERVICES
MARKER = "TILLIT-MARKÖR-5c1d"
REASON = "Inloggningen har för låg tillitsnivå för att visa uppgifter om barn"


@pytest.fixture
def record(db: Session, world: Council3, child: Child) -> Record:
    return services.create_record(db, world.members[SOCIAL], child, "family", MARKER)


@pytest.fixture
def idp(
    db: Session, admin: User, world: Council3, openid_provider: RunningProvider
) -> IdentityProvider:
    return linked(db, admin, world, SOCIAL, bind_provider, openid_provider, "soc-1")


@pytest.fixture
def require_loa3(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "ASSURANCE_REQUIRED_FOR_RECORDS", "loa3")


def test_acr_values_map_to_levels() -> None:
    assert level_of_acr("http://id.elegnamnden.se/loa/1.0/loa3") is Assurance.LOA3
    assert level_of_acr("http://id.elegnamnden.se/loa/1.0/eidas-sub") is Assurance.LOA3
    assert level_of_acr("http://eidas.europa.eu/LoA/substantial") is Assurance.LOA3
    assert level_of_acr("http://eidas.europa.eu/LoA/low") is Assurance.LOA2
    assert level_of_acr("urn:entra:mfa", {"urn:entra:mfa": "loa3"}) is Assurance.LOA3
    assert level_of_acr("urn:unknown") is None
    assert level_of_acr(None) is None


def test_the_one_door_withholds_everything_below_the_level(
    db: Session, world: Council3, record: Record
) -> None:
    owner = world.members[SOCIAL]
    attach_session_assurance(owner, SessionAssurance(Assurance.LOA2, Assurance.LOA3))
    result = reveal.reveal_one(db, owner, record)
    assert isinstance(result, reveal.Withheld)
    assert result.reason_code is WithheldReason.LOW_ASSURANCE
    assert result.reason == REASON
    assert reveal.readable_record_ids(db, owner, [record]) == set()
    attach_session_assurance(owner, SessionAssurance(Assurance.LOA3, Assurance.LOA3))
    assert isinstance(reveal.reveal_one(db, owner, record), reveal.Revealed)


def test_a_provider_log_in_below_the_level_sees_the_reason_and_steps_up(
    app: Flask,
    db: Session,
    world: Council3,
    idp: IdentityProvider,
    child: Child,
    record: Record,
    require_loa3: None,
) -> None:
    client = app.test_client()
    assert sign_in(client, idp, "soc-1").headers["Location"] == "/"  # loa2
    page = client.get(f"/children/{child.id}")
    assert page.status_code == 200
    assert MARKER not in page.text
    assert REASON in page.text
    assert "/login/step-up" in page.text
    # Step up: the provider is asked for loa3, the same subject signs in with it.
    answer = sign_in(
        client, idp, "soc-1", acr=LOA3, start=f"/login/step-up?next=/children/{child.id}"
    )
    assert answer.headers["Location"] == f"/children/{child.id}"
    page = client.get(f"/children/{child.id}")
    assert MARKER in page.text
    assert REASON not in page.text


def test_step_up_asks_the_provider_for_the_required_level(
    app: Flask, world: Council3, idp: IdentityProvider, require_loa3: None
) -> None:
    client = app.test_client()
    sign_in(client, idp, "soc-1")
    started = client.get("/login/step-up")
    query = parse_qs(urlsplit(started.headers["Location"]).query)
    assert query["acr_values"] == [LOA3]


def test_the_agency_s_level_applies_on_top_of_the_deployment_s(
    app: Flask, db: Session, world: Council3, child: Child, record: Record
) -> None:
    owner = world.members[SOCIAL]
    client = log_in(app.test_client(), owner)
    with client.session_transaction() as cookie:
        cookie["auth_method"] = "password+totp"
    assert MARKER in client.get(f"/children/{child.id}").text  # no level required
    world.agencies[SOCIAL].required_assurance = "loa3"
    db.flush()
    page = client.get(f"/children/{child.id}")
    assert MARKER not in page.text and REASON in page.text
    # Without a provider there is no stepping up, only the message why.
    step = client.get("/login/step-up")
    assert step.headers["Location"] == "/"
    assert "Din inloggning kan inte ge en högre tillitsnivå" in client.get("/").text


def test_the_local_log_in_counts_as_the_configured_level(
    app: Flask,
    db: Session,
    world: Council3,
    child: Child,
    record: Record,
    require_loa3: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = log_in(app.test_client(), world.members[SOCIAL])
    with client.session_transaction() as cookie:
        cookie["auth_method"] = "password+totp"
    assert REASON in client.get(f"/children/{child.id}").text  # loa2 by default
    monkeypatch.setitem(app.config, "LOCAL_TOTP_ASSURANCE", "loa3")
    assert MARKER in client.get(f"/children/{child.id}").text


def test_an_api_token_counts_as_the_local_level(
    app: Flask,
    db: Session,
    world: Council3,
    child: Child,
    record: Record,
    require_loa3: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from coordination.tokens.services import Scope, create_token

    issued = create_token(db, world.members[SOCIAL], "test", {Scope.READ})
    db.flush()
    headers = {"Authorization": f"Bearer {issued.secret}"}
    answer = app.test_client().get(f"/api/v1/children/{child.id}", headers=headers)
    assert answer.status_code == 200, answer.text
    assert MARKER not in answer.text and REASON in answer.text
    monkeypatch.setitem(app.config, "LOCAL_TOTP_ASSURANCE", "loa3")
    answer = app.test_client().get(f"/api/v1/children/{child.id}", headers=headers)
    assert MARKER in answer.text
