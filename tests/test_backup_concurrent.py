"""Writes during an export: the snapshot holds the state at one transaction (issue 6).

A thread keeps recording and paying cases while the export runs.  On FileStorage the
restored copy is compared object by object with the live storage as of the snapshot's
boundary transaction.  History-free RelStorage keeps no older states to compare with, so
there the restored copy must be whole: every object reachable from each root loads, and
every folder's length counter agrees with its contents — what a torn read would break.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from ZODB.FileStorage import FileStorage
from ZODB.serialize import referencesf
from ZODB.utils import p64, u64, z64

from certarchive.backup.drill import run_drill
from certarchive.backup.export import export_snapshot
from certarchive.backup.keys import create_key
from certarchive.backup.repository import Repository
from certarchive.backup.restore import LAYOUT, open_layout, restore_snapshot
from certarchive.config import DATABASE_NAMES
from certarchive.services.demo import load_demo
from certarchive.services.runtime import Runtime
from tests.backup_support import add_bulk_blobs, backend, opened, populate


def _reachable(storage: Any) -> dict[bytes, bytes]:
    """oid -> current state of every object reachable from the root (KeyError if one is lost)."""
    states: dict[bytes, bytes] = {}
    pending = [z64]
    while pending:
        oid = pending.pop()
        if oid not in states:
            states[oid] = storage.load(oid)[0]
            pending.extend(referencesf(states[oid]))
    return states


def _states_at(storage: Any, oids: list[bytes], tid: bytes) -> dict[bytes, bytes]:
    before = p64(u64(tid) + 1)
    return {oid: storage.loadBefore(oid, before)[0] for oid in oids}


class _Writer(threading.Thread):
    """Records and pays one demo case after another until told to stop."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime
        self.stop = threading.Event()
        self.commits = 0

    def run(self) -> None:
        while not self.stop.is_set():
            load_demo(self.runtime, 1)
            self.commits += 1


def _folders_agree(folder: Path) -> None:
    with open_layout(folder) as connections:
        registry = connections["main"].root()["certarchive"]
        for agency in registry.agencies.values():
            for folder_ in (agency.cases, agency.certificates):
                assert len(folder_) == len(list(folder_.values()))


@pytest.mark.parametrize("kind", ["file", "postgres"])
def test_writes_during_export_leave_the_state_of_one_transaction(kind: str, tmp_path: Path) -> None:
    with backend(kind, tmp_path) as settings, opened(settings) as runtime:
        populate(runtime, cases=2)
        add_bulk_blobs(runtime, 16)
        key = create_key(settings.keys_dir / "backup.key")
        repository = Repository(tmp_path / "backups")
        writer = _Writer(runtime)
        writer.start()
        try:
            while writer.commits < 1:
                writer.join(0.05)
            commits_before = writer.commits
            manifest = export_snapshot(settings.databases, repository, key)
            commits_during = writer.commits - commits_before
        finally:
            writer.stop.set()
            writer.join()
        assert commits_during >= 1, "the export was too quick to race with the writer"
        live_main = runtime.db.storage
        boundary = bytes.fromhex(manifest.databases["main"]["last_tid"])
        assert live_main.lastTransaction() > boundary

        restore_snapshot(repository.path, key, tmp_path / "restored")  # census checks pass
        _folders_agree(tmp_path / "restored")
        for name in DATABASE_NAMES:
            restored = FileStorage(str(tmp_path / "restored" / LAYOUT[name][0]), read_only=True)
            try:
                states = _reachable(restored)
                assert restored.lastTransaction().hex() == manifest.databases[name]["last_tid"]
                if kind == "file":
                    live = runtime.db.databases[name].storage
                    tid = restored.lastTransaction()
                    assert _states_at(live, list(states), tid) == states
                    assert _reachable_at(live, tid).keys() == states.keys()
            finally:
                restored.close()
        if kind == "file":
            assert run_drill(settings.databases, repository.path, key).ok


def _reachable_at(storage: Any, tid: bytes) -> dict[bytes, bytes]:
    """Like :func:`_reachable`, on the live storage as of ``tid``."""
    before = p64(u64(tid) + 1)

    class AtTid:
        def load(self, oid: bytes) -> tuple[bytes, bytes]:
            data, serial, _ = storage.loadBefore(oid, before)
            return data, serial

    return _reachable(AtTid())
