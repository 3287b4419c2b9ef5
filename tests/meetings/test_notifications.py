"""The notification outbox: de-duplication, texts without personal data, SMTP delivery to a
real server on loopback (retries, backoff, never twice), and the notification pages."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent, AuditTag
from coordination.db import utcnow
from coordination.models import AgencyKind, User
from meetings import jobs
from meetings.models import (
    Attendance,
    EmailStatus,
    Notification,
    NotificationPreference,
)
from meetings.notifications.mail import (
    BACKOFF,
    MAX_ATTEMPTS,
    MailConfigurationError,
    MailSettings,
    SmtpTransport,
    Transport,
    deliver_outbox,
    message_id,
)
from meetings.notifications.services import (
    PlannedNotification,
    agenda_preparation_message,
    meeting_reminder_message,
    notify,
    notify_many,
)
from secrecy.records.services import create_record
from tests.conftest import Council3, log_in, sql_statements
from tests.factories import enrol, make_meeting, put_on_agenda

SOCIAL = AgencyKind.SOCIAL_SERVICES
POLICE = AgencyKind.POLICE
BASE_URL = "https://samverkan.kommun.example"
SENDER = "Samverkan <noreply@kommun.example>"
MARKER = "MARKER-XYZ"
# Valid personnummer (check digit), born 2012-12-12.
PERSONNUMMER = "20121212-1212"


# --- Helpers --------------------------------------------------------------------------------------


def add_notification(
    db: Session, user: User, key: str, subject: str = "Något behöver göras"
) -> Notification:
    notification = notify(
        db,
        user,
        kind="test",
        subject=subject,
        body="Se Samverkan.",
        link="/meetings/1",
        dedup_key=key,
    )
    assert notification is not None
    return notification


def outbox(db: Session) -> list[Notification]:
    db.expire_all()
    return list(db.scalars(select(Notification).order_by(Notification.id)))


@dataclass
class Inbox:
    """What the loopback SMTP server accepted, plus replies to give instead of accepting."""

    messages: list[EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.replies:
                return self.replies.pop(0)
            self.raw.append(envelope.content)
            self.recipients.append(list(envelope.rcpt_tos))
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self.messages.append(parsed)
        return "250 OK"

    def config(self, **overrides: Any) -> dict[str, Any]:
        return {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": self.port,
            "SMTP_SECURITY": "none",
            "SMTP_FROM": SENDER,
            "SMTP_TIMEOUT": 5,
            "BASE_URL": BASE_URL,
            **overrides,
        }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[Inbox]:
    inbox = Inbox(port=free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def checkbox(html: str) -> str:
    match = re.search(r'<input[^>]*name="email_enabled"[^>]*>', html)
    assert match is not None
    return match.group(0)


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


# --- De-duplication and the texts -----------------------------------------------------------------


def test_the_same_dedup_key_twice_gives_one_notification(db: Session, world: Council3) -> None:
    user = world.members[SOCIAL]
    first = notify(
        db, user, kind="k", subject="Ämne", body="Text", link="/meetings/7", dedup_key="same:1"
    )
    second = notify(
        db, user, kind="k", subject="Annat", body="Annan", link="/meetings/8", dedup_key="same:1"
    )
    assert first is not None and first.id
    assert second is None
    rows = outbox(db)
    assert [(n.dedup_key, n.subject, n.link) for n in rows] == [("same:1", "Ämne", "/meetings/7")]
    assert rows[0].email_status is EmailStatus.PENDING and rows[0].attempts == 0
    # The caller's transaction is still usable after the clash.
    assert notify(
        db, user, kind="k", subject="Ämne", body="Text", link="/meetings/7", dedup_key="other:1"
    )
    assert len(outbox(db)) == 2


def test_many_at_once_skip_the_keys_already_there_and_count_the_new(
    db: Session, world: Council3
) -> None:
    user = world.members[SOCIAL]
    notify(db, user, kind="k", subject="Ämne", body="Text", link="/meetings/1", dedup_key="k:1")

    def planned(key: str) -> PlannedNotification:
        return PlannedNotification(user, "k", f"Ämne {key}", "Text", "/meetings/2", key)

    assert notify_many(db, [planned(f"k:{n}") for n in range(1, 6)], batch=2) == 4
    assert notify_many(db, [planned("k:3"), planned("k:6")]) == 1
    rows = outbox(db)
    assert sorted(n.dedup_key for n in rows) == [f"k:{n}" for n in range(1, 7)]
    assert next(n for n in rows if n.dedup_key == "k:1").subject == "Ämne"  # the first one stays
    with pytest.raises(ValueError, match="internal path"):
        notify_many(db, [PlannedNotification(user, "k", "Ämne", "Text", "/x?name=Kalle", "k:9")])
    assert len(outbox(db)) == 6


@pytest.mark.parametrize(
    "link",
    [
        "https://elsewhere.example/meetings/1",
        "//elsewhere.example/x",
        "/children/1?name=Kalle",
        "/meetings/1#Kalle Andersson",
        "javascript:alert(1)",
        "meetings/1",
        "/Children/Kalle",
    ],
)
def test_a_link_is_an_internal_path_of_words_and_ids(
    db: Session, world: Council3, link: str
) -> None:
    with pytest.raises(ValueError, match="internal path"):
        notify(
            db,
            world.members[SOCIAL],
            kind="k",
            subject="Ämne",
            body="Text",
            link=link,
            dedup_key="x",
        )
    assert outbox(db) == []


def test_texts_name_the_council_and_the_time_only(world: Council3) -> None:
    user = world.members[SOCIAL]
    # 12 March 2026 13:00 in Stockholm (CET, UTC+1).
    starts_at = dt.datetime(2026, 3, 12, 12, 0, tzinfo=dt.UTC)
    prep = agenda_preparation_message(user, "Bob-råd Centrum", starts_at, 41)
    assert prep.subject == "Dagordningen för Bob-råd Centrum 12 mars behöver förberedas"
    assert "kl. 13:00" in prep.body
    assert prep.link == "/meetings/41"
    reminder = meeting_reminder_message(user, "Bob-råd Centrum", starts_at, 41)
    assert reminder.subject == "Påminnelse: möte i Bob-råd Centrum 12 mars kl. 13:00"
    assert reminder.link == "/meetings/41"


# --- SMTP delivery --------------------------------------------------------------------------------


def test_due_notifications_are_mailed_once_each_to_a_real_smtp_server(
    db: Session, world: Council3, smtp_server: Inbox
) -> None:
    social, police = world.members[SOCIAL], world.members[POLICE]
    first = add_notification(db, social, "k:1", "Första ämnet")
    add_notification(db, police, "k:2", "Andra ämnet")
    now = utcnow()

    report = deliver_outbox(db, smtp_server.config(), now)

    assert (report.sent, report.skipped, report.deferred, report.failed) == (2, 0, 0, 0)
    assert smtp_server.recipients == [[social.email], [police.email]]
    message = smtp_server.messages[0]
    assert message["Subject"] == "Första ämnet"
    assert message["From"] == SENDER
    assert message["To"] == social.email
    assert message["Message-ID"] == message_id("k:1", SENDER)
    assert message["Message-ID"].endswith("@kommun.example>")
    assert message["Auto-Submitted"] == "auto-generated"
    # The body is the notification's text and the absolute link, nothing else.
    assert text_of(message) == f"Se Samverkan.\n\n{BASE_URL}/meetings/1\n"
    rows = outbox(db)
    assert all(n.email_status is EmailStatus.SENT for n in rows)
    assert all(n.attempts == 1 and n.sent_at == now and n.last_error is None for n in rows)

    # A second run finds nothing due: nothing is sent twice.
    again = deliver_outbox(db, smtp_server.config(), now + dt.timedelta(hours=1))
    assert again.handled == 0
    assert len(smtp_server.messages) == 2
    assert first.id == rows[0].id


def test_a_temporary_refusal_is_retried_with_backoff_then_sent_once(
    db: Session, world: Council3, smtp_server: Inbox
) -> None:
    add_notification(db, world.members[SOCIAL], "retry:1")
    smtp_server.replies = ["451 4.3.0 Försök igen senare"]
    now = utcnow()

    first = deliver_outbox(db, smtp_server.config(), now)
    assert (first.sent, first.deferred) == (0, 1)
    (row,) = outbox(db)
    assert row.email_status is EmailStatus.PENDING
    assert row.attempts == 1
    assert row.last_error == "SMTPDataError 451"
    assert row.next_attempt_at == now + BACKOFF[0]
    assert smtp_server.messages == []

    # Not due yet: untouched.
    early = deliver_outbox(db, smtp_server.config(), now + BACKOFF[0] - dt.timedelta(seconds=1))
    assert early.handled == 0

    later = now + BACKOFF[0]
    second = deliver_outbox(db, smtp_server.config(), later)
    assert second.sent == 1
    (row,) = outbox(db)
    assert (row.email_status, row.attempts, row.sent_at, row.last_error) == (
        EmailStatus.SENT,
        2,
        later,
        None,
    )
    assert deliver_outbox(db, smtp_server.config(), later + dt.timedelta(days=1)).handled == 0
    assert len(smtp_server.messages) == 1


def test_an_unreachable_server_backs_off_1_5_30_120_minutes_then_gives_up(
    db: Session, world: Council3
) -> None:
    add_notification(db, world.members[SOCIAL], "closed:1")
    add_notification(db, world.members[POLICE], "closed:2")
    config = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": free_port(),  # nothing listens here
        "SMTP_SECURITY": "none",
        "SMTP_FROM": SENDER,
        "BASE_URL": BASE_URL,
        "SMTP_TIMEOUT": 2,
    }
    now = utcnow()
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = deliver_outbox(db, config, now)
        first, second = outbox(db)
        assert first.attempts == attempt
        assert first.last_error == "ConnectionRefusedError"
        # The server is the problem, not the message: the run stops after the first try and
        # the other notification is left as it was.
        assert second.attempts == 0 and second.email_status is EmailStatus.PENDING
        if attempt < MAX_ATTEMPTS:
            assert (report.deferred, report.failed) == (1, 0)
            assert first.email_status is EmailStatus.PENDING
            assert first.next_attempt_at is not None
            waits.append(first.next_attempt_at - now)
            now = first.next_attempt_at
        else:
            assert (report.deferred, report.failed) == (0, 1)
            assert first.email_status is EmailStatus.FAILED
            assert first.next_attempt_at is None
    assert waits == [dt.timedelta(minutes=m) for m in (1, 5, 30, 120)]


def test_a_permanent_refusal_fails_at_once_and_the_rest_go_on(
    db: Session, world: Council3, smtp_server: Inbox
) -> None:
    add_notification(db, world.members[SOCIAL], "perm:1")
    add_notification(db, world.members[POLICE], "perm:2")
    smtp_server.replies = ["550 5.1.1 Mottagaren finns inte"]

    report = deliver_outbox(db, smtp_server.config(), utcnow())

    assert (report.sent, report.failed) == (1, 1)
    first, second = outbox(db)
    assert (first.email_status, first.attempts, first.last_error) == (
        EmailStatus.FAILED,
        1,
        "SMTPDataError 550",
    )
    assert second.email_status is EmailStatus.SENT
    assert smtp_server.recipients == [[world.members[POLICE].email]]


def test_email_off_and_inactive_users_are_skipped_but_kept_in_the_app(
    db: Session, world: Council3, smtp_server: Inbox
) -> None:
    off, inactive, on = (world.members[k] for k in (SOCIAL, POLICE, AgencyKind.SCHOOL))
    db.add(NotificationPreference(user_id=off.id, email_enabled=False))
    inactive.active = False
    db.flush()
    for user in (off, inactive, on):
        add_notification(db, user, f"pref:{user.id}")

    report = deliver_outbox(db, smtp_server.config(), utcnow())

    assert (report.sent, report.skipped) == (1, 2)
    by_user = {n.recipient_id: n for n in outbox(db)}
    assert by_user[off.id].email_status is EmailStatus.SKIPPED
    assert by_user[off.id].last_error == "email_disabled"
    assert by_user[inactive.id].email_status is EmailStatus.SKIPPED
    assert by_user[inactive.id].last_error == "recipient_inactive"
    assert by_user[on.id].email_status is EmailStatus.SENT
    assert smtp_server.recipients == [[on.email]]


def test_without_smtp_nothing_is_mailed_and_nothing_waits_to_flood_later(
    db: Session, world: Council3
) -> None:
    add_notification(db, world.members[SOCIAL], "nosmtp:1")
    report = deliver_outbox(db, {"SMTP_HOST": None}, utcnow())
    assert report.skipped == 1
    (row,) = outbox(db)
    assert (row.email_status, row.last_error, row.read_at) == (
        EmailStatus.SKIPPED,
        "smtp_not_configured",
        None,
    )


def test_incomplete_smtp_settings_are_refused_and_nothing_changes(
    db: Session, world: Council3
) -> None:
    add_notification(db, world.members[SOCIAL], "incomplete:1")
    with pytest.raises(MailConfigurationError, match="SAMVERKAN_BASE_URL"):
        deliver_outbox(db, {"SMTP_HOST": "mail.example", "SMTP_FROM": SENDER}, utcnow())
    with pytest.raises(MailConfigurationError, match="SMTP_SECURITY"):
        MailSettings.from_config(
            {"SMTP_HOST": "m", "SMTP_FROM": SENDER, "BASE_URL": BASE_URL, "SMTP_SECURITY": "tls"}
        )
    settings = MailSettings.from_config(
        {"SMTP_HOST": "m", "SMTP_FROM": SENDER, "BASE_URL": BASE_URL + "/", "SMTP_PORT": None}
    )
    assert settings is not None
    assert (settings.port, settings.security, settings.base_url) == (587, "starttls", BASE_URL)
    (row,) = outbox(db)
    assert row.email_status is EmailStatus.PENDING and row.attempts == 0


class CrashAfter:
    """A transport that dies (not an SMTP error: the process itself) at a chosen point."""

    def __init__(self, settings: MailSettings, *, sends_before_crash: int, after_send: bool):
        self._real = SmtpTransport(settings)
        self._left = sends_before_crash
        self._after_send = after_send

    def send(self, message: EmailMessage) -> None:
        if self._left == 0 and not self._after_send:
            raise RuntimeError("crash before sending")
        self._real.send(message)
        if self._left == 0:
            raise RuntimeError("crash after the server accepted, before the commit")
        self._left -= 1

    def close(self) -> None:
        self._real.close()


def deliver_until_crash(
    db: Session, smtp_server: Inbox, now: dt.datetime, *, sends_before_crash: int, after_send: bool
) -> None:
    """A delivery run whose transport crashes as ``CrashAfter`` is told to, then the rollback
    the job runner does."""

    def crashing(settings: MailSettings) -> Transport:
        return CrashAfter(settings, sends_before_crash=sends_before_crash, after_send=after_send)

    with pytest.raises(RuntimeError, match="before the commit" if after_send else "before sending"):
        deliver_outbox(db, smtp_server.config(), now, transport_factory=crashing)
    db.rollback()


def test_a_crash_mid_run_loses_nothing_and_sends_nothing_twice(
    db: Session, world: Council3, smtp_server: Inbox
) -> None:
    for n, kind in enumerate((SOCIAL, POLICE, AgencyKind.SCHOOL)):
        add_notification(db, world.members[kind], f"crash:{n}")
    db.commit()  # the reminder job committed them
    now = utcnow()
    deliver_until_crash(db, smtp_server, now, sends_before_crash=1, after_send=False)
    statuses = [n.email_status for n in outbox(db)]
    assert statuses == [EmailStatus.SENT, EmailStatus.PENDING, EmailStatus.PENDING]

    report = deliver_outbox(db, smtp_server.config(), now)
    assert report.sent == 2
    assert [n.email_status for n in outbox(db)] == [EmailStatus.SENT] * 3
    ids = [m["Message-ID"] for m in smtp_server.messages]
    assert len(ids) == 3 and len(set(ids)) == 3


def test_a_crash_between_acceptance_and_commit_resends_that_one_message_with_its_message_id(
    db: Session, world: Council3, smtp_server: Inbox
) -> None:
    """The documented at-least-once boundary: one message, recognisable as the same."""
    add_notification(db, world.members[SOCIAL], "boundary:1")
    add_notification(db, world.members[POLICE], "boundary:2")
    db.commit()  # the reminder job committed them
    now = utcnow()
    deliver_until_crash(db, smtp_server, now, sends_before_crash=0, after_send=True)
    assert [n.email_status for n in outbox(db)] == [EmailStatus.PENDING] * 2

    deliver_outbox(db, smtp_server.config(), now)

    ids = [m["Message-ID"] for m in smtp_server.messages]
    assert ids == [
        message_id("boundary:1", SENDER),
        message_id("boundary:1", SENDER),
        message_id("boundary:2", SENDER),
    ]


# --- No personal data, whatever the agenda holds --------------------------------------------------


def test_agenda_briefs_names_and_pseudonyms_never_reach_notifications_or_mail(
    app: Flask, db: Session, world: Council3, smtp_server: Inbox
) -> None:
    social = world.members[SOCIAL]
    child = enrol(db, social, world.council, PERSONNUMMER)
    brief = create_record(db, social, child, "meeting_note", MARKER)
    # A fixed day: the preparation reminder goes out six days ahead, before the agenda
    # deadline (three working days before the meeting), the meeting reminder a day ahead.
    now = dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC)
    meeting = make_meeting(db, world.council, now + dt.timedelta(hours=20))
    put_on_agenda(db, meeting, child, brief_record_id=brief.id, added_by_id=social.id)
    for user in [*world.members.values(), world.coordinator]:
        db.add(Attendance(meeting_id=meeting.id, user_id=user.id))
    db.flush()

    created = jobs.agenda_preparation_reminders(
        db, now - dt.timedelta(days=6)
    ) + jobs.meeting_reminders(db, now)
    assert created == 2 + len(world.members) + 1  # social member and coordinator prepare
    deliver_outbox(db, smtp_server.config(), now)

    rows = outbox(db)
    assert len(smtp_server.messages) == len(rows) == created
    secrets = [
        MARKER,
        child.pseudonym,
        "Kalle",
        "Hemligsson",
        PERSONNUMMER,
        "121212",
        *(u.display_name for u in [*world.members.values(), world.coordinator]),
    ]
    for row in rows:
        for secret in secrets:
            assert secret not in row.subject
            assert secret not in row.body
            assert secret not in row.link
        assert row.link == f"/meetings/{meeting.id}"
        assert "Testrådet" in row.subject
    for raw in smtp_server.raw:
        decoded = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(decoded, EmailMessage)
        whole = raw.decode("utf-8", "replace") + str(decoded["Subject"]) + text_of(decoded)
        for secret in secrets:
            assert secret not in whole

    # The police have no basis for the brief: their notification page shows no trace of it.
    police = log_in(app.test_client(), world.members[POLICE])
    page = police.get("/notifications")
    assert page.status_code == 200
    assert "Påminnelse: möte i Testrådet" in page.text
    for secret in secrets[:4]:
        assert secret not in page.text


# --- Pages ----------------------------------------------------------------------------------------


def test_the_list_shows_own_notifications_newest_first_and_marks_them_read(
    app: Flask, db: Session, world: Council3
) -> None:
    social, police = world.members[SOCIAL], world.members[POLICE]
    old = add_notification(db, social, "page:old", "Den äldre notisen")
    new = add_notification(db, social, "page:new", "Den nyare notisen")
    old.created_at = utcnow() - dt.timedelta(days=1)
    add_notification(db, police, "page:police", "Polisens notis")
    db.flush()
    client = log_in(app.test_client(), social)

    page = client.get("/notifications")
    assert page.status_code == 200
    assert page.text.index("Den nyare notisen") < page.text.index("Den äldre notisen")
    assert "Polisens notis" not in page.text
    assert 'href="/meetings/1"' in page.text

    assert client.post(f"/notifications/{new.id}/read").status_code == 302
    db.expire_all()
    assert new.read_at is not None and old.read_at is None

    assert client.post("/notifications/read-all").status_code == 302
    db.expire_all()
    assert old.read_at is not None
    assert "Markera som läst" not in client.get("/notifications").text


def test_another_users_notification_is_refused_and_logged(
    app: Flask, db: Session, world: Council3
) -> None:
    theirs = add_notification(db, world.members[POLICE], "theirs:1", "Polisens notis")
    client = log_in(app.test_client(), world.members[SOCIAL])

    refused = client.post(f"/notifications/{theirs.id}/read")
    missing = client.post("/notifications/999999/read")

    assert refused.status_code == 403 and missing.status_code == 403
    assert "Polisens notis" not in refused.text
    db.expire_all()
    assert theirs.read_at is None
    denied = db.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.ACCESS_DENIED.value)
    ).all()
    assert [(e.object_type, e.object_ids) for e in denied] == [
        ("notification", [theirs.id]),
        ("notification", [999999]),
    ]
    # Marking all read touches one's own only.
    client.post("/notifications/read-all")
    db.expire_all()
    assert theirs.read_at is None


def test_the_list_is_paginated(app: Flask, db: Session, world: Council3) -> None:
    social = world.members[SOCIAL]
    start = utcnow() - dt.timedelta(days=1)
    for n in range(51):
        row = add_notification(db, social, f"many:{n}", f"Notis nummer {n:03d}")
        row.created_at = start + dt.timedelta(minutes=n)
    db.flush()
    client = log_in(app.test_client(), social)

    first = client.get("/notifications")
    second = client.get("/notifications?page=2")

    assert "Notis nummer 050" in first.text and "Notis nummer 001" in first.text
    assert "Notis nummer 000" not in first.text
    assert "Sida 1 av 2" in first.text
    assert "Notis nummer 000" in second.text and "Notis nummer 001" not in second.text


def test_the_header_shows_the_unread_count_with_one_count_query(
    app: Flask, db: Session, world: Council3
) -> None:
    social = world.members[SOCIAL]
    for n in range(3):
        add_notification(db, social, f"head:{n}")
    read = add_notification(db, social, "head:read")
    read.read_at = utcnow()
    add_notification(db, world.members[POLICE], "head:police")
    db.flush()
    client = log_in(app.test_client(), social)

    with sql_statements(app) as seen:
        page = client.get("/")
        anonymous = app.test_client().get("/login")
    statements = [statement for statement in seen if "notifications" in statement]

    assert page.status_code == 200 and anonymous.status_code == 200
    assert '<strong aria-hidden="true">(3)</strong>' in page.text
    assert '<span class="visually-hidden">3 olästa</span>' in page.text
    assert len(statements) == 1
    assert "count(" in statements[0].lower()


def test_email_can_be_switched_off_and_on_and_delivery_respects_it(
    app: Flask, db: Session, world: Council3, smtp_server: Inbox
) -> None:
    social = world.members[SOCIAL]
    client = log_in(app.test_client(), social)
    assert "checked" in checkbox(client.get("/notifications").text)

    assert client.post("/notifications/email", data={}).status_code == 302
    db.expire_all()
    assert db.get(NotificationPreference, social.id).email_enabled is False  # type: ignore[union-attr]
    add_notification(db, social, "toggle:1")
    deliver_outbox(db, smtp_server.config(), utcnow())
    assert smtp_server.messages == []
    assert outbox(db)[0].email_status is EmailStatus.SKIPPED

    assert "checked" not in checkbox(client.get("/notifications").text)

    assert client.post("/notifications/email", data={"email_enabled": "y"}).status_code == 302
    db.expire_all()
    assert "checked" in checkbox(client.get("/notifications").text)
    assert db.get(NotificationPreference, social.id).email_enabled is True  # type: ignore[union-attr]
    add_notification(db, social, "toggle:2")
    deliver_outbox(db, smtp_server.config(), utcnow())
    assert smtp_server.recipients == [[social.email]]
    assert db.scalar(select(func.count()).select_from(NotificationPreference)) == 1, (
        "one preference row per user"
    )


@pytest.mark.csrf
def test_posts_without_a_csrf_token_change_nothing(
    app: Flask, db: Session, world: Council3
) -> None:
    social = world.members[SOCIAL]
    mine = add_notification(db, social, "csrf:1")
    client = log_in(app.test_client(), social)

    assert client.post(f"/notifications/{mine.id}/read").status_code == 400
    assert client.post("/notifications/read-all").status_code == 400
    assert client.post("/notifications/email", data={}).status_code == 400
    db.expire_all()
    assert mine.read_at is None
    assert db.get(NotificationPreference, social.id) is None
