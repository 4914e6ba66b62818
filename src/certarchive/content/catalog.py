"""The agency's indexes: serial, verification token, unit number, holder, state, issue date,
kind, parties' names and address words (keyed: :mod:`certarchive.services.search_index`).

Plain BTrees kept up to date by the service layer in the same transaction as the change
they reflect.  Set-valued indexes use ``OOTreeSet`` whose buckets resolve concurrent
inserts of different ids; per-state counts use ``BTrees.Length`` for the same reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent


class SetIndex(Persistent):
    """key -> set of certificate ids."""

    def __init__(self) -> None:
        self._sets = OOBTree()

    def add(self, key: str, cert_id: str) -> None:
        bucket = self._sets.get(key)
        if bucket is None:
            bucket = self._sets[key] = OOTreeSet()
        bucket.insert(cert_id)

    def remove(self, key: str, cert_id: str) -> None:
        bucket = self._sets.get(key)
        if bucket is not None and cert_id in bucket:
            bucket.remove(cert_id)

    def get(self, key: str) -> list[str]:
        return list(self._sets.get(key, ()))

    def members(self, key: str) -> set[str]:
        return set(self._sets.get(key, ()))

    def index_keys(self) -> Iterator[str]:
        return iter(self._sets.keys())

    def bucket(self, key: str) -> Iterable[str]:
        """The ids under ``key``, without copying them."""
        return self._sets.get(key, ())

    def range(self, lo: str | None, hi: str | None) -> Iterator[str]:
        for bucket in self._sets.values(lo, hi):
            yield from bucket

    def estimated_size(self, key: str) -> int:
        """About how many ids ``key`` holds (within a factor of about two), read from the
        shape of its tree along one path from the root to a bucket: a few objects,
        where ``len`` would read every bucket of a set that may hold a million."""
        return _estimated_size(self._sets.get(key))


def _estimated_size(tree: Any) -> int:
    """Children of each node on the leftmost path, multiplied, times its bucket's size."""
    if tree is None:
        return 0
    if not isinstance(tree, OOTreeSet):  # a bucket (OOSet)
        return len(tree)
    state = tree.__getstate__()
    if state is None:  # empty
        return 0
    if len(state) == 1:  # one bucket kept inside the tree: ((keys,),)
        return len(state[0][0][0]) if state[0] else 0
    children = state[0]  # (child, key, child, key, …, child)
    return (len(children) + 1) // 2 * _estimated_size(children[0])


class Catalog(Persistent):
    #: Indexes whose entries, once written, are never replaced or removed (a serial and
    #: a token are given once, at issuance): a reader depends on the certificate an entry
    #: names, not on the index's buckets (see :mod:`certarchive.views.page_cache`).
    APPEND_ONLY = ("serial", "token")

    def __init__(self) -> None:
        self.serial = OOBTree()  # serial -> certificate id
        self.token = OOBTree()  # verification token -> certificate id
        self.unit_number = SetIndex()
        self.holder = SetIndex()  # HMAC-SM3 blind index of holder ID numbers -> ids
        self.state = SetIndex()
        self.issue_date = SetIndex()  # "YYYY-MM-DD" -> ids
        self.case_state = SetIndex()  # case state -> case numbers
        self.kind = SetIndex()  # certificate kind -> ids
        self.party_name = SetIndex()  # HMAC-SM3 of a holder's or obligor's full name -> ids
        self.address = SetIndex()  # HMAC-SM3 of a word of the location -> ids
        self.number = SetIndex()  # 3- to 5-character piece of a serial or case number -> ids
        self._state_counts = OOBTree()  # state -> Length

    def move_state(self, cert_id: str, old: str | None, new: str) -> None:
        if old is not None:
            self.state.remove(old, cert_id)
            self._count(old).change(-1)
        self.state.add(new, cert_id)
        self._count(new).change(1)

    def _count(self, state: str) -> Length:
        counter = self._state_counts.get(state)
        if counter is None:
            counter = self._state_counts[state] = Length()
        return counter

    def state_counts(self) -> dict[str, int]:
        return {state: counter() for state, counter in self._state_counts.items()}
