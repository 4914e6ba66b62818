"""``certarchive check``: recompute every stored digest and compare file with registry.

H-5.2.2 stores the SM3 digest of each version's canonical data and of each file; H-5.2.6
requires the metadata inside a certificate file to agree with the registry.  This walks
every certificate, decrypts and re-digests each version and each file, verifies the
current file's signatures as a relying party would (H-5.1.2; files of the earlier format
are named as such), compares its embedded metadata, and names every object that differs.
"""

from __future__ import annotations

from dataclasses import dataclass

from certarchive.content.casefile import CaseFile
from certarchive.content.certificate import Certificate
from certarchive.crypto.sm import DecryptionError, sm3_hex
from certarchive.documents.metadata import certificate_metadata, compare_metadata
from certarchive.documents.verify import EARLIER, Trust, verify_pdf
from certarchive.findings import Findings
from certarchive.services.case_documents import document_bytes
from certarchive.services.certdata import data_digest, read_data, read_file
from certarchive.services.context import Context
from certarchive.services.issuance import certificate_document
from certarchive.services.seals import registry_trust


@dataclass
class IntegrityReport(Findings):
    certificates: int = 0
    versions: int = 0
    files: int = 0
    documents: int = 0
    earlier_format: int = 0  # current files signed in the format before standard signatures


def _check_certificate(
    ctx: Context, cert: Certificate, trust: Trust, report: IntegrityReport
) -> None:
    label = cert.serial or cert.id
    for version in cert.versions:
        report.versions += 1
        try:
            digest = data_digest(read_data(ctx, cert, version["number"]))
        except DecryptionError:
            report.problems.append(f"{label} 版本 {version['number']}: 无法解密 / does not decrypt")
            continue
        if digest != version["digest"]:
            report.problems.append(f"{label} 版本 {version['number']}: 摘要不符 / digest differs")
    for file in cert.files:
        report.files += 1
        try:
            pdf = read_file(ctx, cert, file["number"])
        except DecryptionError:
            report.problems.append(f"{label} 文件 {file['number']}: 无法解密 / does not decrypt")
            continue
        if sm3_hex(pdf) != file["digest"]:
            report.problems.append(f"{label} 文件 {file['number']}: 摘要不符 / digest differs")
        elif file["number"] == len(cert.files) and cert.state != "draft":
            _check_current_file(ctx, cert, pdf, trust, report)


def _check_current_file(
    ctx: Context, cert: Certificate, pdf: bytes, trust: Trust, report: IntegrityReport
) -> None:
    label = f"{cert.serial or cert.id} 文件 {len(cert.files)}"
    signatures = verify_pdf(pdf, trust)
    report.problems += [f"{label}: {problem}" for problem in signatures.problems]
    if signatures.format == EARLIER:
        report.earlier_format += 1
    expected = certificate_metadata(certificate_document(ctx, cert))
    for difference in compare_metadata(signatures.metadata, expected):
        report.problems.append(f"{label}: {difference}")


def _check_documents(ctx: Context, case: CaseFile, report: IntegrityReport) -> None:
    for record in case.documents:
        report.documents += 1
        try:
            data = document_bytes(ctx, case, record["number"])
        except DecryptionError:
            report.problems.append(
                f"{case.case_no} 扫描件 {record['number']}: 无法解密 / does not decrypt"
            )
            continue
        if sm3_hex(data) != record["digest"]:
            report.problems.append(
                f"{case.case_no} 扫描件 {record['number']}: 摘要不符 / digest differs"
            )


def check_registry(ctx: Context) -> IntegrityReport:
    """Every certificate and scanned document of every agency the actor may see."""
    report = IntegrityReport()
    trust = registry_trust(ctx)
    for agency in ctx.visible_agencies():
        for cert in agency.certificates.values():
            report.certificates += 1
            _check_certificate(ctx, cert, trust, report)
        for case in agency.cases.values():
            _check_documents(ctx, case, report)
    return report
