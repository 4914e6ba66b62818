"""``certarchive audit …``: checkpoint, verify and export the audit and sharing logs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from certarchive.audit.proof import LINE_LIMITS, is_export, verify_export
from certarchive.audit.queue import LOG_NAMES
from certarchive.cli.common import CliState, emit_json, fail, opened_runtime
from certarchive.i18n import _, bilingual
from certarchive.services import audit as audit_services
from certarchive.services.permissions import SYSTEM

pass_state = click.make_pass_decorator(CliState)
log_option = click.option("--log", "log_name", type=click.Choice(LOG_NAMES), default="audit")


@click.group()
def audit() -> None:
    """The tamper-evident logs (H-5.2.4, H-5.2.5)."""


@audit.command()
@log_option
@pass_state
def checkpoint(state: CliState, log_name: str) -> None:
    """Sequence pending entries, then print the newest signed checkpoint (keep it outside)."""
    with opened_runtime(state) as runtime:
        audit_services.sequence_logs(runtime)
        emit_json(runtime.run(audit_services.checkpoint_document, SYSTEM, log_name))


@audit.command("verify")
@log_option
@click.option("--checkpoint", "checkpoint_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@pass_state
def verify_command(
    state: CliState, log_name: str, checkpoint_file: str | None, as_json: bool
) -> None:
    """Replay the log: every entry, Merkle root and checkpoint signature; exit 1 on a fault.

    Given a range exported from the auditors' page as the checkpoint file, check that
    file alone, offline: its checkpoint's signature and each entry's inclusion proof."""
    if checkpoint_file and _is_export(checkpoint_file):
        _verify_export(checkpoint_file, as_json)
        return
    external = Path(checkpoint_file).read_text(encoding="utf-8") if checkpoint_file else None
    with opened_runtime(state) as runtime:
        report = runtime.run(audit_services.verify, SYSTEM, log_name, external)
    if as_json:
        emit_json(report.to_dict())
    else:
        click.echo(
            f"{report.log}: {report.size} entries, {report.pending} pending, "
            f"{report.checkpoints} checkpoints, root {report.root}"
        )
        for problem in report.problems:
            click.echo(f"  ✗ {bilingual(problem)}")
    if not report.ok:
        fail(_("日志校验失败"), 1)
    if not as_json:
        click.echo(bilingual(_("日志完整")))


def _is_export(path: str) -> bool:
    with open(path, "rb") as source:
        return is_export(source.readline(LINE_LIMITS.max_bytes + 1))


def _verify_export(path: str, as_json: bool) -> None:
    with open(path, "rb") as source:
        report = verify_export(source)
    if as_json:
        emit_json(report.to_dict())
    else:
        click.echo(
            f"{report.log}: checkpoint of {report.size} entries, key {report.key}; "
            f"{report.entries} entries verified ({report.masked} masked: path only)"
        )
        for problem in report.problems:
            click.echo(f"  ✗ {bilingual(problem)}")
    if not report.ok:
        fail(_("导出文件校验失败"), 1)
    if not as_json:
        click.echo(bilingual(_("导出文件完整")))


@audit.command("export")
@log_option
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True)
@pass_state
def export_command(state: CliState, log_name: str, out: str) -> None:
    """Write every sequenced entry as JSON lines (for retention beyond the registry)."""
    written = 0
    with opened_runtime(state) as runtime, open(out, "w", encoding="utf-8") as target:
        audit_services.sequence_logs(runtime)
        while True:
            batch = runtime.run(audit_services.entries, SYSTEM, log_name, written, 1000)
            if not batch:
                break
            target.writelines(json.dumps(e, ensure_ascii=False) + "\n" for e in batch)
            written += len(batch)
    click.echo(f"{written} entries written to {out}")
