"""Tokens, errors, paging and the OpenAPI document, through the ground-floor endpoints."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable

import time_machine
from flask import Flask
from openapi_spec_validator import validate
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.api.core import decode_offset, encode_offset
from coordination.api.openapi import document, openapi_path, operations
from coordination.audit.log import AuditEvent, AuditTag
from coordination.models import AgencyKind
from coordination.tokens.services import ApiToken, ApiTokenTag, Scope, hash_secret
from tests import factories
from tests.api.conftest import Api, field_errors, problem
from tests.conftest import Council3, log_in


def test_openapi_document_is_valid_and_matches_the_url_map(app: Flask) -> None:
    doc = document(app)
    validate(doc)
    rules = {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint.split(".")[0] != "api_docs"
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, methods in doc["paths"].items() for method in methods}
    assert rules == documented
    assert len(operations(app)) == len(documented)


def test_docs_page_lists_every_operation(app: Flask, db: Session) -> None:
    html = app.test_client().get("/api/v1/docs").get_data(as_text=True)
    for path, methods in document(app)["paths"].items():
        for method in methods:
            assert f"{method.upper()} {path}" in html


def test_no_token_is_401_with_a_challenge(anonymous_api: Api, world: Council3) -> None:
    response = anonymous_api.get("/api/v1/me")
    problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_session_cookie_is_not_enough(app: Flask, world: Council3) -> None:
    client = log_in(app.test_client(), world.members[AgencyKind.POLICE])
    problem(client.get("/api/v1/me"), 401)


def test_me_names_the_user_and_the_token(api_for: Callable[..., Api], world: Council3) -> None:
    body = api_for(AgencyKind.POLICE, Scope.READ).get("/api/v1/me").get_json()
    assert body["id"] == world.members[AgencyKind.POLICE].id
    assert body["agency"]["kind"] == "police"
    assert body["token_scopes"] == ["read"]


def test_unknown_wrong_and_revoked_tokens_are_refused_alike(
    app: Flask, db: Session, world: Council3, issue_token: Callable[..., str]
) -> None:
    user = world.members[AgencyKind.SCHOOL]
    secret = issue_token(user)
    client = app.test_client()
    ok = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert ok.status_code == 200
    details = set()
    for presented in (secret + "x", "svk_nonsense", "Basic abc", ""):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {presented}"})
        details.add(problem(response, 401)["detail"])
    token = db.scalars(select(ApiToken).where(ApiToken.secret_hash == hash_secret(secret))).one()
    token.revoked_at = token.created_at
    db.flush()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    details.add(problem(response, 401)["detail"])
    assert len(details) == 1  # no oracle: every refusal says the same


def test_token_expires(app: Flask, world: Council3, issue_token: Callable[..., str]) -> None:
    secret = issue_token(world.members[AgencyKind.SCHOOL], days=1)
    headers = {"Authorization": f"Bearer {secret}"}
    client = app.test_client()
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=1, minutes=1)):
        problem(client.get("/api/v1/me", headers=headers), 401)


def test_deactivated_user_token_stops_working(
    app: Flask, db: Session, world: Council3, issue_token: Callable[..., str]
) -> None:
    user = world.members[AgencyKind.LEISURE]
    secret = issue_token(user)
    user.active = False
    db.flush()
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    problem(response, 401)


def test_councils_list_pages_and_one_council(
    api_for: Callable[..., Api], db: Session, world: Council3
) -> None:
    police = world.members[AgencyKind.POLICE]
    extra = [factories.CouncilFactory(name=f"Råd {n}", code=f"R{n}") for n in range(3)]
    for council in extra:
        factories.MembershipFactory(council=council, user=police)
    db.flush()
    api = api_for(AgencyKind.POLICE)
    first = api.get("/api/v1/councils?limit=2").get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = api.get(f"/api/v1/councils?limit=2&cursor={first['next_cursor']}").get_json()
    assert second["next_cursor"] is None
    names = [c["name"] for c in first["items"] + second["items"]]
    assert sorted(names) == sorted(["Testrådet", *(c.name for c in extra)])
    one = api.get(f"/api/v1/councils/{world.council.id}").get_json()
    assert one["code"] == "TEST" and one["my_role"] == "member"


def test_other_and_unknown_council_are_both_403_and_logged(
    api_for: Callable[..., Api], db: Session, world: Council3
) -> None:
    """Issue 14: an unknown council is answered like a forbidden one (it was 404, which told
    which ids exist); both refusals are logged."""
    other = factories.CouncilFactory(name="Annat råd", code="ANNAT")
    db.flush()
    api = api_for(AgencyKind.POLICE)
    forbidden = problem(api.get(f"/api/v1/councils/{other.id}"), 403)
    unknown = problem(api.get("/api/v1/councils/999999"), 403)
    assert forbidden == unknown
    denied = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == str(AuditTag.ACCESS_DENIED))
    ).all()
    assert [e.object_ids for e in denied if e.object_type == "council"] == [[other.id], [999999]]


def test_bad_query_is_422_with_field_errors(api_for: Callable[..., Api], world: Council3) -> None:
    api = api_for(AgencyKind.POLICE)
    # The cursor is refused with the rest of the query, before the view reads anything.
    errors = field_errors(api.get("/api/v1/councils?limit=0&cursor=@@@"))
    assert set(errors) == {"limit", "cursor"}
    infinite = base64.urlsafe_b64encode(b'{"o":Infinity}').decode()  # int() overflowed: 500
    negative = encode_offset(-1)
    huge = encode_offset(10**140)  # past any OFFSET the database takes: it answered 500
    fraction, boolean = (
        base64.urlsafe_b64encode(o).decode() for o in (b'{"o":1.5}', b'{"o":true}')
    )
    for cursor in ("not-a-cursor", infinite, negative, huge, fraction, boolean):
        errors = field_errors(api.get(f"/api/v1/councils?cursor={cursor}"))
        assert errors == {"cursor": "Ogiltig cursor."}, cursor
    errors = field_errors(api.get("/api/v1/councils?limit=abc"))
    assert errors["limit"] == "Ange ett heltal."


def test_cursor_round_trip() -> None:
    assert decode_offset(encode_offset(150)) == 150
    assert decode_offset(None) == 0


def test_unknown_api_path_and_method_are_problems(api_for: Callable[..., Api]) -> None:
    api = api_for(AgencyKind.POLICE)
    problem(api.get("/api/v1/nothing-here"), 404)
    response = api.client.delete("/api/v1/me", headers={"Authorization": f"Bearer {api.token}"})
    problem(response, 405)


def test_rate_limit_is_per_token(
    app: Flask, world: Council3, issue_token: Callable[..., str]
) -> None:
    app.config["API_RATE_LIMIT"] = "3 per minute"
    try:
        first = issue_token(world.members[AgencyKind.POLICE])
        second = issue_token(world.members[AgencyKind.POLICE])
        client = app.test_client()
        for _ in range(3):
            assert (
                client.get("/api/v1/me", headers={"Authorization": f"Bearer {first}"}).status_code
                == 200
            )
        limited = client.get("/api/v1/me", headers={"Authorization": f"Bearer {first}"})
        problem(limited, 429)
        assert "Retry-After" in limited.headers
        assert (
            client.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code
            == 200
        )
    finally:
        app.config["API_RATE_LIMIT"] = "600 per minute"


def test_token_page_creates_shows_once_and_revokes(
    app: Flask, db: Session, world: Council3
) -> None:
    user = world.members[AgencyKind.POLICE]
    client = log_in(app.test_client(), user)
    page = client.post(
        "/account/tokens/", data={"name": "Ärendesystemet", "lifetime_days": "30", "write": "y"}
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    token = db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    assert token.scope_set == {Scope.READ, Scope.WRITE}
    secret = html.split('id="new-token-value"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    assert hash_secret(secret) == token.secret_hash
    assert secret not in client.get("/account/tokens/").get_data(as_text=True)
    assert (
        app.test_client()
        .get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        .status_code
        == 200
    )
    client.post(f"/account/tokens/{token.id}/revoke")
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    problem(response, 401)
    tags = db.scalars(select(AuditEvent.tag).where(AuditEvent.object_type == "api_token")).all()
    assert tags == [str(ApiTokenTag.CREATE), str(ApiTokenTag.REVOKE)]


def test_token_page_refuses_bad_input_and_creates_nothing(
    app: Flask, db: Session, world: Council3
) -> None:
    user = world.members[AgencyKind.POLICE]
    client = log_in(app.test_client(), user)
    response = client.post("/account/tokens/", data={"name": "", "lifetime_days": "999"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Ange ett namn." in html and "Ange 1–366 dagar." in html
    assert db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all() == []


def test_someone_elses_token_cannot_be_revoked(
    app: Flask, db: Session, world: Council3, issue_token: Callable[..., str]
) -> None:
    issue_token(world.members[AgencyKind.POLICE])
    token = db.scalars(select(ApiToken)).one()
    client = log_in(app.test_client(), world.members[AgencyKind.SCHOOL])
    # Issue 14: refused like an unknown token (403, it was 404), and the refusal is logged.
    forbidden = client.post(f"/account/tokens/{token.id}/revoke")
    unknown = client.post("/account/tokens/999999/revoke")
    assert forbidden.status_code == unknown.status_code == 403
    db.refresh(token)
    assert token.revoked_at is None
    denied = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == str(AuditTag.ACCESS_DENIED))
    ).all()
    assert [(e.object_type, e.object_ids) for e in denied] == [
        ("api_token", [token.id]),
        ("api_token", [999999]),
    ]


def test_ids_beyond_the_integer_range_are_not_found(
    api_for: Callable[..., Api], client_for: Callable[[AgencyKind], object]
) -> None:
    api = api_for(AgencyKind.POLICE)
    problem(api.get(f"/api/v1/councils/{2**31}"), 404)
    page_client = client_for(AgencyKind.POLICE)
    assert page_client.get(f"/councils/{2**40}").status_code == 404  # type: ignore[attr-defined]


def test_a_body_nested_beyond_the_decoder_is_a_bad_request(
    api_for: Callable[..., Api], db: Session
) -> None:
    api = api_for(AgencyKind.POLICE)
    before = db.scalar(select(func.count()).select_from(AuditEvent))
    deep = "[" * 5000 + "]" * 5000
    response = api.patch(
        "/api/v1/actions/1", data=deep, headers={"Content-Type": "application/json"}
    )
    body = problem(response, 400)
    assert body["detail"] == "Innehållet är inte giltig JSON."
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == before
