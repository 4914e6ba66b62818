"""A second repository (another disk, a mounted share) kept as a copy of the first.

The copy is byte for byte: the same chunk files, manifests and signed list of pruned
snapshots, so it verifies under the same backup key and restores without the first.
Chunks are copied before the manifests that name them, and manifests in sequence order,
so a copy stopped half-way is a valid shorter chain that the next copy extends.  Only
snapshots the first repository's signed ``pruned.json`` lists are removed from the copy:
a copy never loses a snapshot because the first repository lost it.
"""

from __future__ import annotations

from dataclasses import dataclass

from certarchive.backup.repository import Repository
from certarchive.backup.retention import pruned_path, read_pruned
from certarchive.crypto.keyring import write_atomically


@dataclass
class MirrorReport:
    chunks: int = 0
    manifests: int = 0
    removed: int = 0
    bytes: int = 0


def mirror(source: Repository, target: Repository) -> MirrorReport:
    """Bring ``target`` up to ``source``; raises OSError or BlockingIOError (target busy)."""
    report = MirrorReport()
    target.create()
    with target.locked():
        manifests = [source.load(path) for path in source.manifest_paths()]
        for manifest in manifests:
            for entry in manifest.databases.values():
                for digest, size in entry["chunks"]:
                    there = target.chunk_path(digest)
                    if there.is_file() and there.stat().st_size == size:
                        continue
                    data = source.chunk_path(digest).read_bytes()
                    target.write_chunk(digest, data)
                    report.chunks += 1
                    report.bytes += len(data)
            there = target.manifest_path(manifest.snapshot)
            if not there.is_file() or there.read_bytes() != manifest.raw:
                write_atomically(there, manifest.raw)
                report.manifests += 1
        if pruned_path(source).is_file():
            write_atomically(pruned_path(target), pruned_path(source).read_bytes())
        listed = {e["snapshot"] for e in read_pruned(source, None).entries.values()}
        for path in target.manifest_paths():
            if path.stem in listed:
                doomed = target.load(path)
                path.unlink()
                report.removed += 1
                for entry in doomed.databases.values():
                    for digest, _ in entry["chunks"]:
                        target.chunk_path(digest).unlink(missing_ok=True)
    return report
