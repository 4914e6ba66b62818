"""The command line as CONTRACT.md describes it: exit 0 success, 1 refused, 2 usage."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from certarchive.validation.samples import sample_case
from tests.conftest import file_settings, log_entries, write_ini


@pytest.fixture
def demo(cli_run: Any) -> Any:
    result = cli_run("init", "--demo", "3")
    assert result.exit_code == 0, result.output
    return cli_run


def test_init_is_idempotent(cli_run: Any) -> None:
    first = cli_run("init")
    assert first.exit_code == 0 and "seal" in first.output
    second = cli_run("init")
    assert second.exit_code == 0 and "up to date" in second.output


def test_a_missing_config_file_is_exit_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from certarchive.cli.main import cli

    result = CliRunner().invoke(cli, ["-c", str(tmp_path / "nope.ini"), "init"])
    assert result.exit_code == 2
    assert "nope.ini" in result.output


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("certarchive.public_base_url", "ftp://x", "public_base_url"),
        ("certarchive.agency.county_code", "41152", "county_code"),
        ("certarchive.agency.serial_width", "seven", "serial_width"),
        ("certarchive.zodb.audit", "gopher://x", "zodb.audit"),
        ("certarchive.agency.credit_code", "123", "credit_code"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_it(
    tmp_path: Path, setting: str, value: str, named: str
) -> None:
    from click.testing import CliRunner

    from certarchive.cli.main import cli

    ini = write_ini(tmp_path / "bad.ini", file_settings(tmp_path / "var") | {setting: value})
    result = CliRunner().invoke(cli, ["-c", str(ini), "init"])
    assert result.exit_code == 2
    assert named in result.output
    assert not (tmp_path / "var").exists()


def test_a_missing_setting_is_named(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from certarchive.cli.main import cli

    raw = file_settings(tmp_path / "var")
    del raw["certarchive.keys_dir"]
    result = CliRunner().invoke(cli, ["-c", str(write_ini(tmp_path / "m.ini", raw)), "init"])
    assert result.exit_code == 2 and "keys_dir" in result.output


def test_user_add_and_its_refusals(cli_run: Any) -> None:
    cli_run("init")
    ok = cli_run(
        "user", "add", "li", "--role", "registrar", "--password-stdin", input="long-password-1\n"
    )
    assert ok.exit_code == 0
    again = cli_run(
        "user", "add", "li", "--role", "registrar", "--password-stdin", input="long-password-1\n"
    )
    assert again.exit_code == 1 and "exists" in again.output
    short = cli_run("user", "add", "wu", "--role", "auditor", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "password" in short.output
    assert "short" not in short.output
    bad_role = cli_run("user", "add", "wu", "--role", "king", "--password-stdin", input="x" * 12)
    assert bad_role.exit_code == 2


def test_client_add_prints_its_key_once(cli_run: Any, tmp_path: Path) -> None:
    cli_run("init")
    result = cli_run("client", "add", "icbc", "--scope", "certificates:read", "--json")
    assert result.exit_code == 0
    created = json.loads(result.output)
    assert created["name"] == "icbc" and created["scopes"] == ["certificates:read"]
    assert created["key"].startswith("ca_")
    secret = created["key"].split(".", 1)[1]
    data = b"".join(p.read_bytes() for p in (tmp_path / "var").glob("*.fs"))
    assert secret.encode() not in data


def test_seal_show_and_export_public_that_openssl_reads(demo: Any, tmp_path: Path) -> None:
    shown = json.loads(demo("seal", "show", "--json").output)
    assert shown["name"] == "潢川县自然资源局不动产登记专用章"
    assert shown["number"] == "4115260000001"
    out = tmp_path / "seal.pem"
    assert demo("seal", "export-public", "--out", str(out)).exit_code == 0
    text = subprocess.run(
        ["openssl", "pkey", "-pubin", "-in", str(out), "-text", "-noout"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "SM2" in text


def test_import_validates_everything_first(demo: Any, tmp_path: Path) -> None:
    good = [sample_case(n) for n in range(10, 13)]
    bad = sample_case(13)
    bad["certificates"][0]["unit_number"] = "x"
    lines = tmp_path / "cases.jsonl"
    lines.write_text(
        "\n".join(json.dumps(d, ensure_ascii=False) for d in [*good, bad]) + "\nnot json\n",
        encoding="utf-8",
    )
    refused = demo("import", str(lines))
    assert refused.exit_code == 1
    assert "line 4: certificates[0].unit_number" in refused.output
    assert "line 5: not JSON" in refused.output
    lines.write_text("\n".join(json.dumps(d) for d in good) + "\n", encoding="utf-8")
    imported = demo("import", str(lines))
    assert imported.exit_code == 0 and "recorded 3 new cases" in imported.output
    again = demo("import", str(lines))
    assert "recorded 0 new cases, 3 already present" in again.output


def test_check_passes_on_a_sound_registry(demo: Any) -> None:
    result = demo("check", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] and report["certificates"] >= 3 and report["files"] >= 3


def test_an_outdated_registry_must_be_evolved_by_init(cli_run: Any, runtime_of: Any) -> None:
    """Schema changes are named, recorded evolve steps run by init."""
    from BTrees.OOBTree import OOBTree

    from certarchive.audit.log import get_log
    from certarchive.audit.queue import OUTBOX_KEY
    from certarchive.content.evolve import LATEST, STEPS
    from certarchive.services.permissions import SYSTEM

    assert cli_run("init", "--demo", "2").exit_code == 0
    assert cli_run("audit", "checkpoint").exit_code == 0
    runtime = runtime_of()
    kept = runtime.run(lambda ctx: dict(get_log(ctx.conn, "audit").nodes), SYSTEM)
    assert kept  # a few dozen entries: at least one subtree of 16

    def rewind(ctx: Any) -> None:
        """Back to a registry as the first release made it: no sessions, no step record,
        logs without kept subtree hashes, no outbox, an entry queued as a dict."""
        registry = ctx.registry
        registry.generation = 0
        del registry.sessions
        del registry.evolved
        del get_log(ctx.conn, "audit").nodes
        del ctx.conn.root()[OUTBOX_KEY]
        log = get_log(ctx.conn, "audit")
        log.pending = OOBTree()
        log.pending["0-first-release"] = {"action": "test.legacy"}

    runtime.run(rewind, SYSTEM)
    runtime.close()
    refused = cli_run("check")
    assert refused.exit_code == 2 and "certarchive init" in refused.output
    evolved = cli_run("init")
    assert evolved.exit_code == 0 and all(name in evolved.output for name, _step in STEPS)
    runtime = runtime_of()
    state = runtime.run(
        lambda ctx: (
            ctx.registry.generation,
            [e["step"] for e in ctx.registry.evolved],
            len(ctx.registry.sessions),
            {key: get_log(ctx.conn, "audit").nodes.get(key) for key in kept},
            OUTBOX_KEY in ctx.conn.root(),
            [e["action"] for e in log_entries(ctx)].count("test.legacy"),
            len(get_log(ctx.conn, "audit").pending),
            type(get_log(ctx.conn, "audit").pending).__name__,
        ),
        SYSTEM,
    )
    runtime.close()
    assert state == (LATEST, [name for name, _step in STEPS], 0, kept, True, 1, 0, "QueueTree")
    assert cli_run("check").exit_code == 0


def current_pdf(runtime_of: Any, tmp_path: Path, revoke: bool = False) -> Path:
    """The first certificate's current file, written out as a holder would save it."""
    from certarchive.services import certificates
    from certarchive.services.certdata import read_file
    from certarchive.services.permissions import SYSTEM

    runtime = runtime_of()

    def fetch(ctx: Any) -> bytes:
        cert = next(iter(ctx.agency().certificates.values()))
        if revoke:
            certificates.revoke(ctx, cert, "transfer", "转移登记")
        return read_file(ctx, cert)

    pdf = runtime.run(fetch, SYSTEM)
    runtime.close()
    path = tmp_path / ("revoked.pdf" if revoke else "certificate.pdf")
    path.write_bytes(pdf)
    return path


def test_verify_a_file_with_the_registry_and_offline(
    demo: Any, runtime_of: Any, tmp_path: Path
) -> None:
    """H-5.1.2: exit 0 for the registry's own file, 1 for a changed one; offline with the
    exported public key alone."""
    pdf = current_pdf(runtime_of, tmp_path)
    result = demo("verify", str(pdf), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["result"] == "valid"
    key = tmp_path / "seal.pem"
    demo("seal", "export-public", "--out", str(key))
    offline = demo("verify", str(pdf), "--public-key", str(key), "--json")
    assert offline.exit_code == 0 and json.loads(offline.output)["result"] == "valid"
    data = bytearray(pdf.read_bytes())
    at = data.index(b"/Title") + 2
    data[at] ^= 0x01
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    for args in ((str(tampered),), (str(tampered), "--public-key", str(key))):
        refused = demo("verify", *args, "--json")
        assert refused.exit_code == 1
        assert json.loads(refused.output)["result"] == "invalid"


def test_verify_reports_a_revoked_file(demo: Any, runtime_of: Any, tmp_path: Path) -> None:
    pdf = current_pdf(runtime_of, tmp_path, revoke=True)
    result = demo("verify", str(pdf))
    assert result.exit_code == 1
    assert "revoked" in result.output


def test_verify_refuses_a_bad_key_file(demo: Any, tmp_path: Path) -> None:
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.4 nothing")
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a key")
    assert demo("verify", str(pdf), "--public-key", str(bogus)).exit_code == 2
    assert demo("verify", str(pdf)).exit_code == 1


def test_check_names_a_changed_digest(
    demo: Any, runtime_of: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """H-5.2.2: a stored digest that no longer matches its data is named, also when the
    walk lets go of what it read after every certificate and case (SHED_EVERY, for a million)."""
    from certarchive.services import integrity
    from certarchive.services.permissions import SYSTEM

    monkeypatch.setattr(integrity, "SHED_EVERY", 1)

    runtime = runtime_of()

    def falsify(ctx: Any) -> str:
        cert = next(iter(ctx.agency().certificates.values()))
        cert.versions._records[1] = dict(cert.versions[1], digest="0" * 64)
        return cert.serial

    serial = runtime.run(falsify, SYSTEM)
    runtime.close()
    result = demo("check")
    assert result.exit_code == 1
    assert f"{serial} 版本 1" in result.output and "digest differs" in result.output


def test_admin_totp_unlock_and_client_revoke(cli_run: Any) -> None:
    cli_run("init")
    admin = cli_run(
        "user", "add", "root", "--role", "admin", "--password-stdin", input="long-password-1\n"
    )
    assert admin.exit_code == 0 and "otpauth://totp/" in admin.output
    assert "otpauth://totp/" in cli_run("user", "totp", "root").output
    listed = json.loads(cli_run("user", "list", "--json").output)
    assert listed == [
        {
            "name": "root",
            "role": "admin",
            "agency": None,
            "locked": False,
            "locked_until": None,
            "totp": True,
        }
    ]
    assert cli_run("user", "unlock", "root").exit_code == 1  # not locked
    assert cli_run("user", "totp", "nobody").exit_code == 1
    key_id = json.loads(
        cli_run("client", "add", "bank", "--scope", "certificates:read", "--json").output
    )["key"][3:15]
    assert cli_run("client", "revoke", key_id).exit_code == 0
    assert cli_run("client", "revoke", key_id).exit_code == 1
    clients = json.loads(cli_run("client", "list", "--json").output)
    assert clients == [
        {"key_id": key_id, "name": "bank", "scopes": ["certificates:read"], "revoked": True}
    ]


def test_a_tampered_revoked_file_is_invalid_offline(
    demo: Any, runtime_of: Any, tmp_path: Path
) -> None:
    """A revocation stamp in a file whose signature fails proves nothing: invalid, not revoked."""
    pdf = current_pdf(runtime_of, tmp_path, revoke=True)
    key = tmp_path / "seal.pem"
    demo("seal", "export-public", "--out", str(key))
    data = bytearray(pdf.read_bytes())
    data[data.index(b"/Title") + 2] ^= 0x01
    tampered = tmp_path / "tampered-revoked.pdf"
    tampered.write_bytes(bytes(data))
    result = demo("verify", str(tampered), "--public-key", str(key), "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["result"] == "invalid"
