"""A backup repository on disk: signed manifests and content-addressed chunk files.

::

    PATH/snapshots/000001-20261120T020000Z.json   one manifest per snapshot
    PATH/chunks/3f/3f9a…e1                        SM4-GCM chunk, named by the SM3 of its bytes

Every file is written under a temporary name, fsynced, renamed and its directory fsynced
(:func:`certarchive.crypto.keyring.write_atomically`), and a snapshot's manifest is
written only after all its chunks: an export killed at any point leaves the earlier
snapshots as they were and, at worst, unreferenced chunks and temporary files that no
manifest names.  A manifest is created with a hard link that fails if the name exists,
and an export holds the repository's lock file throughout, so two exports never race for
the same sequence number.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterable, Iterator
from pathlib import Path

from certarchive.backup.manifest import Manifest
from certarchive.crypto.keyring import write_atomically

MANIFESTS = "snapshots"
CHUNKS = "chunks"


class Repository:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.manifest_dir = self.path / MANIFESTS
        self.chunk_dir = self.path / CHUNKS

    def exists(self) -> bool:
        return self.manifest_dir.is_dir()

    def create(self) -> None:
        for folder in (self.path, self.manifest_dir, self.chunk_dir):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the export lock; BlockingIOError at once if another export holds it."""
        with open(self.path / "lock", "ab") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            yield

    # manifests

    def manifest_paths(self) -> list[Path]:
        """Manifest files in name order, which is sequence order (temporary files excluded)."""
        if not self.manifest_dir.is_dir():
            return []
        return sorted(p for p in self.manifest_dir.glob("*.json") if not p.name.startswith("."))

    def manifest_path(self, snapshot: str) -> Path:
        return self.manifest_dir / f"{snapshot}.json"

    def load(self, path: Path) -> Manifest:
        """Raises ManifestError (malformed) or OSError (unreadable)."""
        return Manifest.parse(path, path.read_bytes())

    def newest(self) -> Manifest | None:
        paths = self.manifest_paths()
        return self.load(paths[-1]) if paths else None

    def write_manifest(self, snapshot: str, raw: bytes) -> Path:
        """Publish a snapshot; FileExistsError if one of that name appeared meanwhile."""
        path = self.manifest_path(snapshot)
        write_atomically(path, raw, exclusive=True)
        return path

    # chunks

    def chunk_path(self, digest: str) -> Path:
        return self.chunk_dir / digest[:2] / digest

    def write_chunk(self, digest: str, data: bytes) -> None:
        path = self.chunk_path(digest)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        write_atomically(path, data)

    # leftovers

    def stray_files(self, referenced: Iterable[str]) -> tuple[list[Path], list[Path]]:
        """(temporary files, chunk files no manifest names): what interrupted exports leave."""
        wanted = set(referenced)
        temporary, unreferenced = [], []
        for path in sorted(self.path.glob("*/**/*")):
            if not path.is_file():
                continue
            if path.name.startswith("."):
                temporary.append(path)
            elif path.parent.parent == self.chunk_dir and path.name not in wanted:
                unreferenced.append(path)
        return temporary, unreferenced
