"""A case's scanned documents on the case page: registrars and archivists upload them
(the API's limits and checks, :mod:`certarchive.services.case_documents`) and open them,
images shown as previews; every opening is audited by the service."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPFound
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from certarchive.i18n import _
from certarchive.services import case_documents
from certarchive.services.errors import Invalid, NotFound
from certarchive.views.confirm import posted
from certarchive.views.staff import case_page


@view_config(route_name="staff.case.documents", request_method="POST", permission="case.scan")
def add_scan(request: Request) -> Any:
    """A scanned document uploaded from the case page, with the API's limits and checks;
    a refused file is named on the case page itself (422)."""
    case_no = request.matchdict["case_no"]
    limit = case_documents.MAX_BYTES
    upload = request.POST.get("file")
    try:
        if upload is None or not hasattr(upload, "file"):
            raise Invalid(_("请选择文件"), {"file": _("请选择文件")})
        data = upload.file.read(limit + 1)
        name = posted(request, "name") or upload.filename
        case_documents.add_document(request.ctx, case_no, name, upload.type, data)
    except Invalid as invalid:
        response = render_to_response(
            "case.jinja2", case_page(request, invalid.fields), request=request
        )
        response.status = 422
        return response
    return HTTPFound(
        location=request.route_path("staff.case", case_no=case_no, _query={"done": "scan"})
    )


@view_config(route_name="staff.case.document", request_method="GET", permission="case.read")
def open_scan(request: Request) -> Response:
    """A scanned document, shown in the browser (images as previews); every opening is
    audited by the service."""
    text = request.matchdict["number"]
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        raise NotFound(_("扫描件不存在"))
    record, data = case_documents.read_document(
        request.ctx, request.matchdict["case_no"], int(text)
    )
    response = Response(body=data, content_type=record["content_type"])
    extension = record["content_type"].rsplit("/", 1)[1].replace("jpeg", "jpg")
    disposition = "attachment" if request.params.get("download") else "inline"
    response.headers["Content-Disposition"] = (
        f'{disposition}; filename="document-{record["number"]}.{extension}"'
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
