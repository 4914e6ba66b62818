"""docs/verify-with-openssl.sh and docs/verify-ofd-with-openssl.sh: what docs/ tells a
bank to run, with OpenSSL and the shell alone, accepts our PDF and OFD files and refuses
changed ones (H-5.1.2)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from certarchive.documents.model import KIND_PROOF, KIND_RIGHT
from certarchive.ofd.revoke import revoke_package
from certarchive.ofd.sign import OfdSeal, seal_package
from certarchive.ofd.writer import write_ofd
from certarchive.signing.certificates import to_pem
from certarchive.signing.ses import make_seseal
from tests.ofd_support import ofd_seal, rezip, seal_description, unzip
from tests.test_documents_fixtures import DOCS, SIGNED_AT, other_pki, pki, revoked, signed, signer
from tests.test_ofd_revocation import REVOCATION, REVOKED_AT
from tests.test_ofd_signature import SIGNED_VALUE, sealed

DOCS_DIR = Path(__file__).resolve().parents[1] / "docs"
SCRIPT = DOCS_DIR / "verify-with-openssl.sh"
OFD_SCRIPT = DOCS_DIR / "verify-ofd-with-openssl.sh"


def _run(
    tmp_path: Path, data: bytes, root: bytes, script: Path = SCRIPT
) -> subprocess.CompletedProcess:
    name = "file.ofd" if script == OFD_SCRIPT else "file.pdf"
    (tmp_path / name).write_bytes(data)
    (tmp_path / "root.pem").write_bytes(root)
    return subprocess.run(
        ["sh", str(script), name, "root.pem"],
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


def _ofd(tmp_path: Path, package: bytes, root: bytes | None = None) -> subprocess.CompletedProcess:
    return _run(tmp_path, package, root or to_pem([pki().root]), OFD_SCRIPT)


@pytest.mark.parametrize("kind", [KIND_RIGHT, KIND_PROOF])
def test_the_ofd_script_accepts_issued_and_revoked_packages(tmp_path: Path, kind: str) -> None:
    issued = _ofd(tmp_path, sealed(kind))
    assert issued.returncode == 0, issued.stdout + issued.stderr
    assert "VALID: 1 signature(s)" in issued.stdout and "不动产登记专用章" in issued.stdout
    stamped = _ofd(tmp_path, revoke_package(sealed(kind), ofd_seal(), REVOCATION, REVOKED_AT))
    assert stamped.returncode == 0, stamped.stdout + stamped.stderr
    assert "VALID: 2 signature(s)" in stamped.stdout


def test_the_ofd_script_refuses_changed_packages_and_untrusted_seals(tmp_path: Path) -> None:
    files = unzip(sealed(KIND_RIGHT))
    page = "Doc_0/Pages/Page_1/Content.xml"
    changed = dict(files, **{page: files[page].replace(b"</ofd:Page>", b" </ofd:Page>")})
    added = dict(files, **{"Doc_0/Res/extra.png": b"\x89PNG"})
    removed = {name: data for name, data in files.items() if name != page}
    ses = bytearray(files[SIGNED_VALUE])
    ses[-3] ^= 0x01  # inside the SM2 signature
    forged = dict(files, **{SIGNED_VALUE: bytes(ses)})
    stranger = other_pki()
    untrusted = make_seseal(seal_description(), [pki().leaf], stranger.ca_key, stranger.root)
    draft = write_ofd(DOCS[KIND_RIGHT])
    made_by_stranger = seal_package(
        draft.files, draft.stamps, OfdSeal(signer(), untrusted), SIGNED_AT
    )
    revoked_files = unzip(revoke_package(sealed(KIND_RIGHT), ofd_seal(), REVOCATION, REVOKED_AT))
    stripped = dict(
        revoked_files, **{"Doc_0/Signs/Signatures.xml": files["Doc_0/Signs/Signatures.xml"]}
    )
    cases = {
        "was changed after signing": rezip(changed),
        "extra.png is not covered": rezip(added),
        "is missing": rezip(removed),
        "SM2 signature does not verify": rezip(forged),
        "seal's maker does not chain": made_by_stranger,
        "is not covered by the last signature": rezip(stripped),  # the revocation cut off
        "not a zip package": b"PK not really",
    }
    for words, package in cases.items():
        result = _ofd(tmp_path, package)
        assert result.returncode == 1 and words in result.stdout, (words, result.stdout)
    foreign = _ofd(tmp_path, sealed(KIND_RIGHT), to_pem([stranger.root]))
    assert foreign.returncode == 1 and "does not chain" in foreign.stdout
