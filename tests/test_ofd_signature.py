"""The sealed OFD package (GB/T 33190 §18, GB/T 38540): checked by our verifier and, part
by part, by tools that are not ours (lxml, asn1crypto read by hand, GmSSL, OpenSSL)."""

from __future__ import annotations

import base64
import datetime
import functools
import subprocess
from pathlib import Path

import gmssl_pyx
import pytest
from asn1crypto import core, pem, x509
from lxml import etree

from certarchive.documents.metadata import certificate_metadata
from certarchive.documents.model import KIND_PROOF, KIND_RIGHT
from certarchive.documents.verify import OFD, Trust
from certarchive.ofd.package import to_zip
from certarchive.ofd.sign import OfdSeal, seal_package
from certarchive.ofd.verify import verify_ofd
from certarchive.ofd.writer import write_ofd
from certarchive.signing.ses import make_seseal
from tests.i18n_support import both_text
from tests.ofd_support import NS, ofd_seal, rezip, schema_problems, seal_description, unzip
from tests.test_documents_fixtures import (
    DOCS,
    SIGNED_AT,
    other_pki,
    pki,
    signer,
    trust,
)

KINDS = (KIND_RIGHT, KIND_PROOF)
SIGNATURE = "Doc_0/Signs/Sign_0/Signature.xml"
SIGNED_VALUE = "Doc_0/Signs/Sign_0/SignedValue.dat"


@functools.cache
def sealed(kind: str) -> bytes:
    draft = write_ofd(DOCS[kind])
    return seal_package(draft.files, draft.stamps, ofd_seal(), SIGNED_AT)


def _ses(der: bytes) -> tuple[bytes, bytes, bytes, bytes, bytes]:
    """(DER of toSign, dataHash, signer certificate DER, algorithm OID, signature DER),
    read with asn1crypto's generic types only, not certarchive's structures."""
    outer = core.Sequence.load(der)
    to_sign = core.Sequence.load(outer[0].dump())
    data_hash = core.OctetBitString.load(to_sign[3].dump()).native
    certificate = core.OctetString.load(outer[1].dump()).native
    algorithm = core.ObjectIdentifier.load(outer[2].dump()).dotted
    signature = core.OctetBitString.load(outer[3].dump()).native
    return outer[0].dump(), data_hash, certificate, algorithm, signature


@pytest.mark.parametrize("kind", KINDS)
def test_a_sealed_package_verifies_and_reports_like_a_pdf(kind: str) -> None:
    report = verify_ofd(sealed(kind), trust())
    assert report.valid, report.problems
    (signature,) = report.signatures
    assert signature.format == OFD and signature.intact
    assert signature.signer_name == DOCS[kind].agency.seal_name
    assert signature.signed_at == SIGNED_AT
    assert report.metadata == certificate_metadata(DOCS[kind])
    assert report.revoked is None


@pytest.mark.parametrize("kind", KINDS)
def test_the_signature_parts_validate_against_the_schemas(kind: str) -> None:
    files = unzip(sealed(kind))
    assert {SIGNATURE, SIGNED_VALUE, "Doc_0/Signs/Signatures.xml"} <= set(files)
    assert schema_problems(files) == []


def test_every_file_but_the_signature_index_is_referenced_with_its_sm3() -> None:
    """GmSSL's SM3 of every protected file equals its CheckValue (base64)."""
    files = unzip(sealed(KIND_RIGHT))
    root = etree.fromstring(files[SIGNATURE])
    references = root.find("ofd:SignedInfo/ofd:References", NS)
    assert references.get("CheckMethod") == "1.2.156.10197.1.401"
    checked = {}
    for reference in references.iterfind("ofd:Reference", NS):
        name = reference.get("FileRef").lstrip("/")
        value = base64.b64decode(reference.findtext("ofd:CheckValue", namespaces=NS))
        checked[name] = gmssl_pyx.sm3_hash(files[name]) == value
    assert all(checked.values())
    left = set(files) - set(checked)
    assert left == {
        SIGNATURE,
        SIGNED_VALUE,
        "Doc_0/Signs/Signatures.xml",
        "Doc_0/Annots/Annotations.xml",  # empty until a revocation, then signed
    }


def test_the_ses_signature_verifies_with_gmssl_and_its_hash_is_of_signature_xml() -> None:
    files = unzip(sealed(KIND_RIGHT))
    to_sign, data_hash, cert_der, algorithm, signature = _ses(files[SIGNED_VALUE])
    assert algorithm == "1.2.156.10197.1.501"
    assert data_hash == gmssl_pyx.sm3_hash(files[SIGNATURE])
    certificate = x509.Certificate.load(cert_der)
    assert certificate.dump() == pki().leaf.dump()
    public = certificate.public_key["public_key"].native[1:]
    assert gmssl_pyx.sm2_verify(public, to_sign, signature, signer_id=b"1234567812345678")
    assert not gmssl_pyx.sm2_verify(public, to_sign + b"\x00", signature)


def _openssl_verify(folder: Path, cert_der: bytes, data: bytes, signature: bytes):
    spki = x509.Certificate.load(cert_der).public_key.dump()
    (folder / "key.pem").write_bytes(pem.armor("PUBLIC KEY", spki))
    (folder / "data.bin").write_bytes(data)
    (folder / "sig.der").write_bytes(signature)
    return subprocess.run(
        [
            "openssl", "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin",
            "-inkey", "key.pem", "-pkeyopt", "distid:1234567812345678",
            "-sigfile", "sig.der", "-in", "data.bin",
        ],
        capture_output=True, text=True, cwd=folder, check=False,
    )  # fmt: skip


def test_openssl_verifies_the_ses_signature_and_the_seal_makers_signature(
    tmp_path: Path,
) -> None:
    files = unzip(sealed(KIND_RIGHT))
    to_sign, _, cert_der, _, signature = _ses(files[SIGNED_VALUE])
    result = _openssl_verify(tmp_path, cert_der, to_sign, signature)
    assert result.returncode == 0 and "Signature Verified Successfully" in result.stdout
    assert _openssl_verify(tmp_path, cert_der, to_sign + b"x", signature).returncode != 0
    # The SESeal inside toSign: its maker (the CA) signs SEQUENCE {esealInfo, cert, alg}.
    eseal = core.Sequence.load(core.Sequence.load(to_sign)[1].dump())
    made = core.Sequence(contents=b"".join(eseal[i].dump() for i in range(3))).dump()
    maker_der = core.OctetString.load(eseal[1].dump()).native
    maker_signature = core.OctetBitString.load(eseal[3].dump()).native
    assert maker_der == pki().root.dump()
    result = _openssl_verify(tmp_path, maker_der, made, maker_signature)
    assert result.returncode == 0, result.stderr


def test_the_seseal_names_the_seal_and_carries_its_picture() -> None:
    to_sign = _ses(unzip(sealed(KIND_RIGHT))[SIGNED_VALUE])[0]
    eseal = core.Sequence.load(core.Sequence.load(to_sign)[1].dump())
    info = core.Sequence.load(eseal[0].dump())
    header = core.Sequence.load(info[0].dump())
    assert core.IA5String.load(header[0].dump()).native == "ES"
    assert core.Integer.load(header[1].dump()).native == 4
    assert core.IA5String.load(info[1].dump()).native == DOCS[KIND_RIGHT].agency.seal_number
    prop = core.Sequence.load(info[2].dump())
    assert core.UTF8String.load(prop[1].dump()).native == DOCS[KIND_RIGHT].agency.seal_name
    picture = core.Sequence.load(info[3].dump())
    assert core.IA5String.load(picture[0].dump()).native == "PNG"
    assert core.OctetString.load(picture[1].dump()).native.startswith(b"\x89PNG")


def test_the_stamp_annotation_is_where_the_pdf_stamps_the_seal() -> None:
    files = unzip(sealed(KIND_RIGHT))
    (stamp,) = etree.fromstring(files[SIGNATURE]).iterfind(".//ofd:StampAnnot", NS)
    document = etree.fromstring(files["Doc_0/Document.xml"])
    first_page = document.find("ofd:Pages/ofd:Page", NS).get("ID")
    assert stamp.get("PageRef") == first_page
    left, top, width, height = (float(v) for v in stamp.get("Boundary").split())
    # seal_page: centred 62 mm from the right edge, 188 + 7 mm from the top, 42 mm wide.
    assert (round(left + width / 2, 3), round(top + height / 2, 3)) == (148.0, 195.0)
    assert width == height == 42


def _mutations() -> list[str]:
    return sorted(unzip(sealed(KIND_RIGHT)))


@pytest.mark.parametrize("name", _mutations())
def test_a_changed_byte_in_any_file_is_refused(name: str) -> None:
    files = unzip(sealed(KIND_RIGHT))
    data = bytearray(files[name])
    where = len(data) // 2
    data[where] = data[where] ^ 0x01 if name.endswith((".dat", ".ttf")) else ord(" ")
    if bytes(data) == files[name]:
        data[where] = ord("\t")
    files[name] = bytes(data)
    report = verify_ofd(rezip(files), trust())
    assert not report.valid, name


@pytest.mark.parametrize("name", _mutations())
def test_a_removed_file_is_refused(name: str) -> None:
    files = unzip(sealed(KIND_RIGHT))
    del files[name]
    assert not verify_ofd(rezip(files), trust()).valid


def test_an_added_file_is_refused_naming_it() -> None:
    files = unzip(sealed(KIND_RIGHT))
    files["Doc_0/Res/extra.png"] = b"\x89PNG"
    report = verify_ofd(rezip(files), trust())
    assert not report.valid
    assert any("Doc_0/Res/extra.png" in problem for problem in map(both_text, report.problems))


def test_a_dropped_reference_is_refused() -> None:
    files = unzip(sealed(KIND_RIGHT))
    root = etree.fromstring(files[SIGNATURE])
    references = root.find("ofd:SignedInfo/ofd:References", NS)
    references.remove(references[0])
    files[SIGNATURE] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    report = verify_ofd(rezip(files), trust())
    assert not report.valid
    assert any("Signature.xml" in problem for problem in map(both_text, report.problems))


def test_a_foreign_seal_is_refused() -> None:
    draft = write_ofd(DOCS[KIND_RIGHT])
    foreign = seal_package(draft.files, draft.stamps, ofd_seal(other_pki()), SIGNED_AT)
    assert verify_ofd(foreign, trust(other_pki())).valid
    report = verify_ofd(foreign, trust())
    assert not report.valid
    assert any("trusted seal" in problem for problem in map(both_text, report.problems))


def test_a_seal_that_does_not_list_the_signing_certificate_is_refused() -> None:
    draft = write_ofd(DOCS[KIND_RIGHT])
    seal = ofd_seal(certificates=[other_pki().leaf])
    report = verify_ofd(seal_package(draft.files, draft.stamps, seal, SIGNED_AT), trust())
    assert not report.valid
    assert any("may be used with" in problem for problem in map(both_text, report.problems))


def test_a_seal_made_by_an_untrusted_maker_is_refused() -> None:
    """The SESeal lists our seal certificate and its maker's signature verifies, but the
    maker (another CA's key) is nobody the relying party trusts: not a seal (H-5.1.1)."""
    stranger = other_pki()
    seseal = make_seseal(seal_description(), [pki().leaf], stranger.ca_key, stranger.root)
    draft = write_ofd(DOCS[KIND_RIGHT])
    package = seal_package(draft.files, draft.stamps, OfdSeal(signer(), seseal), SIGNED_AT)
    report = verify_ofd(package, trust())
    assert not report.valid
    assert any("seal maker's certificate is not trusted" in both_text(p) for p in report.problems)
    assert any("trusted root" in both_text(p) for p in report.problems)
    # the same package for a relying party that also trusts that maker's root
    both = Trust(seal_keys=trust().seal_keys, roots=(pki().root, stranger.root))
    assert verify_ofd(package, both).valid


def test_a_seal_expired_at_signing_time_is_refused() -> None:
    draft = write_ofd(DOCS[KIND_RIGHT])
    seal = ofd_seal(valid_to=SIGNED_AT - datetime.timedelta(days=1))
    report = verify_ofd(seal_package(draft.files, draft.stamps, seal, SIGNED_AT), trust())
    assert not report.valid
    assert any("seal was not valid" in problem for problem in map(both_text, report.problems))


def test_an_unsigned_package_and_garbage_are_refused_in_words() -> None:
    unsigned = verify_ofd(to_zip(write_ofd(DOCS[KIND_RIGHT]).files), trust())
    assert not unsigned.valid and "no seal signature" in " ".join(map(both_text, unsigned.problems))
    garbage = verify_ofd(b"PK\x03\x04 not really", trust())
    assert not garbage.valid and "不是OFD文件" in garbage.problems[0]


def test_a_changed_byte_anywhere_is_refused_in_words_never_an_exception() -> None:
    """Every 97th byte of a sealed package flipped in turn (zip headers, deflated parts
    whose stream then breaks, the central directory): each copy is refused with a
    problem in words, a broken deflate stream (zlib.error) among them, unless the flip
    hit zip bookkeeping that no file's content depends on (a time stamp), which the
    signature does not cover and the files read back unchanged."""
    package = sealed(KIND_RIGHT)
    unreadable = 0
    for position in range(0, len(package), 97):
        changed = bytearray(package)
        changed[position] ^= 0xFF
        report = verify_ofd(bytes(changed), trust())
        if report.valid:
            assert unzip(bytes(changed)) == unzip(package), position
            continue
        assert report.problems, position
        unreadable += any("无法读取" in str(problem) for problem in report.problems)
    assert unreadable > 0  # some flips land in a deflate stream and break it
