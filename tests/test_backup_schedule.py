"""Scheduled exports, retention and the second repository (issue 14).

Settings are validated at start-up; pruning keeps every snapshot a kept one needs and the
newest full chain, and is signed so that ``backup verify`` (and restore) accept the gap
while still catching a manifest removed by anyone else; the copy verifies on its own; a
scheduled run, success or failure, is audited and a failure shows on the dashboards.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from certarchive.backup.export import export_snapshot, key_for_export
from certarchive.backup.keys import BackupKey
from certarchive.backup.manifest import Manifest
from certarchive.backup.mirror import mirror
from certarchive.backup.repository import Repository
from certarchive.backup.restore import restore_snapshot
from certarchive.backup.retention import choose, prune, pruned_path
from certarchive.backup.schedule import CHINA, parse_keep, parse_schedule
from certarchive.backup.verify import verify_repository
from certarchive.config import ConfigError, load_settings
from certarchive.services.backup_worker import worker_for
from certarchive.services.runtime import Runtime
from tests.backup_support import populate
from tests.conftest import file_settings, write_ini
from tests.test_web_support import make_site

# --- the settings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("backup_schedule", "nightly"),
        ("backup_schedule", "daily 25:00"),
        ("backup_schedule", "weekly funday 02:00"),
        ("backup_keep", "daily=seven"),
        ("backup_keep", "hourly=3"),
        ("backup_keep", "daily=0"),
        ("backup_keep", "daily=1 daily=2"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_setting(
    tmp_path: Path, cli_run: Any, setting: str, value: str
) -> None:
    raw = file_settings(tmp_path / "var", **{f"certarchive.{setting}": value})
    with pytest.raises(ConfigError, match=f"certarchive.{setting}"):
        load_settings(raw)
    ini = write_ini(tmp_path / "certarchive.ini", raw)
    from click.testing import CliRunner

    from certarchive.cli.main import cli

    result = CliRunner().invoke(cli, ["-c", str(ini), "check"])
    assert result.exit_code == 2 and f"certarchive.{setting}" in result.output


def test_the_copy_must_be_another_folder(tmp_path: Path) -> None:
    var = tmp_path / "var"
    with pytest.raises(ConfigError, match="backup_copy_to"):
        load_settings(file_settings(var, **{"certarchive.backup_copy_to": str(var / "backups")}))


def test_schedule_slots_in_china_time() -> None:
    daily = parse_schedule("daily 02:30")
    assert daily is not None
    # 2026-12-05 01:00 China time is before today's 02:30: the slot is yesterday's
    now = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)
    assert daily.slot(now) == datetime(2026, 12, 4, 2, 30, tzinfo=CHINA)
    assert daily.slot(now + timedelta(hours=2)) == datetime(2026, 12, 5, 2, 30, tzinfo=CHINA)
    weekly = parse_schedule("weekly sun 03:00")
    assert weekly is not None and weekly.describe() == "weekly sun 03:00"
    assert weekly.slot(now) == datetime(2026, 11, 29, 3, 0, tzinfo=CHINA)  # a Sunday
    assert parse_schedule("off") is None and parse_schedule("") is None
    assert parse_keep("daily=7 weekly=4 monthly=12") == {"daily": 7, "weekly": 4, "monthly": 12}


# --- choosing what to keep -------------------------------------------------------------


def fake(sequence: int, kind: str, created: datetime) -> Manifest:
    document = {"snapshot": f"{sequence:06d}", "sequence": sequence, "kind": kind}
    document["created"] = created.isoformat()
    return Manifest(Path(f"{sequence:06d}.json"), b"", document)


def test_choose_keeps_chains_whole_and_the_newest_full_chain() -> None:
    start = datetime(2026, 11, 1, 3, 0, tzinfo=CHINA)
    kinds = ["full", "incremental", "incremental", "full", "incremental", "incremental"]
    kinds += ["full", "incremental"]
    manifests = [fake(n + 1, kind, start + timedelta(days=n)) for n, kind in enumerate(kinds)]
    assert choose(manifests, {}) == {m.snapshot for m in manifests}
    # daily=1: the newest day's snapshot, i.e. the newest full chain (7, 8)
    assert choose(manifests, {"daily": 1}) == {"000007", "000008"}
    # daily=4: days 5..8 -> 5 needs 4 (its full) and itself; 6 needs 4, 5
    assert choose(manifests, {"daily": 4}) == {"000004", "000005", "000006", "000007", "000008"}
    # weekly=2: the newest of each of the last two ISO weeks: 8 (week of 8 Nov) and 1 (Nov 1, a
    # Sunday, alone in its week)
    assert choose(manifests, {"weekly": 2}) == {"000001", "000007", "000008"}


# --- pruning a real repository ---------------------------------------------------------


def exports(runtime: Runtime, repository: Repository, kinds: list[str]) -> BackupKey:
    key, _ = key_for_export(runtime.settings.keys_dir / "backup.key", repository)
    for kind in kinds:
        populate_more(runtime)
        export_snapshot(runtime.settings.databases, repository, key, kind == "incremental")
    return key


def populate_more(runtime: Runtime) -> None:
    from certarchive.services.demo import load_demo

    load_demo(runtime, 1)


def test_prune_is_signed_verifiable_restorable_and_tamper_evident(
    runtime: Runtime, tmp_path: Path
) -> None:
    repository = Repository(tmp_path / "repo")
    key = exports(
        runtime, repository, ["full", "incremental", "incremental", "full", "incremental"]
    )
    names = [p.stem for p in repository.manifest_paths()]
    assert prune(repository, key, {"daily": 1}) == names[:3]
    assert [p.stem for p in repository.manifest_paths()] == names[3:]
    report = verify_repository(repository.path, key, remember=False)
    assert report.ok, report.faults
    assert not report.notes, report.notes  # the pruned chunks went with their manifests
    restored = restore_snapshot(repository.path, key, tmp_path / "restored")
    assert restored.snapshot == names[4] and restored.replayed == names[3:]
    assert prune(repository, key, {"daily": 1}) == []  # nothing more to prune

    # someone else removing a snapshot is still caught: the list is signed
    listed = json.loads(pruned_path(repository).read_text())
    listed["snapshots"].append({"sequence": 4, "snapshot": names[3], "kind": "full", "sm3": "0"})
    pruned_path(repository).write_text(json.dumps(listed))
    report = verify_repository(repository.path, key, remember=False)
    assert not report.ok and any(f.kind == "bad-signature" for f in report.faults)


def test_a_manifest_removed_without_the_signed_list_breaks_the_chain(
    runtime: Runtime, tmp_path: Path
) -> None:
    repository = Repository(tmp_path / "repo")
    key = exports(runtime, repository, ["full", "incremental", "full", "incremental"])
    prune(repository, key, {"daily": 1})  # removes 1, 2
    newest_full = repository.manifest_paths()[0]
    newest_full.unlink()  # not listed: an incremental now lacks its base, a gap is unexplained
    report = verify_repository(repository.path, key, remember=False)
    assert not report.ok and any(f.kind == "chain" for f in report.faults), report.faults


def test_the_copy_receives_every_snapshot_and_the_pruning(runtime: Runtime, tmp_path: Path) -> None:
    repository, copy = Repository(tmp_path / "repo"), Repository(tmp_path / "copy")
    key = exports(runtime, repository, ["full", "incremental"])
    first = mirror(repository, copy)
    assert first.manifests == 2 and first.chunks > 0
    assert verify_repository(copy.path, key, remember=False).ok
    assert mirror(repository, copy).chunks == 0  # nothing twice
    exports(runtime, repository, ["full"])
    prune(repository, key, {"daily": 1})
    again = mirror(repository, copy)
    assert again.manifests == 1 and again.removed == 2
    assert [p.name for p in copy.manifest_paths()] == [p.name for p in repository.manifest_paths()]
    assert verify_repository(copy.path, key, remember=False).ok


# --- the schedule in the server ----------------------------------------------------------


def test_scheduled_runs_are_audited_and_a_failure_shows_until_a_run_succeeds(
    tmp_path: Path,
) -> None:
    copy_to = tmp_path / "second-disk"
    copy_to.write_text("a file where the copy's folder should be")  # the first run must fail
    site = make_site(
        tmp_path / "var",
        **{
            "certarchive.backup_schedule": "daily 02:30",
            "certarchive.backup_keep": "daily=2",
            "certarchive.backup_copy_to": str(copy_to),
        },
    )
    try:
        populate(site.runtime, cases=2)
        worker = worker_for(site.runtime)
        day = datetime(2026, 12, 1, 3, 0, tzinfo=CHINA)
        assert worker.round(day) is not None
        assert worker.round(day) is None  # the slot ran once
        web = site.web()
        site.login(web, "backup_operator")
        page = web.get("/staff/backups")
        assert "最近一次备份失败" in page.text and "不存在（磁盘未挂载？）" in page.text
        admin = site.web()
        site.login(admin, "admin")
        assert "最近一次备份失败" in admin.get("/staff").text
        registrar = site.web()
        site.login(registrar, "registrar")
        assert "最近一次备份失败" not in registrar.get("/staff").text

        copy_to.unlink()
        assert worker.round(day + timedelta(days=1)) is not None  # an absent folder: refused
        english = web.get("/staff/backups", headers={"Accept-Language": "en"}).text
        assert "The last backup failed" in english
        assert "is the disk mounted?" in english
        copy_to.mkdir()  # the operator creates it once, on the mounted disk
        for offset in range(2, 5):  # three more nights: retention keeps two days
            populate_more(site.runtime)
            assert worker.round(day + timedelta(days=offset)) is not None
        assert "最近一次备份失败" not in admin.get("/staff").text
        assert "最近一次备份失败" not in web.get("/staff/backups").text
        listing = web.get("/api/v1/backups", headers={"Accept": "application/json"})
        snapshots = listing.json["snapshots"]
        copy = Repository(copy_to)
        assert [s["id"] for s in snapshots] == [p.stem for p in reversed(copy.manifest_paths())]
        runs = [e for e in site.entries() if e["action"] == "backup.export"]
        assert [e["result"] for e in runs] == ["failed", "failed", "ok", "ok", "ok"]
        assert all(e["detail"]["trigger"] == "schedule" for e in runs)
        assert any(step.startswith("verified the copy") for step in runs[-1]["detail"]["steps"])
        assert any(step.startswith("pruned") for step in runs[-1]["detail"]["steps"])
    finally:
        site.runtime.close()
