"""One page of the description (:mod:`certarchive.documents.pagemodel`) as ``Content.xml``.

Text becomes TextObjects whose TextCode carries the characters (so the text stays
searchable and selectable) with each glyph's position (``DeltaX``, the advances the PDF
applies); boxes, rules and the QR code become PathObjects.  The seal is not page content
in OFD: it is the appearance of the signature's stamp annotation (:mod:`.sign`).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

from certarchive.documents.pagemodel import (
    Box,
    Colour,
    Page,
    QRMark,
    Rule,
    SealMark,
    TextRun,
    advances,
)
from certarchive.documents.qr import (
    CLEARING_RADIUS,
    DOOR,
    EMBLEM_RED,
    HOUSE,
    QUIET_ZONE,
    emblem_box,
    symbol_runs,
)
from certarchive.ofd.xml import (
    down,
    element,
    mm,
    number,
    numbers,
    rounded_rectangle,
    serialise,
    sub,
)

WHITE = Colour(1, 1, 1)
BLACK = Colour(0, 0, 0)
#: A text object's box reaches this far above and below the baseline (em): room for
#: every CJK glyph, which readers may clip to the box.
ASCENT, DESCENT = 1.0, 0.3


class Ids:
    """The document's object ids: one counter for every page, resource and annotation,
    since OFD ids are unique across the document (Document.xml records the largest)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self.last = 0

    def next(self) -> int:
        self.last = next(self._counter)
        return self.last


@dataclass(frozen=True)
class PageContext:
    """What a page's content refers to: the page height, the font resource and its name."""

    height: float
    font_id: int
    font_name: str


def _colour(parent, tag: str, colour: Colour) -> None:
    sub(parent, tag, {"Value": numbers(colour.bytes255())})


def compact(values: list[float]) -> str:
    """An OFD array with runs of equal values written ``g COUNT VALUE`` (GB/T 33190's
    abbreviation): CJK glyphs share one advance, so a line's DeltaX becomes a few tokens."""
    texts = [number(value) for value in values]
    parts: list[str] = []
    start = 0
    while start < len(texts):
        end = start
        while end + 1 < len(texts) and texts[end + 1] == texts[start]:
            end += 1
        count = end - start + 1
        parts.append(f"g {count} {texts[start]}" if count > 1 else texts[start])
        start = end + 1
    return " ".join(parts)


def _text(layer, run: TextRun, ids: Ids, page: PageContext) -> None:
    steps = [mm(step) for step in advances(run, page.font_name)]
    size = mm(run.size)
    left, top = mm(run.x), down(page.height, run.y) - ASCENT * size
    width = sum(steps) or size
    node = sub(
        layer,
        "TextObject",
        {
            "ID": str(ids.next()),
            "Boundary": numbers((left, top, width, (ASCENT + DESCENT) * size)),
            "Font": str(page.font_id),
            "Size": number(size),
        },
    )
    _colour(node, "FillColor", run.colour)
    code = sub(node, "TextCode", {"X": "0", "Y": number(ASCENT * size)}, run.text)
    if len(run.text) > 1:
        code.set("DeltaX", compact(steps[:-1]))


def _path(
    layer,
    ids: Ids,
    box: tuple[float, float, float, float],
    data: str,
    *,
    stroke: Colour | None = None,
    fill: Colour | None = None,
    line_width: float = 0.0,
) -> None:
    """A PathObject whose AbbreviatedData ``data`` is relative to ``box``'s top left (mm)."""
    node = sub(
        layer,
        "PathObject",
        {
            "ID": str(ids.next()),
            "Boundary": numbers(box),
            "Stroke": "true" if stroke else "false",
            "Fill": "true" if fill else "false",
        },
    )
    if stroke:
        node.set("LineWidth", number(line_width))
        _colour(node, "StrokeColor", stroke)
    if fill:
        _colour(node, "FillColor", fill)
    sub(node, "AbbreviatedData", text=data)


def _rectangle(x: float, y: float, width: float, height: float) -> str:
    corners = ((x, y), (x + width, y), (x + width, y + height), (x, y + height))
    return "M " + " L ".join(numbers(corner) for corner in corners) + " C"


def _box(layer, box: Box, ids: Ids, page: PageContext) -> None:
    margin = mm(box.line_width) / 2 if box.stroke else 0.0
    left = mm(box.x) - margin
    top = down(page.height, box.y + box.height) - margin
    width, height = mm(box.width), mm(box.height)
    _path(
        layer,
        ids,
        (left, top, width + 2 * margin, height + 2 * margin),
        _rectangle(margin, margin, width, height),
        stroke=box.stroke,
        fill=box.fill,
        line_width=mm(box.line_width),
    )


def _rule(layer, rule: Rule, ids: Ids, page: PageContext) -> None:
    margin = mm(rule.line_width) / 2
    x1, x2 = mm(rule.x1), mm(rule.x2)
    y1, y2 = down(page.height, rule.y1), down(page.height, rule.y2)
    left, top = min(x1, x2) - margin, min(y1, y2) - margin
    box = (left, top, abs(x2 - x1) + 2 * margin, abs(y2 - y1) + 2 * margin)
    data = f"M {numbers((x1 - left, y1 - top))} L {numbers((x2 - left, y2 - top))}"
    _path(layer, ids, box, data, stroke=rule.colour, line_width=mm(rule.line_width))


@functools.lru_cache(maxsize=256)
def _modules(data: str) -> str:
    """The dark modules as a path in module units from the symbol's top left, built once
    per address (a path object's CTM scales it, as the PDF's transform does)."""
    count, runs = symbol_runs(data)
    return " ".join(_rectangle(x, count - y - 1, w, 1) for x, y, w in runs)


def _qr(layer, mark: QRMark, ids: Ids, page: PageContext) -> None:
    """The same symbol and emblem as the PDF's, as three filled paths over a white square."""
    count, _ = symbol_runs(mark.data)
    side = mm(mark.size)
    module = side / (count + 2 * QUIET_ZONE)
    box = (mm(mark.x), down(page.height, mark.y + mark.size), side, side)
    _path(layer, ids, box, _rectangle(0, 0, side, side), fill=WHITE)

    _path(layer, ids, box, _modules(mark.data), fill=BLACK)
    node = layer[-1]
    node.set("CTM", numbers((module, 0, 0, module, QUIET_ZONE * module, QUIET_ZONE * module)))
    offset_pt, side_pt = emblem_box(mark.size, count)
    offset, emblem = mm(offset_pt), mm(side_pt)
    radius = emblem * CLEARING_RADIUS
    left, right, top, bottom = offset, offset + emblem, side - offset - emblem, side - offset
    clearing = rounded_rectangle(left, top, right, bottom, radius)
    _path(layer, ids, box, clearing, fill=WHITE)
    unit = emblem / 10

    def point(x: float, y: float) -> str:
        return numbers((left + x * unit, bottom - y * unit))

    (first, *rest) = HOUSE
    house = f"M {point(*first)} " + " ".join(f"L {point(*p)}" for p in rest) + " C"
    _path(layer, ids, box, house, fill=Colour(*EMBLEM_RED.rgb()))
    dx, dy, dw, dh = DOOR
    door = _rectangle(left + dx * unit, bottom - (dy + dh) * unit, dw * unit, dh * unit)
    _path(layer, ids, box, door, fill=WHITE)


def page_content(page: Page, ids: Ids, context: PageContext) -> bytes:
    """The ``Content.xml`` of ``page``: one body layer, items in drawing order."""
    root = element("Page")
    area = sub(root, "Area")
    sub(area, "PhysicalBox", text=numbers((0, 0, mm(page.width), mm(page.height))))
    content = sub(root, "Content")
    layer = sub(content, "Layer", {"ID": str(ids.next()), "Type": "Body"})
    for item in page.items:
        if isinstance(item, TextRun):
            _text(layer, item, ids, context)
        elif isinstance(item, Box):
            _box(layer, item, ids, context)
        elif isinstance(item, Rule):
            _rule(layer, item, ids, context)
        elif isinstance(item, QRMark):
            _qr(layer, item, ids, context)
        elif not isinstance(item, SealMark):  # pragma: no cover - the Item union is closed
            raise TypeError(f"unknown page item {item!r}")
    return serialise(root)


def seal_marks(page: Page) -> list[SealMark]:
    """Where the page wants the seal stamped (the signature's stamp annotation goes there)."""
    return [item for item in page.items if isinstance(item, SealMark)]
