"""One page of the description (:mod:`certarchive.documents.pagemodel`) as ``Content.xml``.

Written as text, item by item, each item's XML cached with its object IDs left open:
most of a page is the same for every certificate of an agency, and building it as
elements was most of the time of writing an OFD.  Every package is validated against
the GB/T 33190 schemas in the tests.

Text becomes TextObjects whose TextCode carries the characters (so the text stays
searchable and selectable) with each glyph's position (``DeltaX``, the advances the PDF
applies); boxes, rules and the QR code become PathObjects.  The seal is not page content
in OFD: it is the appearance of the signature's stamp annotation (:mod:`.sign`).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from xml.sax.saxutils import escape

from certarchive.documents.pagemodel import (
    Box,
    Colour,
    Item,
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
from certarchive.ofd.xml import NS, down, mm, number, numbers, rounded_rectangle

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


#: Where an object's ID goes in a cached fragment (filled in per document, see _Fragment).
_ID = "\x00"


@dataclass(frozen=True)
class _Fragment:
    """Objects' XML with their IDs left open: most of a page (frame, labels, statement,
    rules) is the same for every certificate, so its XML is built once per process and
    only numbered per document."""

    parts: tuple[str, ...]

    def numbered(self, ids: Ids) -> str:
        pieces = [self.parts[0]]
        for part in self.parts[1:]:
            pieces += [str(ids.next()), part]
        return "".join(pieces)


def _fragment(xml: str) -> _Fragment:
    return _Fragment(tuple(xml.split(_ID)))


def _colour(tag: str, colour: Colour) -> str:
    return f'<ofd:{tag} Value="{numbers(colour.bytes255())}"/>'


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


def _text(run: TextRun, page: PageContext) -> str:
    steps = [mm(step) for step in advances(run, page.font_name)]
    size = mm(run.size)
    left, top = mm(run.x), down(page.height, run.y) - ASCENT * size
    width = sum(steps) or size
    boundary = numbers((left, top, width, (ASCENT + DESCENT) * size))
    delta = f' DeltaX="{compact(steps[:-1])}"' if len(run.text) > 1 else ""
    return (
        f'<ofd:TextObject ID="{_ID}" Boundary="{boundary}" Font="{page.font_id}" '
        f'Size="{number(size)}">{_colour("FillColor", run.colour)}'
        f'<ofd:TextCode X="0" Y="{number(ASCENT * size)}"{delta}>{escape(run.text)}'
        "</ofd:TextCode></ofd:TextObject>"
    )


def _path(
    box: tuple[float, float, float, float],
    data: str,
    *,
    stroke: Colour | None = None,
    fill: Colour | None = None,
    line_width: float = 0.0,
    ctm: str | None = None,
) -> str:
    """A PathObject whose AbbreviatedData ``data`` is relative to ``box``'s top left (mm)."""
    extra = f' CTM="{ctm}"' if ctm else ""
    if stroke:
        extra += f' LineWidth="{number(line_width)}"'
    colours = (_colour("StrokeColor", stroke) if stroke else "") + (
        _colour("FillColor", fill) if fill else ""
    )
    return (
        f'<ofd:PathObject ID="{_ID}" Boundary="{numbers(box)}"{extra} '
        f'Stroke="{"true" if stroke else "false"}" Fill="{"true" if fill else "false"}">'
        f"{colours}<ofd:AbbreviatedData>{data}</ofd:AbbreviatedData></ofd:PathObject>"
    )


def _rectangle(x: float, y: float, width: float, height: float) -> str:
    corners = ((x, y), (x + width, y), (x + width, y + height), (x, y + height))
    return "M " + " L ".join(numbers(corner) for corner in corners) + " C"


def _box(box: Box, page: PageContext) -> str:
    margin = mm(box.line_width) / 2 if box.stroke else 0.0
    left = mm(box.x) - margin
    top = down(page.height, box.y + box.height) - margin
    width, height = mm(box.width), mm(box.height)
    return _path(
        (left, top, width + 2 * margin, height + 2 * margin),
        _rectangle(margin, margin, width, height),
        stroke=box.stroke,
        fill=box.fill,
        line_width=mm(box.line_width),
    )


def _rule(rule: Rule, page: PageContext) -> str:
    margin = mm(rule.line_width) / 2
    x1, x2 = mm(rule.x1), mm(rule.x2)
    y1, y2 = down(page.height, rule.y1), down(page.height, rule.y2)
    left, top = min(x1, x2) - margin, min(y1, y2) - margin
    box = (left, top, abs(x2 - x1) + 2 * margin, abs(y2 - y1) + 2 * margin)
    data = f"M {numbers((x1 - left, y1 - top))} L {numbers((x2 - left, y2 - top))}"
    return _path(box, data, stroke=rule.colour, line_width=mm(rule.line_width))


@functools.lru_cache(maxsize=256)
def _modules(data: str) -> str:
    """The dark modules as a path in module units from the symbol's top left, built once
    per address (a path object's CTM scales it, as the PDF's transform does)."""
    count, runs = symbol_runs(data)
    # Whole module units: formatted directly, as the PDF's path is (a few hundred runs).
    return " ".join(
        f"M {x} {top} L {x + w} {top} L {x + w} {top + 1} L {x} {top + 1} C"
        for x, top, w in ((x, count - y - 1, w) for x, y, w in runs)
    )


def _qr(mark: QRMark, page: PageContext) -> str:
    """The same symbol and emblem as the PDF's, as filled paths over a white square."""
    count, _ = symbol_runs(mark.data)
    side = mm(mark.size)
    module = side / (count + 2 * QUIET_ZONE)
    box = (mm(mark.x), down(page.height, mark.y + mark.size), side, side)
    offset_pt, side_pt = emblem_box(mark.size, count)
    offset, emblem = mm(offset_pt), mm(side_pt)
    radius = emblem * CLEARING_RADIUS
    left, right, top, bottom = offset, offset + emblem, side - offset - emblem, side - offset
    unit = emblem / 10

    def point(x: float, y: float) -> str:
        return numbers((left + x * unit, bottom - y * unit))

    (first, *rest) = HOUSE
    house = f"M {point(*first)} " + " ".join(f"L {point(*p)}" for p in rest) + " C"
    dx, dy, dw, dh = DOOR
    door = _rectangle(left + dx * unit, bottom - (dy + dh) * unit, dw * unit, dh * unit)
    scale = numbers((module, 0, 0, module, QUIET_ZONE * module, QUIET_ZONE * module))
    return "".join(
        (
            _path(box, _rectangle(0, 0, side, side), fill=WHITE),
            _path(box, _modules(mark.data), fill=BLACK, ctm=scale),
            _path(box, rounded_rectangle(left, top, right, bottom, radius), fill=WHITE),
            _path(box, house, fill=Colour(*EMBLEM_RED.rgb())),
            _path(box, door, fill=WHITE),
        )
    )


@functools.lru_cache(maxsize=8192)
def _item_xml(item: Item, page: PageContext) -> _Fragment:
    """One item's XML, its IDs open; cached, since most items recur on every certificate."""
    if isinstance(item, TextRun):
        return _fragment(_text(item, page))
    if isinstance(item, Box):
        return _fragment(_box(item, page))
    if isinstance(item, Rule):
        return _fragment(_rule(item, page))
    if isinstance(item, QRMark):
        return _fragment(_qr(item, page))
    if isinstance(item, SealMark):
        return _fragment("")  # the seal is the signature's stamp annotation in OFD
    raise TypeError(f"unknown page item {item!r}")  # pragma: no cover - the union is closed


def page_content(page: Page, ids: Ids, context: PageContext) -> bytes:
    """The ``Content.xml`` of ``page``: one body layer, items in drawing order."""
    layer_id = ids.next()
    objects = "".join(_item_xml(item, context).numbered(ids) for item in page.items)
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        f'<ofd:Page xmlns:ofd="{NS}"><ofd:Area><ofd:PhysicalBox>'
        f"{numbers((0, 0, mm(page.width), mm(page.height)))}</ofd:PhysicalBox></ofd:Area>"
        f'<ofd:Content><ofd:Layer ID="{layer_id}" Type="Body">{objects}</ofd:Layer>'
        "</ofd:Content></ofd:Page>"
    ).encode()


def seal_marks(page: Page) -> list[SealMark]:
    """Where the page wants the seal stamped (the signature's stamp annotation goes there)."""
    return [item for item in page.items if isinstance(item, SealMark)]
