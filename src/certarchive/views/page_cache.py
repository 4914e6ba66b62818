"""A per-process cache of the public verification pages (``/v/{token}`` and its ``.json``).

Why: the verification page is what certarchive serves most (every QR scan, every bank
clerk's check, H-1.3), and building it costs a database connection and transaction, the
token look-up, an SM4 decryption of the certificate's data, masking and a template.  The
answer for a token changes only when the registry changes, so the finished body is kept
and served again by a WSGI layer in front of Pyramid (:class:`PageCacheMiddleware`): a hit
runs no router, no transaction and no database code at all.  A miss goes through Pyramid
as usual, and the tween :func:`page_cache_factory`, over pyramid_tm, keeps its answer.

When an entry may be served: while nothing it was built from has changed.

- Building a page records what it read: the request's connection is emptied to ghosts
  first (``cacheMinimize``), so every persistent object the view touches is loaded, and
  afterwards the objects that are no longer ghosts, with the serial (the id of the
  transaction that last wrote them) each was read at, are kept beside the page.  That is
  the certificate, its version and file logs, the agency's settings and seal, and the
  registry's root: what the page shows, and nothing that a new case, another
  certificate's change or the audit outbox writes.
- A hit first compares the *moment* (the main database's last transaction id, and the
  process's count of its own commits, :attr:`Runtime.changes`) with the one the entry
  was last known valid at: equal, and the page is served with no database work at all.
  When it moved, the entry is checked once (:class:`ReadChecker`): in a transaction of
  the cache's own connection, each recorded object fetched and its ``_p_serial``
  compared.  All equal, and the entry is valid at the new moment and served; one
  differs (a revocation, a correction, a re-issue, a seal change), and it is dropped and
  rebuilt.  So a commit costs each cached page one check of a dozen objects, still
  loaded in that connection's cache unless the commit changed them, instead of a
  rebuild of every page.  The own count is there because RelStorage's last transaction
  id does not move on a commit of this process (only when PostgreSQL is polled); every
  web request but a cached page's moves it, as does every ``Runtime.run``, so that a
  revocation made through this process shows at once on all three storages.
- The nodes of append-only indexes (the agencies and certificates folders, the token
  index: ``APPEND_ONLY`` on their classes) are left out of the reads: their entries
  never change once written and the certificate an entry names is read itself, so a
  new certificate landing in the same bucket must not make the page stale.
- Why serials and not the storage's invalidation messages: ZEO sends invalidations,
  FileStorage makes them in-process, but RelStorage has none (each connection polls
  PostgreSQL for what changed when it starts a transaction), and a hook on the DB would
  see only the first two.  Beginning a transaction and comparing serials goes through
  ZODB's public API and gives the same answer on all three, because each storage's
  connection shows the latest committed state when its transaction begins (RelStorage
  polls right then).
- The entry is younger than ``certarchive.verify_cache_seconds`` (default 5 s; 0 turns
  the cache off).  When it is older, the first request to see it rebuilds it, and until
  that request puts the new page the others are still served the old one (checked as
  above), for at most another age limit: a page asked for a few hundred times a second
  is built once, not by every request that arrives while it is being built (which made
  the p99 of a busy page 140 ms against 23 ms for hello world).  A page older than twice
  the limit is never served.  The page shows the time of the check and a reference made from it;
  and a change made by *another* process on RelStorage moves nothing here that a hit
  looks at: it shows when any other request reaches this process (which moves the own
  count, so the page is checked in a connection that polls PostgreSQL), at the latest
  when the age limit ends.  (On ZEO another process's commit moves the last transaction
  id when the server's invalidation arrives; on FileStorage there is no other process.)

What is never cached: a request that carries a session cookie or an Authorization header
(the page header then names the signed-in user), a query string, anything but ``GET``,
and any answer but 200.  Every request, hit or miss, counts against the caller's rate
limit first, once (:func:`certarchive.views.common.rate_decision`); a refused one goes to
Pyramid, whose view answers 429.  Hits carry the same security headers as any response.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import transaction
from pyramid.request import Request
from pyramid.response import Response
from ZODB.POSException import POSKeyError

from certarchive.i18n import environ_language
from certarchive.views.common import rate_decision
from certarchive.views.security import SESSION_COOKIE, request_id
from certarchive.views.tweens import security_header_items

#: The two public pages a token opens; the token's own form is checked by the view.
PAGE_PATH = re.compile(r"/v/[A-Za-z0-9_-]{16,64}(?:\.json)?")

Key = tuple[str, str]  # (path, language)
#: What moves when the registry may have changed: the main database's last transaction
#: id and the process's own count of commits (:attr:`Runtime.changes`).
Moment = tuple[bytes, int]
Reads = tuple[tuple[bytes, bytes], ...]  # (oid, serial) of every object a page was built from


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    content_type: str  # the whole header, charset included
    moment: Moment  # the last moment the page is known valid at
    expires: float
    reads: Reads = ()
    refreshing: bool = False  # past its age; one request is building it anew


def start_reading(conn: Any) -> None:
    """Turn every object of ``conn``'s cache into a ghost, so that whatever the request
    reads is loaded and shows in :func:`reads_of`."""
    conn.cacheMinimize()


def _tree_nodes(tree: Any) -> set[bytes]:
    """The oids of a BTree and of every node under its loaded inner nodes (a lookup
    loads one path from the root to a bucket)."""
    found = {tree._p_oid}
    if tree._p_changed is None:  # a ghost: nothing under it was read
        return found
    state = tree.__getstate__()
    if state is None or len(state) != 2:  # empty, or one bucket kept inside the tree
        return found
    for child in state[0][::2]:
        found.add(child._p_oid)
        if type(child) is type(tree):
            found |= _tree_nodes(child)
    return found


def reads_of(conn: Any) -> Reads:
    """The objects ``conn`` holds loaded (not ghosts), with the serial each was read at,
    less the nodes of append-only indexes (a class's ``APPEND_ONLY`` attributes: the
    agencies and certificates folders, the token index).  An entry of those never changes
    once written, and the object it names is among the reads itself, so a new entry
    (another certificate) must not make the page stale."""
    loaded = conn._cache.lru_items()
    indexes: set[bytes] = set()
    for _oid, obj in loaded:
        for name in getattr(type(obj), "APPEND_ONLY", ()):
            indexes |= _tree_nodes(getattr(obj, name))
    return tuple((oid, obj._p_serial) for oid, obj in loaded if oid not in indexes)


class ReadChecker:
    """Says whether what a page was built from is unchanged, through one connection of
    its own (see the module's docstring).

    Why one connection and not one from the pool per check: its cache keeps the objects
    of every checked page loaded, so that a check after a commit is a transaction begun
    (the storage's latest state: an object a commit changed becomes a ghost and is
    loaded again, with its new serial) and a dozen serial comparisons, about 11 µs on
    FileStorage, instead of about 0.15 ms: the pool's connections have their caches
    emptied by every page built and are replaced when more than the pool's size are
    open, so their checks loaded and unpickled every object again.  Each check ends its
    transaction: the connection holds no snapshot between checks (on RelStorage, no
    PostgreSQL session left idle in a transaction).  Checks take turns on a lock (a
    connection serves one thread at a time)."""

    def __init__(self, db: Any) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._manager = transaction.TransactionManager(explicit=True)
        self._conn: Any = None

    def unchanged(self, reads: Reads) -> bool:
        """Whether every object in ``reads`` still has the serial it was read at, in the
        database's latest committed state."""
        with self._lock:
            if self._conn is None:
                self._conn = self._db.open(transaction_manager=self._manager)
            self._manager.begin()
            try:
                for oid, serial in reads:
                    obj = self._conn.get(oid)
                    obj._p_activate()
                    if obj._p_serial != serial:
                        return False
                return True
            except POSKeyError:  # removed (packed away): the page is stale
                return False
            finally:
                self._manager.abort()

    def close(self) -> None:
        """Give the connection back (before the databases close: on RelStorage it holds
        PostgreSQL connections of its own)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


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

    def get(self, key: Key, moment: Moment, current: Callable[[Reads], bool]) -> CachedPage | None:
        """The page for ``key`` if still valid.  ``moment`` is read before the call;
        ``current(reads)`` says whether what a page was built from is unchanged, asked
        only when the moment moved since the page was last known valid (and outside the
        lock: it reads the database)."""
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                return None
            now = self._clock()
            if page.expires <= now:
                if now >= page.expires + self.seconds:  # long unused, or its rebuild failed
                    del self._pages[key]
                    return None
                if not page.refreshing:  # this request rebuilds it; the others wait not
                    self._pages[key] = dataclasses.replace(page, refreshing=True)
                    return None
            self._pages.move_to_end(key)
            if page.moment == moment:
                return page
        valid = current(page.reads)
        with self._lock:
            if self._pages.get(key) is page:
                if valid:
                    self._pages[key] = dataclasses.replace(page, moment=moment)
                else:
                    del self._pages[key]
        return page if valid else None

    def _lifetime(self) -> float:
        """Between three quarters of the limit and the limit: pages built together (after a
        commit, at start) must not all expire together and be rebuilt in one burst."""
        return self.seconds * (1 - secrets.randbelow(257) / 1024)

    def put(self, key: Key, response: Response, moment: Moment, reads: Reads = ()) -> None:
        page = CachedPage(
            body=response.body,
            content_type=response.headers["Content-Type"],
            moment=moment,
            expires=self._clock() + self._lifetime(),
            reads=reads,
        )
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)


def page_key(environ: dict[str, Any]) -> Key | None:
    """The cache key of a request whose answer may be cached, else None.  Read from the
    WSGI environ itself, as it runs on every hit; a cookie header that so much as
    mentions the session cookie's name counts as signed in (the page is then not
    cached, never wrongly served)."""
    path = environ.get("PATH_INFO", "")
    if (
        environ.get("REQUEST_METHOD") != "GET"
        or environ.get("QUERY_STRING")
        or PAGE_PATH.fullmatch(path) is None
        or SESSION_COOKIE in environ.get("HTTP_COOKIE", "")
        or "HTTP_AUTHORIZATION" in environ
    ):
        return None
    return path, environ_language(environ)


class PageCacheMiddleware:
    """The WSGI application: cached pages first, Pyramid for everything else."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.registry = app.registry
        self._cache: PageCache = app.registry.page_cache
        self._runtime = app.registry.runtime
        self._checker = ReadChecker(self._runtime.db)
        self._runtime.on_close.append(self._checker.close)

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
        key = page_key(environ)
        if key is None:
            return None
        request = Request(environ)
        request.registry = self.registry
        if not rate_decision(request, "verify").allowed:
            return None
        return self._cache.get(key, moment(self._runtime), self._checker.unchanged)


def moment(runtime: Any) -> Moment:
    return runtime.db.lastTransaction(), runtime.changes


def page_cache_factory(handler: Any, registry: Any) -> Any:
    """The tween that keeps Pyramid's answers with what they were built from; over
    pyramid_tm, so that the last transaction id is read before the request's connection
    takes its snapshot (its transaction begins in pyramid_tm's tween, below)."""
    cache: PageCache = registry.page_cache
    runtime = registry.runtime

    def page_cache(request: Request) -> Response:
        key = page_key(request.environ) if cache.enabled else None
        if key is None:
            try:
                return handler(request)
            finally:  # committed or not: checking a page too often costs little
                runtime.note_change()
        before = moment(runtime)
        conn = request.conn
        start_reading(conn)
        response = handler(request)
        if response.status_code == 200:
            cache.put(key, response, before, reads_of(conn))
        return response

    return page_cache
