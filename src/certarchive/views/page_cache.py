"""A per-process cache of the public verification pages (``/v/{token}`` and its ``.json``).

Why: the verification page is what certarchive serves most (every QR scan, every bank
clerk's check, H-1.3), and building it costs a database connection and transaction, the
token look-up, an SM4 decryption of the certificate's data, masking and a template.  The
answer for a token changes only when the registry changes, so the finished body is kept
and served again by a WSGI layer in front of Pyramid (:class:`PageCacheMiddleware`): a hit
runs no router, no transaction and no database code at all.  A miss goes through Pyramid
as usual, and the tween :func:`page_cache_factory`, over pyramid_tm, keeps its answer.

When an entry may be served:

- The main database's last transaction id is still the one read *before* the entry was
  built.  Any commit in the registry (a revocation, a correction, a re-issue, a seal
  change) moves it, so every entry built earlier is stale.  FileStorage moves it when the
  commit ends in this process; ZEO when the server's invalidation message arrives, the same
  moment an ordinary request would first see the change.
- The entry is younger than ``certarchive.verify_cache_seconds`` (default 5 s; 0 turns the
  cache off).  RelStorage moves its last transaction id only when one of the process's
  connections polls PostgreSQL, which a cache hit does not do: the age limit bounds how
  long a change made on another machine can go unseen.

What is never cached: a request that carries a session cookie or an Authorization header
(the page header then names the signed-in user), a query string, anything but ``GET``,
and any answer but 200.  Every request, hit or miss, counts against the caller's rate
limit first, once (:func:`certarchive.views.common.rate_decision`); a refused one goes to
Pyramid, whose view answers 429.  Hits carry the same security headers as any response.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from certarchive.i18n import locale_negotiator
from certarchive.views.common import rate_decision
from certarchive.views.security import SESSION_COOKIE, request_id
from certarchive.views.tweens import security_header_items

#: The two public pages a token opens; the token's own form is checked by the view.
PAGE_PATH = re.compile(r"/v/[A-Za-z0-9_-]{16,64}(?:\.json)?")

Key = tuple[str, str]  # (path, language)


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    content_type: str  # the whole header, charset included
    last_transaction: bytes
    expires: float


class PageCache:
    """At most ``size`` finished pages, the least recently used dropped first."""

    def __init__(
        self, seconds: float, size: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.size = size
        self._clock = clock
        self._pages: OrderedDict[Key, CachedPage] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.seconds > 0 and self.size > 0

    def get(self, key: Key, last_transaction: bytes) -> CachedPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                return None
            if page.last_transaction != last_transaction or page.expires <= self._clock():
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return page

    def _lifetime(self) -> float:
        """Between three quarters of the limit and the limit: pages built together (after a
        commit, at start) must not all expire together and be rebuilt in one burst."""
        return self.seconds * (1 - secrets.randbelow(257) / 1024)

    def put(self, key: Key, response: Response, last_transaction: bytes) -> None:
        page = CachedPage(
            body=response.body,
            content_type=response.headers["Content-Type"],
            last_transaction=last_transaction,
            expires=self._clock() + self._lifetime(),
        )
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)


def page_key(request: Request) -> Key | None:
    """The cache key of a request whose answer may be cached, else None."""
    if (
        request.method != "GET"
        or request.query_string
        or PAGE_PATH.fullmatch(request.path_info) is None
        or SESSION_COOKIE in request.cookies
        or "Authorization" in request.headers
    ):
        return None
    return request.path_info, locale_negotiator(request)


class PageCacheMiddleware:
    """The WSGI application: cached pages first, Pyramid for everything else."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.registry = app.registry
        self._cache: PageCache = app.registry.page_cache
        self._db = app.registry.runtime.db

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        page = self._cached(environ) if self._cache.enabled else None
        if page is None:
            return self.app(environ, start_response)
        https = environ.get("wsgi.url_scheme") == "https"
        headers = [
            ("Content-Type", page.content_type),
            ("Content-Length", str(len(page.body))),
            *security_header_items(request_id(), environ.get("PATH_INFO", ""), https),
        ]
        start_response("200 OK", headers)
        return [page.body]

    def _cached(self, environ: dict[str, Any]) -> CachedPage | None:
        if not environ.get("PATH_INFO", "").startswith("/v/"):
            return None  # every other request passes at the cost of this comparison
        request = Request(environ)
        request.registry = self.registry
        key = page_key(request)
        if key is None or not rate_decision(request, "verify").allowed:
            return None
        return self._cache.get(key, self._db.lastTransaction())


def page_cache_factory(handler: Any, registry: Any) -> Any:
    """The tween that keeps Pyramid's answers; over pyramid_tm, so that the last
    transaction id is read before the request's connection takes its snapshot."""
    cache: PageCache = registry.page_cache
    db = registry.runtime.db

    def page_cache(request: Request) -> Response:
        key = page_key(request) if cache.enabled else None
        if key is None:
            return handler(request)
        last_transaction = db.lastTransaction()
        response = handler(request)
        if response.status_code == 200:
            cache.put(key, response, last_transaction)
        return response

    return page_cache
