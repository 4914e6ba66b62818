"""``certarchive backup …``: encrypted snapshots for backup operators (H-5.2.7).

Exit codes as everywhere: 0 success; 1 a check failed or the request was refused (a
damaged or rolled-back chain, a wrong key, a non-empty restore folder); 2 usage or
configuration (no configuration, no key file, an unreadable key file).  Commands that only
read a repository (verify, restore, list) need no configuration when ``--key`` names the
backup key, so they run at a restore site with nothing but the repository and the key.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from persistent.TimeStamp import TimeStamp

from certarchive.backup.drill import run_drill
from certarchive.backup.export import ExportRefused, export_snapshot, key_for_export
from certarchive.backup.keys import (
    BackupKey,
    BackupKeyError,
    create_key,
    default_key_path,
    load_key,
)
from certarchive.backup.manifest import Manifest, ManifestError
from certarchive.backup.repository import Repository
from certarchive.backup.restore import RestoreFailed, RestoreRefused, restore_snapshot
from certarchive.backup.verify import Fault, summary, verify_repository
from certarchive.cli.common import CliState, emit_json, fail
from certarchive.config import ConfigError
from certarchive.crypto.keyring import Keyring, KeyringError
from certarchive.i18n import _, bilingual

pass_state = click.make_pass_decorator(CliState)
key_option = click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="backup key file (default: backup.key in the configured keys folder)",
)
json_option = click.option("--json", "as_json", is_flag=True, help="print one JSON document")
data_keys_option = click.option(
    "--data-keys",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="the registry's keys folder: also decrypt every version and file and check its SM3",
)


def _key_path(state: CliState, key_file: str | None) -> Path:
    return Path(key_file) if key_file else default_key_path(state.settings.keys_dir)


def _load_key(state: CliState, key_file: str | None) -> BackupKey:
    try:
        return load_key(_key_path(state, key_file))
    except BackupKeyError as error:
        fail(_("备份密钥错误（${error}）", mapping={"error": error}), 2)
    raise AssertionError("unreachable")


def _data_keys(folder: str | None) -> Keyring | None:
    if folder is None:
        return None
    try:
        return Keyring.open(Path(folder))
    except KeyringError as error:
        fail(_("密钥错误（${error}）", mapping={"error": error}), 2)
    raise AssertionError("unreachable")


def _default_repository(state: CliState, path: str | None) -> Path:
    """PATH, else ``certarchive.backup_dir``, else var/backups beside the keys folder
    (DESIGN.md's layout): the repository the server's backup jobs write to."""
    if path:
        return Path(path)
    return state.settings.backups.repository_path(state.settings.keys_dir)


class _Progress:
    """A one-line progress display on a terminal's stderr; silent otherwise."""

    def __init__(self, verb: str) -> None:
        self._verb = verb
        self._done: dict[str, int] = {}
        self.enabled = sys.stderr.isatty()

    def __call__(self, database: str, size: int) -> None:
        self._done[database] = self._done.get(database, 0) + size
        parts = "  ".join(f"{name} {done / 2**20:8.1f} MiB" for name, done in self._done.items())
        sys.stderr.write(f"\r{self._verb}: {parts}")
        sys.stderr.flush()

    def close(self) -> None:
        if self._done:
            sys.stderr.write("\n")

    def callback(self) -> _Progress | None:
        return self if self.enabled else None


def _print_faults(faults: list[Fault]) -> None:
    for fault in faults:
        click.echo(f"  [{fault.kind}] {fault.file}: {bilingual(fault.problem)}")


def _tid_time(tid_hex: str) -> str:
    if tid_hex == "0" * 16:
        return "-"
    seconds = TimeStamp(bytes.fromhex(tid_hex)).timeTime()
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


@click.group()
def backup() -> None:
    """Encrypted, signed, incremental snapshots: export, verify, restore, list, drill."""


@backup.command("init-key")
@key_option
@pass_state
def init_key(state: CliState, key_file: str | None) -> None:
    """Create the backup key (SM4 + SM2), apart from the data keys; never replaces one."""
    try:
        key = create_key(_key_path(state, key_file))
    except BackupKeyError as error:
        fail(str(error), 1)
    click.echo(
        bilingual(
            _("备份密钥（${key_id}，${path}）", mapping={"key_id": key.key_id, "path": key.path})
        )
    )
    click.echo(f"SM2 fingerprint: {key.public_key.fingerprint()}")
    click.echo(bilingual(_("请另行保管一份副本")))


@backup.command()
@click.option("--out", required=True, type=click.Path(file_okay=False), help="repository folder")
@click.option("--incremental", is_flag=True, help="only what changed since the newest snapshot")
@key_option
@json_option
@pass_state
def export(
    state: CliState, out: str, incremental: bool, key_file: str | None, as_json: bool
) -> None:
    """Snapshot main, audit and sharing and every blob, while the server keeps serving."""
    repository = Repository(Path(out))
    key_path = _key_path(state, key_file)
    try:
        key, created = key_for_export(key_path, repository)
    except BackupKeyError as error:
        fail(_("备份密钥错误（${error}）", mapping={"error": error}), 2)
    if created:
        click.echo(
            bilingual(_("已创建备份密钥（${key_path}）", mapping={"key_path": key_path})), err=True
        )
    progress = _Progress("export")
    try:
        manifest = export_snapshot(
            state.settings.databases, repository, key, incremental, progress.callback()
        )
    except (ExportRefused, ConfigError) as error:
        progress.close()
        fail(
            _("导出被拒绝（${error}）", mapping={"error": error}),
            2 if isinstance(error, ConfigError) else 1,
        )
    progress.close()
    if as_json:
        emit_json(summary(manifest))
        return
    click.echo(
        bilingual(
            _(
                "快照（${snapshot}，${kind}，${manifest_size}）",
                mapping={
                    "snapshot": manifest.snapshot,
                    "kind": manifest.kind,
                    "manifest_size": manifest.size(),
                },
            )
        )
    )
    for name, entry in manifest.databases.items():
        click.echo(
            f"  {name:8} tid {entry['last_tid']}  {entry['transactions']} transactions, "
            f"{entry['records']} records, {entry['blobs']} blobs"
        )


@backup.command()
@click.argument("path", type=click.Path(file_okay=False, exists=True))
@key_option
@json_option
@pass_state
def verify(state: CliState, path: str, key_file: str | None, as_json: bool) -> None:
    """Decrypt and check every chunk and signature of the chain; exit 1 on any fault."""
    report = verify_repository(Path(path), _load_key(state, key_file))
    if as_json:
        emit_json(report.to_dict())
    else:
        for snapshot in report.snapshots:
            click.echo(f"{snapshot['snapshot']}  {snapshot['kind']:11}  {snapshot['size']} bytes")
        for note in report.notes:
            click.echo(f"note: {note}")
        if report.ok:
            click.echo(
                bilingual(
                    _(
                        "完好（${len_report_snapshots}）",
                        mapping={"len_report_snapshots": len(report.snapshots)},
                    )
                )
            )
        else:
            click.echo(
                bilingual(
                    _(
                        "发现 ${len_report_faults} 处错误",
                        mapping={"len_report_faults": len(report.faults)},
                    )
                )
            )
            _print_faults(report.faults)
    sys.exit(0 if report.ok else 1)


@backup.command()
@click.argument("path", type=click.Path(file_okay=False, exists=True))
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(file_okay=False),
    help="a var/-like folder, created if absent",
)
@click.option("--force", is_flag=True, help="replace the databases in a non-empty folder")
@click.option("--snapshot", default=None, help="snapshot id or sequence number (default: newest)")
@key_option
@data_keys_option
@json_option
@pass_state
def restore(
    state: CliState,
    path: str,
    target: str,
    force: bool,
    snapshot: str | None,
    key_file: str | None,
    data_keys: str | None,
    as_json: bool,
) -> None:
    """Restore into a var/-like folder; verified before anything lands there."""
    key = _load_key(state, key_file)
    keyring = _data_keys(data_keys)
    progress = _Progress("restore")
    try:
        report = restore_snapshot(
            Path(path), key, Path(target), force, snapshot, keyring, progress.callback()
        )
    except RestoreRefused as error:
        progress.close()
        fail(_("恢复被拒绝（${error}）", mapping={"error": error}), 1)
    except RestoreFailed as error:
        progress.close()
        if as_json:
            emit_json({"ok": False, "faults": [vars(fault) for fault in error.faults]})
        else:
            click.echo(bilingual(_("恢复失败，未写入任何内容")))
            _print_faults(error.faults)
        sys.exit(1)
    progress.close()
    if as_json:
        emit_json({"ok": True, **report.to_dict()})
        return
    census = report.census
    click.echo(
        bilingual(
            _(
                "已恢复（${snapshot}，${target}）",
                mapping={"snapshot": report.snapshot, "target": report.target},
            )
        )
    )
    click.echo(f"  replayed: {', '.join(report.replayed)}")
    click.echo(
        f"  certificates {census.certificates}, versions {census.versions}, "
        f"files {census.files}, audit entries {census.logs['audit']['entries']}, "
        f"sharing entries {census.logs['sharing']['entries']}"
    )
    click.echo(f"  census {census.digest}")
    click.echo(
        _(
            "运行前请将数据密钥复制到（${str_path_target}）",
            mapping={"str_path_target": str(Path(target) / "keys")},
        )
    )


def _list_entry(repository: Repository, path: Path) -> dict[str, Any]:
    try:
        manifest: Manifest = repository.load(path)
    except (ManifestError, OSError) as error:
        return {"file": path.name, "error": str(error)}
    return summary(manifest) | {
        "chunks": sum(len(e["chunks"]) for e in manifest.databases.values())
    }


@backup.command("list")
@click.argument("path", required=False, type=click.Path(file_okay=False))
@json_option
@pass_state
def list_snapshots(state: CliState, path: str | None, as_json: bool) -> None:
    """Snapshots with ids, times, transaction ids and sizes (run verify to trust them)."""
    repository = Repository(_default_repository(state, path))
    entries = [_list_entry(repository, p) for p in repository.manifest_paths()]
    if as_json:
        emit_json({"repository": str(repository.path), "snapshots": entries})
        return
    if not entries:
        click.echo(bilingual(_("没有快照（${path}）", mapping={"path": repository.path})))
    for entry in entries:
        if "error" in entry:
            click.echo(f"{entry['file']}  unreadable: {entry['error']}")
            continue
        click.echo(
            f"{entry['snapshot']}  {entry['kind']:11}  {entry['created']}  "
            f"{entry['size']:>12} bytes  {entry['chunks']} chunks"
        )
        for name, db in entry["databases"].items():
            click.echo(f"    {name:8} tid {db['last_tid']} ({_tid_time(db['last_tid'])})")


@backup.command()
@click.argument("path", required=False, type=click.Path(file_okay=False))
@key_option
@data_keys_option
@json_option
@pass_state
def drill(
    state: CliState, path: str | None, key_file: str | None, data_keys: str | None, as_json: bool
) -> None:
    """Restore the newest snapshot into a temporary folder and compare it with the live one."""
    key = _load_key(state, key_file)
    progress = _Progress("drill")
    try:
        report = run_drill(
            state.settings.databases,
            _default_repository(state, path),
            key,
            _data_keys(data_keys),
            progress.callback(),
        )
    except (RestoreRefused, RestoreFailed) as error:
        progress.close()
        click.echo(bilingual(_("演练失败（${error}）", mapping={"error": error})))
        sys.exit(1)
    progress.close()
    if as_json:
        emit_json(report.to_dict())
    elif report.ok:
        census = report.restored
        click.echo(
            bilingual(
                _(
                    "演练通过（${snapshot}，${certificates}，${digest}，${seconds}）",
                    mapping={
                        "snapshot": report.snapshot,
                        "certificates": census.certificates,
                        "digest": census.digest,
                        "seconds": report.seconds,
                    },
                )
            )
        )
    else:
        click.echo(bilingual(_("演练失败（${snapshot}）", mapping={"snapshot": report.snapshot})))
        for difference in report.differences:
            click.echo(f"  {bilingual(difference)}")
    sys.exit(0 if report.ok else 1)
