"""``backup verify``: the whole chain, every manifest and every byte, like ``borg check
--verify-data``.

Three layers, each naming the file and the fault:

1. the chain of manifests: shape, SM2 signature under *this* backup key, file name equal
   to the snapshot id, sequence numbers 1..N without gaps, each ``previous`` link equal to
   the SM3 of the manifest before it, and transaction ranges that continue each other;
2. the key holder's memory (:mod:`.seen`): a repository that ends before the newest
   snapshot seen was rolled back;
3. the data: every chunk exists, has its listed length and SM3, decrypts under its AAD
   (repository, snapshot, database, position), and the decrypted stream parses with the
   counts, blob digests and tids the manifest states.

A wrong key is said once, as such, instead of as a failure of every chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from certarchive.backup import seen
from certarchive.backup.chunks import ChunkFault, chunk_aad, read_chunks
from certarchive.backup.keys import BackupKey
from certarchive.backup.manifest import COUNTS, Manifest, ManifestError
from certarchive.backup.repository import Repository
from certarchive.backup.retention import PrunedRecord, pruned_path, read_pruned
from certarchive.backup.stream import Counts, Discard, StreamError, decode
from certarchive.config import DATABASE_NAMES
from certarchive.i18n import _


@dataclass
class Fault:
    file: str
    kind: str
    problem: str
    position: int | None = None  # the manifest's place in the chain; None: the whole repository

    def __str__(self) -> str:
        return f"{self.file}: {self.problem}"


@dataclass
class Chain:
    """The manifests that could be read, in order, and what is wrong with the chain."""

    manifests: list[Manifest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    wrong_key: bool = False

    def faults_up_to(self, position: int) -> list[Fault]:
        return [f for f in self.faults if f.position is None or f.position <= position]


@dataclass
class VerifyReport:
    repository: str
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "repository": self.repository,
            "snapshots": self.snapshots,
            "faults": [asdict(fault) for fault in self.faults],
            "notes": self.notes,
        }


# --- layer 1: the chain ----------------------------------------------------------------


def _predecessor(
    manifest: Manifest, before: Manifest | None, pruned: PrunedRecord, previous: int
) -> tuple[int, dict[str, str] | None, Manifest | None]:
    """(the sequence number this manifest should have, the link it should carry, the
    manifest before it if present).  ``previous`` is the sequence the file before this one
    has (or should have, if it is unreadable).  Snapshots that the signed ``pruned.json``
    lists may be missing between ``before`` and this one (retention removed them)."""
    expected = previous + 1
    while expected < manifest.sequence and expected in pruned.entries:
        expected += 1
    gap = expected - 1 in pruned.entries and (before is None or before.sequence < expected - 1)
    if expected == manifest.sequence and gap:
        return expected, pruned.link(expected - 1), None
    link = {"snapshot": before.snapshot, "sm3": before.digest} if before else None
    return expected, link, before


def _link_faults(
    manifest: Manifest, before: Manifest | None, pruned: PrunedRecord, previous: int
) -> Iterator[str]:
    """What breaks the link from ``before`` (the previous manifest in the folder) to this one."""
    expected, link, predecessor = _predecessor(manifest, before, pruned, previous)
    if manifest.sequence != expected:
        yield (
            _(
                "序号为 ${sequence}，应为 ${expected}",
                mapping={"sequence": manifest.sequence, "expected": expected},
            )
        )
    if link is None:
        if manifest.previous is not None or manifest.kind != "full":
            yield _("链首缺失")
        return
    if (manifest.previous or {}) != link:
        yield (
            _("与前一快照不衔接（${link_snapshot}）", mapping={"link_snapshot": link["snapshot"]})
        )
    if predecessor is None:
        if manifest.kind != "full":
            yield _("增量快照的基础已被删除")
        return
    if manifest.repository != predecessor.repository:
        yield _("属于另一仓库")
    for name in DATABASE_NAMES:
        entry, earlier = manifest.databases.get(name), predecessor.databases.get(name)
        if entry is None or earlier is None:
            continue  # named by _tid_faults
        expected_after = earlier["last_tid"] if manifest.kind == "incremental" else None
        if entry["after_tid"] != expected_after:
            yield _("${name} 事务范围不衔接", mapping={"name": name})


def _tid_faults(manifest: Manifest) -> Iterator[str]:
    for name in DATABASE_NAMES:
        entry = manifest.databases.get(name)
        if entry is None:
            yield _("缺少数据库 ${name}", mapping={"name": name})
        elif entry["after_tid"] is not None and entry["last_tid"] < entry["after_tid"]:
            yield _("${name} 事务范围颠倒", mapping={"name": name})


def check_chain(repository: Repository, key: BackupKey) -> Chain:
    """Layers 1 and 2 for every manifest in ``repository``."""
    chain = Chain()
    before: Manifest | None = None
    try:
        pruned = read_pruned(repository, key)
    except ManifestError as error:
        chain.faults.append(Fault(str(pruned_path(repository)), "bad-signature", str(error)))
        pruned = PrunedRecord({})
    sequence = 0  # the sequence number of the file before (one more, if unreadable)
    for position, path in enumerate(repository.manifest_paths(), start=1):
        try:
            manifest = repository.load(path)
        except (ManifestError, OSError) as error:
            chain.faults.append(
                Fault(
                    str(path),
                    "malformed",
                    _("无法读取（${error}）", mapping={"error": error}),
                    position,
                )
            )
            before = None
            sequence += 1
            continue
        problems: list[tuple[str, str]] = []
        if path.stem != manifest.snapshot:
            problems.append(
                (
                    "misnamed",
                    _("内容为快照 ${snapshot}", mapping={"snapshot": manifest.snapshot}),
                )
            )
        if manifest.key_id != key.key_id:
            chain.wrong_key = True
            problems.append(
                (
                    "wrong-key",
                    _(
                        "由另一备份密钥签名（${key_id}，${key_id2}）",
                        mapping={"key_id": manifest.key_id, "key_id2": key.key_id},
                    ),
                )
            )
        elif not manifest.signature_ok(key):
            problems.append(("bad-signature", _("签名无效")))
        problems += [("chain", p) for p in _link_faults(manifest, before, pruned, sequence)]
        problems += [("chain", p) for p in _tid_faults(manifest)]
        chain.faults += [Fault(str(path), k, p, position) for k, p in problems]
        chain.manifests.append(manifest)
        before = manifest
        sequence = manifest.sequence
    if chain.wrong_key and all(f.kind == "wrong-key" for f in chain.faults):
        chain.faults = [
            Fault(
                str(key.path),
                "wrong-key",
                _(
                    "密钥错误（${key_id}，${key_id2}）",
                    mapping={"key_id": chain.manifests[0].key_id, "key_id2": key.key_id},
                ),
            )
        ]
    chain.faults += _seen_faults(chain.manifests, key)
    return chain


def _seen_faults(manifests: Sequence[Manifest], key: BackupKey) -> list[Fault]:
    """Layer 2: compare with the newest snapshot this key holder saw of the repository."""
    if not manifests:
        return []
    newest = manifests[-1]
    try:
        recalled = seen.recall(key, newest.repository)
    except ValueError as error:
        return [Fault(str(seen.seen_path(key)), "seen-record", str(error))]
    if recalled is None:
        return []
    match = next((m for m in manifests if m.sequence == recalled["sequence"]), None)
    if match is None and recalled["sequence"] > newest.sequence:
        return [
            Fault(
                str(newest.path),
                "rolled-back",
                _(
                    "仓库被回滚（${snapshot}，${recalled_snapshot}，${recalled_sequence}，${recalled_at}）",
                    mapping={
                        "snapshot": newest.snapshot,
                        "recalled_snapshot": recalled["snapshot"],
                        "recalled_sequence": recalled["sequence"],
                        "recalled_at": recalled["at"],
                    },
                ),
            )
        ]
    if match is not None and match.digest != recalled["sm3"]:
        return [
            Fault(
                str(match.path),
                "replaced",
                _(
                    "与此前所见不同（${sequence}，${recalled_at}）",
                    mapping={"sequence": match.sequence, "recalled_at": recalled["at"]},
                ),
                match.sequence,
            )
        ]
    return []


# --- layer 3: the data -----------------------------------------------------------------


def chunk_labels(manifests: Sequence[Manifest]) -> dict[str, str]:
    """SM3 of every listed chunk -> where it belongs, to name what a misplaced file holds."""
    return {
        digest: f"{m.snapshot} {name} #{index}"
        for m in manifests
        for name, entry in m.databases.items()
        for index, (digest, _) in enumerate(entry["chunks"])
    }


def _remaining_faults(
    repository: Repository,
    key: BackupKey | None,
    manifest: Manifest,
    name: str,
    labels: dict[str, str],
    start: int,
) -> list[ChunkFault]:
    """Every further damaged chunk of one stream, checked one by one (the stream is lost)."""
    faults = []
    chunks = manifest.databases[name]["chunks"]
    aad = stream_aad(manifest, name)
    while start < len(chunks):
        try:
            for _ in read_chunks(repository, key, aad, chunks, labels, start):
                pass
            break
        except ChunkFault as fault:
            faults.append(fault)
            start = fault.index + 1
    return faults


def stream_aad(manifest: Manifest, name: str) -> Callable[[int], bytes]:
    """The AAD of each chunk of one database's stream in one snapshot."""
    return lambda index: chunk_aad(manifest.repository, manifest.snapshot, name, index)


def count_faults(entry: dict[str, Any], counts: Counts) -> list[str]:
    """Where a decoded stream differs from what its manifest entry states."""
    found = counts.as_manifest()
    problems = [
        f"{name}: manifest {entry[name]}, stream {found[name]}"
        for name in ("first_tid", *COUNTS)
        if name != "missing_blobs" and entry[name] != found[name]
    ]
    if counts.last_tid is not None and counts.last_tid.hex() > entry["last_tid"]:
        problems.append("a transaction after last_tid")
    if counts.first_tid is not None and counts.first_tid.hex() <= (entry["after_tid"] or ""):
        problems.append("a transaction before after_tid")
    return problems


def check_stream(
    repository: Repository,
    key: BackupKey | None,
    manifest: Manifest,
    name: str,
    labels: dict[str, str],
) -> list[Fault]:
    """Layer 3 for one database of one snapshot."""
    entry = manifest.databases[name]
    where = f"{manifest.path} ({name})"
    chunks = read_chunks(repository, key, stream_aad(manifest, name), entry["chunks"], labels)
    try:
        if key is None:
            for _chunk in chunks:
                pass
            return []
        counts = decode(chunks, Discard())
    except ChunkFault as fault:
        later = _remaining_faults(repository, key, manifest, name, labels, fault.index + 1)
        return [
            Fault(str(f.path), f.kind, f"{name} #{f.index}: {f.message}", manifest.sequence)
            for f in (fault, *later)
        ]
    except StreamError as error:
        return [
            Fault(
                where,
                "stream",
                _("数据流无效（${error}）", mapping={"error": error}),
                manifest.sequence,
            )
        ]
    return [
        Fault(
            where,
            "counts",
            _("计数不符（${problem}）", mapping={"problem": problem}),
            manifest.sequence,
        )
        for problem in count_faults(entry, counts)
    ]


def summary(manifest: Manifest) -> dict[str, Any]:
    return {
        "snapshot": manifest.snapshot,
        "sequence": manifest.sequence,
        "kind": manifest.kind,
        "created": manifest.document["created"],
        "size": manifest.size(),
        "databases": {
            name: {k: entry[k] for k in ("after_tid", "last_tid", "transactions", "objects")}
            for name, entry in manifest.databases.items()
        },
    }


def verify_repository(path: Path, key: BackupKey, remember: bool = True) -> VerifyReport:
    """Check everything in the repository at ``path``; record it as seen when all is well."""
    repository = Repository(path)
    report = VerifyReport(str(path))
    if not repository.manifest_paths():
        report.faults.append(Fault(str(path), "empty", _("没有快照")))
        return report
    chain = check_chain(repository, key)
    report.faults += chain.faults
    labels = chunk_labels(chain.manifests)
    data_key = None if chain.wrong_key else key
    for manifest in chain.manifests:
        report.snapshots.append(summary(manifest))
        for name in manifest.databases:
            report.faults += check_stream(repository, data_key, manifest, name, labels)
    temporary, unreferenced = repository.stray_files(labels)
    if temporary or unreferenced:
        report.notes.append(
            _(
                "中断的导出留下（${len_temporary}，${len_unreferenced}）",
                mapping={"len_temporary": len(temporary), "len_unreferenced": len(unreferenced)},
            )
        )
    if report.ok and remember:
        try:
            seen.remember(key, chain.manifests[-1])
        except OSError as error:
            report.notes.append(f"could not record the newest snapshot as seen: {error}")
    return report
