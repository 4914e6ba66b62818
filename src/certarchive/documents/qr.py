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


@functools.lru_cache(maxsize=256)
def symbol_path(data: str) -> tuple[int, str]:
    """Encode ``data`` at level H: (modules per side, PDF path operators filling it).

    The path is in module units with the origin at the symbol's bottom left, one
    rectangle per horizontal run of dark modules (a few hundred instead of a thousand
    single modules).  Built once per address and scaled by the caller, so drawing the
    code costs nothing after the first time.
    """
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_H, border=0, mask_pattern=MASK_PATTERN)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    count = len(matrix)
    rectangles = []
    for row, modules in enumerate(matrix):
        y = count - row - 1  # QR rows run top-down, PDF y runs bottom-up
        start = None
        for col, dark in enumerate([*modules, False]):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                rectangles.append(f"{start} {y} {col - start} 1 re")
                start = None
    return count, "\n".join([*rectangles, "f"])


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
        self._draw_emblem(count * module)
        canvas.restoreState()

    def _draw_emblem(self, symbol: float) -> None:
        """A white clearing with a red house silhouette in it.

        No frame around the house: a dark ring with a dark centre is what a finder
        pattern looks like, and zbar then fails on symbols of version 7 and up.
        """
        canvas = self.canv
        side = symbol * EMBLEM_SHARE
        x0 = y0 = (self.width - side) / 2
        canvas.setFillColor(white)
        canvas.roundRect(x0, y0, side, side, side * 0.2, stroke=0, fill=1)
        unit = side / 10
        canvas.setFillColor(EMBLEM_RED)
        house = canvas.beginPath()
        house.moveTo(x0 + 1.0 * unit, y0 + 5.2 * unit)  # eave, left
        house.lineTo(x0 + 5.0 * unit, y0 + 9.0 * unit)  # ridge
        house.lineTo(x0 + 9.0 * unit, y0 + 5.2 * unit)  # eave, right
        house.lineTo(x0 + 7.6 * unit, y0 + 5.2 * unit)
        house.lineTo(x0 + 7.6 * unit, y0 + 1.0 * unit)  # walls and floor
        house.lineTo(x0 + 2.4 * unit, y0 + 1.0 * unit)
        house.lineTo(x0 + 2.4 * unit, y0 + 5.2 * unit)
        house.close()
        canvas.drawPath(house, stroke=0, fill=1)
        canvas.setFillColor(white)
        canvas.rect(x0 + 4.2 * unit, y0 + 1.0 * unit, 1.6 * unit, 2.6 * unit, stroke=0, fill=1)
