"""#13 on the command line: private data files, ``check`` that never stops on a problem and
warns about loose modes, and commands that refuse to guess among several agencies."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from certarchive.config import agency_config, load_settings
from certarchive.services.permissions import SYSTEM
from certarchive.services.runtime import Runtime
from certarchive.services.setup import add_agency
from tests.conftest import file_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def data_paths(var: Path) -> list[Path]:
    names = ["Data.fs", "Audit.fs", "Sharing.fs", "blobs", "keys"]
    return [var, *(var / n for n in names), *(var / "keys").iterdir()]


@pytest.fixture
def umask_022() -> Any:
    """The usual umask of a shell, restored afterwards (the CLI sets 077 for its process)."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_init_creates_data_files_and_folders_for_its_user_only(
    cli_run: Any, tmp_path: Path, umask_022: None
) -> None:
    assert cli_run("init").exit_code == 0
    var = tmp_path / "var"
    for path in data_paths(var):
        assert mode(path) & 0o077 == 0, (path, oct(mode(path)))


def test_explicit_modes_whatever_the_umask(tmp_path: Path, umask_022: None) -> None:
    """Opened without the CLI (a WSGI host, a script): the new storage files are private."""
    runtime = Runtime.open(load_settings(file_settings(tmp_path / "var")), create_keys=True)
    runtime.close()
    for name in ("Data.fs", "Audit.fs", "Sharing.fs", "blobs"):
        path = tmp_path / "var" / name
        assert mode(path) & 0o077 == 0, (path, oct(mode(path)))


def test_check_warns_about_looser_modes(cli_run: Any, tmp_path: Path) -> None:
    assert cli_run("init").exit_code == 0
    data = tmp_path / "var" / "Data.fs"
    data.chmod(0o644)
    (tmp_path / "var" / "keys").chmod(0o755)
    result = cli_run("check")
    assert result.exit_code == 0  # a warning, not a failed check
    assert f"{data}: 权限 0644" in result.output and f"chmod 600 {data}" in result.output
    assert "keys: 权限 0755" in result.output
    data.chmod(0o600)
    (tmp_path / "var" / "keys").chmod(0o700)
    assert "权限" not in cli_run("check").output


def test_check_reports_every_problem_and_never_stops(cli_run: Any, runtime_of: Any) -> None:
    assert cli_run("init", "--demo", "3").exit_code == 0
    runtime = runtime_of()

    def corrupt(ctx: Any) -> list[str]:
        certs = list(ctx.agency().certificates.values())
        first, second, third = certs[:3]
        first.versions._records[1] = {"number": 1, "garbage": True}  # no payload, no digest
        second.versions._records[1] = dict(second.versions[1], payload=b"\x00" * 40)
        third.versions._records[1] = dict(third.versions[1], digest="0" * 64)
        return [first.serial or first.id, second.serial or second.id, third.serial or third.id]

    labels = runtime.run(corrupt, SYSTEM)
    runtime.close()
    result = cli_run("check")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    first, second, third = labels
    unreadable = f"{first} 版本 1: 无法读取（KeyError） / {first} Version 1: cannot be read"
    assert f"{unreadable} (KeyError)" in result.output
    assert f"{second} 版本 1: 无法解密 / {second} Version 1: does not decrypt" in result.output
    assert f"{third} 版本 1: 摘要不符 / {third} Version 1: digest differs" in result.output


def test_commands_refuse_to_guess_among_several_agencies(cli_run: Any, runtime_of: Any) -> None:
    assert cli_run("init").exit_code == 0
    runtime = runtime_of()
    runtime.run(
        add_agency,
        SYSTEM,
        agency_config(
            {
                "certarchive.agency.name": "xinyang",
                "certarchive.agency.county": "浉河区",
                "certarchive.agency.county_code": "411502",
            }
        ),
    )
    runtime.close()
    refused = cli_run("seal", "show")
    assert refused.exit_code == 2
    assert "huangchuan" in refused.output and "xinyang" in refused.output
    assert "--agency" in refused.output
    refused = cli_run("seal", "export-public", "--out", "/dev/null")
    assert refused.exit_code == 2 and "--agency" in refused.output
    for name in ("huangchuan", "xinyang"):
        shown = cli_run("seal", "show", "--agency", name, "--json")
        assert shown.exit_code == 0, shown.output
        assert f'"agency": "{name}"' in shown.output
