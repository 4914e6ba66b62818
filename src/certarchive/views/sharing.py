"""Sharing by the holder (授权用证): the holder's API for shares, and the public doors an
institution opens the annotated copy by (the share's address ``/s/{token}``, or its code
on ``/s``).  See :mod:`certarchive.services.sharing`."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from certarchive.services import sharing
from certarchive.views.common import json_object, limit_rate
from certarchive.views.security import resolve_identity


def _copy_response(pdf: bytes) -> Response:
    response = Response(body=pdf, content_type="application/pdf")
    response.headers["Content-Disposition"] = 'attachment; filename="annotated-copy.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


@view_config(
    route_name="api.holder.shares",
    request_method="POST",
    renderer="json",
    permission="holder.read",
)
def create(request: Request) -> dict[str, Any]:
    identity = resolve_identity(request)
    created = sharing.create_share(request.ctx, identity.session, json_object(request))
    request.response.status = 201
    return created


@view_config(
    route_name="api.holder.shares", request_method="GET", renderer="json", permission="holder.read"
)
def listed(request: Request) -> dict[str, Any]:
    identity = resolve_identity(request)
    return {"shares": sharing.holder_shares(request.ctx, identity.session)}


@view_config(route_name="api.holder.share", request_method="DELETE", permission="holder.read")
def withdraw(request: Request) -> Response:
    identity = resolve_identity(request)
    sharing.withdraw(request.ctx, identity.session, request.matchdict["share_id"])
    return Response(status=204)


@view_config(route_name="share.token", request_method="GET")
def by_address(request: Request) -> Response:
    limit_rate(request, "verify")
    return _copy_response(sharing.open_share(request.ctx, token=request.matchdict["token"]))


@view_config(route_name="share.code", request_method="GET", renderer="share_code.jinja2")
def code_form(request: Request) -> dict[str, Any]:
    return {}


@view_config(route_name="share.code", request_method="POST", csrf=False)
def by_code(request: Request) -> Response:
    limit_rate(request, "holder")  # a code is short: as few tries as a holder's sign-in
    code = request.POST.get("code")
    return _copy_response(
        sharing.open_share(request.ctx, code=code if isinstance(code, str) else "")
    )
