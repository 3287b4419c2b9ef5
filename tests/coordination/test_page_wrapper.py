"""The page wrapper (``coordination.web.page``): one commit after the view, a rollback on any
error, every refusal logged once, refused forms shown again with their messages.

The probe views run on an app of their own (the session's app is shared by every test and its
crawl tests walk its routes), on the same database and inside the same rolled-back
transaction as every other test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask, flash, redirect, render_template_string
from flask.testing import FlaskClient
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from wtforms import StringField
from wtforms.validators import DataRequired

from app import create_app
from coordination.audit.log import AuditEvent, AuditTag, record_event
from coordination.db import db_session, get_database
from coordination.errors import NotFound, PermissionDenied, ServiceError
from coordination.models import Agency, AgencyKind, User
from coordination.web.page import (
    INVALID_FORM,
    PageBlueprint,
    actor,
    on_refusal,
    require_valid,
)
from tests.conftest import log_in, make_test_config
from tests.factories import AgencyFactory, UserFactory

PROBE = "Probemyndigheten"

probe = PageBlueprint("page_probe", __name__, url_prefix="/page-probe")


class NameForm(FlaskForm):
    name = StringField("Namn", validators=[DataRequired(message="Ange ett namn.")])


def _add_agency() -> None:
    db_session().add(Agency(kind=AgencyKind.OTHER, name=PROBE))
    db_session().flush()


@probe.page("/commit", methods=["POST"])
def commits() -> ResponseReturnValue:
    _add_agency()
    return "saved"


@probe.page("/crash", methods=["POST"])
def crashes() -> ResponseReturnValue:
    _add_agency()
    raise RuntimeError("the view failed")


@probe.page("/denied/<int:agency_id>")
def denied(agency_id: int) -> ResponseReturnValue:
    _add_agency()
    raise PermissionDenied(object_type="agency", object_ids=[agency_id])


@probe.page("/unknown/<int:agency_id>")
def unknown(agency_id: int) -> ResponseReturnValue:
    raise NotFound(object_type="agency", object_ids=[agency_id])


def _render_form(form: NameForm, message: str | None) -> str:
    # The page shown again records its view, as a real page would: that event is kept.
    record_event(db_session(), actor(), AuditTag.ACCESS_DENIED, details={"probe": "render"})
    return render_template_string(
        "top={{ message }}|field={{ form.name.errors|join(',') }}", form=form, message=message
    )


@probe.page("/form", methods=["POST"])
def refused_form() -> ResponseReturnValue:
    form = NameForm()
    on_refusal(form, lambda message: _render_form(form, message))
    require_valid(form)
    _add_agency()
    raise ServiceError("Namnet är upptaget.", field="name")


@probe.page("/stale", methods=["POST"])
def stale() -> ResponseReturnValue:
    on_refusal(redirect_to="/page-probe/back")
    _add_agency()
    raise StaleDataError("version mismatch")


@probe.page("/stale-form", methods=["POST"])
def stale_form() -> ResponseReturnValue:
    form = NameForm()
    on_refusal(form, lambda message: _render_form(form, message))
    _add_agency()
    raise StaleDataError("version mismatch")


@probe.page("/taken", methods=["POST"])
def taken() -> ResponseReturnValue:
    """A unique key another request took first (the name here, a next number in the product)."""
    form = NameForm()
    on_refusal(form, lambda message: _render_form(form, message))
    _add_agency()
    _add_agency()
    return "saved twice"


@probe.page("/defect", methods=["POST"])
def defect() -> ResponseReturnValue:
    db_session().add(Agency(kind=AgencyKind.OTHER, name=None))
    db_session().flush()
    return "saved"


@probe.page("/refused-redirect", methods=["POST"])
def refused_redirect() -> ResponseReturnValue:
    on_refusal(redirect_to="/page-probe/back")
    _add_agency()
    raise ServiceError("Det gick inte att spara.")


@probe.page("/flash-and-go", methods=["POST"])
def flash_and_go() -> ResponseReturnValue:
    flash("ok", "success")
    return redirect("/page-probe/back")


@probe.page("/public", public=True)
def public_page() -> ResponseReturnValue:
    return "open to all"


@pytest.fixture(scope="module")
def app(app: Flask, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """This module's app: the product's routes plus the probes (the session's app has
    migrated the database already). Its engine is closed with it: a pooled connection left
    for the garbage collector warns in whichever later test it is collected."""
    probe_app = create_app(make_test_config(database_url))
    probe_app.instance_path = str(tmp_path_factory.mktemp("probe-instance"))
    probe_app.register_blueprint(probe)
    yield probe_app
    get_database(probe_app).engine.dispose()


@pytest.fixture
def user(db: Session) -> User:
    return UserFactory(agency=AgencyFactory(kind=AgencyKind.OTHER, name="Provverket"))


@pytest.fixture
def client(app: Flask, user: User) -> FlaskClient:
    return log_in(app.test_client(), user)


@pytest.fixture
def commits_counted(db: Session) -> Iterator[list[Session]]:
    """The sessions committed while the test runs (the test's own session excluded)."""
    committed: list[Session] = []

    def count(session: Session) -> None:
        if session is not db:
            committed.append(session)

    event.listen(Session, "after_commit", count)
    yield committed
    event.remove(Session, "after_commit", count)


def without_csrf_tokens(page: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', page)


def probe_agencies(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Agency).where(Agency.name == PROBE)) or 0


def denied_events(db: Session) -> list[AuditEvent]:
    return list(
        db.scalars(
            select(AuditEvent)
            .where(AuditEvent.tag == AuditTag.ACCESS_DENIED)
            .order_by(AuditEvent.seq)
        )
    )


def test_the_view_is_committed_once(
    client: FlaskClient, db: Session, commits_counted: list[Session]
) -> None:
    response = client.post("/page-probe/commit")
    assert response.status_code == 200
    assert len(commits_counted) == 1
    assert probe_agencies(db) == 1


def test_a_view_that_raised_is_rolled_back(
    app: Flask, client: FlaskClient, db: Session, commits_counted: list[Session]
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = client.post("/page-probe/crash")
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500
    assert commits_counted == []
    assert probe_agencies(db) == 0


def test_permission_denied_is_the_403_page_and_one_logged_event(
    client: FlaskClient, db: Session, user: User
) -> None:
    response = client.get("/page-probe/denied/42")
    assert response.status_code == 403
    assert 'lang="sv"' in response.text
    [event] = denied_events(db)
    assert (event.actor_user_id, event.object_type, event.object_ids) == (user.id, "agency", [42])
    assert probe_agencies(db) == 0, "what the view did before the refusal is not kept"


def test_an_unknown_object_is_answered_like_a_forbidden_one(
    client: FlaskClient, db: Session
) -> None:
    forbidden = client.get("/page-probe/denied/42")
    unknown = client.get("/page-probe/unknown/42")
    assert forbidden.status_code == unknown.status_code == 403
    # The pages differ only in the address they were asked for (the language switch's "next")
    # and in the CSRF tokens, which carry the second they were signed in.
    assert without_csrf_tokens(forbidden.text.replace("/denied/", "/unknown/")) == (
        without_csrf_tokens(unknown.text)
    )
    assert [(e.object_type, e.object_ids) for e in denied_events(db)] == [
        ("agency", [42]),
        ("agency", [42]),
    ]


def test_a_service_error_shows_the_form_again_with_the_message_on_its_field(
    client: FlaskClient, db: Session
) -> None:
    response = client.post("/page-probe/form", data={"name": "Skolan"})
    assert response.status_code == 422
    assert response.text == "top=None|field=Namnet är upptaget."
    assert probe_agencies(db) == 0
    [shown] = denied_events(db)
    assert shown.details == {"probe": "render"}, "the view events of the page shown again stay"


def test_an_invalid_form_is_refused_with_its_field_messages(
    client: FlaskClient, db: Session
) -> None:
    response = client.post("/page-probe/form", data={"name": ""})
    assert response.status_code == 422
    assert response.text == f"top={INVALID_FORM}|field=Ange ett namn."
    assert probe_agencies(db) == 0


def test_a_stale_version_is_the_conflict_message(client: FlaskClient, db: Session) -> None:
    response = client.post("/page-probe/stale", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"] == "/page-probe/back"
    with client.session_transaction() as session:
        messages = [str(text) for _, text in session["_flashes"]]
    assert messages == [
        "Någon annan har ändrat uppgifterna sedan du öppnade formuläret. "
        "Ladda om sidan och gör ändringen igen."
    ]
    assert probe_agencies(db) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/page-probe/stale-form",  # a stale version
        "/page-probe/taken",  # a unique key a concurrent write took first
    ],
)
def test_a_lost_race_shows_the_form_again_as_a_conflict(
    client: FlaskClient, db: Session, path: str
) -> None:
    response = client.post(path, data={"name": "Skolan"})
    assert response.status_code == 409
    assert response.text.startswith("top=Någon annan har ändrat uppgifterna")
    assert probe_agencies(db) == 0


def test_any_other_integrity_error_is_a_defect_not_a_conflict(client: FlaskClient) -> None:
    with pytest.raises(IntegrityError):
        client.post("/page-probe/defect")


def test_a_refusal_with_a_redirect_flashes_the_message(client: FlaskClient, db: Session) -> None:
    response = client.post("/page-probe/refused-redirect")
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert [(c, str(t)) for c, t in session["_flashes"]] == [
            ("error", "Det gick inte att spara.")
        ]
    assert probe_agencies(db) == 0


def test_a_visitor_who_is_not_logged_in_is_sent_to_log_in(app: Flask, db: Session) -> None:
    anonymous = app.test_client()
    for method, url in (("get", "/page-probe/denied/1"), ("post", "/page-probe/commit")):
        response = getattr(anonymous, method)(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    assert probe_agencies(db) == 0
    assert denied_events(db) == []
    assert anonymous.get("/page-probe/public").text == "open to all"


# The JSON API and SCIM (coordination.accounts.scim.protocol) have their own wrappers; the API's
# documentation pages are not HTML views of a feature; the operations probes (coordination.ops)
# answer JSON or text without a session.
NOT_PAGES = ("/api/v1", "/api/docs", "/scim/v2", "/healthz", "/readyz", "/metrics")


def test_every_html_endpoint_runs_through_the_wrapper(app: Flask) -> None:
    """The finish line of issue 14: every page of every package is declared with
    ``PageBlueprint.page``."""
    unwrapped = sorted(
        f"{rule.endpoint} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and not rule.endpoint.endswith(".static")
        and not rule.rule.startswith(NOT_PAGES)
        and not getattr(app.view_functions[rule.endpoint], "samverkan_page", False)
    )
    assert unwrapped == []


def test_a_nul_character_in_a_query_or_form_value_is_a_400(app: Flask) -> None:
    """PostgreSQL's text cannot hold NUL: it is refused before any view reads it."""
    client = app.test_client()
    assert client.get("/login?next=%00").status_code == 400
    assert client.post("/login", data={"email": "a\x00b", "password": "x"}).status_code == 400
    assert client.get("/login?next=/").status_code == 200
    # The API answers as its OpenAPI document says of a query value it cannot take: 422.
    refused = client.get("/api/v1/legal-bases?cursor=%00")
    assert refused.status_code == 422
    assert refused.mimetype == "application/problem+json"
