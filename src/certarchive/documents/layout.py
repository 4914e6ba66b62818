"""Page geometry, colours and the furniture both pages share (frame, QR corner, paragraphs).

The paper form is printed on A4 with a double ruled frame; the e-certificate keeps that
look so that a printout of the file reads like the paper certificate (H-1.2).
"""

from __future__ import annotations

from dataclasses import astuple
from xml.sax.saxutils import escape

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph

from certarchive.documents.pagemodel import Box, Colour, Item, QRMark

PAGE_WIDTH, PAGE_HEIGHT = A4
INK = Colour(0.10, 0.10, 0.12)
FRAME = Colour(0.55, 0.16, 0.13)
LABEL_FILL = Colour(0.96, 0.94, 0.89)
NUMBER_RED = Colour(0.78, 0.08, 0.10)

FRAME_OUTER = 12 * mm
FRAME_INNER = 14 * mm
#: Left/top distance of the QR code's box from the page edge (H-1.3: top left).
QR_INSET = 17 * mm


def frame() -> list[Item]:
    """The double rule that borders every page of the paper form."""
    return [
        Box(
            inset,
            inset,
            PAGE_WIDTH - 2 * inset,
            PAGE_HEIGHT - 2 * inset,
            stroke=FRAME,
            line_width=width,
        )
        for inset, width in ((FRAME_OUTER, 1.6), (FRAME_INNER, 0.5))
    ]


def qr_corner(url: str, size: float) -> QRMark:
    """The QR code in the top-left corner of a page, inside the frame (H-1.3)."""
    return QRMark(QR_INSET, PAGE_HEIGHT - QR_INSET - size, size, url)


def paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of user text: markup characters escaped, line breaks kept."""
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def text_style(
    name: str, font: str, size: float, *, leading: float | None = None, **extra: object
) -> ParagraphStyle:
    """A paragraph style that breaks CJK lines between any two characters."""
    settings: dict[str, object] = {"textColor": Color(*astuple(INK)), "wordWrap": "CJK", **extra}
    return ParagraphStyle(
        name, fontName=font, fontSize=size, leading=leading or size * 1.45, **settings
    )
