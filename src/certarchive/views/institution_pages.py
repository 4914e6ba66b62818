"""The pages of institutions' clerks (因特网从业端, H-N2): look a certificate up, see it
masked as the institution's scopes allow, download it; the institution's admin adds and
disables its clerks.  The work is :mod:`certarchive.services.institution`'s.

A look-up is a POST (an ID number never goes into a URL, where proxies and browser
histories keep it); a bad one is answered with the form again, the input kept and each
bad field named beside it.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPFound
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from certarchive.i18n import _
from certarchive.services import institution
from certarchive.services.errors import Conflict, Invalid, NotFound
from certarchive.views.common import file_response

FORMATS = ("pdf", "ofd")
CLERK_ACTIONS = ("disable", "enable")


def _field(request: Request, name: str, limit: int = 200) -> str:
    value = request.POST.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def _lookup_page(request: Request, **extra: Any) -> dict[str, Any]:
    ctx = request.ctx
    return {
        "institution": institution.client_of(ctx).name,
        "formats": [f for f in FORMATS if f in ctx.runtime.settings.formats],
        "q": "",
        "purpose": "",
        "found": None,
        "error": None,
        "problems": {},
        **extra,
    }


@view_config(
    route_name="institution",
    request_method="GET",
    renderer="institution_lookup.jinja2",
    permission="institution.lookup",
)
def lookup_form(request: Request) -> dict[str, Any]:
    return _lookup_page(request)


@view_config(
    route_name="institution",
    request_method="POST",
    renderer="institution_lookup.jinja2",
    permission="institution.lookup",
)
def lookup(request: Request) -> dict[str, Any]:
    query, purpose = _field(request, "q", 100), _field(request, "purpose", 100)
    try:
        found = institution.look_up(request.ctx, query, purpose)
    except Invalid as invalid:
        request.response.status = 422
        return _lookup_page(
            request, q=query, purpose=purpose, error=invalid.message, problems=invalid.fields
        )
    return _lookup_page(request, q=query, purpose=found["purpose"], found=found)


@view_config(
    route_name="institution.download", request_method="POST", permission="institution.lookup"
)
def download(request: Request) -> Response:
    file_format = request.matchdict["file_format"]
    if file_format not in FORMATS:
        raise NotFound(_("未找到"))
    cert, data = institution.download(
        request.ctx, request.matchdict["serial"], _field(request, "purpose", 100), file_format
    )
    return file_response(cert, data, file_format)


def _clerks_page(request: Request, **extra: Any) -> dict[str, Any]:
    return {
        "listing": institution.list_clerks(request.ctx),
        "done": request.params.get("done"),
        "secret": None,
        "problems": {},
        "error": None,
        "name": "",
        **extra,
    }


@view_config(
    route_name="institution.clerks",
    request_method="GET",
    renderer="institution_clerks.jinja2",
    permission="institution.users",
)
def clerks(request: Request) -> dict[str, Any]:
    return _clerks_page(request)


@view_config(
    route_name="institution.clerks",
    request_method="POST",
    renderer="institution_clerks.jinja2",
    permission="institution.users",
)
def add_clerk(request: Request) -> dict[str, Any]:
    """The new clerk's TOTP secret is shown once, on this answer (never in a URL)."""
    name = _field(request, "name", 64).strip()
    password = _field(request, "password", 200)
    ctx = request.ctx
    try:
        if password != _field(request, "password_again", 200):
            raise Invalid(
                _("两次输入的密码不一致"),
                {"password_again": _("须与密码相同")},
            )
        secret = institution.add_clerk(ctx, name, password, request.POST.get("admin") == "yes")
    except (Invalid, Conflict) as refused:
        request.response.status = refused.status
        return _clerks_page(request, error=refused.message, problems=refused.fields, name=name)
    return _clerks_page(request, secret=secret, done="added")


@view_config(
    route_name="institution.clerk.action", request_method="POST", permission="institution.users"
)
def clerk_action(request: Request) -> Response:
    action, name = request.matchdict["action"], request.matchdict["name"]
    if action not in CLERK_ACTIONS:
        raise NotFound(_("未找到"))
    if action == "disable":
        institution.disable_clerk(request.ctx, name, _field(request, "reason", 500).strip())
    else:
        institution.enable_clerk(request.ctx, name)
    return HTTPFound(location=request.route_path("institution.clerks", _query={"done": action}))
