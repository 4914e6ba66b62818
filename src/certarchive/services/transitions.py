"""Firing a transition the way every service does: guard, state index, audit entry.

Refusals become :class:`~certarchive.services.errors.Conflict` (or Forbidden) so the
web layer can answer 409/403 with the engine's reason.
"""

from __future__ import annotations

from typing import Any, NoReturn

from certarchive.content.casefile import CaseFile
from certarchive.content.certificate import Certificate
from certarchive.crypto.sm import sm3_hex
from certarchive.services.certdata import canonical_json
from certarchive.services.context import Context
from certarchive.services.errors import Conflict, Forbidden
from certarchive.workflow.engine import TransitionRefused


def certificate_state_digest(cert: Certificate) -> str:
    """SM3 over what an auditor compares before and after a change (no personal data)."""
    file = cert.current_file
    return sm3_hex(
        canonical_json(
            {
                "id": cert.id,
                "state": cert.state,
                "serial": cert.serial,
                "version": cert.version,
                "data": cert.versions[cert.version]["digest"] if cert.version else None,
                "file": file["digest"] if file else None,
                "first_downloaded_at": str(cert.first_downloaded_at),
                "paper": cert.paper_status,
                "revocation": cert.revocation,
            }
        )
    )


def case_state_digest(case: CaseFile) -> str:
    return sm3_hex(
        canonical_json(
            {
                "case_no": case.case_no,
                "state": case.state,
                "certificates": list(case.certificate_ids),
                "payment": case.payment,
            }
        )
    )


def certificate_label(cert: Certificate) -> str:
    return f"certificate:{cert.serial or cert.id}"


def raise_refusal(refused: TransitionRefused) -> NoReturn:
    if refused.code == "forbidden":
        raise Forbidden(refused.message)
    raise Conflict(refused.message)


def check_certificate(ctx: Context, cert: Certificate, name: str) -> None:
    """Raise the refusal ``name`` would meet now, before anything is changed."""
    workflow = ctx.engine.workflows["certificate"]
    refused = ctx.engine.refusal(workflow, cert, name, ctx.actor, ctx)
    if refused is not None:
        raise_refusal(refused)


def fire_certificate(
    ctx: Context, cert: Certificate, name: str, comment: str = ""
) -> dict[str, Any]:
    before = certificate_state_digest(cert)
    old_state = cert.state
    try:
        record = ctx.engine.fire("certificate", cert, name, ctx.actor, ctx, comment)
    except TransitionRefused as refused:
        raise_refusal(refused)
    ctx.agency(cert.agency).catalog.move_state(cert.id, old_state, cert.state)
    ctx.audit(
        f"certificate.{name}", certificate_label(cert), before, certificate_state_digest(cert)
    )
    return record


def fire_case(ctx: Context, case: CaseFile, name: str, comment: str = "") -> dict[str, Any]:
    before = case_state_digest(case)
    old_state = case.state
    try:
        record = ctx.engine.fire("case", case, name, ctx.actor, ctx, comment)
    except TransitionRefused as refused:
        raise_refusal(refused)
    case_index = ctx.agency(case.agency).catalog.case_state
    case_index.remove(old_state, case.case_no)
    case_index.add(case.state, case.case_no)
    ctx.audit(f"case.{name}", f"case:{case.case_no}", before, case_state_digest(case))
    return record
