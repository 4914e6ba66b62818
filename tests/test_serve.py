"""``certarchive serve`` as an operator runs it: a real waitress process on a port."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from certarchive.validation.samples import sample_case
from tests.servers import free_port, serving


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
