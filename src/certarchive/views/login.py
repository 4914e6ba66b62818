"""Staff sign-in (password, then TOTP for admins and institutions' clerks), sign-out.

A failed attempt is answered with the form again, not raised: the failure count and its
audit entry must commit with the request.  Every answer to a failure reads the same,
whether the user is unknown, the password wrong or the account locked.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPFound
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from certarchive.i18n import _
from certarchive.services.identity import check_password, check_totp, create_session, end_session
from certarchive.services.ratelimit import RateLimiter
from certarchive.views.common import safe_redirect
from certarchive.views.errors import RateLimited
from certarchive.views.security import (
    ANONYMOUS,
    SESSION_COOKIE,
    clear_session_cookie,
    client_address,
    make_context,
    pending_session,
    pre_csrf_token,
    resolve_identity,
    set_session_cookie,
)

LOGIN_FAILED = _("用户名或密码错误，或账户已被暂时锁定（连续失败5次锁定15分钟）")
TOTP_MISSING = _(
    "管理员和机构用户须先设置动态口令：请由系统管理员运行 certarchive user totp 用户名"
)
TOTP_FAILED = _("动态口令不正确")


def _next(request: Request) -> str:
    return safe_redirect(request.params.get("next"), "/staff")


def _form(request: Request, error: str | None = None, name: str = "") -> dict[str, Any]:
    return {"token": pre_csrf_token(request), "next": _next(request), "error": error, "name": name}


@view_config(route_name="login", request_method="GET", renderer="login.jinja2")
def login_form(request: Request) -> Any:
    identity = resolve_identity(request)
    if identity is not None and identity.kind == "staff":
        return HTTPFound(location=_next(request))
    return _form(request)


def _start(request: Request, kind: str, location: str, **payload: Any) -> Response:
    """A new session (a new id: never the one the browser brought) and its cookie."""
    ctx = make_context(request, ANONYMOUS)
    end_session(ctx, request.cookies.get(SESSION_COOKIE))
    session_id, _record = create_session(ctx, kind, **payload)
    response = HTTPFound(location=location)
    set_session_cookie(request, response, session_id)
    return response


def _refuse_sprayer(request: Request) -> RateLimiter:
    """429 when the caller's address has failed too often (``certarchive.ratelimit.login``).

    Why besides the per-account lockout: an address that tries one password on many
    accounts (spraying) never meets an account's lockout, and one that tries many on one
    account locks it out for its owner (anyone could lock ``admin``).  The default allows
    fewer failures per address than the lockout needs, so one address cannot lock an
    account; an attempt refused here is not checked, so it counts against no account."""
    limiter: RateLimiter = request.registry.rate_limits["login"]
    decision = limiter.hit(client_address(request), count=False)
    if not decision.allowed:
        raise RateLimited(
            _(
                "登录失败次数过多，请${retry_after}秒后再试",
                mapping={"retry_after": decision.retry_after},
            ),
            decision.retry_after,
            audit=decision.first_refusal,
        )
    return limiter


@view_config(route_name="login", request_method="POST", renderer="login.jinja2", csrf="pre")
def login_submit(request: Request) -> Any:
    limiter = _refuse_sprayer(request)
    name = str(request.POST.get("username", "")).strip()
    password = str(request.POST.get("password", ""))
    outcome = check_password(make_context(request, ANONYMOUS), name, password)
    if not outcome.ok:
        if not outcome.totp_missing:  # the password was right: not a failure to count
            limiter.hit(client_address(request))
        return _form(request, TOTP_MISSING if outcome.totp_missing else LOGIN_FAILED, name)
    if outcome.needs_totp:
        return _start(request, "pending", "/login/totp", user=outcome.user, next=_next(request))
    return _start(request, "staff", _next(request), user=outcome.user)


@view_config(route_name="login.totp", request_method="GET", renderer="totp.jinja2")
def totp_form(request: Request) -> Any:
    if pending_session(request) is None:
        return HTTPFound(location="/login")
    return {"token": pre_csrf_token(request), "error": None}


@view_config(route_name="login.totp", request_method="POST", renderer="totp.jinja2", csrf="pre")
def totp_submit(request: Request) -> Any:
    pending = pending_session(request)
    if pending is None:
        return HTTPFound(location="/login")
    _session_id, record = pending
    code = str(request.POST.get("code", ""))[:12]
    if not check_totp(make_context(request, ANONYMOUS), record["user"], code):
        return {"token": pre_csrf_token(request), "error": TOTP_FAILED}
    target = safe_redirect(record.get("next"), "/staff")
    return _start(request, "staff", target, user=record["user"])


@view_config(route_name="logout", request_method="POST")
def logout(request: Request) -> Response:
    identity = resolve_identity(request)
    ctx = request.ctx
    if end_session(ctx, request.cookies.get(SESSION_COOKIE)) and identity is not None:
        ctx.audit("logout", f"user:{identity.actor.name}")
    target = "/holder" if identity is not None and identity.kind == "holder" else "/login"
    response = HTTPFound(location=target)
    clear_session_cookie(request, response)
    return response
