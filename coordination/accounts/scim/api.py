"""SCIM 2.0 endpoints for an agency's identity provider (RFC 7644): the discovery documents
and ``/Users`` (list with filter, read, create, replace, patch, delete). Groups are not
provisioned: roles and council memberships are given in Samverkan, never by a directory.

Configured per agency by an administrator (``coordination.accounts.scim.views``): the client's
token is shown once. docs/operations.md, "Avprovisionering med SCIM", says how to connect
Entra ID.
"""

from __future__ import annotations

from flask import Flask, Response, request, url_for
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    ETag,
    Filter,
    ListResponse,
    Patch,
    PatchOp,
    ResourceType,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
)
from scim2_models import User as ScimUser
from sqlalchemy.orm import Session

from coordination.accounts.scim import services
from coordination.accounts.scim.protocol import body, bp, client, operation, scim_response
from coordination.db import db_session
from coordination.web.params import BadParameter, bounded_int

PROVIDER = ScimProvider(models=[ScimUser], resource_types=[ResourceType.from_resource(ScimUser)])
CONFIG = ServiceProviderConfig(
    documentation_uri=None,
    patch=Patch(supported=True),
    bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
    filter=Filter(supported=True, max_results=services.MAX_PAGE),
    change_password=ChangePassword(supported=False),
    sort=Sort(supported=False),
    etag=ETag(supported=True),
    authentication_schemes=[
        AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken,
            name="Bearer token",
            description="A token an administrator creates for the agency's SCIM client.",
            primary=True,
        )
    ],
)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _location(user_id: int) -> str:
    return url_for("scim.get_user", user_id=str(user_id), _external=True)


def _user_response(found: services.Provisioned, status: int = 200) -> Response:
    resource = services.to_resource(found, _location(found.user.id))
    context = (
        Context.RESOURCE_CREATION_RESPONSE if status == 201 else Context.RESOURCE_QUERY_RESPONSE
    )
    return scim_response(
        resource.model_dump_json(scim_ctx=context, exclude_none=True),
        status,
        {"ETag": f'W/"{found.user.version}"', "Location": _location(found.user.id)},
    )


def _number(name: str, *, low: int, high: int) -> int | None:
    try:
        return bounded_int(request.args.get(name), low=low, high=high)
    except BadParameter as error:
        raise services.ScimRefusal(f"{name} is out of range.", 400, "invalidValue") from error


def _user_as_matched(session: Session, user_id: str) -> services.Provisioned:
    """The client's user to change, refused unless If-Match names its current version."""
    found = services.user_for(session, client(), user_id)
    services.check_version(found, request.headers.get("If-Match"))
    return found


@operation("/ServiceProviderConfig", ["GET"])
def service_provider_config() -> Response:
    return scim_response(CONFIG.model_dump_json(exclude_none=True))


@operation("/ResourceTypes", ["GET"])
def resource_types() -> Response:
    types: list[ResourceType] = list(PROVIDER.resource_types or [])
    listed = ListResponse[ResourceType](
        total_results=len(types), start_index=1, items_per_page=len(types), resources=types
    )
    return scim_response(listed.model_dump_json(exclude_none=True))


@operation("/Schemas", ["GET"])
def schemas() -> Response:
    found = list(PROVIDER.schemas)
    return scim_response(
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": len(found),
            "startIndex": 1,
            "itemsPerPage": len(found),
            "Resources": [s.model_dump(mode="json", exclude_none=True) for s in found],
        }
    )


@operation("/Users", ["GET"])
def list_users() -> Response:
    start = _number("startIndex", low=1, high=10**9) or 1
    count = _number("count", low=0, high=10**9)
    count = services.MAX_PAGE if count is None else min(count, services.MAX_PAGE)
    total, page = services.search(db_session(), client(), request.args.get("filter"), start, count)
    listed = ListResponse[ScimUser](
        total_results=total,
        start_index=start,
        items_per_page=len(page),
        resources=[services.to_resource(f, _location(f.user.id)) for f in page],
    )
    return scim_response(
        listed.model_dump_json(scim_ctx=Context.SEARCH_RESPONSE, exclude_none=True)
    )


@operation("/Users", ["POST"])
def create_user() -> Response:
    resource: ScimUser = ScimUser.model_validate(body(), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    found = services.create_user(db_session(), client(), resource)
    return _user_response(found, 201)


@operation("/Users/<user_id>", ["GET"])
def get_user(user_id: str) -> Response:
    return _user_response(services.user_for(db_session(), client(), user_id))


@operation("/Users/<user_id>", ["PUT"])
def replace_user(user_id: str) -> Response:
    session = db_session()
    found = _user_as_matched(session, user_id)
    wanted: ScimUser = ScimUser.model_validate(
        body(), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST
    )
    services.apply(session, client(), found, wanted)
    return _user_response(found)


@operation("/Users/<user_id>", ["PATCH"])
def patch_user(user_id: str) -> Response:
    session = db_session()
    found = _user_as_matched(session, user_id)
    patch = PatchOp[ScimUser].model_validate(body(), scim_ctx=Context.RESOURCE_PATCH_REQUEST)
    wanted = services.to_resource(found, _location(found.user.id))
    patch.patch(wanted)
    services.apply(session, client(), found, wanted)
    return _user_response(found)


@operation("/Users/<user_id>", ["DELETE"])
def delete_user(user_id: str) -> Response:
    session = db_session()
    found = services.user_for(session, client(), user_id)
    services.delete_user(session, client(), found)
    answer = Response(status=204)
    del answer.headers["Content-Type"]
    return answer
