"""A progress bar for long commands: done/total, rate and time left, on stderr.

On a terminal it redraws one line; otherwise (a log file, a pipe, cron) it writes a
plain line every :data:`PLAIN_EVERY` seconds and at the end, so logs stay readable.
Notes (a bad line's words) are written on their own line, never inside the bar.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30
REDRAW = 0.2  # seconds between redraws on a terminal
PLAIN_EVERY = 10.0  # seconds between lines elsewhere


def duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    def __init__(
        self, total: int, label: str, stream: TextIO | None = None, unit: str = "lines"
    ) -> None:
        self.total, self.label, self.unit = total, label, unit
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = self._shown = time.monotonic()
        self.done = 0

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        share = self.done / self.total if self.total else 1.0
        left = (self.total - self.done) / rate if rate and self.done < self.total else 0.0
        bar = "#" * int(WIDTH * min(share, 1.0))
        return (
            f"{self.label} [{bar:<{WIDTH}}] {self.done}/{self.total} {self.unit} "
            f"{share:.0%} {rate:.1f}/s {duration(left)} left"
        )

    def update(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if now - self._shown >= (REDRAW if self.tty else PLAIN_EVERY):
            self._shown = now
            self._show()

    def note(self, text: str) -> None:
        """A line of its own (the bar is redrawn below it on a terminal)."""
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")
        if self.tty:
            self._show()
        self.stream.flush()

    def finish(self) -> None:
        self._show()
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()

    def _show(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K" + self.line())
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()
