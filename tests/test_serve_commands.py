"""Every command beside a running ``certarchive serve`` on FileStorage (issue #14).

A real server process holds the FileStorage locks; the real ``certarchive`` commands run
as the operator runs them, in processes of their own, and what they change is used over
HTTP at once.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import pickle
import re
import signal
import stat
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from certarchive.config import load_settings
from certarchive.door import door_path
from certarchive.door.protocol import RequestUnpickler
from certarchive.validation.samples import sample_case
from tests.conftest import file_settings
from tests.i18n_support import raises_matching
from tests.servers import free_port, serving
from tests.test_cli import current_pdf

PASSWORD = "correct horse battery"


def command(ini: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``certarchive -c INI ARGS…`` as an operator types it, in a process of its own."""
    binary = Path(sys.executable).with_name("certarchive")
    return subprocess.run(
        [str(binary), "-c", str(ini), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def sign_in(base: str, name: str, password: str) -> str:
    """Sign in through the staff login form; the page the browser lands on."""
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with browser.open(base + "/login", timeout=10) as page:
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode())
    assert token
    form = {"csrf_token": token.group(1), "username": name, "password": password, "next": ""}
    with browser.open(base + "/login", urllib.parse.urlencode(form).encode(), timeout=10) as after:
        assert after.status == 200
        return after.geturl() + "\n" + after.read().decode()


def post_case(base: str, key: str, number: int) -> int:
    request = urllib.request.Request(
        base + "/api/v1/cases",
        data=json.dumps(sample_case(number)).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as created:
            return created.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_commands_beside_a_running_server(
    cli_run: Any, runtime_of: Any, ini: Path, tmp_path: Path
) -> None:
    assert cli_run("init", "--demo", "1").exit_code == 0
    pdf = current_pdf(runtime_of, tmp_path)
    seal = tmp_path / "seal.pem"
    with serving(ini, "--sequence-every", "3600") as base:
        door = tmp_path / "var" / "Data.fs.admin.sock"
        assert stat.S_ISSOCK(door.stat().st_mode) and stat.S_IMODE(door.stat().st_mode) == 0o600

        added = command(
            ini,
            "user",
            "add",
            "li",
            "--role",
            "registrar",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        assert added.returncode == 0, added.stderr
        assert "/staff" in sign_in(base, "li", PASSWORD).splitlines()[0]
        again = command(
            ini,
            "user",
            "add",
            "li",
            "--role",
            "registrar",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        assert again.returncode == 1 and "用户已存在" in again.stderr and not again.stdout
        listed = json.loads(command(ini, "user", "list", "--json").stdout)
        assert [u["name"] for u in listed if u["role"] == "registrar"] == ["li"]

        created = command(ini, "client", "add", "upstream", "--scope", "cases:write", "--json")
        assert created.returncode == 0, created.stderr
        key = json.loads(created.stdout)["key"]
        assert post_case(base, key, 7) == 201
        key_id = json.loads(command(ini, "client", "list", "--json").stdout)[0]["key_id"]
        assert command(ini, "client", "revoke", key_id).returncode == 0
        assert post_case(base, key, 8) == 401

        checked = command(ini, "check", "--json")
        assert checked.returncode == 0, checked.stderr
        assert json.loads(checked.stdout)["certificates"] >= 1

        checkpoint = command(ini, "audit", "checkpoint")
        assert checkpoint.returncode == 0, checkpoint.stderr
        kept = tmp_path / "cp.json"
        kept.write_text(checkpoint.stdout)
        verified = command(ini, "audit", "verify", "--checkpoint", str(kept), "--json")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        report = json.loads(verified.stdout)
        # `audit checkpoint` sequenced everything the commands and requests queued
        # (this server's own sequencer waits an hour)
        assert report["ok"] and report["pending"] == 0 and report["size"] > 0

        shown = command(ini, "seal", "show", "--json")
        assert shown.returncode == 0 and json.loads(shown.stdout)["number"] == "4115260000001"
        assert command(ini, "seal", "export-public", "--out", str(seal)).returncode == 0
        assert "BEGIN PUBLIC KEY" in seal.read_text()
        chain = tmp_path / "chain.pem"
        assert command(ini, "seal", "certificate", "--out", str(chain)).returncode == 0
        assert command(ini, "seal", "request", "--out", str(tmp_path / "seal.csr")).returncode == 0
        assert chain.read_text().count("BEGIN CERTIFICATE") == 2
        assert command(ini, "agency", "list").returncode == 0

        online = command(ini, "verify", str(pdf), "--json")
        assert online.returncode == 0 and json.loads(online.stdout)["result"] == "valid"
        offline = command(ini, "verify", str(pdf), "--public-key", str(seal), "--json")
        assert offline.returncode == 0 and json.loads(offline.stdout)["result"] == "valid"
        by_chain = command(ini, "verify", str(pdf), "--certificate", str(chain), "--json")
        assert by_chain.returncode == 0 and json.loads(by_chain.stdout)["chain_checked"]
        # offline means no registry at all: not even a configuration file
        alone = command(tmp_path / "absent.ini", "verify", str(pdf), "--public-key", str(seal))
        assert alone.returncode == 0 and "valid" in alone.stdout

        packed = command(ini, "pack", "--days", "0")
        assert packed.returncode == 0, packed.stderr
        assert command(ini, "init").stdout.strip() == "已是最新 / up to date"
        with urllib.request.urlopen(base + "/", timeout=10) as home:
            assert home.status == 200  # packed under a running server, it goes on serving

        cases = tmp_path / "cases.jsonl"
        cases.write_text(json.dumps(sample_case(11), ensure_ascii=False) + "\n")
        imported = command(ini, "import", str(cases))
        assert imported.returncode == 0 and "recorded 1 new" in imported.stdout, imported.stderr

        exported = tmp_path / "audit.jsonl"
        assert command(ini, "audit", "export", "--out", str(exported)).returncode == 0
    entries = [json.loads(line) for line in exported.read_text().splitlines()]
    by_action = {entry["action"]: entry for entry in entries}
    for action in ("admin.user.add", "admin.pack"):  # the operator as without a server
        assert (by_action[action]["actor"], by_action[action]["role"]) == ("system", "system")
    assert not door.exists()  # a stopped server takes its door with it
    after = cli_run("user", "list", "--json")  # no server: the command opens the files
    assert after.exit_code == 0 and "li" in after.output


def test_a_killed_servers_door_is_ignored(cli_run: Any, ini: Path, tmp_path: Path) -> None:
    """A server killed outright leaves its socket behind; commands open the files
    themselves, and the next server replaces the socket."""
    assert cli_run("init").exit_code == 0
    binary = Path(sys.executable).with_name("certarchive")
    server = subprocess.Popen(
        [str(binary), "-c", str(ini), "serve", "--port", str(free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert server.stdout and server.stdout.readline().startswith(b"serving on")
    os.kill(server.pid, signal.SIGKILL)
    server.wait(timeout=30)
    door = tmp_path / "var" / "Data.fs.admin.sock"
    assert door.exists()
    result = command(
        ini, "user", "add", "wang", "--role", "auditor", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert result.returncode == 0, result.stderr
    with serving(ini) as base:
        assert command(ini, "user", "list").stdout.count("wang") == 1
        assert urllib.request.urlopen(base + "/healthz", timeout=5).status == 200


def test_a_request_names_data_never_a_callable() -> None:
    """What the server unpickles from a command builds certarchive's own classes and plain
    values; a pickle that would call anything else is refused."""
    import io

    class Evil:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.system, ("true",))

    with pytest.raises(pickle.UnpicklingError):
        RequestUnpickler(io.BytesIO(pickle.dumps(Evil()))).load()
    from certarchive.services.permissions import SYSTEM

    assert RequestUnpickler(io.BytesIO(pickle.dumps(SYSTEM))).load() == SYSTEM


def test_no_door_without_a_file_storage(tmp_path: Path) -> None:
    """ZEO and RelStorage let every process open the databases: no door is needed."""
    raw = file_settings(tmp_path / "var")
    assert door_path(load_settings(raw)) == tmp_path / "var" / "Data.fs.admin.sock"
    for name in ("main", "audit", "sharing"):
        raw[f"certarchive.zodb.{name}"] = f"zeo://127.0.0.1:1?storage={name}"
    assert door_path(load_settings(raw)) is None


def test_the_door_answers_refusals_and_failures_in_words(
    runtime: Any, settings: Any, tmp_path: Path
) -> None:
    """In-process: a refusal travels back as the command knows it; anything else is a
    failure named by its type, also for a name that is no certarchive function."""
    import socket

    from certarchive.door.client import DoorError, RemoteRuntime
    from certarchive.door.server import AdminDoor
    from certarchive.services.errors import ServiceError
    from certarchive.services.identity import list_users, unlock_user
    from certarchive.services.permissions import SYSTEM

    door = AdminDoor(runtime, tmp_path / "door.sock")
    outcome, refusal = door.answer(
        ("run", f"{unlock_user.__module__}:unlock_user", SYSTEM, ("nobody",), {})
    )
    assert outcome == "refused" and isinstance(refusal, ServiceError)
    assert door.answer(("run", "os:system", SYSTEM, ("true",), {})) == ("failed", "LookupError")
    assert door.answer(("run", "certarchive.storage:Path", SYSTEM, (), {}))[0] == "failed"
    assert door.answer(("invoke", f"{list_users.__module__}:list_users", None, (), {})) == (
        "failed",
        "AttributeError",
    )
    assert door.answer(("run", f"{list_users.__module__}:list_users", SYSTEM, (), {})) == (
        "ok",
        [],
    )

    command_end, server_end = socket.socketpair()
    server_end.close()  # a server that stops before it answers
    remote = RemoteRuntime(settings, runtime.keyring, command_end)
    with raises_matching(DoorError, "broke off"):
        remote.run(list_users, SYSTEM)
    remote.close()
    with pytest.raises(TypeError):  # only module-level functions can be named
        RemoteRuntime(settings, runtime.keyring, socket.socket()).run(lambda ctx: 1, SYSTEM)
