"""The revocation stamp: a visible 已注销 watermark on every page, then a new seal (H-1.7).

A revoked certificate must say so on its face, yet the issuing signature must still
verify, so that anyone can see it was once genuine and was revoked by the same agency.
The stamp is therefore appended, never merged into the existing content:

1. reportlab draws the watermark on a separate page (large semi-transparent red 已注销
   with the date and cause), which subsets and embeds exactly the CJK glyphs it uses.
   Text extractors (poppler) break diagonal text into single characters, so the same
   words are also written once horizontally in invisible text at the page foot, where
   ``pdftotext`` and screen readers find "已注销" whole.  Its text is then re-encoded to
   draw with the certificate page's own font subset, which holds these characters from
   issuance on (:mod:`.pagefont`), so no second subset is embedded; a file without them
   gets the stamp's own subset, as before;
2. that page becomes one form XObject, pointing at the revocation marker
   (:mod:`.stampdict`), and the appearance of a new signature field's widget covering
   the first page (printed, and shown on screen), signed by the agency in the same
   update;
3. each further page gets a field of its own with the same appearance, signed in an
   update of its own, so the last signature covers the whole file.  (One field with a
   widget per page would need one signature only, but poppler, and so ``pdfsig``,
   reads each widget of a signature field as an unsigned field.)

Page content is never touched: validators class an update that adds signature fields
with their appearances and signs them as form filling, an allowed change after the
issuing signature (pyHanko's default difference policy calls it ``FORM_FILLING``; a
watermark drawn into the page content, or any other annotation, is a suspicious
modification).  The copied font subset gets a tag of its own, so that the file's two
subsets of the same font carry different names.
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

from certarchive.documents.fonts import REPORTLAB_LOCK, cjk_font
from certarchive.documents.incremental import IncrementalUpdate
from certarchive.documents.layout import PAGE_HEIGHT, PAGE_WIDTH, paragraph, text_style
from certarchive.documents.model import CHINA_TIME
from certarchive.documents.objcopy import ObjectImporter, flate_stream
from certarchive.documents.pagefont import reencoded_stamp
from certarchive.documents.seal_page import chinese_date
from certarchive.documents.signature import (
    Widget,
    add_signature_field,
    reserve_signature,
    write_signed,
)
from certarchive.documents.stampdict import (
    REVOCATION_CAUSES,
    Revocation,
    ShareMark,
    marker,
    share_marker,
)
from certarchive.signing.signer import Signer

REVOKED = "已注销"
STAMP_RED = Color(0.85, 0.05, 0.10)
REVOKE_FIELD = "CertarchiveRevoked"
SHARE_FIELD = "CertarchiveShared"
SHARE_BLUE = Color(0.05, 0.25, 0.65)
SHARE_SUBSET_TAG = "CASHAR"
#: Subset tag of the watermark's font (the page's subset has reportlab's own).
SUBSET_TAG = "CAREVK"
DETAIL_WIDTH = 380.0
#: Every character a revocation stamp can print (its words, a date, a cause's label):
#: issued files reserve their glyphs in the page's font subset, so that the stamp draws
#: with that subset and embeds no second one (:mod:`.pagefont`).
_STAMP_WORDS = f"{REVOKED} 注销日期：注销原因：0123456789年月日" + "".join(
    REVOCATION_CAUSES.values()
)
STAMP_CHARACTERS = "".join(sorted(set(_STAMP_WORDS)))


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


def _stamp_content(
    update: IncrementalUpdate, drawn: bytes, subset_tag: str
) -> tuple[bytes, PdfObject]:
    """The drawn stamp's content and resources for ``update``: drawing with the page's
    own font subset where it has the stamp's characters (:mod:`.pagefont`), else with
    the stamp's own subset copied in under ``subset_tag``."""
    importer = ObjectImporter(update, subset_tag)
    reused = reencoded_stamp(drawn, update.reader)
    if reused is not None:
        content, resources, font = reused
        copied = DictionaryObject(
            {
                NameObject(key): importer.copy(resources.raw_get(key))
                for key in resources
                if key != "/Font"
            }
        )
        names = resources["/Font"].get_object()
        copied[NameObject("/Font")] = DictionaryObject({NameObject(n): font for n in names})
        return content, copied
    page = PdfReader(io.BytesIO(drawn)).pages[0]
    content = b"\n".join(ref.get_object().get_data() for ref in _content_streams(page))
    return content, importer.copy(page.raw_get("/Resources"))


def _watermark_form(
    update: IncrementalUpdate, drawn: bytes, marker_body: bytes, subset_tag: str
) -> IndirectObject:
    """The one page of ``drawn`` as a form XObject in ``update``, pointing at the marker
    that says what the stamp means (read by :mod:`.verify`)."""
    page = PdfReader(io.BytesIO(drawn)).pages[0]
    content, resources = _stamp_content(update, drawn, subset_tag)
    entries = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject(FloatObject(v) for v in page.mediabox),
            NameObject("/Resources"): resources,
            NameObject("/CertarchiveStamp"): update.add(marker_body),
        }
    )
    return update.add(flate_stream(entries, content))


def _stamp_every_page(
    pdf: bytes,
    signer: Signer,
    stamp: tuple[bytes, bytes, str],
    field: str,
    reason: str,
    signed_at: datetime.datetime | None,
) -> bytes:
    """``pdf`` with the drawn stamp as the appearance of a signature field on each page,
    each signed in an update of its own; ``stamp`` is (drawn page, marker, subset tag)."""
    moment = signed_at or datetime.datetime.now(CHINA_TIME)
    update = IncrementalUpdate(pdf)
    form = _watermark_form(update, *stamp)
    stamped = pdf
    for number in range(len(update.reader.pages)):
        if number:  # each further page's field goes into an update of its own
            update = IncrementalUpdate(stamped)
        page = update.reader.pages[number]
        sig_ref, body = reserve_signature(update, signer, reason, moment)
        widget = Widget(page, tuple(float(v) for v in page.mediabox), form)
        add_signature_field(update, sig_ref, field, [widget])
        stamped = write_signed(update, sig_ref, body, signer, moment)
    return stamped


def stamp_revoked(
    pdf: bytes,
    signer: Signer,
    revoked_on: datetime.date,
    cause: str,
    *,
    font_path: str | None = None,
    signed_at: datetime.datetime | None = None,
) -> bytes:
    """``pdf`` with the 已注销 watermark on every page, each page's sealed by a signature of
    its own; ``pdf`` is a prefix of the result."""
    revocation = Revocation(revoked_on, cause)
    drawn = draw_watermark(revocation, font_path)
    stamp = (drawn, marker(revocation), SUBSET_TAG)
    return _stamp_every_page(pdf, signer, stamp, REVOKE_FIELD, f"注销：{cause}", signed_at)


def draw_share_stamp(mark: ShareMark, font_path: str | None) -> bytes:
    """A one-page PDF with the annotated copy's words (加注件) in blue across the page,
    repeated so that no part of the certificate can be cut out without them, and once in
    invisible horizontal text for text extraction."""
    with REPORTLAB_LOCK:
        font = cjk_font(font_path)
        buffer = io.BytesIO()
        canvas = Canvas(
            buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=1, initialFontName=font.name
        )
        canvas.saveState()
        canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
        canvas.rotate(35)
        canvas.setFillColor(SHARE_BLUE)
        canvas.setFillAlpha(0.35)
        canvas.setFont(font.name, 18)
        for offset in range(-300, 301, 150):
            canvas.drawCentredString(0, offset, mark.text)
        canvas.restoreState()
        line = canvas.beginText(PAGE_WIDTH / 2, 16)
        line.setFont(font.name, 6)
        line.setTextRenderMode(3)  # invisible
        line.textOut(mark.text)
        canvas.drawText(line)
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()


def stamp_shared(
    pdf: bytes,
    signer: Signer,
    mark: ShareMark,
    *,
    font_path: str | None = None,
    signed_at: datetime.datetime | None = None,
) -> bytes:
    """The annotated copy (加注件) of ``pdf`` for one institution, one purpose and a limited
    time: the words on every page, sealed by the agency like a revocation stamp."""
    stamp = (draw_share_stamp(mark, font_path), share_marker(mark), SHARE_SUBSET_TAG)
    return _stamp_every_page(pdf, signer, stamp, SHARE_FIELD, f"加注：{mark.text}", signed_at)
