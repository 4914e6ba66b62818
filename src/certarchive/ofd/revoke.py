"""The revocation of an OFD package: a 已注销 watermark annotation on every page, then a
further signature over everything (H-1.7).

Nothing the issuing signature protects is touched, so it keeps verifying: each page gets
a watermark annotation file of its own, the annotation index (left unprotected while
empty, see :mod:`.sign`) lists them, and the agency's new signature covers the index,
the annotations and the first signature's files.  The watermark is drawn as the PDF's is
(:func:`certarchive.documents.watermark.draw_watermark`: the words at 120 pt turned 40°
about the page centre in a rounded frame, the date and cause under them, in translucent
red); its words are outlines (:mod:`.glyphs`) and are also stated in the annotation's
Remark and Parameters, where readers and the verifier find them.
"""

from __future__ import annotations

import datetime
import math

from certarchive.documents.fonts import REPORTLAB_LOCK, cjk_font
from certarchive.documents.layout import PAGE_HEIGHT, PAGE_WIDTH
from certarchive.documents.pagemodel import text_width, wrap_text
from certarchive.documents.seal_page import chinese_date
from certarchive.documents.stampdict import Revocation
from certarchive.documents.watermark import DETAIL_WIDTH, REVOKED, STAMP_RED
from certarchive.ofd.glyphs import text_outline
from certarchive.ofd.package import read_zip, to_zip
from certarchive.ofd.sign import OfdSeal, add_signature
from certarchive.ofd.verify import CAUSE, REVOKED_ON
from certarchive.ofd.writer import ANNOTATIONS, DOCUMENT_XML
from certarchive.ofd.xml import (
    POINT_MM,
    element,
    numbers,
    parse_own,
    q,
    rounded_rectangle,
    serialise,
    sub,
)

ANGLE = math.radians(40)
CREATOR = "certarchive"
#: The PDF watermark's alphas (fill 0.30, frame 0.45, details 0.65) on OFD's 0–255 scale.
WORDS_ALPHA, FRAME_ALPHA, DETAILS_ALPHA = 77, 115, 166
TITLE_SIZE, DETAIL_SIZE = 120.0, 15.0
FRAME = (-230.0, -92.0, 460.0, 216.0, 18.0)  # x, y, width, height, corner radius (points)


def _ctm() -> str:
    """From the watermark's space (points, y up, origin at the page centre, turned 40°)
    to the page's (millimetres, y down, from the top left)."""
    k, cos, sin = POINT_MM, math.cos(ANGLE), math.sin(ANGLE)
    return numbers((k * cos, -k * sin, -k * sin, -k * cos, k * PAGE_WIDTH / 2, k * PAGE_HEIGHT / 2))


def _path(parent, ids: list[int], data: str, alpha: int, *, stroke: bool) -> None:
    ids[0] += 1
    colour = numbers(round(c * 255) for c in STAMP_RED.rgb())
    node = sub(
        parent,
        "PathObject",
        {
            "ID": str(ids[0]),
            "Boundary": numbers((0, 0, PAGE_WIDTH * POINT_MM, PAGE_HEIGHT * POINT_MM)),
            "CTM": _ctm(),
            "Alpha": str(alpha),
            "Stroke": "true" if stroke else "false",
            "Fill": "false" if stroke else "true",
        },
    )
    if stroke:
        node.set("LineWidth", "5")
        sub(node, "StrokeColor", {"Value": colour})
    else:
        sub(node, "FillColor", {"Value": colour})
    sub(node, "AbbreviatedData", text=data)


def _details(revocation: Revocation) -> list[str]:
    return [f"注销日期：{chinese_date(revocation.revoked_on)}", f"注销原因：{revocation.cause}"]


def _appearance(annot, revocation: Revocation, font_path: str | None, ids: list[int]) -> None:
    appearance = sub(
        annot,
        "Appearance",
        {"Boundary": numbers((0, 0, PAGE_WIDTH * POINT_MM, PAGE_HEIGHT * POINT_MM))},
    )
    x, y, width, height, radius = FRAME
    frame = rounded_rectangle(x, y, x + width, y + height, radius)
    _path(appearance, ids, frame, FRAME_ALPHA, stroke=True)
    font = cjk_font(font_path)
    if font.path is None:  # no outlines without a TrueType font: the Remark says it
        return
    with REPORTLAB_LOCK:
        width = text_width(REVOKED, font.name, TITLE_SIZE)
        words = text_outline(font.path, font.name, REVOKED, TITLE_SIZE, -width / 2, 0)
        lines = [
            line
            for text in _details(revocation)
            for line in wrap_text(text, font.name, DETAIL_SIZE, DETAIL_WIDTH)
        ]
        leading = DETAIL_SIZE * 1.45
        details = " ".join(
            text_outline(
                font.path,
                font.name,
                line,
                DETAIL_SIZE,
                -text_width(line, font.name, DETAIL_SIZE) / 2,
                -28 - DETAIL_SIZE - number * leading,
            )
            for number, line in enumerate(lines)
        )
    _path(appearance, ids, words, WORDS_ALPHA, stroke=False)
    _path(appearance, ids, details, DETAILS_ALPHA, stroke=False)


def _page_annotation(revocation: Revocation, font_path: str | None, ids: list[int]) -> bytes:
    root = element("PageAnnot")
    ids[0] += 1
    annot = sub(
        root,
        "Annot",
        {
            "ID": str(ids[0]),
            "Type": "Watermark",
            "Creator": CREATOR,
            "LastModDate": revocation.revoked_on.isoformat(),
            "ReadOnly": "true",
        },
    )
    remark = f"{REVOKED} {chinese_date(revocation.revoked_on)} {revocation.cause}"
    sub(annot, "Remark", text=remark)
    parameters = sub(annot, "Parameters")
    sub(parameters, "Parameter", {"Name": REVOKED_ON}, revocation.revoked_on.isoformat())
    sub(parameters, "Parameter", {"Name": CAUSE}, revocation.cause)
    _appearance(annot, revocation, font_path, ids)
    return serialise(root)


def revoke_package(
    package: bytes,
    seal: OfdSeal,
    revocation: Revocation,
    moment: datetime.datetime,
    *,
    font_path: str | None = None,
) -> bytes:
    """``package`` (ours, sealed) with the watermark on every page and a further signature."""
    files = read_zip(package)
    document = parse_own(files[DOCUMENT_XML])
    max_id = document.find(f"{q('CommonData')}/{q('MaxUnitID')}")
    ids = [int(max_id.text)]
    index = element("Annotations")
    for number, page in enumerate(document.iterfind(f"{q('Pages')}/{q('Page')}")):
        name = f"Page_{number}/Annotation.xml"
        files[f"Doc_0/Annots/{name}"] = _page_annotation(revocation, font_path, ids)
        entry = sub(index, "Page", {"PageID": page.get("ID")})
        sub(entry, "FileLoc", text=name)
    files[ANNOTATIONS] = serialise(index)
    return to_zip(add_signature(files, seal, moment))
