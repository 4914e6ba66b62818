"""The auditors' pages (H-5.2.4, H-5.2.5): the audit and sharing logs browsed, filtered and
paginated; one entry with its inclusion proof, checked; a filtered range exported as JSON
lines for ``certarchive audit verify --checkpoint FILE``.

The work is :mod:`certarchive.services.audit_browse`'s; a bad filter is answered with the
form again, the input kept and each bad field named beside it (nothing is read or
audited then).
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from certarchive.audit.queue import LOG_NAMES
from certarchive.services import audit_browse
from certarchive.services.errors import Invalid


def _form(request: Request) -> dict[str, str]:
    """What was typed, to put back into the form."""
    names = ("log", "actor", "action", "object", "from", "to", "agency")
    return {name: str(request.GET.get(name, ""))[:200] for name in names}


@view_config(
    route_name="staff.audit",
    request_method="GET",
    renderer="audit_log.jinja2",
    permission="audit.read",
)
def log_page(request: Request) -> dict[str, Any]:
    ctx = request.ctx
    page: dict[str, Any] = {
        "form": _form(request),
        "logs": LOG_NAMES,
        "agencies": [agency.name for agency in ctx.visible_agencies()],
        "problems": {},
        "error": None,
        "found": None,
    }
    try:
        page["found"] = audit_browse.browse(ctx, request.GET)
    except Invalid as invalid:
        request.response.status = 422
        page["error"], page["problems"] = invalid.message, invalid.fields
    return page


@view_config(
    route_name="staff.audit.entry",
    request_method="GET",
    renderer="audit_entry.jinja2",
    permission="audit.read",
)
def entry_page(request: Request) -> dict[str, Any]:
    match = request.matchdict
    return {"shown": audit_browse.entry_proof(request.ctx, match["log"], match["seq"])}


@view_config(route_name="staff.audit.export", request_method="GET", permission="audit.read")
def export(request: Request) -> Response:
    """The file is built whole before it is sent, so a refusal is a page, not half a file."""
    body = "".join(audit_browse.export_lines(request.ctx, request.GET)).encode()
    response = Response(body=body, content_type="application/x-ndjson", charset="utf-8")
    log = request.GET.get("log") if request.GET.get("log") in LOG_NAMES else "audit"
    response.headers["Content-Disposition"] = f'attachment; filename="{log}-export.jsonl"'
    return response
