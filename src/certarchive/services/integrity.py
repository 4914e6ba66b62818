"""``certarchive check``: recompute every stored digest and compare file with registry.

H-5.2.2 stores the SM3 digest of each version's canonical data and of each file; H-5.2.6
requires the metadata inside a certificate file to agree with the registry.  This walks
every certificate, decrypts and re-digests each version and each file, reads the current
file's embedded metadata, and names every object that differs.
"""

from __future__ import annotations

from dataclasses import dataclass

from certarchive.content.casefile import CaseFile
from certarchive.content.certificate import Certificate
from certarchive.crypto.sm import DecryptionError, sm3_hex
from certarchive.documents.metadata import certificate_metadata, compare_metadata, read_metadata
from certarchive.findings import Findings
from certarchive.services.case_documents import document_bytes
from certarchive.services.certdata import data_digest, read_data, read_file
from certarchive.services.context import Context
from certarchive.services.issuance import certificate_document


@dataclass
class IntegrityReport(Findings):
    certificates: int = 0
    versions: int = 0
    files: int = 0
    documents: int = 0


def _check_certificate(ctx: Context, cert: Certificate, report: IntegrityReport) -> None:
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
            expected = certificate_metadata(certificate_document(ctx, cert))
            for difference in compare_metadata(read_metadata(pdf), expected):
                report.problems.append(f"{label} 文件 {file['number']}: {difference}")


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
    for agency in ctx.visible_agencies():
        for cert in agency.certificates.values():
            report.certificates += 1
            _check_certificate(ctx, cert, report)
        for case in agency.cases.values():
            _check_documents(ctx, case, report)
    return report
