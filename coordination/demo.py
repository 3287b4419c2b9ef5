"""The fictitious municipality Exempelstad: every agency kind, three councils, every role.

Everything is created through the services, so the demo's audit log is as real as production's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.models import Agency, AgencyKind, CouncilKind, CouncilRole, Role, User
from coordination.services import (
    CouncilFields,
    add_member,
    create_agency,
    create_council,
    create_user,
)

DEMO_PASSWORD = "exempelstad-demo-2026"
MARKER_AGENCY = "Socialtjänsten Exempelstad"

AGENCIES = [
    (AgencyKind.OTHER, "Kommunledningskontoret Exempelstad"),
    (AgencyKind.SOCIAL_SERVICES, MARKER_AGENCY),
    (AgencyKind.POLICE, "Lokalpolisområde Exempelstad"),
    (AgencyKind.SCHOOL, "Grundskoleförvaltningen Exempelstad"),
    (AgencyKind.LEISURE, "Fritidsförvaltningen Exempelstad"),
    (AgencyKind.DISABILITY_SUPPORT, "LSS-enheten Exempelstad"),
    (AgencyKind.HEALTHCARE, "Elevhälsan Exempelstad"),
]

# e-mail, name, agency kind, roles, description printed for the demo login list
USERS = [
    ("admin@exempelstad.se", "Alva Admin", AgencyKind.OTHER, {Role.ADMIN}, "administratör"),
    (
        "samordnare@exempelstad.se",
        "Sara Samordnare",
        AgencyKind.SOCIAL_SERVICES,
        {Role.COORDINATOR, Role.MEMBER},
        "samordnare (socialtjänst), leder alla tre forum",
    ),
    (
        "socialsekreterare@exempelstad.se",
        "Sixten Socialsekreterare",
        AgencyKind.SOCIAL_SERVICES,
        {Role.MEMBER},
        "socialsekreterare",
    ),
    ("polis@exempelstad.se", "Paula Polis", AgencyKind.POLICE, {Role.MEMBER}, "kommunpolis"),
    ("skola@exempelstad.se", "Sune Skola", AgencyKind.SCHOOL, {Role.MEMBER}, "skolkurator"),
    ("fritid@exempelstad.se", "Frida Fritid", AgencyKind.LEISURE, {Role.MEMBER}, "fritidsledare"),
    (
        "lss@exempelstad.se",
        "Leo LSS",
        AgencyKind.DISABILITY_SUPPORT,
        {Role.MEMBER},
        "LSS-handläggare",
    ),
    ("halsa@exempelstad.se", "Hedda Hälsa", AgencyKind.HEALTHCARE, {Role.MEMBER}, "skolsköterska"),
    (
        "granskare@exempelstad.se",
        "Greta Granskare",
        AgencyKind.SOCIAL_SERVICES,
        {Role.AUDITOR},
        "logggranskare (socialtjänst)",
    ),
]

# kind, name, area, code, agency kinds taking part
COUNCILS = [
    (
        CouncilKind.BOB,
        "Bob-råd Centrum",
        "Exempelstad centrum",
        "CENTRUM",
        [AgencyKind.SOCIAL_SERVICES, AgencyKind.POLICE],
    ),
    (
        CouncilKind.SSPF,
        "SSPF Norr",
        "Exempelstad norra",
        "NORR",
        [AgencyKind.SOCIAL_SERVICES, AgencyKind.POLICE, AgencyKind.SCHOOL, AgencyKind.LEISURE],
    ),
    (
        CouncilKind.SIG,
        "SIG Exempelstad",
        "Hela Exempelstad",
        "SIG",
        [
            AgencyKind.SOCIAL_SERVICES,
            AgencyKind.POLICE,
            AgencyKind.SCHOOL,
            AgencyKind.LEISURE,
            AgencyKind.DISABILITY_SUPPORT,
            AgencyKind.HEALTHCARE,
        ],
    ),
]


@dataclass
class DemoLogins:
    password: str = DEMO_PASSWORD
    accounts: list[tuple[str, str]] = field(default_factory=list)


def demo_logins() -> DemoLogins:
    return DemoLogins(accounts=[(email, description) for email, _, _, _, description in USERS])


def load_demo(session: Session) -> tuple[bool, DemoLogins]:
    """Create Exempelstad unless it is already there. Returns (created, the demo logins)."""
    if session.scalar(select(Agency.id).where(Agency.name == MARKER_AGENCY)) is not None:
        return False, demo_logins()
    agencies = {kind: create_agency(session, None, kind=kind, name=name) for kind, name in AGENCIES}
    users: dict[str, User] = {}
    admin: User | None = None
    for email, name, kind, roles, _description in USERS:
        user = create_user(
            session,
            admin,
            agency=agencies[kind],
            email=email,
            display_name=name,
            password=DEMO_PASSWORD,
            roles=roles,
        )
        users[email] = user
        admin = admin or user
    assert admin is not None  # noqa: S101 - the first demo user is the administrator
    for council_kind, name, area, code, kinds in COUNCILS:
        council = create_council(
            session,
            admin,
            CouncilFields(
                kind=council_kind,
                name=name,
                area=area,
                code=code,
                agency_ids=[agencies[k].id for k in kinds],
            ),
        )
        for user in users.values():
            if user.agency.kind in kinds and Role.MEMBER in user.roles:
                role = (
                    CouncilRole.COORDINATOR
                    if Role.COORDINATOR in user.roles
                    else CouncilRole.MEMBER
                )
                add_member(session, admin, council, user, role)
    return True, demo_logins()
