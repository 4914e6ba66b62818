"""Where the seal's parts go: one geometry for both drawings of the seal (H-1.4, H-3.1).

The seal follows the physical official seal: a red ring, a five-pointed star in the
middle, the agency name along the upper arc, the seal's purpose (不动产登记专用章) in a
straight line under the star and the seal number in small digits along the bottom.  It
is drawn twice from this one description: as vector paths on the PDF page
(:mod:`.seal_vector`) and as a raster picture for the OFD's electronic seal (``SESeal``,
:mod:`.seal_image`).  Keeping the geometry here means the two cannot drift apart.

Coordinates are in a square of :data:`SIZE` units, the origin at the top left and y
growing downwards (the raster's pixels); angles are clockwise from the top.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Units across the seal (the raster's pixels: 600 over the 42 mm seal is ~360 dpi).
SIZE = 600
SEAL_RED = (206, 17, 38)
#: Ink coverage of the raster picture: slightly below opaque.
INK_ALPHA = 235
#: The ring: its outer edge one unit inside the square, its width.
RING_OUTER = SIZE / 2 - 1
RING_WIDTH = round(SIZE * 0.038)
STAR_RADIUS = SIZE * 0.16


@dataclass(frozen=True)
class GlyphPlacement:
    """One letter of the seal: its ink box centred on (``x``, ``y``), turned ``rotation``
    degrees clockwise, at font size ``size`` (units), narrowed to ``width_scale``."""

    char: str
    size: int
    x: float
    y: float
    rotation: float
    width_scale: float

    @property
    def stroke(self) -> int:
        """The outline's stroke on each side, in units before narrowing: seal letters are
        cut bold."""
        return max(1, self.size // 50)


def split_seal_name(seal_name: str, agency_name: str) -> tuple[str, str]:
    """Split the seal name into the arc text and the straight purpose line.

    "潢川县自然资源局不动产登记专用章" with agency "潢川县自然资源局" gives
    ("潢川县自然资源局", "不动产登记专用章"), which is how the physical seal is cut.  A seal
    name that does not start with the agency name goes round the arc whole.
    """
    if agency_name and seal_name.startswith(agency_name) and seal_name != agency_name:
        return agency_name, seal_name[len(agency_name) :]
    return seal_name, ""


def star_points(cx: float = SIZE / 2, cy: float = SIZE / 2) -> list[tuple[float, float]]:
    """Vertices of a five-pointed star with one point straight up."""
    inner = STAR_RADIUS * math.sin(math.radians(18)) / math.sin(math.radians(126))
    points = []
    for i in range(10):
        r = STAR_RADIUS if i % 2 == 0 else inner
        theta = math.radians(i * 36)
        points.append((cx + r * math.sin(theta), cy - r * math.cos(theta)))
    return points


def _on_arc(
    text: str, size: int, radius: float, span_deg: float, *, upper: bool, width_scale: float
) -> list[GlyphPlacement]:
    """``text`` along a circular arc, left to right.  On the upper arc the letters' tops
    point outwards; on the lower arc (the seal number) they point to the centre, so both
    read left to right as on a real seal."""
    centre = SIZE / 2
    count = len(text)
    step = span_deg / max(count - 1, 1)
    placed = []
    for i, char in enumerate(text):
        offset = -span_deg / 2 + i * step if count > 1 else 0.0
        theta = offset if upper else 180 - offset
        x = centre + radius * math.sin(math.radians(theta))
        y = centre - radius * math.cos(math.radians(theta))
        rotation = theta if upper else theta - 180
        placed.append(GlyphPlacement(char, size, x, y, rotation, width_scale))
    return placed


def _straight(text: str, size: int, top: float, width_scale: float) -> list[GlyphPlacement]:
    """The purpose line, centred horizontally, each letter in a cell of its narrowed size."""
    cell = max(1, round(size * width_scale))
    x = (SIZE - cell * len(text)) / 2
    return [
        GlyphPlacement(char, size, x + cell * (i + 0.5), top + size / 2, 0.0, width_scale)
        for i, char in enumerate(text)
    ]


def seal_lettering(seal_name: str, agency_name: str, seal_number: str) -> list[GlyphPlacement]:
    """Every letter of the seal: the name on the upper arc, the purpose under the star,
    the number along the bottom."""
    arc_text, purpose = split_seal_name(seal_name, agency_name)
    span = min(230.0, 31.0 * max(len(arc_text) - 1, 1))
    letters = _on_arc(
        arc_text, round(SIZE * 0.135), SIZE * 0.365, span, upper=True, width_scale=0.8
    )
    if purpose:
        letters += _straight(purpose, round(SIZE * 0.08), SIZE * 0.67, 0.8)
    number_span = min(110.0, 6.0 * max(len(seal_number) - 1, 1))
    letters += _on_arc(
        seal_number, round(SIZE * 0.05), SIZE * 0.405, number_span, upper=False, width_scale=1.0
    )
    return letters
