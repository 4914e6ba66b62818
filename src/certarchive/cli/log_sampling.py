"""At most one line a minute from a logger that would otherwise write one per request.

waitress warns ``Task queue depth is N`` each time a request has to wait for a free
thread.  Under load that is nearly every request: thousands of lines a second, which
buried every other line of the log and cost a busy serving process about 5 % of its
time (measured with py-spy, issue #18).  The first warning of a minute is written, the
others are counted, and the count is added to the next one written, so an operator still
sees that and how often requests waited.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

#: The loggers sampled when ``certarchive serve`` starts.
SAMPLED_LOGGERS = ("waitress.queue",)


class Sampled(logging.Filter):
    """Lets one record through every ``seconds``; the next one written says how many were
    held back since."""

    def __init__(self, seconds: float = 60.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.seconds = seconds
        self._clock = clock
        self._next = float("-inf")
        self._held = 0
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        now = self._clock()
        with self._lock:
            if now < self._next:
                self._held += 1
                return False
            self._next = now + self.seconds
            held, self._held = self._held, 0
        if held:
            record.msg = f"{record.getMessage()} ({held:,} more like it in {self.seconds:.0f} s)"
            record.args = ()
        return True


def sample_noisy_loggers(seconds: float = 60.0) -> None:
    for name in SAMPLED_LOGGERS:
        logging.getLogger(name).addFilter(Sampled(seconds))
