"""Revoking an OFD package (H-1.7): a 已注销 watermark annotation on every page, covered by
a further signature, while the issuing signature keeps verifying."""

from __future__ import annotations

import base64
import functools

import gmssl_pyx
from lxml import etree

from certarchive.documents.model import KIND_RIGHT
from certarchive.documents.stampdict import Revocation
from certarchive.ofd.revoke import revoke_package
from certarchive.ofd.sign import signatures_index
from certarchive.ofd.verify import verify_ofd
from tests.ofd_support import NS, content_parts, ofd_seal, rezip, schema_problems, unzip
from tests.test_documents_fixtures import CAUSE, REVOKED_AT, REVOKED_ON, other_pki, trust
from tests.test_ofd_signature import sealed

REVOCATION = Revocation(revoked_on=REVOKED_ON, cause=CAUSE)


@functools.cache
def revoked() -> bytes:
    return revoke_package(sealed(KIND_RIGHT), ofd_seal(), REVOCATION, REVOKED_AT)


def test_a_revoked_package_verifies_with_both_signatures_and_says_it_is_revoked() -> None:
    report = verify_ofd(revoked(), trust())
    assert report.valid, report.problems
    assert [s.intact for s in report.signatures] == [True, True]
    assert report.revoked == REVOCATION
    assert report.signatures[1].signed_at == REVOKED_AT


def test_the_issuing_signature_still_covers_unchanged_files() -> None:
    """Every reference of the first signature still matches (GmSSL's SM3), so the
    revocation changed nothing the issue signed."""
    files = unzip(revoked())
    first = etree.fromstring(files["Doc_0/Signs/Sign_0/Signature.xml"])
    for reference in first.iterfind(".//ofd:Reference", NS):
        value = base64.b64decode(reference.findtext("ofd:CheckValue", namespaces=NS))
        assert gmssl_pyx.sm3_hash(files[reference.get("FileRef").lstrip("/")]) == value
    assert (
        files["Doc_0/Signs/Sign_0/Signature.xml"]
        == unzip(sealed(KIND_RIGHT))["Doc_0/Signs/Sign_0/Signature.xml"]
    )


def test_every_page_carries_the_watermark_annotation_which_the_second_signature_covers() -> None:
    files = unzip(revoked())
    assert schema_problems(files) == []
    index = etree.fromstring(files["Doc_0/Annots/Annotations.xml"])
    pages = index.findall("ofd:Page", NS)
    assert len(pages) == len(content_parts(files))
    second = etree.fromstring(files["Doc_0/Signs/Sign_1/Signature.xml"])
    covered = {r.get("FileRef").lstrip("/") for r in second.iterfind(".//ofd:Reference", NS)}
    assert "Doc_0/Annots/Annotations.xml" in covered
    assert {"Doc_0/Signs/Sign_0/Signature.xml", "Doc_0/Signs/Sign_0/SignedValue.dat"} <= covered
    for page in pages:
        name = "Doc_0/Annots/" + page.findtext("ofd:FileLoc", namespaces=NS)
        assert name in covered
        (annot,) = etree.fromstring(files[name]).findall("ofd:Annot", NS)
        assert annot.get("Type") == "Watermark"
        assert annot.findtext("ofd:Remark", namespaces=NS).startswith("已注销")
        paths = annot.findall("ofd:Appearance/ofd:PathObject", NS)
        assert len(paths) == 3 and all(
            len(p.findtext("ofd:AbbreviatedData", namespaces=NS)) > 100 for p in paths[1:]
        )


def test_dropping_the_revocation_signature_is_refused() -> None:
    files = unzip(revoked())
    del files["Doc_0/Signs/Sign_1/Signature.xml"], files["Doc_0/Signs/Sign_1/SignedValue.dat"]
    files["Doc_0/Signs/Signatures.xml"] = signatures_index(1)
    report = verify_ofd(rezip(files), trust())
    assert not report.valid
    assert any("Annotations.xml" in problem for problem in report.problems)


def test_a_changed_cause_is_refused() -> None:
    files = unzip(revoked())
    name = "Doc_0/Annots/Page_0/Annotation.xml"
    files[name] = files[name].replace(CAUSE.encode(), "另一原因".encode())
    assert not verify_ofd(rezip(files), trust()).valid


def test_a_revocation_by_a_foreign_seal_is_refused() -> None:
    forged = revoke_package(sealed(KIND_RIGHT), ofd_seal(other_pki()), REVOCATION, REVOKED_AT)
    report = verify_ofd(forged, trust())
    assert not report.valid
    assert [s.intact for s in report.signatures] == [True, False]
