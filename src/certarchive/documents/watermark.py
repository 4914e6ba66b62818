"""The revocation stamp: a visible 已注销 watermark on every page, then a new seal (H-1.7).

A revoked certificate must say so on its face, yet the issuing signature must still
verify, so that anyone can see it was once genuine and was revoked by the same agency.
The stamp is therefore appended, never merged into the existing content:

1. reportlab draws the watermark on a separate page (large semi-transparent red 已注销
   with the date and cause), which subsets and embeds exactly the CJK glyphs it uses.
   Text extractors (poppler) break diagonal text into single characters, so the same
   words are also written once horizontally in invisible text at the page foot, where
   ``pdftotext`` and screen readers find "已注销" whole;
2. that page becomes one form XObject in an incremental update, together with the
   revocation marker (:mod:`.stampdict`); every page gets ``q`` before and
   ``Q q … Do Q`` after its unchanged content streams;
3. :func:`~certarchive.documents.signature.sign_pdf` seals the result, covering the stamp.
"""

from __future__ import annotations

import datetime
import io

from pypdf import PageObject, PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    PdfObject,
)
from reportlab.lib.colors import Color
from reportlab.lib.enums import TA_CENTER
from reportlab.pdfgen.canvas import Canvas

from certarchive.crypto.sm import SM2PrivateKey
from certarchive.documents.fonts import REPORTLAB_LOCK, cjk_font
from certarchive.documents.incremental import IncrementalUpdate, shallow_copy
from certarchive.documents.layout import PAGE_HEIGHT, PAGE_WIDTH, paragraph, text_style
from certarchive.documents.objcopy import ObjectImporter, flate_stream
from certarchive.documents.seal_page import chinese_date
from certarchive.documents.signature import sign_pdf
from certarchive.documents.stampdict import Revocation, marker

REVOKED = "已注销"
STAMP_RED = Color(0.85, 0.05, 0.10)
#: Resource name of the watermark form (numbered if a page already uses it).
XOBJECT_NAME = "/CertarchiveRevoked"
DETAIL_WIDTH = 380.0


def draw_watermark(revocation: Revocation, font_path: str | None) -> bytes:
    """A one-page PDF, page-sized, holding only the watermark."""
    with REPORTLAB_LOCK:
        font = cjk_font(font_path)
        buffer = io.BytesIO()
        canvas = Canvas(
            buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=1, initialFontName=font.name
        )
        canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
        canvas.rotate(40)
        canvas.setFillColor(STAMP_RED)
        canvas.setStrokeColor(STAMP_RED)
        canvas.setFillAlpha(0.30)
        canvas.setStrokeAlpha(0.45)
        canvas.setFont(font.name, 120)
        canvas.drawCentredString(0, 0, REVOKED)
        canvas.setLineWidth(5)
        canvas.roundRect(-230, -92, 460, 216, 18)
        canvas.setFillAlpha(0.65)
        details = paragraph(
            f"注销日期：{chinese_date(revocation.revoked_on)}\n注销原因：{revocation.cause}",
            text_style("revoked", font.name, 15, alignment=TA_CENTER, textColor=STAMP_RED),
        )
        _, height = details.wrap(DETAIL_WIDTH, PAGE_HEIGHT / 3)
        details.drawOn(canvas, -DETAIL_WIDTH / 2, -28 - height)
        canvas.rotate(-40)
        canvas.translate(-PAGE_WIDTH / 2, -PAGE_HEIGHT / 2)
        line = canvas.beginText(PAGE_WIDTH / 2, 8)
        line.setFont(font.name, 6)
        line.setTextRenderMode(3)  # invisible
        line.textOut(f"{REVOKED} {chinese_date(revocation.revoked_on)} {revocation.cause}")
        canvas.drawText(line)
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()


def _content_streams(page: PageObject) -> list[PdfObject]:
    """References to a page's content streams (``/Contents`` is one stream or an array)."""
    if "/Contents" not in page:
        return []
    raw = page.raw_get("/Contents")
    resolved = raw.get_object()
    return list(resolved) if isinstance(resolved, ArrayObject) else [raw]


def _watermark_form(
    update: IncrementalUpdate, revocation: Revocation, font_path: str | None
) -> IndirectObject:
    """The watermark as a form XObject in ``update``, pointing at the revocation marker."""
    page = PdfReader(io.BytesIO(draw_watermark(revocation, font_path))).pages[0]
    data = b"\n".join(ref.get_object().get_data() for ref in _content_streams(page))
    entries = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject(FloatObject(v) for v in page.mediabox),
            NameObject("/Resources"): ObjectImporter(update).copy(page.raw_get("/Resources")),
            NameObject("/CertarchiveRevocation"): update.add(marker(revocation)),
        }
    )
    return update.add(flate_stream(entries, data))


def _placement(mediabox: list[float]) -> bytes:
    """``cm`` operands fitting the A4 watermark into a page box, centred."""
    x0, y0, x1, y1 = (float(v) for v in mediabox)
    scale = min((x1 - x0) / PAGE_WIDTH, (y1 - y0) / PAGE_HEIGHT)
    dx = x0 + (x1 - x0 - PAGE_WIDTH * scale) / 2
    dy = y0 + (y1 - y0 - PAGE_HEIGHT * scale) / 2
    return b"%.4f 0 0 %.4f %.4f %.4f cm" % (scale, scale, dx, dy)


def _entry(dictionary: DictionaryObject, key: str) -> DictionaryObject:
    """The dictionary under ``key``, resolved, or an empty one."""
    value = dictionary.raw_get(key).get_object() if key in dictionary else None
    return value if isinstance(value, DictionaryObject) else DictionaryObject()


def _free_name(xobjects: DictionaryObject) -> str:
    """:data:`XOBJECT_NAME`, numbered if the page already has a resource of that name."""
    name, number = XOBJECT_NAME, 1
    while name in xobjects:
        number += 1
        name = f"{XOBJECT_NAME}{number}"
    return name


def _stamp_pages(update: IncrementalUpdate, form: IndirectObject) -> None:
    """Wrap each page's content and draw the form over it, leaving old streams untouched."""
    opening = update.add(flate_stream(DictionaryObject(), b"q\n"))
    closings: dict[bytes, IndirectObject] = {}
    for page in update.reader.pages:
        resources = shallow_copy(_entry(page, "/Resources"))
        xobjects = shallow_copy(_entry(resources, "/XObject"))
        name = _free_name(xobjects)
        xobjects[NameObject(name)] = form
        resources[NameObject("/XObject")] = xobjects
        code = b"Q\nq " + _placement(page.mediabox) + b" " + name.encode() + b" Do Q\n"
        if code not in closings:
            closings[code] = update.add(flate_stream(DictionaryObject(), code))
        new_page = shallow_copy(page)
        new_page[NameObject("/Resources")] = resources
        new_page[NameObject("/Contents")] = ArrayObject(
            [opening, *_content_streams(page), closings[code]]
        )
        update.put(page.indirect_reference, new_page)


def stamp_revoked(
    pdf: bytes,
    key: SM2PrivateKey,
    revoked_on: datetime.date,
    cause: str,
    signer_name: str,
    *,
    font_path: str | None = None,
    signed_at: datetime.datetime | None = None,
) -> bytes:
    """``pdf`` with the 已注销 watermark on every page, sealed again; ``pdf`` is a prefix."""
    revocation = Revocation(revoked_on, cause)
    update = IncrementalUpdate(pdf)
    _stamp_pages(update, _watermark_form(update, revocation, font_path))
    stamped, _ = update.write()
    return sign_pdf(stamped, key, signer_name, f"注销：{cause}", signed_at=signed_at)
