"""The staff's overview: counts by state, the filing queue, open correction requests, search."""

from __future__ import annotations

import re
from typing import Any

from certarchive.content.certificate import Certificate
from certarchive.services.cases import case_summary, filing_queue
from certarchive.services.certificates import (
    by_holder_blind_index,
    by_unit_number,
    find_certificate,
)
from certarchive.services.context import Context
from certarchive.services.corrections import list_requests
from certarchive.validation.identifiers import normalize
from certarchive.workflow.definitions import CASE, CERTIFICATE

CASE_NO = re.compile(r"\d{4}-\d{6}-\d{6,8}")
UNIT_NUMBER = re.compile(r"[0-9A-Za-z]{28}")
SERIAL_HINT = re.compile(r"第\s*\d+\s*号")


def dashboard(ctx: Context) -> dict[str, Any]:
    """Counts by state over the agencies the actor may see, the filing queue, open
    correction requests with their due time."""
    ctx.require("case.read")
    agencies = ctx.visible_agencies()
    certificates = dict.fromkeys(CERTIFICATE.states, 0)
    cases = dict.fromkeys(CASE.states, 0)
    for agency in agencies:
        for state, count in agency.catalog.state_counts().items():
            certificates[state] = certificates.get(state, 0) + count
        for state in CASE.states:
            cases[state] += len(agency.catalog.case_state.get(state))
    return {
        "agency": "、".join(agency.settings["agency_name"] for agency in agencies),
        "certificates": certificates,
        "cases": cases,
        "filing_queue": filing_queue(ctx),
        "corrections": list_requests(ctx, "open"),
    }


def certificate_row(cert: Certificate) -> dict[str, Any]:
    return {
        "id": cert.id,
        "serial": cert.serial,
        "kind": cert.kind,
        "state": cert.state,
        "case_no": cert.case_no,
        "unit_number": cert.unit_number,
        "issued_at": cert.issued_at.isoformat() if cert.issued_at else None,
    }


def search(ctx: Context, query: Any) -> dict[str, Any]:
    """Find by case number, serial, unit number or holder ID number (blind index).

    Searching by ID number reads personal data: it needs ``certificate.read_personal`` and
    is audited (without the number).
    """
    ctx.require("case.read")
    text = query.strip() if isinstance(query, str) else ""
    result: dict[str, Any] = {"query": text, "mode": None, "cases": [], "certificates": []}
    if not text or len(text) > 100:
        return result
    agencies = ctx.visible_agencies()
    if CASE_NO.fullmatch(text):
        result["mode"] = "case_no"
        for agency in agencies:
            case = agency.cases.get(text)
            if case is not None:
                result["cases"].append(case_summary(ctx, case))
        return result
    if SERIAL_HINT.search(text):
        result["mode"] = "serial"
        cert = find_certificate(ctx, text, missing_ok=True)
        if cert is not None:
            result["certificates"].append(certificate_row(cert))
        return result
    if UNIT_NUMBER.fullmatch(text):
        result["mode"] = "unit_number"
        result["certificates"] = [certificate_row(c) for c in by_unit_number(ctx, text)]
        return result
    result["mode"] = "holder_id"
    if "certificate.read_personal" not in ctx.actor.permissions:
        result["refused"] = True
        return result
    found = by_holder_blind_index(ctx, normalize(text))
    ctx.audit("search.holder_id", "catalog:holder", detail={"results": len(found)})
    result["certificates"] = [certificate_row(cert) for cert in found]
    return result
