"""A BTree-backed folder with an O(1) length, after Substance D's folders.

``len()`` on an OOBTree walks every bucket; a ``BTrees.Length`` counter answers at once
and resolves concurrent increments instead of conflicting.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent


class Folder(Persistent):
    #: ``add`` never overwrites and nothing removes: an entry, once written, names the same
    #: object for good, so a reader depends on that object, not on the folder's buckets
    #: (see :mod:`certarchive.views.page_cache`).
    APPEND_ONLY = ("_items",)

    def __init__(self) -> None:
        self._items = OOBTree()
        self._count = Length()

    def __len__(self) -> int:
        return self._count()

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._items.get(key, default)

    def add(self, key: str, item: Any) -> None:
        """Add ``item`` under a new ``key``; an existing key is an error, never overwritten."""
        if key in self._items:
            raise KeyError(key)
        self._items[key] = item
        self._count.change(1)

    def __iter__(self) -> Iterator[str]:
        return iter(self._items.keys())

    def keys(self, min: str | None = None, max: str | None = None) -> Iterator[str]:
        return iter(self._items.keys(min, max))

    def values(self) -> Iterator[Any]:
        return iter(self._items.values())
