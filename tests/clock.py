"""A test clock: a process started through this module reads a moved clock, so no test
depends on when it runs, and the suite can be run at the hard moments of the calendar.

**The browser tests.** A story that holds "today's meeting, going on now" breaks if it runs
across midnight, or late in the evening when there is no room left in the day for a meeting. So
their installations run on a clock that stands at a fixed weekday morning when the test session
starts and ticks on in real time from there. Every process of an installation (alembic, the
``flask`` commands, gunicorn and its workers, the scheduler) is started through this module,
which moves the whole process's clock (``time.time``, ``datetime.now``: what the app, Flask, the
session checks and the TOTP check read) by one fixed offset with time-machine before it runs the
tool; the test side reads the same clock for "today" and for the TOTP codes it types. The
offset is the same in every process (the real time plus a constant), so the workers, the
scheduler and the tests agree to the millisecond; the clocks of the browser and PostgreSQL,
which the app does not read for its own rules, stay real.

**The suite at a given moment** (``make pytest-at AT=2026-12-31T23:58``, Stockholm time):
pytest itself started on a clock that shows ``AT`` and ticks on, so a run crosses midnight,
a year's end, a holiday or the change to summer time the way a run at that hour would.

    python -m tests.clock .venv/bin/gunicorn app:create_app()       # the offset from the
    python -m tests.clock -c "print(1)" arg                         # environment
    python -m tests.clock --at 2026-12-31T23:58 .venv/bin/pytest -q  # the clock shows AT now
"""

from __future__ import annotations

import datetime as dt
import os
import runpy
import sys
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")
OFFSET_ENV = "TEST_CLOCK_OFFSET_SECONDS"


def own_offset() -> float:
    """How far this process's clock was moved when it was started through this module (0 when
    it was not): a tool started on a clock is moved by that and the clock's own offset."""
    return float(os.environ.get(OFFSET_ENV) or 0)


@dataclass(frozen=True)
class Clock:
    """This process's time plus a fixed number of seconds."""

    offset: float = 0.0

    @classmethod
    def standing_at(cls, moment: dt.datetime) -> Clock:
        """A clock that shows ``moment`` now and ticks on from there."""
        return cls(moment.timestamp() - time.time())

    def timestamp(self) -> float:
        return time.time() + self.offset

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.timestamp(), STOCKHOLM)

    def today(self) -> dt.date:
        """The installation's idea of today: the calendar day in Stockholm."""
        return self.now().date()

    def command(self, tool: str, *args: str) -> tuple[list[str], dict[str, str]]:
        """How to start ``tool`` (a path in the virtualenv's bin) on this clock: the command
        line and the environment it needs on top of the installation's own. In a process
        that runs on a moved clock itself (``make pytest-at``), the tool is moved as far again."""
        offset = own_offset() + self.offset
        if not offset:
            return [tool, *args], {}
        if os.path.basename(tool).startswith("python"):
            return [sys.executable, "-m", __name__, *args], {OFFSET_ENV: repr(offset)}
        return [sys.executable, "-m", __name__, tool, *args], {OFFSET_ENV: repr(offset)}


REAL = Clock()
# A Tuesday in March, neither a public holiday nor near the change to summer time, at nine in
# the morning: a test session has the whole working day before the clock reaches the evening.
STORY_MORNING = dt.datetime(2026, 3, 10, 9, 0, tzinfo=STOCKHOLM)
# Computed once per test session: every installation started in it shares the offset.
INSTALLATION = Clock.standing_at(STORY_MORNING)


def main(argv: list[str]) -> None:
    """Move this process's clock (to ``--at``'s moment, or by the offset in the environment),
    then run the tool."""
    import time_machine  # a test dependency: only the clocked processes need it

    if argv[0] == "--at":
        moment = dt.datetime.fromisoformat(argv[1])
        offset = Clock.standing_at(moment.replace(tzinfo=moment.tzinfo or STOCKHOLM)).offset
        os.environ[OFFSET_ENV] = repr(offset)  # for the tools this one starts on a clock
        argv = argv[2:]
    else:
        offset = float(os.environ[OFFSET_ENV])
    traveller = time_machine.travel(time.time() + offset, tick=True)
    traveller.start()
    time.time()  # time-machine starts ticking at the first reading: take it now
    if argv[0] == "-c":
        sys.argv = ["-c", *argv[2:]]
        exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__"})  # noqa: S102 - the harness's own code
    else:
        sys.argv = argv
        runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
