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
    draw_frame,
    draw_qr_corner,
    paragraph,
    text_style,
)
from certarchive.documents.model import CertificateDocument
from certarchive.documents.seal_image import seal_image

SUPERVISOR_LINE = "中华人民共和国自然资源部监制"
AGENCY_LABEL = "登记机构（章）"
QR_SIZE = 35 * mm
SEAL_DIAMETER = 42 * mm
STATEMENT_WIDTH = 146 * mm


def chinese_date(day: datetime.date) -> str:
    """The date as the form writes it: 2026年11月21日 (no leading zeros)."""
    return f"{day.year}年{day.month}月{day.day}日"


def _centred(
    canvas: Canvas, text: str, y: float, font: str, size: float, spacing: float = 0
) -> None:
    """One line centred on the page; ``spacing`` spreads the letters of titles.

    Keep ``spacing`` under about 0.13 em: beyond that ``pdftotext -raw`` reads the gaps
    as spaces and the words stop being searchable.
    """
    width = canvas.stringWidth(text, font, size) + spacing * (len(text) - 1)
    label = canvas.beginText((PAGE_WIDTH - width) / 2, y)
    label.setFont(font, size)
    label.setCharSpace(spacing)
    label.textOut(text)
    canvas.saveState()  # character spacing is graphics state: keep it to this line
    canvas.drawText(label)
    canvas.restoreState()


def _draw_statement(canvas: Canvas, doc: CertificateDocument, font: CJKFont) -> None:
    """Title, number line and the statutory statement, centred in the upper half."""
    canvas.setFillColor(INK)
    _centred(canvas, doc.title, PAGE_HEIGHT - 72 * mm, font.name, 32, spacing=4)
    _centred(canvas, doc.serial, PAGE_HEIGHT - 90 * mm, font.name, 15)
    statement = paragraph(
        doc.agency.statement,
        text_style("statement", font.name, 15, leading=31, firstLineIndent=30),
    )
    _, height = statement.wrap(STATEMENT_WIDTH, PAGE_HEIGHT)
    statement.drawOn(canvas, (PAGE_WIDTH - STATEMENT_WIDTH) / 2, PAGE_HEIGHT - 112 * mm - height)


def _draw_sealed_signature(canvas: Canvas, doc: CertificateDocument, font: CJKFont) -> None:
    """登记机构（章） and the date, with the seal stamped across both (H-1.4).

    The seal goes down first and the words over it: on paper the red ink lets the black
    print show through, and drawn the other way round the seal would hide them.
    """
    x = PAGE_WIDTH - 62 * mm
    y = PAGE_HEIGHT - 188 * mm
    stamp = doc.agency
    seal_image(stamp.seal_name, stamp.agency_name, stamp.seal_number, font.path).draw(
        canvas,
        x - SEAL_DIAMETER / 2,
        y - 7 * mm - SEAL_DIAMETER / 2,
        SEAL_DIAMETER,
        SEAL_DIAMETER,
    )
    canvas.setFillColor(INK)
    canvas.setFont(font.name, 15)
    canvas.drawCentredString(x, y, AGENCY_LABEL)
    canvas.drawCentredString(x, y - 14 * mm, chinese_date(doc.issued_on))


def _draw_footer(canvas: Canvas, doc: CertificateDocument, font: CJKFont) -> None:
    """The supervising ministry line and the print number (编号 NO. in red, as printed)."""
    canvas.setFillColor(INK)
    _centred(canvas, SUPERVISOR_LINE, 34 * mm, font.name, 12, spacing=1)
    label = "编号 NO. "
    label_width = canvas.stringWidth(label, font.name, 11)
    number_width = canvas.stringWidth(doc.print_number, font.name, 13)
    x = (PAGE_WIDTH - label_width - number_width) / 2
    canvas.setFont(font.name, 11)
    canvas.drawString(x, 24 * mm, label)
    canvas.setFillColor(NUMBER_RED)
    canvas.setFont(font.name, 13)
    canvas.drawString(x + label_width, 24 * mm, doc.print_number)


def draw_seal_page(canvas: Canvas, doc: CertificateDocument, font: CJKFont) -> None:
    """Draw the whole seal page on the current canvas page (the caller ends the page)."""
    draw_frame(canvas)
    draw_qr_corner(canvas, doc.verify_url, QR_SIZE)
    _draw_statement(canvas, doc, font)
    _draw_sealed_signature(canvas, doc, font)
    _draw_footer(canvas, doc, font)
