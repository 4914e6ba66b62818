"""Draw a described page (:mod:`.pagemodel`) on a reportlab canvas: the PDF writer.

Everything about where things go was decided when the page was described; this module
only says how each kind of item is written in PDF, so the OFD writer, reading the same
description, puts the same words in the same places.
"""

from __future__ import annotations

from reportlab.lib.colors import Color
from reportlab.pdfgen.canvas import Canvas

from certarchive.documents.fonts import CJKFont
from certarchive.documents.pagemodel import (
    Box,
    Colour,
    Item,
    Page,
    QRMark,
    Rule,
    SealMark,
    TextRun,
)
from certarchive.documents.qr import QRCode
from certarchive.documents.seal_vector import draw_seal


def _colour(colour: Colour) -> Color:
    return Color(colour.red, colour.green, colour.blue)


def _box(canvas: Canvas, box: Box) -> None:
    if box.stroke is not None:
        canvas.setStrokeColor(_colour(box.stroke))
        canvas.setLineWidth(box.line_width)
    if box.fill is not None:
        canvas.setFillColor(_colour(box.fill))
    canvas.rect(
        box.x,
        box.y,
        box.width,
        box.height,
        stroke=box.stroke is not None,
        fill=box.fill is not None,
    )


def _rule(canvas: Canvas, rule: Rule) -> None:
    canvas.setStrokeColor(_colour(rule.colour))
    canvas.setLineWidth(rule.line_width)
    canvas.line(rule.x1, rule.y1, rule.x2, rule.y2)


def _text(canvas: Canvas, run: TextRun, font: CJKFont) -> None:
    label = canvas.beginText(run.x, run.y)
    label.setFont(font.name, run.size)
    if run.char_space:
        label.setCharSpace(run.char_space)
    label.setFillColor(_colour(run.colour))
    label.textOut(run.text)
    canvas.drawText(label)


def _item(canvas: Canvas, item: Item, font: CJKFont) -> None:
    if isinstance(item, TextRun):
        _text(canvas, item, font)
    elif isinstance(item, Box):
        _box(canvas, item)
    elif isinstance(item, Rule):
        _rule(canvas, item)
    elif isinstance(item, QRMark):
        QRCode(item.data, item.size).drawOn(canvas, item.x, item.y)
    elif isinstance(item, SealMark):
        seal = (item.seal_name, item.agency_name, item.seal_number)
        draw_seal(canvas, item.x, item.y, item.size, seal, font.path)
    else:  # pragma: no cover - the Item union is closed
        raise TypeError(f"unknown page item {item!r}")


def draw_page(canvas: Canvas, page: Page, font: CJKFont) -> None:
    """Draw every item of ``page`` in order, each in its own graphics state."""
    for item in page.items:
        canvas.saveState()
        _item(canvas, item, font)
        canvas.restoreState()
