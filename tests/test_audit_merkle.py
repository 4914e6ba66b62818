"""certarchive.audit.merkle against every RFC 6962 vector file, a naive reference and SM3."""

import base64
import hashlib
import json
from pathlib import Path

import pytest
from gmssl import sm3 as gmssl_sm3
from hypothesis import given, settings
from hypothesis import strategies as st

from certarchive.audit.merkle import (
    MerkleFrontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    subtree_roots,
    verify_consistency,
    verify_inclusion,
)
from certarchive.crypto.sm import sm3

VECTORS = Path(__file__).parent / "vectors" / "rfc6962"
INCLUSION_FILES = sorted(VECTORS.glob("inclusion/**/*.json"))
CONSISTENCY_FILES = sorted(VECTORS.glob("consistency/**/*.json"))

# The leaves behind the vectors' happy paths (transparency-dev/merkle testonly.LeafInputs).
RFC_LEAVES = [
    bytes.fromhex(x)
    for x in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def b64(value: str) -> bytes:
    return base64.b64decode(value)


def proof_of(case: dict) -> list[bytes]:
    return [b64(p) for p in case["proof"] or []]  # JSON null is Go's nil: an empty proof


def vector_id(path: Path) -> str:
    return str(path.relative_to(VECTORS))


def naive_root(h, leaf_hashes: list[bytes]) -> bytes:
    """MTH exactly as RFC 6962 §2.1 defines it, recursively: the reference to compare with."""
    if not leaf_hashes:
        return h(b"")
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = 1
    while k * 2 < len(leaf_hashes):
        k *= 2
    return node_hash(h, naive_root(h, leaf_hashes[:k]), naive_root(h, leaf_hashes[k:]))


def getter(leaf_hashes: list[bytes], h=sha256, stored=None):
    """``root_of`` for a list of leaf hashes (and, if given, a dict of kept nodes)."""
    if stored is None:
        return subtree_roots(h, lambda start, end: leaf_hashes[start:end])
    return subtree_roots(
        h, lambda start, end: leaf_hashes[start:end], lambda *key: stored.get(key)
    )


def leaves(count: int, h=sha256) -> list[bytes]:
    return [leaf_hash(h, i.to_bytes(4, "big")) for i in range(count)]


# --- the shared vectors --------------------------------------------------------------


def test_vector_files_are_all_there():
    """Guards the parametrised tests below: an empty glob would otherwise run nothing."""
    assert len(INCLUSION_FILES) == 98
    assert len(CONSISTENCY_FILES) == 98
    assert len(list(VECTORS.rglob("*.json"))) == len(INCLUSION_FILES) + len(CONSISTENCY_FILES)


@pytest.mark.parametrize("path", INCLUSION_FILES, ids=vector_id)
def test_inclusion_vector(path):
    case = json.loads(path.read_text())
    accepted = verify_inclusion(
        sha256,
        case["leafIdx"],
        case["treeSize"],
        b64(case["leafHash"]),
        proof_of(case),
        b64(case["root"]),
    )
    assert accepted is (not case["wantErr"])


@pytest.mark.parametrize("path", CONSISTENCY_FILES, ids=vector_id)
def test_consistency_vector(path):
    case = json.loads(path.read_text())
    accepted = verify_consistency(
        sha256,
        case["size1"],
        case["size2"],
        b64(case["root1"]),
        b64(case["root2"]),
        proof_of(case),
    )
    assert accepted is (not case["wantErr"])


@pytest.mark.parametrize(
    "path", [p for p in INCLUSION_FILES if p.name == "happy-path.json"], ids=vector_id
)
def test_our_inclusion_proofs_are_the_vectors_proofs(path):
    case = json.loads(path.read_text())
    hashes = [leaf_hash(sha256, data) for data in RFC_LEAVES[: case["treeSize"]]]
    assert hashes[case["leafIdx"]] == b64(case["leafHash"])
    assert root_from_leaf_hashes(sha256, hashes) == b64(case["root"])
    proof = inclusion_proof(getter(hashes), case["leafIdx"], case["treeSize"])
    assert proof == proof_of(case)


@pytest.mark.parametrize(
    "path", [p for p in CONSISTENCY_FILES if p.name == "happy-path.json"], ids=vector_id
)
def test_our_consistency_proofs_are_the_vectors_proofs(path):
    case = json.loads(path.read_text())
    hashes = [leaf_hash(sha256, data) for data in RFC_LEAVES[: case["size2"]]]
    assert root_from_leaf_hashes(sha256, hashes[: case["size1"]]) == b64(case["root1"])
    assert root_from_leaf_hashes(sha256, hashes) == b64(case["root2"])
    proof = consistency_proof(getter(hashes), case["size1"], case["size2"])
    assert proof == proof_of(case)


# --- our own trees ---------------------------------------------------------------------


def test_empty_tree_root_is_the_hash_of_nothing():
    assert root_from_leaf_hashes(sha256, []) == sha256(b"")
    assert MerkleFrontier(sha256).root() == sha256(b"")


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=300))
def test_frontier_matches_the_recursive_definition_at_every_size(count):
    hashes = leaves(count)
    frontier = MerkleFrontier(sha256)
    for size, leaf in enumerate(hashes, start=1):
        frontier.append(leaf)
        assert len(frontier.hashes) == size.bit_count()
    assert frontier.root() == naive_root(sha256, hashes) == root_from_leaf_hashes(sha256, hashes)


def test_frontier_resumes_from_its_stored_state():
    hashes = leaves(1000)
    first = MerkleFrontier(sha256)
    for leaf in hashes[:777]:
        first.append(leaf)
    resumed = MerkleFrontier(sha256, first.size, first.hashes)
    for leaf in hashes[777:]:
        resumed.append(leaf)
    assert resumed.root() == naive_root(sha256, hashes)
    with pytest.raises(ValueError):
        MerkleFrontier(sha256, 777, first.hashes[:-1])


def test_root_of_a_long_log_streams():
    """Leaf hashes from a generator, never all in memory; the same root as the definition."""
    count = 100_003
    streamed = root_from_leaf_hashes(sha256, (sha256(i.to_bytes(4, "big")) for i in range(count)))
    assert streamed == naive_root(sha256, [sha256(i.to_bytes(4, "big")) for i in range(count)])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_inclusion_proofs_verify_and_alterations_do_not(data):
    size = data.draw(st.integers(min_value=1, max_value=200), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    hashes = leaves(size)
    root = naive_root(sha256, hashes)
    proof = inclusion_proof(getter(hashes), index, size)
    assert verify_inclusion(sha256, index, size, hashes[index], proof, root)

    other = (index + 1) % size
    if other != index:
        assert not verify_inclusion(sha256, other, size, hashes[index], proof, root)
        assert not verify_inclusion(sha256, index, size, hashes[other], proof, root)
    assert not verify_inclusion(sha256, index, size, hashes[index], proof, sha256(b"other"))
    assert not verify_inclusion(sha256, index, size, hashes[index][:-1], proof, root)
    assert not verify_inclusion(sha256, index, size, hashes[index], [*proof, root], root)
    if proof:
        position = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="pos")
        tampered = list(proof)
        tampered[position] = bytes([tampered[position][0] ^ 1]) + tampered[position][1:]
        assert not verify_inclusion(sha256, index, size, hashes[index], tampered, root)
        assert not verify_inclusion(sha256, index, size, hashes[index], proof[:-1], root)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_consistency_proofs_verify_and_alterations_do_not(data):
    size2 = data.draw(st.integers(min_value=1, max_value=200), label="size2")
    size1 = data.draw(st.integers(min_value=1, max_value=size2), label="size1")
    hashes = leaves(size2)
    root1, root2 = naive_root(sha256, hashes[:size1]), naive_root(sha256, hashes)
    proof = consistency_proof(getter(hashes), size1, size2)
    assert verify_consistency(sha256, size1, size2, root1, root2, proof)

    if size1 < size2:
        assert not verify_consistency(sha256, size1, size2, root2, root1, proof)
        assert not verify_consistency(sha256, size1 + 1, size2, root1, root2, proof)
        assert not verify_consistency(sha256, size1, size2, root1, root2, [*proof, root1])
        assert not verify_consistency(sha256, size1, size2, root1, root2, proof[:-1])
        position = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="pos")
        tampered = list(proof)
        tampered[position] = bytes([tampered[position][0] ^ 1]) + tampered[position][1:]
        assert not verify_consistency(sha256, size1, size2, root1, root2, tampered)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 64, 100, 257])
def test_the_frontier_reports_every_perfect_subtree_it_completes(size):
    """Each (level, index, hash) is MTH of leaves index·2^level …, and there is one per
    perfect aligned subtree of two leaves or more: n − popcount(n) of them."""
    hashes = leaves(size)
    frontier = MerkleFrontier(sha256)
    reported = [node for leaf in hashes for node in frontier.append(leaf)]
    assert len(reported) == size - size.bit_count()
    assert len({(level, index) for level, index, _ in reported}) == len(reported)
    for level, index, node in reported:
        width = 1 << level
        assert node == naive_root(sha256, hashes[index * width : (index + 1) * width])


def kept_nodes(hashes: list[bytes], lowest: int) -> dict[tuple[int, int], bytes]:
    frontier = MerkleFrontier(sha256)
    return {
        (level, index): node
        for leaf in hashes
        for level, index, node in frontier.append(leaf)
        if level >= lowest
    }


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_kept_nodes_give_the_same_proofs_from_a_few_leaves(data):
    size = data.draw(st.integers(min_value=1, max_value=3000), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    size1 = data.draw(st.integers(min_value=1, max_value=size), label="size1")
    hashes = leaves(size)
    stored = kept_nodes(hashes, 4)
    read: list[int] = []

    def counted(start: int, end: int) -> list[bytes]:
        read.append(end - start)
        return hashes[start:end]

    with_nodes = subtree_roots(sha256, counted, lambda *key: stored.get(key))
    assert inclusion_proof(with_nodes, index, size) == inclusion_proof(getter(hashes), index, size)
    assert consistency_proof(with_nodes, size1, size) == consistency_proof(
        getter(hashes), size1, size
    )
    # only ranges under 16 leaves are hashed from leaves: two proofs, ≤ 12 levels each
    assert all(width < 16 for width in read) and sum(read) <= 2 * 12 * 15


def test_a_wrong_kept_node_makes_the_proof_fail():
    hashes = leaves(1000)
    stored = kept_nodes(hashes, 4)
    stored[(6, 1)] = sha256(b"forged")  # leaves 64…127: a sibling on leaf 0's path
    root = naive_root(sha256, hashes)
    proof = inclusion_proof(getter(hashes, stored=stored), 0, 1000)
    assert not verify_inclusion(sha256, 0, 1000, hashes[0], proof, root)
    assert proof != inclusion_proof(getter(hashes), 0, 1000)


def test_a_rewritten_history_is_not_consistent():
    hashes = leaves(50)
    forged = [*hashes[:20], leaf_hash(sha256, b"forged"), *hashes[21:]]
    root1 = naive_root(sha256, hashes[:30])
    proof = consistency_proof(getter(forged), 30, 50)
    assert not verify_consistency(sha256, 30, 50, root1, naive_root(sha256, forged), proof)


@pytest.mark.parametrize(
    ("index", "size"), [(0, 0), (3, 3), (-1, 5)], ids=["empty", "past-end", "negative"]
)
def test_inclusion_proof_refuses_impossible_positions(index, size):
    with pytest.raises(ValueError):
        inclusion_proof(getter(leaves(5)), index, size)


@pytest.mark.parametrize(("size1", "size2"), [(0, 3), (4, 3)])
def test_consistency_proof_refuses_impossible_sizes(size1, size2):
    with pytest.raises(ValueError):
        consistency_proof(getter(leaves(5)), size1, size2)


@pytest.mark.parametrize(
    "arguments",
    [
        (None, 1, b"x", [], b"x"),
        (0, None, b"x", [], b"x"),
        (True, 2, b"x", [], b"x"),
        (0, 1, "x", [], b"x"),
        (0, 1, b"x", None, b"x"),
        (0, 1, b"x", ["not bytes"], b"x"),
        (0, 1, b"x", [], None),
        (-1, 1, b"x", [], b"x"),
    ],
)
def test_verify_inclusion_returns_false_for_junk(arguments):
    assert verify_inclusion(sha256, *arguments) is False


@pytest.mark.parametrize(
    "arguments",
    [
        (None, 2, b"a", b"b", [b"c"]),
        (1, "2", b"a", b"b", [b"c"]),
        (1, 2, None, b"b", [b"c"]),
        (1, 2, b"a", b"b", "c"),
        (1, 2, b"a", b"b", [3]),
        (-1, 2, b"a", b"b", [b"c"]),
    ],
)
def test_verify_consistency_returns_false_for_junk(arguments):
    assert verify_consistency(sha256, *arguments) is False


# --- SM3, as in production ------------------------------------------------------------


def gmssl_sm3_hash(data: bytes) -> bytes:
    """gmssl's pure-Python SM3: an implementation independent of OpenSSL's."""
    return bytes.fromhex(gmssl_sm3.sm3_hash(list(data)))


def test_sm3_tree_agrees_with_an_independent_sm3():
    entries = [f"audit entry {i}".encode() for i in range(13)]
    ours = [leaf_hash(sm3, e) for e in entries]
    theirs = [leaf_hash(gmssl_sm3_hash, e) for e in entries]
    assert ours == theirs
    assert root_from_leaf_hashes(sm3, ours) == naive_root(gmssl_sm3_hash, theirs)
    assert root_from_leaf_hashes(sm3, ours) != root_from_leaf_hashes(sha256, ours)


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=1, max_value=100), st.data())
def test_sm3_proofs_round_trip(size, data):
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    size1 = data.draw(st.integers(min_value=1, max_value=size))
    hashes = leaves(size, sm3)
    root = root_from_leaf_hashes(sm3, hashes)
    proof = inclusion_proof(getter(hashes, sm3), index, size)
    assert verify_inclusion(sm3, index, size, hashes[index], proof, root)
    old_root = root_from_leaf_hashes(sm3, hashes[:size1])
    consistency = consistency_proof(getter(hashes, sm3), size1, size)
    assert verify_consistency(sm3, size1, size, old_root, root, consistency)
    if size > 1:  # the same proof under another hash proves nothing
        assert not verify_inclusion(sha256, index, size, hashes[index], proof, root)
