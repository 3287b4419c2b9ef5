"""Single sign-on in the browser: a police officer signs in through the police's OpenID provider
(the test provider from tests/coordination/providers, a real process on loopback) and lands on
the start page; below the required assurance level every record is withheld with the reason
until they step up; logging out ends the provider's session too.

The installation is the demo (``flask demo``), with the demo's police provider pointed at the
test provider and switched on, and ``ASSURANCE_REQUIRED_FOR_RECORDS=loa3``. The demo's school
signs in through a SAML 2.0 IdP (the pysaml2 test IdP, also on loopback).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.clock import REAL
from tests.coordination.providers.running import (
    CLIENT_ID,
    LOA2,
    LOA3,
    RunningProvider,
    start_provider,
)
from tests.e2e.harness import SmtpSink, Stack, parse_demo_logins

SECRET_ENV = "SAMVERKAN_E2E_IDP_SECRET"
SUBJECT = "polis-e2e-1"
REASON = "Inloggningen har för låg tillitsnivå för att visa uppgifter om barn"

# Run inside the installation (its settings, its database): point the demo's police provider at
# the test provider, check it as the admin page does, link the demo officer, and print the id of
# a child whose records the officer's council holds.
BIND = """
import sys
from sqlalchemy import select
from app import create_app
from coordination.accounts.providers import oidc
from coordination.accounts.providers.models import IdentityProvider
from coordination.accounts.providers.services import ProviderFields, link_identity, update_provider
from coordination.db import get_database
from coordination.models import Child, CouncilMembership, Role, User, UserRole
from secrecy.models import Record

issuer, client_id, secret_env, subject = sys.argv[1:5]
app = create_app()
with app.app_context():
    session = get_database(app).session_factory()
    admin = session.scalars(select(User).join(UserRole).where(UserRole.role == Role.ADMIN)).first()
    officer = session.scalars(select(User).where(User.email.like("polis@%"))).one()
    provider = session.scalars(
        select(IdentityProvider).where(IdentityProvider.agency_id == officer.agency_id)
    ).one()
    fields = ProviderFields(
        display_name=provider.display_name, issuer=issuer, client_id=client_id,
        client_secret_env=secret_env, enabled=True,
    )
    update_provider(
        session, admin, provider, fields, oidc.check_discovery(issuer, 10), expected_version=None
    )
    link_identity(session, admin, provider, officer, subject)
    child_id = session.scalar(
        select(Child.id)
        .join(CouncilMembership, CouncilMembership.council_id == Child.council_id)
        .join(Record, Record.child_id == Child.id)
        .where(CouncilMembership.user_id == officer.id, Record.owner_agency_id == officer.agency_id)
        .limit(1)
    )
    session.commit()
    print(provider.display_name)
    print(child_id)
"""


@pytest.fixture(scope="module")
def provider() -> Iterator[RunningProvider]:
    process, running = start_provider(os.urandom(16).hex())
    try:
        yield running
    finally:
        process.terminate()
        process.wait(timeout=10)


# The school's SAML provider, bound and linked the same way.
BIND_SAML = """
import sys
from sqlalchemy import select
from app import create_app
from coordination.accounts.providers import saml
from coordination.accounts.providers.models import ProviderKind
from coordination.accounts.providers.services import ProviderFields, create_provider, link_identity
from coordination.db import get_database
from coordination.models import Role, User, UserRole

metadata_url, subject = sys.argv[1:3]
app = create_app()
with app.app_context():
    session = get_database(app).session_factory()
    admin = session.scalars(select(User).join(UserRole).where(UserRole.role == Role.ADMIN)).first()
    teacher = session.scalars(select(User).where(User.email.like("skola@%"))).one()
    fields = ProviderFields(
        kind=ProviderKind.SAML, display_name="Skolfederationen", issuer=metadata_url,
        client_id="", client_secret_env="", claims={},
    )
    provider = create_provider(
        session, admin, teacher.agency, fields, saml.check_metadata(metadata_url, None, 10)
    )
    link_identity(session, admin, provider, teacher, subject)
    session.commit()
"""
SAML_SUBJECT = "skola-e2e-1"


@pytest.fixture(scope="module")
def installation(provider: RunningProvider) -> Iterator[tuple[Stack, str, int, RunningProvider]]:
    with SmtpSink() as inbox:
        # The real clock: the providers run on it and sign their tokens and assertions with it.
        stack = Stack("e2e_sign_in", inbox, clock=REAL)
        saml_process, saml_idp = start_provider(
            "", "saml_idp", (f"{stack.base_url}/saml/metadata", f"{stack.base_url}/saml/acs")
        )
        try:
            stack.set_up(
                {
                    SECRET_ENV: provider.secret,
                    "AUTHLIB_INSECURE_TRANSPORT": "1",  # the provider is on loopback http
                    "SAMVERKAN_ASSURANCE_REQUIRED_FOR_RECORDS": "loa3",
                }
            )
            parse_demo_logins(stack.flask("demo").stdout)
            bound = stack.run("python", "-c", BIND, provider.issuer, CLIENT_ID, SECRET_ENV, SUBJECT)
            name, child_id = bound.stdout.strip().rsplit("\n", 1)
            stack.run("python", "-c", BIND_SAML, saml_idp.issuer + "/metadata", SAML_SUBJECT)
            stack.start()
            yield stack, name.strip(), int(child_id), saml_idp
        finally:
            stack.tear_down()
            saml_process.terminate()
            saml_process.wait(timeout=10)


def sign_in_at_provider(page: Page, acr: str) -> None:
    """The provider's own log-in page, as the officer fills it."""
    expect(page.get_by_role("heading", name="Testleverantörens inloggning")).to_be_visible()
    page.locator("#sub").fill(SUBJECT)
    page.locator("#name").fill("Polis Testsson")
    page.locator("#email").fill("polis.testsson@example.org")
    page.locator("#acr").select_option(acr)
    page.locator("#sign-in").click()


def test_sign_in_through_the_provider_assurance_and_log_out(
    browser: Browser,
    installation: tuple[Stack, str, int, RunningProvider],
    provider: RunningProvider,
) -> None:
    stack, organisation, child_id, _saml = installation
    context = browser.new_context(base_url=stack.base_url, locale="sv-SE")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_role("link", name=f"Logga in med {organisation}").click()
        sign_in_at_provider(page, LOA2)
        # The start page, signed in as the demo officer.
        page.wait_for_url(re.compile(re.escape(stack.base_url) + r"/$"))
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.locator(".user-name")).to_contain_text("Lokalpolisområde")
        # Below loa3: the banner, and the child's records withheld with the reason.
        expect(page.locator("[data-step-up]")).to_contain_text(REASON)
        page.goto(f"/children/{child_id}")
        main = page.get_by_role("main")
        expect(main).to_contain_text(REASON)
        # Step up: the provider is asked for loa3 and the officer signs in with it.
        page.get_by_role("link", name="Logga in med högre tillitsnivå").click()
        expect(page.locator("#acr")).to_have_value(LOA3)
        sign_in_at_provider(page, LOA3)
        page.wait_for_url(re.compile(rf"/children/{child_id}$"))
        expect(page.locator("[data-step-up]")).to_have_count(0)
        expect(page.get_by_role("main")).not_to_contain_text(REASON)
        # Log out: the local session ends, then the provider's (RP-initiated logout).
        page.get_by_role("button", name="Logga ut").click()
        page.wait_for_url(re.compile(r"/login"))
        assert provider.logouts()[-1]["client_id"] == CLIENT_ID
        page.goto(f"/children/{child_id}")
        expect(page).to_have_url(re.compile(r"/login"))
    finally:
        context.close()


def test_sign_in_through_a_saml_identity_provider(
    browser: Browser, installation: tuple[Stack, str, int, RunningProvider]
) -> None:
    stack = installation[0]
    context = browser.new_context(base_url=stack.base_url, locale="sv-SE")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_role("link", name="Logga in med Skolfederationen").click()
        expect(
            page.get_by_role("heading", name="SAML-testleverantörens inloggning")
        ).to_be_visible()
        page.locator("#sub").fill(SAML_SUBJECT)
        page.locator("#name").fill("Lärare Testsson")
        page.locator("#email").fill("larare@example.org")
        page.locator("#acr").select_option(LOA3)
        page.locator("#sign-in").click()
        # The IdP's HTTP-POST form, our hand-on page, and the start page.
        page.wait_for_url(re.compile(re.escape(stack.base_url) + r"/$"))
        expect(page.locator(".user-name")).to_be_visible()
        expect(page.locator("[data-step-up]")).to_have_count(0)  # loa3 meets the requirement
    finally:
        context.close()
