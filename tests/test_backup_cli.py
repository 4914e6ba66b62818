"""``certarchive backup …`` as an operator runs it: exit codes, messages, JSON (CONTRACT.md)."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

from certarchive.config import Settings
from certarchive.services.demo import load_demo
from certarchive.services.runtime import Runtime
from tests.backup_support import invoke, populate


def test_init_key_writes_a_private_file_once(ini: Path, settings: Settings) -> None:
    first = invoke(ini, "init-key")
    assert first.exit_code == 0, first.output
    key_file = settings.keys_dir / "backup.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    content = key_file.read_bytes()
    again = invoke(ini, "init-key")
    assert again.exit_code == 1 and "never replaced" in again.output
    assert key_file.read_bytes() == content


def test_export_list_verify_restore(
    runtime: Runtime, ini: Path, settings: Settings, tmp_path: Path
) -> None:
    populate(runtime, cases=2)
    repository = settings.keys_dir.parent / "backups"  # the default of list and drill
    first = invoke(ini, "export", "--out", str(repository), "--incremental")
    assert first.exit_code == 0, first.output
    assert "(full)" in first.output  # nothing to be incremental to
    assert (settings.keys_dir / "backup.key").is_file()  # created on the first export
    load_demo(runtime, 1)
    second = invoke(ini, "export", "--out", str(repository), "--incremental", "--json")
    assert second.exit_code == 0, second.output
    assert json.loads(second.output)["kind"] == "incremental"

    listed = json.loads(invoke(ini, "list", "--json").output)["snapshots"]
    assert [s["sequence"] for s in listed] == [1, 2]
    assert listed[1]["databases"]["main"]["after_tid"] == listed[0]["databases"]["main"]["last_tid"]
    assert all(s["size"] > 0 and s["chunks"] >= 3 for s in listed)

    verified = invoke(ini, "verify", str(repository), "--json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["ok"] is True

    target = tmp_path / "elsewhere" / "var"
    restored = invoke(ini, "restore", str(repository), "--to", str(target))
    assert restored.exit_code == 0, restored.output
    assert "certificates" in restored.output
    assert {p.name for p in target.iterdir()} >= {"Data.fs", "Audit.fs", "Sharing.fs", "blobs"}


def test_restore_refuses_a_non_empty_folder_unless_forced(
    runtime: Runtime, ini: Path, settings: Settings, tmp_path: Path
) -> None:
    populate(runtime, cases=2)
    repository = tmp_path / "backups"
    assert invoke(ini, "export", "--out", str(repository)).exit_code == 0
    target = tmp_path / "target"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    refused = invoke(ini, "restore", str(repository), "--to", str(target))
    assert refused.exit_code == 1
    assert "--force" in refused.output
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    forced = invoke(ini, "restore", str(repository), "--to", str(target), "--force")
    assert forced.exit_code == 0, forced.output
    assert (target / "notes.txt").read_text() == "keep me"
    assert (target / "Data.fs").is_file()


def test_restore_refuses_to_replace_databases_a_server_has_open(
    runtime: Runtime, ini: Path, settings: Settings, tmp_path: Path
) -> None:
    populate(runtime, cases=2)
    repository = tmp_path / "backups"
    assert invoke(ini, "export", "--out", str(repository)).exit_code == 0
    live = settings.keys_dir.parent
    before = (live / "Data.fs").read_bytes()
    refused = invoke(ini, "restore", str(repository), "--to", str(live), "--force")
    assert refused.exit_code == 1
    assert "in use" in refused.output
    assert (live / "Data.fs").read_bytes() == before


def test_a_restore_site_needs_only_the_repository_and_the_backup_key(
    runtime: Runtime, ini: Path, settings: Settings, tmp_path: Path
) -> None:
    populate(runtime, cases=2)
    repository = tmp_path / "backups"
    assert invoke(ini, "export", "--out", str(repository)).exit_code == 0
    site = tmp_path / "site"
    site.mkdir(mode=0o700)
    shutil.copy2(settings.keys_dir / "backup.key", site / "backup.key")
    no_config = site / "absent.ini"
    result = invoke(
        no_config, "restore", str(repository), "--to", str(site / "var"),
        "--key", str(site / "backup.key"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    missing = invoke(no_config, "verify", str(repository))
    assert missing.exit_code == 2  # no --key and no configuration to find one


def test_missing_or_foreign_backup_key(
    runtime: Runtime, ini: Path, settings: Settings, tmp_path: Path
) -> None:
    populate(runtime, cases=2)
    repository = tmp_path / "backups"
    assert invoke(ini, "export", "--out", str(repository)).exit_code == 0
    (settings.keys_dir / "backup.key").rename(tmp_path / "put-away.key")
    missing = invoke(ini, "verify", str(repository))
    assert missing.exit_code == 2 and "backup.key" in missing.output
    refused = invoke(ini, "export", "--out", str(repository))  # would need a new key: refused
    assert refused.exit_code == 2
    assert invoke(ini, "init-key").exit_code == 0
    foreign = invoke(ini, "export", "--out", str(repository), "--incremental")
    assert foreign.exit_code == 1 and "not signed by backup key" in foreign.output


def test_drill_passes_and_reports_a_difference(
    runtime: Runtime, ini: Path, settings: Settings
) -> None:
    populate(runtime, cases=2)
    repository = settings.keys_dir.parent / "backups"
    assert invoke(ini, "export", "--out", str(repository)).exit_code == 0
    load_demo(runtime, 1)  # after the snapshot: the drill compares as of its transactions
    passed = invoke(ini, "drill", "--json")
    assert passed.exit_code == 0, passed.output
    report = json.loads(passed.output)
    assert report["ok"] and report["restored"]["digest"] == report["live"]["digest"]

    data_keys = invoke(ini, "drill", "--data-keys", str(settings.keys_dir))
    assert data_keys.exit_code == 0 and "drill passed" in data_keys.output
