"""The registrars' page of reports to the e-licence library: what is pending, sent and
refused (with the library's answer), and a button that sends a refused report again
once what it refused is corrected (:mod:`certarchive.services.reporting`)."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPFound
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from certarchive.services import reporting


@view_config(
    route_name="staff.reports",
    request_method="GET",
    renderer="reports.jinja2",
    permission="certificate.manage",
)
def reports(request: Request) -> dict[str, Any]:
    return {"page": reporting.overview(request.ctx), "resent": request.params.get("resent")}


@view_config(
    route_name="staff.report.resend", request_method="POST", permission="certificate.manage"
)
def resend(request: Request) -> Response:
    row = reporting.resend(request.ctx, request.matchdict["report_id"])
    return HTTPFound(location=request.route_path("staff.reports", _query={"resent": row["id"]}))
