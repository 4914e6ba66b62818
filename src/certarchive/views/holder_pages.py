"""The holder's pages (H-2.2): sign in with ID number and download code, list, download.

Downloads are POST forms with the session's CSRF token: the first download changes the
certificate (collection time), so a link on another site must not be able to cause it.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPFound
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from certarchive.services import holders, sharing
from certarchive.services.errors import Invalid
from certarchive.services.identity import end_session
from certarchive.views.api import HOLDER_LOCKED, HOLDER_WRONG
from certarchive.views.common import file_response, limit_rate
from certarchive.views.security import (
    SESSION_COOKIE,
    pre_csrf_token,
    resolve_identity,
    set_session_cookie,
)


def _form(
    request: Request,
    error: str | None = None,
    id_number: str = "",
    attempts_left: int | None = None,
) -> dict[str, Any]:
    """The sign-in form; after a refusal it keeps the ID number typed (never the code) and
    says how many tries are left before the 15-minute lock."""
    return {
        "token": pre_csrf_token(request),
        "error": error,
        "id_number": id_number,
        "attempts_left": attempts_left,
    }


@view_config(route_name="holder", request_method="GET", renderer="holder_login.jinja2")
def holder_form(request: Request) -> Any:
    found = resolve_identity(request)
    if found is not None and found.kind == "holder":
        return HTTPFound(location=request.route_path("holder.certificates"))
    return _form(request)


@view_config(route_name="holder", request_method="POST", renderer="holder_login.jinja2", csrf="pre")
def holder_sign_in(request: Request) -> Any:
    limit_rate(request, "holder")
    ctx = request.ctx
    try:
        outcome = holders.sign_in(
            ctx, request.POST.get("id_number"), request.POST.get("download_code")
        )
    except Invalid as invalid:
        return _form(request, invalid.message, _typed_id(request))
    if not outcome.ok:
        error = HOLDER_LOCKED if outcome.locked else HOLDER_WRONG
        return _form(request, error, _typed_id(request), outcome.attempts_left)
    end_session(ctx, request.cookies.get(SESSION_COOKIE))
    response = HTTPFound(location=request.route_path("holder.certificates"))
    set_session_cookie(request, response, outcome.token or "")
    return response


def _typed_id(request: Request) -> str:
    value = request.POST.get("id_number")
    return value.strip()[:64] if isinstance(value, str) else ""


@view_config(
    route_name="holder.certificates",
    request_method="GET",
    renderer="holder_list.jinja2",
    permission="holder.read",
)
def holder_list(request: Request) -> dict[str, Any]:
    found = resolve_identity(request)
    return {
        "certificates": holders.list_certificates(request.ctx, found.session),
        "shares": sharing.holder_shares(request.ctx, found.session),
        "created": None,
        "error": None,
    }


@view_config(
    route_name="holder.shares",
    request_method="POST",
    renderer="holder_list.jinja2",
    permission="holder.read",
)
def holder_share(request: Request) -> dict[str, Any]:
    """授权用证 from the holder's page: the address and code are shown on this page, once."""
    found = resolve_identity(request)
    form = request.POST
    days = form.get("days", "")
    body = {
        "serial": form.get("serial"),
        "institution": form.get("institution"),
        "purpose": form.get("purpose"),
        "days": int(days) if isinstance(days, str) and days.isdigit() else days,
    }
    created, error = None, None
    try:
        created = sharing.create_share(request.ctx, found.session, body)
    except Invalid as invalid:
        error = invalid
    page = holder_list(request)
    page.update(created=created, error=error)
    if error is not None:
        request.response.status = 422
    return page


@view_config(
    route_name="holder.share.withdraw", request_method="POST", permission="holder.read"
)
def holder_share_withdraw(request: Request) -> Response:
    found = resolve_identity(request)
    sharing.withdraw(request.ctx, found.session, request.matchdict["share_id"])
    return HTTPFound(location=request.route_path("holder.certificates"))


@view_config(route_name="holder.download", request_method="POST", permission="certificate.download")
def holder_download(request: Request) -> Response:
    found = resolve_identity(request)
    file_format = "ofd" if request.POST.get("format") == "ofd" else "pdf"
    serial = request.matchdict["serial"]
    cert, data = holders.download(request.ctx, found.session, serial, file_format)
    return file_response(cert, data, file_format)
