"""Revocation (H-1.7, H-4.2): a visible watermark appended and sealed, the original kept,
and the update classed by standard validators as an allowed change (form filling)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel
from pyhanko.sign.validation.pdf_embedded import SignatureCoverageLevel
from pypdf import PdfReader, PdfWriter

from certarchive.documents import render
from certarchive.documents.model import KIND_PROOF, KIND_RIGHT
from certarchive.documents.signature import sign_pdf
from certarchive.documents.stampdict import Revocation
from certarchive.documents.verify import verify_pdf
from certarchive.documents.watermark import stamp_revoked
from tests.i18n_support import both_text
from tests.test_documents_fixtures import (
    AGENCY,
    CAUSE,
    DOCS,
    REVOKED_ON,
    cms_signature,
    openssl_verify,
    page_image,
    pdftotext,
    revoked,
    run_tool,
    seal_key,
    signed,
    signed_parts,
    signer,
    trust,
)

KINDS = (KIND_RIGHT, KIND_PROOF)


@pytest.mark.parametrize("kind", KINDS)
def test_revoked_file_verifies_and_reports_the_revocation(kind: str) -> None:
    pdf = revoked(kind)
    assert pdf.startswith(signed(kind))  # append-only: the issued file is a prefix
    report = verify_pdf(pdf, trust())
    assert report.valid, report.problems
    assert report.revoked == Revocation(REVOKED_ON, CAUSE)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    first, *stamps = report.signatures
    assert len(stamps) == pages  # one approval signature per watermarked page
    assert first.byte_range == verify_pdf(signed(kind), trust()).signatures[0].byte_range
    assert all(signature.intact for signature in report.signatures)
    assert first.byte_range[2] + first.byte_range[3] == len(signed(kind)) < len(pdf)
    assert stamps[-1].byte_range[2] + stamps[-1].byte_range[3] == len(pdf)
    assert {stamp.reason for stamp in stamps} == {f"注销：{CAUSE}"}
    assert [s.revision for s in report.signatures] == list(range(2, pages + 3))


def test_openssl_verifies_every_signature_inside_the_revoked_file(tmp_path: Path) -> None:
    pdf = revoked(KIND_RIGHT)
    pem = seal_key().public_key.to_pem()
    for signature in verify_pdf(pdf, trust()).signatures:
        data, der = signed_parts(pdf, signature.byte_range)
        attributes, value, digest, _ = cms_signature(der)
        (tmp_path / "ranges.bin").write_bytes(data)
        result = openssl_verify(tmp_path, pem, attributes, value)
        assert result.returncode == 0, result.stderr
        dgst = run_tool(["openssl", "dgst", "-sm3", "-r", "{pdf}"], data, name="ranges.bin")
        assert dgst.stdout.split()[0] == digest.hex()


@pytest.mark.parametrize("kind", KINDS)
def test_pyhanko_accepts_the_revocation_as_form_filling(kind: str) -> None:
    """pyHanko's default difference policy: every signature's later changes are at most
    form filling (new signature fields with their appearances, and their signing)."""
    reader = PdfFileReader(io.BytesIO(revoked(kind)))
    signatures = reader.embedded_signatures
    assert signatures[0].field_name == "CertarchiveSeal1"
    assert len(signatures) == 1 + len(reader.root["/Pages"]["/Kids"])
    *earlier, last = signatures
    assert last.evaluate_signature_coverage() == SignatureCoverageLevel.ENTIRE_FILE
    for embedded in earlier:
        embedded.coverage = embedded.evaluate_signature_coverage()
        assert embedded.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        result = embedded.evaluate_modifications(DEFAULT_DIFF_POLICY)
        assert not isinstance(result, Exception), result
        assert result.modification_level == ModificationLevel.FORM_FILLING


def test_pdfsig_sees_every_signature_and_the_last_covering_everything() -> None:
    result = run_tool(["pdfsig", "{pdf}"], revoked(KIND_RIGHT))
    blocks = result.stdout.split("Signature #")[1:]
    assert len(blocks) == 3
    for block in blocks:
        assert f"Signer Certificate Common Name: {AGENCY.seal_name}" in block
        assert "adbe.pkcs7.detached" in block
    assert "Not total document signed" in blocks[0]
    assert "Total document signed" in blocks[-1] and "Not total" not in blocks[-1]


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


def _font_rows(pdf: bytes) -> list[str]:
    rows = run_tool(["pdffonts", "{pdf}"], pdf).stdout.splitlines()[2:]
    for row in rows:
        assert re.match(r"[A-Z]{6}\+WenQuanYi", row)
        assert row.split()[-5:-2] == ["yes", "yes", "yes"]  # embedded, subset, ToUnicode
    return rows


def test_watermark_draws_with_the_page_font_subset() -> None:
    """Issue #18: the issued file's subset holds the stamp's characters, so the stamp
    embeds no second subset."""
    assert len(_font_rows(revoked(KIND_RIGHT))) == 1
    assert len(revoked(KIND_RIGHT)) - len(signed(KIND_RIGHT)) < 10_000


def test_a_file_without_the_stamp_characters_gets_a_subset_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file issued before issue #18 (no characters reserved): the stamp embeds its own
    subset, under a subset name of its own (issue #12)."""
    monkeypatch.setattr(render, "reserve", lambda *_args: None)
    earlier = sign_pdf(render.render_certificate(DOCS[KIND_RIGHT]), signer(), "颁发")
    stamped = stamp_revoked(earlier, signer(), REVOKED_ON, CAUSE)
    assert verify_pdf(stamped, trust()).valid
    rows = _font_rows(stamped)
    assert len(rows) == 2 and len({row.split()[0] for row in rows}) == 2
    assert "已注销" in pdftotext(stamped)


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
    """The last page's approval signature cut off: its field is a change nobody sealed."""
    stamped = revoked(KIND_PROOF)
    report = verify_pdf(stamped, trust())
    last = report.signatures[-1]
    cut = stamped.rindex(b"%%EOF", 0, last.byte_range[1]) + len(b"%%EOF\n")
    truncated = verify_pdf(stamped[:cut] + stamped[last.byte_range[2] :], trust())
    assert not truncated.valid


def test_stripping_the_revocation_leaves_the_issued_file() -> None:
    """Offline, a file cut back to its issuing signature is the issued file again: only the
    registry knows it was revoked (the CLI says revocation was not checked)."""
    stamped = revoked(KIND_RIGHT)
    first = verify_pdf(stamped, trust()).signatures[0]
    stripped = stamped[: first.byte_range[2] + first.byte_range[3]]
    assert stripped == signed(KIND_RIGHT)
    report = verify_pdf(stripped, trust())
    assert report.valid and report.revoked is None


def test_only_a_revocation_stamp_may_sit_between_two_signatures() -> None:
    writer = PdfWriter(io.BytesIO(signed(KIND_RIGHT)), incremental=True)
    writer.add_blank_page()
    out = io.BytesIO()
    writer.write(out)
    resealed = sign_pdf(out.getvalue(), signer(), "再次签章")
    report = verify_pdf(resealed, trust())
    assert all(signature.intact for signature in report.signatures)
    assert not report.valid
    assert any("other than a revocation stamp" in both_text(p) for p in report.problems)
