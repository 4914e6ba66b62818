"""The progress bar of long commands (import-existing): rate and time left; one redrawn
line on a terminal, plain lines elsewhere, notes on lines of their own."""

from __future__ import annotations

import io
import re

from certarchive.cli import progress as progress_module
from certarchive.cli.progress import Progress, duration


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_shows_count_share_rate_and_time_left() -> None:
    bar = Progress(200, "导入 / importing", io.StringIO())
    bar.started -= 10.0  # ten seconds ago
    bar.update(50)
    line = bar.line()
    assert "50/200 lines" in line and "25%" in line
    rate = float(re.search(r"([0-9.]+)/s", line).group(1))  # type: ignore[union-attr]
    assert 4.9 < rate < 5.1  # 50 lines in ~10 s
    assert "0:00:30 left" in line or "0:00:29 left" in line  # 150 more at 5/s
    assert duration(3725) == "1:02:05"


def test_plain_lines_when_not_a_terminal_and_a_redrawn_line_on_one(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(progress_module, "PLAIN_EVERY", 0.0)
    monkeypatch.setattr(progress_module, "REDRAW", 0.0)
    plain = io.StringIO()
    bar = Progress(3, "x", plain)
    for done in (1, 2, 3):
        bar.update(done)
    bar.note("line 2: bad")
    bar.finish()
    text = plain.getvalue()
    assert "\r" not in text and "\033" not in text
    assert text.splitlines()[3] == "line 2: bad" and len(text.splitlines()) == 5
    terminal = Terminal()
    bar = Progress(3, "x", terminal)
    bar.update(1)
    bar.note("line 2: bad")
    bar.finish()
    shown = terminal.getvalue()
    assert shown.startswith("\r\033[K") and "\r\033[Kline 2: bad\n" in shown
    assert shown.endswith("left\n")
