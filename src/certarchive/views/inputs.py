"""Guards at the doors, so that malformed requests are refused once, before any view.

- :class:`UrlGuard`, the outermost WSGI layer: a URL whose path or query string is not
  UTF-8 once percent-decoded answers 400 here.  Pyramid decodes the path lazily, the first
  time anything reads ``request.path_info``; that was the security-headers tween, above
  the exception views, so the error escaped to waitress as a bare 500 without the security
  headers.  Decoding here, in front of everything (the page cache included), means no
  later layer meets an undecodable URL.
- :func:`form_deriver`, a view deriver: a form body (``multipart/form-data`` or
  ``application/x-www-form-urlencoded``) that cannot be parsed, such as multipart without
  a boundary, answers 400 before the view and the CSRF check read it.  WebOb parses the
  body once and keeps the result, so the views read the parsed form at no extra cost.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from pyramid.request import Request
from webob import Request as WebRequest

from certarchive.i18n import _, in_language, locale_negotiator
from certarchive.views.errors import BadRequest
from certarchive.views.security import request_id
from certarchive.views.tweens import security_header_items

BAD_URL = _("网址编码无效")
BAD_FORM = _("表单内容无法解析")
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _is_utf8(wsgi_text: str) -> bool:
    """WSGI carries the URL's bytes as latin-1 characters; are they UTF-8 when decoded?"""
    try:
        unquote_to_bytes(wsgi_text.encode("latin-1")).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    return True


class UrlGuard:
    """The WSGI application in front of all others: 400 for an undecodable URL."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.registry = getattr(app, "registry", None)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if _is_utf8(path) and _is_utf8(environ.get("QUERY_STRING", "")):
            return self.app(environ, start_response)
        message = in_language(BAD_URL, locale_negotiator(WebRequest(environ)))
        body = json.dumps(
            {"error": "bad_request", "message": message, "fields": {}}, ensure_ascii=False
        ).encode("utf-8")
        https = environ.get("wsgi.url_scheme") == "https"
        headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *security_header_items(request_id(), "", https),
        ]
        start_response("400 Bad Request", headers)
        return [body]


def form_deriver(view: Any, info: Any) -> Any:
    """Parse a form body before the view (and the CSRF check) reads it; 400 if it cannot
    be parsed."""
    if info.exception_only:
        return view

    def parsed(context: Any, request: Request) -> Any:
        if (
            getattr(request, "exception", None) is None
            and request.method not in ("GET", "HEAD")
            and request.content_type in FORM_TYPES
        ):
            try:
                request.POST  # noqa: B018 - parsed once here, kept by WebOb for the view
            except Exception:  # WebOb raises ValueError, the cgi parser others
                raise BadRequest(BAD_FORM, {"body": BAD_FORM}) from None
        return view(context, request)

    return parsed
