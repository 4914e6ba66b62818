"""A web export whose server stops mid-way (issue 14): no half snapshot looks complete,
and the restarted server reports the job as interrupted, not as running or done.

Everything is real: ``certarchive serve`` in a child process, stopped with SIGKILL (no
clean-up of any kind) while its worker writes chunks, then started again on the same
registry; the repository is then checked with ``backup verify``'s code.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

from certarchive.backup.keys import load_key
from certarchive.backup.repository import Repository
from certarchive.backup.verify import verify_repository
from certarchive.crypto.sm import sm3_hex
from tests.backup_support import add_bulk_blobs
from tests.i18n_support import both_text
from tests.servers import server_process


def call(base: str, key: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def files(repository: Repository) -> dict[str, str]:
    return {
        str(p.relative_to(repository.path)): sm3_hex(p.read_bytes())
        for p in repository.path.rglob("*")
        if p.is_file() and p.name != "lock"
    }


def chunk_count(repository: Repository) -> int:
    return sum(1 for p in repository.chunk_dir.rglob("*") if p.is_file())


def test_a_server_stopped_mid_export_leaves_no_complete_looking_snapshot(
    cli_run: Any, ini: Path, runtime_of: Any, tmp_path: Path
) -> None:
    assert cli_run("init", "--demo", "2").exit_code == 0
    runtime = runtime_of()
    try:
        add_bulk_blobs(runtime, 48)
    finally:
        runtime.close()
    key = json.loads(cli_run("client", "add", "ops", "--scope", "backups:run", "--json").output)[
        "key"
    ]
    repository = Repository(tmp_path / "var" / "backups")
    assert cli_run("backup", "export", "--out", str(repository.path)).exit_code == 0
    first = files(repository)

    with server_process(ini) as (base, server):
        job = call(base, key, "/api/v1/backups", {"incremental": False})["job"]
        before = chunk_count(repository)
        deadline = time.monotonic() + 60
        while chunk_count(repository) == before:  # the worker is writing this export's chunks
            assert time.monotonic() < deadline, "the export did not start"
            time.sleep(0.005)
        running = call(base, key, f"/api/v1/backups/jobs/{job}")
        assert running["state"] == "running"
        # requests are answered meanwhile: the export runs beside them, not in front
        started = time.monotonic()
        listing = call(base, key, "/api/v1/backups")
        urllib.request.urlopen(base + "/", timeout=10).close()
        assert time.monotonic() - started < 3 and len(listing["snapshots"]) == 1
        server.kill()  # stopped as by a power cut, in the middle of the export
        server.wait()

    # the interrupted export published nothing: one snapshot, intact, byte for byte as before
    backup_key = load_key(tmp_path / "var" / "keys" / "backup.key")
    report = verify_repository(repository.path, backup_key, remember=False)
    assert report.ok, report.faults
    assert [s["kind"] for s in report.snapshots] == ["full"]
    assert {name: files(repository).get(name) for name in first} == first
    assert any("interrupted exports left" in both_text(note) for note in report.notes)

    with server_process(ini) as (base, _server):
        deadline = time.monotonic() + 30
        while (state := call(base, key, f"/api/v1/backups/jobs/{job}"))["state"] == "running":
            assert time.monotonic() < deadline, state
            time.sleep(0.1)
        assert state["state"] == "failed" and state["interrupted"] is True
        assert "任务中断" in state["error"] and "snapshot" not in state
        # and the next export runs and succeeds
        again = call(base, key, "/api/v1/backups", {"incremental": True})["job"]
        deadline = time.monotonic() + 120
        while (state := call(base, key, f"/api/v1/backups/jobs/{again}"))["state"] == "running":
            assert time.monotonic() < deadline, state
            time.sleep(0.2)
        assert state["state"] == "done", state
    listing = json.loads(cli_run("backup", "list", str(repository.path), "--json").output)
    assert [s["kind"] for s in listing["snapshots"]] == ["full", "incremental"]
    assert cli_run("audit", "export", "--out", str(tmp_path / "audit.jsonl")).exit_code == 0
    lines = (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]
    interrupted = [e for e in entries if e["action"] == "backup.export" and e["result"] == "failed"]
    assert interrupted and interrupted[0]["detail"]["interrupted"] is True
