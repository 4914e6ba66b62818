"""The live databases as the backup reads them: read-only storages and their iterators.

Each configured zodburi URI is opened again, read-only, next to the running server:
FileStorage then takes no lock (the server holds it), a ZEO or RelStorage client cannot
write by mistake, and a client that caches blobs gets a private, temporary cache.  Only
the storage API is used — ``lastTransaction``, ``iterator(start, stop)`` and
``loadBlob`` — which FileStorage, ZEO's ClientStorage and RelStorage all implement,
history-free RelStorage included (its iterator yields the current state of every object
grouped by the transaction that wrote it; see ``relstorage.storage.transaction_iterator``).

Consistency: the boundary of a snapshot is ``lastTransaction()`` captured before anything
is read.  History-preserving storages never change committed transactions, so iterating
up to that tid gives exactly the state at that transaction, while the server keeps
committing after it.  History-free RelStorage is consistent only inside one database
snapshot; its iterator and ``loadBlob`` use the storage's own load connection, whose
REPEATABLE READ transaction begins with ``lastTransaction`` and lasts as long as nothing
polls, which nothing here does.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ZODB.blob import is_blob_record
from ZODB.POSException import POSKeyError

from certarchive.config import DATABASE_NAMES, ConfigError

_READ_ONLY_SCHEMES = {"file", "zeo", "postgres", "mysql", "sqlite"}
# Clients that copy blobs into a local cache folder, and whether they share the server's
# blob folder instead when ``shared_blob_dir`` is not given (ZEO: no; RelStorage: yes).
_CACHING_CLIENTS = {"zeo": False, "postgres": True, "mysql": True, "sqlite": True}
_ITERATOR_ATTEMPTS = 50
_RETRY_DELAY = 0.1


def _flag(value: str | None, default: bool) -> bool:
    return default if value is None else value.lower() in {"1", "true", "yes", "on"}


def reading_uri(uri: str, cache: Path) -> tuple[str, bool]:
    """The URI to back up from, and whether its blobs go to a private cache.

    Always ``read_only=1``.  A client that downloads blobs into a cache folder gets the
    empty folder ``cache`` instead of the server's configured one: a full export fetches
    every blob revision, which must neither flood the application's cache nor stay on
    disk; each cached file is removed as soon as it has been read.
    """
    parts = urlsplit(uri)
    if parts.scheme not in _READ_ONLY_SCHEMES:
        return uri, False
    query = dict(parse_qsl(parts.query))
    query["read_only"] = "1"
    shared_default = _CACHING_CLIENTS.get(parts.scheme)
    private = (
        shared_default is not None
        and "blob_dir" in query
        and not _flag(query.get("shared_blob_dir"), shared_default)
    )
    if private:
        query["blob_dir"] = str(cache)
    return urlunsplit(parts._replace(query=urlencode(query, safe="/"))), private


@functools.cache
def resolver(scheme: str) -> Callable[[str], tuple[Callable[[], Any], dict[str, Any]]]:
    """zodburi's resolver for ``scheme``, looked up once.

    ``zodburi.resolve_uri`` scans every installed distribution's entry points for each URI
    (25 ms here), which would be most of the cost of a small incremental export.
    """
    for entry_point in importlib.metadata.entry_points(group="zodburi.resolvers"):
        if entry_point.name == scheme:
            return entry_point.load()
    raise ValueError(f"no zodburi resolver for {scheme!r}")


class Source:
    """One live database as the backup reads it."""

    def __init__(self, storage: Any, private_cache: bool) -> None:
        self.storage = storage
        self._private_cache = private_cache

    def last_transaction(self) -> bytes:
        return self.storage.lastTransaction()

    def transactions(self, start: bytes | None, stop: bytes) -> Iterator[Any]:
        """``storage.iterator(start, stop)``, retried while a commit is half written.

        FileStorage's iterator, asked to start in the middle, reads the last transaction
        of the file to choose a search direction; while the server is writing one it may
        raise ValueError ("Can't find last transaction in large file").  The commit ends
        within milliseconds, so trying again is enough.
        """
        for attempt in range(_ITERATOR_ATTEMPTS):
            try:
                iterator = self.storage.iterator(start, stop)
                break
            except ValueError:
                if attempt == _ITERATOR_ATTEMPTS - 1:
                    raise
                time.sleep(_RETRY_DELAY)
        try:
            # Not ``yield from``: RelStorage's iterator ends with ZODB's
            # StorageStopIteration, an IndexError and a StopIteration at once, and
            # ``yield from`` reads the return-value slot of StopIteration's C struct, which
            # that object lacks: the process crashes (CPython 3.11).  A for loop only tests
            # the type.
            for txn in iterator:  # noqa: UP028 (see above)
                yield txn
        finally:
            with contextlib.suppress(AttributeError):
                iterator.close()

    def open_blob(self, record: Any) -> BinaryIO | None:
        """The record's blob file opened for reading, or None if it is no blob record.

        A blob record whose file is gone (an old revision removed by packing) raises
        FileNotFoundError, so the caller can count it and copy the record without it.
        """
        if not is_blob_record(record.data):
            return None
        try:
            path = self.storage.loadBlob(record.oid, record.tid)
        except POSKeyError:
            raise FileNotFoundError(f"blob of object {record.oid.hex()}") from None
        blob = open(path, "rb")  # noqa: SIM115 (the caller closes it)
        if self._private_cache:
            os.unlink(path)  # our copy: readable until closed, gone from the disk already
        return blob


@contextlib.contextmanager
def open_sources(uris: Mapping[str, str]) -> Iterator[dict[str, Source]]:
    """Every database, opened read-only; closed (and private blob caches removed) on exit."""
    sources: dict[str, Source] = {}
    with tempfile.TemporaryDirectory(prefix="certarchive-backup-blobs-") as caches:
        try:
            for name in DATABASE_NAMES:
                uri, private = reading_uri(uris[name], Path(caches) / name)
                try:
                    factory, _ = resolver(uri.partition(":")[0])(uri)
                except (KeyError, ValueError) as exc:
                    raise ConfigError(f"setting certarchive.zodb.{name}: {exc}") from None
                sources[name] = Source(factory(), private)
            yield sources
        finally:
            for each in sources.values():
                each.storage.close()
