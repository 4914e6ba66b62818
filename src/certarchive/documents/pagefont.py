"""Stamps drawn with the certificate page's own font subset, so that a revocation (or an
annotated copy) embeds no second copy of the font.

A font subset is the largest part of a certificate file; a revocation stamp drawn with a
subset of its own added a second one (18 KB).  Instead:

- at issuance the renderer *reserves* the characters any revocation stamp can print
  (:data:`certarchive.documents.watermark.STAMP_CHARACTERS`, a few dozen) in the page
  font's first subset, before anything is drawn: their glyphs travel in the file (about
  1 KB) without being shown or extracted, because no page content uses them;
- a stamp is drawn by reportlab as before, on a page of its own, and then its text is
  *re-encoded*: each string's codes (the stamp document's own subset) become the codes
  of the same characters in the certificate's subset, read from the ToUnicode maps of
  both, and the stamp's resources name the certificate's font object.

A file whose page font lacks a character of the stamp (issued before this, or a stamp
with other words, such as an annotated copy's) keeps the earlier way: the stamp's own
subset is copied in (:mod:`.objcopy`).
"""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    ContentStream,
    DictionaryObject,
    IndirectObject,
    TextStringObject,
)
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from certarchive.documents.fonts import CJKFont

_BFCHAR = re.compile(rb"<([0-9A-Fa-f]{2})>\s*<([0-9A-Fa-f]{4,8})>")
#: Text-showing operators and the index of their string operand (TJ: an array).
_SHOWS = {b"Tj": -1, b"'": -1, b'"': 2, b"TJ": 0}


def reserve(canvas: Canvas, font: CJKFont, text: str) -> None:
    """Put the glyphs of ``text`` into ``canvas``'s subset of ``font`` without drawing them
    (reportlab assigns subset codes in the order characters are first met)."""
    if font.embedded:
        pdfmetrics.getFont(font.name).splitString(text, canvas._doc)


def _codes(font: DictionaryObject) -> dict[int, str]:
    """A simple font's codes and the characters they show, from its ToUnicode map."""
    if "/ToUnicode" not in font:
        return {}
    cmap = font["/ToUnicode"].get_object().get_data()
    return {
        int(code, 16): bytes.fromhex(text.decode()).decode("utf-16-be")
        for code, text in _BFCHAR.findall(cmap)
        if int(code, 16)
    }


def page_font(reader: PdfReader, text: str) -> tuple[IndirectObject, dict[str, int]] | None:
    """The first page's font that has every character of ``text``: its reference and
    each character's code; None if no font has them all."""
    resources = reader.pages[0].get("/Resources")
    fonts = resources.get_object().get("/Font") if resources is not None else None
    if fonts is None:
        return None
    fonts = fonts.get_object()
    needed = set(text)
    for name in fonts:
        reference = fonts.raw_get(name)
        if not isinstance(reference, IndirectObject):
            continue
        codes = {char: code for code, char in _codes(reference.get_object()).items()}
        if needed <= codes.keys():
            return reference, codes
    return None


def _reencode(value: object, drawn: dict[int, str], target: dict[str, int]) -> object:
    if isinstance(value, ArrayObject):
        return ArrayObject(_reencode(item, drawn, target) for item in value)
    if isinstance(value, TextStringObject):
        raw = value.get_original_bytes()
    elif isinstance(value, ByteStringObject):
        raw = bytes(value)
    else:
        return value  # a number in a TJ array
    return ByteStringObject(bytes(target[drawn[code]] for code in raw))


def reencoded_stamp(
    drawn_pdf: bytes, reader: PdfReader
) -> tuple[bytes, DictionaryObject, IndirectObject] | None:
    """The one page of ``drawn_pdf`` as content drawing with the first page font of
    ``reader``'s file: (content, the drawn page's resources, the font's reference), or
    None when that font lacks a character of the stamp or the stamp uses several fonts."""
    page = PdfReader(io.BytesIO(drawn_pdf)).pages[0]
    resources = page["/Resources"].get_object()
    fonts = resources["/Font"].get_object()
    if len(fonts) != 1:
        return None
    drawn = _codes(fonts[next(iter(fonts))].get_object())
    found = page_font(reader, "".join(drawn.values()))
    if found is None:
        return None
    reference, target = found
    content = ContentStream(page.get_contents(), page.pdf)
    operations = []
    for operands, operator in content.operations:
        if operator in _SHOWS:
            at = _SHOWS[operator] % len(operands)
            operands = list(operands)
            operands[at] = _reencode(operands[at], drawn, target)
        operations.append((operands, operator))
    content.operations = operations
    return content.get_data(), resources, reference
