"""The OFD package (GB/T 33190): schema-valid, with the PDF's text at the PDF's positions."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from fontTools.ttLib import TTFont
from lxml import etree

from certarchive.documents.layout import QR_INSET
from certarchive.documents.model import KIND_PROOF, KIND_RIGHT
from certarchive.documents.render import render_certificate
from certarchive.ofd.package import (
    MAX_ENTRIES,
    MAX_XML_DEPTH,
    PackageError,
    parse_xml,
    read_zip,
    to_zip,
)
from certarchive.ofd.writer import write_ofd
from tests.i18n_support import raises_matching
from tests.ofd_support import (
    MM_POINT,
    NS,
    content_parts,
    page_texts,
    schema_problems,
    unzip,
)
from tests.test_documents_fixtures import DOCS, document, pdftotext, rendered, squeeze

KINDS = (KIND_RIGHT, KIND_PROOF)
WQY = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
LONG = {"notes": "附记内容测试，" * 900}
_WORD = re.compile(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<')


def package(kind: str, **changes: object) -> dict[str, bytes]:
    doc = document(kind, **changes) if changes else DOCS[kind]
    return unzip(to_zip(write_ofd(doc).files))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("changes", [{}, LONG], ids=["one-data-page", "several-data-pages"])
def test_every_part_validates_against_the_gbt_33190_schemas(kind: str, changes: dict) -> None:
    files = package(kind, **changes)
    assert "OFD.xml" in files and len(content_parts(files)) >= 2
    assert schema_problems(files) == []


def test_a_part_that_breaks_the_schema_is_caught_by_the_check() -> None:
    """The schema check itself can fail: a TextObject without its Font is refused."""
    files = package(KIND_RIGHT)
    name = "Doc_0/Pages/Page_0/Content.xml"
    files[name] = files[name].replace(b' Font="1"', b"", 1)
    assert schema_problems(files)


@pytest.mark.parametrize("kind", KINDS)
def test_doc_info_carries_title_author_date_and_the_licence_identifier(kind: str) -> None:
    doc = DOCS[kind]
    root = etree.fromstring(package(kind)["OFD.xml"])
    assert root.nsmap[root.prefix] == "http://www.ofdspec.org/2016"
    info = root.find("ofd:DocBody/ofd:DocInfo", NS)
    assert info.findtext("ofd:Title", namespaces=NS) == f"{doc.title} {doc.serial}"
    assert info.findtext("ofd:Author", namespaces=NS) == doc.agency.agency_name
    assert info.findtext("ofd:CreationDate", namespaces=NS) == "2026-11-21"
    custom = {
        node.get("Name"): node.text for node in info.iterfind("ofd:CustomDatas/ofd:CustomData", NS)
    }
    assert custom["licenceIdentifier"] == doc.licence_id
    assert custom["licenceNumber"] == doc.serial
    assert custom["recordDigestSM3"] == doc.record_digest


def _pdf_words(pdf: bytes, page: int) -> list[tuple[float, float, float, float, str]]:
    html = pdftotext(pdf, "-bbox", "-f", str(page), "-l", str(page))
    return [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in _WORD.findall(html)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("changes", [{}, LONG], ids=["one-data-page", "several-data-pages"])
def test_the_ofd_carries_the_pdfs_words_at_the_pdfs_positions(kind: str, changes: dict) -> None:
    """Every word pdftotext finds in the PDF is in an OFD text object on the same page,
    starting within half a point of it, with its baseline inside the PDF word's box; and
    the OFD carries no text the PDF lacks."""
    pdf = render_certificate(document(kind, **changes)) if changes else rendered(kind)
    contents = content_parts(package(kind, **changes))
    assert f"Pages:           {len(contents)}" in _pdfinfo(pdf)
    for number, content in enumerate(contents, start=1):
        texts = page_texts(content)
        words = _pdf_words(pdf, number)
        assert words
        for x_min, y_min, _x_max, y_max, word in words:
            assert any(_placed(text, word, x_min, y_min, y_max) for text in texts), (number, word)
        pdf_text = squeeze(pdftotext(pdf, "-raw", "-f", str(number), "-l", str(number)))
        ofd_text = squeeze("".join(text.text for text in texts))
        assert sorted(pdf_text) == sorted(ofd_text)


def _pdfinfo(pdf: bytes) -> str:
    from tests.test_documents_fixtures import run_tool

    return run_tool(["pdfinfo", "{pdf}"], pdf).stdout


def _placed(text, word: str, x_min: float, y_min: float, y_max: float) -> bool:
    start = text.text.find(word)
    while start >= 0:
        if abs(text.xs[start] - x_min) < 0.5 and y_min <= text.baseline <= y_max:
            return True
        start = text.text.find(word, start + 1)
    return False


def _reading_order(content: bytes) -> str:
    texts = sorted(page_texts(content), key=lambda text: (round(text.baseline, 1), text.xs[0]))
    return "".join(text.text for text in texts)


def test_notes_follow_other_status_on_the_data_page() -> None:
    """H-1.2: 附记 comes right after 权利其他状况, read top to bottom."""
    order = _reading_order(content_parts(package(KIND_RIGHT))[1])
    assert order.index("权利其他状况") < order.index("附记")
    assert order.index("使用期限") < order.index("权利其他状况")


@pytest.mark.parametrize("page", [0, 1])
def test_qr_code_is_top_left_on_every_page(page: int) -> None:
    """H-1.3: the QR code's paths sit in the top-left corner, inside the frame."""
    root = etree.fromstring(content_parts(package(KIND_RIGHT))[page])
    qr = [node for node in root.iterfind(".//ofd:PathObject", NS) if node.get("CTM")]
    assert len(qr) == 1
    left, top, width, height = (float(v) for v in qr[0].get("Boundary").split())
    inset = QR_INSET / MM_POINT
    assert abs(left - inset) < 0.01 and abs(top - inset) < 0.01 and width == height > 25


def test_embedded_font_is_a_subset_with_the_original_glyphs() -> None:
    """fontTools (not our subsetter) reads the embedded font: every printed character has
    its glyph, with the advance and outline of the source font, and nothing more."""
    files = package(KIND_RIGHT)
    printed = {c for part in content_parts(files) for t in page_texts(part) for c in t.text}
    subset = TTFont(io.BytesIO(files["Doc_0/Res/font_0.ttf"]))
    source = TTFont(WQY, fontNumber=0)
    cmap, source_cmap = subset.getBestCmap(), source.getBestCmap()
    assert set(map(chr, cmap)) == {c for c in printed if ord(c) in source_cmap}
    assert len(subset.getGlyphOrder()) < len(source.getGlyphOrder()) // 20
    for char in printed:
        ours, theirs = cmap[ord(char)], source_cmap[ord(char)]
        assert subset["hmtx"][ours] == source["hmtx"][theirs]
        assert (
            subset["glyf"][ours].getCoordinates(subset["glyf"])[0]
            == source["glyf"][theirs].getCoordinates(source["glyf"])[0]
        )


def test_packages_are_deterministic() -> None:
    assert to_zip(write_ofd(DOCS[KIND_RIGHT]).files) == to_zip(write_ofd(DOCS[KIND_RIGHT]).files)


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "entries, words",
    [
        ({f"f{i}": b"" for i in range(MAX_ENTRIES + 1)}, "too many entries"),
        ({"../OFD.xml": b"<a/>"}, "unacceptable name"),
        ({"/OFD.xml": b"<a/>"}, "unacceptable name"),
        ({"a\\b.xml": b"<a/>"}, "unacceptable name"),
        ({"big": b"\0" * (17 * 2**20)}, "size limits"),
    ],
)
def test_an_outside_package_that_breaks_a_limit_is_refused(entries: dict, words: str) -> None:
    with raises_matching(PackageError, words):
        read_zip(_zip(entries))


def test_not_a_zip_is_refused_in_words() -> None:
    with raises_matching(PackageError, r"不是OFD文件.*not an OFD file"):
        read_zip(b"%PDF-1.7 not a zip")


@pytest.mark.parametrize(
    "xml",
    [
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
        b"<a>" * (MAX_XML_DEPTH + 2) + b"</a>" * (MAX_XML_DEPTH + 2),
        b"<a><b></a>",
    ],
    ids=["dtd", "deep", "malformed"],
)
def test_outside_xml_is_refused_past_its_limits(xml: bytes) -> None:
    with pytest.raises(PackageError):
        parse_xml(xml, "Signature.xml")
