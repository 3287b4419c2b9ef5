"""The clock the browser tests' installations run on, so no test depends on when it runs.

A story that holds "today's meeting, going on now" breaks if it runs across midnight, or late in
the evening when there is no room left in the day for a meeting. So the installations run on a
clock that stands at a fixed weekday morning when the test session starts and ticks on in real
time from there. Every process of an installation (alembic, the ``flask`` commands, gunicorn
and its workers, the scheduler) is started through this module, which moves the whole process's
clock (``time.time``, ``datetime.now``: what the app, Flask, the session checks and the TOTP
check read) by one fixed offset with time-machine before it runs the tool; the test side reads
the same clock for "today" and for the TOTP codes it types.

The offset is the same in every process (the real time plus a constant), so the workers, the
scheduler and the tests agree to the millisecond, and the clocks of the browser and PostgreSQL,
which the app does not read for its own rules, stay real.

    python -m tests.e2e.clock .venv/bin/gunicorn app:create_app()   # a console script
    python -m tests.e2e.clock -c "print(1)" arg                     # like python -c
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
OFFSET_ENV = "E2E_CLOCK_OFFSET_SECONDS"


@dataclass(frozen=True)
class Clock:
    """Real time plus a fixed number of seconds."""

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
        line and the environment it needs on top of the installation's own."""
        if not self.offset:
            return [tool, *args], {}
        if os.path.basename(tool).startswith("python"):
            return [sys.executable, "-m", __name__, *args], {OFFSET_ENV: repr(self.offset)}
        return [sys.executable, "-m", __name__, tool, *args], {OFFSET_ENV: repr(self.offset)}


REAL = Clock()
# A Tuesday in March, neither a public holiday nor near the change to summer time, at nine in
# the morning: a test session has the whole working day before the clock reaches the evening.
STORY_MORNING = dt.datetime(2026, 3, 10, 9, 0, tzinfo=STOCKHOLM)
# Computed once per test session: every installation started in it shares the offset.
INSTALLATION = Clock.standing_at(STORY_MORNING)


def main(argv: list[str]) -> None:
    """Move this process's clock by the offset in the environment, then run the tool."""
    import time_machine  # a test dependency: only the clocked processes need it

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
