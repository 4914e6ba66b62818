"""Two tweens: security headers on every response, and the sharing log (H-5.2.5).

Sharing log: every call by a sharing institution (an API client whose scopes are only
``certificates:read`` / ``certificates:download``), and every refused call of an
institution's clerk, is recorded in the separate ``sharing``
log with its route, response status, size and the SM3 digest of the body returned.  The
tween sits inside the request's transaction (under pyramid_tm, over the exception view),
so a successful call's entry commits with the request; a refused call's transaction is
aborted, so its entry is written afterwards in a small transaction of its own.  An attempt
that pyramid_retry will repeat is not recorded: its response never reaches the caller.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from pyramid_retry import is_error_retryable, is_last_attempt

from certarchive.crypto.sm import sm3_hex
from certarchive.services.permissions import SHARING_SCOPES
from certarchive.views.security import known_identity

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


#: Headers every response carries: no framing, no type sniffing, no referrer.
FIXED_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)


def security_header_items(request_id: str, path: str, https: bool) -> list[tuple[str, str]]:
    """The security headers of a response to ``path``.  Everything but static files is
    ``no-store``: pages and API answers may carry personal data."""
    items = [*FIXED_HEADERS, ("X-Request-Id", request_id)]
    if not path.startswith("/static/"):
        items.append(("Cache-Control", "no-store"))
    if https:
        items.append(("Strict-Transport-Security", "max-age=31536000"))
    return items


def security_headers_factory(handler: Any, registry: Any) -> Any:
    def security_headers(request: Request) -> Response:
        response = handler(request)
        items = security_header_items(
            request.request_id, request.path_info, request.scheme == "https"
        )
        replaced = {name.lower() for name, _ in items}
        if "cache-control" in replaced:
            replaced.add("expires")
        response.headerlist = [
            header for header in response.headerlist if header[0].lower() not in replaced
        ] + items
        return response

    return security_headers


def is_sharing_call(request: Request) -> bool:
    identity = known_identity(request)
    return (
        identity is not None
        and identity.kind == "client"
        and bool(identity.scopes)
        and set(identity.scopes) <= SHARING_SCOPES
    )


def is_clerk_call(request: Request) -> bool:
    """An institution's clerk: its look-ups and downloads write their own sharing entries
    (:mod:`certarchive.services.institution`), its refused calls are recorded here."""
    identity = known_identity(request)
    return identity is not None and identity.actor.role == "institution"


def _object(request: Request) -> str:
    match = request.matchdict or {}
    if "serial" in match:
        return f"certificate:{match['serial']}"
    if "case_no" in match:
        return f"case:{match['case_no']}"
    return f"path:{request.path_info[:200]}"


def sharing_log_factory(handler: Any, registry: Any) -> Any:
    def sharing_log(request: Request) -> Response:
        response = handler(request)
        exc = getattr(request, "exception", None)
        if not (is_sharing_call(request) or (exc is not None and is_clerk_call(request))):
            return response
        if exc is not None and is_error_retryable(request, exc) and not is_last_attempt(request):
            return response
        body = response.body or b""
        route = request.matched_route.name if request.matched_route else "(none)"
        detail = {
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "size": len(body),
            "sm3": sm3_hex(body),
        }
        action = f"share.{route}"
        obj = _object(request)
        result = "ok" if response.status_code < 400 else "refused"

        def write(ctx: Any) -> None:
            ctx.audit(action, obj, result=result, detail=detail, log="sharing")

        if exc is None:
            write(request.ctx)
        else:
            identity = known_identity(request)
            runtime = request.registry.runtime
            request_id, client = request.request_id, request.client_address
            request.add_finished_callback(
                lambda _r: runtime.run(write, identity.actor, request_id=request_id, client=client)
            )
        return response

    return sharing_log
