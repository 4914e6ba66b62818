"""``certarchive check``: recompute every stored digest and compare file with registry.

H-5.2.2 stores the SM3 digest of each version's canonical data and of each file; H-5.2.6
requires the metadata inside a certificate file to agree with the registry.  This walks
every certificate, decrypts and re-digests each version and each file, verifies the
current file's signatures as a relying party would (H-5.1.2; files of the earlier format
are counted as such), compares its embedded metadata, and names every object that
differs.  It never stops at a
problem: each record is checked on its own, and one that cannot be read is named and
skipped.  It also warns about data files other users may read (:func:`loose_modes`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from certarchive.content.casefile import CaseFile
from certarchive.content.certificate import Certificate
from certarchive.crypto.sm import DecryptionError, sm3_hex
from certarchive.documents.metadata import certificate_metadata, compare_metadata
from certarchive.documents.verify import EARLIER, Trust, verify_pdf
from certarchive.findings import Findings
from certarchive.i18n import _, joined
from certarchive.ofd.verify import verify_ofd
from certarchive.services.case_documents import document_bytes
from certarchive.services.certdata import data_digest, read_data, read_file
from certarchive.services.context import Context
from certarchive.services.issuance import certificate_document
from certarchive.services.pdf_files import pending
from certarchive.services.seals import registry_trust
from certarchive.storage import loose_modes


@dataclass
class IntegrityReport(Findings):
    certificates: int = 0
    versions: int = 0
    files: int = 0
    documents: int = 0
    earlier_format: int = 0  # current files signed in the format before standard signatures
    #: Certificates whose PDF is made at its first request (import-existing --files
    #: on-demand): not broken, only not made yet; counted, never made by the check.
    on_demand: int = 0
    #: Things that do not make the check fail but an operator should fix (file modes).
    warnings: list[str] = field(default_factory=list)


def _unreadable(exc: Exception) -> str:
    """A problem's words for a record that could not be read: the exception's type only
    (its text may quote stored data)."""
    if isinstance(exc, DecryptionError):
        return _("无法解密")
    return _("无法读取（${name}）", mapping={"name": type(exc).__name__})


def _each(report: IntegrityReport, label: str, records: Any) -> Iterator[tuple[str, Any]]:
    """(place, record) for every record of a log, reporting (not raising) a log or a
    record that cannot even be listed, so that the check goes on with the next."""
    try:
        items = list(records)
    except Exception as exc:  # a broken bucket: name it and go on
        report.problems.append(
            joined("${place}: ${problem}", place=label, problem=_unreadable(exc))
        )
        return
    for index, record in enumerate(items, 1):
        number = record.get("number", index) if isinstance(record, dict) else index
        yield joined("${label} ${number}", label=label, number=number), record


def _check_version(ctx: Context, cert: Certificate, record: Any) -> str | None:
    if data_digest(read_data(ctx, cert, record["number"])) != record["digest"]:
        return _("摘要不符")
    return None


def _check_file(
    ctx: Context,
    cert: Certificate,
    record: Any,
    trust: Trust,
    report: IntegrityReport,
    file_format: str = "pdf",
) -> list[str]:
    pdf = read_file(ctx, cert, record["number"], file_format)
    if sm3_hex(pdf) != record["digest"]:
        return [_("摘要不符")]
    log = cert.file_log(file_format)
    if log is None or record["number"] != len(log) or cert.state == "draft":
        return []
    signatures = verify_ofd(pdf, trust) if file_format == "ofd" else verify_pdf(pdf, trust)
    if signatures.format == EARLIER:
        report.earlier_format += 1
    expected = certificate_metadata(certificate_document(ctx, cert))
    return signatures.problems + compare_metadata(signatures.metadata, expected)


def _check_certificate(
    ctx: Context, cert: Certificate, trust: Trust, report: IntegrityReport
) -> None:
    label = cert.serial or cert.id
    report.on_demand += pending(cert)
    versions = joined("${serial} ${versions}", serial=label, versions=_("版本"))
    for place, record in _each(report, versions, cert.versions):
        report.versions += 1
        try:
            problem = _check_version(ctx, cert, record)
        except Exception as exc:  # one bad record must not stop the check (#13)
            problem = _unreadable(exc)
        if problem:
            report.problems.append(joined("${place}: ${problem}", place=place, problem=problem))
    logs = [("pdf", _("文件"), cert.files), ("ofd", _("OFD文件"), cert.file_log("ofd") or ())]
    for file_format, name, log in logs:
        for place, record in _each(
            report, joined("${serial} ${files}", serial=label, files=name), log
        ):
            report.files += 1
            try:
                problems = _check_file(ctx, cert, record, trust, report, file_format)
            except Exception as exc:
                problems = [_unreadable(exc)]
            report.problems.extend(
                joined("${place}: ${problem}", place=place, problem=problem) for problem in problems
            )


def _check_documents(ctx: Context, case: CaseFile, report: IntegrityReport) -> None:
    scans = joined("${case_no} ${scans}", case_no=case.case_no, scans=_("扫描件"))
    for place, record in _each(report, scans, case.documents):
        report.documents += 1
        try:
            differs = sm3_hex(document_bytes(ctx, case, record["number"])) != record["digest"]
        except Exception as exc:
            report.problems.append(
                joined("${place}: ${problem}", place=place, problem=_unreadable(exc))
            )
            continue
        if differs:
            report.problems.append(
                joined("${place}: ${problem}", place=place, problem=_("摘要不符"))
            )


def _guarded(report: IntegrityReport, label: str, check: Callable[[], None]) -> None:
    """Run one object's check; anything it could not even start on is a problem, named."""
    try:
        check()
    except Exception as exc:
        report.problems.append(
            joined("${place}: ${problem}", place=label, problem=_unreadable(exc))
        )


#: Objects of a folder checked between two shrinkings of the connection's cache to its
#: target: the walk reads every certificate and case once, and ZODB keeps what a
#: transaction read until it ends (736,000 certificates: 6.8 GB without; 2.3 GB when
#: only the certificates' walk let go, the cases' walk after it keeping every case).
SHED_EVERY = 5_000


def check_registry(ctx: Context) -> IntegrityReport:
    """Every certificate and scanned document of every agency the actor may see.

    Every problem met is reported and the walk goes on: a check that stops at the first
    broken record would hide whatever else is broken behind it."""
    report = IntegrityReport()
    trust = registry_trust(ctx)
    for agency in ctx.visible_agencies():
        for key, cert in _items(report, f"{agency.name} certificates", agency.certificates):
            report.certificates += 1
            label = getattr(cert, "serial", None) or key
            _guarded(report, label, lambda cert=cert: _check_certificate(ctx, cert, trust, report))
        for key, case in _items(report, f"{agency.name} cases", agency.cases):
            _guarded(report, key, lambda case=case: _check_documents(ctx, case, report))
    report.warnings.extend(loose_modes(ctx.runtime.settings))
    return report


def _items(report: IntegrityReport, label: str, folder: Any) -> Iterator[tuple[str, Any]]:
    """(key, object) of a folder; an object that cannot be loaded is a problem, named.
    Every :data:`SHED_EVERY` objects, what was read is let go (a read-only walk)."""
    try:
        keys = list(folder.keys())
    except Exception as exc:
        report.problems.append(
            joined("${place}: ${problem}", place=label, problem=_unreadable(exc))
        )
        return
    for count, key in enumerate(keys, start=1):
        if count % SHED_EVERY == 0 and (jar := getattr(folder, "_p_jar", None)) is not None:
            jar.cacheGC()
        try:
            item = folder[key]
        except Exception as exc:
            report.problems.append(
                joined("${place}: ${problem}", place=key, problem=_unreadable(exc))
            )
            continue
        yield key, item
