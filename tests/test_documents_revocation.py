"""Revocation (H-1.7, H-4.2): a visible watermark appended and sealed, the original kept."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from certarchive.documents.model import KIND_PROOF, KIND_RIGHT
from certarchive.documents.signature import sign_pdf
from certarchive.documents.stampdict import Revocation
from certarchive.documents.verify import verify_pdf
from tests.test_documents_fixtures import (
    AGENCY,
    CAUSE,
    REVOKED_ON,
    openssl_verify,
    page_image,
    pdftotext,
    revoked,
    run_tool,
    seal_key,
    signed,
    signed_parts,
)

KINDS = (KIND_RIGHT, KIND_PROOF)


@pytest.mark.parametrize("kind", KINDS)
def test_revoked_file_verifies_and_reports_the_revocation(kind: str) -> None:
    pdf = revoked(kind)
    assert pdf.startswith(signed(kind))  # append-only: the issued file is a prefix
    report = verify_pdf(pdf, seal_key().public_key)
    assert report.valid, report.problems
    assert report.revoked == Revocation(REVOKED_ON, CAUSE)
    first, second = report.signatures
    assert (
        first.byte_range == verify_pdf(signed(kind), seal_key().public_key).signatures[0].byte_range
    )
    assert first.intact and second.intact
    assert first.byte_range[2] + first.byte_range[3] == len(signed(kind)) < len(pdf)
    assert second.byte_range[2] + second.byte_range[3] == len(pdf)
    assert second.reason == f"注销：{CAUSE}"
    assert [first.revision, second.revision] == [2, 4]  # the stamp is revision 3


def test_openssl_still_verifies_the_original_signature_inside_the_revoked_file(
    tmp_path: Path,
) -> None:
    pdf = revoked(KIND_RIGHT)
    pem = seal_key().public_key.to_pem()
    for signature in verify_pdf(pdf, seal_key().public_key).signatures:
        data, der = signed_parts(pdf, signature.byte_range)
        result = openssl_verify(tmp_path, pem, data, der)
        assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_qpdf_finds_the_revoked_file_clean(kind: str) -> None:
    result = run_tool(["qpdf", "--check", "{pdf}"], revoked(kind))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors" in result.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_every_page_says_revoked_in_extractable_text(kind: str) -> None:
    pages = len(PdfReader(io.BytesIO(revoked(kind))).pages)
    for page in range(1, pages + 1):
        text = pdftotext(revoked(kind), "-f", str(page), "-l", str(page))
        assert "已注销" in text
        assert "2026年12月1日" in text and CAUSE in text
        assert "已注销" not in pdftotext(signed(kind), "-f", str(page), "-l", str(page))


def test_watermark_glyphs_are_embedded() -> None:
    result = run_tool(["pdffonts", "{pdf}"], revoked(KIND_RIGHT))
    rows = result.stdout.splitlines()[2:]
    assert len(rows) == 2  # the certificate's subset and the watermark's subset
    for row in rows:
        assert re.match(r"[A-Z]{6}\+WenQuanYi", row)
        assert row.split()[-5:-2] == ["yes", "yes", "yes"]


def _reddish(image) -> int:
    return sum(1 for r, g, b in image.get_flattened_data() if r > 200 and g < 190 and r - g > 40)


@pytest.mark.parametrize("page", [1, 2])
def test_watermark_is_visible_across_the_middle_of_each_page(page: int) -> None:
    before = page_image(signed(KIND_RIGHT), page, 30)
    after = page_image(revoked(KIND_RIGHT), page, 30)
    width, height = after.size
    middle = (width // 4, height // 3, 3 * width // 4, 2 * height // 3)
    assert _reddish(after.crop(middle)) > _reddish(before.crop(middle)) + 500


def test_an_unsealed_stamp_is_a_change_after_signing() -> None:
    """A stamp someone appended without the seal key is reported as a change."""
    stamped = revoked(KIND_PROOF)
    cut = stamped.rindex(b"%%EOF", 0, stamped.rindex(b"/Certarchive.SM2")) + len(b"%%EOF\n")
    report = verify_pdf(stamped[:cut], seal_key().public_key)
    assert not report.valid
    assert any("changed after signing" in problem for problem in report.problems)
    assert report.revoked is None


def test_only_a_revocation_stamp_may_sit_between_two_signatures() -> None:
    writer = PdfWriter(io.BytesIO(signed(KIND_RIGHT)), incremental=True)
    writer.add_blank_page()
    out = io.BytesIO()
    writer.write(out)
    resealed = sign_pdf(out.getvalue(), seal_key(), AGENCY.seal_name, "再次签章")
    report = verify_pdf(resealed, seal_key().public_key)
    assert all(signature.intact for signature in report.signatures)
    assert not report.valid
    assert any("other than a revocation stamp" in problem for problem in report.problems)
