"""The fictitious municipality Exempelstad: every agency kind, three councils, every role.

Everything is created through the services, so the demo's audit log is as real as production's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.accounts.providers.models import UserIdentity
from coordination.accounts.providers.oidc import Discovery
from coordination.accounts.providers.services import ProviderFields, create_provider
from coordination.accounts.providers.signin import UNUSABLE_PASSWORD
from coordination.admin.services import create_agency, create_user
from coordination.councils.services import CouncilFields, add_member, create_council
from coordination.models import Agency, AgencyKind, CouncilKind, CouncilRole, Role, User

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

# The demo users' e-mail addresses, named for the other demo loaders.
ADMIN = "admin@exempelstad.se"
COORDINATOR = "samordnare@exempelstad.se"
SECRETARY = "socialsekreterare@exempelstad.se"
POLICE = "polis@exempelstad.se"
SCHOOL = "skola@exempelstad.se"
LEISURE = "fritid@exempelstad.se"
LSS = "lss@exempelstad.se"
HEALTH = "halsa@exempelstad.se"
AUDITOR = "granskare@exempelstad.se"

# e-mail, name, agency kind, roles, what to try (printed with the demo logins)
USERS = [
    (
        ADMIN,
        "Alva Admin",
        AgencyKind.OTHER,
        {Role.ADMIN},
        "administratör: myndigheter, användare, forum, nycklar, gallring",
    ),
    (
        COORDINATOR,
        "Sara Samordnare",
        AgencyKind.SOCIAL_SERVICES,
        {Role.COORDINATOR, Role.MEMBER},
        "samordnare (socialtjänst): leder alla tre forum, ordförande, skickar protokoll "
        "för justering",
    ),
    (
        SECRETARY,
        "Sixten Socialsekreterare",
        AgencyKind.SOCIAL_SERVICES,
        {Role.MEMBER},
        "socialsekreterare: alla tolv barn, lägesbeskrivningar, uppgiftslämnande, samtycken",
    ),
    (
        POLICE,
        "Paula Polis",
        AgencyKind.POLICE,
        {Role.MEMBER},
        "kommunpolis: polisens åtgärder i alla forum, justerar Bob-rådets protokoll",
    ),
    (
        SCHOOL,
        "Sune Skola",
        AgencyKind.SCHOOL,
        {Role.MEMBER},
        "skolkurator: SSPF och SIG, justerar SSPF-protokollen, ser polisens uppgifter undanhållna",
    ),
    (
        LEISURE,
        "Frida Fritid",
        AgencyKind.LEISURE,
        {Role.MEMBER},
        "fritidsledare: ser bara det som lämnats ut med samtycke",
    ),
    (
        LSS,
        "Leo LSS",
        AgencyKind.DISABILITY_SUPPORT,
        {Role.MEMBER},
        "LSS-handläggare: SIG, justerar SIG-protokollen",
    ),
    (
        HEALTH,
        "Hedda Hälsa",
        AgencyKind.HEALTHCARE,
        {Role.MEMBER},
        "skolsköterska (elevhälsan): SIG, uppgifter i vård- och stödkedjan",
    ),
    (
        AUDITOR,
        "Greta Granskare",
        AgencyKind.SOCIAL_SERVICES,
        {Role.AUDITOR},
        "logggranskare (socialtjänst): loggen och månadens logggranskning",
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


def demo_users(session: Session) -> dict[str, User]:
    """The demo users by e-mail, for the upper layers' loaders."""
    emails = [email for email, *_ in USERS]
    return {u.email: u for u in session.scalars(select(User).where(User.email.in_(emails)))}


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
            start_password=False,  # the demo's one known password, kept for every log-in
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
    _demo_identity_provider(session, admin, agencies[AgencyKind.POLICE])
    return True, demo_logins()


DEMO_ISSUER = "https://login.polisen.exempel"


def _demo_identity_provider(session: Session, admin: User, police: Agency) -> None:
    """The police's own identity provider, as an administrator would bind it, switched off (the
    demo has no provider to reach, and its police users keep their demo password), and one
    account a first log-in through it created, waiting for approval."""
    provider = create_provider(
        session,
        admin,
        police,
        ProviderFields(
            display_name="Polismyndigheten",
            issuer=DEMO_ISSUER,
            client_id="samverkan-exempelstad",
            client_secret_env="SAMVERKAN_IDP_POLISEN_SECRET",
            acr_levels={"http://id.elegnamnden.se/loa/1.0/loa3": "loa3"},
            requested_acr="http://id.elegnamnden.se/loa/1.0/loa3",
            jit_provisioning=True,
            enabled=False,
        ),
        Discovery(
            {
                "issuer": DEMO_ISSUER,
                "authorization_endpoint": DEMO_ISSUER + "/authorize",
                "token_endpoint": DEMO_ISSUER + "/token",
                "jwks_uri": DEMO_ISSUER + "/jwks",
                "end_session_endpoint": DEMO_ISSUER + "/logout",
            }
        ),
    )
    pending = User(
        agency=police,
        email="ny.polis@exempelstad.se",
        display_name="Nils Nyanställd",
        password_hash=UNUSABLE_PASSWORD,
        active=False,
        pending_approval=True,
    )
    session.add(pending)
    session.add(UserIdentity(user=pending, provider=provider, subject="demo-polis-4711"))
    session.flush()
