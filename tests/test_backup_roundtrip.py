"""Export, restore, compare: a restored registry equals the one backed up (issue 6, H-5.2.7).

Every comparison opens the restored FileStorage files as a registry of its own, with the
data keys copied beside them, and decrypts every version and file.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

from ZODB.FileStorage import FileStorage

from certarchive.audit.queue import get_outbox
from certarchive.backup.census import differing_certificates, take_census
from certarchive.backup.chunks import read_chunks
from certarchive.backup.export import export_snapshot
from certarchive.backup.keys import create_key, load_key
from certarchive.backup.repository import Repository
from certarchive.backup.restore import open_layout, restore_snapshot
from certarchive.backup.verify import stream_aad
from certarchive.config import Settings
from certarchive.crypto.keyring import Keyring
from certarchive.services import audit as audit_services
from certarchive.services import cases, certificates
from certarchive.services.audit import integrate_logs, sequence_logs
from certarchive.services.demo import load_demo
from certarchive.services.permissions import SYSTEM
from certarchive.services.runtime import Runtime
from certarchive.validation.samples import sample_case
from tests.backup_support import dump, populate, restored_settings, serials
from tests.conftest import REGISTRAR, UPSTREAM, log_entries


def _restored_dump(folder: Path, settings: Settings) -> dict[str, Any]:
    restored = Runtime.open(restored_settings(folder, settings.keys_dir))
    try:
        return dump(restored)
    finally:
        restored.close()


def test_full_snapshot_restores_every_certificate_version_file_and_log_entry(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    populate(runtime)
    key = create_key(settings.keys_dir / "backup.key")
    repository = Repository(tmp_path / "backups")
    manifest = export_snapshot(settings.databases, repository, key)
    report = restore_snapshot(repository.path, key, tmp_path / "restored")

    live = dump(runtime)
    assert _restored_dump(tmp_path / "restored", settings) == live
    states = {c["fields"]["state"] for c in live["certificates"].values()}
    assert {"issued", "revoked", "downloaded"} <= states
    assert any(len(c["pdfs"]) == 2 for c in live["certificates"].values())  # watermarked
    assert any(len(c["ofds"]) == 2 for c in live["certificates"].values())  # OFD too (#15)
    assert live["logs"]["audit"]["checkpoints"]
    assert report.census.certificates == len(live["certificates"])
    assert report.census.logs["audit"]["entries"] == live["logs"]["audit"]["size"]
    for name, file_name in (("main", "Data.fs"), ("audit", "Audit.fs")):
        storage = FileStorage(str(tmp_path / "restored" / file_name), read_only=True)
        try:
            assert storage.lastTransaction().hex() == manifest.databases[name]["last_tid"]
            assert len(storage) == manifest.databases[name]["objects"]
        finally:
            storage.close()


def test_incremental_chain_restores_newest_and_any_earlier_snapshot(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    populate(runtime)
    key = create_key(settings.keys_dir / "backup.key")
    repository = Repository(tmp_path / "backups")
    first = export_snapshot(settings.databases, repository, key)
    at_first = dump(runtime)

    load_demo(runtime, 1)
    serial = serials(runtime)[0]
    runtime.run(
        lambda ctx: certificates.revoke(
            ctx, certificates.get_certificate(ctx, serial), "cancellation", "注销"
        ),
        REGISTRAR,
    )
    sequence_logs(runtime)
    second = export_snapshot(settings.databases, repository, key, incremental=True)

    assert second.kind == "incremental" and second.sequence == 2
    assert second.previous == {"snapshot": first.snapshot, "sm3": first.digest}
    main_first, main_second = first.databases["main"], second.databases["main"]
    assert main_second["after_tid"] == main_first["last_tid"]
    assert 0 < main_second["transactions"] < main_first["transactions"]
    assert second.size() < first.size()

    restore_snapshot(repository.path, key, tmp_path / "newest")
    assert _restored_dump(tmp_path / "newest", settings) == dump(runtime)
    restore_snapshot(repository.path, key, tmp_path / "older", snapshot=first.snapshot)
    assert _restored_dump(tmp_path / "older", settings) == at_first


def test_restore_with_the_data_keys_checks_every_version_and_file_in_clear(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    populate(runtime)
    key = create_key(settings.keys_dir / "backup.key")
    repository = Repository(tmp_path / "backups")
    export_snapshot(settings.databases, repository, key)
    report = restore_snapshot(
        repository.path, key, tmp_path / "restored", data_keys=Keyring.open(settings.keys_dir)
    )
    assert report.census.problems == []
    assert report.census.files > report.census.certificates  # the revoked one has two


def test_snapshot_streams_hold_no_personal_data_in_clear(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    """Whoever holds the backup key reads pickles, not holders: data keys guard those."""
    populate(runtime, cases=2)
    key = create_key(settings.keys_dir / "backup.key")
    repository = Repository(tmp_path / "backups")
    manifest = export_snapshot(settings.databases, repository, key)
    plaintext = b"".join(
        data
        for name, entry in manifest.databases.items()
        for data in read_chunks(repository, key, stream_aad(manifest, name), entry["chunks"])
    )
    assert len(plaintext) == sum(e["stream_bytes"] for e in manifest.databases.values())
    people = [
        holder
        for n in range(2)
        for cert in sample_case(n)["certificates"]
        for holder in cert["holders"]
    ]
    for holder in people:
        assert holder["id_number"].encode() not in plaintext
        assert holder["name"].encode() not in plaintext


def test_backup_key_is_a_private_file_apart_from_the_data_keys(settings: Settings) -> None:
    key = create_key(settings.keys_dir / "backup.key")
    document = json.loads(key.path.read_text())
    assert stat.S_IMODE(key.path.stat().st_mode) == 0o600
    assert not (settings.keys_dir / "datakeys.json").exists()  # needs no keyring at all
    assert set(document) >= {"id", "sm4", "sm2"}
    assert load_key(key.path).public_key == key.public_key


def test_census_names_the_certificates_that_differ(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    """What the drill reports when a restored copy and the live registry disagree."""
    populate(runtime, cases=2)
    key = create_key(settings.keys_dir / "backup.key")
    repository = Repository(tmp_path / "backups")
    export_snapshot(settings.databases, repository, key)
    before = set(dump(runtime)["certificates"])
    serial = serials(runtime)[0]
    runtime.run(
        lambda ctx: certificates.revoke(
            ctx, certificates.get_certificate(ctx, serial), "cancellation", "注销"
        ),
        REGISTRAR,
    )
    load_demo(runtime, 1)
    after = dump(runtime)["certificates"]
    revoked = next(i for i, c in after.items() if c["fields"]["serial"] == serial)
    restore_snapshot(repository.path, key, tmp_path / "restored")

    live = runtime.db.open()
    try:
        with open_layout(tmp_path / "restored") as copy:
            restored_census = take_census(copy)
            live_census = take_census({"main": live, **_logs(live)})
            found = differing_certificates(copy["main"], live, ("copy", "live"))
    finally:
        live.close()
    assert restored_census.digest != live_census.digest
    assert restored_census.certificates == len(before) < live_census.certificates
    expected = [f"huangchuan/{revoked} differs"] + [
        f"huangchuan/{cert_id} only in the live" for cert_id in sorted(set(after) - before)
    ]
    assert sorted(found) == sorted(expected)


def _logs(conn: Any) -> dict[str, Any]:
    return {name: conn.get_connection(name) for name in ("audit", "sharing")}


def test_a_snapshot_taken_while_entries_move_holds_each_once(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    """Taken between the sequencer's two transactions, a snapshot holds the moved entries
    both in the log and still in the outbox; the restored registry sequences each once."""
    populate(runtime)
    sequence_logs(runtime)
    runtime.run(cases.record_case, UPSTREAM, sample_case(30))
    runtime.run(integrate_logs, SYSTEM)  # remove_moved has not run yet
    key = create_key(settings.keys_dir / "backup.key")
    repository = Repository(tmp_path / "backups")
    export_snapshot(settings.databases, repository, key)
    restore_snapshot(repository.path, key, tmp_path / "restored")

    restored = Runtime.open(restored_settings(tmp_path / "restored", settings.keys_dir))
    try:
        before = restored.run(lambda ctx: len(get_outbox(ctx.conn).queue("audit")), SYSTEM)
        assert before == 3  # in the log and still in the outbox
        sequence_logs(restored)
        entries = restored.run(log_entries, SYSTEM)
        keys = [(e["time"], e["action"], e["object"]) for e in entries]
        assert len(keys) == len(set(keys))
        assert restored.run(lambda ctx: len(get_outbox(ctx.conn).queue("audit")), SYSTEM) == 0
        assert restored.run(audit_services.verify, SYSTEM, "audit").ok
    finally:
        restored.close()
