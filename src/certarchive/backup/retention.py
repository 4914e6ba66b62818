"""Retention: which snapshots to keep, and pruning the rest without breaking the chain.

Restoring a snapshot replays the newest full snapshot at or before it and every
incremental after that full one up to it, so keeping a snapshot keeps its whole chain
prefix; the newest full chain (the newest full snapshot and everything after it) is
always kept, whatever the rules say, so the latest state is always restorable.

The manifest chain counts sequence numbers without gaps and links each manifest to the
SM3 of the one before, so that a manifest removed by someone else is noticed.  A removal
by retention is therefore *signed*: ``pruned.json`` lists every pruned snapshot (sequence,
id, kind, SM3 of its manifest) under the backup key's SM2 signature, and
:mod:`.verify` accepts a gap only where that list accounts for it.  Order of work: the
signed list first, then the manifests, then their chunks; a stop in between leaves a
snapshot listed but still present (checked as usual, removed by the next prune) or
unreferenced chunks (which verify notes as safe to delete).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from certarchive.backup.keys import BackupKey
from certarchive.backup.manifest import Manifest, ManifestError, canonical
from certarchive.backup.repository import Repository
from certarchive.backup.schedule import CHINA
from certarchive.crypto.keyring import write_atomically
from certarchive.i18n import _

PRUNED = "pruned.json"

#: period -> the bucket a snapshot's creation time (China time) falls into
PERIOD_KEYS: dict[str, Callable[[datetime], Any]] = {
    "daily": lambda t: t.date(),
    "weekly": lambda t: t.isocalendar()[:2],
    "monthly": lambda t: (t.year, t.month),
    "yearly": lambda t: t.year,
}


class PruneRefused(Exception):
    """Pruning cannot go on safely; the message says why."""


@dataclass(frozen=True)
class PrunedRecord:
    """The signed list of pruned snapshots: sequence -> {snapshot, kind, sm3}."""

    entries: dict[int, dict[str, str]]

    def link(self, sequence: int) -> dict[str, str] | None:
        entry = self.entries.get(sequence)
        return {"snapshot": entry["snapshot"], "sm3": entry["sm3"]} if entry else None


def pruned_path(repository: Repository) -> Path:
    return repository.path / PRUNED


def read_pruned(repository: Repository, key: BackupKey | None) -> PrunedRecord:
    """The repository's signed list (empty when none was written).

    Raises :class:`ManifestError` when the file is malformed or, given ``key``, not signed
    by it: a list anyone could write would let anyone remove snapshots unnoticed."""
    path = pruned_path(repository)
    try:
        document = json.loads(path.read_bytes())
    except FileNotFoundError:
        return PrunedRecord({})
    except (ValueError, OSError) as error:
        raise ManifestError(f"{PRUNED}: {error}") from None
    snapshots = document.get("snapshots") if isinstance(document, dict) else None
    if not isinstance(snapshots, list) or not all(
        isinstance(e, dict) and isinstance(e.get("sequence"), int) for e in snapshots
    ):
        raise ManifestError(f"{PRUNED}: not a list of pruned snapshots")
    if key is not None:
        try:
            signature = bytes.fromhex(str(document.get("signature", "")))
        except ValueError:
            signature = b""
        if not key.verify(canonical(document), signature):
            raise ManifestError(_("${pruned}: 签名无效", mapping={"pruned": PRUNED}))
    return PrunedRecord({e["sequence"]: e for e in snapshots})


def _write_pruned(
    repository: Repository, key: BackupKey, record: PrunedRecord, doomed: Sequence[Manifest]
) -> None:
    entries = dict(record.entries)
    for manifest in doomed:
        entries[manifest.sequence] = {
            "sequence": manifest.sequence,
            "snapshot": manifest.snapshot,
            "kind": manifest.kind,
            "sm3": manifest.digest,
        }
    document: dict[str, Any] = {
        "repository": doomed[0].repository,
        "snapshots": [entries[n] for n in sorted(entries)],
    }
    document["signature"] = key.sign(canonical(document)).hex()
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1) + "\n"
    write_atomically(pruned_path(repository), text.encode())


def _created(manifest: Manifest) -> datetime:
    return datetime.fromisoformat(manifest.document["created"]).astimezone(CHINA)


def choose(manifests: Sequence[Manifest], keep: Mapping[str, int]) -> set[str]:
    """The snapshot ids to keep (``manifests`` in sequence order); all with no rules."""
    if not keep or not manifests:
        return {m.snapshot for m in manifests}
    wanted: set[str] = set()
    for period, count in keep.items():
        bucket_of = PERIOD_KEYS[period]
        seen: set[Any] = set()
        for manifest in reversed(manifests):
            bucket = bucket_of(_created(manifest))
            if bucket not in seen and len(seen) < count:
                seen.add(bucket)
                wanted.add(manifest.snapshot)
    fulls = [i for i, m in enumerate(manifests) if m.kind == "full"]
    if fulls:
        wanted.update(m.snapshot for m in manifests[fulls[-1] :])
    kept: set[str] = set()
    for index, manifest in enumerate(manifests):
        if manifest.snapshot in wanted:
            start = max((i for i in fulls if i <= index), default=0)
            kept.update(m.snapshot for m in manifests[start : index + 1])
    return kept


def prune(repository: Repository, key: BackupKey, keep: Mapping[str, int]) -> list[str]:
    """Delete the snapshots ``keep`` does not keep; return their ids (oldest first)."""
    if not keep or not repository.exists():
        return []
    try:
        with repository.locked():
            return _prune_locked(repository, key, keep)
    except BlockingIOError:
        raise PruneRefused(_("另一导出正在进行")) from None


def _prune_locked(repository: Repository, key: BackupKey, keep: Mapping[str, int]) -> list[str]:
    try:
        manifests = [repository.load(path) for path in repository.manifest_paths()]
        record = read_pruned(repository, key)
    except (ManifestError, OSError) as error:
        raise PruneRefused(
            _("仓库无法读取，未删除任何快照（${error}）", mapping={"error": error})
        ) from None
    foreign = [m.snapshot for m in manifests if not m.signature_ok(key)]
    if foreign:
        raise PruneRefused(
            _(
                "${foreign_0}: 不是本备份密钥签名的，未删除任何快照",
                mapping={"foreign_0": foreign[0]},
            )
        )
    kept = choose(manifests, keep)
    doomed = [m for m in manifests if m.snapshot not in kept]
    if not doomed:
        return []
    _write_pruned(repository, key, record, doomed)
    for manifest in doomed:
        manifest.path.unlink(missing_ok=True)
    still = {
        d
        for m in manifests
        if m.snapshot in kept
        for e in m.databases.values()
        for d, _ in e["chunks"]
    }
    for manifest in doomed:
        for entry in manifest.databases.values():
            for digest, _size in entry["chunks"]:
                if digest not in still:
                    repository.chunk_path(digest).unlink(missing_ok=True)
    return [m.snapshot for m in doomed]
