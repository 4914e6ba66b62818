"""Append-only PDF updates (ISO 32000-1 §7.5.6, incremental updates).

Signing and revocation must never rewrite a byte that an earlier signature covers, so
both append one update: the new and changed objects, a cross-reference table for just
those objects, and a trailer whose ``/Prev`` points at the previous table.  pypdf reads
the base file and serialises the objects; this module owns the byte layout, which keeps
the base a strict prefix of the result, keeps ``/Info`` and ``/ID`` in the new trailer
(pypdf's own incremental writer drops ``/Info``) and lets the signer know each object's
offset.

The update is written with a classic cross-reference table; certificate files are
rendered by reportlab, which writes classic tables too.
"""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject, NameObject, PdfObject

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_TRAILER_KEYS = ("/Root", "/Info", "/ID")


def previous_startxref(pdf: bytes) -> int:
    """The offset of the last cross-reference section, read from the file's tail."""
    match = _STARTXREF.search(pdf[-1024:])
    if match is None:
        raise ValueError("no startxref at the end of the file")
    return int(match.group(1))


def shallow_copy(dictionary: DictionaryObject) -> DictionaryObject:
    """A copy to modify and :meth:`IncrementalUpdate.put` back, references kept as references.

    (Indexing a pypdf dictionary resolves references; copying through ``raw_get`` keeps
    them, so the rewritten object points at the same objects as the original.)
    """
    return DictionaryObject({NameObject(key): dictionary.raw_get(key) for key in dictionary})


class IncrementalUpdate:
    """Collects objects for one update of ``pdf`` and writes them after it.

    Objects are given either as pypdf objects (serialised by pypdf) or as raw bytes for
    the ones whose exact layout matters (the signature dictionary).
    """

    def __init__(self, pdf: bytes) -> None:
        self.base = pdf
        self.reader = PdfReader(io.BytesIO(pdf))
        self._prev = previous_startxref(pdf)
        self._size = int(self.reader.trailer["/Size"])
        self._bodies: dict[int, tuple[int, bytes]] = {}  # number -> (generation, body)

    def reserve(self) -> IndirectObject:
        """A fresh object number, to be filled with :meth:`put`."""
        ref = IndirectObject(self._size, 0, self.reader)
        self._size += 1
        return ref

    def put(self, ref: IndirectObject, obj: PdfObject | bytes) -> None:
        """Set object ``ref`` (new, or an existing one being replaced) to ``obj``."""
        if not isinstance(obj, bytes):
            buffer = io.BytesIO()
            obj.write_to_stream(buffer)
            obj = buffer.getvalue()
        self._bodies[ref.idnum] = (ref.generation, obj)

    def add(self, obj: PdfObject | bytes) -> IndirectObject:
        """Store ``obj`` as a new object and return its reference."""
        ref = self.reserve()
        self.put(ref, obj)
        return ref

    def write(self) -> tuple[bytes, dict[int, int]]:
        """The updated file and the offset of each object body written in this update."""
        out = bytearray(self.base)
        if not out.endswith(b"\n"):
            out += b"\n"
        entries: dict[int, tuple[int, int]] = {}  # number -> (offset, generation)
        body_offsets: dict[int, int] = {}
        for number in sorted(self._bodies):
            generation, body = self._bodies[number]
            entries[number] = (len(out), generation)
            out += b"%d %d obj\n" % (number, generation)
            body_offsets[number] = len(out)
            out += body + b"\nendobj\n"
        xref_offset = len(out)
        out += b"xref\n" + _xref_subsections(entries)
        out += b"trailer\n" + self._trailer() + b"\nstartxref\n%d\n%%%%EOF\n" % xref_offset
        return bytes(out), body_offsets

    def _trailer(self) -> bytes:
        buffer = io.BytesIO()
        buffer.write(b"<< /Size %d /Prev %d" % (self._size, self._prev))
        for key in _TRAILER_KEYS:
            value = self.reader.trailer.raw_get(key) if key in self.reader.trailer else None
            if value is not None:
                buffer.write(b" " + key.encode() + b" ")
                value.write_to_stream(buffer)
        buffer.write(b" >>")
        return buffer.getvalue()


def _xref_subsections(entries: dict[int, tuple[int, int]]) -> bytes:
    """Cross-reference subsections for the given objects, consecutive numbers grouped."""
    out = bytearray()
    numbers = sorted(entries)
    start = 0
    while start < len(numbers):
        end = start
        while end + 1 < len(numbers) and numbers[end + 1] == numbers[end] + 1:
            end += 1
        out += b"%d %d\n" % (numbers[start], end - start + 1)
        for number in numbers[start : end + 1]:
            out += b"%010d %05d n \n" % entries[number]
        start = end + 1
    return bytes(out)
