"""E-mail delivery of the notification outbox over SMTP (``smtplib``).

``deliver_outbox`` sends the due notifications one message at a time. For each it claims the
row (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has a single writer), sends
it, marks it SENT and commits, all in one transaction. So:

- **never lost**: a row leaves PENDING only as SENT, SKIPPED or FAILED. A failed send is retried
  after 1, 5, 30 and 120 minutes (``BACKOFF``); after the fifth failed attempt, or a permanent
  (5xx) refusal of the message, it is FAILED. A FAILED or SKIPPED notification is still shown in
  the app, which is the record either way.
- **sent once, at least**: the one gap is a crash (or lost database connection) after the SMTP
  server accepted a message and before the commit marking it SENT. Then that one message, and
  only that one, is sent again by the next run. It carries the same ``Message-ID`` (derived from
  the notification's dedup key), so receiving systems and mail clients can drop the copy. The
  gap cannot be closed from our side: SMTP has no two-phase commit.
- **no concurrent double send**: a second deliverer skips the locked row (PostgreSQL); the
  scheduler's leader lock normally keeps a second deliverer from running at all. On SQLite
  (development) the claim takes the database's single write lock, so other writers wait while
  one message is handed to the server (at most ``SMTP_TIMEOUT`` per step).

Without ``SMTP_HOST`` nothing is e-mailed: due rows become SKIPPED with ``last_error``
"smtp_not_configured", so configuring SMTP later does not flood people with old reminders.
Users with e-mail switched off, and deactivated users (or users of a deactivated agency), get
SKIPPED too ("email_disabled", "recipient_inactive"). ``last_error`` holds a code only, never a
server's reply text (which may quote the address).

The message is the notification's subject, its body and the absolute link (``BASE_URL`` + path);
nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from coordination.models import User
from coordination.ops.metrics import count_outbox_failure
from meetings.models import EmailStatus, Notification, NotificationPreference

logger = logging.getLogger("samverkan.mail")

# Wait before the 2nd, 3rd, 4th and 5th attempt; the 5th failure is final.
BACKOFF = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(minutes=120),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
# Messages sent per run at most; the next run (a minute later) continues.
DEFAULT_BATCH = 500


class MailConfigurationError(RuntimeError):
    """SMTP_HOST is set but the rest of the mail settings cannot work."""


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    security: str
    sender: str
    base_url: str
    timeout: float
    user: str | None = None
    password: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings | None:
        """None without SMTP_HOST (e-mail off); raises when the settings are incomplete."""
        host = config.get("SMTP_HOST")
        if not host:
            return None
        security = str(config.get("SMTP_SECURITY") or "starttls").lower()
        if security not in SECURITY_MODES:
            raise MailConfigurationError(
                f"SAMVERKAN_SMTP_SECURITY must be one of {', '.join(SECURITY_MODES)}."
            )
        sender = config.get("SMTP_FROM")
        base_url = config.get("BASE_URL")
        missing = [
            name
            for name, value in (("SAMVERKAN_SMTP_FROM", sender), ("SAMVERKAN_BASE_URL", base_url))
            if not value
        ]
        if missing:
            raise MailConfigurationError(
                "SAMVERKAN_SMTP_HOST is set, so e-mail is on; it also needs " + ", ".join(missing)
            )
        try:
            port = int(config.get("SMTP_PORT") or DEFAULT_PORTS[security])
            timeout = float(config.get("SMTP_TIMEOUT") or 10)
        except (TypeError, ValueError) as exc:
            raise MailConfigurationError(
                "SAMVERKAN_SMTP_PORT and SAMVERKAN_SMTP_TIMEOUT must be numbers."
            ) from exc
        user = config.get("SMTP_USER")
        password = config.get("SMTP_PASSWORD")
        return cls(
            host=str(host),
            port=port,
            security=security,
            sender=str(sender),
            base_url=str(base_url).rstrip("/"),
            timeout=timeout,
            user=str(user) if user else None,
            password=str(password) if password is not None else None,
        )


# --- Transport ------------------------------------------------------------------------------------


class SmtpUnavailable(Exception):
    """Connecting, TLS or login failed, or the connection dropped: no message is at fault."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(type(cause).__name__)
        self.cause = cause


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


class SmtpTransport:
    """One SMTP connection, opened on the first message and reused for the run."""

    def __init__(self, settings: MailSettings) -> None:
        self._settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        smtp: smtplib.SMTP
        if s.security == "ssl":
            smtp = smtplib.SMTP_SSL(timeout=s.timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(timeout=s.timeout)
        try:
            smtp.connect(s.host, s.port)
            if s.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if s.user:
                smtp.login(s.user, s.password or "")
        except (smtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise SmtpUnavailable(exc) from exc
        return smtp

    def send(self, message: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPServerDisconnected as exc:
            self.close()
            raise SmtpUnavailable(exc) from exc
        except smtplib.SMTPException:
            raise  # the server's answer to this message (SMTPException is an OSError too)
        except OSError as exc:
            self.close()
            raise SmtpUnavailable(exc) from exc

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


# --- The message ----------------------------------------------------------------------------------


def message_id(dedup_key: str, sender: str) -> str:
    """Stable per notification, so a resent copy is recognisable as the same message."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "samverkan.invalid"
    digest = hashlib.sha256(dedup_key.encode()).hexdigest()[:32]
    return f"<samverkan.{digest}@{domain}>"


def build_message(
    notification: Notification, address: str, settings: MailSettings, now: dt.datetime
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = notification.subject
    message["From"] = settings.sender
    message["To"] = address
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(notification.dedup_key, settings.sender)
    # RFC 3834: no out-of-office replies to a machine.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(f"{notification.body}\n\n{settings.base_url}{notification.link}\n")
    return message


# --- Delivery -------------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    skipped: int = 0
    deferred: int = 0  # failed this time, retried later
    failed: int = 0  # given up

    @property
    def handled(self) -> int:
        return self.sent + self.skipped + self.deferred + self.failed


def _claim_next(session: Session, now: dt.datetime) -> Notification | None:
    return session.scalars(
        select(Notification)
        .where(
            Notification.email_status == EmailStatus.PENDING,
            or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
        )
        .order_by(Notification.id)
        .limit(1)
        # Rows another deliverer is sending are skipped, not waited for (PostgreSQL; SQLite
        # ignores the clause and serialises writers anyway). Fresh attributes: the session keeps
        # objects across commits.
        .with_for_update(skip_locked=True, of=Notification)
        .execution_options(populate_existing=True)
    ).first()


def _skip_reason(session: Session, recipient: User | None, settings: MailSettings | None) -> str:
    if recipient is None or not recipient.is_active:
        return "recipient_inactive"
    enabled = session.scalar(
        select(NotificationPreference.email_enabled).where(
            NotificationPreference.user_id == recipient.id
        )
    )
    if enabled is False:
        return "email_disabled"
    if settings is None:
        return "smtp_not_configured"
    return ""


def _error_code(exc: BaseException) -> tuple[str, bool]:
    """(code for last_error, permanent?). Only 5xx replies to the message itself are final."""
    cause = exc.cause if isinstance(exc, SmtpUnavailable) else exc
    code: int | None = None
    if isinstance(cause, smtplib.SMTPRecipientsRefused) and cause.recipients:
        code = next(iter(cause.recipients.values()))[0]
    elif isinstance(cause, smtplib.SMTPResponseException):
        code = cause.smtp_code
    name = type(cause).__name__
    permanent = (
        not isinstance(exc, SmtpUnavailable)
        and not isinstance(cause, smtplib.SMTPSenderRefused)
        and code is not None
        and code >= 500
    )
    return (f"{name} {code}" if code is not None else name)[:200], permanent


def _record_failure(notification: Notification, exc: BaseException, now: dt.datetime) -> bool:
    """Count the attempt; True when the notification is given up (FAILED)."""
    code, permanent = _error_code(exc)
    notification.attempts += 1
    notification.last_error = code
    if permanent or notification.attempts >= MAX_ATTEMPTS:
        notification.email_status = EmailStatus.FAILED
        notification.next_attempt_at = None
        return True
    notification.next_attempt_at = now + BACKOFF[notification.attempts - 1]
    return False


TransportFactory = Callable[[MailSettings], Transport]


def deliver_outbox(
    session: Session,
    config: Mapping[str, Any],
    now: dt.datetime,
    *,
    transport_factory: TransportFactory = SmtpTransport,
    batch: int = DEFAULT_BATCH,
) -> DeliveryReport:
    """Send the due PENDING notifications; commits after each one (see the module docstring).

    An unexpected exception (not SMTP, not the network) propagates with the current row's
    transaction uncommitted: the caller rolls back and the row stays PENDING for the next run.
    """
    settings = MailSettings.from_config(config)
    report = DeliveryReport()
    transport: Transport | None = None
    try:
        while report.handled < batch:
            notification = _claim_next(session, now)
            if notification is None:
                break
            recipient = session.get(User, notification.recipient_id)
            reason = _skip_reason(session, recipient, settings)
            if reason or recipient is None or settings is None:
                notification.email_status = EmailStatus.SKIPPED
                notification.last_error = reason
                session.commit()
                report.skipped += 1
                continue
            try:
                message = build_message(notification, recipient.email, settings, now)
            except (ValueError, TypeError):
                # A message that cannot be built never will be: give it up rather than let it
                # block the outbox (it stays in the app).
                notification.email_status = EmailStatus.FAILED
                notification.last_error = "invalid_message"
                session.commit()
                count_outbox_failure(gave_up=True)
                report.failed += 1
                continue
            if transport is None:
                transport = transport_factory(settings)
            try:
                transport.send(message)
            except (smtplib.SMTPException, SmtpUnavailable, OSError) as exc:
                gave_up = _record_failure(notification, exc, now)
                session.commit()
                count_outbox_failure(gave_up)
                if gave_up:
                    report.failed += 1
                else:
                    report.deferred += 1
                logger.warning(
                    "notification %s: e-mail attempt %s failed (%s)",
                    notification.id,
                    notification.attempts,
                    notification.last_error,
                )
                if isinstance(exc, SmtpUnavailable):
                    break  # the server is the problem: leave the rest for the next run
                continue
            notification.email_status = EmailStatus.SENT
            notification.attempts += 1
            notification.sent_at = now
            notification.next_attempt_at = None
            notification.last_error = None
            session.commit()
            report.sent += 1
    finally:
        if transport is not None:
            transport.close()
    return report
