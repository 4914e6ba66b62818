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

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Table, TableStyle

from certarchive.documents.fields import ROOMY_LABELS, data_rows
from certarchive.documents.fonts import CJKFont
from certarchive.documents.layout import (
    FRAME,
    INK,
    LABEL_FILL,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    draw_frame,
    draw_qr_corner,
    paragraph,
    text_style,
)
from certarchive.documents.model import CertificateDocument

QR_SIZE = 32 * mm
TABLE_LEFT = 22 * mm
TABLE_WIDTH = PAGE_WIDTH - 2 * TABLE_LEFT
LABEL_WIDTH = 34 * mm
TABLE_TOP = PAGE_HEIGHT - 56 * mm
TABLE_BOTTOM = 22 * mm
AVAILABLE_HEIGHT = TABLE_TOP - TABLE_BOTTOM
#: Value font sizes tried in turn until the table fits one page.
FONT_SIZES = (11.0, 10.0, 9.0, 8.0)
PADDING = 6.0
#: Rounding slack: the stretched row heights sum to the available height only up to float error.
SLACK = 0.01


def _cells(doc: CertificateDocument, font: str, size: float) -> list[list[Flowable]]:
    """Label and value paragraphs, one row per field, at font ``size``."""
    label_style = text_style("label", font, size, alignment=TA_CENTER)
    value_style = text_style("value", font, size)
    return [
        [paragraph(label, label_style), paragraph(value, value_style)]
        for label, value in data_rows(doc)
    ]


def _natural_heights(cells: list[list[Flowable]]) -> list[float]:
    """Each row's height when its paragraphs wrap in their columns."""
    widths = (LABEL_WIDTH - 2 * PADDING, TABLE_WIDTH - LABEL_WIDTH - 2 * PADDING)
    return [
        max(cell.wrap(width, AVAILABLE_HEIGHT)[1] for cell, width in zip(row, widths, strict=True))
        + 2 * PADDING
        for row in cells
    ]


def _table(cells: list[list[Flowable]], heights: list[float] | None, font: str) -> Table:
    """The ruled two-column table; ``heights`` None lets rows take their natural height."""
    table = Table(
        cells,
        colWidths=(LABEL_WIDTH, TABLE_WIDTH - LABEL_WIDTH),
        rowHeights=heights,
        splitInRow=1,
    )
    table.setStyle(
        TableStyle(
            [
                # Cells set their font even when they hold paragraphs; without this
                # the table would pull in a non-embedded Helvetica.
                ("FONT", (0, 0), (-1, -1), font),
                ("GRID", (0, 0), (-1, -1), 0.6, FRAME),
                ("BOX", (0, 0), (-1, -1), 1.2, FRAME),
                ("BACKGROUND", (0, 0), (0, -1), LABEL_FILL),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TEXTCOLOR", (0, 0), (-1, -1), INK),
                ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
                ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
                ("TOPPADDING", (0, 0), (-1, -1), PADDING),
                ("BOTTOMPADDING", (0, 0), (-1, -1), PADDING),
            ]
        )
    )
    return table


def fitted_table(doc: CertificateDocument, font: CJKFont) -> Table:
    """The data table at the largest font size that fits one page, stretched to fill it.

    The leftover height goes to the free-text rows, as on the paper form.  If even the
    smallest size does not fit, the table keeps its natural heights and splits.
    """
    labels = [label for label, _ in data_rows(doc)]
    roomy = [i for i, label in enumerate(labels) if label in ROOMY_LABELS]
    for size in FONT_SIZES:
        cells = _cells(doc, font.name, size)
        heights = _natural_heights(cells)
        spare = AVAILABLE_HEIGHT - sum(heights)
        if spare >= 0:
            for i in roomy:
                heights[i] += spare / len(roomy)
            return _table(cells, heights, font.name)
    return _table(cells, None, font.name)


def _draw_header(canvas: Canvas, doc: CertificateDocument, font: CJKFont) -> None:
    """Frame, QR code and the serial line above the table, on every data page."""
    draw_frame(canvas)
    draw_qr_corner(canvas, doc.verify_url, QR_SIZE)
    canvas.setFillColor(INK)
    canvas.setFont(font.name, 14)
    canvas.drawRightString(PAGE_WIDTH - TABLE_LEFT, TABLE_TOP + 5 * mm, doc.serial)


def draw_data_pages(canvas: Canvas, doc: CertificateDocument, font: CJKFont) -> None:
    """Draw the data table, ending each page it fills (normally exactly one)."""
    pending: list[Flowable] = [fitted_table(doc, font)]
    while pending:
        _draw_header(canvas, doc, font)
        piece = pending.pop(0)
        _, height = piece.wrapOn(canvas, TABLE_WIDTH, AVAILABLE_HEIGHT)
        if height > AVAILABLE_HEIGHT + SLACK:
            parts = piece.splitOn(canvas, TABLE_WIDTH, AVAILABLE_HEIGHT)
            if len(parts) < 2:
                raise ValueError("a data-page row cannot be split to fit a page")
            piece, pending[:0] = parts[0], parts[1:]
            _, height = piece.wrapOn(canvas, TABLE_WIDTH, AVAILABLE_HEIGHT)
        piece.drawOn(canvas, TABLE_LEFT, TABLE_TOP - height)
        canvas.showPage()
