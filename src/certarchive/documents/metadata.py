"""Machine-readable metadata inside the certificate file, and its comparison (H-5.2.6).

The registry must be able to prove that "the metadata inside and outside the file
agree": the file carries its key facts in an XMP packet (the catalog's ``/Metadata``
stream, uncompressed so any XMP-aware tool finds it) and the registry compares them with
its own record.  The packet sits in the first revision, under the seal signature, so a
changed value breaks the signature as well as the comparison.

Keys are English camelCase in the namespace :data:`NAMESPACE` (prefix ``ecert``).  Where
GB/T 36903 (电子证照 元数据规范) defines an element, the key is named after it:

=====================  ===========================  =====================================
key                    GB/T 36903 element           value
=====================  ===========================  =====================================
licenceIdentifier      证照标识                     GB/T 36904 identifier
licenceNumber          证照编号                     the serial, 豫(2026)潢川县不动产权第…号
licenceTypeName        证照类型名称                 不动产权证书 / 不动产登记证明
issuingAuthority       证照颁发机构                 the agency name
issueDate              证照颁发日期                 ISO 8601 date, 2026-11-21
certificateKind        (certarchive) 证照种类       right / proof
unitNumber             (certarchive) 不动产单元号   28 characters, GB/T 37346
sealName               (certarchive) 电子印章名称   潢川县自然资源局不动产登记专用章
sealNumber             (certarchive) 电子印章编号   equals the physical seal's (H-3.1)
version                (certarchive) 版本           the certificate version, decimal
recordDigestSM3        (certarchive) 登记记录摘要   SM3 hex of the registry record (H-5.2.2)
=====================  ===========================  =====================================
"""

from __future__ import annotations

import datetime
import io
import re
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Mapping
from xml.sax.saxutils import escape

from pypdf import PdfReader, apply_configuration
from pypdf.generic import ArrayObject, StreamObject

from certarchive.documents.model import CertificateDocument
from certarchive.i18n import _

NAMESPACE = "urn:certarchive:xmp:ecert:1/"
PREFIX = "ecert"

#: key → Chinese name used in messages; the order is the order of comparison reports.
MISSING = _("（缺失）")
FIELD_NAMES = {
    "licenceIdentifier": _("证照标识"),
    "licenceNumber": _("证照编号"),
    "licenceTypeName": _("证照类型名称"),
    "certificateKind": _("证照种类"),
    "issuingAuthority": _("证照颁发机构"),
    "issueDate": _("证照颁发日期"),
    "unitNumber": _("不动产单元号"),
    "sealName": _("电子印章名称"),
    "sealNumber": _("电子印章编号"),
    "version": _("版本"),
    "recordDigestSM3": _("登记记录摘要"),
}

#: Limits for reading the metadata of an uploaded file.  Our packets are about 1.5 KB with
#: 20 elements; a crafted one must not cost more than a small multiple of that.
MAX_XMP_BYTES = 64 * 1024
MAX_XMP_ELEMENTS = 500
MAX_XMP_DEPTH = 16
MAX_FILTERS = 2
_TOO_LARGE = _("元数据超出大小限制")
#: pypdf's own limits while it reads an outside file's structure (cross-reference and
#: object streams): far above what a certificate file needs, far below pypdf's 75 MB.
_PYPDF_LIMIT = 16 * 2**20
_PYPDF_LIMITS = {
    "maximum_declared_stream_length": _PYPDF_LIMIT,
    "array_based_stream_maximum_output_length": _PYPDF_LIMIT,
    "lzw_maximum_output_length": _PYPDF_LIMIT,
    "run_length_maximum_output_length": _PYPDF_LIMIT,
    "zlib_maximum_output_length": _PYPDF_LIMIT,
    "array_maximum_element_count": 10_000,
    "dictionary_maximum_element_count": 10_000,
}

#: A document type declaration is the only way XML can declare entities; refusing it
#: closes entity-expansion attacks before the parser sees a byte.
_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


def certificate_metadata(doc: CertificateDocument) -> dict[str, str]:
    """The metadata a file rendered from ``doc`` must carry, as strings."""
    return {
        "licenceIdentifier": doc.licence_id,
        "licenceNumber": doc.serial,
        "licenceTypeName": doc.title,
        "certificateKind": doc.kind,
        "issuingAuthority": doc.agency.agency_name,
        "issueDate": doc.issued_on.isoformat(),
        "unitNumber": str(doc.data.get("unit_number") or ""),
        "sealName": doc.agency.seal_name,
        "sealNumber": doc.agency.seal_number,
        "version": str(doc.version),
        "recordDigestSM3": doc.record_digest,
    }


def xmp_packet(metadata: Mapping[str, str], created: datetime.datetime) -> bytes:
    """Serialise ``metadata`` as a UTF-8 XMP packet, one element per key, with the file's
    creation time as XMP's own CreateDate, ModifyDate and MetadataDate."""
    elements = "\n".join(
        f"   <{PREFIX}:{key}>{escape(value)}</{PREFIX}:{key}>" for key, value in metadata.items()
    )
    moment = created.isoformat(timespec="seconds")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">\n'
        f"   <xmp:CreateDate>{moment}</xmp:CreateDate>\n"
        f"   <xmp:ModifyDate>{moment}</xmp:ModifyDate>\n"
        f"   <xmp:MetadataDate>{moment}</xmp:MetadataDate>\n"
        "  </rdf:Description>\n"
        f'  <rdf:Description rdf:about="" xmlns:{PREFIX}="{NAMESPACE}">\n'
        f"{elements}\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="r"?>\n'
    ).encode()


class MetadataError(ValueError):
    """The file's metadata cannot be read; the message says why in plain words."""


class MetadataTooLarge(MetadataError):
    """The metadata breaks a limit: an uploaded file built to exhaust the server."""


def _decoded(stream: StreamObject) -> bytes:
    """The stream's data through at most :data:`MAX_FILTERS` Flate filters, never more than
    :data:`MAX_XMP_BYTES` (an uploaded file may hold a decompression bomb)."""
    filters = stream.get("/Filter")
    names = (
        [] if filters is None else list(filters) if isinstance(filters, ArrayObject) else [filters]
    )
    if len(names) > MAX_FILTERS or any(name != "/FlateDecode" for name in names):
        raise MetadataError(_("元数据的编码方式不受支持"))
    data = stream._data  # the encoded bytes; pypdf's get_data() would decode without our limit
    for _name in names:
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(data, MAX_XMP_BYTES + 1)
        except zlib.error:
            raise MetadataError(_("元数据无法解压")) from None
        if len(data) > MAX_XMP_BYTES or inflater.unconsumed_tail:
            raise MetadataTooLarge(_TOO_LARGE)
    if len(data) > MAX_XMP_BYTES:
        raise MetadataTooLarge(_TOO_LARGE)
    return data


def parse_xmp(packet: bytes) -> dict[str, str]:
    """The ``ecert`` elements of an XMP packet, read under limits on size, element count and
    depth; raises :class:`MetadataError` if it is not such XML."""
    if len(packet) > MAX_XMP_BYTES:
        raise MetadataTooLarge(_TOO_LARGE)
    if _DTD.search(packet):
        raise MetadataError(_("元数据声明了DTD"))
    parser = ET.XMLPullParser(events=("start", "end"))
    found: dict[str, str] = {}
    depth = count = 0
    try:
        parser.feed(packet)
        parser.close()
        for event, element in parser.read_events():
            if event == "start":
                depth, count = depth + 1, count + 1
                if depth > MAX_XMP_DEPTH or count > MAX_XMP_ELEMENTS:
                    raise MetadataTooLarge(_TOO_LARGE)
                continue
            depth -= 1
            if element.tag.startswith("{" + NAMESPACE + "}"):
                found[element.tag[len(NAMESPACE) + 2 :]] = element.text or ""
    except ET.ParseError:
        raise MetadataError(_("元数据不是有效的XML")) from None
    return found


def read_metadata(pdf: bytes) -> dict[str, str]:
    """The certificate metadata of the file's current revision; ``{}`` if it has none.

    Raises :class:`MetadataError` when ``pdf`` cannot be read as a PDF at all or its
    metadata breaks a limit.
    """
    try:
        with apply_configuration(**_PYPDF_LIMITS):
            catalog = PdfReader(io.BytesIO(pdf)).root_object
            stream = catalog.get("/Metadata")
            stream = stream.get_object() if stream is not None else None
    except Exception:  # pypdf raises many types for broken input
        raise MetadataError(_("无法读取文件元数据")) from None
    if stream is None:
        return {}
    if not isinstance(stream, StreamObject):
        raise MetadataError(_("无法读取文件元数据"))
    return parse_xmp(_decoded(stream))


def compare_metadata(found: Mapping[str, str], expected: Mapping[str, str]) -> list[str]:
    """Name every field where the file (``found``) and the registry (``expected``) differ.

    Each message gives the field's Chinese and English name, the file's value and the
    registry's value, Chinese first.
    """
    known = [key for key in FIELD_NAMES if key in found or key in expected]
    others = sorted((set(found) | set(expected)) - set(FIELD_NAMES))
    problems = []
    for key in known + others:
        in_file, in_registry = found.get(key), expected.get(key)
        if in_file == in_registry:
            continue
        problems.append(
            _(
                "${field}不一致：文件为${in_file}，登记簿为${in_registry}",
                mapping={
                    "field": FIELD_NAMES.get(key, key),
                    "in_file": MISSING if in_file is None else repr(in_file),
                    "in_registry": MISSING if in_registry is None else repr(in_registry),
                },
            )
        )
    return problems
