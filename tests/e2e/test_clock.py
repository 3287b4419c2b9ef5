"""The installations' clock: a process started on it reads the clock's time, not the real one."""

from __future__ import annotations

import datetime as dt
import subprocess

from tests.e2e.clock import REAL, STOCKHOLM, STORY_MORNING, Clock
from tests.e2e.harness import BIN, ROOT

READ_CLOCK = (
    "import datetime, time; "
    "print(time.time()); print(datetime.datetime.now(datetime.UTC).timestamp())"
)


def _clock_of_a_process(clock: Clock) -> list[float]:
    line, extra = clock.command(str(BIN / "python"), "-c", READ_CLOCK)
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        line, cwd=ROOT, env=extra, capture_output=True, text=True, timeout=60, check=True
    )
    return [float(value) for value in result.stdout.split()]


def test_a_process_on_the_story_clock_reads_the_story_morning() -> None:
    clock = Clock.standing_at(STORY_MORNING)
    before = clock.timestamp()
    readings = _clock_of_a_process(clock)
    after = clock.timestamp()
    assert len(readings) == 2
    for reading in readings:  # time.time and datetime.now alike, as the app reads them
        assert before <= reading <= after
    assert dt.datetime.fromtimestamp(readings[0], STOCKHOLM).date() == dt.date(2026, 3, 10)


def test_the_real_clock_starts_the_tool_itself() -> None:
    line, extra = REAL.command(str(BIN / "python"), "-c", "pass")
    assert line == [str(BIN / "python"), "-c", "pass"]
    assert extra == {}
    before = REAL.timestamp()
    (reading, _) = _clock_of_a_process(REAL)
    assert before <= reading <= REAL.timestamp()
