"""Small helpers the views share: JSON bodies, PDF responses, rate limits, redirects."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from pyramid.request import Request
from pyramid.response import Response

from certarchive.content.certificate import Certificate
from certarchive.services.ratelimit import Decision
from certarchive.validation.identifiers import parse_serial
from certarchive.views.errors import BadRequest, RateLimited, TooLarge, UnsupportedMediaType
from certarchive.views.security import client_address

JSON_TYPES = ("application/json", "")


def json_body(request: Request, required: bool = True) -> Any:
    """The request's JSON body; 413 beyond the API limit, 415 for another type, 400 if it is
    not JSON.  An empty body is ``{}`` unless ``required``."""
    limit = request.registry.web_settings.api_max_bytes
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"请求体过大 / the body exceeds {limit} bytes")
    # ``request.body`` rewinds the (seekable, see pyramid_retry) input after reading it, so
    # an attempt retried after a conflict reads the same body again.
    raw = request.body
    if len(raw) > limit:
        raise TooLarge(f"请求体过大 / the body exceeds {limit} bytes")
    if not raw.strip():
        if required:
            raise BadRequest("请求体为空 / the body is empty: send a JSON object")
        return {}
    if request.content_type not in JSON_TYPES:
        raise UnsupportedMediaType(
            "请求体须为 application/json / the body must be application/json"
        )
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise BadRequest("请求体不是有效的JSON / the body is not valid JSON") from None


def json_object(request: Request, required: bool = True) -> dict[str, Any]:
    body = json_body(request, required)
    if not isinstance(body, dict):
        raise BadRequest("请求体须为JSON对象 / the body must be a JSON object")
    return body


def download_name(cert: Certificate) -> str:
    """An ASCII file name chosen by the server, never taken from the request."""
    try:
        serial = parse_serial(cert.serial or "")
        return f"certificate-{serial.kind}-{serial.year}-{serial.seq:0{serial.width}d}.pdf"
    except (ValueError, TypeError):
        return f"certificate-{cert.id}.pdf"


def pdf_response(cert: Certificate, pdf: bytes) -> Response:
    response = Response(body=pdf, content_type="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{download_name(cert)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


#: Where a request keeps the rate limiters' decisions about it (see :func:`rate_decision`).
RATE_DECISIONS = "certarchive.rate_decisions"


def rate_decision(request: Request, name: str) -> Decision:
    """The ``name`` limiter's decision about this request, taken once: the page cache and
    the view both ask, and a request must count once (and its refusal be audited once)."""
    decisions = request.environ.setdefault(RATE_DECISIONS, {})
    if name not in decisions:
        decisions[name] = request.registry.rate_limits[name].hit(client_address(request))
    return decisions[name]


def limit_rate(request: Request, name: str) -> None:
    decision = rate_decision(request, name)
    if not decision.allowed:
        raise RateLimited(
            f"请求过于频繁，请{decision.retry_after}秒后再试 / too many requests: "
            f"retry in {decision.retry_after} s",
            decision.retry_after,
            audit=decision.first_refusal,
        )


def local_path(target: Any, default: str) -> str:
    """``target`` if it is a path on this site (no scheme, no host), else ``default``."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return default
    return target
