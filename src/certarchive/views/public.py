"""Pages anyone may open: the home page, the verification page the QR code opens
(``/v/{token}``, H-1.3), its JSON twin, and the upload check ``/verify`` (H-5.1.2, H-5.2.6).

Each verification request counts against the caller's address (429 beyond the allowance).
Unknown and malformed tokens answer the same 404.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPFound
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from certarchive.i18n import LANGUAGES, _
from certarchive.services import verification
from certarchive.services.errors import Invalid, NotFound
from certarchive.views.common import limit_rate, safe_redirect
from certarchive.views.errors import TooLarge, wants_json
from certarchive.views.security import PUBLIC, make_context


@view_config(route_name="home", request_method="GET", renderer="home.jinja2")
def home(request: Request) -> dict[str, Any]:
    return {}


@view_config(route_name="language", request_method="GET")
def language(request: Request) -> Response:
    code = request.matchdict["code"]
    if code not in LANGUAGES:
        raise NotFound(_("未找到"))
    response = HTTPFound(location=safe_redirect(request.params.get("next"), "/"))
    response.set_cookie("lang", code, path="/", max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


def _lookup(request: Request) -> dict[str, Any]:
    limit_rate(request, "verify")
    try:
        return verification.by_token(make_context(request, PUBLIC), request.matchdict["token"])
    except NotFound:
        raise NotFound(verification.NOT_FOUND) from None


@view_config(route_name="verify.token", request_method="GET", renderer="verify_token.jinja2")
def verify_page(request: Request) -> dict[str, Any]:
    return {"cert": _lookup(request)}


@view_config(route_name="verify.token.json", request_method="GET", renderer="json")
def verify_json(request: Request) -> dict[str, Any]:
    return _lookup(request)


@view_config(route_name="verify.upload", request_method="GET", renderer="verify_upload.jinja2")
def upload_form(request: Request) -> dict[str, Any]:
    return {"result": None, "max_bytes": request.registry.web_settings.verify_max_bytes}


@view_config(route_name="verify.upload", request_method="POST", csrf=False)
def upload_check(request: Request) -> Any:
    """Check an uploaded file (multipart field ``file``); 413 beyond the size limit."""
    limit_rate(request, "verify")
    limit = request.registry.web_settings.verify_max_bytes
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        raise TooLarge(
            _(
                "文件过大，上限${limit} KB（${limit2}）",
                mapping={"limit": limit // 1024, "limit2": limit},
            )
        )
    if request.content_type != "multipart/form-data":
        raise Invalid(
            _("请以multipart/form-data上传文件"),
            {"file": "required"},
        )
    upload = request.POST.get("file")
    if upload is None or not hasattr(upload, "file"):
        raise Invalid(_("请选择要验证的文件"), {"file": "required"})
    pdf = upload.file.read(limit + 1)
    if len(pdf) > limit:
        raise TooLarge(
            _(
                "文件过大，上限${limit} KB（${limit2}）",
                mapping={"limit": limit // 1024, "limit2": limit},
            )
        )
    if not pdf:
        raise Invalid(_("文件为空"), {"file": "empty"})
    result = verification.verify_file(make_context(request, PUBLIC), pdf)
    if wants_json(request) or request.params.get("format") == "json":
        return Response(json_body=result, charset="utf-8")
    return render_to_response(
        "verify_upload.jinja2", {"result": result, "max_bytes": limit}, request=request
    )
