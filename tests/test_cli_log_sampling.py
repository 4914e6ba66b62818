"""waitress's per-request queue warning is written at most once a minute, with a count of
those held back (certarchive.cli.log_sampling)."""

from __future__ import annotations

import logging

from certarchive.cli.log_sampling import Sampled


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_one_line_a_minute_and_the_count_of_the_others() -> None:
    clock, kept = Clock(), Kept()
    logger = logging.getLogger("certarchive.tests.sampled")
    logger.propagate = False
    logger.addHandler(kept)
    logger.addFilter(Sampled(60, clock))
    for depth in range(1, 6):
        logger.warning("Task queue depth is %d", depth)
        clock.now += 1
    clock.now += 60
    logger.warning("Task queue depth is %d", 9)
    clock.now += 61
    logger.warning("Task queue depth is %d", 2)
    assert kept.lines == [
        "Task queue depth is 1",
        "Task queue depth is 9 (4 more like it in 60 s)",
        "Task queue depth is 2",
    ]
