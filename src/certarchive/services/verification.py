"""What the public may learn about a certificate (H-1.3, H-5.1.2, H-5.2.3, H-5.2.6).

Two doors: the verification token in the QR code (``/v/{token}``), and an uploaded file
(``POST /verify``).  Both show the certificate's status (valid; revoked with date and
cause; superseded by a re-issued certificate; withdrawn for correction), kind, serial,
masked holder names (张*) and ID numbers, location, unit number, issue date, agency, seal
and the SM3 fingerprint of the current file, and nothing more personal.

An uploaded file is checked for its seal signature (offline, with the seal's public key),
then against the registry: its SM3 digest must be one of the files the registry stored
for that certificate, and its embedded metadata must agree with the registry's record
(H-5.2.6).  A file that is an earlier file of the certificate is *superseded*.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from certarchive.content.agency import Agency
from certarchive.content.certificate import KIND_TITLES, Certificate
from certarchive.crypto.sm import sm3_hex
from certarchive.documents.fields import rows_of
from certarchive.documents.metadata import (
    MetadataError,
    MetadataTooLarge,
    certificate_metadata,
    compare_metadata,
    read_metadata,
)
from certarchive.documents.verify import EARLIER, FORMAT_TEXT, VerificationReport, verify_pdf
from certarchive.i18n import _, message_of
from certarchive.ofd.verify import is_ofd, verify_ofd
from certarchive.services.certdata import read_data
from certarchive.services.certificates import mask_party
from certarchive.services.context import Context
from certarchive.services.errors import Invalid, NotFound
from certarchive.services.issuance import CHINA, certificate_document, verify_url
from certarchive.services.pdf_files import ensure_pdf
from certarchive.services.seals import registry_trust
from certarchive.services.sharing import find_share
from certarchive.validation.identifiers import mask_identifiers_in

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
NOT_FOUND = _("未找到该证照")

STATUS_TEXT = {
    "valid": _("有效"),
    "revoked": _("已注销"),
    "superseded": _("已被替代"),
    "withdrawn": _("已回退更正中，暂不有效"),
}
RESULT_TEXT = {
    **STATUS_TEXT,
    "invalid": _("文件无效"),
    "unknown": _("登记簿中无此证照"),
    "mismatch": _("文件与登记簿不一致"),
    "shared": _("加注件（授权用证）有效"),
    "share_ended": _("加注件的授权已撤回或已过期"),
}


def _agencies(ctx: Context) -> list[Agency]:
    return ctx.visible_agencies()


def find_by_token(ctx: Context, token: Any) -> Certificate:
    """The certificate this verification token names; malformed and unknown tokens both
    raise the same NotFound."""
    if isinstance(token, str) and TOKEN_PATTERN.fullmatch(token):
        for agency in _agencies(ctx):
            cert_id = agency.catalog.token.get(token)
            if cert_id is not None:
                return agency.certificates[cert_id]
    raise NotFound(NOT_FOUND)


def status_of(cert: Certificate) -> str:
    if cert.state == "revoked":
        return "superseded" if cert.replaced_by else "revoked"
    if cert.state == "draft":
        return "withdrawn"
    return "valid"


def _china_date(moment: datetime | str | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(CHINA).date().isoformat()


#: Free-text fields of the data page: an ID or phone number typed into them is masked.
FREE_TEXT = ("other_status", "notes", "other", "term", "location")


def _masked_data(data: dict[str, Any]) -> dict[str, Any]:
    """Certificate data as the public may see it: names starred, ID and phone numbers gone
    from people and masked wherever typed into free text (H-5.2.3)."""
    masked = dict(data)
    for role in ("holders", "obligors"):
        masked[role] = [
            {"name": mask_party(party)["name"], "share": party.get("share")}
            for party in data.get(role, ())
        ]
    for key in FREE_TEXT:
        if isinstance(data.get(key), str):
            masked[key] = mask_identifiers_in(data[key])
    return masked


def reference_of(ctx: Context, cert: Certificate, moment: datetime) -> str:
    """A reference for one verification: a keyed SM3 digest of the certificate and the time,
    so that the registry can later confirm a printed page it produced, without storing
    anything and without anyone else being able to forge one."""
    digest = ctx.keyring.blind_index(f"verification:{cert.id}:{moment.isoformat()}")
    return "VR-" + "-".join(digest[i : i + 4] for i in range(0, 16, 4)).upper()


def public_view(ctx: Context, cert: Certificate) -> dict[str, Any]:
    """The public facts of a certificate; names and ID numbers masked (H-5.2.3): every row
    of the data page, so that a bank clerk can compare the printout with the registry, and
    the time and reference of this verification."""
    ensure_pdf(ctx, cert)  # the page shows the file's digest
    data = read_data(ctx, cert)
    checked_at = ctx.now().astimezone(CHINA).replace(microsecond=0)
    agency = ctx.agency(cert.agency)
    file = cert.sealed_file
    status = status_of(cert)
    view: dict[str, Any] = {
        "status": status,
        "status_text": STATUS_TEXT[status],
        "kind": cert.kind,
        "kind_title": KIND_TITLES[cert.kind],
        "serial": cert.serial,
        "holders": [mask_party(p) for p in data.get("holders", ())],
        "location": data.get("location"),
        "unit_number": cert.unit_number,
        "issued_on": _china_date(cert.issued_at),
        "agency": agency.settings["agency_name"],
        "seal": {
            "name": agency.seal.name if agency.seal else None,
            "number": agency.seal.number if agency.seal else None,
        },
        "sm3": file["digest"] if file else None,
        "signed_with": file.get("signer") if file else None,
        "revocation": None,
        "replaced_by": cert.replaced_by,
        "data_page": [
            {"label": label, "value": value}
            for label, value in rows_of(cert.kind, _masked_data(data))
        ],
        "verified_at": checked_at.isoformat(),
        "reference": reference_of(ctx, cert, checked_at),
    }
    if cert.kind == "proof":
        view["obligors"] = [mask_party(p) for p in data.get("obligors", ())]
    if cert.revocation:
        view["revocation"] = {
            "revoked_on": _china_date(cert.revocation["at"]),
            "cause": cert.revocation["cause"],
            "cause_label": cert.revocation["cause_label"],
        }
    if cert.token:
        view["verify_url"] = verify_url(ctx, cert.token)
    return view


def by_token(ctx: Context, token: Any) -> dict[str, Any]:
    return public_view(ctx, find_by_token(ctx, token))


# --- uploaded files ----------------------------------------------------------------------


def _find_by_serial(ctx: Context, serial: str | None) -> Certificate | None:
    if not serial:
        return None
    normalized = serial.replace("（", "(").replace("）", ")")
    for agency in _agencies(ctx):
        cert_id = agency.catalog.serial.get(normalized)
        if cert_id is not None:
            return agency.certificates[cert_id]
    return None


def signature_facts(report: VerificationReport) -> dict[str, Any]:
    """The signatures of a report as JSON: format, signer, reason, time, certificate."""
    return {
        "valid": report.valid,
        "format": report.format,
        "format_text": FORMAT_TEXT.get(report.format or "", ""),
        "signatures": [
            {
                "signer": s.signer_name,
                "reason": s.reason,
                "signed_at": s.signed_at.isoformat() if s.signed_at else None,
                "format": s.format,
                "intact": s.intact,
                "certificate": s.certificate.as_dict() if s.certificate else None,
            }
            for s in report.signatures
        ],
    }


def revocation_stamp(report: VerificationReport) -> dict[str, str] | None:
    revoked = report.revoked
    if revoked is None:
        return None
    return {"revoked_on": revoked.revoked_on.isoformat(), "cause": revoked.cause}


def verify_file(ctx: Context, pdf: bytes) -> dict[str, Any]:
    """Check an uploaded certificate file: signature, registry consistency and status."""
    digest = sm3_hex(pdf)
    result: dict[str, Any] = {"file_sm3": digest, "size": len(pdf)}
    file_format = "ofd" if is_ofd(pdf) else "pdf"
    if file_format == "ofd":
        report = verify_ofd(pdf, registry_trust(ctx))
        cert = _find_by_serial(ctx, report.metadata.get("licenceNumber"))
    else:
        try:
            metadata: dict[str, str] | None = read_metadata(pdf)
        except MetadataTooLarge as error:
            raise Invalid(message_of(error), {"file": message_of(error)}) from None
        except MetadataError:
            metadata = None  # verify_pdf reports it; the file names no certificate
        cert = _find_by_serial(ctx, (metadata or {}).get("licenceNumber"))
        report = verify_pdf(pdf, registry_trust(ctx), metadata)
    if cert is not None:
        ensure_pdf(ctx, cert)  # compared below with the registry's current file
    result["file_format"] = file_format
    result["signature"] = signature_facts(report)
    result["revocation_stamp"] = revocation_stamp(report)
    problems = list(report.problems)
    registry: dict[str, Any] = {"found": cert is not None, "file_record": None, "problems": []}
    result["registry"] = registry
    if not report.valid:
        result.update(result="invalid", problems=problems)
        return _finish(result, cert, ctx)
    if cert is None:
        result.update(result="unknown", problems=problems)
        return _finish(result, None)
    if report.shared is not None:
        return _finish(_annotated_copy(ctx, report, digest, result, problems), cert, ctx)
    log = cert.file_log(file_format)
    records = list(log) if log is not None else []
    matching = [r for r in records if r["digest"] == digest]
    current = records[-1] if records else None
    if matching:
        registry["file_record"] = {
            "number": matching[-1]["number"],
            "version": matching[-1]["version"],
            "reason": matching[-1]["reason"],
            "stored_on": _china_date(matching[-1]["at"]),
        }
    if cert.state != "draft" and current is not None and current["digest"] == digest:
        expected = certificate_metadata(certificate_document(ctx, cert))
        registry["problems"] = compare_metadata(report.metadata, expected)
    status = status_of(cert)
    if not matching or registry["problems"]:
        outcome = "mismatch"
        problems.append(
            _("文件有本机构的有效签名，但不是登记簿存档的任何一份文件")
            if not matching
            else _("文件元数据与登记簿记录不一致")
        )
    elif status != "valid":
        outcome = status
    elif matching[-1] is current:
        outcome = "valid"
    else:
        outcome = "superseded"
    registry["consistent"] = bool(matching) and not registry["problems"]
    result.update(result=outcome, problems=problems + registry["problems"])
    return _finish(result, cert, ctx)


def _annotated_copy(
    ctx: Context,
    report: VerificationReport,
    digest: str,
    result: dict[str, Any],
    problems: list[str],
) -> dict[str, Any]:
    """An annotated copy (加注件): valid while its share lives and only as the very copy the
    registry made for it."""
    mark = report.shared
    assert mark is not None
    share = find_share(ctx, mark.share_id)
    result["annotated_copy"] = {
        "institution": mark.institution,
        "purpose": mark.purpose,
        "valid_until": mark.valid_until.isoformat(),
        "text": mark.text,
    }
    if share is None or share.file is None or share.file["digest"] != digest:
        problems.append(_("文件是加注件，但不是登记簿为该授权制作的文件"))
        outcome = "mismatch"
    else:
        outcome = "shared" if share.live(ctx.now()) else "share_ended"
    result.update(result=outcome, problems=problems)
    return result


def _finish(
    result: dict[str, Any], cert: Certificate | None, ctx: Context | None = None
) -> dict[str, Any]:
    result["result_text"] = RESULT_TEXT[result["result"]]
    result["certificate"] = public_view(ctx, cert) if cert is not None and ctx else None
    result.setdefault("problems", [])
    result["summary"] = _summary(result)
    return result


def signer_lines(signature: dict[str, Any]) -> list[str]:
    """Which certificate signed the file, and in which format, in words; nothing for a
    signature that does not verify (its certificate would vouch for nothing)."""
    if not signature["valid"]:
        return []
    lines = []
    if signature.get("format") == EARLIER:
        lines.append(signature["format_text"])
    certificates = [s["certificate"] for s in signature["signatures"] if s["certificate"]]
    if certificates:
        cert = certificates[-1]
        lines.append(
            _(
                "签名证书：${cert_subject}，序列号 ${cert_serial_number}，"
                "有效期 ${cert_not_before} 至 ${cert_not_after}。",
                mapping={
                    "cert_subject": cert["subject"],
                    "cert_serial_number": cert["serial_number"],
                    "cert_not_before": cert["not_before"][:10],
                    "cert_not_after": cert["not_after"][:10],
                },
            )
        )
    return lines


def _summary(result: dict[str, Any]) -> list[str]:
    """The outcome in plain words, Chinese / English, one sentence per finding."""
    lines = []
    outcome = result["result"]
    signature = result.get("signature")
    if signature is not None:
        lines.append(
            _("电子印章签名完好，文件自签章后未被改动。")
            if signature["valid"]
            else _("电子印章签名验证未通过。")
        )
        lines += signer_lines(signature)
    cert = result.get("certificate")
    if outcome == "unknown":
        lines.append(_("登记簿中找不到文件所载的证照编号。"))
    elif cert is not None and signature and signature["valid"]:
        if result["registry"].get("consistent"):
            lines.append(_("文件与登记簿存档一致。"))
        lines.append(
            {
                "valid": _("该证照现行有效。"),
                "revoked": _(
                    "该证照已于${revoked_on}注销（${cause}）。",
                    mapping={
                        "revoked_on": (cert.get("revocation") or {}).get("revoked_on"),
                        "cause": (cert.get("revocation") or {}).get("cause_label"),
                    },
                ),
                "superseded": _("这是该证照的较早文件，已被更新的文件或新证照替代。"),
                "withdrawn": _("该证照已回退更正，暂不有效。"),
                "mismatch": _("文件与登记簿记录不一致，不能作为有效证照。"),
                "shared": _("这是权利人授权的加注件，仅在授权范围和期限内有效。"),
                "share_ended": _("该加注件的授权已撤回或过期，不能再使用。"),
            }.get(outcome, "")
        )
        copy = result.get("annotated_copy")
        if copy:
            lines.append(
                _(
                    "加注：${copy_text}（${copy_institution}）",
                    mapping={"copy_text": copy["text"], "copy_institution": copy["institution"]},
                )
            )
        if cert.get("replaced_by"):
            lines.append(
                _(
                    "替代它的证照为${cert_replaced_by}。",
                    mapping={"cert_replaced_by": cert["replaced_by"]},
                )
            )
    return [line for line in lines if line]
