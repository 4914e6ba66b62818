"""The JSON API under /api/v1 (CONTRACT.md "HTTP"; the reference is /api/openapi.json).

Each view checks the permission Pyramid knows from the caller's role or key scopes
(403 without it, 401 without credentials), then calls one service function in the
request's transaction.  The services check again, write the audit entries, and raise
the refusals that :mod:`.errors` turns into CONTRACT.md's JSON errors.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from certarchive.i18n import _
from certarchive.schemas.bodies import CodeRequest, Comment, WechatBinding
from certarchive.schemas.errors import validated
from certarchive.services import case_documents, cases, certificates, holders, notifications
from certarchive.services.certificates import get_certificate
from certarchive.services.errors import Invalid, NotFound
from certarchive.services.identity import SESSION_TIMEOUTS, end_session
from certarchive.validation.identifiers import normalize
from certarchive.views.common import file_response, json_object, limit_rate, pdf_response
from certarchive.views.errors import RateLimited, TooLarge, error_response
from certarchive.views.security import resolve_identity

HOLDER_WRONG = _("证件号码或下载码不正确")
HOLDER_LOCKED = _("尝试次数过多，请15分钟后再试")


def _comment(request: Request) -> str:
    """The optional comment body of issuing again and filing (:class:`Comment`)."""
    body = json_object(request, required=False)
    return validated(Comment, body, _("备注无效")).comment


def _public_case(summary: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in summary.items() if key != "created"}


# --- upstream registration system ------------------------------------------------------


@view_config(
    route_name="api.cases", request_method="POST", renderer="json", permission="case.write"
)
def record_case(request: Request) -> dict[str, Any]:
    result = cases.record_case(request.ctx, json_object(request))
    request.response.status = 201 if result["created"] else 200
    return _public_case(result)


@view_config(
    route_name="api.case.payment", request_method="POST", renderer="json", permission="case.write"
)
def confirm_payment(request: Request) -> dict[str, Any]:
    return cases.confirm_payment(request.ctx, request.matchdict["case_no"], json_object(request))


@view_config(
    route_name="api.certificate.revoke",
    request_method="POST",
    renderer="json",
    permission="certificate.revoke",
)
def revoke(request: Request) -> dict[str, Any]:
    body = json_object(request)
    cert = get_certificate(request.ctx, request.matchdict["serial"])
    return certificates.revoke(
        request.ctx, cert, body.get("cause"), body.get("reason"), body.get("case_no")
    )


# --- reading: staff, institutions --------------------------------------------------------


@view_config(route_name="api.case", request_method="GET", renderer="json", permission="case.read")
def get_case(request: Request) -> dict[str, Any]:
    ctx = request.ctx
    return cases.case_summary(ctx, cases.get_case(ctx, request.matchdict["case_no"]))


@view_config(
    route_name="api.filing_queue", request_method="GET", renderer="json", permission="case.file"
)
def filing_queue(request: Request) -> dict[str, Any]:
    return {"cases": cases.filing_queue(request.ctx)}


@view_config(
    route_name="api.certificate",
    request_method="GET",
    renderer="json",
    permission="certificate.read",
)
def certificate_metadata(request: Request) -> dict[str, Any]:
    ctx = request.ctx
    return certificates.metadata(ctx, get_certificate(ctx, request.matchdict["serial"]))


@view_config(
    route_name="api.certificate.pdf", request_method="GET", permission="certificate.download_file"
)
def certificate_pdf(request: Request) -> Response:
    ctx = request.ctx
    cert = get_certificate(ctx, request.matchdict["serial"])
    return pdf_response(cert, certificates.file_for_staff(ctx, cert))


@view_config(
    route_name="api.certificate.ofd", request_method="GET", permission="certificate.download_file"
)
def certificate_ofd(request: Request) -> Response:
    """The same certificate as an OFD package (GB/T 33190), sealed (GB/T 38540)."""
    ctx = request.ctx
    cert = get_certificate(ctx, request.matchdict["serial"])
    return file_response(cert, certificates.file_for_staff(ctx, cert, "ofd"), "ofd")


@view_config(
    route_name="api.certificate.history",
    request_method="GET",
    renderer="json",
    permission="certificate.read",
)
def certificate_history(request: Request) -> dict[str, Any]:
    ctx = request.ctx
    cert = get_certificate(ctx, request.matchdict["serial"])
    return {"serial": cert.serial, "history": certificates.history(ctx, cert)}


@view_config(
    route_name="api.certificate.versions",
    request_method="GET",
    renderer="json",
    permission="certificate.read",
)
def certificate_versions(request: Request) -> dict[str, Any]:
    ctx = request.ctx
    cert = get_certificate(ctx, request.matchdict["serial"])
    return {"serial": cert.serial, "versions": certificates.versions(ctx, cert)}


@view_config(
    route_name="api.certificate.version",
    request_method="GET",
    renderer="json",
    permission="certificate.read_personal",
)
def certificate_version(request: Request) -> dict[str, Any]:
    ctx = request.ctx
    cert = get_certificate(ctx, request.matchdict["serial"])
    text = request.matchdict["number"]
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= cert.version:
        raise NotFound(_("版本不存在"))
    number = int(text)
    record = certificates.versions(ctx, cert)[number - 1]
    return {
        **record,
        "data": certificates.data_of(ctx, cert, number),
        "changes": certificates.version_diff(ctx, cert, number - 1, number) if number > 1 else {},
    }


# --- registrar: rollback, correction, re-issue, paper; archive: filing -------------------


@view_config(
    route_name="api.certificate.rollback",
    request_method="POST",
    renderer="json",
    permission="certificate.manage",
)
def rollback(request: Request) -> dict[str, Any]:
    body = json_object(request)
    cert = get_certificate(request.ctx, request.matchdict["serial"])
    return certificates.rollback(request.ctx, cert, body.get("reason"))


@view_config(
    route_name="api.certificate",
    request_method="PATCH",
    renderer="json",
    permission="certificate.manage",
)
def correct(request: Request) -> dict[str, Any]:
    body = json_object(request)
    cert = get_certificate(request.ctx, request.matchdict["serial"])
    return certificates.correct(request.ctx, cert, body.get("changes"), body.get("comment"))


@view_config(
    route_name="api.certificate.issue",
    request_method="POST",
    renderer="json",
    permission="certificate.manage",
)
def issue_again(request: Request) -> dict[str, Any]:
    comment = _comment(request)
    cert = get_certificate(request.ctx, request.matchdict["serial"])
    return certificates.issue_again(request.ctx, cert, comment)


@view_config(
    route_name="api.certificate.reissue",
    request_method="POST",
    renderer="json",
    permission="certificate.manage",
)
def reissue(request: Request) -> dict[str, Any]:
    body = json_object(request)
    cert = get_certificate(request.ctx, request.matchdict["serial"])
    result = certificates.reissue(request.ctx, cert, body.get("reason"), body.get("changes"))
    request.response.status = 201
    return result


@view_config(
    route_name="api.certificate.paper",
    request_method="POST",
    renderer="json",
    permission="certificate.manage",
)
def paper(request: Request) -> dict[str, Any]:
    body = json_object(request)
    cert = get_certificate(request.ctx, request.matchdict["serial"])
    return certificates.paper_event(request.ctx, cert, body.get("event"))


@view_config(
    route_name="api.case.file", request_method="POST", renderer="json", permission="case.file"
)
def file_case(request: Request) -> dict[str, Any]:
    return cases.file_case(request.ctx, request.matchdict["case_no"], _comment(request))


@view_config(
    route_name="api.case.documents",
    request_method="POST",
    renderer="json",
    permission="case.write",
)
def add_document(request: Request) -> dict[str, Any]:
    """A scanned document as multipart ``file`` (and an optional ``name``)."""
    limit = case_documents.MAX_BYTES
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        raise TooLarge(_("文件过大（${limit}）", mapping={"limit": limit}))
    upload = request.POST.get("file") if request.content_type == "multipart/form-data" else None
    if upload is None or not hasattr(upload, "file"):
        raise Invalid(_("请以multipart/form-data上传file"), {"file": "required"})
    data = upload.file.read(limit + 1)
    name = request.POST.get("name") or upload.filename
    result = case_documents.add_document(
        request.ctx, request.matchdict["case_no"], name, upload.type, data
    )
    request.response.status = 201
    return result


@view_config(
    route_name="api.case.documents",
    request_method="GET",
    renderer="json",
    permission="case.read",
)
def list_documents(request: Request) -> dict[str, Any]:
    case_no = request.matchdict["case_no"]
    return {"case_no": case_no, "documents": case_documents.list_documents(request.ctx, case_no)}


@view_config(
    route_name="api.case.document",
    request_method="GET",
    permission="certificate.read_personal",
)
def read_document(request: Request) -> Response:
    text = request.matchdict["number"]
    if not text.isascii() or not text.isdigit():
        raise NotFound(_("扫描件不存在"))
    record, data = case_documents.read_document(
        request.ctx, request.matchdict["case_no"], int(text)
    )
    response = Response(body=data, content_type=record["content_type"])
    extension = record["content_type"].rsplit("/", 1)[1].replace("jpeg", "jpg")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="document-{record["number"]}.{extension}"'
    )
    return response


# --- holders ------------------------------------------------------------------------------


@view_config(route_name="api.holder.session", request_method="POST", renderer="json", csrf=False)
def holder_sign_in(request: Request) -> Any:
    """Failures are answered, not raised, so that their count and audit entry commit."""
    limit_rate(request, "holder")
    body = json_object(request)
    outcome = holders.sign_in(request.ctx, body.get("id_number"), body.get("download_code"))
    if outcome.locked:
        response = error_response(request, 429, "rate_limited", HOLDER_LOCKED)
        response.headers["Retry-After"] = "900"
        return response
    if not outcome.ok:
        return error_response(request, 401, "unauthorized", HOLDER_WRONG)
    idle, absolute = SESSION_TIMEOUTS["holder"]
    request.response.status = 201
    return {
        "token": outcome.token,
        "idle_timeout": int(idle.total_seconds()),
        "expires_in": int(absolute.total_seconds()),
        "certificates": len(outcome.session["certificates"]),
    }


CODE_ACCEPTED = _(
    "如证件号码和手机号属于有效证照的权利人，新下载码将发送至该手机，原下载码随即失效"
)


@view_config(route_name="api.holder.code", request_method="POST", renderer="json", csrf=False)
def holder_code(request: Request) -> Any:
    """A new download code for a holder (CONTRACT.md): 202 whatever the pair, so that
    nothing about who holds what can be learned; limited per address and per ID number."""
    limit_rate(request, "holder")
    body = validated(CodeRequest, json_object(request), _("信息不完整"))
    blind = request.ctx.keyring.blind_index(normalize(body.id_number))
    decision = request.registry.rate_limits["holder_code"].hit(blind)
    if not decision.allowed:
        raise RateLimited(
            _(
                "申请过于频繁，请${retry_after}秒后再试",
                mapping={"retry_after": decision.retry_after},
            ),
            decision.retry_after,
            audit=decision.first_refusal,
        )
    notifications.request_code(request.ctx, body.id_number, body.phone)
    request.response.status = 202
    return {"accepted": True, "message": CODE_ACCEPTED}


@view_config(route_name="api.holder.wechat", request_method="POST", permission="holder.read")
def holder_wechat_bind(request: Request) -> Response:
    """Z-4: notices by WeChat, to the openid the official account's page got for the holder."""
    body = validated(WechatBinding, json_object(request), _("openid无效"))
    notifications.bind_wechat(request.ctx, resolve_identity(request).session, body.openid)
    return Response(status=204)


@view_config(route_name="api.holder.wechat", request_method="DELETE", permission="holder.read")
def holder_wechat_unbind(request: Request) -> Response:
    notifications.unbind_wechat(request.ctx, resolve_identity(request).session)
    return Response(status=204)


@view_config(route_name="api.holder.session", request_method="DELETE", permission="holder.read")
def holder_sign_out(request: Request) -> Response:
    identity = resolve_identity(request)
    end_session(request.ctx, identity.session_id if identity else None)
    request.ctx.audit("holder.logout", f"holder:{identity.session.get('label')}")
    return Response(status=204)


@view_config(
    route_name="api.holder.certificates",
    request_method="GET",
    renderer="json",
    permission="holder.read",
)
def holder_certificates(request: Request) -> dict[str, Any]:
    identity = resolve_identity(request)
    listed = holders.list_certificates(request.ctx, identity.session)
    for item in listed:
        for name in ("pdf", "ofd"):
            route = f"api.holder.certificate.{name}"
            item[name] = (
                request.route_path(route, serial=item["serial"])
                if name in item["formats"]
                else None
            )
    return {"certificates": listed}


@view_config(
    route_name="api.holder.certificate.pdf", request_method="GET", permission="certificate.download"
)
def holder_pdf(request: Request) -> Response:
    identity = resolve_identity(request)
    cert, pdf = holders.download(request.ctx, identity.session, request.matchdict["serial"])
    return pdf_response(cert, pdf)


@view_config(
    route_name="api.holder.certificate.ofd", request_method="GET", permission="certificate.download"
)
def holder_ofd(request: Request) -> Response:
    """The holder's OFD download; like the PDF, the first download is the collection."""
    identity = resolve_identity(request)
    session, serial = identity.session, request.matchdict["serial"]
    cert, data = holders.download(request.ctx, session, serial, "ofd")
    return file_response(cert, data, "ofd")
