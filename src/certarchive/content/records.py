"""Append-only logs of plain records: versions, workflow history, rendered files.

Records are plain ``dict`` values in an ``IOBTree`` keyed 1, 2, 3 …: appending touches
one bucket instead of rewriting a growing tuple, and plain data survives class moves and
ZODB packing (unlike ZODB history or pickled object clones).  A record is never changed
once appended.  The tree is made at the first append: most logs of a certificate
(its files when they are made on demand, its paper events, a case's scans) stay empty, and
an empty tree is one more object to store for each.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from BTrees.IOBTree import IOBTree
from persistent import Persistent


class RecordLog(Persistent):
    _records: IOBTree | None = None  # until the first append

    def __len__(self) -> int:
        # The keys are exactly 1..n, so the largest key is the length.
        return self._records.maxKey() if self._records else 0

    def append(self, record: dict[str, Any]) -> int:
        if self._records is None:
            self._records = IOBTree()
        number = len(self) + 1
        self._records[number] = dict(record, number=number)
        return number

    def __getitem__(self, number: int) -> dict[str, Any]:
        if self._records is None:
            raise KeyError(number)
        return dict(self._records[number])

    def latest(self) -> dict[str, Any] | None:
        return dict(self._records[self._records.maxKey()]) if self._records else None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (dict(record) for record in (self._records or {}).values())
