"""Exports read through the storage API work the same from a ZEO server and from
history-free RelStorage on PostgreSQL (issue 6): full and incremental snapshots restore
to FileStorage files equal to the live registry, and the drill agrees.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from certarchive.backup.drill import run_drill
from certarchive.backup.export import export_snapshot
from certarchive.backup.keys import create_key
from certarchive.backup.repository import Repository
from certarchive.backup.restore import restore_snapshot
from certarchive.backup.source import reading_uri
from certarchive.services.demo import load_demo
from certarchive.services.runtime import Runtime
from tests.backup_support import backend, dump, opened, populate, restored_settings


@pytest.mark.parametrize("kind", ["zeo", "postgres"])
def test_export_from_a_server_restores_and_drills(kind: str, tmp_path: Path) -> None:
    with backend(kind, tmp_path) as settings, opened(settings) as runtime:
        populate(runtime, cases=2)
        key = create_key(settings.keys_dir / "backup.key")
        repository = Repository(tmp_path / "backups")
        full = export_snapshot(settings.databases, repository, key)
        load_demo(runtime, 1)
        incremental = export_snapshot(settings.databases, repository, key, incremental=True)

        expected_source = {"zeo": "ClientStorage", "postgres": "RelStorage"}[kind]
        assert set(full.document["sources"].values()) == {expected_source}
        assert full.databases["main"]["blobs"] > 0
        assert 0 < incremental.databases["main"]["records"] < full.databases["main"]["records"]

        restore_snapshot(repository.path, key, tmp_path / "restored")
        live = dump(runtime)
        restored = Runtime.open(restored_settings(tmp_path / "restored", settings.keys_dir))
        try:
            assert dump(restored) == live
        finally:
            restored.close()

        report = run_drill(settings.databases, repository.path, key)
        assert report.ok, report.differences
        assert report.live is not None
        assert report.live.certificates == len(live["certificates"]) > 0


@pytest.mark.parametrize(
    ("uri", "private"),
    [
        ("zeo://h:1?storage=main&blob_dir=/c&shared_blob_dir=false", True),
        ("zeo://h:1?storage=main&blob_dir=/srv/blobs&shared_blob_dir=true", False),
        ("postgres://u@h/db?keep_history=false&blob_dir=/c&shared_blob_dir=false", True),
        ("postgres://u@h/db?blob_dir=/srv/blobs", False),  # RelStorage shares by default
        ("file:///var/Data.fs?blobstorage_dir=/var/blobs", False),
    ],
)
def test_blob_caching_clients_read_into_a_private_cache(uri: str, private: bool) -> None:
    """A full export fetches every blob: never into the application's cache, nor a shared
    blob folder's files deleted."""
    reading, is_private = reading_uri(uri, Path("/tmp/private"))
    query = dict(parse_qsl(urlsplit(reading).query))
    assert query["read_only"] == "1"
    assert is_private is private
    assert (query.get("blob_dir") == "/tmp/private") is private
