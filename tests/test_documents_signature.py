"""The embedded SM2 seal signature (H-5.1): offline verification, openssl, tampering."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ContentStream, NameObject

from certarchive.documents.model import KIND_PROOF, KIND_RIGHT
from certarchive.documents.signature import sign_pdf
from certarchive.documents.verify import verify_pdf
from tests.test_documents_fixtures import (
    AGENCY,
    DOCS,
    SIGNED_AT,
    openssl_verify,
    other_key,
    rendered,
    run_tool,
    seal_key,
    signed,
    signed_parts,
)

ALTERED = "does not match the file"
CHANGED_AFTER = "changed after signing"
UNSIGNED = "carries no seal signature"


def _problems(pdf: bytes) -> str:
    report = verify_pdf(pdf, seal_key().public_key)
    assert not report.valid
    assert report.problems
    return "\n".join(report.problems)


def _incremental(pdf: bytes, change) -> bytes:
    """Apply ``change`` to a pypdf incremental writer: how an ordinary tool edits a PDF."""
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    assert out.getvalue().startswith(pdf)
    return out.getvalue()


@pytest.mark.parametrize("kind", [KIND_RIGHT, KIND_PROOF])
def test_signed_file_verifies_offline(kind: str) -> None:
    pdf = signed(kind)
    assert pdf.startswith(rendered(kind))  # append-only
    report = verify_pdf(pdf, seal_key().public_key)
    assert report.valid, report.problems
    assert report.problems == [] and report.revoked is None
    (signature,) = report.signatures
    zero, a, b, c = signature.byte_range
    assert zero == 0 and b + c == len(pdf) and pdf[a : a + 1] == b"<" and pdf[b - 1 : b] == b">"
    assert signature.intact and signature.revision == 2
    assert signature.fingerprint == seal_key().public_key.fingerprint()
    assert signature.signer_name == AGENCY.seal_name and signature.reason == "颁发"
    assert signature.signed_at == SIGNED_AT
    assert report.metadata["licenceNumber"] == DOCS[kind].serial


def test_qpdf_finds_the_signed_file_clean() -> None:
    result = run_tool(["qpdf", "--check", "{pdf}"], signed(KIND_RIGHT))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors" in result.stdout


def test_signature_dictionary_carries_the_declared_entries() -> None:
    reader = PdfReader(io.BytesIO(signed(KIND_RIGHT)))
    (field,) = reader.root_object["/AcroForm"]["/Fields"]
    field = field.get_object()
    assert field["/FT"] == "/Sig" and field["/T"] == "CertarchiveSeal1"
    assert reader.root_object["/AcroForm"]["/SigFlags"] == 3
    assert field.indirect_reference in [
        a.indirect_reference for a in (x.get_object() for x in reader.pages[0]["/Annots"])
    ]
    sig = field["/V"]
    assert sig["/Type"] == "/Sig"
    assert sig["/Filter"] == "/Certarchive.SM2" and sig["/SubFilter"] == "/certarchive.sm2.sm3"
    assert sig["/Name"] == AGENCY.seal_name
    assert sig["/M"] == "D:20261121103000+08'00'"
    assert sig["/Certarchive.KeyFingerprint"] == seal_key().public_key.fingerprint()
    assert len(sig["/Contents"]) == 128


def test_poppler_lists_the_signature_field() -> None:
    """A standard reader sees the field and time but cannot validate the custom handler."""
    result = run_tool(["pdfsig", "{pdf}"], signed(KIND_RIGHT))
    assert "Signature Field Name: CertarchiveSeal1" in result.stdout
    assert "Signing Time: Nov 21 2026" in result.stdout


def test_openssl_verifies_the_embedded_signature(tmp_path: Path) -> None:
    pdf = signed(KIND_RIGHT)
    (signature,) = verify_pdf(pdf, seal_key().public_key).signatures
    data, der = signed_parts(pdf, signature.byte_range)
    pem = seal_key().public_key.to_pem()
    result = openssl_verify(tmp_path, pem, data, der)
    assert result.returncode == 0 and "Signature Verified Successfully" in result.stdout
    flipped = data[:1000] + bytes([data[1000] ^ 1]) + data[1001:]
    assert openssl_verify(tmp_path, pem, flipped, der).returncode != 0


def test_signing_a_signed_file_keeps_the_first_signature() -> None:
    first = signed(KIND_PROOF)
    twice = sign_pdf(first, seal_key(), AGENCY.seal_name, "再次签章")
    assert twice.startswith(first)
    report = verify_pdf(twice, seal_key().public_key)
    assert report.valid, report.problems
    assert [s.revision for s in report.signatures] == [2, 3]
    assert [s.intact for s in report.signatures] == [True, True]
    assert (
        report.signatures[0].byte_range
        == verify_pdf(first, seal_key().public_key).signatures[0].byte_range
    )
    fields = PdfReader(io.BytesIO(twice)).root_object["/AcroForm"]["/Fields"]
    assert [f.get_object()["/T"] for f in fields] == ["CertarchiveSeal1", "CertarchiveSeal2"]


# --- tampering: each change is rejected, with its reason --------------------------------


def test_flipped_byte_in_the_signed_range_is_detected() -> None:
    pdf = bytearray(signed(KIND_RIGHT))
    pdf[len(pdf) // 3] ^= 0x01
    assert ALTERED in _problems(bytes(pdf))


def test_same_length_edit_of_the_embedded_serial_is_detected() -> None:
    pdf = signed(KIND_RIGHT)
    edited = pdf.replace(b"0000123", b"0000999")
    assert edited != pdf and len(edited) == len(pdf)
    assert ALTERED in _problems(edited)


def test_replaced_text_run_is_detected() -> None:
    """An editor replaces the serial on the data page in an (unsigned) incremental update."""

    def replace_text(writer: PdfWriter) -> None:
        page = writer.pages[1]
        data = page.get_contents().get_data()
        assert b"0000123" in data
        content = ContentStream(None, writer)
        content.set_data(data.replace(b"0000123", b"0000999"))
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
    assert b"/Certarchive.SM2" not in stripped
    assert UNSIGNED in _problems(stripped)


def test_signature_field_removed_in_an_update_is_detected() -> None:
    def strip(writer: PdfWriter) -> None:
        del writer.root_object[NameObject("/AcroForm")]
        del writer.pages[0][NameObject("/Annots")]

    assert CHANGED_AFTER in _problems(_incremental(signed(KIND_RIGHT), strip))


def test_truncation_to_the_unsigned_file_is_detected() -> None:
    assert UNSIGNED in _problems(signed(KIND_RIGHT)[: len(rendered(KIND_RIGHT))])


def test_signature_by_another_key_is_detected() -> None:
    forged = sign_pdf(rendered(KIND_RIGHT), other_key(), AGENCY.seal_name, "颁发")
    assert "made with another key" in _problems(forged)
    assert verify_pdf(forged, other_key().public_key).valid


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
    assert ALTERED in _problems(tampered)


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"hello",
        b"%PDF-1.7\n",
        b"%PDF-1.7\n/ByteRange [0 5 9999 3]",
        "文本".encode(),
        b"%PDF-1.4\n1 0 obj << /Type /Sig /Filter /Certarchive.SM2 /ByteRange [0 10 20 5] "
        b"/Contents <zz> >> endobj\n%%EOF\n",
    ],
)
def test_garbage_gives_a_report_not_an_exception(garbage: bytes) -> None:
    report = verify_pdf(garbage, seal_key().public_key)
    assert not report.valid and report.problems


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400), st.integers(min_value=0))
def test_verify_never_raises_on_mutated_files(noise: bytes, where: int) -> None:
    pdf = signed(KIND_PROOF)
    cut = where % len(pdf)
    report = verify_pdf(pdf[:cut] + noise + pdf[cut + len(noise) :], seal_key().public_key)
    assert report.valid == (not report.problems)
