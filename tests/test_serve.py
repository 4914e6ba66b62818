"""``certarchive serve`` as an operator runs it: a real waitress process on a port."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from certarchive.validation.samples import sample_case
from tests.servers import free_port


@contextmanager
def serving(ini: Path, *extra: str) -> Iterator[str]:
    with server_process(ini, *extra) as (base, _process):
        yield base


@contextmanager
def server_process(ini: Path, *extra: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """``certarchive serve`` on a free port: its base URL and its process."""
    port = free_port()
    binary = Path(sys.executable).with_name("certarchive")
    server = subprocess.Popen(
        [str(binary), "-c", str(ini), "serve", "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_answers_and_sequences_the_log(cli_run: Any, ini: Path) -> None:
    assert cli_run("init", "--demo", "1").exit_code == 0
    key = json.loads(
        cli_run("client", "add", "upstream", "--scope", "cases:write", "--json").output
    )["key"]
    with serving(ini, "--sequence-every", "0.5") as base:
        with urllib.request.urlopen(base + "/", timeout=10) as home:
            page = home.read().decode()
        assert home.status == 200 and "不动产" in page
        request = urllib.request.Request(
            base + "/api/v1/cases",
            data=json.dumps(sample_case(9)).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as created:
            assert created.status == 201
        time.sleep(2)
    report = json.loads(cli_run("audit", "verify", "--json").output)
    assert report["ok"] and report["pending"] == 0


def test_serve_refuses_a_wrong_key_file(cli_run: Any, ini: Path, tmp_path: Path) -> None:
    assert cli_run("init").exit_code == 0
    (kek,) = (tmp_path / "var" / "keys").glob("kek-*.key")
    kek.write_text("0" * 64 + "\n")
    binary = Path(sys.executable).with_name("certarchive")
    result = subprocess.run(
        [str(binary), "-c", str(ini), "serve", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "does not match" in result.stderr
