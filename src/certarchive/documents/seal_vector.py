"""The seal as vector paths on the PDF page (H-1.4): ring, star and letters as outlines.

Why paths and not a picture: a 600 × 600 raster with an 8-bit alpha mask was 29 KB of
every certificate (37 % of the file), and at any zoom or printer resolution beyond its
~360 dpi its edges showed.  The same seal as paths (the letters as the glyph outlines of
the page's own TrueType font, each under a matrix that narrows and turns it) is a few
kilobytes of compressed page content and sharp at any size.

Why outlines and not text: the seal's words must not mix into the certificate's
extractable text (pdftotext would interleave them with the fields), just as the ink of a
stamp is not part of the printed form.

How it looks: on white paper exactly as the raster did (its red at 235/255 coverage over
white is the colour used here, opaque), and over anything else like ink: the paths are
painted with the ``Multiply`` blend mode, so print under the seal darkens it instead of
being covered (issue #12).  The words of 登记机构（章） and the date are drawn after the
seal as well.

Building the paths reads the font's outlines (fontTools, about 0.2 s for a CJK font), so
the seal is built and compressed once per process for each seal and font, as a form
XObject that each document only references (:class:`SealForm`).
"""

from __future__ import annotations

import functools
import hashlib
import math
import zlib
from dataclasses import dataclass

from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream
from reportlab.pdfgen.canvas import Canvas

from certarchive.documents.seal_layout import (
    INK_ALPHA,
    RING_OUTER,
    RING_WIDTH,
    SEAL_RED,
    SIZE,
    GlyphPlacement,
    seal_lettering,
    star_points,
)

#: The raster's red at its coverage over white paper, as an opaque colour (0–1).
INK = tuple(round(1 - (255 - c) * INK_ALPHA / 255 / 255, 4) for c in SEAL_RED)
#: Outline coordinates are written in steps of this many font units: for a 2048-unit em
#: at the name's size, 8 units are 0.02 mm on the seal, a quarter of a 300 dpi dot, and
#: numbers of three digits instead of four make the seal a sixth smaller.
GRID = 8
#: Control-point distance of a quarter circle drawn as one cubic Bézier curve.
_KAPPA = 0.5522847498


def _number(value: float) -> str:
    """A coordinate, short: integers without a point, others to 0.01 unit."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class _PathPen(BasePen):
    """A fontTools pen writing PDF path operators (quadratic segments become cubic)."""

    def __init__(self, glyphset: object) -> None:
        super().__init__(glyphset)
        self.ops: list[str] = []

    def _point(self, *points: tuple[float, float]) -> str:
        return " ".join(f"{round(x / GRID)} {round(y / GRID)}" for x, y in points)

    def _moveTo(self, pt: tuple[float, float]) -> None:
        self.ops.append(f"{self._point(pt)} m")

    def _lineTo(self, pt: tuple[float, float]) -> None:
        self.ops.append(f"{self._point(pt)} l")

    def _curveToOne(self, *points: tuple[float, float]) -> None:
        self.ops.append(f"{self._point(*points)} c")

    def _closePath(self) -> None:
        self.ops.append("h")


def _circle(radius: float, centre: float = SIZE / 2) -> str:
    """A circle as four cubic curves, clockwise on the page."""
    k = radius * _KAPPA
    c = centre
    r = radius
    segments = [
        f"{_number(c + r)} {_number(c)} m",
        f"{_number(c + r)} {_number(c + k)} {_number(c + k)} {_number(c + r)} "
        f"{_number(c)} {_number(c + r)} c",
        f"{_number(c - k)} {_number(c + r)} {_number(c - r)} {_number(c + k)} "
        f"{_number(c - r)} {_number(c)} c",
        f"{_number(c - r)} {_number(c - k)} {_number(c - k)} {_number(c - r)} "
        f"{_number(c)} {_number(c - r)} c",
        f"{_number(c + k)} {_number(c - r)} {_number(c + r)} {_number(c - k)} "
        f"{_number(c + r)} {_number(c)} c",
        "h",
    ]
    return " ".join(segments)


def _letter(letter: GlyphPlacement, font: TTFont, glyphset: object, cmap: dict) -> str:
    """One letter: its outline in font units under the matrix that centres its ink box on
    the placement, narrows, turns and flips it into the seal's y-down square."""
    name = cmap.get(ord(letter.char))
    if name is None:
        return ""
    glyph = font["glyf"][name]
    if not hasattr(glyph, "xMin"):  # an empty glyph (a space): nothing to draw
        return ""
    pen = _PathPen(glyphset)
    glyphset[name].draw(pen)  # type: ignore[index]
    scale = letter.size / font["head"].unitsPerEm
    u, v = scale * letter.width_scale, -scale
    gx, gy = (glyph.xMin + glyph.xMax) / 2, (glyph.yMin + glyph.yMax) / 2
    cos = math.cos(math.radians(letter.rotation))
    sin = math.sin(math.radians(letter.rotation))
    matrix = (  # the outline is in steps of GRID font units
        cos * u * GRID,
        sin * u * GRID,
        -sin * v * GRID,
        cos * v * GRID,
        letter.x - cos * u * gx + sin * v * gy,
        letter.y - sin * u * gx - cos * v * gy,
    )
    width = 2 * letter.stroke / scale / GRID  # the stroke on both sides, in steps
    return (
        f"q {' '.join(f'{m:.5f}' for m in matrix)} cm {_number(width)} w "
        f"{' '.join(pen.ops)} B Q"
    )


@functools.cache
def _font(font_path: str) -> tuple[TTFont, object, dict]:
    font = TTFont(font_path, fontNumber=0, lazy=True)
    return font, font.getGlyphSet(), font.getBestCmap()


def seal_operators(
    seal_name: str, agency_name: str, seal_number: str, font_path: str | None
) -> str:
    """The seal's PDF drawing operators in its own square (:data:`SIZE` units, y down).

    Without a TrueType font (``font_path`` None) the letters cannot be drawn; the ring,
    star and nothing else remain, and the renderer's font module has already warned.
    """
    red = " ".join(str(c) for c in INK)
    star = star_points()
    parts = [
        f"{red} rg {red} RG 1 j",
        # The ring: the area between two circles (even-odd fill).
        f"{_circle(RING_OUTER)} {_circle(RING_OUTER - RING_WIDTH)} f*",
        " ".join(
            [f"{_number(star[0][0])} {_number(star[0][1])} m"]
            + [f"{_number(x)} {_number(y)} l" for x, y in star[1:]]
        )
        + " h f",
    ]
    if font_path:
        font, glyphset, cmap = _font(font_path)
        parts += [
            _letter(letter, font, glyphset, cmap)
            for letter in seal_lettering(seal_name, agency_name, seal_number)
        ]
    return "\n".join(part for part in parts if part)


@dataclass(frozen=True)
class SealForm:
    """The seal as a form XObject's parts, compressed once: each document gets a stream
    object of its own around the same bytes (reportlab numbers the objects of each
    document), so no certificate pays for compressing the seal again."""

    name: str
    compressed: bytes

    def register(self, canvas: Canvas) -> str:
        """Add the form to ``canvas``'s document once; its name on the page."""
        document = canvas._doc
        name = document.getXObjectName(self.name)
        if name not in document.idToObject:
            ink = PDFDictionary({"Ink": PDFDictionary({"BM": PDFName("Multiply")})})
            resources = {"ExtGState": ink}
            entries = {
                "Type": PDFName("XObject"),
                "Subtype": PDFName("Form"),
                "BBox": PDFArray([0, 0, SIZE, SIZE]),
                "Resources": PDFDictionary(resources),
                "Filter": PDFName("FlateDecode"),  # present: reportlab compresses nothing
            }
            document.addForm(self.name, PDFStream(PDFDictionary(entries), self.compressed))
        canvas._formsinuse.append(self.name)
        return name


@functools.cache
def seal_form(
    seal_name: str, agency_name: str, seal_number: str, font_path: str | None
) -> SealForm:
    """The seal's form: its paths, painted with the ``Multiply`` blend mode (``/Ink``)."""
    paths = seal_operators(seal_name, agency_name, seal_number, font_path)
    content = f"/Ink gs\n{paths}".encode()
    digest = hashlib.sha256(content).hexdigest()[:16]
    return SealForm(f"CertarchiveSeal{digest}", zlib.compress(content, 9))


def draw_seal(
    canvas: Canvas,
    x: float,
    y: float,
    size: float,
    seal: tuple[str, str, str],
    font_path: str | None,
) -> None:
    """Stamp the seal ``(seal name, agency name, seal number)`` in the square of side
    ``size`` at (``x``, ``y``), multiplied into what is under it."""
    name = seal_form(*seal, font_path).register(canvas)
    canvas.saveState()
    scale = size / SIZE
    canvas.transform(scale, 0, 0, -scale, x, y + size)
    canvas._code.append(f"/{name} Do")
    canvas.restoreState()
