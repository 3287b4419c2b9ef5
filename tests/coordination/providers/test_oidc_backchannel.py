"""OpenID Connect Back-Channel Logout: the real test OpenID provider makes the logout token
(signed with its key); posted to the app, it ends the sessions it names (``sid``, ``sub``), and a
bad token ends nothing."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from coordination.accounts.providers.models import IdentityProvider
from coordination.accounts.providers.services import ProviderTag
from coordination.accounts.sessions import EndReason
from coordination.models import AgencyKind
from tests.conftest import Council3, audit_events
from tests.coordination.providers.conftest import (
    RunningProvider,
    open_rows,
    sign_in,
)

POLICE = AgencyKind.POLICE


def signed_in(app: Flask, police_idp: IdentityProvider) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, police_idp, "polis-123").headers["Location"] == "/"
    assert client.get("/").status_code == 200
    return client


def logout_token(provider: RunningProvider, **wanted: Any) -> str:
    answer = requests.post(f"{provider.issuer}/test/logout-token", json=wanted, timeout=10)
    answer.raise_for_status()
    return str(answer.json()["logout_token"])


def provider_sessions(provider: RunningProvider) -> list[dict[str, str]]:
    result: list[dict[str, str]] = requests.get(
        f"{provider.issuer}/test/sessions", timeout=10
    ).json()
    return result


def post(app: Flask, police_idp: IdentityProvider, token: str) -> Any:
    return app.test_client().post(
        f"/login/provider/{police_idp.id}/backchannel-logout", data={"logout_token": token}
    )


def test_a_logout_token_with_sid_ends_that_session_only(
    app: Flask,
    db: Session,
    world: Council3,
    police_idp: IdentityProvider,
    openid_provider: RunningProvider,
) -> None:
    user = world.members[POLICE]
    first, second = signed_in(app, police_idp), signed_in(app, police_idp)
    sid = provider_sessions(openid_provider)[-2]["sid"]
    rows = {row.provider_session: row for row in open_rows(db, user)}
    assert set(rows) == {s["sid"] for s in provider_sessions(openid_provider)[-2:]}
    assert all(row.provider_subject == "polis-123" for row in rows.values())
    answer = post(app, police_idp, logout_token(openid_provider, sub="polis-123", sid=sid))
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    assert first.get("/").status_code == 302
    assert second.get("/").status_code == 200
    db.refresh(rows[sid])
    assert rows[sid].end_reason == EndReason.PROVIDER_LOGOUT
    (event,) = audit_events(db, ProviderTag.PROVIDER_LOGOUT)
    assert event.details == {
        "provider_ids": [police_idp.id],
        "channel": "oidc_backchannel",
        "sessions_ended": 1,
    }


def test_a_logout_token_with_sub_only_ends_every_session_of_the_subject(
    app: Flask,
    db: Session,
    world: Council3,
    police_idp: IdentityProvider,
    openid_provider: RunningProvider,
) -> None:
    clients = [signed_in(app, police_idp), signed_in(app, police_idp)]
    assert post(app, police_idp, logout_token(openid_provider, sub="polis-123")).status_code == 200
    assert [client.get("/").status_code for client in clients] == [302, 302]
    assert open_rows(db, world.members[POLICE]) == []


@pytest.mark.parametrize(
    "wanted",
    [
        {"bad_signature": True},
        {"wrong_issuer": True},
        {"aud": ["another-client"]},
        {"no_event": True},
        {"nonce": "n-1"},
        {"age": 3600},
        {"sub": None},
    ],
    ids=["bad-signature", "wrong-issuer", "other-audience", "no-event", "nonce", "old", "no-sub"],
)
def test_a_bad_logout_token_ends_nothing(
    app: Flask,
    db: Session,
    world: Council3,
    police_idp: IdentityProvider,
    openid_provider: RunningProvider,
    wanted: dict[str, Any],
) -> None:
    client = signed_in(app, police_idp)
    token = logout_token(openid_provider, **{"sub": "polis-123", **wanted})
    answer = post(app, police_idp, token)
    assert answer.status_code == 400
    assert answer.get_json() == {"error": "invalid_request"}
    assert client.get("/").status_code == 200
    assert len(open_rows(db, world.members[POLICE])) == 1
    (refused,) = audit_events(db, ProviderTag.PROVIDER_LOGOUT_REFUSED)
    assert refused.details["channel"] == "oidc_backchannel"
    assert refused.details["provider_id"] == police_idp.id
    assert audit_events(db, ProviderTag.PROVIDER_LOGOUT) == []


def test_a_token_for_another_kind_of_provider_is_refused(app: Flask, db: Session) -> None:
    answer = app.test_client().post(
        "/login/provider/999/backchannel-logout", data={"logout_token": "x.y.z"}
    )
    assert answer.status_code == 400
