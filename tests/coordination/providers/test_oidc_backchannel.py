"""OpenID Connect Back-Channel Logout: the real test OpenID provider makes the logout token
(signed with its key); posted to the app, it ends the sessions it names (``sid``, ``sub``), once;
a bad token, one without a ``jti`` or a replayed one ends nothing."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from coordination.accounts.providers import logout_views
from coordination.accounts.providers.logout_tokens import jti_hash, prune_logout_tokens
from coordination.accounts.providers.models import AcceptedLogoutToken, IdentityProvider
from coordination.accounts.providers.oidc import LOGOUT_TOKEN_WINDOW
from coordination.accounts.providers.services import ProviderTag, link_identity
from coordination.accounts.sessions import EndReason, UserSession
from coordination.audit.log import AuditEvent
from coordination.db import get_database, utcnow
from coordination.models import Agency, AgencyKind, Role, User
from tests.conftest import Council3, audit_events
from tests.coordination.providers.conftest import (
    RunningProvider,
    bind_provider,
    linked,
    open_rows,
    sign_in,
)
from tests.factories import PASSWORD_HASH

POLICE = AgencyKind.POLICE
SCHOOL = AgencyKind.SCHOOL


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
        {"no_jti": True},
    ],
    ids=[
        "bad-signature",
        "wrong-issuer",
        "other-audience",
        "no-event",
        "nonce",
        "old",
        "no-sub",
        "no-jti",
    ],
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


def refusal_reasons(db: Session) -> list[str]:
    return [e.details["reason"] for e in audit_events(db, ProviderTag.PROVIDER_LOGOUT_REFUSED)]


def test_a_logout_token_without_jti_is_refused_as_such(
    app: Flask,
    db: Session,
    police_idp: IdentityProvider,
    openid_provider: RunningProvider,
) -> None:
    client = signed_in(app, police_idp)
    token = logout_token(openid_provider, sub="polis-123", no_jti=True)
    assert post(app, police_idp, token).status_code == 400
    assert client.get("/").status_code == 200
    assert refusal_reasons(db) == ["no_jti"]


def test_the_same_logout_token_twice_ends_sessions_once(
    app: Flask,
    db: Session,
    world: Council3,
    police_idp: IdentityProvider,
    openid_provider: RunningProvider,
) -> None:
    """The second delivery fails on the unique key: a refusal, not a 500. Two deliveries at
    once, on two connections, are tested on PostgreSQL in
    ``test_two_deliveries_of_one_token_at_once_end_the_sessions_once``."""
    user = world.members[POLICE]
    signed_in(app, police_idp)
    token = logout_token(openid_provider, sub="polis-123", jti="jti-1")
    assert post(app, police_idp, token).status_code == 200
    assert open_rows(db, user) == []
    later = signed_in(app, police_idp)  # a new log-in the replay must not end
    answer = post(app, police_idp, token)
    assert answer.status_code == 400
    assert answer.get_json() == {"error": "invalid_request"}
    assert later.get("/").status_code == 200
    assert len(open_rows(db, user)) == 1
    (ended,) = audit_events(db, ProviderTag.PROVIDER_LOGOUT)
    assert ended.details["sessions_ended"] == 1
    assert refusal_reasons(db) == ["replayed"]
    (seen,) = db.scalars(select(AcceptedLogoutToken)).all()
    assert (seen.provider_id, seen.jti_hash) == (police_idp.id, jti_hash("jti-1"))
    assert len(seen.jti_hash) == 64 and "jti-1" not in seen.jti_hash


def test_another_jti_is_another_logout(
    app: Flask,
    db: Session,
    police_idp: IdentityProvider,
    openid_provider: RunningProvider,
) -> None:
    first = signed_in(app, police_idp)
    assert post(app, police_idp, logout_token(openid_provider, sub="polis-123")).status_code == 200
    assert first.get("/").status_code == 302
    second = signed_in(app, police_idp)
    assert post(app, police_idp, logout_token(openid_provider, sub="polis-123")).status_code == 200
    assert second.get("/").status_code == 302
    assert refusal_reasons(db) == []
    assert len(db.scalars(select(AcceptedLogoutToken)).all()) == 2


def test_a_jti_is_remembered_per_provider(
    app: Flask,
    db: Session,
    admin: User,
    world: Council3,
    police_idp: IdentityProvider,
    openid_provider: RunningProvider,
) -> None:
    school_idp = linked(db, admin, world, SCHOOL, bind_provider, openid_provider, "skola-1")
    token = logout_token(openid_provider, sub="polis-123", jti="shared")
    assert post(app, police_idp, token).status_code == 200
    assert post(app, school_idp, token).status_code == 200
    assert refusal_reasons(db) == []
    assert post(app, school_idp, token).status_code == 400
    assert refusal_reasons(db) == ["replayed"]


def test_a_jti_seen_before_the_window_is_no_replay(
    app: Flask,
    db: Session,
    police_idp: IdentityProvider,
    openid_provider: RunningProvider,
) -> None:
    """A row the nightly prune has not reached yet: the token it stood for can no longer be
    accepted, so a new token with its jti is not that token's replay."""
    stale = utcnow() - LOGOUT_TOKEN_WINDOW - dt.timedelta(seconds=1)
    db.add(AcceptedLogoutToken(provider_id=police_idp.id, jti_hash=jti_hash("old"), seen_at=stale))
    db.flush()
    client = signed_in(app, police_idp)
    token = logout_token(openid_provider, sub="polis-123", jti="old")
    assert post(app, police_idp, token).status_code == 200
    assert client.get("/").status_code == 302
    (seen,) = db.scalars(select(AcceptedLogoutToken)).all()
    assert seen.seen_at > stale


def test_the_nightly_prune_forgets_tokens_past_the_window(
    db: Session, police_idp: IdentityProvider
) -> None:
    now = utcnow()
    for jti, age in (
        ("past", LOGOUT_TOKEN_WINDOW + dt.timedelta(seconds=1)),
        ("inside", dt.timedelta(0)),
    ):
        db.add(
            AcceptedLogoutToken(
                provider_id=police_idp.id, jti_hash=jti_hash(jti), seen_at=now - age
            )
        )
    db.flush()
    assert prune_logout_tokens(db, now) == 1
    assert prune_logout_tokens(db, now) == 0
    assert [row.jti_hash for row in db.scalars(select(AcceptedLogoutToken))] == [jti_hash("inside")]


@contextmanager
def committed_police_provider(app: Flask, running: RunningProvider) -> Iterator[IdentityProvider]:
    """A police agency, its provider and its member linked as ``polis-123``, committed (each
    delivery reads them on a connection of its own, outside any test transaction); afterwards
    they go, with what was written about them: sessions, accepted tokens and audit events."""
    factory = sessionmaker(bind=get_database(app).engine, expire_on_commit=False)
    with factory() as session:
        start_seq = session.scalar(select(func.max(AuditEvent.seq))) or 0
    agency_id = None
    try:
        with factory() as session, session.begin():
            agency = Agency(kind=POLICE, name="Polisen (två leveranser)", active=True)
            admin, member = (
                User(agency=agency, email=email, display_name=name, password_hash=PASSWORD_HASH)
                for email, name in (("admin@polisen.example", "Admin"), ("p@polisen.example", "P"))
            )
            admin.set_roles({Role.ADMIN})
            member.set_roles({Role.MEMBER})
            session.add_all([agency, admin, member])
            session.flush()
            agency_id = agency.id
            provider = bind_provider(session, admin, agency, running)
            link_identity(session, admin, provider, member, "polis-123")
        yield provider
    finally:
        with factory() as session, session.begin():
            session.execute(delete(AuditEvent).where(AuditEvent.seq > start_seq))
            # The provider's links and accepted tokens go with it, the users' sessions with them.
            session.execute(delete(IdentityProvider).where(IdentityProvider.agency_id == agency_id))
            session.execute(delete(User).where(User.agency_id == agency_id))
            session.execute(delete(Agency).where(Agency.id == agency_id))


def an_insert_of_the_token_waits(engine: Engine, seconds: float = 10) -> bool:
    """Whether another connection's insert into accepted_logout_tokens comes to wait on a lock
    (the key this transaction inserted and has not committed) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with engine.connect() as connection:  # pg_stat_activity is read once per transaction
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                    " AND query LIKE 'INSERT INTO accepted_logout_tokens%'"
                )
            ).scalar()
        if waiting:
            return True
        time.sleep(0.01)
    return False


def test_two_deliveries_of_one_token_at_once_end_the_sessions_once(
    app: Flask, openid_provider: RunningProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The provider's token reaches two workers at the same moment. The first to insert its
    ``jti`` holds its transaction open until the second's insert waits on that key; the first
    commits, the second's insert then fails on the key and it is refused as replayed: a 400,
    not a 500, and the sessions end once."""
    engine = get_database(app).engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: the second delivery waits at its first write")
    with committed_police_provider(app, openid_provider) as provider:
        for _ in range(2):
            assert sign_in(app.test_client(), provider, "polis-123").headers["Location"] == "/"
        token = logout_token(openid_provider, sub="polis-123", jti="at-once")
        remember = logout_views.remember_logout_token
        waited: list[bool] = []

        def remember_then_hold(session: Session, *args: Any) -> None:
            remember(session, *args)
            waited.append(an_insert_of_the_token_waits(engine))

        monkeypatch.setattr(logout_views, "remember_logout_token", remember_then_hold)
        barrier = threading.Barrier(2)
        answers: dict[int, Any] = {}

        def deliver(worker: int) -> None:  # a client and a database connection of its own
            barrier.wait(timeout=10)
            try:
                answers[worker] = post(app, provider, token)
            except Exception as exc:  # noqa: BLE001 - shown by the assertion below
                answers[worker] = exc

        workers = [threading.Thread(target=deliver, args=(n,)) for n in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)
        failed = [a for a in answers.values() if isinstance(a, Exception)]
        assert len(answers) == 2 and not failed, failed
        assert sorted(a.status_code for a in answers.values()) == [200, 400]
        assert waited == [True]  # the second delivery really waited for the first's commit
        refused = next(a for a in answers.values() if a.status_code == 400)
        assert refused.get_json() == {"error": "invalid_request"}
        with sessionmaker(bind=engine)() as session:
            assert (
                session.scalars(
                    select(UserSession.end_reason).where(
                        UserSession.identity_provider_id == provider.id
                    )
                ).all()
                == [EndReason.PROVIDER_LOGOUT] * 2
            )
            (ended,) = audit_events(session, ProviderTag.PROVIDER_LOGOUT)
            assert ended.details["sessions_ended"] == 2
            assert refusal_reasons(session) == ["replayed"]
            (seen,) = session.scalars(select(AcceptedLogoutToken)).all()
            assert (seen.provider_id, seen.jti_hash) == (provider.id, jti_hash("at-once"))
