"""Generate the benchmark data set: a region's councils, children, three years of monthly
meetings with agendas, minutes and agreed actions, records and disclosures.

Everything goes through the project's own services (enrolment, sealing, disclosure decisions,
agenda, attendance, minutes, approval, follow-up), so every record is sealed under its own key,
every disclosure is a decision the policy engine accepted, and every step appends its audit
event to the hash chain, exactly as in production. The history is written month by month with
the clock set to the day it happened (time-machine), so dates, ages, deadlines and lapses are
the ones the services would have seen then.

Full scale (``--scale 1``): 50 councils, 20,000 children, 36 monthly meetings per council,
about 300,000 records and 100,000 agreed actions. ``--scale 0.01`` is a quick run.

Resumable: the work is cut into units (the region's set-up; one council's month; one council's
upcoming agenda), each committed as one transaction. A unit is done when what it leaves behind
is in the database, so a re-run skips the done units and continues where it stopped.

    .venv/bin/python bench/generate.py --scale 0.01
    .venv/bin/python bench/generate.py --scale 0.1 --workers 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import multiprocessing
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    DEFAULT_DATABASE,
    PASSWORD,
    BenchSettings,
    ensure_database,
    load_settings,
    make_app,
    migrate,
    say,
)

T = TypeVar("T")

# --- Shape of the region at full scale ------------------------------------------------------------

FULL = {"councils": 50, "children": 20_000, "records": 300_000, "actions": 100_000}
MONTHS = 36
AGENDA_SIZE = 30
MUNICIPALITIES_PER_POLICE_AREA = 2
# Per municipality: two Bob councils, two SSPF groups and one SIG team (five councils).
COUNCIL_PATTERN = ("bob", "bob", "sspf", "sspf", "sig")
SOCIAL = "social_services"
KINDS_BY_COUNCIL = {
    "bob": ("social_services", "police"),
    "sspf": ("social_services", "police", "school", "leisure"),
    "sig": ("social_services", "police", "school", "leisure", "disability_support", "healthcare"),
}
RULES = ("FREQ=MONTHLY;BYDAY=+2WE", "FREQ=MONTHLY;BYDAY=+1TU", "FREQ=MONTHLY;BYDAY=+3TH")
CATEGORIES_BY_KIND = {
    "social_services": ("social_measures", "family", "risk_protective"),
    "police": ("crime_police", "threat_protection", "risk_protective"),
    "school": ("school", "risk_protective"),
    "leisure": ("leisure", "risk_protective"),
    "disability_support": ("social_measures", "risk_protective"),
    "healthcare": ("health", "risk_protective"),
}
# The basis an owner of one kind would first reach for, per recipient kind; the policy engine
# decides, and a refusal (age limit passed, rule not yet in force) falls back to "own-task".
PREFERRED_BASIS = {
    ("social_services", "police"): "sol-police-u21",
    ("disability_support", "police"): "sol-police-u21",
    ("police", "social_services"): "concern-report",
    ("school", "social_services"): "concern-report",
    ("leisure", "social_services"): "concern-report",
    ("healthcare", "social_services"): "care-chain",
    ("social_services", "healthcare"): "care-chain",
    ("disability_support", "social_services"): "concern-report",
    ("police", "school"): "general-clause",
    ("police", "leisure"): "general-clause",
    ("school", "police"): "general-clause",
    ("leisure", "police"): "general-clause",
    ("school", "leisure"): "general-clause",
    ("leisure", "school"): "general-clause",
}
FALLBACK_BASIS = "own-task"
# own-task requires a written statement of the task need.
# The written assessment every disclosure carries (own-task: the task need).
STATEMENT = "Behövs för att samordna insatserna i vår egen verksamhet (testdata)."

SENTENCES = (
    "Har under perioden haft hög frånvaro och svårt att komma i tid på morgnarna.",
    "Vårdnadshavaren berättar om oro för nya kontakter i bostadsområdet.",
    "Deltar regelbundet i fritidsgårdens kvällsverksamhet och trivs med personalen.",
    "Förekommer i en anmälan om stöld i butik; ärendet är under utredning.",
    "Har fått en kontaktperson och träffar denne varje vecka.",
    "Skolan har satt in extra anpassningar i matematik och svenska.",
    "Uppges ha setts tillsammans med äldre personer som polisen följer.",
    "Familjen har flyttat inom kommunen; ny skola från höstterminen.",
    "Idrottsföreningen rapporterar god närvaro och ett positivt bemötande.",
    "Samtal med den unge och vårdnadshavare genomfört; nästa uppföljning om en månad.",
    "Elevhälsan har kopplats in och en plan för återgång till skolan tas fram.",
    "Oro för att den unge förvarar saker åt andra; samtal om risker genomfört.",
)
ACTIONS = (
    "Kalla till samordnat möte med skola och vårdnadshavare.",
    "Erbjuda plats i sommarverksamhet genom fritidsförvaltningen.",
    "Genomföra orossamtal med den unge och vårdnadshavare.",
    "Följa upp närvaron varje vecka och återkoppla till forumet.",
    "Ta fram en SIP tillsammans med hälso- och sjukvården.",
    "Kontakta föreningen om ett fadderupplägg.",
)
GIVEN = ("Elias", "Noah", "Alva", "Maja", "Omar", "Liam", "Saga", "Ella", "Hugo", "Nora", "Adam")
FAMILY = ("Exempelsson", "Testberg", "Provdotter", "Demosson", "Fiktivsson", "Lindprov")


@dataclass(frozen=True)
class Plan:
    """How big the region is at this scale."""

    scale: float
    councils: int
    children_per_council: int
    records_per_unit: int
    actions_per_unit: int
    months: int

    @classmethod
    def at(cls, scale: float, months: int = MONTHS) -> Plan:
        councils = max(1, round(FULL["councils"] * scale))
        children = max(AGENDA_SIZE + 10, round(FULL["children"] * scale / councils))
        units = councils * months
        return cls(
            scale=scale,
            councils=councils,
            children_per_council=children,
            records_per_unit=max(1, round(FULL["records"] * scale / units)),
            actions_per_unit=max(1, round(FULL["actions"] * scale / units)),
            months=months,
        )

    @property
    def municipalities(self) -> int:
        return math.ceil(self.councils / len(COUNCIL_PATTERN))


# --- Helpers --------------------------------------------------------------------------------------


def luhn_digit(digits: str) -> int:
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def personnummer(birth: dt.date, serial: int) -> str:
    body = f"{birth:%y%m%d}{serial % 1000:03d}"
    return f"{birth:%Y%m%d}-{serial % 1000:03d}{luhn_digit(body)}"


@contextmanager
def clock(at: dt.datetime) -> Iterator[None]:
    """The services see ``at`` as now (ticking on from there)."""
    import time_machine

    with time_machine.travel(at, tick=True):
        yield


def local_dt(day: dt.date, hour: int) -> dt.datetime:
    from coordination.db import LOCAL_ZONE

    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=LOCAL_ZONE)


def month_start(today: dt.date, months_back: int) -> dt.date:
    index = today.year * 12 + (today.month - 1) - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


class Region:
    """Names and lookups of the generated region (users by council and kind)."""

    def __init__(self, session: Any) -> None:
        from sqlalchemy import select

        from coordination.models import Council, CouncilMembership, User

        self.councils = list(
            session.scalars(select(Council).where(Council.code.like("B%")).order_by(Council.id))
        )
        self.members: dict[int, dict[str, list[Any]]] = {}
        self.coordinator: dict[int, Any] = {}
        rows = session.execute(
            select(CouncilMembership, User)
            .join(User, User.id == CouncilMembership.user_id)
            .order_by(User.id)
        ).all()
        for membership, user in rows:
            by_kind = self.members.setdefault(membership.council_id, {})
            by_kind.setdefault(str(user.agency.kind), []).append(user)
            if membership.council_role.value == "coordinator":
                self.coordinator[membership.council_id] = user

    def member(self, council_id: int, kind: str, rng: random.Random) -> Any:
        users = self.members[council_id][kind]
        if kind == SOCIAL:
            # The coordinator chairs; social secretaries write most of social services' records.
            others = [u for u in users if u.id != self.coordinator[council_id].id]
            users = others or users
        return rng.choice(users)


def saved(session: Any, action: Callable[[], T]) -> T | None:
    """Run one service call in a savepoint: refused (ServiceError) leaves nothing behind."""
    from coordination.errors import ServiceError

    try:
        with session.begin_nested():
            return action()
    except ServiceError:
        return None


def confirmations_of(basis_id: str) -> list[int]:
    from secrecy.policy.rules import legal_bases

    return list(range(len(legal_bases()[basis_id].confirmations)))


def bases_for(owner_kind: str, recipient_kind: str, consent: bool) -> list[str]:
    preferred = ["consent"] if consent else []
    specific = PREFERRED_BASIS.get((owner_kind, recipient_kind))
    if specific:
        preferred.append(specific)
    return [*preferred, FALLBACK_BASIS]


def disclose(session: Any, actor: Any, record: Any, recipient: Any, consent: bool) -> Any | None:
    """The owner's decision under the first basis the engine accepts."""
    from secrecy.disclosure.services import decide_disclosure

    for basis in bases_for(str(actor.agency.kind), str(recipient.kind), consent):
        done = saved(
            session,
            lambda b=basis: decide_disclosure(
                session, actor, record, recipient, b, confirmations_of(b), assessment=STATEMENT
            ),
        )
        if done is not None:
            return done
    return None


# --- Units ----------------------------------------------------------------------------------------


def setup_region(session: Any, plan: Plan, first: dt.date) -> None:
    """Agencies, users, councils, memberships and schedules, as of the first month."""
    from coordination.admin.services import create_agency, create_user
    from coordination.councils.services import CouncilFields, add_member, create_council
    from coordination.models import AgencyKind, CouncilKind, CouncilRole, Role
    from meetings.schedules.schedule_changes import ScheduleData, create_schedule

    def bench_user(actor: Any, agency: Any, email: str, name: str, roles: set[Role]) -> Any:
        return create_user(
            session,
            actor,
            agency=agency,
            email=email,
            display_name=name,
            password=PASSWORD,
            start_password=False,  # the benchmark logs in with it
            roles=roles,
        )

    admin_agency = create_agency(session, None, kind=AgencyKind.OTHER, name="Regionkansliet Bench")
    admin = bench_user(None, admin_agency, "admin@bench.example", "Bench Admin", {Role.ADMIN})
    bench_user(admin, admin_agency, "granskare@bench.example", "Bench Granskare", {Role.AUDITOR})
    police_areas: dict[int, Any] = {}
    code_number = 0
    for m in range(plan.municipalities):
        area = m // MUNICIPALITIES_PER_POLICE_AREA
        if area not in police_areas:
            police_areas[area] = create_agency(
                session, admin, kind=AgencyKind.POLICE, name=f"Lokalpolisområde {area + 1:02d}"
            )
        agencies = {"police": police_areas[area]}
        for kind, label in (
            ("social_services", "Socialtjänsten"),
            ("school", "Skolförvaltningen"),
            ("leisure", "Fritidsförvaltningen"),
            ("disability_support", "LSS-enheten"),
            ("healthcare", "Elevhälsan"),
        ):
            agencies[kind] = create_agency(
                session, admin, kind=AgencyKind(kind), name=f"{label} Kommun {m + 1:02d}"
            )
        users: dict[str, list[Any]] = {}
        for kind, count in (
            ("social_services", 3),
            ("police", 1),
            ("school", 1),
            ("leisure", 1),
            ("disability_support", 1),
            ("healthcare", 1),
        ):
            for n in range(count):
                roles = {Role.MEMBER}
                if kind == SOCIAL and n == 0:
                    roles.add(Role.COORDINATOR)
                users.setdefault(kind, []).append(
                    bench_user(
                        admin,
                        agencies[kind],
                        f"{kind.replace('_', '')}{n + 1}.k{m + 1:02d}@bench.example",
                        f"{kind} {n + 1} k{m + 1:02d}",
                        roles,
                    )
                )
        for index, council_kind in enumerate(COUNCIL_PATTERN):
            if code_number >= plan.councils:
                break
            code_number += 1
            kinds = KINDS_BY_COUNCIL[council_kind]
            council = create_council(
                session,
                admin,
                CouncilFields(
                    kind=CouncilKind(council_kind),
                    name=f"{council_kind.upper()} Kommun {m + 1:02d} nr {index + 1}",
                    area=f"Kommun {m + 1:02d}",
                    code=f"B{code_number:03d}",
                    agency_ids=[agencies[k].id for k in kinds],
                ),
            )
            coordinator = users[SOCIAL][0]
            add_member(session, admin, council, coordinator, CouncilRole.COORDINATOR)
            for kind in kinds:
                for user in users[kind]:
                    if user.id != coordinator.id:
                        add_member(session, admin, council, user, CouncilRole.MEMBER)
            create_schedule(
                session,
                coordinator,
                council,
                ScheduleData(
                    name="Månadsmöte",
                    rrule=RULES[code_number % len(RULES)],
                    start_time=dt.time(9 + code_number % 5, 0),
                    duration_minutes=120,
                    starts_on=first,
                    location=f"Kommunhuset {m + 1:02d}",
                ),
                today=first,
            )


def setup_done(session: Any, plan: Plan) -> bool:
    from sqlalchemy import func, select

    from coordination.models import Council

    count = session.scalar(select(func.count(Council.id)).where(Council.code.like("B%")))
    return bool(count and count >= plan.councils)


def meeting_in_month(session: Any, council: Any, first: dt.date) -> Any:
    from sqlalchemy import select

    from meetings.models import Meeting

    start = local_dt(first, 0)
    end = local_dt(month_start(first + dt.timedelta(days=40), 0), 0)
    return session.scalars(
        select(Meeting)
        .where(Meeting.council_id == council.id, Meeting.starts_at >= start)
        .where(Meeting.starts_at < end)
        .order_by(Meeting.starts_at)
    ).first()


def unit_done(session: Any, council: Any, first: dt.date) -> bool:
    from sqlalchemy import select

    from meetings.models import AgendaItem, AgendaSource
    from minutes.models import Minutes

    meeting = meeting_in_month(session, council, first)
    if meeting is None:
        return False
    # A month that ran has minutes, and usually children added by hand (children carried over
    # with open actions are put on the agenda when the previous minutes are approved, before
    # the month runs; a month whose agenda they filled has no child added by hand).
    held = select(Minutes.id).where(Minutes.meeting_id == meeting.id).limit(1)
    by_hand = (
        select(AgendaItem.id)
        .where(AgendaItem.meeting_id == meeting.id, AgendaItem.source == AgendaSource.MANUAL)
        .limit(1)
    )
    return session.scalar(held) is not None or session.scalar(by_hand) is not None


class Month:
    """One council's month: new children, records and disclosures, follow-up of the actions
    that fell due, the agenda, and the meeting with its minutes and agreed actions."""

    def __init__(
        self, session: Any, region: Region, plan: Plan, council: Any, index: int, *, last: bool
    ) -> None:
        self.session = session
        self.region = region
        self.plan = plan
        self.council = council
        self.index = index
        self.last = last
        self.rng = random.Random(council.id * 1000 + index)  # noqa: S311 - test data
        self.kinds = KINDS_BY_COUNCIL[str(council.kind)]
        self.consent_based = str(council.kind) != "bob"
        self.counts = {"records": 0, "disclosures": 0, "actions": 0, "children": 0}

    # -- people --------------------------------------------------------------------------------

    def member(self, kind: str) -> Any:
        return self.region.member(self.council.id, kind, self.rng)

    def agency(self, kind: str) -> Any:
        return self.member(kind).agency

    def active_children(self) -> list[Any]:
        from sqlalchemy import select

        from coordination.models import Child, ChildStatus

        return list(
            self.session.scalars(
                select(Child)
                .where(Child.council_id == self.council.id, Child.status == ChildStatus.ACTIVE)
                .order_by(Child.id)
            )
        )

    def pick_children(self, children: Sequence[Any], count: int) -> list[Any]:
        """Skewed: some children are discussed far more often than others (a long tail)."""
        if not children:
            return []
        weights = [1.0 / (1 + (c.id * 7919 % len(children))) ** 0.6 for c in children]
        chosen: dict[int, Any] = {}
        while len(chosen) < min(count, len(children)):
            child = self.rng.choices(children, weights)[0]
            chosen[child.id] = child
        return list(chosen.values())

    def text(self) -> str:
        return " ".join(self.rng.sample(SENTENCES, 2))

    # -- steps ---------------------------------------------------------------------------------

    def enrol(self, day: dt.date) -> None:
        from coordination.models import Child
        from secrecy.disclosure.consents import ConsentData, register_consent
        from secrecy.policy.engine import Signer
        from secrecy.records.children import EnrolmentData, Guardian, enrol_child

        total = self.plan.children_per_council
        first = max(AGENDA_SIZE + 10, total // 4)
        if self.index == 0:
            count = first
        else:
            count = (total - first) // (self.plan.months - 1)
            count += 1 if self.index <= (total - first) % (self.plan.months - 1) else 0
        enroller = self.member(SOCIAL)
        for n in range(count):
            age_days = self.rng.randint(12 * 365, 17 * 365)
            birth = day - dt.timedelta(days=age_days)
            serial = (self.council.id * 37 + self.index * 101 + n * 7) % 1000
            given, family = self.rng.choice(GIVEN), self.rng.choice(FAMILY)
            child = saved(
                self.session,
                lambda b=birth, s=serial, g=given, f=family: enrol_child(
                    self.session,
                    enroller,
                    self.council,
                    EnrolmentData(
                        g,
                        f,
                        personnummer(b, s),
                        [Guardian(f"Vårdnadshavare {f}")],
                        "Exempelvägen 1",
                    ),
                ),
            )
            if not isinstance(child, Child):
                continue  # the same number already in this council: the blind index refused
            self.counts["children"] += 1
            self.counts["records"] += 1
            if self.consent_based:
                register_consent(
                    self.session,
                    enroller,
                    child,
                    ConsentData(
                        signers={
                            Signer.GUARDIAN_1: f"Vårdnadshavare {family}",
                            Signer.YOUNG_PERSON: f"{given} {family}",
                        },
                        two_guardians=False,
                        agency_ids=[a.id for a in self.council.agencies],
                        categories=[
                            "school",
                            "leisure",
                            "social_measures",
                            "risk_protective",
                            "meeting_note",
                            "agreed_action",
                        ],
                        valid_to=day + dt.timedelta(days=self.rng.randint(300, 900)),
                        purpose="Samverkan kring stöd i skolan och på fritiden.",
                        form_location="Akten hos socialtjänsten",
                    ),
                )
                self.counts["records"] += 1

    def share(self, actor: Any, record: Any, recipients: Sequence[Any]) -> None:
        for recipient in recipients:
            if recipient.id == actor.agency_id:
                continue
            if disclose(self.session, actor, record, recipient, self.consent_based):
                self.counts["disclosures"] += 1

    def free_records(self, children: Sequence[Any], count: int) -> None:
        from secrecy.records.services import create_record

        for child in self.pick_children(children, count) if count else []:
            kind = self.rng.choice(self.kinds)
            author = self.member(kind)
            category = self.rng.choice(CATEGORIES_BY_KIND[kind])
            record = create_record(self.session, author, child, category, self.text())
            self.counts["records"] += 1
            if self.rng.random() < 0.6:
                others = [k for k in self.kinds if k != kind]
                self.share(author, record, [self.agency(self.rng.choice(others))])

    def follow_up(self, day: dt.date) -> int:
        """The responsible agencies update the actions that have fallen due."""
        from sqlalchemy import select

        from coordination.models import Child
        from minutes.actions.services import StatusChange, update_action
        from minutes.models import OPEN_STATUSES, ActionStatus, AgreedAction, NotDoneReason

        due = self.session.scalars(
            select(AgreedAction)
            .join(Child, Child.id == AgreedAction.child_id)
            .where(
                Child.council_id == self.council.id,
                AgreedAction.status.in_(list(OPEN_STATUSES)),
                AgreedAction.due_on <= day,
            )
            .order_by(AgreedAction.id)
        ).all()
        records = 0
        for action in due:
            roll = self.rng.random()
            if roll < 0.12:
                continue  # nobody got to it: it stays overdue
            if roll < 0.72:
                to_status, reason = ActionStatus.DONE, None
            elif roll < 0.82:
                to_status, reason = ActionStatus.NOT_DONE, NotDoneReason.NOT_CARRIED_OUT
            elif action.status is ActionStatus.OPEN:
                to_status, reason = ActionStatus.IN_PROGRESS, None
            else:
                continue
            kind = str(action.responsible_agency.kind)
            if kind not in self.kinds:
                continue
            actor = self.member(kind)
            done = saved(
                self.session,
                lambda a=action, s=to_status, r=reason, u=actor: update_action(
                    self.session,
                    u,
                    a,
                    StatusChange(
                        to_status=s,
                        comment="Uppföljning: " + self.rng.choice(SENTENCES),
                        version=a.version,
                        reason=r,
                    ),
                ),
            )
            records += done is not None
        self.counts["records"] += records
        return records

    def prepare_agenda(self, meeting: Any, children: Sequence[Any], day: dt.date) -> list[Any]:
        from flask import current_app

        from meetings.agenda.contributors import add_contributed_items, agenda_contributors
        from meetings.agenda.items import add_agenda_item, agenda_items

        add_contributed_items(self.session, meeting, agenda_contributors(current_app))
        on_agenda = {item.child_id for item in agenda_items(self.session, meeting)}
        wanted = AGENDA_SIZE - len(on_agenda)
        candidates = [c for c in children if c.id not in on_agenda]
        for child in self.pick_children(candidates, max(0, wanted)):
            kind = self.rng.choice(self.kinds)
            author = self.member(kind)
            add_agenda_item(
                self.session,
                author,
                meeting,
                child,
                self.rng.choice((*CATEGORIES_BY_KIND[kind][-1:], "risk_protective")),
                self.text(),
                today=day,
            )
            self.counts["records"] += 1
        return agenda_items(self.session, meeting)

    def hold_meeting(self, meeting: Any, items: Sequence[Any], actions: int) -> None:
        from meetings.agenda.attendance import set_attendance, set_meeting_roles
        from meetings.models import AttendanceStatus
        from minutes.actions.services import create_action
        from minutes.models import EntryKind
        from minutes.workspace.approval import approve, submit_for_approval
        from minutes.workspace.services import add_entry, minutes_for_change
        from minutes.workspace.sharing import ShareChoice

        coordinator = self.region.coordinator[self.council.id]
        present = {}
        for kind in self.kinds:
            for user in self.region.members[self.council.id][kind]:
                set_attendance(
                    self.session, coordinator, meeting, user.id, AttendanceStatus.PRESENT
                )
                present[user.id] = user
        self.session.refresh(meeting)
        set_meeting_roles(
            self.session,
            coordinator,
            meeting,
            coordinator.id,
            self.member(SOCIAL).id,
            meeting.version,
        )
        attending = {k: self.agency(k) for k in self.kinds}
        # About half the children get an entry or a decision, shared with the attending
        # agencies the writer chooses.
        from coordination.models import ChildStatus

        # A child carried over with open actions may have had its case closed since.
        items = [i for i in items if i.child.status is ChildStatus.ACTIVE]
        for item in items:
            if self.rng.random() >= 0.5:
                continue
            kind = self.rng.choice(self.kinds)
            author = self.member(kind)
            recipients = [a for k, a in attending.items() if k != kind]
            shares = []
            for recipient in self.rng.sample(recipients, min(len(recipients), 2)):
                for basis in bases_for(kind, str(recipient.kind), self.consent_based):
                    shares.append(ShareChoice(recipient.id, basis, tuple(confirmations_of(basis))))
                    break
            child = item.child
            entry = saved(
                self.session,
                lambda c=child, a=author, s=shares: add_entry(
                    self.session,
                    a,
                    meeting,
                    c,
                    self.rng.choice([EntryKind.ENTRY, EntryKind.DECISION]),
                    "meeting_note",
                    self.text(),
                    s,
                    STATEMENT,
                ),
            )
            if entry is None:  # a share was refused: the entry without sharing
                entry = add_entry(
                    self.session,
                    author,
                    meeting,
                    child,
                    EntryKind.ENTRY,
                    "meeting_note",
                    self.text(),
                )
            else:
                self.counts["disclosures"] += len(shares)
            self.counts["records"] += 1
        for n in range(actions if items else 0):
            item = items[n % len(items)]
            writer_kind = self.rng.choice(self.kinds)
            writer = self.member(writer_kind)
            responsible_kind = self.rng.choice(self.kinds)
            responsible = self.member(responsible_kind)
            due = meeting.starts_at.date() + dt.timedelta(days=self.rng.randint(14, 56))
            created = None
            for basis in bases_for(writer_kind, responsible_kind, self.consent_based):
                created = saved(
                    self.session,
                    lambda b=basis, i=item, w=writer, r=responsible, d=due: create_action(
                        self.session,
                        w,
                        meeting,
                        i.child,
                        self.rng.choice(ACTIONS),
                        r.agency,
                        r if self.rng.random() < 0.7 else None,
                        d,
                        b if r.agency_id != w.agency_id else "",
                        confirmations_of(b) if r.agency_id != w.agency_id else (),
                        assessment=STATEMENT,
                    ),
                )
                if created is not None:
                    break
            if created is not None:
                self.counts["actions"] += 1
                self.counts["records"] += 1
                self.counts["disclosures"] += created.responsible_agency_id != writer.agency_id
        if self.last:
            return  # the latest meeting's minutes are still a draft: the workspace in use
        minutes = minutes_for_change(self.session, coordinator, meeting)
        adjuster = next(u for u in present.values() if u.id != coordinator.id)
        submit_for_approval(self.session, coordinator, meeting, adjuster, minutes.version)
        approve(self.session, coordinator, meeting)
        approve(self.session, adjuster, meeting)

    def close_some(self, children: Sequence[Any]) -> None:
        from coordination.models import CloseReason
        from secrecy.records.children import close_case

        coordinator = self.region.coordinator[self.council.id]
        old = [c for c in children if (self.day - c.enrolled_on).days > 400]
        for child in self.rng.sample(old, min(len(old), max(0, len(old) // 40))):
            close_case(self.session, coordinator, child, CloseReason.GOALS_REACHED)

    def run(self, first: dt.date) -> dict[str, int]:
        from meetings.schedules.materialise import materialise_meetings

        meeting = meeting_in_month(self.session, self.council, first)
        if meeting is None:
            raise RuntimeError(f"council {self.council.code} has no meeting in {first:%Y-%m}")
        meeting_day = meeting.starts_at.astimezone(local_dt(first, 0).tzinfo).date()
        prep_day = meeting_day - dt.timedelta(days=8)
        self.day = prep_day
        with clock(local_dt(prep_day, 10)):
            materialise_meetings(self.session, today=prep_day, council=self.council)
            self.enrol(prep_day)
            children = self.active_children()
            self.follow_up(prep_day)
            planned_actions = self.plan.actions_per_unit
            # Records that the agenda, minutes and follow-up do not write themselves.
            others = self.plan.records_per_unit - self.counts["records"] - AGENDA_SIZE
            others -= AGENDA_SIZE // 2 + planned_actions + self.plan.actions_per_unit * 3 // 4
            self.free_records(children, max(0, others))
            self.close_some(children)
            items = self.prepare_agenda(meeting, self.active_children(), prep_day)
        with clock(meeting.starts_at + dt.timedelta(minutes=30)):
            self.hold_meeting(meeting, items, planned_actions)
        return self.counts


def upcoming_meeting(session: Any, council: Any) -> Any:
    """The council's next meeting whose agenda deadline is still ahead."""
    from sqlalchemy import select

    from coordination.db import utcnow
    from meetings.models import Meeting

    return session.scalars(
        select(Meeting)
        .where(
            Meeting.council_id == council.id,
            Meeting.starts_at > utcnow() + dt.timedelta(days=7),
        )
        .order_by(Meeting.starts_at)
    ).first()


def upcoming_done(session: Any, council: Any) -> bool:
    from sqlalchemy import select

    from meetings.models import AgendaItem

    meeting = upcoming_meeting(session, council)
    return meeting is not None and (
        session.scalar(select(AgendaItem.id).where(AgendaItem.meeting_id == meeting.id).limit(1))
        is not None
    )


def prepare_upcoming(session: Any, region: Region, plan: Plan, council: Any) -> dict[str, int]:
    """Next month's meeting, agenda prepared today (the agenda page in use)."""
    from coordination.db import today_local
    from meetings.schedules.materialise import materialise_meetings

    today = today_local()
    materialise_meetings(session, today=today, council=council)
    meeting = upcoming_meeting(session, council)
    month = Month(session, region, plan, council, plan.months, last=True)
    month.day = today
    month.prepare_agenda(meeting, month.active_children(), today)
    return month.counts


# --- Running --------------------------------------------------------------------------------------


@dataclass
class Unit:
    kind: str  # "month" or "upcoming"
    council_id: int
    index: int


def all_units(plan: Plan, council_ids: Sequence[int]) -> list[Unit]:
    units = [Unit("month", c, i) for i in range(plan.months) for c in council_ids]
    return units + [Unit("upcoming", c, plan.months) for c in council_ids]


def run_units(
    settings: BenchSettings, plan: Plan, units: Sequence[Unit], worker: int, report: Any
) -> None:
    """Run the units that are not done yet, one transaction each, in order."""
    from coordination.db import get_database, today_local
    from coordination.models import Council

    app = make_app(settings)
    with app.test_request_context():
        session = get_database(app).session_factory()
        region = Region(session)
        today = today_local()
        for unit in units:
            council = session.get(Council, unit.council_id)
            first = month_start(today, plan.months - unit.index)
            if unit.kind == "month":
                if unit_done(session, council, first):
                    session.rollback()
                    report(worker, unit, None, 0.0)
                    continue
            elif upcoming_done(session, council):
                session.rollback()
                report(worker, unit, None, 0.0)
                continue
            started = time.perf_counter()
            if unit.kind == "month":
                counts = Month(
                    session, region, plan, council, unit.index, last=unit.index == plan.months - 1
                ).run(first)
            else:
                counts = prepare_upcoming(session, region, plan, council)
            session.commit()
            session.expunge_all()
            region = Region(session)
            report(worker, unit, counts, time.perf_counter() - started)
        session.close()


def _worker(args: tuple[BenchSettings, Plan, list[Unit], int, Any]) -> None:
    settings, plan, units, worker, queue = args

    def report(w: int, unit: Unit, counts: dict[str, int] | None, seconds: float) -> None:
        queue.put((w, unit.kind, unit.council_id, unit.index, counts, seconds))

    run_units(settings, plan, units, worker, report)
    queue.put((worker, "finished", 0, 0, None, 0.0))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.01, help="1 = full scale (default 0.01)")
    parser.add_argument("--months", type=int, default=MONTHS, help="months of history (36)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument(
        "--workers", type=int, default=1, help="processes, each taking whole councils"
    )
    args = parser.parse_args(argv)
    plan = Plan.at(args.scale, args.months)
    ensure_database(args.database_url)
    settings = load_settings(args.database_url)
    state_path = settings.folder / "dataset.json"
    if state_path.exists():
        previous = json.loads(state_path.read_text())
        if previous.get("scale") != args.scale or previous.get("months") != args.months:
            say(
                f"{settings.database_name} holds (part of) a data set at scale "
                f"{previous.get('scale')}, {previous.get('months')} months; drop it first "
                "(python bench/generate.py --drop) or use another --database-url."
            )
            return 2
    say(
        f"Scale {args.scale}: {plan.councils} councils, {plan.children_per_council} children per "
        f"council, {plan.months} months, about {plan.records_per_unit} records and "
        f"{plan.actions_per_unit} actions per council-month"
    )
    app = make_app(settings)
    migrate(app)
    from tqdm import tqdm

    from coordination.audit.sequencer import drain
    from coordination.db import get_database
    from coordination.models import Council

    session = get_database(app).session_factory()
    started = time.perf_counter()
    with app.test_request_context():
        if not setup_done(session, plan):
            say("Setting up the region (agencies, users, councils, schedules)...")
            from coordination.db import today_local

            first = month_start(today_local(), plan.months)
            with clock(local_dt(first - dt.timedelta(days=1), 9)):
                setup_region(session, plan, first)
                session.commit()
        council_ids = list(
            session.scalars(
                Council.__table__.select()
                .with_only_columns(Council.id)
                .where(Council.code.like("B%"))
                .order_by(Council.id)
            )
        )
    session.close()
    get_database(app).engine.dispose()
    state = {
        "scale": args.scale,
        "months": args.months,
        "plan": plan.__dict__,
        "complete": False,
    }
    state_path.write_text(json.dumps(state, indent=2))
    units = all_units(plan, council_ids)
    totals = {"records": 0, "disclosures": 0, "actions": 0, "children": 0}
    busy = 0.0
    bar = tqdm(total=len(units), unit="unit", desc="council-months", smoothing=0.05)

    def report(_w: int, unit: Unit, counts: dict[str, int] | None, seconds: float) -> None:
        nonlocal busy
        bar.update(1)
        if counts is not None:
            busy += seconds
            for key in totals:
                totals[key] += counts.get(key, 0)
            bar.set_postfix(records=totals["records"], actions=totals["actions"])

    if args.workers <= 1:
        run_units(settings, plan, units, 0, report)
    else:
        # Whole councils per process, each process keeps the month order of its councils.
        queue: Any = multiprocessing.get_context("spawn").Queue()
        shares = [
            [u for u in units if council_ids.index(u.council_id) % args.workers == w]
            for w in range(args.workers)
        ]
        context = multiprocessing.get_context("spawn")
        processes = [
            context.Process(target=_worker, args=((settings, plan, share, w, queue),))
            for w, share in enumerate(shares)
        ]
        for process in processes:
            process.start()
        finished = 0
        while finished < len(processes):
            w, kind, council_id, index, counts, seconds = queue.get()
            if kind == "finished":
                finished += 1
                continue
            report(w, Unit(kind, council_id, index), counts, seconds)
        for process in processes:
            process.join()
            if process.exitcode:
                bar.close()
                say(f"a worker failed (exit code {process.exitcode}); re-run to continue")
                return 1
    bar.close()
    # The workers' events are durable but unchained (no scheduler runs here): the sequencer
    # chains them, as the leading scheduler would.
    chain_started = time.perf_counter()
    with app.app_context():
        chained = drain(get_database(app).session_factory)
    say(f"Chained {chained} audit events in {time.perf_counter() - chain_started:.1f} s")
    # Fresh planner statistics and visibility maps after the bulk load, as autovacuum would
    # leave them in production (it may be off on a development server).
    from sqlalchemy import create_engine, text

    engine = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM (ANALYZE)"))
    engine.dispose()
    elapsed = time.perf_counter() - started
    state.update(
        complete=True,
        generated_this_run=totals,
        seconds_this_run=round(elapsed, 1),
        unit_seconds_this_run=round(busy, 1),
    )
    state_path.write_text(json.dumps(state, indent=2))
    say(f"Done in {elapsed:.0f} s: {json.dumps(totals)}")
    return 0


if __name__ == "__main__":
    if "--drop" in sys.argv:
        from common import drop_database

        url = DEFAULT_DATABASE
        if "--database-url" in sys.argv:
            url = sys.argv[sys.argv.index("--database-url") + 1]
        drop_database(url)
        settings_dir = load_settings(url).folder
        for name in ("dataset.json",):
            (settings_dir / name).unlink(missing_ok=True)
        say(f"dropped {url.rsplit('/', 1)[-1]}")
        sys.exit(0)
    sys.exit(main())
