"""The test clock (tests/clock.py): a process started on it reads the clock's time, not the
real one; ``--at`` starts a tool on a clock that shows a given Stockholm time."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from tests.clock import REAL, STOCKHOLM, STORY_MORNING, Clock, own_offset

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

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


def test_the_real_clock_starts_the_tool_on_this_process_clock() -> None:
    line, extra = REAL.command(str(BIN / "python"), "-c", "pass")
    if not own_offset():  # this process runs on the real clock: the tool is started as it is
        assert (line, extra) == ([str(BIN / "python"), "-c", "pass"], {})
    before = REAL.timestamp()
    (reading, _) = _clock_of_a_process(REAL)
    assert before <= reading <= REAL.timestamp()


def test_at_starts_a_tool_on_a_clock_that_shows_that_moment() -> None:
    moment = dt.datetime(2026, 12, 31, 23, 58, tzinfo=STOCKHOLM)
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-m", "tests.clock", "--at", "2026-12-31T23:58", "-c", READ_CLOCK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    readings = [float(value) for value in result.stdout.split()]
    assert len(readings) == 2
    for reading in readings:  # within the seconds the start-up took, not the real time
        assert 0 <= reading - moment.timestamp() < 30
