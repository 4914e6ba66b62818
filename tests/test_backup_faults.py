"""Fault injection: every kind of damage is named by ``backup verify`` (exit 1), and a
restore from a damaged chain or with a wrong key writes nothing (issue 6).

One registry and one repository (a full and an incremental snapshot, cut into small
chunks so that each stream has many) are built once; each test damages its own copy.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from certarchive.backup.chunks import ChunkFault, read_chunks
from certarchive.backup.export import export_snapshot
from certarchive.backup.keys import create_key, load_key
from certarchive.backup.manifest import Manifest
from certarchive.backup.repository import Repository
from certarchive.backup.verify import stream_aad
from certarchive.config import load_settings
from certarchive.services.demo import load_demo
from certarchive.services.permissions import SYSTEM
from certarchive.services.runtime import Runtime
from certarchive.services.setup import initialise
from tests.backup_support import invoke, populate
from tests.conftest import file_settings, write_ini
from tests.i18n_support import raises_matching

CHUNK = 16 << 10


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("pristine")
    settings = load_settings(file_settings(base / "var"))
    runtime = Runtime.open(settings, create_keys=True)
    try:
        runtime.run(initialise, SYSTEM, settings.agency)
        populate(runtime, cases=2)
        key = create_key(settings.keys_dir / "backup.key")
        repository = Repository(base / "backups")
        export_snapshot(settings.databases, repository, key, chunk_size=CHUNK)
        load_demo(runtime, 1)
        export_snapshot(settings.databases, repository, key, incremental=True, chunk_size=CHUNK)
    finally:
        runtime.close()
    return base


@dataclass
class Copy:
    ini: Path
    repository: Repository
    target: Path

    @property
    def manifests(self) -> list[Manifest]:
        return [self.repository.load(p) for p in self.repository.manifest_paths()]

    def chunk(self, snapshot: int, database: str, index: int) -> Path:
        digest = self.manifests[snapshot].databases[database]["chunks"][index][0]
        return self.repository.chunk_path(digest)

    def verify(self, *extra: str) -> tuple[int, str]:
        result = invoke(self.ini, "verify", str(self.repository.path), *extra)
        return result.exit_code, result.output

    def restore_writes_nothing(self, *extra: str) -> str:
        result = invoke(
            self.ini, "restore", str(self.repository.path), "--to", str(self.target), *extra
        )
        assert result.exit_code == 1, result.output
        assert list(self.target.parent.iterdir()) == []  # no DIR, no staging folder left
        return result.output


@pytest.fixture
def copy(pristine: Path, tmp_path: Path) -> Iterator[Copy]:
    shutil.copytree(pristine / "backups", tmp_path / "backups")
    shutil.copytree(pristine / "var" / "keys", tmp_path / "var" / "keys")
    ini = write_ini(tmp_path / "certarchive.ini", file_settings(tmp_path / "var"))
    (tmp_path / "restore-site").mkdir()
    yield Copy(ini, Repository(tmp_path / "backups"), tmp_path / "restore-site" / "var")


def test_the_intact_chain_verifies_and_restores(copy: Copy) -> None:
    assert all(len(e["chunks"]) > 2 for e in [copy.manifests[0].databases["main"]])
    code, output = copy.verify()
    assert code == 0, output
    assert "2 snapshots verified" in output
    result = invoke(copy.ini, "restore", str(copy.repository.path), "--to", str(copy.target))
    assert result.exit_code == 0, result.output
    assert (copy.target / "Data.fs").is_file() and (copy.target / "blobs").is_dir()


def test_flipped_bit_is_named(copy: Copy) -> None:
    path = copy.chunk(0, "main", 3)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))
    code, output = copy.verify()
    assert code == 1
    assert f"[altered] {path}: main #3" in output
    assert "[altered]" in copy.restore_writes_nothing()


def test_truncated_chunk_is_named(copy: Copy) -> None:
    path = copy.chunk(0, "audit", 0)
    path.write_bytes(path.read_bytes()[:-100])
    code, output = copy.verify()
    assert code == 1
    assert f"[truncated] {path}: audit #0" in output
    assert "[truncated]" in copy.restore_writes_nothing()


def test_missing_chunk_is_named_and_later_chunks_still_checked(copy: Copy) -> None:
    missing, later = copy.chunk(0, "main", 1), copy.chunk(0, "main", 5)
    missing.unlink()
    later.write_bytes(later.read_bytes()[:10])
    code, output = copy.verify()
    assert code == 1
    assert f"[missing] {missing}: main #1" in output
    assert f"[truncated] {later}: main #5" in output
    assert "[missing]" in copy.restore_writes_nothing()


def test_reordered_chunks_are_named_with_what_they_hold(copy: Copy) -> None:
    first, second = copy.chunk(0, "main", 1), copy.chunk(0, "main", 2)
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)
    code, output = copy.verify()
    assert code == 1
    snapshot = copy.manifests[0].snapshot
    assert f"[misplaced] {first}: main #1" in output and f"{snapshot} main #2" in output
    assert f"[misplaced] {second}: main #2" in output and f"{snapshot} main #1" in output
    copy.restore_writes_nothing()


def test_chunk_replaced_by_one_of_another_snapshot_is_named(copy: Copy) -> None:
    victim, intruder = copy.chunk(0, "main", 4), copy.chunk(1, "main", 0)
    victim.write_bytes(intruder.read_bytes())
    code, output = copy.verify()
    assert code == 1
    assert f"[misplaced] {victim}: main #4" in output
    assert f"{copy.manifests[1].snapshot} main #0" in output


def test_aad_refuses_a_valid_chunk_at_another_position(copy: Copy) -> None:
    """Were a listing reordered (the signature forbids it), GCM's AAD would still refuse."""
    manifest = copy.manifests[0]
    key = load_key(copy.ini.parent / "var" / "keys" / "backup.key")
    chunks = manifest.databases["main"]["chunks"]
    swapped = [chunks[1], chunks[0], *chunks[2:]]
    with pytest.raises(ChunkFault) as fault:
        for _ in read_chunks(copy.repository, key, stream_aad(manifest, "main"), swapped):
            pass
    assert fault.value.kind == "undecryptable" and fault.value.index == 0
    other_database = stream_aad(manifest, "audit")
    with raises_matching(ChunkFault, "does not authenticate"):
        next(read_chunks(copy.repository, key, other_database, chunks))


def test_manifest_rolled_back_to_an_older_valid_one_is_named(copy: Copy) -> None:
    older, newer = copy.repository.manifest_paths()
    newer.write_bytes(older.read_bytes())
    code, output = copy.verify()
    assert code == 1
    assert f"[misnamed] {newer}" in output
    assert f"[chain] {newer}" in output and "rolled back" in output
    copy.restore_writes_nothing()


def test_newest_snapshot_removed_whole_is_caught_by_the_seen_record(copy: Copy) -> None:
    newest = copy.manifests[1]
    older_chunks = {d for e in copy.manifests[0].databases.values() for d, _ in e["chunks"]}
    for entry in newest.databases.values():
        for digest, _ in entry["chunks"]:
            if digest not in older_chunks:
                copy.repository.chunk_path(digest).unlink()
    newest.path.unlink()
    code, output = copy.verify()
    assert code == 1
    assert "[rolled-back]" in output and newest.snapshot in output
    copy.restore_writes_nothing()


def test_altered_manifest_fails_its_signature(copy: Copy) -> None:
    newer = copy.repository.manifest_paths()[1]
    document = json.loads(newer.read_bytes())
    document["databases"]["main"]["transactions"] += 1
    newer.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    code, output = copy.verify("--json")
    assert code == 1
    faults = json.loads(output)["faults"]
    assert {"file": str(newer), "kind": "bad-signature"}.items() <= faults[0].items()


def test_wrong_key_is_named_once_and_restores_nothing(copy: Copy, tmp_path: Path) -> None:
    other = create_key(tmp_path / "elsewhere" / "backup.key")
    code, output = copy.verify("--key", str(other.path))
    assert code == 1
    assert f"[wrong-key] {other.path}" in output
    assert output.count("[wrong-key]") == 1
    assert "[altered]" not in output  # the chunks themselves are fine
    assert "[wrong-key]" in copy.restore_writes_nothing("--key", str(other.path))


def test_damage_in_a_later_snapshot_does_not_stop_restoring_an_earlier_one(copy: Copy) -> None:
    path = copy.chunk(1, "main", 0)
    path.write_bytes(b"garbage")
    copy.restore_writes_nothing()
    result = invoke(
        copy.ini, "restore", str(copy.repository.path), "--to", str(copy.target), "--snapshot", "1"
    )
    assert result.exit_code == 0, result.output
