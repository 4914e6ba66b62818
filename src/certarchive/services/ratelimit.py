"""Per-process request rate limits (public verification, holder sign-in attempts, failed
staff sign-ins per address).

A fixed allowance of ``limit`` requests per ``window`` seconds per key (a client address),
counted in a sliding window of the request times.  The counters live in this process's
memory: with several app processes each one limits on its own, so the effective limit is
the configured one times the number of processes.  Persistent, cross-process limits that
matter for security (failed logins, failed holder sign-ins per ID number) are kept in the
database by :mod:`certarchive.services.identity` and :mod:`certarchive.services.holders`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

#: Beyond this many tracked keys, keys whose window has passed are dropped first.
MAX_KEYS = 100_000


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int  # seconds until a request would be allowed again (0 when allowed)
    first_refusal: bool  # the first refused request of this key in the current window


class RateLimiter:
    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._refused: dict[str, float] = {}  # key -> time of the first refusal in a run
        self._lock = threading.Lock()

    def hit(self, key: str, count: bool = True) -> Decision:
        """Count one request of ``key``; refuse it if the allowance is used up.

        With ``count`` false the allowance is only looked at: a limit on failures (staff
        sign-in) asks before the attempt and counts only the attempts that fail."""
        now = self._clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= MAX_KEYS:
                    self._sweep(now)
                hits = self._hits[key] = deque()
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                first = key not in self._refused
                if first:
                    self._refused[key] = now
                retry = max(1, int(hits[0] + self.window - now + 0.999))
                return Decision(False, retry, first)
            self._refused.pop(key, None)
            if count:
                hits.append(now)
            return Decision(True, 0, False)

    def _sweep(self, now: float) -> None:
        stale = [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]
        for key in stale:
            del self._hits[key]
            self._refused.pop(key, None)
        if len(self._hits) >= MAX_KEYS:  # still full: forget the oldest half
            for key in list(self._hits)[: MAX_KEYS // 2]:
                del self._hits[key]
                self._refused.pop(key, None)


def parse_rate(text: str) -> tuple[int, float]:
    """``"60/60"`` → 60 requests per 60 seconds; raises ValueError naming the form."""
    try:
        count, _, seconds = text.strip().partition("/")
        limit, window = int(count), float(seconds)
    except ValueError:
        raise ValueError(f"rate {text!r} must look like 60/60 (requests/seconds)") from None
    if limit < 1 or window <= 0:
        raise ValueError(f"rate {text!r} must have at least 1 request in a positive window")
    return limit, window
