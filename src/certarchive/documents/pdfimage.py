"""An image whose PDF objects are built once per process and placed on any canvas.

reportlab's ``drawImage`` decodes, digests and zlib-compresses an image again for every
new document: for the seal (600 px RGBA) that was a third of the time of rendering a
certificate.  Here the image XObject and its soft mask are made once and registered
in each document under the same names, exactly as ``drawImage`` registers its own.
A document marks the objects it registers, so each document gets shallow copies of the
prepared objects: the compressed streams are shared, never recomputed.
"""

from __future__ import annotations

import copy
from hashlib import sha256
from typing import TypeVar

from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfdoc import PDFImageXObject
from reportlab.pdfgen.canvas import Canvas

T = TypeVar("T")


def _fresh(prepared: T) -> T:
    return copy.copy(prepared)


class PlacedImage:
    def __init__(self, reader: ImageReader) -> None:
        width, height = reader.getSize()
        self.name = "certarchive-" + sha256(reader.getRGBData()).hexdigest()[:16]
        self.xobject = PDFImageXObject(self.name, reader, mask="auto")
        # The soft mask (alpha channel) is a second XObject that drawImage attaches
        # per document; keep it to attach the same way.
        self._smask = getattr(self.xobject, "_smask", None)
        if self._smask is not None:
            del self.xobject._smask
        self.size = (width, height)

    def _register(self, canvas: Canvas) -> str:
        document = canvas._doc
        name = document.getXObjectName(self.name)
        if name not in document.idToObject:
            xobject = _fresh(self.xobject)
            canvas._setXObjects(xobject)
            document.Reference(xobject, name)
            document.addForm(self.name, xobject)
            if self._smask is not None:
                smask = _fresh(self._smask)
                canvas._setXObjects(smask)
                xobject.smask = document.Reference(smask, document.getXObjectName(smask.name))
        return name

    def draw(self, canvas: Canvas, x: float, y: float, width: float, height: float) -> None:
        name = self._register(canvas)
        canvas.saveState()
        canvas.translate(x, y)
        canvas.scale(width, height)
        canvas._code.append(f"/{name} Do")
        canvas.restoreState()
        canvas._formsinuse.append(self.name)
