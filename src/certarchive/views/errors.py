"""Every refusal and failure in one shape, and the audit entry of each refused request.

JSON callers (``/api/…``, ``….json``, or ``Accept: application/json``) get CONTRACT.md's
``{"error": CODE, "message": TEXT, "fields": {...}}``; browsers get an HTML page.  No stack
trace ever reaches a client: an unexpected exception answers a generic 500 and is logged
server-side by type and place only (an exception's text may quote data).

A refused request's transaction is aborted, so its audit entry is written afterwards in a
small transaction of its own (``Runtime.run`` in a finished callback), and survives.
Unmatched URLs and public lookups (``/v/…``) answer 404 without an audit entry: anyone
may probe those and they change nothing.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any
from urllib.parse import quote, urlencode

from pyramid.exceptions import URLDecodeError
from pyramid.httpexceptions import (
    HTTPException,
    HTTPForbidden,
    HTTPFound,
    HTTPNotFound,
)
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from pyramid_retry import is_error_retryable, is_last_attempt
from transaction.interfaces import TransientError

from certarchive.i18n import _, request_translate
from certarchive.services.errors import ServiceError
from certarchive.views.i18n import LABELS
from certarchive.views.security import ANONYMOUS, known_identity

log = logging.getLogger(__name__)

NOT_FOUND = _("未找到")
UNAUTHORIZED = _("需要登录或有效的密钥")
FORBIDDEN = _("无权执行此操作")
INTERNAL = _("服务器内部错误，请稍后再试")
BUSY = _("系统繁忙，请稍后重试")


class BadRequest(ServiceError):
    status = 400
    code = "bad_request"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


class TooLarge(ServiceError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "unsupported_media_type"


class RateLimited(ServiceError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int, audit: bool = True) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.audit = audit


CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


def wants_json(request: Request) -> bool:
    path = request.path_info
    if path.startswith("/api/") or path.endswith(".json"):
        return True
    offers = request.accept.acceptable_offers(["text/html", "application/json"])
    return bool(offers) and offers[0][0] == "application/json"


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
) -> Response:
    """The refusal, as JSON or as an HTML page, in the request's language; also usable
    without raising (so that the request's transaction commits what the refusal recorded)."""
    message = request_translate(request, message)
    fields = {name: request_translate(request, text) for name, text in (fields or {}).items()}
    if wants_json(request):
        response = Response(
            json_body={"error": code, "message": message, "fields": fields},
            status=status,
            charset="utf-8",
        )
    else:
        response = render_to_response(
            "error.jinja2",
            {
                "status": status,
                "code": code,
                "message": message,
                "fields": fields,
                "back": back_link(request),
            },
            request=request,
        )
        response.status = status
    response.headers["Cache-Control"] = "no-store"
    return response


def back_link(request: Request) -> str:
    """Where the error page's "back" link leads: the page the failed form was on."""
    path = request.path_info
    if request.method == "POST" and path.startswith(("/staff/certificates/", "/staff/cases/")):
        return quote(path.rsplit("/", 1)[0])
    prefixes = ("/staff/admin", "/staff/backups", "/staff", "/institution", "/holder", "/verify")
    for prefix in prefixes:
        if path.startswith(prefix):
            return prefix
    return "/"


def audit_refusal(request: Request, status: int, code: str) -> None:
    """Write the refused request's audit entry after the request's transaction ended."""
    identity = known_identity(request)
    actor = identity.actor if identity else ANONYMOUS
    route = request.matched_route.name if request.matched_route else "(none)"
    match = request.matchdict or {}
    obj = next(
        (
            f"{kind}:{match[key]}"
            for key, kind in (
                ("serial", "certificate"),
                ("case_no", "case"),
                ("key_id", "client"),
                ("name", "user"),
            )
            if key in match
        ),
        f"route:{route}",
    )
    detail = {"status": status, "code": code, "method": request.method, "route": route}
    runtime = request.registry.runtime
    request_id = request.request_id
    client = request.client_address

    def write(ctx: Any) -> None:
        ctx.audit(f"refused.{route}", obj, result="refused", detail=detail)

    def callback(_request: Request) -> None:
        try:
            runtime.run(write, actor, request_id=request_id, client=client)
        except Exception:  # the refusal stands even if its audit entry cannot be written
            log.error("could not write the audit entry of a refused request %s", request_id)

    request.add_finished_callback(callback)


def _public_path(request: Request) -> bool:
    path = request.path_info
    return path.startswith(("/v/", "/verify")) or path == "/"


@exception_view_config(ServiceError)
def service_error(exc: ServiceError, request: Request) -> Response:
    status, code = exc.status, exc.code
    if status == 404:
        audit = known_identity(request) is not None and not _public_path(request)
    elif isinstance(exc, RateLimited):
        audit = exc.audit
    else:
        audit = True
    if audit:
        audit_refusal(request, status, code)
    response = error_response(request, status, code, exc.message, exc.fields)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    if status == 401 and request.path_info.startswith("/api/"):
        response.headers["WWW-Authenticate"] = 'Bearer realm="certarchive"'
    return response


@forbidden_view_config()
def forbidden(exc: HTTPForbidden, request: Request) -> Response:
    """Pyramid's permission check refused: 401 without an identity, else 403."""
    identity = known_identity(request)
    if identity is None:
        if request.method == "GET" and not wants_json(request):
            if request.path_info.startswith(("/staff", "/institution")):
                return HTTPFound(location="/login?" + urlencode({"next": request.path_qs}))
            if request.path_info.startswith("/holder/"):
                return HTTPFound(location="/holder")
        audit_refusal(request, 401, "unauthorized")
        response = error_response(request, 401, "unauthorized", UNAUTHORIZED)
        if request.path_info.startswith("/api/"):
            response.headers["WWW-Authenticate"] = 'Bearer realm="certarchive"'
        return response
    audit_refusal(request, 403, "forbidden")
    return error_response(request, 403, "forbidden", FORBIDDEN)


@notfound_view_config()
def not_found(exc: HTTPNotFound, request: Request) -> Response:
    return error_response(request, 404, "not_found", NOT_FOUND)


@exception_view_config(URLDecodeError)
def bad_url(exc: Exception, request: Request) -> Response:
    return error_response(request, 400, "bad_request", _("网址编码无效"))


@exception_view_config(HTTPException)
def http_exception(exc: HTTPException, request: Request) -> Response:
    if exc.code < 400:
        return exc
    code = CODES.get(exc.code, "error")
    # the status's name in the reader's language (Pyramid's own titles are English)
    return error_response(request, exc.code, code, LABELS["status"].get(exc.code, exc.title))


@exception_view_config(TransientError)
def busy(exc: TransientError, request: Request) -> Response:
    """Conflicts went on through every retry (many writers on one object, such as the
    serial counter): nothing was committed, and the same request may simply be sent
    again — payment confirmation and case recording are idempotent."""
    if not is_last_attempt(request):
        return error_response(request, 500, "internal", INTERNAL)  # pyramid_retry retries
    log.warning("request %s gave up after repeated conflicts", request.request_id)
    response = error_response(request, 503, "busy", BUSY)
    response.headers["Retry-After"] = "1"
    return response


@exception_view_config(Exception)
def internal_error(exc: Exception, request: Request) -> Response:
    retrying = is_error_retryable(request, exc) and not is_last_attempt(request)
    if not retrying:
        where = "".join(traceback.format_tb(exc.__traceback__, limit=-8))
        log.error(
            "internal error %s in request %s %s\n%s",
            type(exc).__name__,
            request.request_id,
            request.matched_route.name if request.matched_route else request.method,
            where,
        )
    return error_response(request, 500, "internal", INTERNAL)
