"""``certarchive import``: lines beyond the limits are reported by number, exit 1, and
nothing of the file is imported (#13)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from certarchive.cli import importer
from certarchive.validation.samples import sample_case


@pytest.fixture
def initialised(cli_run: Any) -> Any:
    assert cli_run("init").exit_code == 0
    return cli_run


def test_bad_lines_are_named_and_nothing_is_imported(
    initialised: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MAX_LINE_BYTES", 64 * 1024)
    good = json.dumps(sample_case(20), ensure_ascii=False).encode()
    surrogate = sample_case(21)
    surrogate["certificates"][0]["notes"] = "\ud800"
    lines = [
        good,
        b'{"case_no": ' + b"1" * 5000 + b"}",
        b"\xff\xfe not utf-8",
        json.dumps(surrogate).encode(),
        b'{"x": "' + b"a" * (200 * 1024) + b'"}',  # longer than the line limit
        b"[" * 10_000 + b"]" * 10_000,
    ]
    path = tmp_path / "cases.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = initialised("import", str(path))
    assert result.exit_code == 1
    out = result.output
    assert "line 2: refused (数字超过40位 / a number has more than 40 digits)" in out
    assert "line 3: not JSON" in out and "UTF-8" in out
    assert "line 4: refused at certificates[0].notes" in out and "surrogate" in out
    assert "line 5: refused (行过长" in out
    assert "line 6: refused" in out and "nested deeper" in out
    assert "line 1" not in out
    assert "Traceback" not in out
    assert "5 bad lines: nothing imported" in out
    path.write_bytes(good + b"\n")
    assert "recorded 1 new cases" in initialised("import", str(path)).output
