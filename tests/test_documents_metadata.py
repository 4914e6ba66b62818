"""Metadata inside the file agrees with the registry's (H-5.2.6)."""

from __future__ import annotations

import pytest

from certarchive.documents.metadata import (
    FIELD_NAMES,
    certificate_metadata,
    compare_metadata,
    parse_xmp,
    read_metadata,
    xmp_packet,
)
from certarchive.documents.model import KIND_PROOF, KIND_RIGHT
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
    problems = compare_metadata(found, registry)
    assert len(problems) == 3
    by_key = dict(zip(["unitNumber", "sealNumber", "version"], problems, strict=True))
    assert "不动产单元号" in by_key["unitNumber"] and "（缺失）" in by_key["unitNumber"]
    assert "'4115260012345'" in by_key["sealNumber"] and "'4115269999999'" in by_key["sealNumber"]
    assert "电子印章编号" in by_key["sealNumber"]
    assert "version differs: file has '1', registry has '2'" in by_key["version"]


def test_compare_reports_fields_unknown_to_either_side() -> None:
    problems = compare_metadata({"extra": "x"}, {})
    assert problems == [
        "extra不一致：文件为'x'，登记簿为（缺失） / extra differs: file has 'x', registry has None"
    ]


def test_xmp_round_trips_characters_that_need_escaping() -> None:
    values = {"licenceNumber": "a<b>&\"c'", "sealName": "潢川县"}
    assert parse_xmp(xmp_packet(values)) == values


def test_xmp_with_a_dtd_is_refused() -> None:
    packet = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(ValueError, match="DTD"):
        parse_xmp(packet)
    with pytest.raises(ValueError, match="not XML"):
        parse_xmp(b"<unclosed")


def test_reading_metadata_from_garbage_fails_plainly() -> None:
    with pytest.raises(ValueError, match="cannot read"):
        read_metadata(b"%PDF-1.4\nnot really")
