"""Writing OFD's XML: one namespace, the ``ofd:`` prefix readers expect, numbers in mm.

OFD measures in millimetres from the top left of the page; the page description measures
in PDF points from the bottom left.  Every conversion goes through :func:`mm` and
:func:`down` so that the two writers agree to the hundredth of a millimetre.

Our own parts are built with the standard library's ElementTree: a page has several
hundred objects, and lxml sets attributes several times slower, which showed in the
issuing rate.  Parts read from outside go through lxml with limits
(:func:`certarchive.ofd.package.parse_xml`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

NS = "http://www.ofdspec.org/2016"
POINT_MM = 25.4 / 72
ET.register_namespace("ofd", NS)


def q(tag: str) -> str:
    """The qualified name of an OFD element."""
    return f"{{{NS}}}{tag}"


def element(
    tag: str, attributes: dict[str, str] | None = None, text: str | None = None
) -> ET.Element:
    """A root OFD element (the namespace is declared on it when serialised)."""
    node = ET.Element(q(tag), attributes or {})
    if text is not None:
        node.text = text
    return node


def sub(
    parent: ET.Element, tag: str, attributes: dict[str, str] | None = None, text: str | None = None
) -> ET.Element:
    """A child OFD element."""
    node = ET.SubElement(parent, q(tag), attributes or {})
    if text is not None:
        node.text = text
    return node


def serialise(root: ET.Element) -> bytes:
    """UTF-8 with an XML declaration, as the package's parts are stored."""
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def parse_own(data: bytes) -> ET.Element:
    """A part this module wrote (never outside input: that is ``package.parse_xml``)."""
    return ET.fromstring(data)  # noqa: S314 - our own bytes


def number(value: float) -> str:
    """A coordinate or size: three decimals (a micrometre), no trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def numbers(values: Iterable[float]) -> str:
    return " ".join(number(value) for value in values)


def mm(points: float) -> float:
    """A length in PDF points as millimetres."""
    return points * POINT_MM


def down(page_height: float, y: float) -> float:
    """A PDF y (points up from the bottom) as OFD's y (millimetres down from the top)."""
    return (page_height - y) * POINT_MM


def rounded_rectangle(x0: float, y0: float, x1: float, y1: float, radius: float) -> str:
    """Path data for a rectangle from corner (x0, y0) to (x1, y1) with rounded corners
    (quadratic curves), in whichever direction the y axis runs."""
    dy = radius if y1 > y0 else -radius
    corners = (
        (x0 + radius, y0),
        (x1 - radius, y0),
        (x1, y0, x1, y0 + dy),
        (x1, y1 - dy),
        (x1, y1, x1 - radius, y1),
        (x0 + radius, y1),
        (x0, y1, x0, y1 - dy),
        (x0, y0 + dy),
        (x0, y0, x0 + radius, y0),
    )
    commands = ("M", "L", "Q", "L", "Q", "L", "Q", "L", "Q")
    return " ".join(f"{c} {numbers(p)}" for c, p in zip(commands, corners, strict=True)) + " C"
