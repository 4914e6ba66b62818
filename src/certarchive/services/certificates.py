"""Certificate services: look-up, download, rollback, correction, re-issue, revocation,
paper events, and the read views (metadata, versions, history)."""

from __future__ import annotations

from typing import Any

from certarchive.content.certificate import Certificate
from certarchive.documents.stampdict import REVOCATION_CAUSES
from certarchive.i18n import _, joined
from certarchive.schemas.bodies import Correction, PaperEvent, Reissue, Revocation, Rollback
from certarchive.schemas.errors import validated
from certarchive.services.certdata import (
    append_version,
    diff,
    read_data,
    version_metadata,
)
from certarchive.services.context import Context
from certarchive.services.download_codes import issue_code
from certarchive.services.drafts import create_certificate
from certarchive.services.errors import Conflict, Invalid, NotFound
from certarchive.services.issuance import CHINA
from certarchive.services.notifications import notify_issued
from certarchive.services.ofd_files import current_ofd
from certarchive.services.pdf_files import current_pdf, pdf_pending, pending
from certarchive.services.transitions import (
    certificate_label,
    certificate_state_digest,
    check_certificate,
    fire_certificate,
)
from certarchive.validation.case import CaseInvalid, validate_certificate_changes
from certarchive.validation.identifiers import mask_id_number, mask_name, normalize

REVOCATION_INVALID = _("注销请求无效")
ROLLBACK_INVALID = _("回退请求无效")
REISSUE_INVALID = _("重发请求无效")
CORRECTION_INVALID = _("更正请求无效")
PAPER_EVENTS = {
    # event: (paper states it may follow, the new paper state)
    "issued": ((None,), "issued"),
    "returned": (("issued",), "returned"),
    "lost_announced": (("issued",), "lost_announced"),
}


def find_certificate(ctx: Context, key: str, missing_ok: bool = False) -> Certificate | None:
    """By serial (either bracket form) or by id, in every agency the actor may see;
    one it may not see answers exactly like one that does not exist."""
    normalized = key.replace("（", "(").replace("）", ")")
    for agency in ctx.visible_agencies():
        cert = agency.certificates.get(agency.catalog.serial.get(normalized, key))
        if cert is not None:
            return cert
    if not missing_ok:
        raise NotFound(_("证书不存在"))
    return None


def get_certificate(ctx: Context, key: str) -> Certificate:
    cert = find_certificate(ctx, key)
    assert cert is not None
    return cert


def mask_party(party: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": mask_name(party["name"], party["id_type"]),
        "id_type": party["id_type"],
        "id_number": mask_id_number(party["id_number"]),
    }


def metadata(ctx: Context, cert: Certificate) -> dict[str, Any]:
    """What staff and institutions see; holders' personal data is masked unless the actor
    holds ``certificate.read_personal`` (H-5.2.3)."""
    ctx.require("certificate.read")
    data = read_data(ctx, cert)
    personal = "certificate.read_personal" in ctx.actor.permissions
    parties = {
        key: [party if personal else mask_party(party) for party in data.get(key, ())]
        for key in ("holders", "obligors")
        if key in data
    }
    file = cert.sealed_file
    return {
        "id": cert.id,
        "kind": cert.kind,
        "state": cert.state,
        "serial": cert.serial,
        "case_no": cert.case_no,
        "unit_number": cert.unit_number,
        "location": data.get("location"),
        **parties,
        "issued_at": cert.issued_at.isoformat() if cert.issued_at else None,
        "first_downloaded_at": (
            cert.first_downloaded_at.isoformat() if cert.first_downloaded_at else None
        ),
        "version": cert.version,
        "sm3": file["digest"] if file else None,
        "paper_status": cert.paper_status,
        "revocation": cert.revocation,
        "replaces": cert.replaces,
        "replaced_by": cert.replaced_by,
    }


def data_of(ctx: Context, cert: Certificate, number: int | None = None) -> dict[str, Any]:
    ctx.require("certificate.read_personal")
    if number is not None and not 1 <= number <= cert.version:
        raise NotFound(_("版本不存在"))
    return read_data(ctx, cert, number)


def versions(ctx: Context, cert: Certificate) -> list[dict[str, Any]]:
    ctx.require("certificate.read")
    return version_metadata(cert)


def version_diff(ctx: Context, cert: Certificate, old: int, new: int) -> dict[str, Any]:
    return diff(data_of(ctx, cert, old), data_of(ctx, cert, new))


def history(ctx: Context, cert: Certificate) -> list[dict[str, Any]]:
    ctx.require("certificate.read")
    return list(cert.history)


def has_file(cert: Certificate) -> bool:
    """Whether the certificate has a file in some format, or a PDF to make on request."""
    return cert.sealed_file is not None or pending(cert)


def current_file_bytes(ctx: Context, cert: Certificate, file_format: str = "pdf") -> bytes:
    """The current file in ``file_format``: the stored PDF, or the OFD (made on first
    request for a certificate that has none yet, see :mod:`.ofd_files`)."""
    if cert.state == "draft":
        raise NotFound(_("证书尚未生成文件"))
    if file_format == "ofd":
        if "ofd" not in ctx.runtime.settings.formats:
            raise NotFound(_("本系统未启用OFD格式"))
        return current_ofd(ctx, cert)
    if cert.current_file is None and not pdf_pending(ctx, cert):
        raise NotFound(_("证书没有PDF文件"))
    return current_pdf(ctx, cert)


def formats_of(ctx: Context, cert: Certificate) -> list[str]:
    """The formats in which ``cert`` can be downloaded: the PDF if it has one, the OFD
    wherever OFD files are produced (made on first request if it has none yet)."""
    found = ["pdf"] if cert.current_file is not None or pdf_pending(ctx, cert) else []
    return found + (["ofd"] if "ofd" in ctx.runtime.settings.formats else [])


def file_for_staff(ctx: Context, cert: Certificate, file_format: str = "pdf") -> bytes:
    """Staff and institutions with the download scope read the current file; this is
    not the holder's collection and sets no collection time (H-2.2)."""
    ctx.require("certificate.download_file")
    if not has_file(cert) and file_format == "pdf":
        raise NotFound(_("证书尚未生成文件"))
    data = current_file_bytes(ctx, cert, file_format)
    ctx.audit(
        "certificate.read_file",
        certificate_label(cert),
        detail={"by": "staff", "format": file_format},
    )
    return data


def download_by_holder(ctx: Context, cert: Certificate, file_format: str = "pdf") -> bytes:
    """H-2.2: the first download, of either format, is the collection time; later
    downloads change nothing.

    Two racing first downloads both write the certificate, so ZODB lets one commit and
    retries the other, which then finds the certificate already downloaded.
    """
    if cert.state == "draft" or not has_file(cert):
        raise NotFound(_("证书不存在"))
    data = current_file_bytes(ctx, cert, file_format)
    if cert.state == "issued":
        cert.first_downloaded_at = ctx.now()
        fire_certificate(ctx, cert, "download", _("首次下载"))
    return data


def rollback(ctx: Context, cert: Certificate, reason: str) -> dict[str, Any]:
    """H-4.3: an issued certificate never downloaded goes back to draft, keeping its serial;
    its file becomes superseded once the corrected certificate is issued again."""
    reason = validated(Rollback, {"reason": reason}, ROLLBACK_INVALID).reason
    issued_on = cert.issued_at.astimezone(CHINA).date().isoformat() if cert.issued_at else None
    fire_certificate(ctx, cert, "rollback", reason)
    if issued_on:
        ctx.agency(cert.agency).catalog.issue_date.remove(issued_on, cert.id)
    return metadata(ctx, cert)


def correct(ctx: Context, cert: Certificate, changes: Any, comment: str) -> dict[str, Any]:
    """Correct a draft: a new version with the changed fields (H-4.3)."""
    ctx.require("certificate.manage")
    body = validated(Correction, {"changes": changes, "comment": comment}, CORRECTION_INVALID)
    comment = body.comment
    if cert.state != "draft":
        raise Conflict(_("只能更正草稿，请先回退"))
    new_data = _corrected(ctx, cert, changes)
    before = certificate_state_digest(cert)
    append_version(ctx, cert, new_data, comment, sorted(changes))
    ctx.audit(
        "certificate.correct", certificate_label(cert), before, certificate_state_digest(cert)
    )
    return metadata(ctx, cert)


def issue_again(ctx: Context, cert: Certificate, comment: str = "") -> dict[str, Any]:
    fire_certificate(ctx, cert, "issue", comment or _("更正后重新签发"))
    return metadata(ctx, cert)


def reissue(ctx: Context, cert: Certificate, reason: str, changes: Any) -> dict[str, Any]:
    """H-4.3 (already downloaded) and Z-5: revoke the wrong certificate and issue a new one
    with a new serial, linking old and new."""
    ctx.require("certificate.manage")
    body = validated(Reissue, {"reason": reason, "changes": changes or {}}, REISSUE_INVALID)
    reason = body.reason
    check_certificate(ctx, cert, "revoke")
    new_data = _corrected(ctx, cert, changes or {})
    agency = ctx.agency(cert.agency)
    case = agency.cases[cert.case_no]
    revoke_certificate(ctx, cert, "correction", reason, None)
    new = create_certificate(
        ctx, case, new_data, _("重新签发，替代 ${serial}", mapping={"serial": cert.serial})
    )
    new.replaces = cert.serial
    fire_certificate(ctx, new, "issue", reason)
    notify_issued(ctx, new, issue_code(ctx, new))  # its holders get a code, as on issuance
    cert.replaced_by = new.serial
    return metadata(ctx, new)


def _corrected(ctx: Context, cert: Certificate, changes: Any) -> dict[str, Any]:
    if not isinstance(changes, dict):
        raise Invalid(_("changes 应为对象"), {"changes": "not an object"})
    delivery = ctx.agency(cert.agency).cases[cert.case_no].delivery
    try:
        return validate_certificate_changes(
            cert.kind, read_data(ctx, cert), changes, delivery=delivery
        )
    except CaseInvalid as invalid:
        raise Invalid(_("更正内容无效"), invalid.fields) from None


def revoke(
    ctx: Context, cert: Certificate, cause: Any, reason: Any, case_no: Any = None
) -> dict[str, Any]:
    """H-4.2 / H-4.3: revoke with a cause; the file is stamped 已注销 (H-1.7)."""
    body = validated(
        Revocation, {"cause": cause, "reason": reason, "case_no": case_no}, REVOCATION_INVALID
    )
    cause, reason, case_no = body.cause, body.reason, body.case_no
    if case_no is not None and case_no not in ctx.agency(cert.agency).cases:
        raise Invalid(_("案卷不存在"), {"case_no": _("案卷不存在")})
    revoke_certificate(ctx, cert, cause, reason, case_no)
    return metadata(ctx, cert)


def revoke_certificate(
    ctx: Context, cert: Certificate, cause: str, reason: str, case_no: str | None
) -> None:
    check_certificate(ctx, cert, "revoke")
    cert.revocation = {
        "at": ctx.now().isoformat(),
        "cause": cause,
        "cause_label": REVOCATION_CAUSES[cause],
        "reason": reason,
        "case_no": case_no,
    }
    fire_certificate(
        ctx,
        cert,
        "revoke",
        joined("${cause}: ${reason}", cause=REVOCATION_CAUSES[cause], reason=reason),
    )


def paper_event(ctx: Context, cert: Certificate, event: Any) -> dict[str, Any]:
    """H-2.3/H-2.4 paper certificate handed over; H-4.2 handed back or lost and announced."""
    ctx.require("certificate.manage")
    event = validated(PaperEvent, {"event": event}, _("事件无效")).event
    allowed_from, new_status = PAPER_EVENTS[event]
    if cert.paper_status not in allowed_from or cert.state == "draft":
        raise Conflict(
            _(
                "纸质证书状态 ${paper_status} 不允许 ${event}",
                mapping={"paper_status": cert.paper_status, "event": event},
            )
        )
    holders = read_data(ctx, cert).get("holders", ())
    if event == "issued" and any(h["id_type"] == "credit_code" for h in holders):
        raise Conflict(_("法人或其他组织仅发电子证书"))
    if event != "issued" and cert.state != "revoked":
        raise Conflict(_("证书未注销，无需交回"))
    before = certificate_state_digest(cert)
    cert.paper_status = new_status
    cert.paper_events.append({"at": ctx.now().isoformat(), "actor": ctx.actor.name, "event": event})
    ctx.audit(
        f"certificate.paper.{event}",
        certificate_label(cert),
        before,
        certificate_state_digest(cert),
    )
    return metadata(ctx, cert)


def by_holder_blind_index(ctx: Context, id_number: str) -> list[Certificate]:
    index_key = ctx.keyring.blind_index(normalize(id_number))
    return [
        agency.certificates[cert_id]
        for agency in ctx.visible_agencies()
        for cert_id in agency.catalog.holder.get(index_key)
    ]


def by_unit_number(ctx: Context, unit_number: str) -> list[Certificate]:
    """The certificates of a real-estate unit, in every agency the actor may see."""
    return [
        agency.certificates[cert_id]
        for agency in ctx.visible_agencies()
        for cert_id in agency.catalog.unit_number.get(unit_number.upper())
    ]
