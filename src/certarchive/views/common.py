"""Small helpers the views share: JSON bodies, PDF responses, rate limits, redirects."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from pyramid.request import Request
from pyramid.response import Response

from certarchive.content.certificate import Certificate
from certarchive.i18n import _
from certarchive.jsonread import JsonRefused, read_json
from certarchive.services.errors import Invalid
from certarchive.services.ratelimit import Decision
from certarchive.validation.identifiers import parse_serial
from certarchive.validation.text import text_problem
from certarchive.views.errors import BadRequest, RateLimited, TooLarge, UnsupportedMediaType
from certarchive.views.security import client_address

JSON_TYPES = ("application/json", "")


def json_body(request: Request, required: bool = True) -> Any:
    """The request's JSON body, read by :func:`certarchive.jsonread.read_json` within the
    configured limits: 413 beyond the size limit, 415 for another type, 400 if it is not
    JSON or a value breaks a limit or the text rule (the field named in ``fields``).
    An empty body is ``{}`` unless ``required``."""
    limits = request.registry.web_settings.json_limits
    if request.content_length is not None and request.content_length > limits.max_bytes:
        raise TooLarge(_("请求体过大（${max_bytes}）", mapping={"max_bytes": limits.max_bytes}))
    # ``request.body`` rewinds the (seekable, see pyramid_retry) input after reading it, so
    # an attempt retried after a conflict reads the same body again.
    raw = request.body
    if not raw.strip():
        if required:
            raise BadRequest(_("请求体为空"))
        return {}
    if request.content_type not in JSON_TYPES:
        raise UnsupportedMediaType(_("请求体须为 application/json"))
    try:
        return read_json(raw, limits)
    except JsonRefused as refused:
        if refused.kind == "too_large":
            raise TooLarge(
                _("请求体过大（${max_bytes}）", mapping={"max_bytes": limits.max_bytes})
            ) from None
        if refused.kind == "bad_text":  # well-formed JSON, a field breaking a rule: 422
            raise Invalid(
                _("字段内容无效（${message}）", mapping={"message": refused.message}),
                {refused.path or "$": refused.message},
            ) from None
        raise BadRequest(
            _("请求体无效（${message}）", mapping={"message": refused.message})
        ) from None


def json_object(request: Request, required: bool = True) -> dict[str, Any]:
    body = json_body(request, required)
    if not isinstance(body, dict):
        raise BadRequest(_("请求体须为JSON对象"))
    return body


#: Content type and file name extension of each file format.
FILE_TYPES = {"pdf": ("application/pdf", "pdf"), "ofd": ("application/ofd", "ofd")}


def download_name(cert: Certificate, file_format: str = "pdf") -> str:
    """An ASCII file name chosen by the server, never taken from the request."""
    extension = FILE_TYPES[file_format][1]
    try:
        serial = parse_serial(cert.serial or "")
        return f"certificate-{serial.kind}-{serial.year}-{serial.seq:0{serial.width}d}.{extension}"
    except (ValueError, TypeError):
        return f"certificate-{cert.id}.{extension}"


def file_response(cert: Certificate, data: bytes, file_format: str = "pdf") -> Response:
    """A certificate file as a download (PDF or OFD), never cached."""
    response = Response(body=data, content_type=FILE_TYPES[file_format][0])
    name = download_name(cert, file_format)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def pdf_response(cert: Certificate, pdf: bytes) -> Response:
    return file_response(cert, pdf, "pdf")


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
            _(
                "请求过于频繁，请${retry_after}秒后再试",
                mapping={"retry_after": decision.retry_after},
            ),
            decision.retry_after,
            audit=decision.first_refusal,
        )


#: Characters a redirect target keeps as they are; everything else is percent-encoded.
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"


def safe_redirect(target: Any, default: str) -> str:
    """The one place a caller-chosen redirect target (``next=``) is followed.

    ``target`` if it is a path on this site (no scheme, no host, no backslash, no control
    character: CR/LF would split the Location header), with characters outside ASCII
    percent-encoded (a Location header is Latin-1; a serial in a path is Chinese);
    else ``default``."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return default
    if any(c in "\\\t\r\n" for c in target) or text_problem(target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return quote(target, safe=_URL_SAFE)
