"""Offline verification of an OFD certificate package, in the PDF verifier's report shape.

For each signature listed by ``Signatures.xml``, in order:

* every Reference's file exists and its SM3 is the CheckValue (GB/T 33190 §18);
* ``SignedValue.dat`` is a GB/T 38540 SES_Signature whose ``dataHash`` is the SM3 of the
  ``Signature.xml`` bytes and whose SM2 signature over ``toSign`` verifies with the
  certificate it carries; its SESeal is version 4, signed by its maker, lists that
  certificate and was valid at the signing time (:mod:`certarchive.signing.ses`);
* the certificate's key is a seal key the caller trusts and, where roots are given, it
  chains to one of them (:func:`certarchive.signing.chain.check_path`, as for PDFs).

Then the package as a whole: every file must be covered by the last signature, except
``Signatures.xml``, the last signature's own two files and an annotation index that
lists nothing (see :mod:`.sign`); a file added, or a protected file removed, is refused.
A 已注销 watermark covered by a later signature makes the revocation authentic (H-1.7).
Malformed input yields ``valid=False`` and the reason, never an exception.
"""

from __future__ import annotations

import base64
import binascii
import datetime

from certarchive.crypto.sm import sm3
from certarchive.documents.metadata import FIELD_NAMES
from certarchive.documents.stampdict import Revocation
from certarchive.documents.verify import OFD, SignatureResult, Trust, VerificationReport
from certarchive.i18n import _, message_of
from certarchive.ofd.package import PackageError, parse_xml, read_zip
from certarchive.ofd.sign import EMPTY_ANNOTATIONS, SIGNATURES, signatures_index
from certarchive.ofd.writer import ANNOTATIONS, OFD_XML
from certarchive.ofd.xml import q
from certarchive.signing.certificates import CertificateSummary, public_key_of
from certarchive.signing.chain import check_path
from certarchive.signing.ses import SesError, maker_problems, read_ses_signature

#: More signatures than a certificate package has (issue, revoke): stop early.
MAX_SIGNATURES = 8
_SM3_NAMES = ("SM3", "1.2.156.10197.1.401")
#: Annotation parameters that record a revocation (written by :mod:`.revoke`).
REVOKED_ON, CAUSE = "certarchive.revokedOn", "certarchive.cause"


def _path(location: str | None) -> str:
    return (location or "").strip().lstrip("/")


def _xml(files: dict[str, bytes], name: str):
    if name not in files:
        raise PackageError(_("OFD包缺少${name}", mapping={"name": name}))
    return parse_xml(files[name], name)


def _metadata(ofd_root) -> dict[str, str]:
    info = ofd_root.find(f"{q('DocBody')}/{q('DocInfo')}")
    if info is None:
        return {}
    return {
        node.get("Name"): node.text or ""
        for node in info.iterfind(f"{q('CustomDatas')}/{q('CustomData')}")
        if node.get("Name") in FIELD_NAMES
    }


def _check_references(files: dict[str, bytes], info, number: int, problems: list[str]) -> set[str]:
    references = info.find(q("References"))
    if references is None or references.get("CheckMethod", "MD5") not in _SM3_NAMES:
        problems.append(_("第${number}个签名的摘要算法不是SM3", mapping={"number": number}))
        return set()
    covered = set()
    for reference in references.iterfind(q("Reference")):
        name = _path(reference.get("FileRef"))
        covered.add(name)
        try:
            expected = base64.b64decode(reference.findtext(q("CheckValue")) or "", validate=True)
        except (binascii.Error, ValueError):
            expected = b""
        if name not in files:
            problems.append(_("签名保护的文件缺失：${name}", mapping={"name": name}))
        elif sm3(files[name]) != expected:
            problems.append(_("文件在签名后被修改：${name}", mapping={"name": name}))
    return covered


def _check_signer(found, trust: Trust, number: int, problems: list[str]) -> None:
    key = public_key_of(found.certificate)
    if key not in trust.seal_keys:
        problems.append(_("第${number}个签名不是受信任的电子印章所签", mapping={"number": number}))
    if trust.check_chain:
        problems += check_path(found.certificate, trust.intermediates, trust.roots, found.signed_at)
        if not found.problems:  # the seal read and verified: whoever made it must be trusted
            problems += maker_problems(
                found.seal, trust.roots, trust.intermediates, found.signed_at
            )


def _signature(
    files: dict[str, bytes], location: str, number: int, trust: Trust, report: VerificationReport
) -> tuple[set[str], set[str], SignatureResult | None]:
    """(files the signature references, its own two files, its result if readable)."""
    problems = report.problems
    before = len(problems)
    root = _xml(files, location)
    info = root.find(q("SignedInfo"))
    if info is None:
        raise PackageError(_("${location} 缺少SignedInfo", mapping={"location": location}))
    covered = _check_references(files, info, number, problems)
    value_name = _path(root.findtext(q("SignedValue")))
    if value_name not in files:
        raise PackageError(_("OFD包缺少签名值 ${value_name}", mapping={"value_name": value_name}))
    try:
        found = read_ses_signature(files[value_name])
    except SesError as error:
        problems.append(message_of(error))
        return covered, {location, value_name}, None
    problems += found.problems
    if found.data_hash != sm3(files[location]):
        problems.append(_("第${number}个签名的签名描述文件被修改", mapping={"number": number}))
    _check_signer(found, trust, number, problems)
    seal_name = found.seal["eseal_info"]["property"]["name"].native
    result = SignatureResult(
        revision=number,
        byte_range=(0, 0, 0, 0),
        format=OFD,
        signer_name=seal_name,
        reason="",
        signed_at=found.signed_at,
        intact=len(problems) == before,
        certificate=CertificateSummary.of(found.certificate),
    )
    return covered, {location, value_name}, result


def _coverage(files: dict[str, bytes], last_covered: set[str], own: set[str]) -> list[str]:
    """Every file is covered by the last signature but the few that cannot be, and those
    must be exactly what the signing wrote, so that no byte anywhere changes unseen."""
    allowed = last_covered | own | {SIGNATURES}
    problems = []
    if ANNOTATIONS not in last_covered:
        if ANNOTATIONS not in files:
            problems.append(
                _("签名保护的文件缺失：${annotations}", mapping={"annotations": ANNOTATIONS})
            )
        elif files[ANNOTATIONS] == EMPTY_ANNOTATIONS:
            allowed.add(ANNOTATIONS)
    return problems + [
        _("文件未受最后一个签名保护（签名后添加）：${name}", mapping={"name": name})
        for name in sorted(set(files) - allowed)
    ]


def _revocation(files: dict[str, bytes], covered_later: set[str]) -> Revocation | None:
    """The revocation recorded in a watermark that a later signature covers, if any."""
    if ANNOTATIONS not in covered_later or ANNOTATIONS not in files:
        return None
    index = parse_xml(files[ANNOTATIONS], ANNOTATIONS)
    for page in index.iterfind(q("Page")):
        name = _path(f"Doc_0/Annots/{_path(page.findtext(q('FileLoc')))}")
        if name not in covered_later or name not in files:
            continue
        for annot in parse_xml(files[name], name).iterfind(q("Annot")):
            params = {
                node.get("Name"): node.text or ""
                for node in annot.iterfind(f"{q('Parameters')}/{q('Parameter')}")
            }
            if annot.get("Type") == "Watermark" and REVOKED_ON in params:
                try:
                    day = datetime.date.fromisoformat(params[REVOKED_ON])
                except ValueError:
                    continue
                return Revocation(revoked_on=day, cause=params.get(CAUSE, ""))
    return None


def _check_package(files: dict[str, bytes], trust: Trust, report: VerificationReport) -> None:
    ofd_root = _xml(files, OFD_XML)
    report.metadata = _metadata(ofd_root)
    index_name = _path(ofd_root.findtext(f"{q('DocBody')}/{q('Signatures')}"))
    if not index_name:
        report.problems.append(_("文件没有电子印章签名"))
        return
    locations = [
        _path(node.get("BaseLoc")) for node in _xml(files, index_name).iter(q("Signature"))
    ]
    if not locations:
        report.problems.append(_("文件没有电子印章签名"))
        return
    if len(locations) > MAX_SIGNATURES:
        report.problems.append(_("签名数量过多"))
        return
    if files[index_name] != signatures_index(len(locations)):
        report.problems.append(_("签名列表与其所列签名不符"))
    covered: set[str] = set()
    own: set[str] = set()
    for number, location in enumerate(locations, start=1):
        covered, own, result = _signature(files, location, number, trust, report)
        if result is not None:
            report.signatures.append(result)
    report.problems += _coverage(files, covered, own)
    if len(locations) > 1:
        report.revoked = _revocation(files, covered)
    if not report.metadata:
        report.problems.append(_("文件缺少证照元数据"))


def is_ofd(data: bytes) -> bool:
    """Whether ``data`` looks like an OFD package (a zip) rather than a PDF."""
    return data[:4] == b"PK\x03\x04"


def verify_ofd(data: bytes, trust: Trust) -> VerificationReport:
    """Verify an OFD package with what ``trust`` gives; never raises for bad input."""
    report = VerificationReport(valid=False)
    try:
        files = read_zip(data)
        _check_package(files, trust, report)
    except PackageError as error:
        report.problems.append(message_of(error))
    report.valid = not report.problems
    return report
