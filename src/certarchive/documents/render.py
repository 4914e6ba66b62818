"""Render a certificate version into an unsigned PDF: seal page, then data page (H-1.2).

reportlab's invariant mode fixes the file identifier, so the same input gives the same
bytes; the creation and modification dates (Info and XMP) are the issuance time, which
is part of that input.  Signing (:mod:`certarchive.documents.signature`) appends to these bytes
and never rewrites them.
"""

from __future__ import annotations

import io

from reportlab import rl_config
from reportlab.pdfbase.pdfdoc import XMP
from reportlab.pdfgen.canvas import Canvas

from certarchive.documents.data_page import data_pages
from certarchive.documents.fonts import REPORTLAB_LOCK, cjk_font
from certarchive.documents.layout import PAGE_HEIGHT, PAGE_WIDTH
from certarchive.documents.metadata import certificate_metadata, xmp_packet
from certarchive.documents.model import CertificateDocument
from certarchive.documents.pagefont import reserve
from certarchive.documents.pagemodel import Page
from certarchive.documents.pdf_writer import draw_page
from certarchive.documents.seal_page import seal_page
from certarchive.documents.sigdict import pdf_date_text
from certarchive.documents.watermark import STAMP_CHARACTERS

PRODUCER = "certarchive"

# reportlab wraps image data in ASCII85 by default, in pure Python when its C accelerator
# is absent: a quarter larger and, for the seal image, most of the rendering time.  PDF
# streams are binary anyway.  (A process-wide reportlab setting; binary is its own
# recommendation for anything but 7-bit transports.)
rl_config.useA85 = 0


def _attach_metadata(canvas: Canvas, doc: CertificateDocument) -> None:
    """Document information for ordinary viewers, XMP for machines (H-5.2.6)."""
    canvas.setTitle(f"{doc.title} {doc.serial}")
    canvas.setAuthor(doc.agency.agency_name)
    canvas.setSubject("不动产登记电子证照")
    canvas.setCreator(PRODUCER)
    canvas.setProducer(PRODUCER)
    created = pdf_date_text(doc.issued_at)
    canvas.setDateFormatter(lambda *_fields: created)
    packet = xmp_packet(certificate_metadata(doc), doc.issued_at)
    # Uncompressed, as XMP asks, so that tools that do not parse PDF can find it.
    canvas.setCatalogEntry("Metadata", XMP(creator=lambda _document: packet))
    canvas.getCatalogEntry("Metadata").filters = []


def certificate_pages(doc: CertificateDocument, *, font_path: str | None = None) -> list[Page]:
    """The pages of ``doc`` as both writers draw them: the seal page, then the data pages.

    Issuing both formats describes the pages once and hands them to both writers.
    """
    with REPORTLAB_LOCK:  # measuring goes through reportlab's font registry
        font = cjk_font(font_path)
        return [seal_page(doc, font), *data_pages(doc, font)]


def render_certificate(
    doc: CertificateDocument, *, font_path: str | None = None, pages: list[Page] | None = None
) -> bytes:
    """The unsigned certificate file for ``doc``.

    ``font_path`` is the configured CJK TrueType font, if any (see :mod:`.fonts`);
    ``pages``, when the caller has described them already (:func:`certificate_pages`).
    """
    with REPORTLAB_LOCK:
        font = cjk_font(font_path)
        pages = pages or certificate_pages(doc, font_path=font_path)
        buffer = io.BytesIO()
        canvas = Canvas(
            buffer,
            pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
            invariant=1,
            initialFontName=font.name,
            pageCompression=1,
        )
        _attach_metadata(canvas, doc)
        reserve(canvas, font, STAMP_CHARACTERS)  # first, into the first subset
        for page in pages:
            draw_page(canvas, page, font)
            canvas.showPage()
        canvas.save()
        return buffer.getvalue()
