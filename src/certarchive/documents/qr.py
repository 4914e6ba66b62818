"""The QR code carrying the verification address, with a registration emblem inside (H-1.3).

Error correction level H restores up to about 30 % of the symbol, which is what lets an
emblem cover its centre and still leaves margin for a creased or badly photocopied
print.  The official unified registration logo is not available to this project, so a
simple emblem is drawn instead: a red house silhouette on a white clearing.

The symbol is drawn as vector rectangles (one run of dark modules per rectangle), which
stays sharp at any print resolution and adds only a few kilobytes.  Encoding a URL is
cached because the same address is drawn on both pages and again on re-renders.
"""

from __future__ import annotations

import functools

import qrcode
from qrcode.constants import ERROR_CORRECT_H
from reportlab.lib.colors import Color, white
from reportlab.platypus import Flowable

#: Modules of white margin drawn inside the box; the page layout keeps more white around it.
QUIET_ZONE = 2
#: The emblem's side as a share of the symbol's side: 22 % covers under 5 % of the area.
EMBLEM_SHARE = 0.22
EMBLEM_RED = Color(0.80, 0.07, 0.15)
#: A fixed data mask.  Choosing the mask means encoding the symbol eight times and scoring
#: each (ISO/IEC 18004 §7.8.3): nine tenths of the time spent on a QR code.  Any mask is
#: valid, since the decoder reads it from the format information; the scoring only
#: avoids large uniform areas, and at level H with the emblem's clearing the tests decode
#: every symbol we draw from a 100 dpi rendering.
MASK_PATTERN = 4


#: The emblem in tenths of its side from its bottom left: the house's outline (eaves,
#: ridge, walls) and the door (x, y, width, height), cut out in white.
HOUSE = (
    (1.0, 5.2),  # eave, left
    (5.0, 9.0),  # ridge
    (9.0, 5.2),  # eave, right
    (7.6, 5.2),
    (7.6, 1.0),  # walls and floor
    (2.4, 1.0),
    (2.4, 5.2),
)
DOOR = (4.2, 1.0, 1.6, 2.6)
#: The white clearing's corner radius, as a share of its side.
CLEARING_RADIUS = 0.2


@functools.lru_cache(maxsize=256)
def symbol_runs(data: str) -> tuple[int, tuple[tuple[int, int, int], ...]]:
    """Encode ``data`` at level H: (modules per side, runs of dark modules).

    Each run is (x, y, length) in module units with the origin at the symbol's bottom
    left: one rectangle per horizontal run of dark modules (a few hundred instead of a
    thousand single modules).  Built once per address; both file writers scale it.
    """
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_H, border=0, mask_pattern=MASK_PATTERN)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    count = len(matrix)
    runs = []
    for row, modules in enumerate(matrix):
        y = count - row - 1  # QR rows run top-down, PDF y runs bottom-up
        start = None
        for col, dark in enumerate([*modules, False]):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                runs.append((start, y, col - start))
                start = None
    return count, tuple(runs)


@functools.lru_cache(maxsize=256)
def symbol_path(data: str) -> tuple[int, str]:
    """(modules per side, PDF path operators filling the dark modules), in module units."""
    count, runs = symbol_runs(data)
    return count, "\n".join([*(f"{x} {y} {w} 1 re" for x, y, w in runs), "f"])


def emblem_box(size: float, count: int) -> tuple[float, float]:
    """(offset of the emblem's clearing from the box's corner, its side) for a symbol of
    ``count`` modules drawn ``size`` wide."""
    module = size / (count + 2 * QUIET_ZONE)
    side = count * module * EMBLEM_SHARE
    return (size - side) / 2, side


class QRCode(Flowable):
    """A square QR code ``size`` points wide (quiet zone included) for ``data``."""

    def __init__(self, data: str, size: float) -> None:
        super().__init__()
        self.data = data
        self.width = self.height = size

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        count, path = symbol_path(self.data)
        module = self.width / (count + 2 * QUIET_ZONE)
        canvas = self.canv
        canvas.saveState()
        canvas.setFillColor(white)
        canvas.rect(0, 0, self.width, self.height, stroke=0, fill=1)
        canvas.saveState()
        canvas.transform(module, 0, 0, module, QUIET_ZONE * module, QUIET_ZONE * module)
        canvas.setFillGray(0)
        canvas.addLiteral(path)
        canvas.restoreState()
        self._draw_emblem(count)
        canvas.restoreState()

    def _draw_emblem(self, count: int) -> None:
        """A white clearing with a red house silhouette in it.

        No frame around the house: a dark ring with a dark centre is what a finder
        pattern looks like, and zbar then fails on symbols of version 7 and up.
        """
        canvas = self.canv
        offset, side = emblem_box(self.width, count)
        x0 = y0 = offset
        canvas.setFillColor(white)
        canvas.roundRect(x0, y0, side, side, side * CLEARING_RADIUS, stroke=0, fill=1)
        unit = side / 10
        canvas.setFillColor(EMBLEM_RED)
        house = canvas.beginPath()
        (first_x, first_y), *rest = HOUSE
        house.moveTo(x0 + first_x * unit, y0 + first_y * unit)
        for x, y in rest:
            house.lineTo(x0 + x * unit, y0 + y * unit)
        house.close()
        canvas.drawPath(house, stroke=0, fill=1)
        canvas.setFillColor(white)
        dx, dy, dw, dh = DOOR
        canvas.rect(x0 + dx * unit, y0 + dy * unit, dw * unit, dh * unit, stroke=0, fill=1)
