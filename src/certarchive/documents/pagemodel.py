"""The one description of a certificate's pages that both file writers draw from.

The seal page and the data page are laid out once, here and in :mod:`.seal_page` /
:mod:`.data_page`, as plain values: text runs with their baseline positions and font
size, boxes, rules, the QR code and the seal.  The PDF writer (:mod:`.pdf_writer`) and
the OFD writer (:mod:`certarchive.ofd.writer`) only translate these values into their
format, so the two files cannot drift apart: the same words at the same places.

Coordinates are PDF points with the origin at the bottom left of the page (the OFD writer
turns them into millimetres from the top left).  Line breaking is done here too, with the
font's own advance widths, so that both formats break every line at the same character.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from reportlab.pdfbase import pdfmetrics


@dataclass(frozen=True)
class Colour:
    """An RGB colour, each component 0–1 (reportlab's convention)."""

    red: float
    green: float
    blue: float

    def bytes255(self) -> tuple[int, int, int]:
        """The components as 0–255 integers (OFD's convention)."""
        return (round(self.red * 255), round(self.green * 255), round(self.blue * 255))


@dataclass(frozen=True)
class TextRun:
    """One line of text starting at (``x``, ``y``), ``y`` being the baseline."""

    x: float
    y: float
    text: str
    size: float
    colour: Colour
    char_space: float = 0.0


@dataclass(frozen=True)
class Box:
    """A rectangle, stroked and/or filled."""

    x: float
    y: float
    width: float
    height: float
    stroke: Colour | None = None
    fill: Colour | None = None
    line_width: float = 1.0


@dataclass(frozen=True)
class Rule:
    """A straight line."""

    x1: float
    y1: float
    x2: float
    y2: float
    colour: Colour
    line_width: float


@dataclass(frozen=True)
class QRMark:
    """The QR code carrying ``data``, a square of side ``size`` at (``x``, ``y``)."""

    x: float
    y: float
    size: float
    data: str


@dataclass(frozen=True)
class SealMark:
    """Where the agency's seal is stamped: a square of side ``size`` at (``x``, ``y``).

    The names say which seal is drawn there (:mod:`.seal_layout`).
    """

    x: float
    y: float
    size: float
    seal_name: str
    agency_name: str
    seal_number: str


Item = TextRun | Box | Rule | QRMark | SealMark


@dataclass(frozen=True)
class Page:
    """One page: its size and what is drawn on it, in drawing order."""

    width: float
    height: float
    items: tuple[Item, ...]

    def texts(self) -> list[TextRun]:
        return [item for item in self.items if isinstance(item, TextRun)]


@functools.lru_cache(maxsize=65536)
def char_width(char: str, font: str, size: float) -> float:
    """The advance width of one character in points (cached: pages reuse few characters)."""
    return pdfmetrics.stringWidth(char, font, size)


def advances(run: TextRun, font: str) -> list[float]:
    """Each character's advance, character spacing included, as the PDF text state applies it."""
    return [char_width(char, font, run.size) + run.char_space for char in run.text]


def text_width(text: str, font: str, size: float, char_space: float = 0.0) -> float:
    """The width of ``text`` on one line (no spacing after the last character)."""
    if not text:
        return 0.0
    return sum(char_width(char, font, size) for char in text) + char_space * (len(text) - 1)


#: Characters that may not begin a line in Chinese typesetting: they hang at the end of
#: the previous one instead (as reportlab's CJK wrapping lets them).
NO_LINE_START = frozenset("，。、；：？！）》」』”’…—,.;:?!)]}%")


def wrap_text(
    text: str, font: str, size: float, width: float, first_indent: float = 0
) -> list[str]:
    """Break ``text`` into lines no wider than ``width``, between any two characters.

    Explicit line breaks are kept; closing punctuation never starts a line.  A single
    character wider than the line still gets a line of its own, so the function always
    ends.
    """
    lines: list[str] = []
    for number, paragraph in enumerate(text.split("\n")):
        available = width - (first_indent if number == 0 else 0)
        line, used = "", 0.0
        for char in paragraph:
            advance = char_width(char, font, size)
            if line and used + advance > available + 1e-6 and char not in NO_LINE_START:
                lines.append(line)
                line, used, available = "", 0.0, width
            line += char
            used += advance
        lines.append(line)
    return lines
