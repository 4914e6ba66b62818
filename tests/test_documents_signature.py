"""The standard seal signature (H-5.1.1, H-5.1.2): CMS SignedData with SM2 and SM3 in a
``/Adobe.PPKLite`` signature, checked by our verifier and by tools we did not write
(pdfsig, pyHanko, qpdf, OpenSSL, GmSSL through gmssl-pyx), and every tampering refused."""

from __future__ import annotations

import datetime
import io
import re
import subprocess
from pathlib import Path

import gmssl_pyx
import pytest
from asn1crypto import cms
from hypothesis import given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.pdf_embedded import SignatureCoverageLevel
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ByteStringObject, ContentStream, NameObject, TextStringObject

from certarchive.crypto.sm import sm3
from certarchive.documents.model import KIND_PROOF, KIND_RIGHT
from certarchive.documents.pagefont import page_font
from certarchive.documents.signature import sign_pdf
from certarchive.documents.verify import STANDARD, Trust, verify_pdf
from certarchive.signing.certificates import CertificateError, to_pem
from certarchive.signing.signer import Signer
from tests.i18n_support import both_text, raises_matching
from tests.test_documents_fixtures import (
    AGENCY,
    DOCS,
    SIGNED_AT,
    cms_signature,
    make_pki,
    openssl_verify,
    other_pki,
    pki,
    rendered,
    run_tool,
    signed,
    signed_parts,
    signer,
    trust,
)

ALTERED = "does not match the file"
CHANGED_AFTER = "changed after signing"
UNSIGNED = "carries no seal signature"


def _problems(pdf: bytes, relying_on: Trust | None = None) -> str:
    report = verify_pdf(pdf, relying_on or trust())
    assert not report.valid
    assert report.problems
    return "\n".join(both_text(problem) for problem in report.problems)


def _incremental(pdf: bytes, change) -> bytes:
    """Apply ``change`` to a pypdf incremental writer: how an ordinary tool edits a PDF."""
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    assert out.getvalue().startswith(pdf)
    return out.getvalue()


def _parts(pdf: bytes) -> tuple[bytes, bytes]:
    (signature,) = verify_pdf(pdf, trust()).signatures
    return signed_parts(pdf, signature.byte_range)


@pytest.mark.parametrize("kind", [KIND_RIGHT, KIND_PROOF])
def test_signed_file_verifies_offline(kind: str) -> None:
    pdf = signed(kind)
    assert pdf.startswith(rendered(kind))  # append-only
    report = verify_pdf(pdf, trust())
    assert report.valid, report.problems
    assert report.problems == [] and report.revoked is None and report.format == STANDARD
    (signature,) = report.signatures
    zero, a, b, c = signature.byte_range
    assert zero == 0 and b + c == len(pdf) and pdf[a : a + 1] == b"<" and pdf[b - 1 : b] == b">"
    assert signature.intact and signature.revision == 2
    assert signature.signer_name == AGENCY.seal_name and signature.reason == "颁发"
    assert signature.signed_at == SIGNED_AT
    assert signature.certificate is not None
    assert AGENCY.seal_name in signature.certificate.subject
    assert signature.certificate.serial_number == format(pki().leaf.serial_number, "x")
    assert report.metadata["licenceNumber"] == DOCS[kind].serial


def test_qpdf_finds_the_signed_file_clean() -> None:
    result = run_tool(["qpdf", "--check", "{pdf}"], signed(KIND_RIGHT))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors" in result.stdout


def test_signature_dictionary_is_a_standard_one() -> None:
    reader = PdfReader(io.BytesIO(signed(KIND_RIGHT)))
    form = reader.root_object["/AcroForm"]
    (field,) = form["/Fields"]
    field = field.get_object()
    assert field["/FT"] == "/Sig" and field["/T"] == "CertarchiveSeal1"
    assert form["/SigFlags"] == 3
    assert field.indirect_reference in [
        a.indirect_reference for a in (x.get_object() for x in reader.pages[0]["/Annots"])
    ]
    sig = field["/V"]
    assert sig["/Type"] == "/Sig"
    assert sig["/Filter"] == "/Adobe.PPKLite" and sig["/SubFilter"] == "/adbe.pkcs7.detached"
    assert sig["/Name"] == AGENCY.seal_name
    assert sig["/M"] == "D:20261121103000+08'00'"
    assert "/DocMDP" not in reader.root_object.get("/Perms", {})  # an approval signature
    assert len(sig["/Contents"]) == signer().container_size


def test_cms_carries_the_contract_structure() -> None:
    """RFC 5652 content types, SM3 and SM2-with-SM3, the three signed attributes and the
    chain, read with asn1crypto directly."""
    _, der = _parts(signed(KIND_RIGHT))
    info = cms.ContentInfo.load(der)
    assert info["content_type"].dotted == "1.2.840.113549.1.7.2"
    signed_data = info["content"]
    assert signed_data["encap_content_info"]["content_type"].dotted == "1.2.840.113549.1.7.1"
    assert signed_data["encap_content_info"]["content"].native is None  # detached
    assert [a["algorithm"].dotted for a in signed_data["digest_algorithms"]] == [
        "1.2.156.10197.1.401"
    ]
    (signer_info,) = signed_data["signer_infos"]
    assert signer_info["digest_algorithm"]["algorithm"].dotted == "1.2.156.10197.1.401"
    assert signer_info["signature_algorithm"]["algorithm"].dotted == "1.2.156.10197.1.501"
    assert sorted(a["type"].dotted for a in signer_info["signed_attrs"]) == [
        "1.2.840.113549.1.9.3",  # contentType
        "1.2.840.113549.1.9.4",  # messageDigest
        "1.2.840.113549.1.9.5",  # signingTime
    ]
    certs = sorted(c.chosen.dump() for c in signed_data["certificates"])  # a SET: DER order
    assert certs == sorted([pki().leaf.dump(), pki().root.dump()])


def test_padding_after_the_cms_is_zeros() -> None:
    pdf = signed(KIND_RIGHT)
    (signature,) = verify_pdf(pdf, trust()).signatures
    _, a, b, _ = signature.byte_range
    _, der = _parts(pdf)
    padding = pdf[a + 1 + 2 * len(der) : b - 1]
    assert padding and set(padding) == {ord("0")}


def test_pdfsig_names_the_signer_and_sees_the_whole_document_signed() -> None:
    result = run_tool(["pdfsig", "{pdf}"], signed(KIND_RIGHT))
    assert "Signature Field Name: CertarchiveSeal1" in result.stdout
    assert f"Signer Certificate Common Name: {AGENCY.seal_name}" in result.stdout
    assert "Signature Type: adbe.pkcs7.detached" in result.stdout
    assert "Total document signed" in result.stdout
    assert "Signing Time: Nov 21 2026" in result.stdout


def test_pyhanko_reads_the_signature_and_its_coverage() -> None:
    reader = PdfFileReader(io.BytesIO(signed(KIND_RIGHT)))
    (embedded,) = reader.embedded_signatures
    assert embedded.field_name == "CertarchiveSeal1"
    assert embedded.signer_cert.dump() == pki().leaf.dump()
    assert embedded.evaluate_signature_coverage() == SignatureCoverageLevel.ENTIRE_FILE


def test_openssl_checks_digest_signature_and_chain(tmp_path: Path) -> None:
    pdf = signed(KIND_RIGHT)
    data, der = _parts(pdf)
    attributes, signature, digest, certificate = cms_signature(der)
    (tmp_path / "ranges.bin").write_bytes(data)
    dgst = subprocess.run(
        ["openssl", "dgst", "-sm3", "-r", "ranges.bin"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert dgst.stdout.split()[0] == digest.hex()
    public_pem = pki().seal_key.public_key.to_pem()
    result = openssl_verify(tmp_path, public_pem, attributes, signature)
    assert result.returncode == 0 and "Signature Verified Successfully" in result.stdout
    flipped = attributes[:-1] + bytes([attributes[-1] ^ 1])
    assert openssl_verify(tmp_path, public_pem, flipped, signature).returncode != 0
    # The certificate in the file carries that key, and its chain verifies.
    (tmp_path / "leaf.pem").write_bytes(to_pem([certificate]))
    (tmp_path / "root.pem").write_bytes(to_pem([pki().root]))
    key = subprocess.run(
        ["openssl", "x509", "-in", "leaf.pem", "-noout", "-pubkey"],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    )
    assert key.stdout == public_pem
    chain = subprocess.run(
        [
            "openssl",
            "verify",
            "-vfyopt",
            "distid:1234567812345678",
            "-CAfile",
            "root.pem",
            "leaf.pem",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert chain.returncode == 0 and "leaf.pem: OK" in chain.stdout
    (tmp_path / "other-root.pem").write_bytes(to_pem([other_pki().root]))
    foreign = subprocess.run(
        [
            "openssl",
            "verify",
            "-vfyopt",
            "distid:1234567812345678",
            "-CAfile",
            "other-root.pem",
            "leaf.pem",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert foreign.returncode != 0


def test_openssl_parses_the_cms(tmp_path: Path) -> None:
    _, der = _parts(signed(KIND_PROOF))
    (tmp_path / "sig.der").write_bytes(der)
    result = subprocess.run(
        ["openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", "sig.der"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "contentType: pkcs7-signedData" in result.stdout
    assert "algorithm: sm3" in result.stdout and "SM2-with-SM3" in result.stdout


def test_gmssl_verifies_the_same_signature() -> None:
    """A second SM2 implementation, GmSSL's C library through gmssl-pyx."""
    data, der = _parts(signed(KIND_RIGHT))
    attributes, signature, digest, _ = cms_signature(der)
    public = pki().seal_key.public_key.to_bytes()[1:]
    assert gmssl_pyx.sm3_hash(data) == digest
    assert gmssl_pyx.sm2_verify(public, attributes, signature, signer_id=b"1234567812345678")
    assert not gmssl_pyx.sm2_verify(public, attributes + b"\x00", signature)
    assert sm3(data) == digest


def test_signing_a_signed_file_keeps_the_first_signature() -> None:
    first = signed(KIND_PROOF)
    twice = sign_pdf(first, signer(), "再次签章")
    assert twice.startswith(first)
    report = verify_pdf(twice, trust())
    assert report.valid, report.problems
    assert [s.revision for s in report.signatures] == [2, 3]
    assert [s.intact for s in report.signatures] == [True, True]
    assert report.signatures[0].byte_range == verify_pdf(first, trust()).signatures[0].byte_range
    fields = PdfReader(io.BytesIO(twice)).root_object["/AcroForm"]["/Fields"]
    assert [f.get_object()["/T"] for f in fields] == ["CertarchiveSeal1", "CertarchiveSeal2"]


# --- certificates: who may sign, chained to what -----------------------------------------


def test_a_signer_refuses_a_certificate_for_another_key() -> None:
    with raises_matching(CertificateError, "does not match the key"):
        Signer(pki().seal_key, other_pki().chain, AGENCY.seal_name)


def test_a_foreign_seal_is_not_trusted() -> None:
    foreign = sign_pdf(rendered(KIND_RIGHT), signer(other_pki()), "颁发", signed_at=SIGNED_AT)
    assert "not made by a trusted seal" in _problems(foreign)
    assert verify_pdf(foreign, trust(other_pki())).valid


def test_a_chain_that_does_not_lead_to_a_configured_root_is_refused() -> None:
    relying_on = Trust(seal_keys=(pki().seal_key.public_key,), roots=(other_pki().root,))
    assert "does not lead to a trusted root" in _problems(signed(KIND_RIGHT), relying_on)


def test_a_certificate_expired_at_signing_time_is_refused() -> None:
    expired = make_pki(
        valid_from=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        valid_until=datetime.datetime(2026, 6, 30, tzinfo=datetime.UTC),
    )
    pdf = sign_pdf(rendered(KIND_RIGHT), signer(expired), "颁发", signed_at=SIGNED_AT)
    assert "not valid at the signing time" in _problems(pdf, trust(expired))


def test_a_certificate_swapped_in_the_cms_breaks_the_signature() -> None:
    """The signer certificate replaced by one for another key under the same names, from a
    CA the verifier trusts as well."""
    pdf = signed(KIND_RIGHT)
    original = pki().leaf.dump()
    impostor = next(
        other
        for other in (make_pki() for _ in range(50))
        if len(other.leaf.dump()) == len(original)
    )
    tampered = pdf.replace(original.hex().encode(), impostor.leaf.dump().hex().encode())
    assert tampered != pdf and len(tampered) == len(pdf)
    both = Trust(
        seal_keys=(pki().seal_key.public_key, impostor.seal_key.public_key),
        roots=(pki().root, impostor.root),
    )
    assert ALTERED in _problems(tampered, both)


def test_offline_with_only_the_public_key_skips_the_chain() -> None:
    relying_on = Trust(seal_keys=(pki().seal_key.public_key,), check_chain=False)
    assert verify_pdf(signed(KIND_RIGHT), relying_on).valid


# --- tampering: each change is rejected, with its reason --------------------------------


def test_flipped_byte_in_the_signed_range_is_detected() -> None:
    pdf = bytearray(signed(KIND_RIGHT))
    pdf[len(pdf) // 3] ^= 0x01
    assert ALTERED in _problems(bytes(pdf))


def test_changed_padding_is_refused() -> None:
    pdf = signed(KIND_RIGHT)
    (signature,) = verify_pdf(pdf, trust()).signatures
    end = signature.byte_range[2] - 2  # the last padding digit, before ">"
    assert pdf[end : end + 1] == b"0"
    tampered = pdf[:end] + b"7" + pdf[end + 1 :]
    assert "non-zero bytes after its signature data" in _problems(tampered)


def test_same_length_edit_of_the_embedded_serial_is_detected() -> None:
    pdf = signed(KIND_RIGHT)
    edited = pdf.replace(b"0000123", b"0000999")
    assert edited != pdf and len(edited) == len(pdf)
    assert ALTERED in _problems(edited)


def _swapped(operand: object, before: bytes, after: bytes) -> object:
    """A string operand with ``before`` replaced by ``after``; anything else unchanged."""
    if isinstance(operand, TextStringObject):
        return ByteStringObject(operand.get_original_bytes().replace(before, after))
    if isinstance(operand, ByteStringObject):
        return ByteStringObject(bytes(operand).replace(before, after))
    return operand


def test_replaced_text_run_is_detected() -> None:
    """An editor replaces the serial on the data page in an (unsigned) incremental update."""

    def replace_text(writer: PdfWriter) -> None:
        page = writer.pages[1]
        _reference, codes = page_font(PdfReader(io.BytesIO(signed(KIND_RIGHT))), "0123")
        before = bytes(codes[char] for char in "0000123")  # the page subset's own codes
        after = bytes(codes[char] for char in "0000321")
        content = ContentStream(page.get_contents(), writer)
        operations = [
            ([_swapped(operand, before, after) for operand in operands], operator)
            for operands, operator in content.operations
        ]
        assert operations != content.operations
        content.operations = operations
        page.replace_contents(content)

    tampered = _incremental(signed(KIND_RIGHT), replace_text)
    assert CHANGED_AFTER in _problems(tampered)


def test_appended_page_is_detected() -> None:
    tampered = _incremental(signed(KIND_RIGHT), lambda writer: writer.add_blank_page())
    assert len(PdfReader(io.BytesIO(tampered)).pages) == 3
    assert CHANGED_AFTER in _problems(tampered)


def test_bytes_appended_after_the_last_signature_are_detected() -> None:
    assert CHANGED_AFTER in _problems(signed(KIND_RIGHT) + b"%extra\n")


def test_signature_removed_by_rewriting_the_file_is_detected(tmp_path: Path) -> None:
    """Field and widget dropped with pypdf, then qpdf rewrites only what is still reachable."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(signed(KIND_RIGHT))))
    del writer.root_object[NameObject("/AcroForm")]
    del writer.pages[0][NameObject("/Annots")]
    writer.write(tmp_path / "edited.pdf")
    subprocess.run(["qpdf", tmp_path / "edited.pdf", tmp_path / "stripped.pdf"], check=True)
    stripped = (tmp_path / "stripped.pdf").read_bytes()
    assert b"/Adobe.PPKLite" not in stripped
    assert UNSIGNED in _problems(stripped)


def test_signature_field_removed_in_an_update_is_detected() -> None:
    def strip(writer: PdfWriter) -> None:
        del writer.root_object[NameObject("/AcroForm")]
        del writer.pages[0][NameObject("/Annots")]

    assert CHANGED_AFTER in _problems(_incremental(signed(KIND_RIGHT), strip))


def test_truncation_to_the_unsigned_file_is_detected() -> None:
    assert UNSIGNED in _problems(signed(KIND_RIGHT)[: len(rendered(KIND_RIGHT))])


def test_byte_range_that_misses_the_contents_is_detected() -> None:
    pdf = signed(KIND_RIGHT)
    match = re.search(rb"/ByteRange \[0 (\d+) ", pdf)
    moved = str(int(match[1]) - 1).encode()
    assert len(moved) == len(match[1])
    tampered = pdf[: match.start(1)] + moved + pdf[match.end(1) :]
    assert "malformed byte range" in _problems(tampered)


def test_signature_value_replaced_is_detected() -> None:
    pdf = signed(KIND_RIGHT)
    start = pdf.index(b"/Contents <", len(rendered(KIND_RIGHT))) + len(b"/Contents <")
    tampered = pdf[:start] + b"0" * 256 + pdf[start + 256 :]
    assert "signature 1 cannot be read" in _problems(tampered)


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"hello",
        b"%PDF-1.7\n",
        b"%PDF-1.7\n/ByteRange [0 5 9999 3]",
        "文本".encode(),
        b"%PDF-1.4\n1 0 obj << /Type /Sig /Filter /Adobe.PPKLite /SubFilter "
        b"/adbe.pkcs7.detached /ByteRange [0 10 20 5] /Contents <zz> >> endobj\n%%EOF\n",
        b"%PDF-1.4\n1 0 obj << /Type /Sig /Filter /Adobe.PPKLite /SubFilter "
        b"/adbe.pkcs7.detached /ByteRange [0 81 85 20] /Contents <3080> >> endobj\n%%EOF\n",
    ],
)
def test_garbage_gives_a_report_not_an_exception(garbage: bytes) -> None:
    report = verify_pdf(garbage, trust())
    assert not report.valid and report.problems


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400), st.integers(min_value=0))
def test_verify_never_raises_on_mutated_files(noise: bytes, where: int) -> None:
    pdf = signed(KIND_PROOF)
    cut = where % len(pdf)
    report = verify_pdf(pdf[:cut] + noise + pdf[cut + len(noise) :], trust())
    assert report.valid == (not report.problems)
