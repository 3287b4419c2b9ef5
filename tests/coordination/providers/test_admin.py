"""The administrator's sign-in pages: a provider is checked against its discovery document when
saved, with a Swedish message and nothing saved when the check fails."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.accounts.providers.models import IdentityProvider, UserIdentity
from coordination.accounts.providers.services import ProviderTag
from coordination.audit.log import AuditEvent
from coordination.models import AgencyKind, Role
from tests.conftest import Council3, log_in
from tests.coordination.providers.conftest import CLIENT_ID, SECRET_ENV, RunningProvider
from tests.factories import UserFactory

POLICE = AgencyKind.POLICE


def form(provider: RunningProvider, **changes: Any) -> dict[str, Any]:
    data = {
        "display_name": "Polisen",
        "issuer": provider.issuer,
        "client_id": CLIENT_ID,
        "client_secret_env": SECRET_ENV,
        "claim_subject": "sub",
        "claim_name": "name",
        "claim_email": "email",
        "claim_acr": "acr",
        "acr_levels": "urn:polisen:stark = loa3",
        "requested_acr": "",
        "minimum_assurance": "",
        "enabled": "y",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def providers(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(IdentityProvider)) or 0


def test_saving_checks_the_discovery_document(
    db: Session, admin_client: FlaskClient, world: Council3, openid_provider: RunningProvider
) -> None:
    agency = world.agencies[POLICE]
    answer = admin_client.post(f"/admin/sign-in/{agency.id}", data=form(openid_provider))
    assert answer.status_code == 302, answer.text
    saved = db.scalars(select(IdentityProvider)).one()
    assert saved.agency_id == agency.id
    assert saved.client_secret_env == SECRET_ENV
    assert saved.discovered["token_endpoint"] == openid_provider.issuer + "/token"
    assert saved.end_session_endpoint == openid_provider.issuer + "/logout"
    assert saved.acr_levels == {"urn:polisen:stark": "loa3"}
    event = db.scalars(select(AuditEvent).where(AuditEvent.tag == str(ProviderTag.CREATE))).one()
    assert event.details["secret_env"] == SECRET_ENV
    assert openid_provider.secret not in str(event.details)
    page = admin_client.get(f"/admin/sign-in/{agency.id}")
    assert f"/login/provider/{saved.id}/callback" in page.text
    # Changed with the version it was loaded with.
    answer = admin_client.post(
        f"/admin/sign-in/{agency.id}",
        data=form(openid_provider, display_name="Polisen Syd", version=str(saved.version)),
    )
    assert answer.status_code == 302
    db.refresh(saved)
    assert saved.display_name == "Polisen Syd"
    stale = admin_client.post(
        f"/admin/sign-in/{agency.id}", data=form(openid_provider, version="1")
    )
    assert stale.status_code == 409  # the wrapper's conflict page


@pytest.mark.parametrize(
    ("changes", "mode", "message"),
    [
        ({}, {"discovery_issuer": "http://127.0.0.1:1/annan"}, "uppger utfärdaren"),
        ({"issuer": "http://127.0.0.1:1"}, {}, "kunde inte hämtas"),
        ({"issuer": "http://idp.example.org"}, {}, "måste börja med https://"),
        ({"client_secret_env": "SAMVERKAN_NOT_SET_ANYWHERE"}, {}, "är inte satt på servern"),
        ({"client_secret_env": "lower-case"}, {}, "versaler, siffror och understreck"),
        ({"acr_levels": "<b>x</b> = loa9"}, {}, "Raden ”&lt;b&gt;x&lt;/b&gt; = loa9” ska vara"),
    ],
    ids=["wrong-issuer", "unreachable", "not-https", "secret-missing", "bad-name", "bad-acr"],
)
def test_a_provider_that_fails_the_check_is_not_saved(
    db: Session,
    admin_client: FlaskClient,
    world: Council3,
    openid_provider: RunningProvider,
    changes: dict[str, str],
    mode: dict[str, str],
    message: str,
) -> None:
    if mode:
        openid_provider.set_mode(**mode)
    answer = admin_client.post(
        f"/admin/sign-in/{world.agencies[POLICE].id}", data=form(openid_provider, **changes)
    )
    assert answer.status_code == 422
    assert message in answer.text
    assert providers(db) == 0


def test_only_administrators_reach_the_sign_in_pages(
    app: Any, world: Council3, openid_provider: RunningProvider
) -> None:
    member = log_in(app.test_client(), world.members[POLICE])
    agency_id = world.agencies[POLICE].id
    assert member.get("/admin/sign-in").status_code == 403
    assert member.get(f"/admin/sign-in/{agency_id}").status_code == 403
    assert member.post(f"/admin/sign-in/{agency_id}", data=form(openid_provider)).status_code == 403


def test_the_agency_s_level_and_a_link_are_set_on_the_page(
    db: Session, admin_client: FlaskClient, world: Council3, openid_provider: RunningProvider
) -> None:
    agency = world.agencies[POLICE]
    admin_client.post(f"/admin/sign-in/{agency.id}", data=form(openid_provider))
    answer = admin_client.post(
        f"/admin/sign-in/{agency.id}/assurance",
        data={"required_assurance": "loa3", "version": str(agency.version)},
    )
    assert answer.status_code == 302
    db.refresh(agency)
    assert agency.required_assurance == "loa3"
    officer = world.members[POLICE]
    answer = admin_client.post(
        f"/admin/sign-in/{agency.id}/identities", data={"user_id": officer.id, "subject": "p-1"}
    )
    assert answer.status_code == 302
    assert db.scalars(select(UserIdentity)).one().user_id == officer.id
    # Another agency's user cannot be linked; nor the same subject twice.
    other = world.members[AgencyKind.SCHOOL]
    answer = admin_client.post(
        f"/admin/sign-in/{agency.id}/identities", data={"user_id": other.id, "subject": "p-2"}
    )
    assert answer.status_code == 422 and "en annan myndighet" in answer.text
    second = UserFactory(agency=agency, email="p2@example.com", roles={Role.MEMBER})
    db.flush()
    answer = admin_client.post(
        f"/admin/sign-in/{agency.id}/identities", data={"user_id": second.id, "subject": "p-1"}
    )
    assert answer.status_code == 422 and "redan kopplad" in answer.text
    assert db.scalar(select(func.count()).select_from(UserIdentity)) == 1
    overview = admin_client.get("/admin/sign-in")
    assert "Polisen" in overview.text
