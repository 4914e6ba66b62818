"""``certarchive pack``: old revisions go, nothing current does; the databases of a
running server are refused with a message, not a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ZODB.FileStorage import FileStorage

from certarchive.services import cases
from certarchive.services.audit import sequence_logs
from certarchive.validation.samples import sample_case
from tests.conftest import UPSTREAM, file_settings, write_ini
from tests.servers import zeo_server

FILES = ("Data.fs", "Audit.fs", "Sharing.fs")
PAYMENT = {"receipt_no": "R-1", "amount": "80.00", "paid_at": "2026-11-20T10:00:00+08:00"}


def issue_some(runtime: Any, count: int) -> None:
    """Cases recorded and paid (certificates issued), the log sequenced: every commit
    leaves old revisions of buckets, queues and counters behind."""
    for n in range(count):
        document = sample_case(3 * n)
        runtime.run(cases.record_case, UPSTREAM, document)
        runtime.run(cases.confirm_payment, UPSTREAM, document["case_no"], PAYMENT)
    sequence_logs(runtime)


def sizes(var: Path) -> dict[str, int]:
    return {name: (var / name).stat().st_size for name in FILES}


def test_pack_shrinks_the_files_and_keeps_everything_current(
    cli_run: Any, runtime_of: Any, tmp_path: Path
) -> None:
    var = tmp_path / "var"
    assert cli_run("init").exit_code == 0
    runtime = runtime_of()
    issue_some(runtime, 8)
    runtime.close()
    exported = tmp_path / "before.jsonl"
    assert cli_run("audit", "export", "--out", str(exported)).exit_code == 0
    before = sizes(var)

    result = cli_run("pack", "--days", "0")
    assert result.exit_code == 0, result.output
    after = sizes(var)
    assert after["Data.fs"] < before["Data.fs"] * 0.8
    assert after["Audit.fs"] < before["Audit.fs"]
    assert "main:" in result.output and "full export" in result.output

    check = cli_run("check", "--json")
    assert check.exit_code == 0, check.output
    assert json.loads(check.output)["certificates"] == 8
    assert cli_run("audit", "verify").exit_code == 0
    again = tmp_path / "after.jsonl"
    assert cli_run("audit", "export", "--out", str(again)).exit_code == 0
    lines = again.read_text().splitlines()
    assert lines[: len(exported.read_text().splitlines())] == exported.read_text().splitlines()
    packed = json.loads(lines[-1])  # the pack itself is an administrative act (H-5.2.4)
    assert packed["action"] == "admin.pack" and packed["detail"]["days"] == 0


def test_pack_refuses_the_files_of_a_running_server(
    cli_run: Any, runtime_of: Any, tmp_path: Path
) -> None:
    assert cli_run("init").exit_code == 0
    before = sizes(tmp_path / "var")
    server = runtime_of()  # holds the FileStorage locks, as `serve` does
    try:
        for command in (("pack",), ("check",)):
            result = cli_run(*command)
            assert result.exit_code == 2
            assert "in use by another process" in result.output
    finally:
        server.close()
    assert sizes(tmp_path / "var") == before


def test_pack_refuses_a_negative_age(cli_run: Any) -> None:
    assert cli_run("init").exit_code == 0
    result = cli_run("pack", "--days", "-1")
    assert result.exit_code == 2 and "--days" in result.output


def test_pack_through_zeo_beside_a_running_client(
    cli_run: Any, runtime_of: Any, ini: Path, tmp_path: Path
) -> None:
    """On ZEO the server packs, while another client stays connected."""
    with zeo_server(tmp_path / "zeo") as uris:
        write_ini(ini, file_settings(tmp_path / "var") | uris)
        assert cli_run("init").exit_code == 0
        runtime = runtime_of()
        try:
            issue_some(runtime, 4)
            main = tmp_path / "zeo" / "main.fs"
            before = main.stat().st_size
            result = cli_run("pack", "--days", "0")
            assert result.exit_code == 0, result.output
            assert main.stat().st_size < before
            issue_some(runtime, 1)  # the connected client goes on working
        finally:
            runtime.close()
        assert cli_run("check").exit_code == 0
        assert cli_run("audit", "verify").exit_code == 0


def test_a_locked_later_database_releases_the_ones_opened_before_it(
    cli_run: Any, tmp_path: Path
) -> None:
    """Main opens, audit is locked by another holder: the command refuses, and main's
    files are released again rather than left locked by a half-opened runtime."""
    assert cli_run("init").exit_code == 0
    var = tmp_path / "var"
    holder = FileStorage(str(var / "Audit.fs"))
    try:
        result = cli_run("check")
        assert result.exit_code == 2 and "in use by another process" in result.output
        FileStorage(str(var / "Data.fs"), blob_dir=str(var / "blobs")).close()
    finally:
        holder.close()
