"""Who the request comes from, what it may do, and the CSRF guard.

An ``Authorization: Bearer`` header names an API client (``ca_…`` keys) or a holder
session (``hs_…`` tokens); without one, the ``ca_session`` cookie names a staff or
holder session.  A bearer that does not authenticate is not replaced by the cookie.
Pyramid's security policy answers ``permits`` with the actor's permissions
(:mod:`certarchive.services.permissions`); the services check them again.

CSRF: every unsafe request authenticated by the session cookie must carry the session's
token (form field ``csrf_token`` or header ``X-CSRF-Token``).  Sign-in forms, which have no
session yet, use a double-submit cookie (view option ``csrf="pre"``).  Bearer-authenticated
API calls need no token: browsers never add that header on their own.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from pyramid.request import Request
from pyramid.security import Allowed, Denied

from certarchive.i18n import _
from certarchive.services.context import Context
from certarchive.services.errors import Forbidden
from certarchive.services.identity import (
    authenticate_client,
    client_actor_for,
    load_session,
    staff_user_actor,
)
from certarchive.services.permissions import holder_actor
from certarchive.workflow.engine import Actor

SESSION_COOKIE = "ca_session"
PRE_CSRF_COOKIE = "ca_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
INSTITUTION_ROUTES = "institution"  # route names of the institutions' clerks' pages
ANONYMOUS = Actor("anonymous", "anonymous", frozenset())
PUBLIC = Actor("public", "public", frozenset())


class CsrfRefused(Forbidden):
    code = "csrf"


@dataclass(frozen=True)
class Identity:
    kind: str  # staff | client | holder
    actor: Actor
    via: str  # cookie | bearer
    session_id: str | None = None
    session: dict[str, Any] = field(default_factory=dict)
    scopes: tuple[str, ...] = ()


# --- request helpers (added as request methods in includeme) -----------------------------


def request_id(request: Request | None = None) -> str:
    return secrets.token_hex(8)


def client_address(request: Request) -> str:
    """The caller's address; X-Forwarded-For is believed only from configured proxies, read
    from the right, skipping the trusted hops."""
    remote = request.remote_addr or ""
    web = request.registry.web_settings
    if not web.trusted_proxies or not web.is_trusted_proxy(remote):
        return remote
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not web.is_trusted_proxy(hop):
            return hop[:64]
    return hops[0][:64] if hops else remote


def make_context(request: Request, actor: Actor | None = None) -> Context:
    if actor is None:
        identity = resolve_identity(request)
        actor = identity.actor if identity else ANONYMOUS
    return request.registry.runtime.context(
        request.conn,
        actor,
        request_id=request.request_id,
        client=request.client_address,
        clock=request.registry.clock,
    )


def request_context(request: Request) -> Context:
    """``request.ctx``: the service context of the request's actor (reified)."""
    return make_context(request)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def resolve_identity(request: Request) -> Identity | None:
    """The request's identity, resolved once (inside the request's transaction)."""
    if hasattr(request, "_ca_identity"):
        return request._ca_identity
    identity = _resolve(request)
    request._ca_identity = identity
    return identity


def known_identity(request: Request) -> Identity | None:
    """The identity if it was resolved already; never touches the database."""
    return getattr(request, "_ca_identity", None)


def _resolve(request: Request) -> Identity | None:
    ctx = make_context(request, ANONYMOUS)
    token = _bearer(request)
    if token is not None:
        if token.startswith("ca_"):
            client = authenticate_client(ctx.registry, token)
            if client is None:
                return None
            return Identity("client", client_actor_for(client), "bearer", scopes=client.scopes)
        if token.startswith("hs_"):
            record = load_session(ctx, token)
            if record is None or record["kind"] != "holder":
                return None
            return Identity("holder", holder_actor(record["label"]), "bearer", token, record)
        return None
    session_id = request.cookies.get(SESSION_COOKIE)
    record = load_session(ctx, session_id) if session_id else None
    if record is None:
        return None
    if record["kind"] == "staff":
        actor = staff_user_actor(ctx, record["user"])
        if actor is None:
            return None
        return Identity("staff", actor, "cookie", session_id, record)
    if record["kind"] == "holder":
        return Identity("holder", holder_actor(record["label"]), "cookie", session_id, record)
    return None  # a "pending" session (password given, TOTP not yet) is no identity


def pending_session(request: Request) -> tuple[str, dict[str, Any]] | None:
    """The cookie's session if it awaits the TOTP step."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    record = load_session(make_context(request, ANONYMOUS), session_id)
    if record is None or record["kind"] != "pending":
        return None
    return session_id, record


class SecurityPolicy:
    def identity(self, request: Request) -> Identity | None:
        return resolve_identity(request)

    def authenticated_userid(self, request: Request) -> str | None:
        identity = resolve_identity(request)
        return identity.actor.name if identity else None

    def permits(self, request: Request, context: Any, permission: str) -> Allowed | Denied:
        identity = resolve_identity(request)
        if identity is not None and identity.actor.role == "institution":
            route = request.matched_route.name if request.matched_route else ""
            if not route.startswith(INSTITUTION_ROUTES):
                # a clerk reads only through its own pages, each of which writes the
                # sharing log; the staff pages and the JSON API would not
                return Denied("an institution's clerk uses the institution pages only")
        if identity is not None and permission in identity.actor.permissions:
            return Allowed(f"{identity.actor.role} holds {permission}")
        return Denied(f"lacks {permission}")

    def remember(self, request: Request, userid: Any, **kw: Any) -> list[tuple[str, str]]:
        return []

    def forget(self, request: Request, **kw: Any) -> list[tuple[str, str]]:
        return []


# --- cookies --------------------------------------------------------------------------


def _secure(request: Request) -> bool:
    mode = request.registry.web_settings.cookie_secure
    return mode == "true" or (mode == "auto" and request.scheme == "https")


def set_session_cookie(request: Request, response: Any, session_id: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=_secure(request),
    )


def clear_session_cookie(request: Request, response: Any) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


# --- CSRF ---------------------------------------------------------------------------------


def pre_csrf_token(request: Request) -> str:
    """The double-submit token of a sign-in form; sets its cookie when new."""
    token = request.cookies.get(PRE_CSRF_COOKIE, "")
    if len(token) != 32 or not token.replace("-", "").replace("_", "").isalnum():
        token = getattr(request, "_ca_pre_csrf", None) or secrets.token_urlsafe(24)
        request._ca_pre_csrf = token
        request.response.set_cookie(
            PRE_CSRF_COOKIE,
            token,
            path="/",
            httponly=True,
            samesite="Strict",
            secure=_secure(request),
        )
    return token


def csrf_token(request: Request) -> str | None:
    """The token a form of the signed-in session must carry."""
    identity = resolve_identity(request)
    if identity is not None and identity.via == "cookie":
        return identity.session.get("csrf")
    return None


def _supplied(request: Request) -> str:
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        token = request.POST.get(CSRF_FIELD)
    return token if isinstance(token, str) else ""


def check_csrf(request: Request, mode: Any) -> None:
    if request.method in SAFE_METHODS or mode is False:
        return
    supplied = _supplied(request)
    if mode == "pre":
        expected = request.cookies.get(PRE_CSRF_COOKIE, "")
    else:
        identity = resolve_identity(request)
        if identity is None or identity.via != "cookie":
            return
        expected = identity.session.get("csrf", "")
    if not expected or not supplied or not hmac.compare_digest(expected, supplied):
        raise CsrfRefused(_("表单已过期或来源不明，请刷新页面后重试"))


def csrf_deriver(view: Any, info: Any) -> Any:
    """View option ``csrf``: None (default: check cookie sessions), "pre" or False."""
    if info.exception_only:
        return view
    mode = info.options.get("csrf")

    def guarded(context: Any, request: Request) -> Any:
        if getattr(request, "exception", None) is None:
            check_csrf(request, mode)
        return view(context, request)

    return guarded


csrf_deriver.options = ("csrf",)  # type: ignore[attr-defined]
