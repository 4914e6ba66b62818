"""Case services: record a case (登簿), confirm payment and issue (Z-4, H-2.1), file (H-2.5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from certarchive.content.agency import Agency
from certarchive.content.casefile import REPLACING_TYPES, CaseFile
from certarchive.content.certificate import Certificate
from certarchive.i18n import _
from certarchive.schemas.bodies import Payment
from certarchive.schemas.errors import validated
from certarchive.services import certificates as certificate_services
from certarchive.services.certdata import data_digest
from certarchive.services.context import Context
from certarchive.services.download_codes import current_code, issue_code
from certarchive.services.drafts import create_certificate
from certarchive.services.errors import Conflict, Invalid, NotFound
from certarchive.services.issuance import verify_url
from certarchive.services.lifecycle import all_certificates_collected
from certarchive.services.notifications import notify_issued, notify_recorded
from certarchive.services.transitions import fire_case, fire_certificate
from certarchive.validation.case import CaseInvalid, validate_case


def get_case(ctx: Context, case_no: str) -> CaseFile:
    for agency in ctx.visible_agencies():
        case = agency.cases.get(case_no)
        if case is not None:
            return case
    raise NotFound(_("案卷不存在"))


def agency_for_case(ctx: Context, case_no: str) -> Agency:
    """The agency whose county code the case number carries (YYYY-CCCCCC-NNNNNN)."""
    county_code = case_no.split("-")[1]
    for agency in ctx.visible_agencies():
        if agency.settings["county_code"] == county_code:
            return agency
    raise Invalid(
        _("案卷号的行政区划代码不属于本机构"),
        {"case_no": _("行政区划代码不符")},
    )


def case_summary(ctx: Context, case: CaseFile) -> dict[str, Any]:
    certificates = ctx.agency(case.agency).certificates
    return {
        "case_no": case.case_no,
        "registration_type": case.registration_type,
        "state": case.state,
        "delivery": case.delivery,
        "recorded_at": case.recorded_at.isoformat(),
        "replaces": list(case.replaces),
        "paid": case.payment is not None,
        "filed_at": case.filed_at.isoformat() if case.filed_at else None,
        "certificates": [
            {"id": c.id, "kind": c.kind, "state": c.state, "serial": c.serial}
            for c in (certificates[i] for i in case.certificate_ids)
        ],
        "history": list(case.history),
    }


def record_case(ctx: Context, document: Any) -> dict[str, Any]:
    """Record a case and create its draft certificates; revoke what it replaces (H-4.2).

    Repeating the same document answers with the recorded case (``created`` false);
    the same case number with different content is a conflict.
    """
    ctx.require("case.write")
    try:
        case_data = validate_case(document).to_dict()
    except CaseInvalid as invalid:
        raise Invalid(_("案卷数据不符合要求"), invalid.fields) from None
    agency = agency_for_case(ctx, case_data["case_no"])
    existing = recorded_before(agency, case_data["case_no"], data_digest(case_data))
    if existing is not None:
        return case_summary(ctx, existing) | {"created": False}
    case = record_validated(ctx, agency, case_data, data_digest(case_data))
    return case_summary(ctx, case) | {"created": True}


def recorded_before(agency: Agency, case_no: str, digest: str) -> CaseFile | None:
    """The case recorded before with this digest (a repeated import or request), None if
    new; a conflict if recorded with other content."""
    existing = agency.cases.get(case_no)
    if existing is not None and existing.document_digest != digest:
        raise Conflict(_("案卷号已存在且内容不同"))
    return existing


def record_validated(
    ctx: Context, agency: Agency, case_data: dict[str, Any], digest: str, *, paper: bool = False
) -> CaseFile:
    """Record a validated case (登簿) with its drafts, revoking what it replaces (H-4.2).

    ``paper``: a case of the paper era (import-existing, Z-2): its holders were told
    long ago, so nobody is notified, and a replaced certificate that was never made
    electronic (revoked on paper) is passed over."""
    replaced = _replaced_certificates(ctx, agency, case_data, absent_ok=paper)
    case = CaseFile(
        agency.name,
        case_data["case_no"],
        case_data["registration_type"],
        datetime.fromisoformat(case_data["recorded_at"]),
        case_data["delivery"],
        tuple(case_data.get("replaces", ())),
    )
    case.document_digest = digest
    agency.cases.add(case.case_no, case)
    ctx.audit("case.create", f"case:{case.case_no}", None, digest)
    fire_case(ctx, case, "record", _("登簿"))
    for data in case_data.get("certificates", ()):
        create_certificate(ctx, case, data, _("登簿生成"))
    if not paper:
        notify_recorded(ctx, case, case_data.get("certificates", ()), case_data.get("fee"))
    for cert in replaced:
        certificate_services.revoke_certificate(
            ctx,
            cert,
            case.registration_type,
            _("案卷 ${case_no} 登簿", mapping={"case_no": case.case_no}),
            case.case_no,
        )
    return case


def _replaced_certificates(
    ctx: Context, agency: Agency, case_data: dict[str, Any], *, absent_ok: bool = False
) -> list[Certificate]:
    """The certificates the case revokes on recording (H-4.2), each of the case's own
    agency and, when the case issues certificates, of one of their real-estate units.

    Why: the caller may be a key for every agency (a province-wide upstream system); without
    the check a case of one county could name, and so revoke, another county's certificate.
    A cancellation issues nothing, so only its agency is checked."""
    if case_data["registration_type"] not in REPLACING_TYPES:
        return []
    units = {data["unit_number"] for data in case_data.get("certificates", ())}
    found, problems = [], {}
    for n, serial in enumerate(case_data.get("replaces", ())):
        cert = certificate_services.find_certificate(ctx, serial, missing_ok=True)
        if cert is None and absent_ok:
            continue
        if cert is None:
            problems[f"replaces[{n}]"] = _("证书不存在")
        elif cert.agency != agency.name:
            problems[f"replaces[{n}]"] = _("证书不属于本案卷的登记机构")
        elif units and cert.unit_number not in units:
            problems[f"replaces[{n}]"] = _("证书的不动产单元号与本案卷不符")
        elif cert.state in ("draft", "revoked"):
            problems[f"replaces[{n}]"] = _(
                "证书状态为 ${state}，不能注销", mapping={"state": cert.state}
            )
        else:
            found.append(cert)
    if problems:
        raise Invalid(_("被替代的证书无效"), problems)
    return found


def _parse_payment(payment: Any) -> dict[str, str]:
    """The payment body (:class:`certarchive.schemas.bodies.Payment`) as stored."""
    body = validated(Payment, payment, _("缴费信息无效"))
    return {"receipt_no": body.receipt_no, "amount": str(body.amount), "paid_at": body.paid_at}


def confirm_payment(ctx: Context, case_no: str, payment: Any) -> dict[str, Any]:
    """Z-4: after payment the case's certificates are generated automatically (Z-7).

    A repeated confirmation with the same receipt answers as the first did and issues
    nothing; another receipt for a paid case is a conflict.
    """
    ctx.require("case.write")
    details = _parse_payment(payment)
    case = get_case(ctx, case_no)
    if case.payment is not None:
        if case.payment["receipt_no"] != details["receipt_no"]:
            raise Conflict(_("案卷已缴费"))
        return _payment_result(ctx, case)
    fire_case(
        ctx, case, "pay", _("票据 ${receipt_no}", mapping={"receipt_no": details["receipt_no"]})
    )
    case.payment = details
    certificates = ctx.agency(case.agency).certificates
    for cert_id in case.certificate_ids:
        cert = certificates[cert_id]
        if cert.state == "draft":
            fire_certificate(ctx, cert, "issue", _("缴费后自动签发"))
            notify_issued(ctx, cert, issue_code(ctx, cert))
    fire_case(ctx, case, "certify", _("电子证书自动生成"))
    return _payment_result(ctx, case)


def _payment_result(ctx: Context, case: CaseFile) -> dict[str, Any]:
    certificates = ctx.agency(case.agency).certificates
    return {
        "case_no": case.case_no,
        "state": case.state,
        "certificates": [
            {
                "id": cert.id,
                "kind": cert.kind,
                "serial": cert.serial,
                "state": cert.state,
                "verify_url": verify_url(ctx, cert.token) if cert.token else None,
                "download_code": current_code(ctx, cert),
            }
            for cert in (certificates[i] for i in case.certificate_ids)
        ],
    }


def file_case(ctx: Context, case_no: str, comment: str = "") -> dict[str, Any]:
    """H-2.5: archive the case once every live certificate was collected."""
    ctx.require("case.file")
    case = get_case(ctx, case_no)
    fire_case(ctx, case, "file", comment or _("归档"))
    case.filed_at = ctx.now()
    certificates = ctx.agency(case.agency).certificates
    for cert in (certificates[i] for i in case.certificate_ids):
        if cert.state in ("issued", "downloaded"):
            fire_certificate(ctx, cert, "archive", comment or _("案卷归档"))
    return case_summary(ctx, case)


def filing_queue(ctx: Context) -> list[dict[str, Any]]:
    """Cases ready to file: certified, every live certificate collected (H-2.5)."""
    ctx.require("case.read")
    return [
        case_summary(ctx, case)
        for agency in ctx.visible_agencies()
        for case in (agency.cases[n] for n in agency.catalog.case_state.get("certified"))
        if all_certificates_collected(case, ctx) is None
    ]
