"""The admin's page: staff users and API clients, what admins do day to day.

Each form calls the service function the command line calls (``certarchive user …``,
``client …``): :mod:`certarchive.services.setup` to add, :mod:`.identity` and
:mod:`.accounts` to change, so the rules and audit entries are the same through either
door.  A refusal raises and the error page says why in words (the transaction is aborted:
nothing changed).  Irreversible or disruptive actions (disable, revoke, re-enrol TOTP)
need the form's confirmation box ticked, and a revocation a reason.  A new client's key and
a new TOTP secret are shown once, on the answer to the form itself (never stored, never
in a URL, not cached).
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPFound
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from certarchive.content.principals import ROLES, SCOPES
from certarchive.i18n import _
from certarchive.services import accounts, identity, setup
from certarchive.services.errors import Invalid, NotFound

USER_ACTIONS = ("unlock", "disable", "enable", "role", "password", "totp")
CONFIRM = _("请勾选确认框后再提交")


def _text(request: Request, name: str, limit: int = 500) -> str:
    value = request.POST.get(name, "")
    return value.strip()[:limit] if isinstance(value, str) else ""


def _confirmed(request: Request) -> None:
    if request.POST.get("confirm") != "yes":
        raise Invalid(CONFIRM, {"confirm": _("须勾选")})


def _agency(request: Request) -> str | None:
    return _text(request, "agency", 64) or None


def _page(request: Request, **extra: Any) -> dict[str, Any]:
    ctx = request.ctx
    return {
        "users": accounts.user_rows(ctx),
        "clients": identity.list_clients(ctx),
        "roles": ROLES,
        "scopes": SCOPES,
        "agencies": [a.name for a in ctx.visible_agencies()],
        "can_clients": "admin.clients" in ctx.actor.permissions,
        "done": request.params.get("done"),
        "subject": request.params.get("who", ""),
        "secret": None,
        **extra,
    }


def _once(request: Request, secret: dict[str, Any]) -> Response:
    """The admin page with a secret shown once: rendered, not redirected, never cached."""
    response = render_to_response("admin.jinja2", _page(request, secret=secret), request=request)
    response.headers["Cache-Control"] = "no-store"
    return response


def _done(request: Request, what: str, who: str = "") -> HTTPFound:
    query = {"done": what, "who": who} if who else {"done": what}
    return HTTPFound(location=request.route_path("staff.admin", _query=query))


@view_config(
    route_name="staff.admin",
    request_method="GET",
    renderer="admin.jinja2",
    permission="admin.users",
)
def admin_page(request: Request) -> dict[str, Any]:
    return _page(request)


@view_config(route_name="staff.admin.users", request_method="POST", permission="admin.users")
def add_user(request: Request) -> Response:
    ctx = request.ctx
    name, role = _text(request, "name", 64), _text(request, "role", 32)
    password = accounts.check_new_password(
        request.POST.get("password", ""), request.POST.get("password_again", "")
    )
    setup.add_user(ctx, name, role, password, _agency(request))
    if role == "admin":
        return _once(request, {"kind": "totp", **identity.enroll_totp(ctx, name)})
    return _done(request, "user_added", name)


@view_config(route_name="staff.admin.user.action", request_method="POST", permission="admin.users")
def user_action(request: Request) -> Response:
    ctx = request.ctx
    name, action = request.matchdict["name"], request.matchdict["action"]
    if action not in USER_ACTIONS:
        raise NotFound(_("未找到"))
    if action == "unlock":
        identity.unlock_user(ctx, name)
        return _done(request, "unlocked", name)
    if action == "disable":
        _confirmed(request)
        accounts.disable_user(ctx, name, _text(request, "reason"))
    elif action == "enable":
        accounts.enable_user(ctx, name)
    elif action == "role":
        totp = accounts.change_role(ctx, name, _text(request, "role", 32))
        if totp is not None:
            return _once(request, {"kind": "totp", **totp})
    elif action == "password":
        password = accounts.check_new_password(
            request.POST.get("password", ""), request.POST.get("password_again", "")
        )
        accounts.reset_password(ctx, name, password)
    else:
        _confirmed(request)
        return _once(request, {"kind": "totp", **identity.enroll_totp(ctx, name)})
    return _done(request, action, name)


@view_config(route_name="staff.admin.clients", request_method="POST", permission="admin.clients")
def add_client(request: Request) -> Response:
    scopes = [s for s in request.POST.getall("scope") if isinstance(s, str)]
    created = setup.add_client(request.ctx, _text(request, "name", 64), scopes, _agency(request))
    return _once(request, {"kind": "client", **created})


@view_config(
    route_name="staff.admin.client.revoke", request_method="POST", permission="admin.clients"
)
def revoke_client(request: Request) -> Response:
    reason = _text(request, "reason")
    if not reason:
        raise Invalid(
            _("请填写吊销原因"),
            {"reason": _("必填")},
        )
    _confirmed(request)
    revoked = identity.revoke_client(request.ctx, request.matchdict["key_id"], reason)
    return _done(request, "revoked", revoked["name"])
