"""``certarchive import-existing``: paper-era certificates (Z-2) under their paper serials
(H-1.6), resumable, line by line refusals, worker processes, files made on demand."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from certarchive.audit.queue import get_outbox
from certarchive.documents.metadata import read_metadata
from certarchive.documents.verify import verify_pdf
from certarchive.services import certificates as certificate_services
from certarchive.services.cases import confirm_payment, record_case
from certarchive.services.certdata import read_file
from certarchive.services.integrity import check_registry
from certarchive.services.permissions import SYSTEM
from certarchive.services.seals import registry_trust
from certarchive.services.verification import by_token
from certarchive.validation.samples import sample_case, sample_existing_case
from tests.conftest import UPSTREAM, log_entries
from tests.test_documents_fixtures import pdftotext

COMMAND = Path(sys.executable).parent / "certarchive"
SERIAL = "豫({year})潢川县{word}第{seq:07d}号"


def write_lines(path: Path, documents: Iterable[Any]) -> Path:
    path.write_text(
        "".join(
            (d if isinstance(d, str) else json.dumps(d, ensure_ascii=False)) + "\n"
            for d in documents
        ),
        encoding="utf-8",
    )
    return path


def facts(runtime: Any) -> dict[str, tuple[Any, ...]]:
    """Per serial: case, kind, state, issue time, files (pdf, ofd), on demand."""

    def read(ctx: Any) -> dict[str, tuple[Any, ...]]:
        agency = ctx.agency()
        found = {}
        for cert in agency.certificates.values():
            ofd = cert.file_log("ofd")
            found[cert.serial] = (
                cert.case_no,
                cert.kind,
                cert.state,
                cert.issued_at.isoformat() if cert.issued_at else None,
                len(cert.files),
                len(ofd) if ofd is not None else 0,
                cert.file_on_demand,
            )
        return found

    return runtime.run(read, SYSTEM)


def cli(ini: Path, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    """The real command in its own process (worker processes, kills)."""
    command = [str(COMMAND), "-c", str(ini), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, **kw)


@pytest.fixture
def registry(cli_run: Any) -> Any:
    result = cli_run("init")
    assert result.exit_code == 0, result.output
    return cli_run


def test_both_bracket_forms_import_under_one_printed_form(
    registry: Any, runtime_of: Any, tmp_path: Path
) -> None:
    """H-1.6: （） and () are accepted; the serial is stored and printed with ()."""
    lines = write_lines(
        tmp_path / "paper.jsonl",
        [sample_existing_case(0, fullwidth=True), sample_existing_case(1)],
    )
    result = registry("import-existing", str(lines))
    assert result.exit_code == 0, result.output
    assert "imported 2 cases (3 certificates)" in result.output
    runtime = runtime_of()
    try:
        found = facts(runtime)
        wide = sample_existing_case(0, fullwidth=True)["certificates"][0]
        printed = wide["serial"].replace("（", "(").replace("）", ")")
        assert "（" in wide["serial"] and set(found) == {
            printed,
            SERIAL.format(year=2026, word="不动产权", seq=3),
            SERIAL.format(year=2026, word="不动产证明", seq=4),
        }
        _case_no, kind, state, issued_at, pdfs, _ofds, on_demand = found[printed]
        assert (kind, state, pdfs, on_demand) == ("right", "issued", 1, False)
        assert issued_at == wide["issued_at"]

        def file_of(ctx: Any) -> bytes:
            cert = certificate_services.find_certificate(ctx, wide["serial"])  # the （） form
            return read_file(ctx, cert)

        pdf = runtime.run(file_of, SYSTEM)
        text = pdftotext(pdf)
        assert printed in text and "（2026）" not in text
        paper_day = datetime.fromisoformat(wide["issued_at"])
        assert f"{paper_day.year}年{paper_day.month}月{paper_day.day}日" in text.replace(" ", "")
        assert runtime.run(check_registry, SYSTEM).ok
    finally:
        runtime.close()


def test_sequences_continue_after_the_highest_imported_number(
    registry: Any, runtime_of: Any, tmp_path: Path
) -> None:
    """H-1.6: after an import, a normal issuance of the year takes the next number."""
    now = datetime.now(UTC)
    lines = []
    for n, seq in ((0, 41), (1, 7)):  # the highest right is 41, the only proof 8
        line = sample_existing_case(n)
        line["recorded_at"] = (now - timedelta(days=30)).isoformat()
        for cert in line["certificates"]:
            right = cert["kind"] == "right"
            cert["serial"] = serial_for(cert, _china_year(now), seq if right else seq + 1)
            cert["issued_at"] = (now - timedelta(minutes=1)).isoformat()
        lines.append(line)
    result = registry("import-existing", str(write_lines(tmp_path / "p.jsonl", lines)))
    assert result.exit_code == 0, result.output
    runtime = runtime_of()
    try:
        # the import's entries are sequenced before the command ends, none left queued
        waiting = runtime.run(lambda ctx: len(get_outbox(ctx.conn).queue("audit")), SYSTEM)
        assert waiting == 0
        case = sample_case(4)  # a first registration with a right and a mortgage proof
        runtime.run(record_case, UPSTREAM, case)
        paid = runtime.run(
            confirm_payment,
            UPSTREAM,
            case["case_no"],
            {"receipt_no": "R-1", "amount": "80.00", "paid_at": now.isoformat()},
        )
        serials = {c["kind"]: c["serial"] for c in paid["certificates"]}
        year = _china_year(now)
        assert serials == {
            "right": SERIAL.format(year=year, word="不动产权", seq=42),
            "proof": SERIAL.format(year=year, word="不动产证明", seq=9),
        }

        def actions(ctx: Any) -> list[tuple[str, str]]:
            return [(e["action"], e["object"]) for e in log_entries(ctx)]

        recorded = runtime.run(actions, SYSTEM)
        imported = SERIAL.format(year=year, word="不动产权", seq=41)
        assert ("certificate.issue", f"certificate:{imported}") in recorded
        assert ("case.create", f"case:{lines[0]['case_no']}") in recorded
        assert ("case.record", f"case:{lines[0]['case_no']}") in recorded
    finally:
        runtime.close()


def serial_for(cert: dict[str, Any], year: int, seq: int) -> str:
    word = "不动产权" if cert["kind"] == "right" else "不动产证明"
    return SERIAL.format(year=year, word=word, seq=seq)


def _china_year(moment: datetime) -> int:
    from certarchive.services.issuance import CHINA

    return moment.astimezone(CHINA).year


def _bad_lines() -> list[tuple[Any, str]]:
    """(line, words its refusal must name), each a different fault."""
    unit = sample_existing_case(20)
    unit["certificates"][0]["unit_number"] = "x"
    missing = sample_existing_case(21)
    del missing["certificates"][0]["serial"]
    kind = sample_existing_case(22)  # shape 1: a right then a proof
    kind["certificates"][0]["serial"] = kind["certificates"][1]["serial"]
    year = sample_existing_case(23)
    year["certificates"][0]["serial"] = serial_for(year["certificates"][0], 2019, 47)
    county = sample_existing_case(24)
    county["certificates"][0]["serial"] = "豫(2026)光山县不动产权第0000049号"
    reused = sample_existing_case(25)  # shape 1; its right takes line 1's serial
    reused["certificates"][0]["serial"] = sample_existing_case(0)["certificates"][0]["serial"]
    early = sample_existing_case(26)
    early["certificates"][0]["issued_at"] = "2020-01-01T09:00:00+08:00"
    future = sample_existing_case(27)
    future["certificates"][0]["issued_at"] = "2099-01-01T09:00:00+08:00"
    future["certificates"][0]["serial"] = serial_for(future["certificates"][0], 2099, 55)
    other = sample_existing_case(0)
    other["delivery"] = "both"  # line 1's case number with other content
    return [
        ("{not json", "not JSON"),
        (unit, "certificates[0].unit_number"),
        (missing, "certificates[0].serial: 必填 / required"),
        (kind, "certificates[0].serial: 编号是不动产证明的编号"),
        (year, "the serial's year is not the year of issue"),
        (county, "another province or county"),
        (reused, "the serial is already in the registry"),
        (early, "issued before the case was recorded"),
        (future, "issued in the future"),
        (other, "case number already recorded with other content"),
        ([1, 2], "$: 须为JSON对象 / must be a JSON object"),
    ]


def test_bad_lines_are_named_and_the_rest_is_imported(
    registry: Any, runtime_of: Any, tmp_path: Path
) -> None:
    """Each bad line: its number and its problem in words, nothing of it kept; the good
    lines around it (in the same batch) are imported; exit 1 at the end."""
    bad = _bad_lines()
    good = [sample_existing_case(n) for n in range(3)]
    documents = [good[0], *[line for line, _ in bad], good[1], good[2]]
    result = registry("import-existing", str(write_lines(tmp_path / "p.jsonl", documents)))
    assert result.exit_code == 1
    assert "imported 3 cases" in result.output and f"{len(bad)} bad lines" in result.output
    for index, (_line, words) in enumerate(bad, start=2):
        reported = [r for r in result.output.splitlines() if r.startswith(f"line {index}: ")]
        assert reported and words in reported[0], (index, words, result.output)
    runtime = runtime_of()
    try:

        def state(ctx: Any) -> tuple[set[str], set[str]]:
            agency = ctx.agency()
            return set(agency.cases.keys()), set(agency.catalog.serial.keys())

        cases, serials = runtime.run(state, SYSTEM)
        assert cases == {d["case_no"] for d in good}
        expected = {c["serial"] for d in good for c in d["certificates"]}
        assert serials == expected  # nothing of a bad line, not even one certificate
    finally:
        runtime.close()
    again = registry("import-existing", str(tmp_path / "p.jsonl"))
    assert again.exit_code == 1 and "imported 0 cases" in again.output
    assert "3 already present" in again.output


def test_the_batch_size_is_bounded_and_any_size_gives_the_same_registry(
    registry: Any, runtime_of: Any, tmp_path: Path
) -> None:
    """``--batch`` outside 1..1,000 is refused naming the option, nothing imported (exit
    2); one line a transaction imports what the default does, bad lines left out."""
    documents = [sample_existing_case(0), _bad_lines()[0][0], sample_existing_case(1)]
    lines = write_lines(tmp_path / "p.jsonl", documents)
    for wrong in ("0", "1001", "many"):
        refused = registry("import-existing", "--batch", wrong, str(lines))
        assert refused.exit_code == 2 and "--batch" in refused.output, refused.output
    runtime = runtime_of()
    try:
        assert runtime.run(lambda ctx: len(ctx.agency().cases), SYSTEM) == 0
    finally:
        runtime.close()
    result = registry("import-existing", "--batch", "1", str(lines))
    assert result.exit_code == 1 and "imported 2 cases (3 certificates)" in result.output
    assert any(r.startswith("line 2: ") for r in result.output.splitlines())


def test_a_run_killed_mid_way_resumes_without_loss_or_duplicates(
    registry: Any, ini: Path, runtime_of: Any, tmp_path: Path
) -> None:
    """SIGKILL the import (and its workers) after its first commits; a second run
    imports the rest: every line once, every serial once, the registry checks sound."""
    total = 160
    lines = write_lines(tmp_path / "p.jsonl", [sample_existing_case(n) for n in range(total)])
    blobs = tmp_path / "var" / "blobs"
    command = [str(COMMAND), "-c", str(ini)]
    run = subprocess.Popen(
        [*command, "import-existing", "--workers", "2", "--batch", "20", str(lines)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    # a batch of 20 lines stores ~54 files: once a second batch's appear, the first is
    # surely committed (its blobs are moved in before its transaction finishes)
    while len(list(blobs.rglob("*.blob"))) < 110 and run.poll() is None:
        assert time.monotonic() < deadline, "the import committed nothing in 2 minutes"
        time.sleep(0.05)
    assert run.poll() is None, "the import finished before it could be killed"
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    runtime = runtime_of()
    try:
        first = facts(runtime)
    finally:
        runtime.close()
    assert 0 < len({f[0] for f in first.values()}) < total
    second = cli(ini, "import-existing", str(lines))
    assert second.returncode == 0, second.stderr
    kept = len({f[0] for f in first.values()})
    assert f"{kept} already present" in second.stdout
    runtime = runtime_of()
    try:
        after = facts(runtime)
        expected = {
            c["serial"] for n in range(total) for c in sample_existing_case(n)["certificates"]
        }
        assert set(after) == expected
        assert all(f[4] == 1 and f[2] == "issued" for f in after.values())  # one PDF each
        assert {serial: after[serial] for serial in first} == first  # kept as committed

        def counts(ctx: Any) -> tuple[int, int]:
            agency = ctx.agency()
            return len(agency.cases), len(agency.certificates)

        assert runtime.run(counts, SYSTEM) == (total, len(expected))
        assert runtime.run(check_registry, SYSTEM).ok
    finally:
        runtime.close()


def test_two_workers_give_what_one_gives(tmp_path: Path) -> None:
    """--workers 2 records the same certificates, states, times and files as one
    process does (files differ only by their signing moment), and both check sound."""
    from tests.conftest import file_settings, write_ini

    lines = write_lines(tmp_path / "p.jsonl", [sample_existing_case(n) for n in range(30)])
    results = []
    for workers in ("1", "2"):
        var = tmp_path / f"var{workers}"
        ini = write_ini(tmp_path / f"w{workers}.ini", file_settings(var))
        assert cli(ini, "init").returncode == 0
        done = cli(ini, "import-existing", "--workers", workers, str(lines))
        assert done.returncode == 0, done.stderr
        assert "imported 30 cases" in done.stdout
        # not a terminal: plain progress lines on stderr, with rate and time left
        assert re.search(r"30/30 lines 100% [0-9.]+/s 0:00:00 left\n", done.stderr)
        checked = cli(ini, "check", "--json")
        assert checked.returncode == 0, checked.stdout
        report = json.loads(checked.stdout)
        assert report["ok"] and report["on_demand"] == 0
        runtime = _open(ini)
        try:
            results.append((facts(runtime), report["files"]))
        finally:
            runtime.close()
    assert results[0] == results[1]


def _open(ini: Path) -> Any:
    from pyramid.paster import get_appsettings

    from certarchive.config import load_settings
    from certarchive.services.runtime import Runtime

    return Runtime.open(load_settings(get_appsettings(str(ini), name="main")))


def test_on_demand_records_now_and_makes_each_file_at_its_first_request(
    registry: Any, runtime_of: Any, tmp_path: Path
) -> None:
    """--files on-demand: issued at once without files; check counts them and is sound;
    the verification page, a staff read and a revoked certificate's first request each
    make a sealed, signed file, recorded and audited like any file."""
    lines = write_lines(tmp_path / "p.jsonl", [sample_existing_case(n) for n in range(3)])
    result = registry("import-existing", "--files", "on-demand", str(lines))
    assert result.exit_code == 0, result.output
    checked = registry("check")
    assert checked.exit_code == 0 and "4 份证书的文件将在首次请求时生成" in checked.output
    runtime = runtime_of()
    try:
        found = facts(runtime)
        assert all(f[2] == "issued" and f[4:] == (0, 0, True) for f in found.values())
        rights = sorted(s for s in found if "不动产权" in s)
        right, third = rights[:2]
        proof = min(s for s in found if "不动产证明" in s)

        def page(ctx: Any, serial: str) -> dict[str, Any]:
            cert = certificate_services.find_certificate(ctx, serial)
            return by_token(ctx, cert.token)

        view = runtime.run(page, SYSTEM, right)
        assert view["sm3"] is not None

        def staff_read(ctx: Any, serial: str) -> bytes:
            cert = certificate_services.find_certificate(ctx, serial)
            return certificate_services.file_for_staff(ctx, cert)

        pdf = runtime.run(staff_read, SYSTEM, right)
        report = verify_pdf(pdf, runtime.run(registry_trust, SYSTEM))
        assert report.valid and read_metadata(pdf)["licenceNumber"] == right
        assert runtime.run(staff_read, SYSTEM, right) == pdf  # made once, then read

        def revoke(ctx: Any, serial: str) -> None:
            cert = certificate_services.find_certificate(ctx, serial)
            certificate_services.revoke_certificate(ctx, cert, "correction", "错误", None)

        runtime.run(revoke, SYSTEM, proof)
        stamped = runtime.run(staff_read, SYSTEM, proof)
        assert verify_pdf(stamped, runtime.run(registry_trust, SYSTEM)).revoked is not None
        after = facts(runtime)
        assert after[right][4:] == (1, 0, False)
        assert after[proof][4] == 2  # made, then stamped 已注销 (H-1.7)
        assert after[third][4:] == (0, 0, True)

        def generated(ctx: Any) -> list[str]:
            return [
                e["object"] for e in log_entries(ctx) if e["action"] == "certificate.file.generate"
            ]

        assert sorted(runtime.run(generated, SYSTEM)) == sorted(
            [f"certificate:{right}", f"certificate:{proof}"]
        )
        final = runtime.run(check_registry, SYSTEM)
        assert final.ok and final.on_demand == len(found) - 2
    finally:
        runtime.close()


def test_two_concurrent_first_requests_make_exactly_one_file(
    registry: Any, runtime_of: Any, tmp_path: Path
) -> None:
    """Two threads ask at once for a file not made yet, each in its own connection to one
    FileStorage: both render, ZODB commits one and retries the other, which reads the
    file made: one file stored, one audit entry, both answers the same bytes."""
    lines = write_lines(tmp_path / "p.jsonl", [sample_existing_case(0)])
    assert registry("import-existing", "--files", "on-demand", str(lines)).exit_code == 0
    serial = sample_existing_case(0)["certificates"][0]["serial"]
    runtime = runtime_of()
    try:
        start = threading.Barrier(2)
        attempts: list[int] = []
        answers: list[bytes] = []

        def first_request(ctx: Any) -> bytes:
            cert = certificate_services.find_certificate(ctx, serial)
            attempts.append(1)
            if len(attempts) <= 2:
                start.wait(timeout=30)  # both read the certificate before either commits
            return certificate_services.file_for_staff(ctx, cert)

        threads = [
            threading.Thread(target=lambda: answers.append(runtime.run(first_request, SYSTEM)))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert len(answers) == 2 and answers[0] == answers[1]
        assert len(attempts) >= 3, "no conflict: the two requests did not overlap"
        assert facts(runtime)[serial][4] == 1

        def generated(ctx: Any) -> int:
            entries = log_entries(ctx)
            return sum(e["action"] == "certificate.file.generate" for e in entries)

        assert runtime.run(generated, SYSTEM) == 1
    finally:
        runtime.close()


def test_an_import_beside_a_running_server_commits_through_its_door(
    registry: Any, ini: Path, tmp_path: Path
) -> None:
    """While ``serve`` holds the FileStorage, the import (workers rendering, the command
    committing through the admin door) records every line, and a rerun resumes."""
    from tests.servers import serving

    lines = write_lines(tmp_path / "p.jsonl", [sample_existing_case(n) for n in range(6)])
    with serving(ini):
        done = cli(ini, "import-existing", "--workers", "2", str(lines))
        assert done.returncode == 0, done.stderr
        assert "imported 6 cases (8 certificates)" in done.stdout
        again = cli(ini, "import-existing", "--files", "on-demand", str(lines))
        assert again.returncode == 0 and "6 already present" in again.stdout
        checked = cli(ini, "check", "--json")
        report = json.loads(checked.stdout)
        assert report["ok"] and report["certificates"] == 8 and report["on_demand"] == 0


def test_a_transfer_revokes_an_imported_certificate_and_passes_over_a_paper_one(
    registry: Any, runtime_of: Any, tmp_path: Path
) -> None:
    """H-4.2 in an import: a replaced certificate imported before (earlier line) is
    revoked and its file stamped 已注销; one never imported (revoked on paper) is passed
    over instead of refusing the line."""
    first = sample_existing_case(0)
    replaced = first["certificates"][0]["serial"]
    on_paper = SERIAL.format(year=2015, word="不动产权", seq=900)
    transfer = sample_case(30, replaces=[replaced, on_paper])
    transfer["certificates"][0]["unit_number"] = first["certificates"][0]["unit_number"]
    transfer["certificates"][0]["serial"] = SERIAL.format(year=2026, word="不动产权", seq=901)
    transfer["certificates"][0]["issued_at"] = "2026-11-30T10:00:00+08:00"
    transfer["recorded_at"] = "2026-11-28T10:00:00+08:00"
    lines = write_lines(tmp_path / "p.jsonl", [first, transfer])
    result = registry("import-existing", str(lines))
    assert result.exit_code == 0, result.output
    runtime = runtime_of()
    try:
        found = facts(runtime)
        assert found[replaced][2] == "revoked" and found[replaced][4] == 2  # stamped
        new = SERIAL.format(year=2026, word="不动产权", seq=901)
        assert found[new][2] == "issued" and on_paper not in found
        assert runtime.run(check_registry, SYSTEM).ok
    finally:
        runtime.close()


def test_on_demand_where_only_ofd_files_are_made(tmp_path: Path) -> None:
    """certarchive.formats = ofd: an on-demand certificate is listed as having a file,
    its OFD is made at the first request, a PDF is refused (404, not an error)."""
    from certarchive.services.certificates import has_file
    from certarchive.services.errors import NotFound
    from tests.conftest import file_settings, write_ini

    ini = write_ini(
        tmp_path / "ofd.ini", file_settings(tmp_path / "var") | {"certarchive.formats": "ofd"}
    )
    assert cli(ini, "init").returncode == 0
    lines = write_lines(tmp_path / "p.jsonl", [sample_existing_case(0)])
    assert cli(ini, "import-existing", "--files", "on-demand", str(lines)).returncode == 0
    serial = sample_existing_case(0)["certificates"][0]["serial"]
    runtime = _open(ini)
    try:

        def read(ctx: Any, file_format: str) -> Any:
            cert = certificate_services.find_certificate(ctx, serial)
            try:
                return has_file(cert), certificate_services.file_for_staff(ctx, cert, file_format)
            except NotFound:
                return has_file(cert), None

        assert runtime.run(read, SYSTEM, "pdf") == (True, None)
        listed, ofd = runtime.run(read, SYSTEM, "ofd")
        assert listed and ofd.startswith(b"PK")
        assert runtime.run(read, SYSTEM, "ofd")[1] == ofd  # made once
        report = runtime.run(check_registry, SYSTEM)
        assert report.ok and report.on_demand == 0
    finally:
        runtime.close()


def test_a_worker_whose_keyring_does_not_open_fails_the_rendering(tmp_path: Path) -> None:
    """The error reaches the importing process at the first rendering (exit 2 there),
    instead of failing the pool's initializer, which would restart workers forever."""
    import signal as signals

    from certarchive.crypto.keyring import KeyringError
    from certarchive.importing import workers
    from certarchive.services.existing import Line
    from certarchive.validation.existing import validate_existing_case

    before = signals.getsignal(signals.SIGINT)
    try:
        workers._start(workers.RenderSetup(tmp_path / "no-keys", {}, ("pdf",), None, "http://x"))
        line = Line.of(1, validate_existing_case(sample_existing_case(0)))
        with pytest.raises(KeyringError):
            workers.render_line(line)
    finally:
        signals.signal(signals.SIGINT, before)
        workers._setup = workers._keyring = None


@pytest.mark.parametrize("backend", ["zeo", "relstorage"])
def test_two_processes_first_downloads_on_a_shared_server_make_one_file(
    tmp_path: Path, backend: str
) -> None:
    """Two app processes on one ZEO server or one PostgreSQL (RelStorage) race the holder's
    first downloads of a certificate imported on demand: one file made, one audit entry
    for it, one collection (H-2.2)."""
    from certarchive.services.existing import CREATED, Line, import_lines
    from certarchive.validation.existing import validate_existing_case
    from tests.test_concurrency import DOWNLOAD_SCRIPT, run_workers, shared_registry

    with shared_registry(tmp_path, backend) as (runtime, raw):
        line = Line.of(1, validate_existing_case(sample_existing_case(0)))
        assert runtime.run(import_lines, UPSTREAM, [line], True) == {1: CREATED}
        serial = line.papers[0][0]
        run_workers(DOWNLOAD_SCRIPT, [[raw, serial]] * 2)

        def made(ctx: Any) -> tuple[int, int, int]:
            cert = certificate_services.get_certificate(ctx, serial)
            entries = log_entries(ctx)
            return (
                len(cert.files),
                sum(e["action"] == "certificate.file.generate" for e in entries),
                sum(h["transition"] == "download" for h in cert.history),
            )

        assert runtime.run(made, SYSTEM) == (1, 1, 1)
