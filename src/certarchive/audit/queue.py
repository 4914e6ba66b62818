"""Where an audit or sharing entry waits between its transaction and its place in the log.

An entry commits in the same transaction as the change it records, in a *queue*: an
OOBTree under a key that is unique and time-ordered (nanoseconds plus random bits), so
that concurrent writers insert different keys and the bucket's conflict resolution
merges them instead of serialising every writer on one object.  The sequencer later
moves queued entries into the numbered Merkle log (:mod:`certarchive.audit.log`).

A queue lives in one of two places, chosen by ``certarchive.audit_queue``:

- ``main`` (the default): the :class:`Outbox` in the main database, beside the change —
  the transactional outbox.  The change and its entry are one write to one storage, so
  they are atomic even across a crash, and a transaction pays one commit (one fsync).
  An entry whose transaction changes nothing in the main database (a refusal, a bank's
  read) goes to its log's own queue instead: one commit either way, and the main
  database is written only when the registry changes.
- ``log``: the log's own ``pending`` tree in its own database, committed by two-phase
  commit with the change.  Entries never sit in the main database, at the price of a
  second database in every transaction (see docs/performance.md).

Queued entries are kept as their canonical JSON bytes, and stay so in the log: pickling
one string costs a fraction of pickling a dict of ten fields (a bucket is re-pickled
whenever a key is added to it), and the leaf a log hashes embeds exactly those bytes.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent
from ZODB.Connection import Connection

from certarchive.audit.entry import canonical

LOG_NAMES = ("audit", "sharing")
QUEUE_PLACES = ("main", "log")
OUTBOX_KEY = "certarchive.outbox"


class QueueTree(OOBTree):
    """An OOBTree whose inner nodes hold at most 16 children instead of 250.

    Time-ordered keys always land in the last bucket, and each time it splits its parent
    is rewritten.  With 250-wide nodes, a queue of a few thousand entries (a busy server
    between two sequencing rounds) re-pickled a node of some 200 children every fifth
    transaction: recording a case cost 6 % more with 3,000 entries queued than with
    none.  With 16-wide nodes it costs the same (docs/performance.md)."""

    max_internal_size = 16


def enqueue(queue: OOBTree, entry: Mapping[str, Any]) -> None:
    """Add ``entry`` to ``queue`` in the caller's transaction.  Concurrent appends merge
    (BTrees resolve inserts of different keys); one that splits a bucket another also
    changed conflicts, and the transaction is retried."""
    queue[f"{time.time_ns():020d}-{secrets.token_hex(6)}"] = canonical(entry)


def entry_bytes(value: bytes | Mapping[str, Any]) -> bytes:
    """The canonical JSON of a kept entry: as queues and logs keep it now, or as they kept
    it before (a dict)."""
    return value if isinstance(value, bytes) else canonical(value)


def entry_dict(value: bytes | Mapping[str, Any]) -> dict[str, Any]:
    """A kept entry (canonical JSON, or a dict as kept before) as a dict."""
    return json.loads(value) if isinstance(value, bytes) else dict(value)


class Outbox(Persistent):
    """The queues of both logs in the main database (``certarchive.audit_queue = main``)."""

    def __init__(self) -> None:
        self.queues = {name: QueueTree() for name in LOG_NAMES}

    def queue(self, name: str) -> OOBTree:
        return self.queues[name]

    def waiting(self, name: str, moved: OOTreeSet | None) -> Iterator[tuple[str, bytes]]:
        """Queued entries of log ``name`` not yet in it (``moved``: keys already moved)."""
        for key, value in self.queues[name].items():
            if moved is None or key not in moved:
                yield key, value

    def remove(self, name: str, keys: Iterable[str]) -> int:
        """Delete ``keys`` (those the log has moved) from the queue; return how many."""
        queue = self.queues[name]
        removed = 0
        for key in keys:
            if queue.pop(key, None) is not None:
                removed += 1
        return removed


class OutboxMissing(Exception):
    """The main database holds no outbox: run ``certarchive init``."""


def create_outbox(conn: Connection) -> None:
    """Create the outbox in the main database unless it is there already."""
    root = conn.root()
    if OUTBOX_KEY not in root:
        root[OUTBOX_KEY] = Outbox()


def get_outbox(conn: Connection) -> Outbox:
    outbox = conn.root().get(OUTBOX_KEY)
    if outbox is None:
        raise OutboxMissing("the main database holds no outbox: run `certarchive init` first")
    return outbox
