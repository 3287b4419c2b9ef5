"""The real thing, started for the browser tests: a fresh PostgreSQL database migrated with
Alembic, the app under gunicorn (two workers) and the scheduler process (``flask scheduler
run``), in production mode, with a loopback SMTP server that keeps what it is sent.

Nothing here imports the application: the processes are started the way an operator starts
them, from the repository root with ``SAMVERKAN_*`` settings in the environment, on the test
clock of ``tests.clock`` (a fixed weekday morning) unless a test asks for the real one.
"""

from __future__ import annotations

import base64
import email
import email.policy
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import psycopg
from aiosmtpd.controller import Controller

from tests.clock import INSTALLATION, Clock

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# The server where scratch databases are created and dropped (user postgres, trust auth).
PG_SERVER = os.environ.get("E2E_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")
START_TIMEOUT = 60.0
POLL = 0.1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(condition: Callable[[], bool], what: str, timeout: float = START_TIMEOUT) -> None:
    """Poll a condition until it holds; fail naming what never happened."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(POLL)


# --- Mail -------------------------------------------------------------------------------------


@dataclass
class Inbox:
    """What the loopback SMTP server accepted."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(parsed)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


class SmtpSink:
    def __init__(self) -> None:
        self.inbox = Inbox(port=free_port())
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.inbox.port)

    def __enter__(self) -> Inbox:
        self._controller.start()
        return self.inbox

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


# --- The database -----------------------------------------------------------------------------


def _admin_connection() -> psycopg.Connection[Any]:
    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True)


def create_database(name: str) -> str:
    """A fresh, empty database (an earlier run's leftover is dropped first); its SQLAlchemy URL."""
    with _admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_SERVER.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"


def drop_database(name: str) -> None:
    with _admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- The processes ----------------------------------------------------------------------------


def production_settings(database_url: str, inbox: Inbox, base_url: str) -> dict[str, str]:
    """What an operator sets in production, plus the one switch plain-http loopback needs:
    production makes the session cookie Secure (HTTPS only), and the browser here talks to
    gunicorn over http://127.0.0.1, so SESSION_COOKIE_SECURE is switched off explicitly."""
    return {
        "SAMVERKAN_ENV": "production",
        "SAMVERKAN_DATABASE_URL": database_url,
        "SAMVERKAN_SECRET_KEY": secrets.token_urlsafe(48),
        "SAMVERKAN_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "SAMVERKAN_REQUIRE_2FA": "true",
        "SAMVERKAN_SESSION_COOKIE_SECURE": "false",
        "SAMVERKAN_SMTP_HOST": "127.0.0.1",
        "SAMVERKAN_SMTP_PORT": str(inbox.port),
        "SAMVERKAN_SMTP_SECURITY": "none",
        "SAMVERKAN_SMTP_FROM": "Samverkan <noreply@exempelby.example>",
        "SAMVERKAN_BASE_URL": base_url,
        # The outbox is e-mailed every few seconds instead of every minute, so a test sees the
        # real scheduler deliver without waiting long.
        "SAMVERKAN_SCHEDULER_OUTBOX_SECONDS": "2",
    }


@dataclass
class Stack:
    """One installation: database, settings, gunicorn and the scheduler, on one clock."""

    name: str
    inbox: Inbox
    clock: Clock = INSTALLATION
    port: int = field(default_factory=free_port)
    settings: dict[str, str] = field(default_factory=dict)
    log_dir: Path = field(init=False)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    database_url: str = ""

    def __post_init__(self) -> None:
        self.log_dir = ARTIFACTS / self.name / "logs"
        shutil.rmtree(self.log_dir, ignore_errors=True)
        self.log_dir.mkdir(parents=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self, extra: Mapping[str, str]) -> dict[str, str]:
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith(("SAMVERKAN_", "FLASK_"))
        }
        return {**inherited, **self.settings, **extra, "PYTHONUNBUFFERED": "1"}

    def command(self, *args: str) -> tuple[list[str], dict[str, str]]:
        """A tool of the virtualenv on the installation's clock: command line, environment."""
        line, extra = self.clock.command(str(BIN / args[0]), *args[1:])
        return line, self.environment(extra)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """A command-line tool of the installation (alembic, flask ...), with its settings."""
        line, environment = self.command(*args)
        result = subprocess.run(  # noqa: S603 - our own tools from the virtualenv
            line,
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=300,
            check=False,
        )
        with (self.log_dir / "commands.log").open("a") as log:
            log.write(
                f"$ {' '.join(args)}\n{result.stdout}{result.stderr}(exit {result.returncode})\n"
            )
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("flask", "--app", "app", *args, check=check)

    def set_up(self, extra: Mapping[str, str] | None = None) -> None:
        self.database_url = create_database(self.name)
        instance = ARTIFACTS / self.name / "instance"
        instance.mkdir(parents=True, exist_ok=True)
        self.settings = {
            **production_settings(self.database_url, self.inbox, self.base_url),
            # An empty instance folder of its own: a developer's instance/config.py stays out.
            "SAMVERKAN_INSTANCE_PATH": str(instance),
            **(extra or {}),
        }
        self.run("alembic", "upgrade", "head")

    def _spawn(self, label: str, *command: str) -> subprocess.Popen[bytes]:
        line, environment = self.command(*command)
        log = (self.log_dir / f"{label}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 - our own tools from the virtualenv
            line,
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        self.processes[label] = process
        return process

    def log(self, label: str) -> str:
        path = self.log_dir / f"{label}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _alive(self, label: str) -> None:
        code = self.processes[label].poll()
        if code is not None:
            raise RuntimeError(f"{label} exited with {code}:\n{self.log(label)}")

    def start(self) -> None:
        """gunicorn with two workers and the scheduler; returns when both are serving."""
        self._spawn(
            "gunicorn",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "5",
            # gunicorn's control socket has one fixed default path per user: leave it off, so
            # this server never clashes with another one on the machine.
            "--no-control-socket",
            "app:create_app()",
        )
        self._spawn("scheduler", "flask", "--app", "app", "scheduler", "run")

        def serving() -> bool:
            self._alive("gunicorn")
            try:
                with urllib.request.urlopen(f"{self.base_url}/login", timeout=30) as response:  # noqa: S310 - our loopback server
                    return bool(response.status == 200)
            except OSError:  # refused while binding, or a worker still importing the app
                return False

        def leading() -> bool:
            self._alive("scheduler")
            return "scheduler active" in self.log("scheduler")

        wait_for(serving, "gunicorn answering /login")
        wait_for(leading, "the scheduler taking the lead")

    def stop(self) -> None:
        """SIGTERM (gunicorn and the scheduler both finish what they are doing), then wait."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for label, process in self.processes.items():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                with (self.log_dir / f"{label}.log").open("a") as log:
                    log.write("\n[killed after 30 s]\n")
        self.processes.clear()

    def tear_down(self) -> None:
        self.stop()
        drop_database(self.name)


# --- The demo ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogins:
    password: str
    emails: tuple[str, ...]

    def email(self, local_part: str) -> str:
        """The demo account whose address starts with ``local_part@``."""
        matches = [e for e in self.emails if e.startswith(f"{local_part}@")]
        assert len(matches) == 1, f"no single demo account {local_part}@ in {self.emails}"
        return matches[0]


def parse_demo_logins(output: str) -> DemoLogins:
    """``flask demo`` prints the shared password and one account per line."""
    match = re.search(r"lösenord för alla: (\S+)\)", output)
    assert match, f"no demo password in:\n{output}"
    emails = tuple(re.findall(r"^\s+(\S+@\S+)\s", output, flags=re.MULTILINE))
    assert emails, f"no demo accounts in:\n{output}"
    return DemoLogins(match.group(1), emails)


@contextmanager
def demo_installation(name: str) -> Iterator[tuple[Stack, DemoLogins]]:
    """A running installation with ``flask demo`` loaded (two-factor required, as in
    production: the demo accounts enrol an authenticator at their first log-in)."""
    with SmtpSink() as inbox:
        stack = Stack(name, inbox)
        try:
            stack.set_up()
            logins = parse_demo_logins(stack.flask("demo").stdout)
            stack.start()
            yield stack, logins
        finally:
            stack.tear_down()
