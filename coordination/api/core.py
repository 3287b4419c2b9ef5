"""The JSON API's plumbing: token authentication, input parsing, errors, paging.

Every package declares its endpoints on an :class:`ApiBlueprint` with
``@bp.operation(rule, summary=...)`` on a view whose ``query`` and ``body`` parameters and
return are annotated with pydantic models. The decorator

* authenticates the ``Authorization: Bearer`` token (401) and checks its scope (403),
* makes the token's user the request's ``current_user`` for exactly this request (services,
  policy and reveal see the same user as on the pages; no session cookie is read or set),
* counts the call against the token's rate limit (429),
* parses the query string and the JSON body with pydantic (422 with one message per field),
* calls the view, commits once, and turns service refusals into problem details
  (403 permission, 409 conflict, 422 anything else),
* and records the operation, so the OpenAPI document is generated from the same declarations
  that run (``coordination.api.openapi``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

from flask import Blueprint, Response, current_app, g, request
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from coordination.accounts.providers.assurance import (
    SessionAssurance,
    attach_session_assurance,
    local_level,
    required_level,
)
from coordination.api.problems import ApiError, field_problems, invalid_field
from coordination.db import db_session
from coordination.errors import ConflictError, PermissionDenied, ServiceError, lost_a_race
from coordination.models import User
from coordination.tokens.services import ApiToken, Scope, authenticate_token, hash_secret
from coordination.web.converters import MAX_DB_ID
from coordination.web.extensions import csrf, limiter
from coordination.web.page import record_refusal

API_PREFIX = "/api/v1"
JSON_MEDIA_TYPE = "application/json"
AUTH_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="samverkan"'}

ViewFunc = Callable[..., Any]


DbId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]
"""An id in a query string or body: within the database's integer range (else 422)."""


class ApiModel(BaseModel):
    """Base of request bodies and query strings: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutModel(BaseModel):
    """Base of responses."""

    model_config = ConfigDict(from_attributes=True)


@dataclass
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    description: str
    tag: str
    scope: Scope | None  # None: public (no token)
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    response: Any
    status: int
    errors: tuple[int, ...] = field(default=())


class ApiBlueprint(Blueprint):
    """A blueprint under /api/v1 whose routes are declared with :meth:`operation`."""

    def __init__(self, name: str, import_name: str, *, tag: str, description: str) -> None:
        super().__init__(name, import_name, url_prefix=API_PREFIX)
        self.tag = tag
        self.tag_description = description
        self.operations: list[Operation] = []
        csrf.exempt(self)  # no cookies are accepted here, so there is nothing to forge

    def operation(
        self,
        rule: str,
        *,
        summary: str,
        method: str = "GET",
        description: str = "",
        scope: Scope | types.EllipsisType | None = ...,
        query: type[BaseModel] | None = None,
        body: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        errors: Sequence[int] = (),
    ) -> Callable[[ViewFunc], ViewFunc]:
        """Declare an operation. ``scope`` is what the token must allow; left out, it is
        :func:`scope_for_method`'s (read for GET, write for any other method); None makes the
        operation public. ``query``, ``body`` and ``response`` default to the view's own
        annotations (:func:`annotated_model`); name them only where those are more general."""
        if isinstance(scope, types.EllipsisType):
            scope = scope_for_method(method)

        def decorator(fn: ViewFunc) -> ViewFunc:
            query_model = query or annotated_model(fn, "query")
            body_model = body or annotated_model(fn, "body")
            response_model = response or annotated_model(fn, "return")
            codes = set(errors)
            if scope is not None:
                codes |= {401, 403, 429}
            if "<" in rule:
                codes.add(404)
            if query_model is not None or body_model is not None:
                codes.add(422)
            if body_model is not None:
                codes |= {400, 415}
            if method != "GET":
                # Every write may meet a concurrent one: the wrapper answers a lost race
                # (StaleDataError, ConflictError) with 409 on any of them.
                codes.add(409)
            operation = Operation(
                rule=API_PREFIX + rule,
                method=method,
                endpoint=f"{self.name}.{fn.__name__}",
                summary=summary,
                description=description or (fn.__doc__ or "").strip(),
                tag=self.tag,
                scope=scope,
                query=query_model,
                body=body_model,
                response=response_model,
                status=status,
                errors=tuple(sorted(codes)),
            )
            self.operations.append(operation)
            view = _wrap(fn, operation)
            if scope is not None:
                view = limiter.limit(_rate_limit, key_func=_rate_key)(view)
            self.add_url_rule(rule, endpoint=fn.__name__, view_func=view, methods=[method])
            return fn

        return decorator


def annotated_model(view: ViewFunc, name: str) -> Any:
    """What the view's parameter ``name`` (``query``, ``body``; ``return`` for its answer) is
    annotated with, or None: the model the wrapper parses into it or the response it returns."""
    hint = typing.get_type_hints(view).get(name)
    return None if hint is type(None) else hint


def scope_for_method(method: str) -> Scope:
    """The scope an operation needs unless it names one: GET reads, every other method writes."""
    return Scope.READ if method == "GET" else Scope.WRITE


def _rate_limit() -> str:
    return str(current_app.config["API_RATE_LIMIT"])


def _rate_key() -> str:
    """Per token: the SHA-256 of the whole token (what the database stores), never its
    visible prefix, which anyone can copy onto bogus tokens to exhaust the owner's limit.
    Requests without a token share their address's bucket."""
    presented = _presented_token()
    if presented:
        return "api-token:" + hash_secret(presented)
    return "api-addr:" + (request.remote_addr or "unknown")


def _presented_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def api_user() -> User:
    """The user whose token authenticated this request."""
    user: User = g.api_token.user
    return user


def api_token() -> ApiToken:
    token: ApiToken = g.api_token
    return token


def _authenticate(scope: Scope) -> None:
    presented = _presented_token()
    token = authenticate_token(db_session(), presented) if presented else None
    if token is None:
        raise ApiError(
            401,
            _l("Token saknas, är ogiltig, har gått ut eller har återkallats."),
            headers=AUTH_CHALLENGE,
        )
    if not token.allows(scope):
        raise ApiError(
            403,
            _l("Din token saknar behörigheten ”%(scope)s”.", scope=str(scope)),
            headers={
                "WWW-Authenticate": f'Bearer realm="samverkan", error="insufficient_scope", '
                f'scope="{scope}"'
            },
        )
    g.api_token = token
    g._login_user = token.user  # Flask-Login's current_user for this request only
    # A token counts as the local log-in with a second factor (LOCAL_TOTP_ASSURANCE): below
    # the agency's required level it opens no record either.
    attach_session_assurance(
        token.user,
        SessionAssurance(
            level=local_level(current_app.config, "password+totp"),
            required=required_level(current_app.config, token.user.agency.required_assurance),
        ),
    )


def _wrap(fn: ViewFunc, operation: Operation) -> ViewFunc:
    @functools.wraps(fn)
    def view(**path_args: Any) -> Response:
        session = db_session()
        try:
            if operation.scope is not None:
                _authenticate(operation.scope)
            kwargs = dict(path_args)
            if operation.query is not None:
                kwargs["query"] = parse_model(operation.query, _query_data(operation.query))
            if operation.body is not None:
                kwargs["body"] = parse_model(operation.body, _json_body())
            result = fn(**kwargs)
            session.commit()
        except ApiError:
            session.rollback()
            raise
        except StaleDataError as exc:
            session.rollback()
            raise ApiError(409) from exc
        except IntegrityError as exc:
            session.rollback()
            if not lost_a_race(exc):
                raise
            raise ApiError(409) from exc
        except ConflictError as exc:
            session.rollback()
            raise ApiError(409, exc.message) from exc
        except PermissionDenied as exc:
            # NotFound too: an unknown and a forbidden object are answered alike, and logged.
            user = g.api_token.user if g.get("api_token") is not None else None
            record_refusal(session, user, exc)
            raise ApiError(403, exc.message) from exc
        except ServiceError as exc:
            session.rollback()
            if exc.field:
                raise invalid_field(exc.field, exc.message) from exc
            raise ApiError(422, exc.message) from exc
        if isinstance(result, Response):
            return result
        return json_response(result, operation.status)

    return view


def json_response(result: Any, status: int = 200) -> Response:
    payload = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
    response = Response(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        status=status,
        mimetype=JSON_MEDIA_TYPE,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def forbidden(object_type: str, object_id: int) -> PermissionDenied:
    """403, logged like a refused page (``access:denied``) by the operation's wrapper."""
    return PermissionDenied(object_type=object_type, object_ids=[object_id])


def not_found() -> ApiError:
    return ApiError(404)


def unreachable_address_is_not_found() -> None:
    """Before each request (registered by ``openapi.init_app``): a 405 for an address that no
    method reaches becomes 404.

    Werkzeug answers 405 when a path has one rule per method (GET and PATCH /actions/{id}) and
    the id is beyond the database's range: the path matched the other method's rule before the
    converter refused the number. Any id that does not exist is 404, whatever the method."""
    error = request.routing_exception
    if not isinstance(error, MethodNotAllowed) or not request.path.startswith(API_PREFIX + "/"):
        return
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in error.valid_methods or ():
        try:
            adapter.match(method=method)
        except (NotFound, MethodNotAllowed):
            continue
        except HTTPException:  # a redirect: the address exists
            return
        return  # another method does reach it: a real 405
    request.routing_exception = NotFound()


M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, errors=field_problems(exc)) from exc


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(arg) for arg in typing.get_args(annotation))
    return origin in (list, tuple, set, frozenset)


def _query_data(model: type[BaseModel]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in request.args:
        info = model.model_fields.get(name)
        if info is not None and _is_list(info.annotation):
            data[name] = request.args.getlist(name)
        else:
            data[name] = request.args.get(name)
    return data


def _json_body() -> Any:
    if not request.is_json:
        raise ApiError(415)
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the decoder goes: not a body any operation takes
        data = None
    if data is None:
        raise ApiError(400, _l("Innehållet är inte giltig JSON."))
    return data


# --- paging ------------------------------------------------------------------------------------

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


BAD_CURSOR = _l("Ogiltig cursor.")
# No list comes near it; a larger position would fail in the database's OFFSET.
MAX_OFFSET = 2**31 - 1


class PageQuery(ApiModel):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Högst så många poster.")
    cursor: str | None = Field(
        None, max_length=200, description="Fortsättning: next_cursor från förra sidan."
    )

    @field_validator("cursor")
    @classmethod
    def _stands_for_a_position(cls, value: str | None) -> str | None:
        # Refused with the rest of the query, before the view loads the list it would page.
        if value is not None and _offset_of(value) is None:
            raise ValueError(str(BAD_CURSOR))
        return value


T = TypeVar("T")


class Page(OutModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Skicka som cursor för nästa sida; null på sista sidan."
    )


def _offset_of(cursor: str) -> int | None:
    """The position a cursor stands for; None for anything no page handed out."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = value["o"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    # Only what encode_offset writes: a whole number (not a float or a bool) that an OFFSET takes.
    return offset if type(offset) is int and 0 <= offset <= MAX_OFFSET else None


def decode_offset(cursor: str | None) -> int:
    """The position a cursor stands for. Cursors are opaque to clients and carry no data.

    A :class:`PageQuery` has refused a malformed cursor already; the 422 here is for any
    other caller."""
    if cursor is None:
        return 0
    offset = _offset_of(cursor)
    if offset is None:
        raise invalid_field("cursor", BAD_CURSOR)
    return offset


def encode_offset(offset: int) -> str:
    raw = json.dumps({"o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def page_window(query: PageQuery) -> tuple[int, int]:
    """(offset, rows to fetch): one more than the limit tells whether a next page exists."""
    return decode_offset(query.cursor), query.limit + 1


def make_page(items: Sequence[T], query: PageQuery, offset: int) -> Page[T]:
    """``items`` fetched with :func:`page_window`; the extra row, if any, is cut off."""
    more = len(items) > query.limit
    return Page(
        items=list(items[: query.limit]),
        next_cursor=encode_offset(offset + query.limit) if more else None,
    )


def paginate(items: Sequence[T], query: PageQuery) -> Page[T]:
    """Page over a list already in memory (small lists: a council's meetings, a child's
    consents)."""
    offset = decode_offset(query.cursor)
    return make_page(items[offset : offset + query.limit + 1], query, offset)


S = TypeVar("S")


def paginate_then_convert(
    items: Sequence[S], query: PageQuery, convert: Callable[[Sequence[S]], list[T]]
) -> Page[T]:
    """Page over a list already in memory, converting only the rows on the page in one call
    (a reveal or a lookup of names covers what the page shows, not the whole list)."""
    page = paginate(items, query)
    return Page(items=convert(page.items), next_cursor=page.next_cursor)
