"""An append-only, tamper-evident log in its own database: the audit log and the sharing
log (H-5.2.4, H-5.2.5).

An entry first waits in a queue (:mod:`certarchive.audit.queue`): the log's own
``pending`` tree, or the log's queue in the main database's outbox.
:meth:`AppendOnlyLog.integrate` later sequences the queued entries into the numbered
log in one short transaction — as a certificate-transparency log merges its queue —
extends the RFC 6962 Merkle tree (SM3) and signs a checkpoint of its size and root with
the log's own SM2 key.  Nothing is capped and nothing is dropped: entries are never
deleted.

Integration also keeps the hash of every perfect subtree of at least
``2**NODE_LEVEL`` leaves (``nodes``, about one per 16 entries), so that an inclusion or
consistency proof reads O(log n) of them and a few leaves instead of hashing the whole
log.  They are derived data: a proof against a signed checkpoint verifies only if they
are right, and ``audit verify`` recomputes and compares each one.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from BTrees.IOBTree import IOBTree
from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent

from certarchive.audit import merkle
from certarchive.audit.entry import canonical
from certarchive.audit.queue import Outbox, QueueTree, entry_bytes, entry_dict
from certarchive.crypto.sm import SM2PrivateKey, SM2PublicKey, sm3


def leaf_data(seq: int, integrated_at: str, entry: bytes | Mapping[str, Any]) -> bytes:
    """What a leaf commits to: its position, when it was sequenced, and the entry, as
    ``canonical({"seq": seq, "integrated_at": integrated_at, "entry": entry})``.

    Canonical JSON nests (sorted keys, the same separators at every depth), so an entry
    kept as its canonical bytes is spliced in, not decoded and encoded again: the same
    bytes, which tests/test_audit_log.py checks against the definition above."""
    at = json.dumps(integrated_at, ensure_ascii=False).encode()
    return b'{"entry":%s,"integrated_at":%s,"seq":%d}' % (entry_bytes(entry), at, seq)


def checkpoint_body(log: str, size: int, root: bytes, at: str) -> bytes:
    """The bytes a checkpoint signature covers."""
    return canonical({"log": log, "size": size, "root": root.hex(), "time": at})


#: Perfect subtrees of 2**NODE_LEVEL leaves and more have their hash kept in ``nodes``.
NODE_LEVEL = 4


class AppendOnlyLog(Persistent):
    #: (level, index) -> hash of that perfect subtree.  None on logs made before it existed
    #: (restored from an old backup, or not yet evolved): such a log keeps no nodes, serves
    #: proofs from its leaves, and has none checked, until ``audit-merkle-nodes`` fills it.
    nodes: OOBTree | None = None
    #: Keys of outbox entries sequenced here whose deletion from the outbox (a transaction
    #: of the main database alone) has not been seen yet; None until the first is moved.
    moved: OOTreeSet | None = None

    def __init__(self, name: str, public_key: bytes, private_key_sealed: bytes) -> None:
        self.name = name
        self.public_key = public_key  # verifies this log's checkpoints
        self.private_key_sealed = private_key_sealed  # keyring purpose "seal"
        self.pending = QueueTree()  # this log's own queue: "time_ns-random" -> entry bytes
        # seq (0-based) -> {"entry": canonical JSON (a dict in older logs), "integrated_at",
        # "leaf": the Merkle leaf hash}
        self.entries = IOBTree()
        self.size = 0
        self.frontier: tuple[bytes, ...] = ()
        self.checkpoints = IOBTree()  # n (1-based) -> signed checkpoint dict
        self.nodes = OOBTree()

    def __len__(self) -> int:
        """Sequenced entries and those in this log's own queue (not the outbox's)."""
        return self.size + len(self.pending)

    def queued(
        self, outbox: Outbox | None = None, limit: int | None = None
    ) -> list[tuple[str, Any, bool]]:
        """``(key, value, from_outbox)`` of the first ``limit`` (default: every) entries
        waiting for this log, in key order: its own queue's and, given the outbox, those
        there it has not sequenced yet.  Both queues are read in key order and merged, so
        that a bounded batch reads only its own entries, however many wait."""
        waiting: Iterable[tuple[str, Any, bool]] = (
            (key, value, False) for key, value in self.pending.items()
        )
        if outbox is not None:
            from_outbox = (
                (key, value, True) for key, value in outbox.waiting(self.name, self.moved)
            )
            waiting = heapq.merge(waiting, from_outbox, key=lambda item: item[0])
        return list(itertools.islice(waiting, limit))

    def iter_entries(
        self, start: int = 0, outbox: Outbox | None = None
    ) -> Iterator[dict[str, Any]]:
        """Sequenced entries from ``start`` in log order, then the queued ones."""
        for record in self.entries.values(start):
            yield entry_dict(record["entry"])
        for _key, value, _from_outbox in self.queued(outbox):
            yield entry_dict(value)

    def integrate(
        self,
        signing_key: SM2PrivateKey,
        now: datetime,
        outbox: Outbox | None = None,
        limit: int | None = None,
    ) -> dict[str, Any] | None:
        """Sequence the queued entries (the first ``limit`` of them) and sign a checkpoint;
        None when nothing was queued.

        This writes the log's own database only.  An entry taken from the outbox stays
        there, its key noted in ``moved``, until :meth:`Outbox.remove` deletes it in a
        transaction of the main database alone; the next integration then forgets the key.
        Two one-database transactions: a crash between them can neither lose an entry (the
        outbox still holds it) nor sequence one twice (``moved`` names it).  One two-phase
        commit over both databases could do either, depending on which storage finished
        first.
        """
        if outbox is not None:
            self._forget_removed(outbox)
        queued = self.queued(outbox, limit)
        if not queued:
            return None
        at = now.isoformat()
        frontier = merkle.MerkleFrontier(sm3, self.size, self.frontier)
        for key, value, from_outbox in queued:
            entry = entry_bytes(value)
            leaf = merkle.leaf_hash(sm3, leaf_data(frontier.size, at, entry))
            self.entries[frontier.size] = {"entry": entry, "integrated_at": at, "leaf": leaf}
            self.keep_nodes(frontier.append(leaf))
            if from_outbox:
                if self.moved is None:
                    self.moved = OOTreeSet()
                self.moved.add(key)
            else:
                del self.pending[key]
        self.size, self.frontier = frontier.size, tuple(frontier.hashes)
        return self._sign_checkpoint(signing_key, frontier.root(), at)

    def _forget_removed(self, outbox: Outbox) -> None:
        """Drop from ``moved`` the keys whose deletion from the outbox has committed."""
        if not self.moved:
            return
        queue = outbox.queue(self.name)
        for key in [key for key in self.moved if key not in queue]:
            self.moved.remove(key)

    def _sign_checkpoint(self, key: SM2PrivateKey, root: bytes, at: str) -> dict[str, Any]:
        body = checkpoint_body(self.name, self.size, root, at)
        checkpoint = {
            "log": self.name,
            "size": self.size,
            "root": root.hex(),
            "time": at,
            "key": SM2PublicKey.from_bytes(self.public_key).fingerprint(),
            "signature": key.sign(body).hex(),
        }
        number = self.checkpoints.maxKey() + 1 if self.checkpoints else 1
        self.checkpoints[number] = checkpoint
        return checkpoint

    def latest_checkpoint(self) -> dict[str, Any] | None:
        return dict(self.checkpoints[self.checkpoints.maxKey()]) if self.checkpoints else None

    def leaf_hashes(self, start: int, end: int) -> Iterator[bytes]:
        for record in self.entries.values(start, end - 1):
            yield record["leaf"]

    def keep_nodes(self, completed: list[tuple[int, int, bytes]]) -> None:
        """Keep the large perfect subtrees that appending a leaf completed."""
        if self.nodes is None:
            return  # all or nothing: a log keeps every node from its first entry, or none
        for level, index, node in completed:
            if level >= NODE_LEVEL:
                self.nodes[(level, index)] = node

    def stored_node(self, level: int, index: int) -> bytes | None:
        return self.nodes.get((level, index)) if self.nodes is not None else None

    def subtree_roots(self) -> merkle.SubtreeRoot:
        return merkle.subtree_roots(sm3, self.leaf_hashes, self.stored_node)

    def inclusion_proof(self, seq: int, size: int) -> list[bytes]:
        return merkle.inclusion_proof(self.subtree_roots(), seq, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return merkle.consistency_proof(self.subtree_roots(), size1, size2)

    def narrow_queue(self) -> None:
        """Give a log made before :class:`QueueTree` one, keeping what it queued."""
        if type(self.pending) is not QueueTree:
            narrow = QueueTree()
            narrow.update(self.pending)
            self.pending = narrow

    def rebuild_nodes(self) -> int:
        """Fill ``nodes`` from the sequenced leaves (for logs made before it existed);
        return how many were kept."""
        self.nodes = OOBTree()
        frontier = merkle.MerkleFrontier(sm3)
        for leaf in self.leaf_hashes(0, self.size):
            self.keep_nodes(frontier.append(leaf))
        return len(self.nodes)


class LogMissing(Exception):
    """The log database holds no log: run ``certarchive init``."""


def _aad(name: str) -> bytes:
    return f"log:{name}:checkpoint-key".encode()


def create_log(conn: Any, name: str, keyring: Any) -> bool:
    """Create the log kept in database ``name`` with a fresh checkpoint key; False if present."""
    root = conn.get_connection(name).root()
    if "log" in root:
        return False
    key = SM2PrivateKey.generate()
    sealed = keyring.encrypt("seal", key.to_bytes(), _aad(name))
    root["log"] = AppendOnlyLog(name, key.public_key.to_bytes(), sealed)
    return True


def get_log(conn: Any, name: str) -> AppendOnlyLog:
    log = conn.get_connection(name).root().get("log")
    if log is None:
        raise LogMissing(f"the {name} database holds no log: run `certarchive init` first")
    return log


def signing_key(log: AppendOnlyLog, keyring: Any) -> SM2PrivateKey:
    return SM2PrivateKey.from_bytes(keyring.decrypt("seal", log.private_key_sealed, _aad(log.name)))
