"""Recording certificates issued on paper before the electronic system (存量证照, Z-2).

``certarchive import-existing`` validates each line with the API's validation
(:mod:`certarchive.validation.existing`), renders and signs the files in worker
processes, and commits the lines here, several per transaction: each line is recorded
like a case (登簿, audited), marked paid in the paper era, and its certificates issued
through the certificate workflow (audited like any issuance) under their paper serials
with their paper issue times.  The year's sequences continue after the highest imported
number (H-1.6, :func:`certarchive.content.serials.continue_after`).

A line that breaks a rule only the registry can judge (a serial already in use, a
case number recorded with other content, another county's serial) is rolled back to
its savepoint: nothing of it is kept and the rest of its batch commits.  A line whose
case was recorded before with the same content is passed over, which is what makes a
second run (after a kill, say) resume where the first stopped.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from certarchive.content.casefile import CaseFile
from certarchive.i18n import _
from certarchive.services.cases import agency_for_case, record_validated, recorded_before
from certarchive.services.certdata import data_digest
from certarchive.services.context import Context
from certarchive.services.errors import Invalid, ServiceError
from certarchive.services.issuance import TOKEN_BYTES, IssuedData, PaperIssue, SignedFile
from certarchive.services.ofd_files import eseal
from certarchive.services.seals import SealMaterial, seal_material
from certarchive.services.transitions import fire_case, fire_certificate
from certarchive.validation.existing import ExistingCase
from certarchive.validation.identifiers import parse_serial

CREATED, PRESENT = "created", "present"
ISSUED = _("存量证照导入")
#: The payment a paper-era case is marked with: paid then, no receipt kept here.
PAPER_ERA_RECEIPT = _("纸质证书时期")


@dataclass(frozen=True)
class AgencyImport:
    """An agency as the importing processes need it, read once before they start."""

    name: str
    settings: Mapping[str, Any]
    seal: SealMaterial
    seseal: bytes | None  # the SESeal, when OFDs are made


@dataclass(frozen=True)
class Line:
    """A validated line, ready to commit, in plain values (it may cross the admin door to
    a running server): the case as validated, each certificate's paper serial and issue
    time, the tokens its QR codes carry, and the files a worker made (None: made in the
    committing transaction, or on demand)."""

    number: int
    case: Mapping[str, Any]
    papers: tuple[tuple[str, datetime], ...]
    tokens: tuple[str, ...]
    digest: str
    files: tuple[Mapping[str, SignedFile], ...] | None = None

    @classmethod
    def of(cls, number: int, existing: ExistingCase) -> Line:
        """A validated line with a fresh verification token for each certificate."""
        papers = tuple((issue.serial, issue.issued_at) for issue in existing.issues)
        return cls(
            number,
            existing.case.to_dict(),
            papers,
            tuple(secrets.token_urlsafe(TOKEN_BYTES) for _ in papers),
            data_digest(existing.to_dict()),
        )

    @property
    def case_no(self) -> str:
        return str(self.case["case_no"])

    def issued(self) -> list[IssuedData]:
        """What each certificate's file shows (version 1 of its data)."""
        return [
            IssuedData(data["kind"], serial, token, issued_at, data, 1, data_digest(data))
            for data, (serial, issued_at), token in zip(
                self.case["certificates"], self.papers, self.tokens, strict=True
            )
        ]


def agencies_for_import(ctx: Context, formats: Sequence[str]) -> dict[str, AgencyImport]:
    """Every agency the actor may record for, by county code (making the SESeal now if
    OFDs are made, so that workers only read it)."""
    ctx.require("case.write")
    return {
        agency.settings["county_code"]: AgencyImport(
            agency.name,
            dict(agency.settings),
            seal_material(agency),
            eseal(ctx, agency) if "ofd" in formats else None,
        )
        for agency in ctx.visible_agencies()
    }


def already_imported(ctx: Context, lines: Sequence[tuple[str, str]]) -> list[str | None]:
    """For each (case number, digest), in order: PRESENT if recorded with this content,
    the problem in words if recorded with other content, else None (to import)."""
    ctx.require("case.write")
    found: list[str | None] = []
    for case_no, digest in lines:
        try:
            found.append(PRESENT if _recorded(ctx, case_no, digest) else None)
        except ServiceError as error:
            found.append(error.message)
    return found


def _recorded(ctx: Context, case_no: str, digest: str) -> CaseFile | None:
    return recorded_before(agency_for_case(ctx, case_no), case_no, digest)


def import_lines(ctx: Context, lines: Sequence[Line], on_demand: bool) -> dict[int, Any]:
    """Commit ``lines`` in this transaction: each line's outcome by its number, CREATED,
    PRESENT or the :class:`ServiceError` that refused it (nothing of it kept).

    A batch is first tried whole: a savepoint a line re-serialises every object the batch
    has touched so far (the search indexes' buckets, the outbox, the agency) once per
    line, which made a batch cost grow with the registry.  Only a batch in which a line
    is refused is rolled back and taken again a line at a time, each line behind its own
    savepoint, so that a refused line keeps nothing and the others are kept."""
    txn = ctx.conn.transaction_manager.get()
    start = txn.savepoint()
    try:
        return {line.number: _import_line(ctx, line, on_demand) for line in lines}
    except ServiceError:
        start.rollback()
        ctx.paper_issues.clear()
    outcomes: dict[int, Any] = {}
    for line in lines:
        savepoint = txn.savepoint()
        try:
            outcomes[line.number] = _import_line(ctx, line, on_demand)
        except ServiceError as error:
            savepoint.rollback()
            ctx.paper_issues.clear()
            outcomes[line.number] = error
    return outcomes


def _import_line(ctx: Context, line: Line, on_demand: bool) -> str:
    ctx.require("case.write")
    case_data = dict(line.case)
    agency = agency_for_case(ctx, case_data["case_no"])
    if recorded_before(agency, case_data["case_no"], line.digest) is not None:
        return PRESENT
    _check_serials(ctx, line)
    case = record_validated(ctx, agency, case_data, line.digest, paper=True)
    fire_case(ctx, case, "pay", PAPER_ERA_RECEIPT)
    case.payment = {
        "receipt_no": PAPER_ERA_RECEIPT,
        "amount": case_data.get("fee", "0"),
        "paid_at": case_data["recorded_at"],
    }
    files = line.files or (None,) * len(line.tokens)
    for cert_id, (serial, issued_at), token, made in zip(
        case.certificate_ids, line.papers, line.tokens, files, strict=True
    ):
        cert = agency.certificates[cert_id]
        ctx.paper_issues[cert.id] = PaperIssue(serial, issued_at, token, made, on_demand)
        fire_certificate(ctx, cert, "issue", ISSUED)
    fire_case(ctx, case, "certify", ISSUED)
    return CREATED


def _check_serials(ctx: Context, line: Line) -> None:
    """The rules of a paper serial only the registry can judge: the agency's province and
    county, not in use, issued in the past."""
    agency = agency_for_case(ctx, line.case_no)
    settings = agency.settings
    problems = {}
    for i, (printed, issued_at) in enumerate(line.papers):
        serial = parse_serial(printed)
        if (serial.province, serial.county) != (settings["province"], settings["county"]):
            problems[f"certificates[{i}].serial"] = _(
                "编号须为${province}…${county}的编号",
                mapping={"province": settings["province"], "county": settings["county"]},
            )
        elif printed in agency.catalog.serial:
            problems[f"certificates[{i}].serial"] = _("证书编号已在登记簿中")
        if issued_at > ctx.now():
            problems[f"certificates[{i}].issued_at"] = _("发证时间在将来")
    if problems:
        raise Invalid(_("存量证书编号无效"), problems)
