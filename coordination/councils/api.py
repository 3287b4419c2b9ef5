"""Ground-floor API resources: the token's user and the councils they sit on."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coordination.api.core import (
    ApiBlueprint,
    OutModel,
    Page,
    PageQuery,
    api_token,
    api_user,
    paginate,
)
from coordination.councils.access import council_for
from coordination.db import db_session
from coordination.models import (
    AgencyKind,
    Council,
    CouncilKind,
    CouncilMembership,
    CouncilRole,
    Role,
)
from coordination.policy import Need, membership_in

bp = ApiBlueprint(
    "api_coordination",
    __name__,
    tag="Konto och forum",
    description="Vem token tillhör och de samverkansforum användaren är medlem i.",
)


class AgencyOut(OutModel):
    id: int
    name: str
    kind: AgencyKind


class MeOut(OutModel):
    id: int
    display_name: str
    email: str
    agency: AgencyOut
    roles: list[Role]
    token_scopes: list[str] = Field(description="Vad den här token får göra.")
    token_expires_at: dt.datetime


class CouncilOut(OutModel):
    id: int
    name: str
    kind: CouncilKind
    area: str
    code: str = Field(description="Prefix i barnens pseudonymer, t.ex. NORR.")
    my_role: CouncilRole | None = Field(description="Din roll i forumet.")
    agencies: list[AgencyOut]


def council_out(council: Council, role: CouncilRole | None) -> CouncilOut:
    return CouncilOut(
        id=council.id,
        name=council.name,
        kind=council.kind,
        area=council.area,
        code=council.code,
        my_role=role,
        agencies=[AgencyOut.model_validate(a) for a in council.agencies],
    )


@bp.operation("/me", summary="Den inloggade användaren och token")
def me() -> MeOut:
    user = api_user()
    token = api_token()
    return MeOut(
        id=user.id,
        display_name=user.display_name,
        email=user.email,
        agency=AgencyOut.model_validate(user.agency),
        roles=sorted(user.roles),
        token_scopes=sorted(str(s) for s in token.scope_set),
        token_expires_at=token.expires_at,
    )


@bp.operation(
    "/councils",
    summary="Forum där du är medlem",
)
def councils(query: PageQuery) -> Page[CouncilOut]:
    user = api_user()
    memberships = db_session().scalars(
        select(CouncilMembership)
        .where(CouncilMembership.user_id == user.id)
        .join(Council)
        .where(Council.active.is_(True))
        .options(selectinload(CouncilMembership.council).selectinload(Council.agencies))
        .order_by(Council.name, Council.id)
    )
    items = [council_out(m.council, m.council_role) for m in memberships]
    return paginate(items, query)


@bp.operation("/councils/<int:council_id>", summary="Ett forum")
def council(council_id: int) -> CouncilOut:
    user = api_user()
    found = council_for(db_session(), user, council_id, Need.VIEW)
    membership = membership_in(user, found)
    return council_out(found, membership.council_role if membership else None)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
