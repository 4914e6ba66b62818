"""A TrueType subset holding exactly the characters a package prints, with a Unicode cmap.

Why not fontTools' subsetter: it takes about 0.7 s for a CJK font of 30 000 glyphs (it
parses and rebuilds every table), which alone would cap issuing at one or two
certificates a second.  What OFD needs is much less: the glyphs of a few hundred
characters, their advances, and a Unicode ``cmap`` so that a reader maps each TextCode
character to its glyph.  The font file is parsed once per process (table directory,
``cmap``, ``loca``, ``hmtx``); a subset then costs a few milliseconds of copying.  The
tests check every subset with fontTools (an independent reader): same outlines and
advances as the original font for every character.

Only TrueType outlines (``glyf``) are handled, as for the PDF (see
:mod:`certarchive.documents.fonts`); the first font of a collection is used.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass

from certarchive.documents.sfnt import write_sfnt
from certarchive.i18n import _

#: Tables copied unchanged (hinting programs, metrics headers, names); the rest
#: (layout, vertical metrics, vendor tables) are dropped.
_COPIED = (b"OS/2", b"cvt ", b"fpgm", b"gasp", b"name", b"prep")
_ARG_WORDS, _SCALE, _MORE, _XY_SCALE, _TWO_BY_TWO = 0x0001, 0x0008, 0x0020, 0x0040, 0x0080


class FontError(ValueError):
    """The font file is not a TrueType font this module can subset."""


@dataclass(frozen=True)
class _Font:
    data: bytes
    tables: dict[bytes, tuple[int, int]]  # tag -> (offset, length)
    cmap: dict[int, int]  # code point -> glyph id
    loca: tuple[int, ...]
    metrics: tuple[tuple[int, int], ...]  # (advance, lsb) per glyph

    def table(self, tag: bytes) -> bytes:
        offset, length = self.tables[tag]
        return self.data[offset : offset + length]


def _directory(data: bytes) -> dict[bytes, tuple[int, int]]:
    start = 0
    if data[:4] == b"ttcf":
        (start,) = struct.unpack_from(">I", data, 12)
    if data[start : start + 4] not in (b"\x00\x01\x00\x00", b"true"):
        raise FontError(_("不是TrueType字体"))
    (count,) = struct.unpack_from(">H", data, start + 4)
    tables = {}
    for i in range(count):
        tag, _checksum, offset, length = struct.unpack_from(">4sIII", data, start + 12 + 16 * i)
        tables[tag] = (offset, length)
    return tables


def _cmap_format4(table: bytes, at: int) -> dict[int, int]:
    (segments,) = struct.unpack_from(">H", table, at + 6)
    segments //= 2
    ends = struct.unpack_from(f">{segments}H", table, at + 14)
    starts = struct.unpack_from(f">{segments}H", table, at + 16 + 2 * segments)
    deltas = struct.unpack_from(f">{segments}h", table, at + 16 + 4 * segments)
    range_at = at + 16 + 6 * segments
    offsets = struct.unpack_from(f">{segments}H", table, range_at)
    mapping = {}
    for i in range(segments):
        for code in range(starts[i], ends[i] + 1):
            if code == 0xFFFF:
                continue
            if offsets[i] == 0:
                glyph = (code + deltas[i]) & 0xFFFF
            else:
                where = range_at + 2 * i + offsets[i] + 2 * (code - starts[i])
                (glyph,) = struct.unpack_from(">H", table, where)
                glyph = (glyph + deltas[i]) & 0xFFFF if glyph else 0
            if glyph:
                mapping[code] = glyph
    return mapping


def _cmap_format12(table: bytes, at: int) -> dict[int, int]:
    (groups,) = struct.unpack_from(">I", table, at + 12)
    mapping = {}
    for i in range(groups):
        first, last, glyph = struct.unpack_from(">III", table, at + 16 + 12 * i)
        for code in range(first, last + 1):
            mapping[code] = glyph + code - first
    return mapping


def _unicode_cmap(table: bytes) -> dict[int, int]:
    (count,) = struct.unpack_from(">H", table, 2)
    found: dict[tuple[int, int], int] = {}
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", table, 4 + 8 * i)
        found[(platform, encoding)] = offset
    if (3, 10) in found and struct.unpack_from(">H", table, found[(3, 10)])[0] == 12:
        return _cmap_format12(table, found[(3, 10)])
    for key in ((3, 1), (0, 3), (0, 4)):
        if key in found:
            (fmt,) = struct.unpack_from(">H", table, found[key])
            if fmt == 4:
                return _cmap_format4(table, found[key])
            if fmt == 12:
                return _cmap_format12(table, found[key])
    raise FontError(_("字体没有Unicode字符映射"))


@functools.cache
def _load(path: str) -> _Font:
    with open(path, "rb") as fh:
        data = fh.read()
    tables = _directory(data)
    if b"glyf" not in tables:
        raise FontError(_("字体不是TrueType轮廓"))
    head = data[tables[b"head"][0] :]
    (long_loca,) = struct.unpack_from(">h", head, 50)
    (glyphs,) = struct.unpack_from(">H", data, tables[b"maxp"][0] + 4)
    loca_at = tables[b"loca"][0]
    if long_loca:
        loca = struct.unpack_from(f">{glyphs + 1}I", data, loca_at)
    else:
        loca = tuple(2 * v for v in struct.unpack_from(f">{glyphs + 1}H", data, loca_at))
    (long_metrics,) = struct.unpack_from(">H", data, tables[b"hhea"][0] + 34)
    hmtx_at = tables[b"hmtx"][0]
    pairs = struct.unpack_from(f">{2 * long_metrics}H", data, hmtx_at)
    metrics = [(pairs[2 * i], pairs[2 * i + 1]) for i in range(long_metrics)]
    last_advance = metrics[-1][0]
    rest = struct.unpack_from(f">{glyphs - long_metrics}H", data, hmtx_at + 4 * long_metrics)
    metrics += [(last_advance, lsb) for lsb in rest]
    offset, length = tables[b"cmap"]
    cmap = _unicode_cmap(data[offset : offset + length])
    return _Font(data, tables, cmap, loca, tuple(metrics))


def _glyph(font: _Font, glyph: int) -> bytes:
    start = font.tables[b"glyf"][0]
    return font.data[start + font.loca[glyph] : start + font.loca[glyph + 1]]


def _components(outline: bytes) -> list[tuple[int, int]]:
    """(offset of the glyph index, glyph index) of each component of a composite glyph."""
    if len(outline) < 10 or struct.unpack_from(">h", outline, 0)[0] >= 0:
        return []
    found, at = [], 10
    while True:
        flags, glyph = struct.unpack_from(">HH", outline, at)
        found.append((at + 2, glyph))
        at += 4 + (4 if flags & _ARG_WORDS else 2)
        at += 2 if flags & _SCALE else 4 if flags & _XY_SCALE else 8 if flags & _TWO_BY_TWO else 0
        if not flags & _MORE:
            return found


def _cmap_table(mapping: dict[int, int]) -> bytes:
    """A format 4 subtable (BMP) and a format 12 subtable (all), one entry per character."""
    bmp = sorted(code for code in mapping if code < 0xFFFF)
    ends = [*bmp, 0xFFFF]
    deltas = [(mapping[code] - code) & 0xFFFF for code in bmp] + [1]
    count = len(ends)
    search = 2 ** (count.bit_length() - 1)
    body4 = struct.pack(
        ">HHHH", 2 * count, 2 * search, search.bit_length() - 1, 2 * count - 2 * search
    )
    body4 += struct.pack(f">{count}H", *ends) + b"\x00\x00"
    body4 += struct.pack(f">{count}H", *ends)  # starts equal ends: one code per segment
    body4 += struct.pack(f">{count}H", *deltas) + b"\x00\x00" * count
    format4 = struct.pack(">HHH", 4, 6 + len(body4), 0) + body4
    groups = sorted(mapping.items())
    format12 = struct.pack(">HHIII", 12, 0, 16 + 12 * len(groups), 0, len(groups))
    format12 += b"".join(struct.pack(">III", code, code, glyph) for code, glyph in groups)
    header = struct.pack(">HHHHIHHI", 0, 2, 3, 1, 20, 3, 10, 20 + len(format4))
    return header + format4 + format12


def subset_font(path: str, text: str) -> tuple[bytes, dict[str, int]]:
    """A TrueType font with the glyphs of the characters of ``text`` (and .notdef).

    Returns the font file and each character's glyph id in it; characters the font
    lacks are left out (readers show .notdef for them, as the PDF does).
    """
    font = _load(path)
    chars = sorted({char for char in text if ord(char) in font.cmap})
    order = [0]  # old glyph ids in new order
    new_id = {0: 0}
    pending = [font.cmap[ord(char)] for char in chars]
    while pending:
        glyph = pending.pop(0)
        if glyph in new_id or glyph >= len(font.metrics):
            continue
        new_id[glyph] = len(order)
        order.append(glyph)
        pending += [component for _, component in _components(_glyph(font, glyph))]
    pieces, loca = [], [0]
    for glyph in order:
        outline = _glyph(font, glyph)
        components = _components(outline)
        if components:
            changed = bytearray(outline)
            for at, component in components:
                struct.pack_into(">H", changed, at, new_id.get(component, 0))
            outline = bytes(changed)
        outline += b"\x00" * (-len(outline) % 4)
        pieces.append(outline)
        loca.append(loca[-1] + len(outline))
    outlines = b"".join(pieces)
    head = bytearray(font.table(b"head"))
    struct.pack_into(">h", head, 50, 1)  # long loca offsets
    maxp = bytearray(font.table(b"maxp"))
    struct.pack_into(">H", maxp, 4, len(order))
    hhea = bytearray(font.table(b"hhea"))
    struct.pack_into(">H", hhea, 34, len(order))
    post = bytearray(font.table(b"post")[:32])
    struct.pack_into(">I", post, 0, 0x00030000)
    mapping = {ord(char): new_id[font.cmap[ord(char)]] for char in chars}
    tables = {
        b"head": bytes(head),
        b"hhea": bytes(hhea),
        b"maxp": bytes(maxp),
        b"hmtx": b"".join(struct.pack(">HH", *font.metrics[glyph]) for glyph in order),
        b"loca": struct.pack(f">{len(loca)}I", *loca),
        b"glyf": outlines,
        b"cmap": _cmap_table(mapping),
        b"post": bytes(post),
    }
    tables.update({tag: font.table(tag) for tag in _COPIED if tag in font.tables})
    return write_sfnt(tables), {chr(code): glyph for code, glyph in mapping.items()}
