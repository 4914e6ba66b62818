"""The seal's digital certificate (H-5.1.1): the demonstration CA that ``init`` creates, a
request to an outside CA (here OpenSSL's command line), importing what it issued, and
files signed under every certificate the seal has had verifying, online and offline."""

from __future__ import annotations

import datetime
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509

from certarchive.crypto.sm import SM2PrivateKey
from certarchive.services.certdata import read_file, store_file
from certarchive.services.issuance import certificate_document
from certarchive.services.permissions import SYSTEM
from certarchive.services.seals import seal_key
from certarchive.signing.certificates import (
    CA_PROFILE,
    SEAL_PROFILE,
    build_name,
    issue_certificate,
    load_certificates,
    to_pem,
)
from tests.earlier_format import sign_earlier_format
from tests.i18n_support import both_text, raises_matching

DISTID = "distid:1234567812345678"


@pytest.fixture
def demo(cli_run: Any) -> Any:
    result = cli_run("init", "--demo", "2")
    assert result.exit_code == 0, result.output
    return cli_run


def _openssl(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["openssl", *args], cwd=folder, capture_output=True, text=True, check=False
    )


def _first_certificate_file(runtime_of: Any, action: Any = None) -> bytes:
    """The first certificate's current file, after ``action(ctx, cert)`` if given."""
    runtime = runtime_of()

    def fetch(ctx: Any) -> bytes:
        cert = next(iter(ctx.agency().certificates.values()))
        if action is not None:
            action(ctx, cert)
        return read_file(ctx, cert)

    try:
        return runtime.run(fetch, SYSTEM)
    finally:
        runtime.close()


def test_init_gives_the_seal_a_demonstration_certificate(demo: Any, tmp_path: Path) -> None:
    shown = json.loads(demo("seal", "show", "--json").output)
    (certificate,) = shown["certificates"]
    assert certificate["source"] == "demo" and certificate["current"]
    assert shown["name"] in certificate["subject"] and "潢川县自然资源局" in certificate["subject"]
    assert "DEMO" in certificate["issuer"] and "演示" in certificate["issuer"]
    chain_file = tmp_path / "chain.pem"
    assert demo("seal", "certificate", "--out", str(chain_file)).exit_code == 0
    leaf, root = load_certificates(chain_file.read_bytes())
    (tmp_path / "leaf.pem").write_bytes(to_pem([leaf]))
    (tmp_path / "root.pem").write_bytes(to_pem([root]))
    verified = _openssl(tmp_path, "verify", "-vfyopt", DISTID, "-CAfile", "root.pem", "leaf.pem")
    assert verified.returncode == 0 and "leaf.pem: OK" in verified.stdout
    assert demo("seal", "export-public", "--out", str(tmp_path / "seal.pem")).exit_code == 0
    key = _openssl(tmp_path, "x509", "-in", "leaf.pem", "-noout", "-pubkey")
    assert key.stdout == (tmp_path / "seal.pem").read_text()
    text = _openssl(tmp_path, "x509", "-in", "leaf.pem", "-noout", "-text").stdout
    assert "SM2-with-SM3" in text and "Digital Signature, Non Repudiation" in text
    assert "CA:FALSE" in text


def test_issued_files_name_their_certificate(demo: Any, runtime_of: Any, tmp_path: Path) -> None:
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(_first_certificate_file(runtime_of))
    result = json.loads(demo("verify", str(pdf), "--json").output)
    assert result["result"] == "valid"
    assert result["signature"]["format"] == "standard"
    (signature,) = result["signature"]["signatures"]
    shown = json.loads(demo("seal", "show", "--json").output)["certificates"][0]
    assert signature["certificate"]["serial_number"] == shown["serial_number"]
    assert any(shown["serial_number"] in line for line in result["summary"])


def _outside_ca(folder: Path) -> None:
    """An SM2 root made by OpenSSL: ca.key and ca.crt in ``folder``."""
    assert _openssl(folder, "genpkey", "-algorithm", "SM2", "-out", "ca.key").returncode == 0
    made = _openssl(
        folder, "req", "-x509", "-new", "-key", "ca.key", "-sm3", "-sigopt", DISTID,
        "-subj", "/C=CN/O=Henan Test CA/CN=Henan Test SM2 Root", "-days", "3650",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "ca.crt",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr


def _issue_from_outside_ca(folder: Path, request: str, out: str) -> None:
    (folder / "ext.cnf").write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n"
    )
    issued = _openssl(
        folder, "x509", "-req", "-in", request, "-CA", "ca.crt", "-CAkey", "ca.key",
        "-sm3", "-sigopt", DISTID, "-vfyopt", DISTID, "-days", "730",
        "-extfile", "ext.cnf", "-out", out,
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr


def test_a_certificate_from_an_outside_ca_is_imported_and_used(
    demo: Any, runtime_of: Any, tmp_path: Path
) -> None:
    before = tmp_path / "before.pdf"
    before.write_bytes(_first_certificate_file(runtime_of))
    assert demo("seal", "request", "--out", str(tmp_path / "seal.csr")).exit_code == 0
    checked = _openssl(tmp_path, "req", "-in", "seal.csr", "-verify", "-vfyopt", DISTID, "-noout")
    assert checked.returncode == 0, checked.stderr
    subject = _openssl(tmp_path, "req", "-in", "seal.csr", "-noout", "-subject", "-nameopt",
                       "utf8").stdout  # fmt: skip
    assert "潢川县自然资源局不动产登记专用章" in subject and "潢川县自然资源局" in subject
    _outside_ca(tmp_path)
    _issue_from_outside_ca(tmp_path, "seal.csr", "seal.crt")
    imported = demo(
        "seal", "import", "--certificate", str(tmp_path / "seal.crt"),
        "--chain", str(tmp_path / "ca.crt"),
    )  # fmt: skip
    assert imported.exit_code == 0, imported.output
    shown = json.loads(demo("seal", "show", "--json").output)["certificates"]
    assert [c["source"] for c in shown] == ["demo", "imported"]
    assert [c["current"] for c in shown] == [False, True]
    assert "Henan Test SM2 Root" in shown[1]["issuer"]
    # A certificate issued now is signed under the imported certificate ...
    runtime = runtime_of()
    try:

        def reissue(ctx: Any) -> bytes:
            from certarchive.services import certificates

            cert = next(iter(ctx.agency().certificates.values()))
            new = certificates.reissue(ctx, cert, "更正 / corrected", {})
            agency = ctx.agency()
            return read_file(ctx, agency.certificates[agency.catalog.serial[new["serial"]]])

        after = runtime.run(reissue, SYSTEM)
    finally:
        runtime.close()
    (tmp_path / "after.pdf").write_bytes(after)
    result = json.loads(demo("verify", str(tmp_path / "after.pdf"), "--json").output)
    assert result["result"] == "valid", result["problems"]
    assert "Henan Test SM2 Root" in result["signature"]["signatures"][0]["certificate"]["issuer"]
    # ... and the file signed under the demonstration certificate still verifies.
    old = json.loads(demo("verify", str(before), "--json").output)
    assert old["signature"]["valid"], old["problems"]
    assert "DEMO" in old["signature"]["signatures"][0]["certificate"]["issuer"]
    # Offline, a bank with the new chain checks the new file with OpenSSL's root alone.
    chain = tmp_path / "chain.pem"
    demo("seal", "certificate", "--out", str(chain))
    offline = demo("verify", str(tmp_path / "after.pdf"), "--certificate", str(chain), "--json")
    assert offline.exit_code == 0, offline.output
    assert json.loads(offline.output)["revocation_status_checked"] is False


def _expired_chain(folder: Path, key_pem: bytes) -> None:
    """A chain whose leaf certifies the seal key but expired last year (made here)."""
    from certarchive.crypto.sm import SM2PublicKey

    key = SM2PublicKey.from_pem(key_pem)
    ca = SM2PrivateKey.generate()
    name = build_name({"country_name": "CN", "common_name": "Expired Test Root"})
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    root = issue_certificate(
        subject=name, subject_key=ca.public_key, issuer=name, issuer_key=ca,
        serial_number=1, not_before=start, not_after=start.replace(year=2040), profile=CA_PROFILE,
    )  # fmt: skip
    leaf = issue_certificate(
        subject=build_name({"country_name": "CN", "common_name": "expired seal"}),
        subject_key=key, issuer=name, issuer_key=ca, serial_number=2, not_before=start,
        not_after=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC), profile=SEAL_PROFILE,
    )  # fmt: skip
    (folder / "expired.pem").write_bytes(to_pem([leaf, root]))


def test_import_refuses_what_it_cannot_use(demo: Any, tmp_path: Path) -> None:
    """Each refusal exits 1, names why, and leaves the seal's certificates as they were."""
    _outside_ca(tmp_path)
    # a request for another key
    other = tmp_path / "other.key"
    assert _openssl(tmp_path, "genpkey", "-algorithm", "SM2", "-out", "other.key").returncode == 0
    made = _openssl(tmp_path, "req", "-new", "-key", str(other), "-sm3", "-sigopt", DISTID,
                    "-subj", "/CN=someone else", "-out", "other.csr")  # fmt: skip
    assert made.returncode == 0, made.stderr
    _issue_from_outside_ca(tmp_path, "other.csr", "other.crt")
    demo("seal", "request", "--out", str(tmp_path / "seal.csr"))
    _issue_from_outside_ca(tmp_path, "seal.csr", "seal.crt")
    demo("seal", "export-public", "--out", str(tmp_path / "seal.pem"))
    _expired_chain(tmp_path, (tmp_path / "seal.pem").read_bytes())
    (tmp_path / "garbage.pem").write_text(
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    )
    # a root that did not issue the certificate
    other_root = tmp_path / "other-root"
    other_root.mkdir()
    _outside_ca(other_root)
    cases = {
        "not for this seal's key": ["--certificate", "other.crt", "--chain", "ca.crt"],
        "lacks its root": ["--certificate", "seal.crt"],
        "does not lead to a trusted root": ["--certificate", "seal.crt", "--chain",
                                            "other-root/ca.crt"],
        "not valid at the signing time": ["--certificate", "expired.pem"],
        "not a valid X.509 certificate": ["--certificate", "garbage.pem"],
    }  # fmt: skip
    before = demo("seal", "show", "--json").output
    for reason, args in cases.items():
        paths = [str(tmp_path / a) if not a.startswith("--") else a for a in args]
        refused = demo("seal", "import", *paths)
        assert refused.exit_code == 1, (reason, refused.output)
        assert reason in refused.output, (reason, refused.output)
    assert demo("seal", "show", "--json").output == before


def test_files_of_the_earlier_format_keep_verifying(
    demo: Any, runtime_of: Any, tmp_path: Path
) -> None:
    """A certificate whose current file was signed before standard signatures: verify, the
    upload check and ``check`` accept it and say it is of the earlier format."""

    def as_earlier_release(ctx: Any, cert: Any) -> None:
        from certarchive.documents.render import render_certificate

        agency = ctx.agency(cert.agency)
        unsigned = render_certificate(certificate_document(ctx, cert))
        earlier = sign_earlier_format(unsigned, seal_key(ctx, agency), agency.seal.name)
        store_file(ctx, cert, earlier, "issued")

    pdf = tmp_path / "earlier.pdf"
    pdf.write_bytes(_first_certificate_file(runtime_of, as_earlier_release))
    assert b"/Certarchive.SM2" in pdf.read_bytes()
    result = json.loads(demo("verify", str(pdf), "--json").output)
    assert result["result"] == "valid", result["problems"]
    assert result["signature"]["format"] == "earlier"
    assert any("earlier format" in both_text(line) for line in result["summary"])
    key = tmp_path / "seal.pem"
    demo("seal", "export-public", "--out", str(key))
    offline = json.loads(demo("verify", str(pdf), "--public-key", str(key), "--json").output)
    assert offline["result"] == "valid" and offline["signature"]["format"] == "earlier"
    checked = demo("check")
    assert checked.exit_code == 0, checked.output
    assert "1 份现行文件为早期签名格式" in checked.output


def test_files_the_earlier_release_made_verify_offline(demo: Any) -> None:
    folder = Path(__file__).parent / "data" / "earlier"
    key = folder / "seal-public.pem"
    for name in ("right.pdf", "proof.pdf", "right-revoked.pdf"):
        result = demo("verify", str(folder / name), "--public-key", str(key), "--json")
        verdict = json.loads(result.output)
        assert verdict["signature"]["format"] == "earlier", verdict
        assert verdict["result"] == ("revoked" if "revoked" in name else "valid"), verdict


def test_offline_verification_says_revocation_was_not_checked(
    demo: Any, runtime_of: Any, tmp_path: Path
) -> None:
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(_first_certificate_file(runtime_of))
    chain = tmp_path / "chain.pem"
    demo("seal", "certificate", "--out", str(chain))
    words = demo("verify", str(pdf), "--certificate", str(chain))
    assert words.exit_code == 0
    assert "revocation" in words.output and "not checked" in words.output
    assert "是否已注销未核实" in words.output
    # Another registry's chain does not vouch for this file.
    other = tmp_path / "other"
    other.mkdir()
    _outside_ca(other)
    foreign = demo("verify", str(pdf), "--certificate", str(other / "ca.crt"), "--json")
    assert foreign.exit_code == 1
    assert json.loads(foreign.output)["result"] == "invalid"
    both = demo("verify", str(pdf), "--certificate", str(chain), "--public-key", str(chain))
    assert both.exit_code == 2


def test_a_revoked_file_verifies_with_its_revocation(
    demo: Any, runtime_of: Any, tmp_path: Path
) -> None:
    def revoke(ctx: Any, cert: Any) -> None:
        from certarchive.services import certificates

        certificates.revoke(ctx, cert, "transfer", "转移登记")

    pdf = tmp_path / "revoked.pdf"
    pdf.write_bytes(_first_certificate_file(runtime_of, revoke))
    result = json.loads(demo("verify", str(pdf), "--json").output)
    assert result["result"] == "revoked"
    assert result["signature"]["valid"] and len(result["signature"]["signatures"]) == 3
    assert result["revocation_stamp"]["cause"] == "转移登记"
    # The same file cut back to its issuing signature is the registry's earlier file.
    first = result["signature"]["signatures"][0]
    assert first["reason"] == "签发 / issued"


def test_certificates_load_as_x509() -> None:
    """The loader refuses more than a chain's worth and anything that is not a certificate."""
    from certarchive.signing.certificates import CertificateError

    with raises_matching(CertificateError, "too large"):
        load_certificates(b"x" * (300 * 1024))
    with raises_matching(CertificateError, "not a certificate"):
        load_certificates(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    assert isinstance(load_certificates(to_pem([_self_signed()]))[0], x509.Certificate)


def _self_signed() -> x509.Certificate:
    key = SM2PrivateKey.generate()
    name = build_name({"common_name": "x"})
    now = datetime.datetime.now(datetime.UTC)
    return issue_certificate(
        subject=name, subject_key=key.public_key, issuer=name, issuer_key=key, serial_number=9,
        not_before=now, not_after=now + datetime.timedelta(days=1), profile=CA_PROFILE,
    )  # fmt: skip
