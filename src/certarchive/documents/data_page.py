"""The data page: the ruled table of the certificate's fields (H-1.2).

The paper form's table fills its page, with the free-text boxes (权利其他状况, 附记) taking
the room left over, so the table is sized to end at the bottom of the frame.  Long
free text wraps inside its cell; when it would overflow, the font steps down to 8 pt, and
only beyond that does the table continue on a further data page (rows split inside a
cell), so that nothing registered is ever cut off.

Labels and values are top-aligned with equal padding so that a label and the first line
of its value share a baseline: ``pdftotext`` then reads every field in form order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from certarchive.documents.fields import ROOMY_LABELS, data_rows
from certarchive.documents.fonts import CJKFont
from certarchive.documents.layout import (
    FRAME,
    INK,
    LABEL_FILL,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    frame,
    qr_corner,
)
from certarchive.documents.model import CertificateDocument
from certarchive.documents.pagemodel import (
    Box,
    Item,
    Page,
    Rule,
    TextRun,
    text_width,
    wrap_text,
)
from certarchive.documents.pdf_writer import draw_page

QR_SIZE = 32 * mm
TABLE_LEFT = 22 * mm
TABLE_WIDTH = PAGE_WIDTH - 2 * TABLE_LEFT
LABEL_WIDTH = 34 * mm
VALUE_WIDTH = TABLE_WIDTH - LABEL_WIDTH
TABLE_TOP = PAGE_HEIGHT - 56 * mm
TABLE_BOTTOM = 22 * mm
AVAILABLE_HEIGHT = TABLE_TOP - TABLE_BOTTOM
#: Value font sizes tried in turn until the table fits one page.
FONT_SIZES = (11.0, 10.0, 9.0, 8.0)
PADDING = 6.0
#: Rounding slack: the stretched row heights sum to the available height only up to float error.
SLACK = 0.01
GRID_WIDTH = 0.6
BOX_WIDTH = 1.2
SERIAL_SIZE = 14


@dataclass(frozen=True)
class Row:
    """One row of the table as wrapped lines; ``height`` may exceed what they need."""

    label: tuple[str, ...]
    value: tuple[str, ...]
    size: float
    height: float

    @property
    def leading(self) -> float:
        return self.size * 1.45

    @property
    def natural(self) -> float:
        return max(len(self.label), len(self.value)) * self.leading + 2 * PADDING


def _lines(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
    return tuple(wrap_text(text, font, size, width)) if text else ()


def _rows(doc: CertificateDocument, font: str, size: float) -> list[Row]:
    """Label and value wrapped in their columns, each row at its natural height."""
    rows = []
    for label, value in data_rows(doc):
        row = Row(
            _lines(label, font, size, LABEL_WIDTH - 2 * PADDING),
            _lines(value, font, size, VALUE_WIDTH - 2 * PADDING),
            size,
            0.0,
        )
        rows.append(replace(row, height=row.natural))
    return rows


def fitted_rows(doc: CertificateDocument, font: CJKFont) -> tuple[list[Row], bool]:
    """The rows at the largest font size that fits one page, stretched to fill it.

    The leftover height goes to the free-text rows, as on the paper form.  If even the
    smallest size does not fit, the rows keep their natural heights (second value False)
    and the table continues on further pages.
    """
    for size in FONT_SIZES:
        rows = _rows(doc, font.name, size)
        spare = AVAILABLE_HEIGHT - sum(row.height for row in rows)
        if spare >= 0:
            roomy = [i for i, (label, _) in enumerate(data_rows(doc)) if label in ROOMY_LABELS]
            for i in roomy:
                rows[i] = replace(rows[i], height=rows[i].height + spare / len(roomy))
            return rows, True
    return rows, False


def _split(row: Row, room: float) -> tuple[Row, Row] | None:
    """The lines of ``row`` that fit in ``room`` points, and the rest (None: not one fits)."""
    count = math.floor((room - 2 * PADDING + SLACK) / row.leading)
    if count < 1:
        return None
    head = Row(row.label[:count], row.value[:count], row.size, 0.0)
    tail = Row(row.label[count:], row.value[count:], row.size, 0.0)
    return replace(head, height=head.natural), replace(tail, height=tail.natural)


def paginate(rows: list[Row]) -> list[list[Row]]:
    """Rows per data page; a row that does not fit splits between two of its lines."""
    pages: list[list[Row]] = [[]]
    pending = list(rows)
    room = AVAILABLE_HEIGHT
    while pending:
        row = pending.pop(0)
        if row.height <= room + SLACK:
            pages[-1].append(row)
            room -= row.height
            continue
        parts = _split(row, room)
        if parts is None:
            if not pages[-1]:
                raise ValueError("a data-page row cannot be split to fit a page")
        else:
            pages[-1].append(parts[0])
            pending.insert(0, parts[1])
        pages.append([])
        room = AVAILABLE_HEIGHT
    return pages


def _cell_text(
    lines: tuple[str, ...],
    row: Row,
    font: str,
    left: float,
    width: float,
    top: float,
    centred: bool,
) -> list[Item]:
    runs: list[Item] = []
    for number, line in enumerate(lines):
        x = left + PADDING
        if centred:
            x += (width - 2 * PADDING - text_width(line, font, row.size)) / 2
        baseline = top - PADDING - row.size - number * row.leading
        runs.append(TextRun(x, baseline, line, row.size, INK))
    return runs


def _table(rows: list[Row], font: str) -> list[Item]:
    """Label backgrounds, grid, outer box, then the text, top-aligned in each cell."""
    height = sum(row.height for row in rows)
    bottom = TABLE_TOP - height
    value_left = TABLE_LEFT + LABEL_WIDTH
    right = TABLE_LEFT + TABLE_WIDTH
    fills: list[Item] = []
    rules: list[Item] = [Rule(value_left, bottom, value_left, TABLE_TOP, FRAME, GRID_WIDTH)]
    texts: list[Item] = []
    top = TABLE_TOP
    for number, row in enumerate(rows):
        fills.append(Box(TABLE_LEFT, top - row.height, LABEL_WIDTH, row.height, fill=LABEL_FILL))
        if number:
            rules.append(Rule(TABLE_LEFT, top, right, top, FRAME, GRID_WIDTH))
        texts += _cell_text(row.label, row, font, TABLE_LEFT, LABEL_WIDTH, top, centred=True)
        texts += _cell_text(row.value, row, font, value_left, VALUE_WIDTH, top, centred=False)
        top -= row.height
    outline = Box(TABLE_LEFT, bottom, TABLE_WIDTH, height, stroke=FRAME, line_width=BOX_WIDTH)
    return [*fills, *rules, outline, *texts]


def _header(doc: CertificateDocument, font: CJKFont) -> list[Item]:
    """Frame, QR code and the serial line above the table, on every data page."""
    width = text_width(doc.serial, font.name, SERIAL_SIZE)
    serial = TextRun(
        PAGE_WIDTH - TABLE_LEFT - width, TABLE_TOP + 5 * mm, doc.serial, SERIAL_SIZE, INK
    )
    return [*frame(), qr_corner(doc.verify_url, QR_SIZE), serial]


def data_pages(doc: CertificateDocument, font: CJKFont) -> list[Page]:
    """The data table's pages (normally exactly one), described once for both formats."""
    rows, fits = fitted_rows(doc, font)
    groups = [rows] if fits else paginate(rows)
    return [
        Page(PAGE_WIDTH, PAGE_HEIGHT, (*_header(doc, font), *_table(group, font.name)))
        for group in groups
    ]


def draw_data_pages(canvas: Canvas, doc: CertificateDocument, font: CJKFont) -> None:
    """Draw the data table, ending each page it fills (normally exactly one)."""
    for page in data_pages(doc, font):
        draw_page(canvas, page, font)
        canvas.showPage()
