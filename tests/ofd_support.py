"""Helpers for the OFD tests that read packages without certarchive's reader.

Validation uses the GB/T 33190 schemas kept under tests/data/ofd-schemas (see the README
there); text objects are read with lxml directly, so a mistake in our reader cannot hide
one in our writer.
"""

from __future__ import annotations

import functools
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

SCHEMAS = Path(__file__).parent / "data" / "ofd-schemas"
NS = {"ofd": "http://www.ofdspec.org/2016"}
#: Root element → schema file (PageAnnot lives in Annotation.xsd).
SCHEMA_OF = {
    "OFD": "OFD.xsd",
    "Document": "Document.xsd",
    "Res": "Res.xsd",
    "Page": "Page.xsd",
    "Signatures": "Signatures.xsd",
    "Signature": "Signature.xsd",
    "Annotations": "Annotations.xsd",
    "PageAnnot": "Annotation.xsd",
}
MM_POINT = 72 / 25.4


@functools.cache
def schema(file_name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / file_name)))


def unzip(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def rezip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def schema_problems(files: dict[str, bytes]) -> list[str]:
    """Every XML part validated against the schema of its root element."""
    problems = []
    for name, data in files.items():
        if not name.endswith(".xml"):
            continue
        root = etree.fromstring(data)
        tag = etree.QName(root).localname
        if etree.QName(root).namespace != NS["ofd"] or tag not in SCHEMA_OF:
            problems.append(f"{name}: unexpected root {root.tag}")
            continue
        checker = schema(SCHEMA_OF[tag])
        if not checker.validate(root):
            problems.append(f"{name}: {checker.error_log}")
    return problems


@dataclass(frozen=True)
class OfdText:
    """A TextCode in points from the page's top left: x of each character, the baseline."""

    text: str
    xs: tuple[float, ...]
    baseline: float
    size: float


def _floats(text: str | None) -> list[float]:
    """An ST_Array, with GB/T 33190's ``g COUNT VALUE`` runs expanded."""
    tokens, values = (text or "").split(), []
    while tokens:
        token = tokens.pop(0)
        if token == "g":
            count, value = int(tokens.pop(0)), float(tokens.pop(0))
            values += [value] * count
        else:
            values.append(float(token))
    return values


def page_texts(content: bytes) -> list[OfdText]:
    """The text objects of one Content.xml (boundary origin + TextCode X/Y + DeltaX)."""
    root = etree.fromstring(content)
    found = []
    for node in root.iterfind(".//ofd:TextObject", NS):
        left, top, _w, _h = _floats(node.get("Boundary"))
        for code in node.iterfind("ofd:TextCode", NS):
            x = left + float(code.get("X"))
            xs = [x]
            for step in _floats(code.get("DeltaX")):
                x += step
                xs.append(x)
            found.append(
                OfdText(
                    code.text or "",
                    tuple(value * MM_POINT for value in xs[: len(code.text or "")]),
                    (top + float(code.get("Y"))) * MM_POINT,
                    float(node.get("Size")) * MM_POINT,
                )
            )
    return found


def content_parts(files: dict[str, bytes]) -> list[bytes]:
    """The pages' Content.xml in page order, as Document.xml lists them."""
    document = etree.fromstring(files["Doc_0/Document.xml"])
    return [
        files["Doc_0/" + page.get("BaseLoc")]
        for page in document.iterfind("ofd:Pages/ofd:Page", NS)
    ]


def seal_description(valid_to=None):
    """The test agency's seal as an SESeal describes it (number, name, picture)."""
    import datetime

    from certarchive.documents.seal_image import seal_png
    from certarchive.signing.ses import SealDescription
    from tests.test_documents_fixtures import AGENCY, VALID_FROM, VALID_UNTIL

    return SealDescription(
        number=AGENCY.seal_number,
        name=AGENCY.seal_name,
        picture_png=seal_png(AGENCY.seal_name, AGENCY.agency_name, AGENCY.seal_number, None),
        width_mm=42,
        height_mm=42,
        created=VALID_FROM,
        valid_from=VALID_FROM,
        valid_to=valid_to or VALID_UNTIL or datetime.datetime.max,
    )


def ofd_seal(of=None, *, certificates=None, valid_to=None):
    """An OfdSeal for ``of`` (default: the test PKI), the SESeal made by its CA."""
    from certarchive.ofd.sign import OfdSeal
    from certarchive.signing.ses import make_seseal
    from tests.test_documents_fixtures import pki, signer

    of = of or pki()
    seseal = make_seseal(
        seal_description(valid_to),
        list(certificates if certificates is not None else [of.leaf]),
        of.ca_key,
        of.root,
    )
    return OfdSeal(signer(of), seseal)
