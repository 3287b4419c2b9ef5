"""Per-kind notification settings (the page, and notify and notify_many respecting them), the
outbox that does not say "E-post väntar" without an SMTP server, preparation reminders that stop
at the agenda deadline, and the warning 14 days before a disclosure lapses by itself."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE
from coordination.errors import ServiceError
from coordination.models import AgencyKind
from meetings import jobs
from meetings.models import EmailStatus, Notification, NotificationSetting
from meetings.notifications.lapse_warnings import disclosure_lapse_warnings
from meetings.notifications.services import PlannedNotification, notify, notify_many
from meetings.notifications.settings import EMAIL_OFF_FOR_KIND, Channels, save_settings
from secrecy.disclosure.services import decide_disclosure
from secrecy.records.children import EnrolmentData, enrol_child
from secrecy.records.services import create_record
from tests.conftest import Council3, log_in
from tests.factories import (
    ASSESSED,
    disclose_under_21_rule,
)
from tests.meetings.test_notifications import make_meeting, outbox
from tests.secrecy.test_crypto import personnummer
from tests.secrecy.test_disclosure import enrol_with_record, on_consent_form

SOCIAL = AgencyKind.SOCIAL_SERVICES
POLICE = AgencyKind.POLICE
# Wednesday 4 March 2026, 11:00 in Sweden.
NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)


def planned(user, kind: str, key: str) -> PlannedNotification:  # type: ignore[no-untyped-def]
    return PlannedNotification(
        recipient=user, kind=kind, subject="Något", body="Se Samverkan.", link="/meetings/1",
        dedup_key=key,
    )  # fmt: skip


def send(db: Session, user, kind: str, key: str) -> Notification | None:  # type: ignore[no-untyped-def]
    return notify(
        db, user, kind=kind, subject="Något", body="Se Samverkan.", link="/meetings/1",
        dedup_key=key,
    )  # fmt: skip


# --- The settings page ----------------------------------------------------------------------------


def test_each_user_sets_their_own_channels_per_kind(
    app: Flask, db: Session, world: Council3
) -> None:
    social, police = world.members[SOCIAL], world.members[POLICE]
    client = log_in(app.test_client(), social)
    page = client.get("/notifications/settings")
    assert page.status_code == 200
    for label in ("Protokoll skickat till dig för justering", "Ett utlämnande upphör snart",
                  "Åtgärd som du är ansvarig för", "Dagordningen behöver förberedas"):  # fmt: skip
        assert label in page.text
    assert page.text.count("checked") == 2 * page.text.count('name="in_app-')

    # Meeting reminders: in the app only; agenda preparation: not at all; the rest as before.
    form = {
        "in_app-meeting_reminder": "on",
        "in_app-minutes_submitted": "on",
        "email-minutes_submitted": "on",
    }
    saved = client.post("/notifications/settings", data=form)
    assert saved.status_code == 302
    db.expire_all()
    rows = {
        r.kind: (r.in_app, r.email)
        for r in db.scalars(
            select(NotificationSetting).where(NotificationSetting.user_id == social.id)
        )
    }
    assert rows["meeting_reminder"] == (True, False)
    assert rows["agenda_preparation"] == (False, False)
    assert "minutes_submitted" not in rows  # both on: the default, no row
    # Nobody else's: the police member's settings are untouched, and their page shows theirs.
    assert (
        db.scalars(
            select(NotificationSetting).where(NotificationSetting.user_id == police.id)
        ).all()
        == []
    )
    police_page = log_in(app.test_client(), police).get("/notifications/settings")
    assert police_page.text.count("checked") == 2 * police_page.text.count('name="in_app-')
    again = client.get("/notifications/settings").text
    assert 'name="in_app-agenda_preparation" ' in again
    assert 'id="in_app-agenda_preparation" name="in_app-agenda_preparation" checked' not in again


def test_the_settings_page_needs_a_login_and_a_csrf_token(
    app: Flask, db: Session, world: Council3
) -> None:
    assert app.test_client().get("/notifications/settings").status_code == 302  # to the login
    app.config["WTF_CSRF_ENABLED"] = True
    client = log_in(app.test_client(), world.members[SOCIAL])
    refused = client.post("/notifications/settings", data={"in_app-meeting_reminder": "on"})
    assert refused.status_code == 400
    assert db.scalars(select(NotificationSetting)).all() == []


def test_notify_respects_the_recipients_channels(app: Flask, db: Session, world: Council3) -> None:
    social = world.members[SOCIAL]
    with app.app_context():  # the registered kinds
        save_settings(
            db,
            social,
            {
                "agenda_preparation": Channels(in_app=False, email=False),
                "meeting_reminder": Channels(in_app=True, email=False),
                "minutes_submitted": Channels(in_app=False, email=True),
            },
        )
    assert send(db, social, "agenda_preparation", "s:1") is None
    in_app_only = send(db, social, "meeting_reminder", "s:2")
    assert in_app_only is not None
    assert (in_app_only.email_status, in_app_only.last_error) == (
        EmailStatus.SKIPPED,
        EMAIL_OFF_FOR_KIND,
    )
    mail_only = send(db, social, "minutes_submitted", "s:3")
    assert mail_only is not None and mail_only.email_status is EmailStatus.PENDING
    assert not mail_only.in_app
    default = send(db, social, "action_due", "s:4")
    assert default is not None and default.in_app and default.email_status is EmailStatus.PENDING
    assert [n.dedup_key for n in outbox(db)] == ["s:2", "s:3", "s:4"]
    with app.app_context(), pytest.raises(ServiceError):
        save_settings(db, social, {"no_such_kind": Channels()})


def test_notify_many_respects_each_recipients_channels(
    app: Flask, db: Session, world: Council3
) -> None:
    social, police = world.members[SOCIAL], world.members[POLICE]
    with app.app_context():
        save_settings(db, social, {"meeting_reminder": Channels(in_app=False, email=False)})
        save_settings(db, police, {"meeting_reminder": Channels(in_app=True, email=False)})
    created = notify_many(
        db,
        [
            planned(social, "meeting_reminder", "m:social"),
            planned(police, "meeting_reminder", "m:police"),
            planned(social, "agenda_preparation", "a:social"),
        ],
    )
    assert created == 2
    rows = {n.dedup_key: n for n in outbox(db)}
    assert set(rows) == {"m:police", "a:social"}
    assert rows["m:police"].email_status is EmailStatus.SKIPPED
    assert rows["a:social"].email_status is EmailStatus.PENDING


def test_notifications_off_in_the_app_are_neither_listed_nor_counted(
    app: Flask, db: Session, world: Council3
) -> None:
    social = world.members[SOCIAL]
    with app.app_context():
        save_settings(db, social, {"minutes_submitted": Channels(in_app=False, email=True)})
    hidden = notify(
        db, social, kind="minutes_submitted", subject="Dold-i-appen", body="x",
        link="/meetings/1", dedup_key="hidden",
    )  # fmt: skip
    assert hidden is not None
    send(db, social, "meeting_reminder", "shown")
    page = log_in(app.test_client(), social).get("/notifications").text
    assert "Dold-i-appen" not in page and "Något" in page
    assert "1 notis" in page


# --- "E-post väntar" only when something will send it --------------------------------------------


def test_the_outbox_says_email_waits_only_with_an_smtp_server(
    app: Flask, db: Session, world: Council3
) -> None:
    social = world.members[SOCIAL]
    send(db, social, "meeting_reminder", "smtp:1")
    client = log_in(app.test_client(), social)
    assert not app.config.get("SMTP_HOST")
    without = client.get("/notifications").text
    assert "E-post väntar" not in without
    assert "Ingen e-post (ingen e-postserver är inställd)" in without
    app.config["SMTP_HOST"] = "smtp.example.invalid"
    try:
        with_smtp = client.get("/notifications").text
    finally:
        app.config.pop("SMTP_HOST")
    assert "E-post väntar" in with_smtp
    start = client.get("/").text
    assert "E-post väntar" not in start


# --- Preparation reminders stop at the agenda deadline -------------------------------------------


def test_no_preparation_reminder_after_the_agenda_deadline(db: Session, world: Council3) -> None:
    # Monday 9 March 13:00: the agenda deadline is three working days before, Wednesday 4 March.
    starts = dt.datetime(2026, 3, 9, 13, 0, tzinfo=LOCAL_ZONE)
    make_meeting(db, world.council, starts)
    after = dt.datetime(2026, 3, 5, 8, 0, tzinfo=LOCAL_ZONE)
    assert jobs.agenda_preparation_reminders(db, after) == 0
    assert outbox(db) == []
    on_the_day = dt.datetime(2026, 3, 4, 16, 0, tzinfo=LOCAL_ZONE)
    created = jobs.agenda_preparation_reminders(db, on_the_day)
    # The council's social services member and the coordinator (social services).
    assert created == 2
    assert {n.kind for n in outbox(db)} == {"agenda_preparation"}


# --- Disclosures lapsing soon ---------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_owner_hears_14_days_ahead_that_a_disclosure_lapses_once(
    app: Flask, db: Session, world: Council3
) -> None:
    social, police = world.members[SOCIAL], world.members[POLICE]
    police_agency = world.agencies[POLICE]

    def disclosed(born: dt.date, serial: int, text: str) -> int:
        child = enrol_child(
            db,
            social,
            world.council,
            EnrolmentData("Hemlig", "Namnsson", personnummer(born, serial)),
        )
        record = create_record(db, social, child, "risk_protective", text)
        decide_disclosure(
            db, social, record, police_agency, "sol-police-u21", (0, 1, 2, 3), assessment=ASSESSED
        )
        return child.id

    soon = disclosed(dt.date(2005, 3, 12), 101, "Innehåll-Hemligt-1")  # 21 on 12 March
    disclosed(dt.date(2005, 4, 30), 102, "Innehåll-Hemligt-2")  # 21 in eight weeks

    assert disclosure_lapse_warnings(db, NOW) == 1
    assert disclosure_lapse_warnings(db, NOW + dt.timedelta(hours=24)) == 0  # once
    (row,) = outbox(db)
    assert row.recipient_id == social.id  # who decided it, of the owner agency
    assert row.kind == "disclosure_lapsing"
    assert "12 mars 2026" in row.subject
    assert row.link == f"/children/{soon}"
    for secret in ("Innehåll-Hemligt", "Hemlig", "Namnsson", "NORR", police_agency.name):
        assert secret not in row.subject + row.body + row.link
    # The recipient agency is told nothing, and its page shows nothing of it.
    assert [n for n in outbox(db) if n.recipient_id == police.id] == []
    page = log_in(app.test_client(), police).get("/notifications").text
    assert "upphör" not in page


@time_machine.travel(NOW, tick=False)
def test_a_departed_decider_leaves_the_warning_to_the_owner_agencys_members(
    db: Session, world: Council3
) -> None:
    social = world.members[SOCIAL]
    child = enrol_child(
        db, social, world.council, EnrolmentData("A", "B", personnummer(dt.date(2005, 3, 10), 103))
    )
    record = create_record(db, social, child, "risk_protective", "x")
    disclose_under_21_rule(db, social, record, world.agencies[POLICE])
    social.active = False
    db.flush()
    assert disclosure_lapse_warnings(db, NOW) == 1
    assert [n.recipient_id for n in outbox(db)] == [world.coordinator.id]


@time_machine.travel(NOW, tick=False)
def test_a_consent_ending_soon_warns_the_owner_of_the_disclosures_resting_on_it(
    app: Flask, db: Session, world: Council3, client_for
) -> None:
    social = client_for(SOCIAL)
    record = enrol_with_record(social, world.council.id, db, "Samtyckesmarkör")
    school_agency = world.agencies[AgencyKind.SCHOOL]
    consent_form = {
        "custody": "one",
        "guardian_1": "Gun Provsson",
        "young_person": "Vilgot Provsson",
        "agency_ids": [school_agency.id],
        "categories": ["risk_protective"],
        "valid_from": "2026-03-01",
        "valid_to": "2026-03-10",
        "purpose": "SSPF-samverkan",
        "form_location": "Pärm 3",
    }
    assert (
        social.post(f"/children/{record.child_id}/consents", data=consent_form).status_code == 302
    )
    done = social.post(
        f"/records/{record.id}/disclose",
        data=on_consent_form(
            school_agency.id,
            "Skolan behöver veta om oron inför terminsstarten; samtycket gäller.",
        ),
    )
    assert done.status_code == 302
    assert disclosure_lapse_warnings(db, NOW) == 1
    (row,) = outbox(db)
    assert row.recipient_id == world.members[SOCIAL].id
    assert "11 mars 2026" in row.subject  # the first day after the consent's last
    for secret in ("Samtyckesmarkör", "Gun Provsson", "Vilgot", "Pärm 3", school_agency.name):
        assert secret not in row.subject + row.body + row.link
    assert [n for n in outbox(db) if n.recipient_id == world.members[AgencyKind.SCHOOL].id] == []
