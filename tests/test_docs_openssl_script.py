"""docs/verify-with-openssl.sh: what docs/ tells a bank to run, with OpenSSL and the shell
alone, accepts our files and refuses changed ones (H-5.1.2)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from certarchive.documents.model import KIND_PROOF, KIND_RIGHT
from certarchive.signing.certificates import to_pem
from tests.test_documents_fixtures import other_pki, pki, revoked, signed

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "verify-with-openssl.sh"


def _run(tmp_path: Path, pdf: bytes, root: bytes) -> subprocess.CompletedProcess:
    (tmp_path / "file.pdf").write_bytes(pdf)
    (tmp_path / "root.pem").write_bytes(root)
    return subprocess.run(
        ["sh", str(SCRIPT), "file.pdf", "root.pem"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("kind", [KIND_RIGHT, KIND_PROOF])
def test_the_script_accepts_issued_and_revoked_files(tmp_path: Path, kind: str) -> None:
    root = to_pem([pki().root])
    issued = _run(tmp_path, signed(kind), root)
    assert issued.returncode == 0, issued.stdout + issued.stderr
    assert "VALID: 1 signature(s)" in issued.stdout
    stamped = _run(tmp_path, revoked(kind), root)
    assert stamped.returncode == 0, stamped.stdout + stamped.stderr
    assert stamped.stdout.count(": valid, signed by") >= 2


def test_the_script_refuses_changed_files_and_foreign_roots(tmp_path: Path) -> None:
    pdf = signed(KIND_RIGHT)
    root = to_pem([pki().root])
    flipped = pdf[:5000] + bytes([pdf[5000] ^ 1]) + pdf[5001:]
    changed = _run(tmp_path, flipped, root)
    assert changed.returncode == 1 and "changed after signing" in changed.stdout
    appended = _run(tmp_path, pdf + b"%more\n", root)
    assert appended.returncode == 1 and "appended" in appended.stdout
    foreign = _run(tmp_path, pdf, to_pem([other_pki().root]))
    assert foreign.returncode == 1 and "does not chain" in foreign.stdout
    end = pdf.rindex(b">", 0, pdf.rindex(b"/M (D:"))  # the padding's last digit
    padded = _run(tmp_path, pdf[: end - 1] + b"1" + pdf[end:], root)
    assert padded.returncode == 1 and "non-zero bytes" in padded.stdout
