"""The scheduler and its jobs: reminder sweeps (idempotent, crash-safe), the job runner and its
bookkeeping, secrecy's nightly sweeps, job registration, the leader lock on the database in use
(PostgreSQL advisory lock, or the lock file next to a SQLite database), standby and take-over,
and the real `flask scheduler run` process stopping cleanly on SIGTERM."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE, make_engine, today_local, utcnow
from coordination.models import AgencyKind, Child, ChildStatus, CloseReason, JobRun
from coordination.scheduler import (
    ADVISORY_LOCK_KEY,
    AlwaysLeader,
    FileLeaderLock,
    JobSpec,
    LeaderLock,
    PostgresLeaderLock,
    SchedulerRunner,
    build_scheduler,
    job_specs,
    leader_lock_for,
    prune_job_runs,
    register_jobs,
    run_job,
)
from meetings import jobs
from meetings.models import (
    Attendance,
    AttendanceStatus,
    Meeting,
    MeetingStatus,
    Notification,
    Schedule,
)
from secrecy import jobs as secrecy_jobs
from secrecy.models import Disclosure
from secrecy.records.children import EnrolmentData, close_case, enrol_child
from secrecy.records.services import create_record
from tests.conftest import MASTER_KEY, ROOT, Council3, migrate
from tests.factories import (
    AgencyFactory,
    MembershipFactory,
    UserFactory,
    disclose_under_21_rule,
    make_meeting,
)

SOCIAL = AgencyKind.SOCIAL_SERVICES
POLICE = AgencyKind.POLICE
# Not the production key: a developer's scheduler on the same database must not interfere.
TEST_LOCK_KEY = 0x7E57
DEADLINE = 15.0


def keys(db: Session) -> list[str]:
    db.expire_all()
    return sorted(db.scalars(select(Notification.dedup_key)))


def runs(db: Session, job_id: str) -> list[tuple[str | None, int]]:
    db.expire_all()
    return [
        (run.outcome, run.items)
        for run in db.scalars(select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.id))
    ]


def wait_until(condition: Callable[[], bool], seconds: float = DEADLINE) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# --- The reminder sweeps --------------------------------------------------------------------------


def test_agenda_preparation_goes_to_social_services_a_week_ahead_once(
    db: Session, world: Council3
) -> None:
    # A Monday morning in a week without public holidays: a week ahead is then before the
    # agenda deadline (three working days before the meeting). Around Christmas, New Year or
    # Easter it is not, and rightly no reminder goes out; the job takes its "now" from the
    # caller, so the test fixes it instead of reading the clock.
    now = dt.datetime(2026, 3, 9, 8, 0, tzinfo=dt.UTC)
    due = make_meeting(db, world.council, now + dt.timedelta(days=6, hours=23))
    make_meeting(db, world.council, now + dt.timedelta(days=7, hours=3))  # not yet
    make_meeting(db, world.council, now - dt.timedelta(hours=1))  # begun
    make_meeting(db, world.council, now + dt.timedelta(days=3), status=MeetingStatus.CANCELLED)
    inactive = UserFactory(agency=world.agencies[SOCIAL], active=False)
    MembershipFactory(council=world.council, user=inactive)
    # Social services of another council hear nothing about this one.
    MembershipFactory(user=UserFactory(agency=AgencyFactory(kind=SOCIAL)))
    db.flush()

    created = jobs.agenda_preparation_reminders(db, now)

    expected = sorted(
        f"agenda-prep:{due.id}:{user.id}"
        for user in (world.members[SOCIAL], world.coordinator)  # both social services
    )
    assert created == 2
    assert keys(db) == expected
    rows = db.scalars(select(Notification)).all()
    assert {n.kind for n in rows} == {"agenda_preparation"}
    assert all(n.link == f"/meetings/{due.id}" for n in rows)
    assert all(n.subject.startswith("Dagordningen för Testrådet ") for n in rows)

    # Idempotent: the second run (next hour, or the same hour twice) adds nothing.
    assert jobs.agenda_preparation_reminders(db, now) == 0
    assert jobs.agenda_preparation_reminders(db, now + dt.timedelta(hours=1)) == 0
    assert keys(db) == expected


def test_meeting_reminders_go_to_the_invited_and_present_a_day_ahead(
    db: Session, world: Council3
) -> None:
    now = utcnow()
    tomorrow = make_meeting(db, world.council, now + dt.timedelta(hours=23))
    later = make_meeting(db, world.council, now + dt.timedelta(days=2))
    statuses = {
        SOCIAL: AttendanceStatus.INVITED,
        POLICE: AttendanceStatus.PRESENT,
        AgencyKind.SCHOOL: AttendanceStatus.ABSENT,
        AgencyKind.LEISURE: AttendanceStatus.EXCUSED,
    }
    for kind, status in statuses.items():
        db.add(Attendance(meeting_id=tomorrow.id, user_id=world.members[kind].id, status=status))
        db.add(Attendance(meeting_id=later.id, user_id=world.members[kind].id))
    db.flush()

    assert jobs.meeting_reminders(db, now) == 2
    assert jobs.meeting_reminders(db, now) == 0
    assert keys(db) == sorted(
        f"meeting-reminder:{tomorrow.id}:{world.members[kind].id}" for kind in (SOCIAL, POLICE)
    )


def test_a_sweep_that_crashed_half_way_is_completed_by_the_next_run(
    app: Flask, db: Session, world: Council3, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = utcnow()
    meeting = make_meeting(db, world.council, now + dt.timedelta(hours=12))
    for user in world.members.values():
        db.add(Attendance(meeting_id=meeting.id, user_id=user.id))
    db.flush()
    # One of them was already made by an earlier run that got that far and committed.
    first_user = world.members[SOCIAL]
    jobs.notify(
        db,
        first_user,
        kind="meeting_reminder",
        subject="Påminnelse",
        body="Text",
        link=f"/meetings/{meeting.id}",
        dedup_key=f"meeting-reminder:{meeting.id}:{first_user.id}",
    )
    db.commit()

    real_notify = jobs.notify
    calls = 0

    def notify_then_crash(*args: Any, **kwargs: Any) -> Notification | None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("the process died here")
        return real_notify(*args, **kwargs)

    monkeypatch.setattr(jobs, "notify", notify_then_crash)
    spec = JobSpec(
        "meetings.meeting_reminders", jobs.meeting_reminders, IntervalTrigger(hours=1), 60
    )

    assert run_job(app, spec) == "error"
    assert len(keys(db)) == 1  # the crashed run's inserts were rolled back
    monkeypatch.setattr(jobs, "notify", real_notify)
    assert run_job(app, spec) == "ok"
    assert run_job(app, spec) == "ok"

    assert keys(db) == sorted(
        f"meeting-reminder:{meeting.id}:{u.id}" for u in world.members.values()
    )
    assert runs(db, spec.id) == [("error", 0), ("ok", len(world.members) - 1), ("ok", 0)]


# --- The runner -----------------------------------------------------------------------------------


def test_a_failing_job_is_rolled_back_recorded_and_logged_without_its_message(
    app: Flask, db: Session, world: Council3, caplog: pytest.LogCaptureFixture
) -> None:
    def leaky(session: Session, now: dt.datetime) -> int:
        session.add(JobRun(job_id="leaky.side_effect", started_at=now))
        session.flush()
        raise ValueError("Kalle Hemligsson 20121212-1212")

    spec = JobSpec("test.leaky", leaky, IntervalTrigger(hours=1), 60)
    with caplog.at_level(logging.INFO, logger="samverkan.scheduler"):
        assert run_job(app, spec) == "error"

    assert runs(db, "test.leaky") == [("error", 0)]
    assert runs(db, "leaky.side_effect") == []
    run = db.scalars(select(JobRun).where(JobRun.job_id == "test.leaky")).one()
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert "test.leaky failed: ValueError at test_scheduler.py:" in caplog.text
    assert "Kalle" not in caplog.text and "20121212" not in caplog.text


def test_the_outbox_job_uses_the_app_settings(
    app: Flask, db: Session, world: Council3, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    jobs.notify(
        db,
        world.members[SOCIAL],
        kind="k",
        subject="Ämne",
        body="Text",
        link="/meetings/1",
        dedup_key="job:1",
    )
    db.commit()
    spec = next(s for s in job_specs(app) if s.id == "meetings.deliver_outbox")
    assert run_job(app, spec) == "ok"
    assert runs(db, spec.id) == [("ok", 1)]
    assert db.scalars(select(Notification.last_error)).one() == "smtp_not_configured"


# --- Secrecy's and the schedules' nightly sweeps --------------------------------------------------


def test_retention_job_shreds_due_cases_once(app: Flask, db: Session, world: Council3) -> None:
    social = world.members[SOCIAL]
    child = enrol_child(
        db, social, world.council, EnrolmentData("Kalle", "Gallring", "20121212-1212")
    )
    close_case(db, social, child, CloseReason.MOVED)
    in_13_months = utcnow() + dt.timedelta(days=400)

    # As the scheduler runs it: in the app's context (the upper layers' erasures are the app's).
    with app.app_context():
        assert secrecy_jobs.retention_job(db, utcnow()) == 0
        assert secrecy_jobs.retention_job(db, in_13_months) == 1
        assert secrecy_jobs.retention_job(db, in_13_months) == 0
    db.expire_all()
    assert db.get(Child, child.id).status is ChildStatus.SHREDDED  # type: ignore[union-attr]


def test_sweep_job_ends_disclosures_whose_basis_lapsed(db: Session, world: Council3) -> None:
    social = world.members[SOCIAL]
    # Born 2008-05-10: the basis for social services to police ends at 21, on 2029-05-10.
    child = enrol_child(
        db, social, world.council, EnrolmentData("Vilgot", "Provsson", "20080510-1235")
    )
    record = create_record(db, social, child, "risk_protective", "Uppgift")
    disclosure = disclose_under_21_rule(db, social, record, world.agencies[POLICE])
    before = dt.datetime(2029, 5, 8, 12, tzinfo=dt.UTC)
    after = dt.datetime(2029, 5, 10, 12, tzinfo=dt.UTC)

    assert secrecy_jobs.sweep_lapsed_job(db, before) == 0
    assert secrecy_jobs.sweep_lapsed_job(db, after) == 1
    assert secrecy_jobs.sweep_lapsed_job(db, after) == 0
    db.expire_all()
    assert db.get(Disclosure, disclosure.id).lapsed_at is not None  # type: ignore[union-attr]


def test_materialise_job_creates_the_coming_meetings_once(db: Session, world: Council3) -> None:
    db.add(
        Schedule(
            council_id=world.council.id,
            name="Månadsmöte",
            rrule="FREQ=MONTHLY;BYDAY=+2WE",
            start_time=dt.time(9, 0),
            duration_minutes=120,
            starts_on=today_local(),
        )
    )
    db.flush()
    now = utcnow()

    created = jobs.materialise_job(db, now)

    count = db.scalar(select(func.count()).select_from(Meeting))
    assert created == count
    assert 5 <= created <= 7  # about six months ahead
    assert jobs.materialise_job(db, now) == 0
    assert db.scalar(select(func.count()).select_from(Meeting)) == count


def test_job_runs_older_than_a_month_are_pruned(db: Session) -> None:
    now = utcnow()
    for age in (31, 29, 0):
        db.add(JobRun(job_id="test.prune", started_at=now - dt.timedelta(days=age), outcome="ok"))
    db.flush()
    assert prune_job_runs(db, now) == 1
    assert prune_job_runs(db, now) == 0
    db.expire_all()
    started = sorted(r.started_at for r in db.scalars(select(JobRun)))
    assert started == [now - dt.timedelta(days=29), now]


# --- Registration ---------------------------------------------------------------------------------


def test_the_scheduler_registers_every_job_with_fixed_ids_and_safe_defaults(app: Flask) -> None:
    def extra(session: Session, now: dt.datetime) -> int:
        return 0

    upper = Flask("upper")
    upper.config.update(app.config)
    # Each package registers its own jobs from its jobs.init_app, as create_app does.
    secrecy_jobs.init_app(upper)
    jobs.init_app(upper)
    register_jobs(upper, JobSpec("minutes.action_reminders", extra, CronTrigger(minute=15), 600))
    start = utcnow()

    scheduler = build_scheduler(upper, now=start)

    registered = {job.id: job for job in scheduler.get_jobs()}
    assert set(registered) == {
        "meetings.materialise",
        "secrecy.sweep_lapsed",
        "secrecy.retention",
        "meetings.expire_sync_proposals",
        "secrecy.audit_checkpoint",
        "secrecy.overdue_requests",
        "secrecy.age_exception_reviews",
        "secrecy.age_thresholds",
        "meetings.forget_shredded_sync_indexes",
        "coordination.prune_job_runs",
        "meetings.disclosure_lapse_warnings",
        "meetings.agenda_preparation_reminders",
        "meetings.meeting_reminders",
        "meetings.deliver_outbox",
        "minutes.action_reminders",
    }
    assert all(job.coalesce is True and job.max_instances == 1 for job in registered.values())
    assert all(job.func is run_job for job in registered.values())
    assert registered["meetings.deliver_outbox"].misfire_grace_time == 60
    assert registered["meetings.meeting_reminders"].misfire_grace_time == 30 * 60
    assert registered["secrecy.retention"].misfire_grace_time == 6 * 3600
    # Nightly in Swedish local time; reminders hourly; the outbox every minute.
    nightly = (
        "meetings.materialise",
        "meetings.disclosure_lapse_warnings",
        "secrecy.sweep_lapsed",
        "secrecy.retention",
        "secrecy.audit_checkpoint",
    )
    for job_id in (*nightly, "coordination.prune_job_runs"):
        trigger = registered[job_id].trigger
        assert isinstance(trigger, CronTrigger)
        assert str(trigger.timezone) == "Europe/Stockholm"
        hour = int(str(trigger.fields[trigger.FIELD_NAMES.index("hour")]))
        assert 1 <= hour <= 4
        # Missed nights are caught up as soon as the scheduler starts.
        assert registered[job_id].next_run_time == start
    for job_id in ("meetings.agenda_preparation_reminders", "meetings.meeting_reminders"):
        trigger = registered[job_id].trigger
        assert isinstance(trigger, CronTrigger)
        assert str(trigger.fields[trigger.FIELD_NAMES.index("hour")]) == "*"
    outbox = registered["meetings.deliver_outbox"].trigger
    assert isinstance(outbox, IntervalTrigger)
    assert outbox.interval == dt.timedelta(seconds=60)
    assert not scheduler.running


# --- One active scheduler per database ------------------------------------------------------------


def test_leader_lock_kinds_follow_the_database() -> None:
    pg = leader_lock_for("postgresql+psycopg://u@127.0.0.1:1/x")
    assert isinstance(pg, PostgresLeaderLock)
    pg.dispose()  # never connected
    sqlite_file = leader_lock_for("sqlite:////tmp/some/samverkan.sqlite")
    assert isinstance(sqlite_file, FileLeaderLock)
    assert isinstance(leader_lock_for("sqlite://"), AlwaysLeader)
    assert isinstance(leader_lock_for("sqlite:///:memory:"), AlwaysLeader)
    assert ADVISORY_LOCK_KEY < 2**31


def test_in_memory_sqlite_is_always_its_own_leader() -> None:
    lock = AlwaysLeader()
    assert lock.try_acquire() and lock.try_acquire() and lock.still_held()
    lock.release()
    assert lock.try_acquire()


def test_only_one_scheduler_holds_the_lock_until_its_connection_closes(
    database_url: str, app: Flask
) -> None:
    first = leader_lock_for(database_url, key=TEST_LOCK_KEY)
    second = leader_lock_for(database_url, key=TEST_LOCK_KEY)
    postgres = make_engine(database_url).dialect.name == "postgresql"
    assert isinstance(first, PostgresLeaderLock if postgres else FileLeaderLock)
    try:
        assert first.try_acquire()
        assert first.try_acquire()  # re-entrant for its holder
        assert first.still_held()
        assert not second.try_acquire()
        assert not second.still_held()
        assert not second.try_acquire()
        first.release()
        assert not first.still_held()
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()
        for lock in (first, second):
            if isinstance(lock, PostgresLeaderLock):
                lock.dispose()


HOLDER = """
import sys, time
from coordination.scheduler import leader_lock_for
lock = leader_lock_for(sys.argv[1], key=int(sys.argv[2]))
print("locked" if lock.try_acquire() else "refused", flush=True)
time.sleep(120)
"""


def test_a_standby_takes_the_lock_when_the_leader_process_dies(
    database_url: str, app: Flask
) -> None:
    """kill -9 of the leader: its connection (or file) closes, and the lock with it."""
    holder = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", HOLDER, database_url, str(TEST_LOCK_KEY)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    standby = leader_lock_for(database_url, key=TEST_LOCK_KEY)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        assert not standby.try_acquire()
        holder.kill()
        holder.wait(timeout=DEADLINE)
        assert wait_until(standby.try_acquire)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
        standby.release()
        if isinstance(standby, PostgresLeaderLock):
            standby.dispose()


def test_postgres_leader_notices_a_lost_lock(database_url: str, app: Flask) -> None:
    """On PostgreSQL an administrator (or a network cut) can end the lock's session; the
    leader sees it at its next check. On SQLite the file lock cannot be taken away."""
    lock = leader_lock_for(database_url, key=TEST_LOCK_KEY)
    assert lock.try_acquire()
    try:
        if isinstance(lock, PostgresLeaderLock):
            engine = create_engine(database_url)
            with engine.begin() as connection:
                ended = connection.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                        "WHERE locktype = 'advisory' AND objid = :key"
                    ),
                    {"key": TEST_LOCK_KEY},
                )
            engine.dispose()
            assert ended == 1
            assert wait_until(lambda: not lock.still_held())
            assert lock.try_acquire()  # a fresh connection takes it again
        else:
            assert isinstance(lock, FileLeaderLock)
            assert lock.still_held()
            assert not FileLeaderLock(
                Path(f"{make_url_path(database_url)}.scheduler-lock")
            ).try_acquire()
    finally:
        lock.release()
        if isinstance(lock, PostgresLeaderLock):
            lock.dispose()


def make_url_path(database_url: str) -> str:
    from sqlalchemy.engine import make_url

    database = make_url(database_url).database
    assert database
    return database


# --- Standby, take-over, stop ---------------------------------------------------------------------


class Pinger:
    """A scheduler factory whose one job only records that it ran (no database)."""

    def __init__(self) -> None:
        self.ran = threading.Event()

    def __call__(self, app: Flask, executor: ThreadPoolExecutor) -> BlockingScheduler:
        scheduler = BlockingScheduler(timezone=LOCAL_ZONE, executors={"default": executor})
        scheduler.add_job(self.ran.set, IntervalTrigger(hours=1), next_run_time=utcnow(), id="ping")
        return scheduler


@pytest.fixture
def runner_thread() -> Iterator[Callable[[SchedulerRunner], threading.Thread]]:
    started: list[tuple[SchedulerRunner, threading.Thread]] = []

    def start(runner: SchedulerRunner) -> threading.Thread:
        thread = threading.Thread(target=runner.run, daemon=True)
        thread.start()
        started.append((runner, thread))
        return thread

    yield start
    for runner, thread in started:
        runner.stop()
        thread.join(DEADLINE)


def test_a_standby_runs_nothing_until_the_leader_goes_then_takes_over_and_stops_cleanly(
    database_url: str, app: Flask, runner_thread: Callable[[SchedulerRunner], threading.Thread]
) -> None:
    leader = leader_lock_for(database_url, key=TEST_LOCK_KEY)
    assert leader.try_acquire()
    jobs_ran = Pinger()
    standby_lock = leader_lock_for(database_url, key=TEST_LOCK_KEY)
    refused = RefusalCounter(standby_lock)
    runner = SchedulerRunner(app, refused, poll_seconds=0.1, build=jobs_ran)
    try:
        thread = runner_thread(runner)
        # Not a pause and a hope: the standby has asked for the lock three times, been refused
        # each time, and run nothing.
        assert wait_until(lambda: refused.refusals >= 3)
        assert not jobs_ran.ran.is_set() and not runner.leading.is_set()

        leader.release()
        assert jobs_ran.ran.wait(DEADLINE)
        assert runner.leading.is_set()
        assert not leader.try_acquire()  # the runner holds it now

        runner.stop()
        thread.join(DEADLINE)
        assert not thread.is_alive()
        assert not runner.leading.is_set()
        assert leader.try_acquire()  # released on the way out
    finally:
        leader.release()
        for lock in (leader, standby_lock):
            if isinstance(lock, PostgresLeaderLock):
                lock.dispose()


class RefusalCounter:
    """A leader lock that counts the times it refused its runner."""

    def __init__(self, lock: LeaderLock) -> None:
        self.lock = lock
        self.refusals = 0

    def try_acquire(self) -> bool:
        acquired = self.lock.try_acquire()
        if not acquired:
            self.refusals += 1
        return acquired

    def still_held(self) -> bool:
        return self.lock.still_held()

    def release(self) -> None:
        self.lock.release()


class FlakyLock:
    """A lock the test can take away, as a dead database connection would."""

    def __init__(self) -> None:
        self.held = False
        self.available = True
        self.acquisitions = 0
        self.refusals = 0

    def try_acquire(self) -> bool:
        if self.available:
            self.held = True
            self.acquisitions += 1
        else:
            self.refusals += 1
        return self.held

    def still_held(self) -> bool:
        return self.held

    def release(self) -> None:
        self.held = False


def test_a_leader_that_loses_its_lock_stops_its_jobs_and_stands_by(
    app: Flask, runner_thread: Callable[[SchedulerRunner], threading.Thread]
) -> None:
    lock = FlakyLock()
    first_term = Pinger()
    terms = iter([first_term, Pinger()])
    second_term: list[Pinger] = []

    def build(flask_app: Flask, executor: ThreadPoolExecutor) -> BlockingScheduler:
        pinger = next(terms)
        if pinger is not first_term:
            second_term.append(pinger)
        return pinger(flask_app, executor)

    runner = SchedulerRunner(app, lock, poll_seconds=0.1, build=build)
    thread = runner_thread(runner)
    assert first_term.ran.wait(DEADLINE)

    lock.available = False
    lock.held = False  # the connection died
    assert wait_until(lambda: not runner.leading.is_set())
    refused_before = lock.refusals
    # Standing by: it asks again and again, is refused, and starts no second term meanwhile.
    assert wait_until(lambda: lock.refusals >= refused_before + 3)
    assert second_term == [] and thread.is_alive()

    lock.available = True
    assert wait_until(lambda: bool(second_term) and second_term[0].ran.is_set())
    assert lock.acquisitions == 2


def test_stop_before_the_scheduler_started_still_stops(app: Flask) -> None:
    runner: SchedulerRunner

    def build(flask_app: Flask, executor: ThreadPoolExecutor) -> BlockingScheduler:
        runner.stop()  # the signal arrives while the scheduler is being built
        return Pinger()(flask_app, executor)

    runner = SchedulerRunner(app, AlwaysLeader(), poll_seconds=0.1, build=build)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    thread.join(DEADLINE)
    assert not thread.is_alive()


# --- The CLI and the real process -----------------------------------------------------------------


def test_cli_lists_jobs_and_runs_one(app: Flask, db: Session, world: Council3) -> None:
    cli = app.test_cli_runner()
    listed = cli.invoke(args=["scheduler", "jobs"])
    assert listed.exit_code == 0
    assert "meetings.deliver_outbox" in listed.output and "secrecy.retention" in listed.output

    unknown = cli.invoke(args=["scheduler", "run-job", "nope"])
    assert unknown.exit_code != 0 and "meetings.meeting_reminders" in unknown.output

    ran = cli.invoke(args=["scheduler", "run-job", "meetings.meeting_reminders"])
    assert ran.exit_code == 0 and "meetings.meeting_reminders: ok" in ran.output
    assert runs(db, "meetings.meeting_reminders") == [("ok", 0)]


def test_cli_refuses_to_start_with_incomplete_mail_settings(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "SMTP_HOST", "mail.example")
    monkeypatch.setitem(app.config, "SMTP_FROM", None)
    result = app.test_cli_runner().invoke(args=["scheduler", "run"])
    assert result.exit_code != 0
    assert "SAMVERKAN_SMTP_FROM" in result.output


@pytest.fixture
def scratch_sqlite(tmp_path: Path) -> str:
    """A database of its own for real processes: the test transaction must not see them."""
    url = f"sqlite:///{tmp_path / 'scheduler.sqlite'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


def start_scheduler_process(url: str, tmp_path: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SAMVERKAN_ENV": "testing",
        "SAMVERKAN_SECRET_KEY": "test-secret-key-not-for-production",
        "SAMVERKAN_MASTER_KEY": MASTER_KEY,
        "SAMVERKAN_DATABASE_URL": url,
        "SAMVERKAN_INSTANCE_PATH": str(tmp_path / "instance"),
        "SAMVERKAN_SCHEDULER_STANDBY_POLL_SECONDS": "0.2",
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "scheduler", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_the_scheduler_process_runs_its_jobs_hands_over_and_stops_on_sigterm(
    scratch_sqlite: str, tmp_path: Path
) -> None:
    engine = make_engine(scratch_sqlite)
    nightly = {"meetings.materialise", "secrecy.sweep_lapsed", "secrecy.retention"}

    def finished() -> set[str]:
        with engine.connect() as connection:
            return set(connection.scalars(text("SELECT job_id FROM job_runs WHERE outcome = 'ok'")))

    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = start_scheduler_process(scratch_sqlite, tmp_path, first_log)
    second: subprocess.Popen[bytes] | None = None
    try:
        # The nightly sweeps and the outbox are caught up at start.
        assert wait_until(lambda: nightly | {"meetings.deliver_outbox"} <= finished(), 60)
        second = start_scheduler_process(scratch_sqlite, tmp_path, second_log)
        assert wait_until(lambda: "standing by" in second_log.read_text(), 60)

        first.send_signal(signal.SIGTERM)
        assert first.wait(DEADLINE) == 0
        assert "scheduler stopped" in first_log.read_text()
        assert wait_until(lambda: "scheduler active" in second_log.read_text(), 30)

        second.send_signal(signal.SIGINT)
        assert second.wait(DEADLINE) == 0
        assert "Traceback" not in first_log.read_text() + second_log.read_text()
        # The process logs JSON lines (coordination.ops.logs), one per job run among them.
        lines = [
            json.loads(line) for line in first_log.read_text().splitlines() if line.startswith("{")
        ]
        runs = {line["job"] for line in lines if line.get("message") == "job run"}
        assert nightly | {"meetings.deliver_outbox"} <= runs
        assert {"scheduler active", "scheduler stopped"} <= {line["message"] for line in lines}
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        engine.dispose()
