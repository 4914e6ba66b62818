"""A certificate version as the files of an OFD package (GB/T 33190), before sealing.

The pages come from the same description as the PDF's (:func:`seal_page`,
:func:`data_pages`), so both formats carry the same words at the same places.  The
package holds ``OFD.xml`` (document information: title, author, creation date, and the
certificate metadata as CustomData, the GB/T 36904 licence identifier first),
``Document.xml``, ``PublicRes.xml`` (the embedded font subset), ``DocumentRes.xml`` and
one ``Content.xml`` per page.  Where the seal goes is returned beside the files: in OFD
the seal is the appearance of the signature (:mod:`.sign`), not page content.
"""

from __future__ import annotations

from dataclasses import dataclass

from certarchive.crypto.sm import sm3_hex
from certarchive.documents.fonts import CJKFont, cjk_font
from certarchive.documents.metadata import certificate_metadata
from certarchive.documents.model import CertificateDocument
from certarchive.documents.pagemodel import Page
from certarchive.documents.render import certificate_pages
from certarchive.ofd.content import Ids, PageContext, page_content, seal_marks
from certarchive.ofd.fontsubset import subset_font
from certarchive.ofd.xml import down, element, mm, numbers, serialise, sub

DOC = "Doc_0"
OFD_XML = "OFD.xml"
DOCUMENT_XML = f"{DOC}/Document.xml"
PUBLIC_RES = f"{DOC}/PublicRes.xml"
DOCUMENT_RES = f"{DOC}/DocumentRes.xml"
#: The annotation index: empty when issued, listing the 已注销 watermarks once revoked.
ANNOTATIONS = f"{DOC}/Annots/Annotations.xml"
FONT_FILE = "font_0.ttf"
CREATOR = "certarchive"
#: What readers substitute when no TrueType font could be embedded (see documents.fonts).
FALLBACK_FONT_NAME = "SimSun"


@dataclass(frozen=True)
class StampPlace:
    """Where a seal is stamped: the page's id and the box in millimetres."""

    page_id: int
    boundary: tuple[float, float, float, float]


@dataclass
class OfdDraft:
    """The package's files by path, in writing order, and where the seal goes."""

    files: dict[str, bytes]
    stamps: list[StampPlace]
    page_ids: list[int]
    ids: Ids


def _doc_info(doc: CertificateDocument):
    root = element("OFD", {"Version": "1.0", "DocType": "OFD"})
    body = sub(root, "DocBody")
    info = sub(body, "DocInfo")
    moment = f"{doc.licence_id}|{doc.version}|{doc.issued_at.isoformat()}"
    sub(info, "DocID", text=sm3_hex(moment.encode())[:32])
    sub(info, "Title", text=f"{doc.title} {doc.serial}")
    sub(info, "Author", text=doc.agency.agency_name)
    sub(info, "Subject", text="不动产登记电子证照")
    sub(info, "CreationDate", text=doc.issued_on.isoformat())
    sub(info, "Creator", text=CREATOR)
    custom = sub(info, "CustomDatas")
    for key, value in certificate_metadata(doc).items():
        sub(custom, "CustomData", {"Name": key}, value)
    sub(body, "DocRoot", text=DOCUMENT_XML)
    return root


def _document(pages: list[Page], page_ids: list[int], ids: Ids):
    root = element("Document")
    common = sub(root, "CommonData")
    max_id = sub(common, "MaxUnitID", text="0")
    area = sub(common, "PageArea")
    first = pages[0]
    sub(area, "PhysicalBox", text=numbers((0, 0, mm(first.width), mm(first.height))))
    sub(common, "PublicRes", text="PublicRes.xml")
    sub(common, "DocumentRes", text="DocumentRes.xml")
    listing = sub(root, "Pages")
    for number, page_id in enumerate(page_ids):
        sub(listing, "Page", {"ID": str(page_id), "BaseLoc": f"Pages/Page_{number}/Content.xml"})
    sub(root, "Annotations", text="Annots/Annotations.xml")
    return root, max_id


def _fonts(font: CJKFont, text: str, font_id: int) -> tuple[bytes, dict[str, bytes]]:
    """PublicRes.xml with the one font, and the font file (a subset of what is printed)."""
    root = element("Res", {"BaseLoc": "Res"})
    fonts = sub(root, "Fonts")
    files: dict[str, bytes] = {}
    if font.path is None:
        sub(fonts, "Font", {"ID": str(font_id), "FontName": FALLBACK_FONT_NAME})
    else:
        data, _ = subset_font(font.path, text)
        node = sub(
            fonts, "Font", {"ID": str(font_id), "FontName": font.name, "FamilyName": font.name}
        )
        sub(node, "FontFile", text=FONT_FILE)
        files[f"{DOC}/Res/{FONT_FILE}"] = data
    return serialise(root), files


def write_ofd(
    doc: CertificateDocument, *, font_path: str | None = None, pages: list[Page] | None = None
) -> OfdDraft:
    """The unsealed package for ``doc``; ``font_path`` and ``pages`` as for the PDF
    (:func:`certarchive.documents.render.render_certificate`)."""
    font = cjk_font(font_path)
    pages = pages or certificate_pages(doc, font_path=font_path)
    ids = Ids()
    font_id = ids.next()
    page_ids = [ids.next() for _ in pages]
    context = PageContext(pages[0].height, font_id, font.name)
    contents = {
        f"{DOC}/Pages/Page_{number}/Content.xml": page_content(page, ids, context)
        for number, page in enumerate(pages)
    }
    text = "".join(run.text for page in pages for run in page.texts())
    public_res, font_files = _fonts(font, text, font_id)
    document, max_id = _document(pages, page_ids, ids)
    max_id.text = str(ids.last)
    stamps = [
        StampPlace(
            page_id,
            (mm(mark.x), down(page.height, mark.y + mark.size), mm(mark.size), mm(mark.size)),
        )
        for page, page_id in zip(pages, page_ids, strict=True)
        for mark in seal_marks(page)
    ]
    files = {
        OFD_XML: serialise(_doc_info(doc)),
        DOCUMENT_XML: serialise(document),
        PUBLIC_RES: public_res,
        DOCUMENT_RES: serialise(element("Res", {"BaseLoc": "Res"})),
        ANNOTATIONS: serialise(element("Annotations")),
        **font_files,
        **contents,
    }
    return OfdDraft(files, stamps, page_ids, ids)
