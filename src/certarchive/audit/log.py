"""An append-only log in its own database: the audit log and the sharing log.

Appending must not make every concurrent writer conflict on one hot object.  So a new
entry goes into a *pending* OOBTree under a key that is unique and time-ordered
(nanoseconds plus random bits): two transactions append different keys, and the BTree
bucket's conflict resolution merges them.  Sequencing pending entries into the numbered
Merkle log happens later in one short transaction (:meth:`AppendOnlyLog.integrate`), as a
certificate-transparency log merges its queue.  Nothing is capped and nothing is dropped.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Mapping
from typing import Any

from BTrees.IOBTree import IOBTree
from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent


class AppendOnlyLog(Persistent):
    def __init__(self, name: str) -> None:
        self.name = name
        self.pending = OOBTree()  # "time_ns-random" -> entry dict
        self.pending_count = Length()
        self.entries = IOBTree()  # seq (0-based) -> {"entry": dict, "leaf": hex}
        self.checkpoints = IOBTree()  # n -> signed checkpoint dict

    def append(self, entry: Mapping[str, Any]) -> str:
        """Queue ``entry``; it commits with the caller's transaction and never conflicts."""
        key = f"{time.time_ns():020d}-{secrets.token_hex(6)}"
        self.pending[key] = dict(entry)
        self.pending_count.change(1)
        return key

    def __len__(self) -> int:
        return len(self.entries) + self.pending_count()

    def iter_entries(self) -> Iterator[dict[str, Any]]:
        """Sequenced entries in log order, then the pending ones in time order."""
        for record in self.entries.values():
            yield dict(record["entry"])
        for entry in self.pending.values():
            yield dict(entry)


def get_log(conn: Any, database: str) -> AppendOnlyLog:
    """The log kept in ``database`` (``audit`` or ``sharing``), created on first use."""
    root = conn.get_connection(database).root()
    log = root.get("log")
    if log is None:
        log = root["log"] = AppendOnlyLog(database)
    return log
