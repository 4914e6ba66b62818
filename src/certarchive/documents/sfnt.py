"""Reading and writing the table directory of a TrueType (sfnt) font file.

Shared by the OFD's font subsetter (:mod:`certarchive.ofd.fontsubset`) and the PDF's
subset trimming (:func:`unhinted`); both only ever handle TrueType outlines.
"""

from __future__ import annotations

import array
import itertools
import struct
import sys

#: Simple glyph: number of contours (≥ 0), then the box; composite glyphs are < 0.
_GLYPH_HEADER = 10
_LAST_NAME_ID = 6


def checksum(data: bytes) -> int:
    """The sum of the big-endian 32-bit words, as a font's directory records it."""
    words = array.array("I", data + b"\x00" * (-len(data) % 4))
    if sys.byteorder == "little":
        words.byteswap()
    return sum(words) & 0xFFFFFFFF


def write_sfnt(tables: dict[bytes, bytes]) -> bytes:
    """A font file of ``tables`` with its directory, checksums and head adjustment."""
    tags = sorted(tables)
    count = len(tags)
    search = 2 ** (count.bit_length() - 1)
    header = struct.pack(
        ">IHHHH", 0x00010000, count, 16 * search, search.bit_length() - 1, 16 * (count - search)
    )
    offset = 12 + 16 * count
    records, bodies = b"", b""
    for tag in tags:
        body = tables[tag]
        records += struct.pack(">4sIII", tag, checksum(body), offset, len(body))
        padded = body + b"\x00" * (-len(body) % 4)
        bodies += padded
        offset += len(padded)
    font = bytearray(header + records + bodies)
    head_at = font.find(b"head", 12, 12 + 16 * count)
    (head_offset,) = struct.unpack_from(">I", font, head_at + 8)
    struct.pack_into(
        ">I", font, head_offset + 8, (0xB1B0AFBA - checksum(bytes(font))) & 0xFFFFFFFF
    )
    return bytes(font)


def read_tables(font: bytes) -> dict[bytes, bytes]:
    """The tables of a single (not collection) font file by tag."""
    (count,) = struct.unpack_from(">H", font, 4)
    tables = {}
    for i in range(count):
        tag, _sum, offset, length = struct.unpack_from(">4sIII", font, 12 + 16 * i)
        tables[tag] = font[offset : offset + length]
    return tables


def _name_essentials(table: bytes) -> bytes:
    """The ``name`` table with only the records fontTools' subsetter keeps by default
    (IDs 0–6: copyright, family, style, unique id, full name, version, PostScript name);
    the long licence and description texts are a few kilobytes of every subset."""
    count, storage = struct.unpack_from(">HH", table, 2)
    records = []
    for i in range(count):
        record = struct.unpack_from(">6H", table, 6 + 12 * i)
        if record[3] <= _LAST_NAME_ID:
            records.append(record)
    strings, out, seen = b"", [], {}
    for platform, encoding, language, name_id, length, offset in records:
        text = table[storage + offset : storage + offset + length]
        if text not in seen:
            seen[text] = len(strings)
            strings += text
        out.append(struct.pack(">6H", platform, encoding, language, name_id, length, seen[text]))
    header = struct.pack(">HHH", 0, len(out), 6 + 12 * len(out))
    return header + b"".join(out) + strings


def unhinted(font: bytes) -> bytes:
    """``font`` with every simple glyph's hinting instructions removed.

    Why: a CJK font such as WenQuanYi carries a few dozen bytes of TrueType hinting per
    glyph, about a sixth of a subset, used only by rasterisers that hint at small pixel
    sizes.  PDF viewers and printers (poppler, pdf.js, Acrobat at print resolution) draw
    the outlines unhinted, which the outlines themselves fully describe.  The font-wide
    programs (``fpgm``, ``prep``, ``cvt``), which PDF lists among the tables an embedded
    TrueType font carries, are kept.  The ``name`` table keeps its essential records only
    (:func:`_name_essentials`).
    """
    tables = read_tables(font)
    head = bytearray(tables[b"head"])
    (long_loca,) = struct.unpack_from(">h", head, 50)
    loca_table = tables[b"loca"]
    if long_loca:
        loca = struct.unpack(f">{len(loca_table) // 4}I", loca_table)
    else:
        loca = tuple(2 * v for v in struct.unpack(f">{len(loca_table) // 2}H", loca_table))
    glyf = tables[b"glyf"]
    pieces, offsets, total = [], [0], 0
    for start, end in itertools.pairwise(loca):
        glyph = glyf[start:end]
        contours = struct.unpack_from(">h", glyf, start)[0] if glyph else -1
        if contours > 0:  # a simple glyph: its program's length follows the contour ends
            at = start + _GLYPH_HEADER + 2 * contours
            (length,) = struct.unpack_from(">H", glyf, at)
            if length:  # the glyph's own zero padding stays: a few bytes, as loca allows
                glyph = glyf[start:at] + b"\x00\x00" + glyf[at + 2 + length : end]
        padding = -len(glyph) % 4
        pieces.append(glyph + b"\x00" * padding if padding else glyph)
        total += len(glyph) + padding
        offsets.append(total)
    short = offsets[-1] // 2 <= 0xFFFF  # glyphs are padded to 4 bytes: offsets are even
    struct.pack_into(">h", head, 50, 0 if short else 1)
    tables.update(
        {
            b"head": bytes(head),
            b"glyf": b"".join(pieces),
            b"loca": struct.pack(f">{len(offsets)}H", *(o // 2 for o in offsets))
            if short
            else struct.pack(f">{len(offsets)}I", *offsets),
        }
    )
    if b"name" in tables:
        tables[b"name"] = _name_essentials(tables[b"name"])
    return write_sfnt(tables)
