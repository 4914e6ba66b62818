"""The seal page (登记页) of the paper form: title, number, statement, seal, date, print number.

Layout follows the paper certificate's seal page (H-1.2), with the QR code added in the
top left (H-1.3) and the electronic seal over 登记机构（章） (H-1.4).
"""

from __future__ import annotations

import datetime

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from certarchive.documents.fonts import CJKFont
from certarchive.documents.layout import (
    INK,
    NUMBER_RED,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    frame,
    qr_corner,
)
from certarchive.documents.model import CertificateDocument
from certarchive.documents.pagemodel import (
    Colour,
    Item,
    Page,
    SealMark,
    TextRun,
    text_width,
    wrap_text,
)
from certarchive.documents.pdf_writer import draw_page

SUPERVISOR_LINE = "中华人民共和国自然资源部监制"
AGENCY_LABEL = "登记机构（章）"
QR_SIZE = 35 * mm
SEAL_DIAMETER = 42 * mm
STATEMENT_WIDTH = 146 * mm
STATEMENT_SIZE = 15
STATEMENT_LEADING = 31
STATEMENT_INDENT = 30


def chinese_date(day: datetime.date) -> str:
    """The date as the form writes it: 2026年11月21日 (no leading zeros)."""
    return f"{day.year}年{day.month}月{day.day}日"


def _centred(
    text: str, y: float, font: str, size: float, spacing: float = 0, colour: Colour = INK
) -> TextRun:
    """One line centred on the page; ``spacing`` spreads the letters of titles.

    Keep ``spacing`` under about 0.13 em: beyond that ``pdftotext -raw`` reads the gaps
    as spaces and the words stop being searchable.
    """
    width = text_width(text, font, size, spacing)
    return TextRun((PAGE_WIDTH - width) / 2, y, text, size, colour, spacing)


def _statement(doc: CertificateDocument, font: CJKFont) -> list[Item]:
    """Title, number line and the statutory statement, centred in the upper half."""
    left = (PAGE_WIDTH - STATEMENT_WIDTH) / 2
    lines = wrap_text(
        doc.agency.statement, font.name, STATEMENT_SIZE, STATEMENT_WIDTH, STATEMENT_INDENT
    )
    top = PAGE_HEIGHT - 112 * mm
    items: list[Item] = [
        _centred(doc.title, PAGE_HEIGHT - 72 * mm, font.name, 32, spacing=4),
        _centred(doc.serial, PAGE_HEIGHT - 90 * mm, font.name, 15),
    ]
    for number, line in enumerate(lines):
        indent = STATEMENT_INDENT if number == 0 else 0
        baseline = top - STATEMENT_SIZE - number * STATEMENT_LEADING
        items.append(TextRun(left + indent, baseline, line, STATEMENT_SIZE, INK))
    return items


def _sealed_signature(doc: CertificateDocument, font: CJKFont) -> list[Item]:
    """登记机构（章） and the date, with the seal stamped across both (H-1.4).

    The seal goes down first and the words over it: on paper the red ink lets the black
    print show through, and drawn the other way round the seal would hide them.
    """
    x = PAGE_WIDTH - 62 * mm
    y = PAGE_HEIGHT - 188 * mm
    stamp = doc.agency
    seal = SealMark(
        x - SEAL_DIAMETER / 2,
        y - 7 * mm - SEAL_DIAMETER / 2,
        SEAL_DIAMETER,
        stamp.seal_name,
        stamp.agency_name,
        stamp.seal_number,
    )
    words = []
    for text, baseline in ((AGENCY_LABEL, y), (chinese_date(doc.issued_on), y - 14 * mm)):
        width = text_width(text, font.name, 15)
        words.append(TextRun(x - width / 2, baseline, text, 15, INK))
    return [seal, *words]


def _footer(doc: CertificateDocument, font: CJKFont) -> list[Item]:
    """The supervising ministry line and the print number (编号 NO. in red, as printed)."""
    label = "编号 NO. "
    label_width = text_width(label, font.name, 11)
    number_width = text_width(doc.print_number, font.name, 13)
    x = (PAGE_WIDTH - label_width - number_width) / 2
    return [
        _centred(SUPERVISOR_LINE, 34 * mm, font.name, 12, spacing=1),
        TextRun(x, 24 * mm, label, 11, INK),
        TextRun(x + label_width, 24 * mm, doc.print_number, 13, NUMBER_RED),
    ]


def seal_page(doc: CertificateDocument, font: CJKFont) -> Page:
    """The whole seal page, described once for both file formats."""
    items: list[Item] = [
        *frame(),
        qr_corner(doc.verify_url, QR_SIZE),
        *_statement(doc, font),
        *_sealed_signature(doc, font),
        *_footer(doc, font),
    ]
    return Page(PAGE_WIDTH, PAGE_HEIGHT, tuple(items))


def draw_seal_page(canvas: Canvas, doc: CertificateDocument, font: CJKFont) -> None:
    """Draw the whole seal page on the current canvas page (the caller ends the page)."""
    draw_page(canvas, seal_page(doc, font), font)
