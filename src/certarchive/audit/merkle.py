"""RFC 6962 / RFC 9162 Merkle trees, with the hash function as a parameter.

The tamper-evident logs hash with SM3 (:func:`certarchive.crypto.sm.sm3`); the public
RFC 6962 test vectors use SHA-256. Everything here takes ``h`` (bytes -> bytes) so that
the same code is pinned by those vectors and runs in production.

Leaves are hashed as ``h(0x00 || data)`` and interior nodes as ``h(0x01 || left || right)``
so that a leaf can never pass for a node. A tree of n leaves splits at the largest power
of two k < n: the left subtree is perfect, the right one holds the rest.

Proofs are computed from the roots of subtrees, asked of a callback ``root_of(start,
end)``. :func:`subtree_roots` builds one from leaf hashes (a callback ``leaf_hashes(start,
end)`` yielding the hashes of leaves ``start <= i < end`` in order) and, where the caller
kept them, the hashes of perfect subtrees that :meth:`MerkleFrontier.append` reports as it
completes them: with those at hand a proof reads O(log n) stored hashes instead of
hashing every leaf. Verifiers never raise: anything malformed is just False.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

Hash = Callable[[bytes], bytes]
LeafHashes = Callable[[int, int], Iterable[bytes]]
SubtreeRoot = Callable[[int, int], bytes]
#: A kept hash of the perfect subtree ``index`` at ``level`` (leaves index·2^level up to
#: (index+1)·2^level), or None where none was kept.
StoredNode = Callable[[int, int], bytes | None]


def leaf_hash(h: Hash, data: bytes) -> bytes:
    """The hash of one log entry: h(0x00 || data)."""
    return h(b"\x00" + data)


def node_hash(h: Hash, left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: h(0x01 || left || right)."""
    return h(b"\x01" + left + right)


class MerkleFrontier:
    """The right edge of a growing tree: the roots of its perfect subtrees, largest first.

    A tree of n leaves has one perfect subtree per set bit of n, so this holds
    popcount(n) ≤ log2(n) + 1 hashes: appending a leaf and computing the root of a log
    of millions of entries takes a few dozen hashes and no access to older entries.
    ``size`` and ``hashes`` are the whole state; store them to resume later.
    """

    def __init__(self, h: Hash, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if size < 0 or len(hashes) != size.bit_count():
            raise ValueError("a frontier of n leaves holds one hash per set bit of n")
        self._h = h
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add the next leaf hash (not the entry: hash it with :func:`leaf_hash` first).

        Returns the perfect subtrees this leaf completed, as (level, index, hash): level 1
        and up, the smallest first.
        """
        merged = leaf
        size = self.size
        level = 0
        completed = []
        while size & 1:  # each trailing 1 bit is a perfect subtree of the new one's size
            merged = node_hash(self._h, self.hashes.pop(), merged)
            size >>= 1
            level += 1
            completed.append((level, size, merged))
        self.hashes.append(merged)
        self.size += 1
        return completed

    def root(self) -> bytes:
        """The tree head: perfect subtrees folded right to left; h(b"") for the empty tree."""
        if not self.hashes:
            return self._h(b"")
        root = self.hashes[-1]
        for subtree in reversed(self.hashes[:-1]):
            root = node_hash(self._h, subtree, root)
        return root


def root_from_leaf_hashes(h: Hash, leaf_hashes: Iterable[bytes]) -> bytes:
    """The Merkle tree hash MTH of the given leaf hashes, streaming, in O(log n) memory."""
    frontier = MerkleFrontier(h)
    for leaf in leaf_hashes:
        frontier.append(leaf)
    return frontier.root()


def _split(size: int) -> int:
    """The largest power of two strictly below ``size`` (size ≥ 2): the left subtree's size."""
    return 1 << ((size - 1).bit_length() - 1)


def _no_stored_nodes(level: int, index: int) -> None:
    return None


def subtree_roots(
    h: Hash, leaf_hashes: LeafHashes, stored: StoredNode = _no_stored_nodes
) -> SubtreeRoot:
    """``root_of(start, end)``: MTH of leaves ``start <= i < end`` (end > start).

    A perfect, aligned subtree (every left subtree of a proof is one) is looked up in
    ``stored`` first and hashed from its leaves otherwise; any other range is split as
    the tree splits it, so only its right edge is ever recomputed.
    """

    def root_of(start: int, end: int) -> bytes:
        size = end - start
        if size & (size - 1) == 0 and start % size == 0:
            level = size.bit_length() - 1
            known = stored(level, start >> level)
            if known is not None:
                return known
            return root_from_leaf_hashes(h, leaf_hashes(start, end))
        middle = start + _split(size)
        return node_hash(h, root_of(start, middle), root_of(middle, end))

    return root_of


def inclusion_proof(root_of: SubtreeRoot, index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of the first ``size`` leaves.

    RFC 6962 §2.1.1, leaf-side sibling first. Raises ValueError unless 0 ≤ index < size.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    siblings = []
    start, end = 0, size
    while end - start > 1:  # descend from the root, noting the other side at each level
        middle = start + _split(end - start)
        if index < middle:
            siblings.append(root_of(middle, end))
            end = middle
        else:
            siblings.append(root_of(start, middle))
            start = middle
    return siblings[::-1]


def consistency_proof(root_of: SubtreeRoot, size1: int, size2: int) -> list[bytes]:
    """Proof that the tree of ``size1`` leaves is a prefix of the tree of ``size2``.

    RFC 6962 §2.1.2. Raises ValueError unless 0 < size1 ≤ size2 (an empty tree proves
    nothing, and the verifiers here reject it).
    """
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    nodes = []
    start, end = 0, size2
    complete = True  # whether the old tree's root is this subtree's root, so known already
    while size1 - start != end - start:
        middle = start + _split(end - start)
        if size1 <= middle:
            nodes.append(root_of(middle, end))
            end = middle
        else:
            nodes.append(root_of(start, middle))
            start = middle
            complete = False
    if not complete:
        nodes.append(root_of(start, end))
    return nodes[::-1]


def _is_hash_list(proof: object) -> bool:
    return isinstance(proof, list | tuple) and all(isinstance(p, bytes) for p in proof)


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def verify_inclusion(
    h: Hash, index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows leaf ``leaf_hash`` at ``index`` in the tree of ``size`` with
    ``root`` (RFC 9162 §2.1.3.2). False for any malformed input, never an exception."""
    if not (_is_size(index) and _is_size(size) and index < size and _is_hash_list(proof)):
        return False
    if not (isinstance(leaf_hash, bytes) and isinstance(root, bytes)):
        return False
    digest_size = len(h(b""))
    if len(leaf_hash) != digest_size or any(len(p) != digest_size for p in proof):
        return False  # e.g. an empty leaf hash would "prove" an empty root of a 1-leaf tree
    node, last = index, size - 1
    computed = leaf_hash
    for sibling in proof:
        if last == 0:
            return False  # more proof than tree
        if node & 1 or node == last:
            computed = node_hash(h, sibling, computed)
            while not node & 1 and node:  # skip levels where this node has no right sibling
                node, last = node >> 1, last >> 1
        else:
            computed = node_hash(h, computed, sibling)
        node, last = node >> 1, last >> 1
    return last == 0 and computed == root


def verify_consistency(
    h: Hash, size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree (size1, root1) to be a prefix of (size2, root2)
    (RFC 9162 §2.1.4.2). False for any malformed input, never an exception.

    Consistency with the empty tree is rejected: it holds for any tree, so a caller asking
    for it has lost track of the old tree head.
    """
    if not (_is_size(size1) and _is_size(size2) and 0 < size1 <= size2 and _is_hash_list(proof)):
        return False
    if not (isinstance(root1, bytes) and isinstance(root2, bytes)):
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if not proof:
        return False
    if size1 & (size1 - 1) == 0:  # the old tree is perfect: its root is the first node
        proof = [root1, *proof]
    node, last = size1 - 1, size2 - 1
    while node & 1:  # climb to the first level where the old tree's edge is a left child
        node, last = node >> 1, last >> 1
    old_root = new_root = proof[0]
    for sibling in proof[1:]:
        if last == 0:
            return False  # more proof than tree
        if node & 1 or node == last:
            old_root = node_hash(h, sibling, old_root)
            new_root = node_hash(h, sibling, new_root)
            while not node & 1 and node:
                node, last = node >> 1, last >> 1
        else:
            new_root = node_hash(h, new_root, sibling)
        node, last = node >> 1, last >> 1
    return last == 0 and old_root == root1 and new_root == root2
