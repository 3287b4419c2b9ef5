"""A whole month of one SSPF council in a real browser, step by step, as the people do it.

The steps run in order and build on each other (one installation for the module): the admin
sets up the council, the coordinator plans the meetings, the social secretary brings a child,
the meeting is held and its minutes approved, the police and the school follow up, a consent is
revoked, and the next meeting and the log review close the month. Every step asserts what is on
the screen, and what must not be: each piece of content carries a unique marker, and a marker
that must stay hidden is checked against the page's whole HTML, not only its visible text.

The meeting that is held is an extra meeting today, added through the schedule pages the way a
coordinator adds one. "Today" is the installation's: it runs on a clock that stands at a weekday
morning when the session starts (``tests/clock.py``), so the story is the same at any hour.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from personnummer.personnummer import valid as valid_personnummer
from playwright.sync_api import Browser, Locator, Page, expect
from pypdf import PdfReader

from tests.clock import INSTALLATION
from tests.e2e.harness import SmtpSink, Stack, wait_for
from tests.e2e.ui import (
    Person,
    Visitor,
    assert_accessible,
    assert_focus_visible,
    assert_reflows,
    focused,
    press_until_focused,
    screenshot,
    today,
)

SHOTS = "month"
PASSWORD = "e2e-lösenord-2026!"
COUNCIL = "SSPF Exempelby"
SOCIAL = "Socialtjänsten Exempelby"
POLICE = "Polisen Exempelby"
SCHOOL = "Exempelskolan"
ADMIN_AGENCY = "Kommunledningen Exempelby"

# Content markers: unique, so their presence or absence anywhere in a page is unambiguous.
BRIEF = "Frånvaron har ökat sedan höstlovet [markör BRIEF-7Q]"
SOCIAL_ENTRY = "Familjebehandling har inletts [markör SOC-3K]"
POLICE_ENTRY = "Misstänkt för rån i centrum förra veckan [markör POL-9X]"
POLICE_ACTION = "Polisen gör ett orosbesök hos familjen [markör PACT-5M]"
SCHOOL_ACTION = "Skolan ordnar en mentor och följer upp frånvaron [markör SACT-2R]"
POLICE_COMMENT = "Orosbesöket är bokat till på fredag [markör PCOM-8T]"
KEYBOARD_ENTRY = "Skriven med tangentbordet [markör KBD-4W]"
PLAN_GOAL = "Elsa går i skolan varje dag [markör GOAL-6P]"
PLAN_INDICATOR = "Närvaron är minst 90 procent [markör IND-1V]"
YOUTH_VIEW = "Jag vill ha en mentor i skolan [markör YOUTH-3S]"
EVALUATION = "Närvaron är över 90 procent sedan mentorn kom [markör EVAL-5H]"
CHILD_NAME = ("Elsa", "Exempeldotter")
MEETING_ASSESSMENT = "Mottagarna behöver uppgiften för rådets planering för den unge vid mötet"


def personnummer(born: dt.date, serial: str = "238") -> str:
    """A valid 12-digit personnummer for a fictitious child born on ``born``: the check digit
    is the one the ``personnummer`` package (which the app validates with) accepts."""
    stem = f"{born:%Y%m%d}-{serial}"
    return next(stem + digit for digit in "0123456789" if valid_personnummer(stem + digit))


@dataclass
class Month:
    stack: Stack
    browser: Browser
    people: dict[str, Person]
    visitors: dict[str, Visitor] = field(default_factory=dict)
    pseudonym: str = ""
    meeting_path: str = ""
    next_meeting_path: str = ""
    plan_path: str = ""

    def visitor(self, role: str) -> Visitor:
        """The person's own browser, logged in once and kept for the whole month."""
        if role not in self.visitors:
            visitor = Visitor.open(self.browser, self.people[role], self.stack.base_url)
            visitor.log_in()
            self.visitors[role] = visitor
        return self.visitors[role]


PEOPLE = {
    "admin": Person("admin@exempelby.se", "Ada Admin", PASSWORD),
    "coordinator": Person("samordnare@exempelby.se", "Sam Samordnare", PASSWORD),
    "social": Person("socialsekreterare@exempelby.se", "Siri Socialsekreterare", PASSWORD),
    "police": Person("polis@exempelby.se", "Per Polis", PASSWORD),
    "school": Person("skola@exempelby.se", "Stina Skola", PASSWORD),
    "auditor": Person("granskare@exempelby.se", "Gun Granskare", PASSWORD),
}
# role key -> (agency, roles to tick, council role or None)
ACCOUNTS = {
    "coordinator": (SOCIAL, ("Samordnare", "Medlem"), "Samordnare"),
    "social": (SOCIAL, ("Medlem",), "Medlem"),
    "police": (POLICE, ("Medlem",), "Medlem"),
    "school": (SCHOOL, ("Medlem",), "Medlem"),
    "auditor": (SOCIAL, ("Logggranskare",), None),
}


@pytest.fixture(scope="module")
def month(browser: Browser) -> Iterator[Month]:
    with SmtpSink() as inbox:
        stack = Stack("samverkan_e2e", inbox)
        try:
            # Today's meeting is held today, so the agenda must still be open to members today:
            # the deadline (three working days before by default) is set to the meeting day.
            stack.set_up({"SAMVERKAN_AGENDA_DEADLINE_WORKING_DAYS": "0"})
            admin = PEOPLE["admin"]
            stack.flask(
                "create-admin",
                "--email",
                admin.email,
                "--name",
                admin.name,
                "--agency",
                ADMIN_AGENCY,
                "--password",
                admin.password,
            )
            stack.start()
            state = Month(
                stack, browser, {k: Person(p.email, p.name, p.password) for k, p in PEOPLE.items()}
            )
            try:
                yield state
            finally:
                for visitor in state.visitors.values():
                    visitor.close()
        finally:
            stack.tear_down()


def hidden_everywhere(visitor: Visitor, *markers: str) -> None:
    """Not on the screen, and nowhere in the page's HTML either (hidden parts included)."""
    html = visitor.page.content()
    for marker in markers:
        assert marker not in html, (
            f"{marker!r} leaked to {visitor.person.email} at {visitor.page.url}"
        )


def check(page: Page, label: str) -> None:
    """axe-core at full width, then the same page at 320 px: no horizontal scrolling, and axe
    again (a table's scroll box must take the keyboard focus there)."""
    assert_accessible(page, label)
    assert_reflows(page, label)


def section(visitor: Visitor, heading: str | re.Pattern[str]) -> Locator:
    return visitor.page.get_by_role("region", name=heading)


# --- 1. The admin sets up the council; the coordinator plans the meetings --------------------


def test_1_admin_sets_up_the_council_and_the_coordinator_plans_the_month(month: Month) -> None:
    admin = Visitor.open(month.browser, month.people["admin"], month.stack.base_url)
    month.visitors["admin"] = admin
    page = admin.page

    # The log-in page, then the first log-in: enrolment of the authenticator.
    admin.submit_password()
    check(page, "enrolment")
    screenshot(page, SHOTS, "01-enrolment")
    expect(page.get_by_text("Demoläge")).to_have_count(0)
    codes = admin.enrol()
    assert len(codes) == 10
    assert len(set(codes)) == 10
    expect(admin.main()).to_contain_text("Du är inte medlem i något forum ännu.")

    # Log out and in again: password, then a TOTP code. A wrong code is refused first.
    admin.log_out()
    check(page, "login")
    admin.submit_password()
    expect(admin.heading("Tvåfaktorsinloggning")).to_be_visible()
    page.get_by_label("Kod från autentiseringsappen eller en reservkod").fill(
        admin.person.wrong_code()
    )
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.get_by_text("Koden stämmer inte.", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Logga ut")).to_have_count(0)
    check(page, "two-factor with an error")
    admin.second_factor()

    # Agencies.
    admin.nav("Administration")
    expect(admin.heading("Myndigheter och verksamheter")).to_be_visible()
    # A refused form opens at its error summary, whose link takes the focus to the field.
    page.get_by_role("button", name="Skapa").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Det finns fel i formuläret")
    summary.get_by_role("link", name=re.compile("^Namn")).click()
    expect(page.get_by_label("Namn", exact=True)).to_be_focused()
    check(page, "error summary")
    for kind, name in (("Socialtjänst", SOCIAL), ("Polis", POLICE), ("Skola", SCHOOL)):
        page.get_by_label("Typ av verksamhet").select_option(label=kind)
        page.get_by_label("Namn", exact=True).fill(name)
        page.get_by_role("button", name="Skapa").click()
        expect(admin.flash()).to_contain_text(f"Myndigheten {name} är skapad.")
    table = page.get_by_role("table")
    for name in (SOCIAL, POLICE, SCHOOL, ADMIN_AGENCY):
        expect(table.get_by_role("link", name=name)).to_be_visible()
    check(page, "admin agencies")

    # Accounts, each with a start password.
    admin_menu = page.get_by_role("navigation", name="Administration")
    for role, (agency, roles, _council_role) in ACCOUNTS.items():
        person = month.people[role]
        admin_menu.get_by_role("link", name="Användare").click()
        page.get_by_role("link", name="Nytt konto").click()
        expect(admin.heading("Nytt konto")).to_be_visible()
        page.get_by_label("Myndighet").select_option(label=agency)
        page.get_by_label("E-postadress").fill(person.email)
        page.get_by_label("Namn", exact=True).fill(person.name)
        page.get_by_label("Startlösenord").fill(person.password)
        roles_box = page.get_by_role("group", name="Roller")
        for label in roles:
            roles_box.get_by_label(label, exact=True).check()
        page.get_by_role("button", name="Spara").click()
        expect(admin.flash()).to_contain_text("Kontot är skapat.")
        person.start_password = True  # replaced at the first log-in
        expect(admin.heading(person.name)).to_be_visible()
        expect(admin.main()).to_contain_text("Ingen tvåfaktor")
    check(page, "admin user")
    admin_menu.get_by_role("link", name="Användare").click()
    users = page.get_by_role("table")
    for person in month.people.values():
        expect(users.get_by_role("link", name=person.name)).to_be_visible()
    check(page, "admin users")

    # The council and its members.
    admin_menu.get_by_role("link", name="Forum").click()
    page.get_by_role("link", name="Nytt forum").click()
    check(page, "admin new council")
    page.get_by_label("Typ av forum").select_option(label="SSPF")
    page.get_by_label("Namn", exact=True).fill(COUNCIL)
    page.get_by_label("Område").fill("Exempelby centrum")
    page.get_by_label("Kod i pseudonymer").fill("EXBY")
    agencies_box = page.get_by_role("group", name="Deltagande myndigheter")
    for name in (SOCIAL, POLICE, SCHOOL):
        agencies_box.get_by_label(name).check()
    page.get_by_role("button", name="Spara").click()
    expect(admin.flash()).to_contain_text("Forumet är skapat.")
    expect(admin.heading(COUNCIL)).to_be_visible()
    # A new council is active from the start.
    expect(admin.main().get_by_text("Inaktivt")).to_have_count(0)
    # Several people at once, one form per role in the council.
    for council_role in ("Samordnare", "Medlem"):
        chosen = [
            (role, agency) for role, (agency, _roles, r) in ACCOUNTS.items() if r == council_role
        ]
        people_box = page.get_by_role("group", name="Användare")
        for role, agency in chosen:
            people_box.get_by_label(f"{month.people[role].name} – {agency}").check()
        page.get_by_label("Roll i forumet").select_option(label=council_role)
        page.get_by_role("button", name="Lägg till i forumet").click()
        added = (
            "1 medlem är tillagd." if len(chosen) == 1 else f"{len(chosen)} medlemmar är tillagda."
        )
        expect(admin.flash()).to_contain_text(added)
    members = page.get_by_role("table")
    for role in ("coordinator", "social", "police", "school"):
        expect(
            members.get_by_role("cell", name=month.people[role].name, exact=True)
        ).to_be_visible()
    expect(members).not_to_contain_text(month.people["auditor"].name)
    # The admin manages the council but sees none of its pages about children.
    expect(page.get_by_role("navigation", name="Forumets sidor")).to_have_count(0)
    check(page, "council as admin")
    screenshot(page, SHOTS, "02-council-admin")

    # The coordinator's first log-in, and the meeting plan.
    coordinator = month.visitor("coordinator")
    page = coordinator.page
    coordinator.open_council(COUNCIL)
    sections = page.get_by_role("navigation", name="Forumets sidor")
    for name in ("Ärenden", "Möten", "Åtgärder", "Rapporter"):
        expect(sections.get_by_role("link", name=name)).to_be_visible()
    expect(section(coordinator, "Nästa möten")).to_contain_text("Inga planerade möten.")
    sections.get_by_role("link", name="Möten").click()
    page.get_by_role("link", name="Mötesplaner").click()
    page.get_by_role("link", name="Ny mötesplan").click()
    check(page, "new schedule")
    first_day = today() + dt.timedelta(days=1)
    page.get_by_label("Namn", exact=True).fill("Månadsmöten")
    page.get_by_label("Upprepning").select_option(label="Första tisdagen varje månad")
    page.get_by_label("Starttid").fill("13:00")
    page.get_by_label("Sluttid").fill("15:00")
    page.get_by_label("Första datum").fill(first_day.isoformat())
    page.get_by_label("Plats", exact=True).fill("Stadshuset, rum 3")
    page.get_by_role("button", name="Spara").click()
    expect(coordinator.flash()).to_contain_text("Schemat är sparat.")
    expect(page.get_by_role("table")).to_contain_text("Månadsmöten")
    check(page, "schedules")

    # Today's meeting: an extra meeting, going on now.
    page.get_by_role("link", name="Lägg till ett extra möte").click()
    expect(coordinator.heading("Lägg till ett extra möte")).to_be_visible()
    # The installation's clock stands at a weekday morning (tests/clock.py), so half an
    # hour ago and two hours on are the same day, whenever the test runs.
    now = INSTALLATION.now()
    start = now.replace(minute=now.minute - now.minute % 5) - dt.timedelta(minutes=30)
    end = start + dt.timedelta(hours=2)
    assert start.date() == end.date() == today(), f"the installation's clock reads {now}"
    expect(page.get_by_label("Datum")).to_have_value(today().isoformat())
    page.get_by_label("Starttid").fill(f"{start:%H:%M}")
    page.get_by_label("Sluttid").fill(f"{end:%H:%M}")
    page.get_by_label("Plats", exact=True).fill("Skolans konferensrum")
    page.get_by_role("button", name="Spara").click()
    expect(coordinator.flash()).to_contain_text(
        "Mötet är tillagt och forumets medlemmar är kallade."
    )
    # The meeting going on now is the first of the upcoming ones; the plan's follow.
    upcoming = page.get_by_role("table")
    today_row = upcoming.get_by_role("row").filter(has_text=today().isoformat())
    expect(today_row).to_have_count(1)
    expect(today_row).to_contain_text("Extra möte")
    month.meeting_path = _path(today_row.get_by_role("link").first.get_attribute("href"))
    planned = upcoming.get_by_role("row").filter(has_text="Månadsmöten")
    expect(planned.first).to_contain_text("Stadshuset, rum 3")
    month.next_meeting_path = _path(planned.first.get_by_role("link").first.get_attribute("href"))
    assert month.next_meeting_path != month.meeting_path
    screenshot(page, SHOTS, "03-meetings")


def _path(href: str | None) -> str:
    assert href and href.startswith("/"), href
    return href


# --- 2. The social secretary enrols a child, registers a consent and prepares the agenda ------


def test_2_social_secretary_enrols_a_child_registers_consent_and_prepares_the_agenda(
    month: Month,
) -> None:
    social = month.visitor("social")
    page = social.page
    social.open_council(COUNCIL)
    social.council_section("Ärenden")
    expect(social.heading("Ärenden")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("Inga ärenden.")
    page.get_by_role("link", name="Skriv in ett barn").click()
    check(page, "enrol a child")
    born = today().replace(year=today().year - 14) - dt.timedelta(days=40)
    given, family = CHILD_NAME
    page.get_by_label("Förnamn").fill(given)
    page.get_by_label("Efternamn").fill(family)
    page.get_by_label("Personnummer eller samordningsnummer").fill(personnummer(born))
    page.get_by_label("Vårdnadshavare 1, namn").fill("Anna Exempeldotter")
    page.get_by_label("Vårdnadshavare 2, namn").fill("Bo Exempelson")
    page.get_by_role("button", name="Skriv in").click()
    flash = social.flash()
    expect(flash).to_contain_text(
        re.compile(rf"Barnet är inskrivet som EXBY-{today().year}-\d{{3}}\.")
    )
    enrolled = re.search(r"EXBY-\d{4}-\d{3}", flash.inner_text())
    assert enrolled is not None
    month.pseudonym = enrolled.group(0)
    expect(social.heading(month.pseudonym)).to_be_visible()
    identity = section(social, "Identitet")
    expect(identity).to_contain_text(f"{given} {family}")
    expect(identity).to_contain_text(born.isoformat())
    # The pseudonym, never the name, is what the address bar and the title carry.
    assert given not in page.url and family not in page.url
    expect(page).to_have_title(re.compile(month.pseudonym))
    check(page, "child as social secretary")

    # The consent: both guardians (the child is 14), covering the school, for meeting notes
    # and agreed actions.
    page.get_by_role("link", name="Samtycken").click()
    expect(social.heading("Samtycken")).to_be_visible()
    page.get_by_label("Vårdnad", exact=True).select_option(
        label="Gemensam vårdnad (två vårdnadshavare)"
    )
    page.get_by_label("Vårdnadshavare 1 har skrivit under (namn)").fill("Anna Exempeldotter")
    page.get_by_label("Vårdnadshavare 2 har skrivit under (namn)").fill("Bo Exempelson")
    page.get_by_label("Mottagare som samtycket omfattar").select_option(label=[SCHOOL])
    page.get_by_label("Slags uppgifter som samtycket omfattar").select_option(
        label=["Mötesanteckning", "Överenskommen åtgärd", "Individuell plan"]
    )
    page.get_by_label("Gäller från").fill(today().isoformat())
    page.get_by_label("Gäller till och med").fill((today() + dt.timedelta(days=365)).isoformat())
    page.get_by_label("Syfte").fill("Samverkan i SSPF om stöd i skolan")
    page.get_by_label("Var den underskrivna blanketten förvaras").fill("Akten hos socialtjänsten")
    page.get_by_role("button", name="Registrera samtycket").click()
    expect(social.flash()).to_contain_text("Samtycket är registrerat.")
    consent = page.locator("section.consent")
    expect(consent).to_have_count(1)
    expect(consent).to_contain_text("Gäller")
    expect(consent).to_contain_text(SCHOOL)
    expect(consent).not_to_contain_text(POLICE)
    check(page, "consents")

    # Today's meeting: the child on the agenda with a brief.
    social.goto(month.meeting_path)
    expect(social.heading(re.compile(f"Möte {today().isoformat()}"))).to_be_visible()
    agenda = section(social, "Dagordning")
    expect(agenda).to_contain_text("Inga barn på dagordningen ännu.")
    expect(agenda).to_contain_text(f"Sista dag att anmäla barn: {today().isoformat()}.")
    page.get_by_label("Barn", exact=True).select_option(label=month.pseudonym)
    page.get_by_label("Skäl", exact=True).select_option(label="Skola")
    page.get_by_label("Kort lägesbeskrivning").fill(BRIEF)
    page.get_by_role("button", name="Lägg till på dagordningen").click()
    expect(social.flash()).to_contain_text("Barnet är tillagt på dagordningen.")
    item = agenda.get_by_role("listitem").filter(has_text=month.pseudonym)
    expect(item).to_contain_text(BRIEF)
    expect(item).to_contain_text(f"Lägesbeskrivning från {SOCIAL}.")
    hidden_everywhere(social, given, family)
    check(page, "meeting page as social secretary")


# --- 3. The coordinator holds the meeting ---------------------------------------------------


def child_section(visitor: Visitor, month: Month) -> Locator:
    return section(visitor, re.compile(rf"^\d+\. {month.pseudonym}$"))


NEW_ENTRY = "Ny anteckning eller nytt beslut"
NEW_ACTION = "Ny åtgärd"


def write_link(visitor: Visitor, month: Month, name: str) -> Locator:
    """A child's link on the workspace to its writing page (named with the pseudonym too)."""
    return child_section(visitor, month).get_by_role("link", name=re.compile(f"^{re.escape(name)}"))


def open_writing(visitor: Visitor, month: Month, name: str) -> Locator:
    """Follow the child's link from the workspace to the child's writing page, as a person
    clicks it, and return the form of that part of the page (new entry or new action)."""
    write_link(visitor, month, name).click()
    expect(visitor.heading("Skriv i protokollet")).to_be_visible()
    return section(visitor, name).locator("form[method=post]")


def share_with(form: Locator, agency: str, basis: str) -> None:
    """Tick an attending agency, choose its basis and confirm every statement of it."""
    form.get_by_role("checkbox", name=agency, exact=True).check()
    choice = form.get_by_role("listitem").filter(
        has=form.page.get_by_role("radio", name=re.compile(f"^{re.escape(basis)}"))
    )
    choice.get_by_role("radio").check()
    for box in choice.get_by_role("checkbox").all():
        box.check()


def test_3_coordinator_holds_the_meeting(month: Month) -> None:
    coordinator = month.visitor("coordinator")
    page = coordinator.goto(month.meeting_path)
    people = month.people

    # Chair and minute taker, then the attendance of everyone who came.
    roles = section(coordinator, "Ordförande och sekreterare")
    me = f"{people['coordinator'].name} – {SOCIAL}"
    roles.get_by_label("Ordförande").select_option(label=me)
    roles.get_by_label("Sekreterare").select_option(label=me)
    roles.get_by_role("button", name="Spara").click()
    expect(coordinator.flash()).to_contain_text("Ordförande och sekreterare är sparade.")
    # The whole meeting's attendance in one form.
    attendance = section(coordinator, "Närvaro")
    for role in ("coordinator", "social", "police", "school"):
        name = people[role].name
        row = attendance.get_by_role("row").filter(has_text=name)
        row.get_by_label(f"Närvaro för {name}").select_option(label="Närvarande")
    attendance.get_by_role("button", name="Spara närvaron").click()
    expect(coordinator.flash()).to_contain_text("Närvaron är sparad. 4 personer ändrade.")
    for role in ("coordinator", "social", "police", "school"):
        expect(
            section(coordinator, "Närvaro").get_by_label(f"Närvaro för {people[role].name}")
        ).to_have_value("present")
    agenda = section(coordinator, "Dagordning")
    expect(agenda).to_contain_text(BRIEF)  # the coordinator works at social services too
    check(page, "meeting page as coordinator")
    screenshot(page, SHOTS, "04-meeting")

    # The workspace: the social services entry, shared with the police (10 kap. 18 a § OSL)
    # and with the school (on the consent).
    page.get_by_role("link", name="Protokoll / arbetsyta").click()
    expect(coordinator.heading("Protokoll / arbetsyta")).to_be_visible()
    expect(page.locator(".minutes-status")).to_have_text("Utkast")
    child = child_section(coordinator, month)
    expect(child).to_contain_text(BRIEF)
    form = open_writing(coordinator, month, NEW_ENTRY)
    expect(child_section(coordinator, month)).to_contain_text(BRIEF)
    form.get_by_label("Typ").select_option(label="Beslut")
    form.get_by_label("Text", exact=True).fill(SOCIAL_ENTRY)
    share_with(form, POLICE, "Socialtjänsten till Polisen om unga under 21 år")
    share_with(form, SCHOOL, "Samtycke")
    # One written assessment for both recipients (issue 19), shown to them with the entry.
    form.get_by_label("Er bedömning i det enskilda fallet").fill(MEETING_ASSESSMENT)
    form.get_by_role("button", name="Lägg till i protokollet").click()
    expect(coordinator.flash()).to_contain_text("Anteckningen är sparad i protokollet.")
    entry = (
        child_section(coordinator, month)
        .locator("article.minutes-entry")
        .filter(has_text=SOCIAL_ENTRY)
    )
    expect(entry).to_contain_text("Beslut")
    expect(entry).to_contain_text(people["coordinator"].name)

    # The police officer, at the meeting, writes the police entry: crime information, shared
    # with social services as a concern report and with nobody else.
    police = month.visitor("police")
    police.goto(month.meeting_path)
    police.page.get_by_role("link", name="Protokoll / arbetsyta").click()
    p_child = child_section(police, month)
    expect(p_child).to_contain_text(SOCIAL_ENTRY)
    expect(p_child).not_to_contain_text(BRIEF)
    hidden_everywhere(police, BRIEF)
    open_writing(police, month, NEW_ENTRY)
    hidden_everywhere(police, BRIEF)  # the writing page withholds it too
    new_entry = section(police, NEW_ENTRY)
    # The one category select: the bases below follow the category chosen.
    new_entry.get_by_label("Kategori", exact=True).select_option(
        label="Brott och polisiär information"
    )
    new_entry.get_by_role("button", name="Byt kategori").click()
    p_form = section(police, NEW_ENTRY).locator("form[method=post]")
    expect(p_form.locator("input[name$='-category']")).to_have_value("crime_police")
    p_form.get_by_label("Text", exact=True).fill(POLICE_ENTRY)
    share_with(p_form, SOCIAL, "Orosanmälan till socialtjänsten")
    expect(p_form.get_by_role("checkbox", name=SCHOOL, exact=True)).not_to_be_checked()
    p_form.get_by_label("Er bedömning i det enskilda fallet").fill(MEETING_ASSESSMENT)
    check(police.page, "writing page as police")
    p_form.get_by_role("button", name="Lägg till i protokollet").click()
    expect(police.flash()).to_contain_text("Anteckningen är sparad i protokollet.")
    expect(child_section(police, month)).to_contain_text(POLICE_ENTRY)
    check(police.page, "workspace as police")

    # The agreed actions: one for the police, one for the school, each description disclosed
    # to the agency that carries it out.
    coordinator.page.reload()
    child = child_section(coordinator, month)
    expect(child).to_contain_text(POLICE_ENTRY)  # the concern report reached social services
    for text, agency, person, due, basis in (
        (
            POLICE_ACTION,
            POLICE,
            people["police"].name,
            2,
            "Socialtjänsten till Polisen om unga under 21 år",
        ),
        (SCHOOL_ACTION, SCHOOL, people["school"].name, 14, "Samtycke"),
    ):
        action_form = open_writing(coordinator, month, NEW_ACTION)
        action_form.get_by_label("Vad ska göras").fill(text)
        action_form.get_by_label("Ansvarig myndighet").select_option(label=agency)
        action_form.get_by_label("Ansvarig person (valfritt)").select_option(
            label=f"{person} ({agency})"
        )
        action_form.get_by_label("Klart senast").fill(
            (today() + dt.timedelta(days=due)).isoformat()
        )
        choice = action_form.get_by_role("listitem").filter(
            has=page.get_by_role(
                "radio", name=re.compile(f"^{re.escape(basis)} .*{re.escape(agency)}")
            )
        )
        choice.get_by_role("radio").first.check()
        for box in choice.get_by_role("checkbox").all():
            box.check()
        action_form.get_by_label("Er bedömning i det enskilda fallet").fill(MEETING_ASSESSMENT)
        action_form.get_by_role("button", name="Lägg till åtgärd").click()
        expect(coordinator.flash()).to_contain_text("Åtgärden är sparad.")
    actions = child_section(coordinator, month).locator("div.action")
    expect(actions).to_have_count(2)
    expect(actions.filter(has_text=POLICE_ACTION)).to_contain_text(
        f"{POLICE}, {people['police'].name}"
    )
    expect(actions.filter(has_text=SCHOOL_ACTION)).to_contain_text("Öppen")
    check(coordinator.page, "workspace as coordinator")
    screenshot(coordinator.page, SHOTS, "05-workspace")


# --- 3b. The same workspace, keyboard only -----------------------------------------------------


def test_3b_social_secretary_writes_an_entry_with_the_keyboard_only(month: Month) -> None:
    social = month.visitor("social")
    page = social.goto(month.meeting_path)
    page.get_by_role("link", name="Protokoll / arbetsyta").click()
    expect(social.heading("Protokoll / arbetsyta")).to_be_visible()

    # The first Tab reaches the skip link, which shows itself and moves the focus to the content.
    skip = page.get_by_role("link", name="Hoppa till innehållet")
    page.keyboard.press("Tab")
    assert focused(skip)
    assert_focus_visible(page)
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, "the skip link stays off screen"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert page.url.endswith("#main")

    # From the content, Tab to the child's "new entry" link, follow it with Enter to the child's
    # writing page (it opens at the form), fill the form in.
    link = write_link(social, month, NEW_ENTRY)
    press_until_focused(page, link)
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(social.heading("Skriv i protokollet")).to_be_visible()
    assert page.url.endswith("#new-entry")
    form = section(social, NEW_ENTRY).locator("form[method=post]")
    kind = form.get_by_label("Typ")
    press_until_focused(page, kind)
    assert_focus_visible(page)
    text = form.get_by_label("Text", exact=True)
    press_until_focused(page, text)
    assert_focus_visible(page)
    page.keyboard.type(KEYBOARD_ENTRY)
    submit = form.get_by_role("button", name="Lägg till i protokollet")
    presses = press_until_focused(page, submit)
    assert_focus_visible(page)
    # Shift+Tab goes back the same way, and Tab returns.
    press_until_focused(page, text, key="Shift+Tab", limit=presses)
    assert_focus_visible(page)
    press_until_focused(page, submit, limit=presses)
    page.keyboard.press("Enter")
    expect(social.flash()).to_contain_text("Anteckningen är sparad i protokollet.")
    entry = (
        child_section(social, month)
        .locator("article.minutes-entry")
        .filter(has_text=KEYBOARD_ENTRY)
    )
    expect(entry).to_contain_text(month.people["social"].name)

    # The same link again, then Space ticks an agency to share with.
    link = write_link(social, month, NEW_ENTRY)
    page.keyboard.press("Tab")
    press_until_focused(page, link)
    page.keyboard.press("Enter")
    expect(social.heading("Skriv i protokollet")).to_be_visible()
    share = section(social, NEW_ENTRY).get_by_role("checkbox", name=POLICE, exact=True)
    press_until_focused(page, share)
    assert_focus_visible(page)
    page.keyboard.press("Space")
    expect(share).to_be_checked()
    screenshot(page, SHOTS, "05b-workspace-new-entry")
    check(page, "writing page as social secretary")
    # Back to the workspace (the next test approves the minutes there, in this tab).
    page.get_by_role("link", name="Till protokollet").click()
    expect(social.heading("Protokoll / arbetsyta")).to_be_visible()


# --- 4. The chair and the adjuster approve; the minutes are locked ------------------------------


def test_3c_social_secretary_writes_the_plan_and_the_meeting_agrees_it(month: Month) -> None:
    """The child's individual plan: a draft with a goal shared with the school on the consent
    and the young person's view kept within social services, agreed at today's meeting (it is
    then recorded against the meeting and locked with its minutes)."""
    social = month.visitor("social")
    page = social.page
    social.open_council(COUNCIL)
    social.council_section("Planer")
    expect(social.heading("Individuella planer")).to_be_visible()
    page.get_by_label("Barn", exact=True).select_option(label=month.pseudonym)
    page.get_by_label("Planens samordnare").select_option(
        label=f"{month.people['coordinator'].name} ({SOCIAL})"
    )
    page.get_by_role("button", name="Upprätta plan").click()
    expect(social.flash()).to_contain_text("Planen är upprättad som ett utkast.")
    month.plan_path = page.url.removeprefix(social.base_url)
    goal = page.locator("#new-goal")
    # A target date in the past is refused, and nothing is saved.
    goal.get_by_label("Livsområde").select_option(label="Skola")
    goal.get_by_label("Mål", exact=True).fill(PLAN_GOAL)
    goal.get_by_label("Så märks det att målet är nått").fill(PLAN_INDICATOR)
    goal.get_by_label("Måldatum").fill((today() - dt.timedelta(days=1)).isoformat())
    goal.get_by_role("button", name="Lägg till målet").click()
    expect(page.locator("#new-goal")).to_contain_text("Måldatumet har redan passerat.")
    goal = page.locator("#new-goal")
    goal.get_by_label("Mål", exact=True).fill(PLAN_GOAL)
    goal.get_by_label("Så märks det att målet är nått").fill(PLAN_INDICATOR)
    goal.get_by_label("Måldatum").fill((today() + dt.timedelta(days=90)).isoformat())
    share_with(goal, SCHOOL, "Samtycke")
    goal.get_by_label("Er bedömning i det enskilda fallet").fill(MEETING_ASSESSMENT)
    goal.get_by_role("button", name="Lägg till målet").click()
    expect(social.flash()).to_contain_text("Målet är tillagt.")
    expect(page.locator("ol.goals")).to_contain_text(PLAN_GOAL)

    page.locator("summary", has_text="Barnets/den unges och vårdnadshavarnas syn").click()
    views = page.locator("form[action$='/views']")
    views.get_by_label("Barnets/den unges syn").fill(YOUTH_VIEW)
    views.get_by_role("button", name="Spara", exact=True).click()
    expect(social.flash()).to_contain_text("Synpunkterna är sparade.")
    page.locator("summary", has_text="Uppföljningsdatum").click()
    dated = page.locator("form[action$='/evaluation-date']")
    dated.get_by_label("Uppföljningsdatum").fill((today() + dt.timedelta(days=28)).isoformat())
    dated.get_by_role("button", name="Spara", exact=True).click()
    expect(social.flash()).to_contain_text("Uppföljningsdatumet är sparat.")

    agree = page.locator("#agree")
    agree.get_by_label("Möte").select_option(label=today().isoformat())
    agree.get_by_role("button", name="Fastställ").click()
    expect(social.flash()).to_contain_text("Planen är fastställd")
    expect(page.locator("#plan-version")).to_contain_text("Fastställd")
    check(page, "plan as social services")
    screenshot(page, SHOTS, "05d-plan")

    # The school reads the goal disclosed on the consent, not the young person's view; the
    # police read neither.
    school = month.visitor("school")
    school.goto(month.plan_path)
    expect(school.main()).to_contain_text(PLAN_GOAL)
    hidden_everywhere(school, YOUTH_VIEW)
    police = month.visitor("police")
    police.goto(month.plan_path)
    expect(police.main()).to_contain_text("Undanhållen")
    hidden_everywhere(police, PLAN_GOAL, PLAN_INDICATOR, YOUTH_VIEW)

    # The agreement is recorded with the meeting's minutes; back to them for the approval.
    social.goto(month.meeting_path)
    page.get_by_role("link", name="Protokoll / arbetsyta").click()
    expect(child_section(social, month)).to_contain_text("Version 1 fastställd vid mötet")


def test_4_chair_and_adjuster_approve_and_the_minutes_lock(month: Month) -> None:
    coordinator = month.visitor("coordinator")
    page = coordinator.goto(month.meeting_path)
    page.get_by_role("link", name="Protokoll / arbetsyta").click()
    approval = section(coordinator, "Justering")
    approval.get_by_label("Justerare").select_option(label=month.people["social"].name)
    approval.get_by_role("button", name="Skicka för justering").click()
    # Sending cannot be undone by the sender: a page of its own says what will happen.
    expect(coordinator.heading("Skicka protokollet för justering")).to_be_visible()
    expect(coordinator.main()).to_contain_text("kan inte ändras medan det väntar på justering")
    check(page, "confirm sending for approval")
    screenshot(page, SHOTS, "05b-confirm-submit")
    coordinator.main().get_by_role("button", name="Skicka för justering").click()
    expect(coordinator.flash()).to_contain_text("Protokollet är skickat för justering.")
    expect(page.locator(".minutes-status")).to_have_text("Väntar på justering")
    # Submitted minutes take no new entries.
    expect(page.get_by_text("Ny anteckning eller nytt beslut")).to_have_count(0)
    section(coordinator, "Justering").get_by_role("link", name="Justera protokollet").click()
    expect(coordinator.heading("Justera protokollet")).to_be_visible()
    expect(coordinator.main()).to_contain_text("Protokollet låses när även den andra har justerat.")
    coordinator.main().get_by_role("button", name="Justera", exact=True).click()
    expect(coordinator.flash()).to_contain_text(
        "Din justering är sparad. Den andra justeringen saknas."
    )
    expect(
        section(coordinator, "Justering").get_by_role("link", name="Justera protokollet")
    ).to_have_count(0)

    social = month.visitor("social")
    social.page.reload()
    expect(social.page.locator(".minutes-status")).to_have_text("Väntar på justering")
    section(social, "Justering").get_by_role("link", name="Justera protokollet").click()
    expect(social.heading("Justera protokollet")).to_be_visible()
    expect(social.main()).to_contain_text("Protokollet blir justerat och låses.")
    check(social.page, "confirm approval")
    screenshot(social.page, SHOTS, "05c-confirm-approve")
    social.main().get_by_role("button", name="Justera och lås protokollet").click()
    expect(social.flash()).to_contain_text("Protokollet är justerat och låst.")
    expect(social.page.locator(".minutes-status")).to_have_text("Justerat och låst")
    expect(social.main()).to_contain_text("Ändringar görs som rättelser.")
    digest = section(social, "Justering").locator("code.digest")
    expect(digest).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    # Locked: no new entries, no edits, no new actions; corrections only (as "Rätta").
    for summary in ("Ny anteckning eller nytt beslut", "Ny åtgärd", "Ändra"):
        expect(social.page.get_by_text(summary, exact=True)).to_have_count(0)
    expect(child_section(social, month).get_by_text("Rätta", exact=True)).to_have_count(2)
    check(social.page, "approved minutes")
    screenshot(social.page, SHOTS, "06-approved")

    # The approved minutes as PDF/A: what social services may read, the digest of the lock.
    lock_digest = digest.inner_text()
    with social.page.expect_download() as download:
        social.page.get_by_role("link", name="Ladda ned protokollet (PDF/A)").click()
    assert download.value.suggested_filename.endswith(".pdf")
    reader = PdfReader(download.value.path())
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    assert SOCIAL_ENTRY in text and month.pseudonym in text
    assert lock_digest in re.sub(r"\s+", "", text)
    assert reader.xmp_metadata is not None  # the PDF/A identification


# --- 5. The police and the school follow up ----------------------------------------------------


def test_5_police_see_only_what_was_disclosed_and_update_their_action(month: Month) -> None:
    police = month.visitor("police")
    page = police.page
    police.nav("Mina åtgärder")
    expect(police.heading("Mina åtgärder")).to_be_visible()
    rows = page.get_by_role("table").get_by_role("row").filter(has_text=month.pseudonym)
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(POLICE_ACTION)
    hidden_everywhere(police, SCHOOL_ACTION)
    check(page, "my actions as police")

    # The council's actions: the school's is listed, its description withheld with a reason.
    police.open_council(COUNCIL)
    police.council_section("Åtgärder")
    rows = page.get_by_role("table").get_by_role("row").filter(has_text=month.pseudonym)
    expect(rows).to_have_count(2)
    school_row = rows.filter(has_text=SCHOOL)
    expect(school_row).to_contain_text("Undanhållen")
    hidden_everywhere(police, SCHOOL_ACTION)
    check(page, "council actions as police")

    # The minutes as the police see them.
    police.goto(month.meeting_path)
    page.get_by_role("link", name="Protokoll / arbetsyta").click()
    child = child_section(police, month)
    expect(child).to_contain_text(SOCIAL_ENTRY)
    expect(child).to_contain_text(POLICE_ENTRY)
    expect(child).to_contain_text(POLICE_ACTION)
    expect(child).to_contain_text("Uppgiften visas inte:")
    hidden_everywhere(police, BRIEF, KEYBOARD_ENTRY, SCHOOL_ACTION)

    # The child: pseudonym only, the identity withheld.
    police.goto(month.meeting_path)
    section(police, "Dagordning").get_by_role("link", name=month.pseudonym).click()
    expect(police.heading(month.pseudonym)).to_be_visible()
    expect(section(police, "Identitet")).to_contain_text("Undanhållen")
    hidden_everywhere(police, *CHILD_NAME, BRIEF)
    check(page, "child as police")

    # Follow-up: the police action is under way, with a comment only the police can read.
    police.nav("Mina åtgärder")
    page.get_by_role("table").get_by_role("link", name=month.pseudonym).click()
    expect(police.heading(f"Åtgärd för {month.pseudonym}")).to_be_visible()
    expect(page.locator(".action-description")).to_contain_text(POLICE_ACTION)
    expect(page.locator("#action-status")).to_have_text("Öppen")
    page.get_by_label("Ny status").select_option(label="Pågår")
    page.get_by_label("Kommentar", exact=True).fill(POLICE_COMMENT)
    # Nothing is shared unless ticked: the council's agencies are offered, none chosen.
    share = page.get_by_role("group", name="Lämna ut kommentaren till forumets myndigheter")
    for box in share.get_by_role("checkbox").all():
        expect(box).not_to_be_checked()
    page.get_by_role("button", name="Spara").click()
    expect(police.flash()).to_contain_text("Åtgärden är uppdaterad.")
    expect(page.locator("#action-status")).to_have_text("Pågår")
    history = page.get_by_role("list").filter(has_text="Öppen → Pågår")
    expect(history).to_contain_text(POLICE_COMMENT)
    expect(history).to_contain_text(month.people["police"].name)
    check(page, "action as police")
    screenshot(page, SHOTS, "07-action")

    # The scheduler e-mails the reminder of an action due within three days; the mail and the
    # notification say where to look, never what about.
    month.stack.flask("scheduler", "run-job", "minutes.action_due_reminders")
    inbox = month.stack.inbox
    wait_for(lambda: bool(inbox.to(month.people["police"].email)), "the reminder e-mail", 60)
    mail = inbox.to(month.people["police"].email)[0]
    body = mail.get_body(("plain",))
    assert body is not None
    text = str(body.get_content())
    assert f"{month.stack.base_url}/actions/" in text
    for secret in (month.pseudonym, POLICE_ACTION, *CHILD_NAME):
        assert secret not in text and secret not in str(mail["Subject"])
    police.nav("Notiser")
    notice = page.get_by_role("row").filter(has_text=f"En åtgärd från {COUNCIL} ska vara klar")

    # The job marks the row as sent once the server took the mail: after the mail arrived.
    def marked_sent() -> bool:
        page.reload()
        return "E-post skickad" in notice.inner_text()

    wait_for(marked_sent, "the notification marked as e-mailed", 30)
    hidden_everywhere(police, month.pseudonym)
    check(page, "notifications as police")
    notice.get_by_role("link").click()
    expect(police.heading(f"Åtgärd för {month.pseudonym}")).to_be_visible()


def test_5b_school_sees_its_action_and_nothing_of_the_police_entry(month: Month) -> None:
    school = month.visitor("school")
    page = school.page
    school.nav("Mina åtgärder")
    rows = page.get_by_role("table").get_by_role("row").filter(has_text=month.pseudonym)
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(SCHOOL_ACTION)
    hidden_everywhere(school, POLICE_ACTION, POLICE_ENTRY)
    check(page, "my actions as school")

    school.goto(month.meeting_path)
    page.get_by_role("link", name="Protokoll / arbetsyta").click()
    child = child_section(school, month)
    expect(child).to_contain_text(SOCIAL_ENTRY)  # disclosed on the consent
    expect(child).to_contain_text(SCHOOL_ACTION)
    hidden_everywhere(school, POLICE_ENTRY, POLICE_ACTION, BRIEF, KEYBOARD_ENTRY, *CHILD_NAME)
    check(page, "workspace as school")
    screenshot(page, SHOTS, "08-workspace-school")


# --- 5c. The police request information; social services assess and answer ---------------------

REQUEST_PURPOSE = (
    "Vi har uppgifter om hot mot den unge och behöver veta om oro finns [markör REQ-6P]"
)
REQUEST_ASSESSMENT = (
    "Polisen behöver veta detta inför helgen för att skydda den unge [markör ASS-1B]"
)
REQUEST_NOTE = "Mer än detta lämnar vi inte ut nu [markör ANS-4C]"


def test_5c_police_request_information_answered_by_social_services(month: Month) -> None:
    police = month.visitor("police")
    page = police.page
    police.goto(month.meeting_path)
    section(police, "Dagordning").get_by_role("link", name=month.pseudonym).click()
    expect(police.heading(month.pseudonym)).to_be_visible()
    hidden_everywhere(police, KEYBOARD_ENTRY)
    page.locator(".actions").get_by_role("link", name="Begär uppgifter").click()
    expect(police.heading("Begär uppgifter")).to_be_visible()
    page.get_by_label("Myndighet som tillfrågas").select_option(label=SOCIAL)
    page.get_by_label("Vilka uppgifter").select_option(label="Allt ni har om barnet")
    page.get_by_label("Rättslig grund som ni anser gäller").select_option(value="sol-police-u21")
    page.get_by_label("Hur brådskande").select_option(label="Brådskande")
    page.get_by_label("Vad uppgifterna behövs till").fill(REQUEST_PURPOSE)
    check(page, "request form as police")
    page.get_by_role("button", name="Skicka begäran").click()
    expect(police.flash()).to_contain_text("Begäran är skickad.")
    expect(police.main()).to_contain_text("Öppen")

    # Social services are told that a request waits, with nothing of it in the notice.
    social = month.visitor("social")
    social.nav("Notiser")
    notice = social.page.get_by_role("row").filter(
        has_text="En begäran om uppgifter väntar på er bedömning"
    )
    expect(notice).to_have_count(1)
    hidden_everywhere(social, REQUEST_PURPOSE)
    social.nav("Begäranden")
    incoming = social.page.get_by_role("table").filter(has_text="Till din myndighet")
    expect(incoming.get_by_role("row").filter(has_text=month.pseudonym)).to_contain_text("0 dagar")
    check(social.page, "requests as social services")
    incoming.get_by_role("link", name=month.pseudonym).click()
    expect(social.heading("Begäran om uppgifter")).to_be_visible()
    expect(social.main()).to_contain_text(REQUEST_PURPOSE)
    answer = section(social, "Lämna ut uppgifter som svar")
    answer.get_by_label(re.compile(re.escape("Skriven med tangentbordet"))).check()
    expect(answer.get_by_label(re.compile("Socialtjänsten till Polisen"))).to_be_checked()
    for box in answer.locator("input[name^='confirm-sol-police-u21-']").all():
        box.check()
    answer.get_by_label("Er bedömning i det enskilda fallet").fill(REQUEST_ASSESSMENT)
    check(social.page, "request answer as social services")
    answer.get_by_role("button", name=re.compile("Lämna ut valda uppgifter")).click()
    expect(social.flash()).to_contain_text("1 uppgifter är utlämnade som svar på begäran.")
    closing = section(social, "Avsluta begäran")
    closing.get_by_label("Svar").select_option(value="answered")
    closing.get_by_label(re.compile("Kommentar")).fill(REQUEST_NOTE)
    closing.get_by_role("button", name="Avsluta begäran").click()
    expect(social.flash()).to_contain_text("Begäran är avslutad.")

    # The police read the answer, the disclosed entry and the assessment behind it.
    police.nav("Begäranden")
    outgoing = page.get_by_role("table").filter(has_text="Från din myndighet")
    expect(outgoing.get_by_role("row").filter(has_text=month.pseudonym)).to_contain_text("Besvarad")
    outgoing.get_by_role("link", name=month.pseudonym).click()
    expect(police.main()).to_contain_text(REQUEST_NOTE)
    page.get_by_role("link", name="Uppgifterna finns på barnets sida.").click()
    expect(police.main()).to_contain_text(KEYBOARD_ENTRY)
    expect(police.main()).to_contain_text(REQUEST_ASSESSMENT)
    screenshot(page, SHOTS, "08b-request-answered")

    # The school, not a party, sees nothing of the request.
    school = month.visitor("school")
    school.nav("Begäranden")
    hidden_everywhere(school, REQUEST_PURPOSE, REQUEST_NOTE, REQUEST_ASSESSMENT, KEYBOARD_ENTRY)


# --- 6. The consent is revoked ------------------------------------------------------------------


def test_6_revoking_the_consent_ends_what_rested_on_it(month: Month) -> None:
    social = month.visitor("social")
    page = social.page
    social.goto(month.meeting_path)
    section(social, "Dagordning").get_by_role("link", name=month.pseudonym).click()
    page.get_by_role("link", name="Samtycken").click()
    consent = page.locator("section.consent")
    consent.get_by_label("Skäl").select_option(label="Vårdnadshavare har återkallat")
    consent.get_by_role("button", name="Återkalla samtycket").click()
    assert social.dialogs[-1].startswith("Återkalla samtycket?")
    expect(social.flash()).to_contain_text("Samtycket är återkallat.")
    expect(page.locator("section.consent")).to_contain_text(f"Återkallat {today().isoformat()}")

    school = month.visitor("school")
    # The school's last page was its request list (test 5c): back to the minutes.
    school.goto(f"{month.meeting_path}/minutes")
    child = child_section(school, month)
    expect(child).to_contain_text("Uppgiften visas inte:")
    hidden_everywhere(school, SOCIAL_ENTRY, SCHOOL_ACTION, POLICE_ENTRY)
    # The action itself is still the school's to carry out: its metadata stays visible.
    school.nav("Mina åtgärder")
    rows = school.page.get_by_role("table").get_by_role("row").filter(has_text=month.pseudonym)
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Undanhållen")
    hidden_everywhere(school, SCHOOL_ACTION)

    # The police entry's basis was not the consent: the police still read the social entry.
    police = month.visitor("police")
    police.goto(month.meeting_path)
    police.page.get_by_role("link", name="Protokoll / arbetsyta").click()
    expect(child_section(police, month)).to_contain_text(SOCIAL_ENTRY)


# --- 7. The next meeting, and the log review ---------------------------------------------------


def test_7_next_agenda_shows_open_actions_and_the_auditor_reviews_the_month(month: Month) -> None:
    coordinator = month.visitor("coordinator")
    # Today's meeting is held now (its minutes went for approval), and the report counts it.
    page = coordinator.goto(month.meeting_path)
    expect(page.locator("dl.identity")).to_contain_text("Genomfört")
    coordinator.open_council(COUNCIL)
    coordinator.council_section("Rapporter")
    expect(page.locator("#meetings-held")).to_have_text("1")
    expect(page.locator("#children-discussed")).to_have_text("1")
    check(page, "reports")

    page = coordinator.goto(month.next_meeting_path)
    item = (
        section(coordinator, "Dagordning").get_by_role("listitem").filter(has_text=month.pseudonym)
    )
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Öppna åtgärder")
    expect(item).to_contain_text("Överenskommen åtgärd")
    check(page, "next meeting")
    page.get_by_role("link", name="Protokoll / arbetsyta").click()
    earlier = child_section(coordinator, month).get_by_role("list").filter(has_text=POLICE_ACTION)
    expect(earlier).to_contain_text("Pågår")
    expect(earlier).to_contain_text(SCHOOL_ACTION)
    # The police comment was not disclosed: social services see the change, not the comment.
    coordinator.open_council(COUNCIL)
    coordinator.council_section("Åtgärder")
    page.get_by_role("row").filter(has_text=POLICE_ACTION).get_by_role("link").click()
    history = page.get_by_role("list").filter(has_text="Öppen → Pågår")
    expect(history).to_contain_text("Undanhållen")
    hidden_everywhere(coordinator, POLICE_COMMENT)

    # A month on, at the next meeting, the plan is evaluated: the goal was reached. The plan
    # agreed at the first meeting is locked with its minutes: a change is a new version.
    page = coordinator.goto(month.plan_path)
    expect(coordinator.main()).to_contain_text("Låst")
    expect(page.get_by_role("button", name="Lägg till målet")).to_have_count(0)
    page.locator("summary", has_text="Följ upp målet").click()
    page.get_by_label("Hur gick det?").select_option(label="Uppnått")
    page.get_by_label("Kommentar").fill(EVALUATION)
    page.get_by_role("button", name="Spara uppföljningen").click()
    expect(coordinator.flash()).to_contain_text("Uppföljningen av målet är sparad.")
    expect(page.locator("#plan-version")).to_contain_text("Uppföljd")
    expect(page.locator("p.evaluation")).to_contain_text(EVALUATION)
    check(page, "evaluated plan")
    with page.expect_download() as download:
        page.get_by_role("link", name="Planen för familjen (PDF)").click()
    reader = PdfReader(download.value.path())
    text = "\n".join(p.extract_text() or "" for p in reader.pages)
    squeezed = re.sub(r"\s+", "", text)
    assert "Dinplan" in squeezed and "EVAL-5H" in squeezed and "GOAL-6P" in squeezed
    assert month.pseudonym not in text and month.pseudonym not in download.value.suggested_filename
    police = month.visitor("police")
    police.goto(month.plan_path)
    hidden_everywhere(police, EVALUATION, PLAN_GOAL)
    # The consent was revoked: the goal it carried to the school is withheld from it now.
    school = month.visitor("school")
    school.goto(month.plan_path)
    expect(school.main()).to_contain_text("Undanhållen")
    hidden_everywhere(school, PLAN_GOAL, EVALUATION)

    # The auditor of social services reviews the month.
    auditor = month.visitor("auditor")
    page = auditor.page
    expect(auditor.main()).to_contain_text("Du är inte medlem i något forum ännu.")
    auditor.nav("Loggkontroll")
    expect(auditor.heading("Loggkontroll")).to_be_visible()
    page.get_by_label("Barnets pseudonym").fill(month.pseudonym)
    page.get_by_role("button", name="Filtrera").click()
    events = page.get_by_role("table")
    expect(events).to_contain_text(month.people["social"].name)
    expect(events).to_contain_text(month.people["police"].name)  # viewed a social services record
    for secret in (SOCIAL_ENTRY, BRIEF, POLICE_ENTRY, *CHILD_NAME):
        assert secret not in page.content()
    check(page, "log review events")
    screenshot(page, SHOTS, "09-log-review")
    page.get_by_role("navigation", name="Loggkontroll", exact=True).get_by_role(
        "link", name="Månadsgranskning"
    ).click()
    page.get_by_role("link", name=re.compile(f"{today():%Y-%m}")).first.click()
    report = page.get_by_role("table")
    # Views and disclosures of the auditor's own agency's users, and the other agencies' views
    # of its records: the police officer read a social services entry.
    expect(report).to_contain_text(month.people["coordinator"].name)
    expect(report).to_contain_text(month.people["social"].name)
    expect(report).to_contain_text(month.people["police"].name)
    check(page, "monthly review")

    # The chain holds, and the scheduler signed it (its catch-up run at start).
    result = month.stack.flask("audit", "verify")
    assert "Loggkedjan är hel" in result.stdout
    assert re.search(r"Kontrollpunkter: [1-9]\d* kontrollerade, alla giltiga", result.stdout), (
        result.stdout
    )
