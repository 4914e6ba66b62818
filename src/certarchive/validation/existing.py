"""A line of ``certarchive import-existing``: a case document whose certificates carry
their paper serial and issue time (CONTRACT.md "Existing certificates", Z-2, H-1.6).

The case document goes through :func:`certarchive.validation.case.validate_case`, the
API's own validation; the paper fields through :class:`~certarchive.schemas.existing
.PaperCertificate`; then the rules between them.  Every problem is named by its JSON path, as
the API names them, in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from certarchive.documents.model import CHINA_TIME
from certarchive.i18n import _
from certarchive.schemas.errors import ROOT, checked
from certarchive.schemas.existing import PAPER_FIELDS, PaperCertificate
from certarchive.validation.case import CaseData, CaseInvalid, validate_case
from certarchive.validation.identifiers import SERIAL_WORDS, parse_serial

NOT_OBJECT = _("须为JSON对象")
NOTHING_ISSUED = _("注销登记没有可导入的证书")


@dataclass(frozen=True)
class ExistingCase:
    """A validated line: the case, and the paper issue of each of its certificates."""

    case: CaseData
    issues: tuple[PaperCertificate, ...]

    def to_dict(self) -> dict[str, Any]:
        """The line as validated (the digest a repeated import compares)."""
        case = self.case.to_dict()
        case["certificates"] = [
            data | issue.model_dump(mode="json")
            for data, issue in zip(case["certificates"], self.issues, strict=True)
        ]
        return case


def _split(doc: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """The case document without the paper fields, and each certificate's paper fields."""
    raws = doc.get("certificates")
    if not isinstance(raws, list):
        return doc, []
    rest, papers = [], []
    for raw in raws:
        if isinstance(raw, dict):
            rest.append({k: v for k, v in raw.items() if k not in PAPER_FIELDS})
            papers.append({k: v for k, v in raw.items() if k in PAPER_FIELDS})
        else:
            rest.append(raw)
            papers.append(None)
    return doc | {"certificates": rest}, papers


def _rules(case: CaseData, issues: tuple[PaperCertificate, ...]) -> dict[str, str]:
    """The serial's kind and year against the certificate, issue after recording, each
    serial once."""
    problems: dict[str, str] = {}
    seen: set[str] = set()
    for i, (data, issue) in enumerate(zip(case.certificates, issues, strict=True)):
        at = f"certificates[{i}]"
        serial = parse_serial(issue.serial)
        if serial.kind != data.kind:
            problems[f"{at}.serial"] = _(
                "编号是${serial_words_serial_kind}的编号，与证书种类不符（${kind}，${kind2}）",
                mapping={
                    "serial_words_serial_kind": SERIAL_WORDS[serial.kind],
                    "kind": serial.kind,
                    "kind2": data.kind,
                },
            )
        elif serial.year != issue.issued_at.astimezone(CHINA_TIME).year:
            problems[f"{at}.serial"] = _("编号年份与发证年份不符")
        elif issue.serial in seen:
            problems[f"{at}.serial"] = _("证书编号重复")
        seen.add(issue.serial)
        if issue.issued_at < case.recorded_at:
            problems[f"{at}.issued_at"] = _("发证时间早于登簿时间")
    return problems


def validate_existing_case(doc: Any) -> ExistingCase:
    """The line ``doc`` (parsed JSON) validated; ``CaseInvalid`` naming every bad field."""
    if not isinstance(doc, dict):
        raise CaseInvalid({ROOT: NOT_OBJECT})
    rest, papers = _split(doc)
    problems: dict[str, str] = {}
    case = None
    try:
        case = validate_case(rest)
    except CaseInvalid as invalid:
        problems.update(invalid.fields)
    issues: list[PaperCertificate] = []
    for i, paper in enumerate(papers):
        result = checked(PaperCertificate, paper if paper is not None else {})
        if isinstance(result, dict):
            problems.update({f"certificates[{i}].{k}": v for k, v in result.items()})
        else:
            issues.append(result)
    if case is not None and case.registration_type == "cancellation":
        problems["registration_type"] = NOTHING_ISSUED
    if problems:
        raise CaseInvalid(problems)
    assert case is not None
    problems = _rules(case, tuple(issues))
    if problems:
        raise CaseInvalid(problems)
    return ExistingCase(case, tuple(issues))
