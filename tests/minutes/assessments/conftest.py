"""The clock of the assessment tests that ask for it (``pytest.mark.usefixtures("frozen")``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine

from tests.minutes.assessments.helpers import NOW


@pytest.fixture
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
