"""Guard conditions and transition subscribers: the workflow definitions made concrete.

The definitions (:mod:`certarchive.workflow.definitions`) name conditions; this module
says what each name means for a certificate or a case, and attaches the side effects
(render, sign and store on issue; the revocation stamp on revoke) as subscribers.
"""

from __future__ import annotations

from typing import Any

from certarchive.content.casefile import CaseFile
from certarchive.content.certificate import Certificate
from certarchive.i18n import _
from certarchive.services.context import Context
from certarchive.workflow.definitions import CASE, CERTIFICATE
from certarchive.workflow.engine import WorkflowEngine


def _case_of(cert: Certificate, ctx: Context) -> CaseFile:
    return ctx.agency(cert.agency).cases[cert.case_no]


def _live_certificates(case: CaseFile, ctx: Context) -> list[Certificate]:
    certificates = ctx.agency(case.agency).certificates
    return [certificates[i] for i in case.certificate_ids if certificates[i].state != "revoked"]


def case_paid(cert: Certificate, ctx: Context) -> str | None:
    if _case_of(cert, ctx).payment is None:
        return _("案卷尚未缴费，不能出证")
    return None


def not_superseded(cert: Certificate, ctx: Context) -> str | None:
    if cert.replaced_by is not None:
        return _("证书已被 ${replaced_by} 替代", mapping={"replaced_by": cert.replaced_by})
    return None


def never_downloaded(cert: Certificate, ctx: Context) -> str | None:
    if cert.first_downloaded_at is not None:
        return _("证书已被下载，须更正登记后注销重发")
    return None


def collected(cert: Certificate, ctx: Context) -> str | None:
    if cert.first_downloaded_at is None and not cert.paper_handed_over:
        return _("证书尚未下载或领取纸质证书")
    return None


def all_certificates_issued(case: CaseFile, ctx: Context) -> str | None:
    if any(cert.state == "draft" for cert in _live_certificates(case, ctx)):
        return _("仍有证书未签发")
    return None


def all_certificates_collected(case: CaseFile, ctx: Context) -> str | None:
    # A case whose certificates are all revoked, or a cancellation that issued none, has
    # nothing left to collect.
    if any(collected(cert, ctx) for cert in _live_certificates(case, ctx)):
        return _("仍有证书未下载或未领取纸质证书")
    return None


CONDITIONS: dict[str, Any] = {
    "case_paid": case_paid,
    "not_superseded": not_superseded,
    "never_downloaded": never_downloaded,
    "collected": collected,
    "all_certificates_issued": all_certificates_issued,
    "all_certificates_collected": all_certificates_collected,
}


def build_engine() -> WorkflowEngine:
    """The engine with both workflows, checked now (start-up), and their subscribers."""
    from certarchive.services import issuance, reporting

    engine = WorkflowEngine((CERTIFICATE, CASE), CONDITIONS)
    engine.subscribe("certificate", "issue", "after", issuance.render_and_store)
    engine.subscribe("certificate", "revoke", "after", issuance.stamp_revocation)
    # After the files: a report names the file the transaction has just stored.
    engine.subscribe("certificate", "issue", "after", reporting.report_issued)
    engine.subscribe("certificate", "revoke", "after", reporting.report_revoked)
    return engine
