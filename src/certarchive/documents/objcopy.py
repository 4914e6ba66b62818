"""Copy an object graph from one PDF into an incremental update of another.

The revocation watermark is drawn by reportlab as a separate one-page PDF (so its font
is subset and embedded the usual way) and then carried into the certificate as a form
XObject.  Its resources (font, font file, widths, ToUnicode map, transparency state)
must come along under fresh object numbers; that renumbering copy is all this module
does.  Streams are decoded and re-compressed with Flate, so whatever filters the source
used, the copy is plain and valid.  Font subsets get a subset tag of the caller's
(ISO 32000-1 §9.6.4): reportlab names every subset ``AAAAAA+…``, and two different
subsets in one file must not share a name.
"""

from __future__ import annotations

import re

from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
)

from certarchive.documents.incremental import IncrementalUpdate

#: Stream entries that describe the encoding; the copy is re-encoded, so they are redone.
_ENCODING_KEYS = frozenset({"/Length", "/Filter", "/DecodeParms"})
#: Entries that carry a font's (possibly subset-tagged) PostScript name.
_FONT_NAME_KEYS = frozenset({"/BaseFont", "/FontName"})
_SUBSET_TAG = re.compile(r"/[A-Z]{6}\+")


def flate_stream(entries: DictionaryObject, data: bytes) -> StreamObject:
    """A Flate-compressed stream with ``entries`` and the decoded ``data``."""
    stream = StreamObject()
    stream.update(entries)
    stream.set_data(data)
    return stream.flate_encode()


class ObjectImporter:
    """Copies objects into ``update``, each source object once (shared ones stay shared)."""

    def __init__(self, update: IncrementalUpdate, subset_tag: str) -> None:
        self.update = update
        self.subset_tag = subset_tag
        self._copied: dict[tuple[int, int], IndirectObject] = {}

    def _entry(self, key: str, value: PdfObject) -> PdfObject:
        if key in _FONT_NAME_KEYS and isinstance(value, NameObject):
            return NameObject(_SUBSET_TAG.sub(f"/{self.subset_tag}+", value, count=1))
        return self.copy(value)

    def copy(self, obj: PdfObject) -> PdfObject:
        """The copy of ``obj``; indirect objects are written to the update and referenced."""
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key not in self._copied:
                ref = self.update.reserve()
                self._copied[key] = ref  # before recursing: cycles (e.g. /Parent) end here
                self.update.put(ref, self.copy(obj.get_object()))
            return self._copied[key]
        if isinstance(obj, StreamObject):
            entries = DictionaryObject(
                {NameObject(k): self.copy(obj.raw_get(k)) for k in obj if k not in _ENCODING_KEYS}
            )
            return flate_stream(entries, obj.get_data())
        if isinstance(obj, DictionaryObject):
            return DictionaryObject({NameObject(k): self._entry(k, obj.raw_get(k)) for k in obj})
        if isinstance(obj, ArrayObject):
            return ArrayObject(self.copy(item) for item in obj)
        return obj
