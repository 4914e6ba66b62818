"""Metadata inside the file agrees with the registry's (H-5.2.6)."""

from __future__ import annotations

import io
import re
import zlib

import pytest
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, NameObject, StreamObject

from certarchive.documents.metadata import (
    FIELD_NAMES,
    MAX_XMP_BYTES,
    MAX_XMP_DEPTH,
    MAX_XMP_ELEMENTS,
    MetadataError,
    certificate_metadata,
    compare_metadata,
    parse_xmp,
    read_metadata,
    xmp_packet,
)
from certarchive.documents.model import KIND_PROOF, KIND_RIGHT
from tests.i18n_support import both_text, raises_matching
from tests.test_documents_fixtures import DOCS, revoked, run_tool, signed


@pytest.mark.parametrize("kind", [KIND_RIGHT, KIND_PROOF])
def test_metadata_read_back_equals_what_was_rendered(kind: str) -> None:
    doc = DOCS[kind]
    expected = certificate_metadata(doc)
    assert set(expected) == set(FIELD_NAMES)
    assert expected["licenceNumber"] == doc.serial
    assert expected["certificateKind"] == kind
    assert expected["unitNumber"] == doc.data["unit_number"]
    assert expected["recordDigestSM3"] == doc.record_digest
    assert read_metadata(signed(kind)) == expected
    assert read_metadata(revoked(kind)) == expected  # later revisions keep the catalog's XMP
    assert compare_metadata(read_metadata(signed(kind)), expected) == []


def test_pdfinfo_sees_the_xmp_packet() -> None:
    """Any XMP-aware tool finds the metadata: poppler prints the packet."""
    result = run_tool(["pdfinfo", "-meta", "{pdf}"], signed(KIND_RIGHT))
    assert "<ecert:licenceIdentifier>1141152600000000XY-0000123-2026<" in result.stdout
    assert "<ecert:licenceNumber>豫(2026)潢川县不动产权第0000123号<" in result.stdout


def test_compare_names_every_changed_field_with_both_values() -> None:
    found = certificate_metadata(DOCS[KIND_RIGHT])
    registry = {**found, "sealNumber": "4115269999999", "version": "2"}
    del registry["unitNumber"]
    problems = [both_text(problem) for problem in compare_metadata(found, registry)]
    assert len(problems) == 3
    by_key = dict(zip(["unitNumber", "sealNumber", "version"], problems, strict=True))
    assert "不动产单元号" in by_key["unitNumber"] and "（缺失）" in by_key["unitNumber"]
    assert "'4115260012345'" in by_key["sealNumber"] and "'4115269999999'" in by_key["sealNumber"]
    assert "电子印章编号" in by_key["sealNumber"]
    assert "Version differs: the file has '1', the registry has '2'" in by_key["version"]


def test_compare_reports_fields_unknown_to_either_side() -> None:
    problems = [both_text(problem) for problem in compare_metadata({"extra": "x"}, {})]
    assert problems == [
        "extra不一致：文件为'x'，登记簿为（缺失） / extra differs: the file has 'x', the registry "
        "has (missing)"
    ]


def test_xmp_round_trips_characters_that_need_escaping() -> None:
    values = {"licenceNumber": "a<b>&\"c'", "sealName": "潢川县"}
    assert parse_xmp(xmp_packet(values, DOCS[KIND_RIGHT].issued_at)) == values


def test_xmp_with_a_dtd_is_refused() -> None:
    packet = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with raises_matching(MetadataError, "DTD"):
        parse_xmp(packet)
    with raises_matching(MetadataError, "not valid XML"):
        parse_xmp(b"<unclosed")


def test_reading_metadata_from_garbage_fails_plainly() -> None:
    with raises_matching(MetadataError, "cannot be read"):
        read_metadata(b"%PDF-1.4\nnot really")


def test_info_and_xmp_carry_the_real_creation_time() -> None:
    """Not reportlab's invariant 2000-01-01: the issuance time, in both places."""
    info = run_tool(["pdfinfo", "-isodates", "{pdf}"], signed(KIND_RIGHT)).stdout
    assert re.search(r"CreationDate: +2026-11-21T10:30:00\+08", info)
    assert re.search(r"ModDate: +2026-11-21T10:30:00\+08", info)
    meta = run_tool(["pdfinfo", "-meta", "{pdf}"], signed(KIND_RIGHT)).stdout
    assert "<xmp:CreateDate>2026-11-21T10:30:00+08:00</xmp:CreateDate>" in meta
    assert "2000" not in info


@pytest.mark.parametrize(
    "packet",
    [
        b"<a>" + b"<b/>" * (MAX_XMP_ELEMENTS + 1) + b"</a>",
        b"<a>" * (MAX_XMP_DEPTH + 1) + b"</a>" * (MAX_XMP_DEPTH + 1),
        b"<a>" + b" " * MAX_XMP_BYTES + b"</a>",
    ],
    ids=["elements", "depth", "bytes"],
)
def test_xmp_beyond_a_limit_is_refused(packet: bytes) -> None:
    with raises_matching(MetadataError, "size limits"):
        parse_xmp(packet)


def _with_metadata_stream(packet: bytes, filters: list[str]) -> bytes:
    """A signed file whose catalog's /Metadata is replaced by ``packet`` deflated through
    ``filters`` (an uploaded file may carry anything)."""
    writer = PdfWriter(io.BytesIO(signed(KIND_RIGHT)), incremental=True)
    data = packet
    for _ in filters:
        data = zlib.compress(data, 9)
    stream = StreamObject()
    stream._data = data
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    stream[NameObject("/Filter")] = ArrayObject(NameObject(f) for f in filters)
    writer.root_object[NameObject("/Metadata")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_double_deflated_xmp_bomb_is_refused_quickly() -> None:
    """18 million empty elements, deflated twice into a few kilobytes (the upload that cost
    26 s and 1.7 GB): decoding stops at the size limit."""
    bomb = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>" + b"<a/>" * 18_000_000 + b"</x:xmpmeta>"
    pdf = _with_metadata_stream(bomb, ["/FlateDecode", "/FlateDecode"])
    assert len(pdf) < len(signed(KIND_RIGHT)) + 20_000
    with raises_matching(MetadataError, "size limits"):
        read_metadata(pdf)


def test_metadata_with_another_filter_is_refused() -> None:
    pdf = _with_metadata_stream(b"<a/>", ["/FlateDecode", "/FlateDecode", "/FlateDecode"])
    with raises_matching(MetadataError, "encoding"):
        read_metadata(pdf)
