"""Text as outlines: the glyphs of the CJK font as OFD path data.

The 已注销 watermark is added to an issued package as an annotation, and an annotation
may only use the document's resources, which the issuing signature protects: the font
subset embedded then need not hold 已, 注 or 销, and adding a font would change a signed
file.  So the watermark's words are drawn as paths from the font's outlines (read with
fontTools), and their text travels in the annotation's Remark and Parameters.
"""

from __future__ import annotations

import functools

from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont

from certarchive.documents.pagemodel import char_width
from certarchive.ofd.xml import numbers


@functools.cache
def _font(path: str) -> TTFont:
    return TTFont(path, fontNumber=0, lazy=True)


class _OfdPen(BasePen):
    """Collects a glyph's contours as OFD abbreviated path data, scaled and moved."""

    def __init__(self, glyphs, scale: float, dx: float, dy: float) -> None:
        super().__init__(glyphs)
        self.parts: list[str] = []
        self._transform = (scale, dx, dy)

    def _at(self, *points: tuple[float, float]) -> str:
        scale, dx, dy = self._transform
        return numbers(value for x, y in points for value in (x * scale + dx, y * scale + dy))

    def _moveTo(self, pt):
        self.parts.append(f"M {self._at(pt)}")

    def _lineTo(self, pt):
        self.parts.append(f"L {self._at(pt)}")

    def _qCurveToOne(self, pt1, pt2):
        self.parts.append(f"Q {self._at(pt1, pt2)}")

    def _curveToOne(self, pt1, pt2, pt3):
        self.parts.append(f"B {self._at(pt1, pt2, pt3)}")

    def _closePath(self):
        self.parts.append("C")


def text_outline(path: str, reportlab_font: str, text: str, size: float, x: float, y: float) -> str:
    """Path data drawing ``text`` with its baseline starting at (``x``, ``y``), y up,
    advancing by the same widths the PDF uses."""
    font = _font(path)
    glyphs = font.getGlyphSet()
    cmap = font.getBestCmap()
    scale = size / font["head"].unitsPerEm
    parts: list[str] = []
    for char in text:
        name = cmap.get(ord(char))
        if name is not None:
            pen = _OfdPen(glyphs, scale, x, y)
            glyphs[name].draw(pen)
            parts += pen.parts
        x += char_width(char, reportlab_font, size)
    return " ".join(parts)
