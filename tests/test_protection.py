"""Protection at rest (H-5.2.3, H-5.2.7): nothing personal in clear on disk, ciphertexts
bound to their place, keys that refuse the wrong KEK and rotate without losing data,
and versions that survive packing."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

import pytest

from certarchive.crypto.sm import DecryptionError
from certarchive.services import cases, certificates
from certarchive.services.case_documents import add_document
from certarchive.services.certdata import read_data
from certarchive.services.permissions import SYSTEM
from certarchive.validation.samples import sample_case
from tests.conftest import REGISTRAR, UPSTREAM
from tests.i18n_support import both_text

DEMO = 6


def personal_values(count: int) -> set[str]:
    values = set()
    for n in range(count):
        for certificate in sample_case(n)["certificates"]:
            for party in certificate.get("holders", []) + certificate.get("obligors", []):
                if party["id_type"] != "credit_code":
                    values.add(party["id_number"])
                if party.get("phone"):
                    values.add(party["phone"])
    return values


def stored_bytes(var: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(var.rglob("*")) if p.is_file())


def test_no_id_number_or_phone_in_any_stored_byte(
    cli_run: Any, runtime_of: Any, tmp_path: Path
) -> None:
    assert cli_run("init", "--demo", str(DEMO)).exit_code == 0
    # A scanned application that shows the holder's ID number, as real scans do.
    holder = sample_case(0)["certificates"][0]["holders"][0]
    scan = f"%PDF-1.4 申请人 {holder['name']} 身份证号 {holder['id_number']}".encode()
    runtime = runtime_of()
    runtime.run(
        add_document, UPSTREAM, sample_case(0)["case_no"], "申请书.pdf", "application/pdf", scan
    )
    runtime.close()
    assert cli_run("check").exit_code == 0
    data = stored_bytes(tmp_path / "var")
    # The scan works: a non-personal value stored in clear is found.
    assert sample_case(0)["certificates"][0]["unit_number"].encode() in data
    values = personal_values(DEMO)
    assert len(values) > DEMO
    leaked = [v for v in values if v.encode() in data or v.encode("utf-16-le") in data]
    assert leaked == []


def test_a_ciphertext_moved_to_another_record_does_not_decrypt(run: Any) -> None:
    first = run(cases.record_case, sample_case(0))["certificates"][0]["id"]
    second = run(cases.record_case, sample_case(3))["certificates"][0]["id"]

    def swap(ctx: Any) -> None:
        a = certificates.get_certificate(ctx, first)
        b = certificates.get_certificate(ctx, second)
        a.versions._records[1] = dict(a.versions[1], payload=b.versions[1]["payload"])

    run(swap, actor=SYSTEM)
    with pytest.raises(DecryptionError):
        run(lambda ctx: read_data(ctx, certificates.get_certificate(ctx, first)), actor=SYSTEM)


def test_a_wrong_key_file_stops_start_up_and_touches_nothing(cli_run: Any, tmp_path: Path) -> None:
    assert cli_run("init", "--demo", "1").exit_code == 0
    (kek,) = (tmp_path / "var" / "keys").glob("kek-*.key")
    kek.write_text(secrets.token_hex(32) + "\n")
    before = {
        p: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (tmp_path / "var").rglob("*")
        if p.is_file()
    }
    for command in (("init",), ("check",), ("audit", "verify")):
        result = cli_run(*command)
        assert result.exit_code == 2, command
        assert "does not match" in result.output
    after = {
        p: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (tmp_path / "var").rglob("*")
        if p.is_file()
    }
    assert after == before


def test_a_missing_keyring_stops_start_up(cli_run: Any, tmp_path: Path) -> None:
    assert cli_run("init").exit_code == 0
    (tmp_path / "var" / "keys" / "datakeys.json").unlink()
    result = cli_run("check")
    assert result.exit_code == 2 and "datakeys.json" in result.output


def test_rotation_keeps_old_data_readable_and_uses_new_keys(cli_run: Any, tmp_path: Path) -> None:
    assert cli_run("init", "--demo", "2").exit_code == 0
    rotated = cli_run("keys", "rotate")
    assert rotated.exit_code == 0 and "personal-2" in rotated.output
    assert cli_run("init", "--demo", "1").exit_code == 0  # written under the new keys
    data = (tmp_path / "var" / "Data.fs").read_bytes()
    assert b"personal-2" in data and b"personal-1" in data
    assert cli_run("check").exit_code == 0  # old and new versions and files all decrypt
    assert cli_run("keys", "rotate", "--purpose", "blind-index").exit_code == 2


def test_rewrap_changes_the_kek_not_the_data(cli_run: Any, tmp_path: Path) -> None:
    assert cli_run("init", "--demo", "1").exit_code == 0
    (old,) = (tmp_path / "var" / "keys").glob("kek-*.key")
    data_before = (tmp_path / "var" / "Data.fs").read_bytes()
    assert cli_run("keys", "rewrap").exit_code == 0
    (new,) = (tmp_path / "var" / "keys").glob("kek-*.key")
    assert new != old
    assert (tmp_path / "var" / "Data.fs").read_bytes() == data_before
    assert cli_run("check").exit_code == 0


def test_versions_survive_packing(runtime: Any, run: Any) -> None:
    document = sample_case(0)
    run(cases.record_case, document)
    serial = run(
        cases.confirm_payment,
        document["case_no"],
        {"receipt_no": "R", "amount": "1", "paid_at": "2026-11-20T10:00:00+08:00"},
    )["certificates"][0]["serial"]

    def on(fn: Any, *args: Any) -> Any:
        return lambda ctx: fn(ctx, certificates.get_certificate(ctx, serial), *args)

    run(on(certificates.rollback, "r"), actor=REGISTRAR)
    for n in range(3):
        run(on(certificates.correct, {"notes": f"更正 {n}"}, f"c{n}"), actor=REGISTRAR)
    runtime.db.pack()
    versions = run(on(certificates.versions), actor=REGISTRAR)
    assert [v["number"] for v in versions] == [1, 2, 3, 4]
    first = run(on(certificates.data_of, 1), actor=REGISTRAR)
    assert first == document["certificates"][0]
    assert run(on(certificates.data_of, 4), actor=REGISTRAR)["notes"] == "更正 2"


def test_check_names_a_scanned_document_that_changed(run: Any) -> None:
    """H-5.2.2: the stored SM3 of each scanned document is recomputed by `check`."""
    from certarchive.services.cases import get_case
    from certarchive.services.integrity import check_registry

    document = sample_case(0)
    run(cases.record_case, document)
    run(add_document, document["case_no"], "a.pdf", "application/pdf", b"%PDF-1.4 scan")
    assert run(check_registry, actor=SYSTEM).ok

    def falsify(ctx: Any) -> None:
        case = get_case(ctx, document["case_no"])
        case.documents._records[1] = dict(case.documents[1], digest="0" * 64)

    run(falsify, actor=SYSTEM)
    report = run(check_registry, actor=SYSTEM)
    assert report.documents == 1
    assert [both_text(problem) for problem in report.problems] == [
        f"{document['case_no']} 扫描件 1: 摘要不符 / "
        f"{document['case_no']} Scanned documents 1: digest differs"
    ]
