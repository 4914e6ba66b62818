"""Reports to the e-licence library (H-2.1, H-4.2, H-4.4; CONTRACT.md "Reporting to the
e-licence library"), against a library of our own in a process of its own
(tests/library.py): the catalogue entry and its standard items, order per licence,
retries under the same event id through an outage of days, refusals shown to registrars
and sent again, the sharing log of what left, and a server killed and restarted."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from certarchive.config import ConfigError, load_settings
from certarchive.crypto.sm import sm3_hex
from certarchive.messaging.channels import Answer
from certarchive.messaging.delivery import REPORT_BATCH, Courier
from certarchive.schemas.reporting import CatalogueEntry, LibraryHolder, LibraryReport
from certarchive.services import cases, certificates, reporting
from certarchive.services.audit import sequence_logs
from certarchive.services.certdata import read_file
from certarchive.services.errors import Conflict, NotFound
from certarchive.services.issuance import certificate_document
from certarchive.services.permissions import SYSTEM, staff_actor
from certarchive.validation.samples import sample_case
from tests.conftest import file_settings, log_entries, write_ini
from tests.servers import free_port, server_process
from tests.test_messaging import PAYMENT, Clock, _wait_for, open_registry, received

ROOT = Path(__file__).resolve().parents[1]
KEY = "library-secret-7f3a9c2e51"
REGISTRAR = staff_actor("registrar-1", "registrar")


@contextmanager
def library(folder: Path, mode: str = "ok") -> Iterator[str]:
    """The e-licence library's stand-in process; yields the URL reports are posted to."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mode").write_text(mode)
    (folder / "key").write_text(KEY)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.library", str(port), str(folder)], cwd=ROOT
    )
    try:
        _wait_for(port, process)
        yield f"http://127.0.0.1:{port}/licences/events"
    finally:
        process.terminate()
        process.wait(timeout=10)


def library_settings(url: str, timeout: str = "2") -> dict[str, str]:
    return {
        "certarchive.licence_library_url": url,
        "certarchive.licence_library_key": KEY,
        "certarchive.licence_library_timeout": timeout,
    }


def issue(runtime: Any, n: int) -> tuple[dict[str, Any], list[str]]:
    """Record and pay sample case ``n``; (its document, the serials issued)."""
    document = sample_case(n)
    return document, issue_document(runtime, document)


def issue_document(runtime: Any, document: dict[str, Any]) -> list[str]:
    runtime.run(cases.record_case, SYSTEM, document)
    paid = runtime.run(cases.confirm_payment, SYSTEM, document["case_no"], PAYMENT)
    return [c["serial"] for c in paid["certificates"]]


def revoke(runtime: Any, serial: str) -> None:
    def run(ctx: Any) -> None:
        cert = certificates.get_certificate(ctx, serial)
        certificates.revoke(ctx, cert, "cancellation", "注销登记 / cancelled")

    runtime.run(run, SYSTEM)


def stored_file(runtime: Any, serial: str, number: int | None = None) -> tuple[bytes, str]:
    """The certificate's current OFD (or the one ``number``) and its stored SM3."""

    def run(ctx: Any) -> tuple[bytes, str]:
        cert = certificates.get_certificate(ctx, serial)
        log = cert.file_log("ofd")
        at = number or len(log)
        return read_file(ctx, cert, at, "ofd"), log[at]["digest"]

    return runtime.run(run, SYSTEM)


def accepted(folder: Path) -> list[dict[str, Any]]:
    return [r for r in received(folder) if r["mode"] in ("ok", "slow")]


def test_the_catalogue_entry_carries_the_registry_and_the_sealed_file(tmp_path: Path) -> None:
    folder = tmp_path / "library"
    with library(folder) as url:
        runtime = open_registry(tmp_path / "var", **library_settings(url))
        document, serials = issue(runtime, 7)
        assert len(serials) >= 2
        counts = Courier(runtime, runtime.settings.messaging, Clock()).deliver_due()
        assert counts["sent"] == len(serials)
        agency = runtime.run(lambda ctx: dict(ctx.agency().settings), SYSTEM)

        def licence_id(ctx: Any, serial: str) -> str:
            return certificate_document(ctx, certificates.get_certificate(ctx, serial)).licence_id

        licence_ids = {serial: runtime.run(licence_id, SYSTEM, serial) for serial in serials}
        files = {serial: stored_file(runtime, serial) for serial in serials}
        runtime.close()
    records = received(folder)
    assert {r["authorization"] for r in records} == {f"Bearer {KEY}"}
    assert {r["path"] for r in records} == {"/licences/events"}
    by_serial = {r["body"]["licence"]["serial"]: r["body"] for r in records}
    assert set(by_serial) == set(serials)
    for number, serial in enumerate(serials):
        body = by_serial[serial]
        LibraryReport.model_validate(body)  # what left is what the schema declares
        assert re.fullmatch(r"[0-9a-f]{32}", body["id"]) and body["event"] == "issued"
        entry = body["licence"]
        source = document["certificates"][number]
        assert entry["licence_id"] == licence_ids[serial]  # the GB/T 36904 id printed on it
        assert entry["type_code"] == agency[f"licence_type_{source['kind']}"]
        assert entry["type_name"] in ("不动产权证书", "不动产登记证明")
        assert entry["agency"] == agency["agency_name"]
        assert entry["agency_code"] == agency["credit_code"]
        assert entry["unit_number"] == source["unit_number"]
        assert entry["status"] == "valid" and "revoked_at" not in entry
        assert entry["holders"] == [
            {"name": h["name"], "id_type": h["id_type"], "id_number": h["id_number"]}
            for h in source["holders"]
        ]
        data, digest = files[serial]
        assert entry["file_format"] == "ofd"  # OFD where produced
        assert base64.b64decode(entry["file"]) == data
        assert entry["file_sm3"] == digest == sm3_hex(data)  # SM3 against the stored file


def test_where_no_ofd_was_produced_the_pdf_is_sent(tmp_path: Path) -> None:
    folder = tmp_path / "library"
    with library(folder) as url:
        settings = {**library_settings(url), "certarchive.formats": "pdf"}
        runtime = open_registry(tmp_path / "var", **settings)
        _, (serial,) = issue(runtime, 3)
        Courier(runtime, runtime.settings.messaging, Clock()).deliver_due()

        def current_pdf(ctx: Any) -> tuple[bytes, str]:
            cert = certificates.get_certificate(ctx, serial)
            return read_file(ctx, cert), cert.current_file["digest"]

        data, digest = runtime.run(current_pdf, SYSTEM)
        runtime.close()
    (record,) = received(folder)
    entry = record["body"]["licence"]
    assert entry["file_format"] == "pdf" and data.startswith(b"%PDF")
    assert base64.b64decode(entry["file"]) == data and entry["file_sm3"] == digest


def test_docs_map_every_json_name_to_its_standard_item() -> None:
    """The mapping is declared once, on the schema; docs/reporting.md lists all of it."""
    text = (ROOT / "docs/reporting.md").read_text(encoding="utf-8")
    for model, prefix in ((CatalogueEntry, "licence."), (LibraryHolder, "licence.holders[].")):
        for name, field in model.model_fields.items():
            item = field.json_schema_extra["standard"]
            row = f"| `{prefix}{name}` | {item} |"
            assert row in text, row


def test_order_per_licence_and_retries_under_one_id_through_an_outage_of_days(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "library"
    clock = Clock()
    with library(folder, mode="fail") as url:
        runtime = open_registry(tmp_path / "var", **library_settings(url))
        _, (serial,) = issue(runtime, 3)
        revoke(runtime, serial)  # queued behind its issuance
        courier = Courier(runtime, runtime.settings.messaging, clock)
        assert courier.deliver_due() == {"sent": 0, "retry": 1, "undeliverable": 0}
        page = runtime.run(reporting.overview, REGISTRAR)
        assert page["counts"] == {"pending": 2, "sent": 0, "refused": 0}
        for _ in range(12):  # three days of a library answering 503
            clock.forward(hours=6)
            assert courier.deliver_due()["retry"] == 1  # only the issuance: never given up
        (folder / "mode").write_text("ok")
        clock.forward(hours=1)
        assert courier.deliver_due()["sent"] == 1  # the issuance
        clock.forward(seconds=1)
        assert courier.deliver_due()["sent"] == 1  # then the revocation, released by it
        clock.forward(days=1)
        assert courier.deliver_due() == {}
        revoked_file = stored_file(runtime, serial)
        page = runtime.run(reporting.overview, REGISTRAR)
        sequence_logs(runtime)
        audit = runtime.run(log_entries, SYSTEM)
        sharing = runtime.run(log_entries, SYSTEM, "sharing")
        runtime.close()
    records = received(folder)
    events = [r["body"]["event"] for r in records]
    assert events == ["issued"] * 14 + ["revoked"]  # never overtaken
    issued_ids = {r["body"]["id"] for r in records if r["body"]["event"] == "issued"}
    assert len(issued_ids) == 1  # the same event id on every retry
    revoked = records[-1]["body"]
    assert revoked["id"] not in issued_ids
    entry = revoked["licence"]
    assert entry["status"] == "revoked" and entry["revocation_cause"] == "注销登记"
    assert entry["revoked_at"]
    data, digest = revoked_file  # the stamped (已注销) OFD
    assert base64.b64decode(entry["file"]) == data and entry["file_sm3"] == digest
    assert page["counts"] == {"pending": 0, "sent": 2, "refused": 0}
    assert [r["event"] for r in page["sent"]] == ["revoked", "issued"]
    actions = [e["action"] for e in audit if e["action"].startswith("report.")]
    assert actions.count("report.attempt") == 15
    assert actions.count("report.retry") == 13 and actions.count("report.sent") == 2
    left = [e for e in sharing if e["action"] == "report.leave"]
    assert [e["detail"]["sm3"] for e in left] == [r["sm3"] for r in records]
    assert [e["detail"]["size"] for e in left] == [r["size"] for r in records]
    assert {e["detail"]["to"] for e in left} == {"licence_library"}


def test_a_revocation_queued_while_its_issuance_is_recorded_accepted_is_not_stranded(
    tmp_path: Path,
) -> None:
    """The race of two transactions: the courier records the issuance's report accepted
    and commits while a revocation of the same certificate is being queued.  Whether the
    revocation waits is decided when it is claimed, so it goes next round."""
    folder = tmp_path / "library"
    clock = Clock()
    with library(folder) as url:
        runtime = open_registry(tmp_path / "var", **library_settings(url))
        _, (serial,) = issue(runtime, 3)
        courier = Courier(runtime, runtime.settings.messaging, clock)
        (claimed,) = runtime.run(courier._claim, SYSTEM, clock())  # sent, not yet recorded

        recorded = []

        def revoke_meanwhile(ctx: Any) -> None:
            cert = certificates.get_certificate(ctx, serial)
            certificates.revoke(ctx, cert, "cancellation", "注销 / cancelled")
            if not recorded:  # (once: this transaction may be retried after a conflict)
                accepted = {claimed.message_id: Answer(True, "201")}
                recorded.append(runtime.run(courier._record, SYSTEM, accepted, clock()))

        runtime.run(revoke_meanwhile, SYSTEM)
        assert courier.deliver_due()["sent"] == 1
        rows = runtime.run(reporting.overview, REGISTRAR)["sent"]
        runtime.close()
    assert recorded == [{"sent": 1, "retry": 0, "undeliverable": 0}]
    assert sorted(r["event"] for r in rows) == ["issued", "revoked"]
    assert [r["body"]["event"] for r in received(folder)] == ["revoked"]


def test_a_refused_report_is_shown_with_the_answer_and_sent_again_after_correction(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "library"
    clock = Clock()
    with library(folder, mode="refuse") as url:
        runtime = open_registry(tmp_path / "var", **library_settings(url))
        document, (serial,) = issue(runtime, 3)
        courier = Courier(runtime, runtime.settings.messaging, clock)
        assert courier.deliver_due() == {"sent": 0, "retry": 0, "undeliverable": 0, "refused": 1}
        revoke(runtime, serial)
        clock.forward(days=2)
        assert courier.deliver_due() == {}  # not retried blindly; the revocation waits
        page = runtime.run(reporting.overview, REGISTRAR)
        (refused,) = page["refused"]
        assert refused["last_answer"] == "422" and refused["serial"] == serial
        assert "type_code not registered" in refused["library_said"]
        on_case = runtime.run(reporting.of_case, REGISTRAR, document["case_no"])
        assert [(r["event"], r["state"]) for r in on_case] == [
            ("issued", "refused"),
            ("revoked", "waiting"),
        ]
        assert on_case[0]["library_said"] == refused["library_said"]
        archivist = staff_actor("wang", "archivist")  # reads cases, not personal data
        (shown, _) = runtime.run(reporting.of_case, archivist, document["case_no"])
        assert shown["state"] == "refused" and shown["library_said"] is None
        with pytest.raises(Conflict):
            runtime.run(reporting.resend, REGISTRAR, on_case[1]["id"])
        with pytest.raises(NotFound):
            runtime.run(reporting.resend, REGISTRAR, "0" * 32)

        (folder / "mode").write_text("ok")  # the library's register corrected
        runtime.run(reporting.resend, REGISTRAR, refused["id"])
        assert courier.deliver_due()["sent"] == 1
        assert courier.deliver_due()["sent"] == 1
        counts = runtime.run(reporting.counts, SYSTEM)
        sequence_logs(runtime)
        audit = runtime.run(log_entries, SYSTEM)
        runtime.close()
    records = received(folder)
    assert [(r["mode"], r["body"]["event"]) for r in records] == [
        ("refuse", "issued"),
        ("ok", "issued"),
        ("ok", "revoked"),
    ]
    assert records[0]["body"]["id"] == records[1]["body"]["id"] == refused["id"]
    assert counts == {"pending": 0, "sent": 2, "refused": 0}
    resends = [e for e in audit if e["action"] == "report.resend"]
    assert [e["actor"] for e in resends] == ["registrar-1"]
    refusals = [e for e in audit if e["action"] == "report.refused"]
    assert [e["detail"]["answer"] for e in refusals] == ["422"]


def test_an_item_the_registry_lacks_is_a_clear_error_not_an_empty_value(tmp_path: Path) -> None:
    folder = tmp_path / "library"
    with library(folder) as url:
        runtime = open_registry(tmp_path / "var", **library_settings(url))
        document, _ = issue(runtime, 3)
        code = runtime.run(lambda ctx: ctx.agency().settings["credit_code"], SYSTEM)

        def set_code(ctx: Any, value: str) -> None:
            agency = ctx.agency()
            agency.settings = {**agency.settings, "credit_code": value}

        runtime.run(set_code, SYSTEM, "")  # an older registry without the agency's credit code
        courier = Courier(runtime, runtime.settings.messaging, Clock())
        assert courier.deliver_due() == {}  # refused before it leaves: nothing sent
        assert received(folder) == []
        (row,) = runtime.run(reporting.of_case, REGISTRAR, document["case_no"])
        assert row["state"] == "refused" and row["last_answer"] == "incomplete"
        assert "licence.agency_code" in row["library_said"]
        assert "证照颁发机构代码" in row["library_said"]  # the standard's element, by name
        assert "licence.licence_id" in row["library_said"]

        runtime.run(set_code, SYSTEM, code)  # corrected
        runtime.run(reporting.resend, REGISTRAR, row["id"])
        assert courier.deliver_due()["sent"] == 1
        runtime.close()
    (record,) = received(folder)
    assert record["body"]["id"] == row["id"]
    assert record["body"]["licence"]["agency_code"] == code


def test_no_answer_is_retried_and_a_slow_library_is_waited_for(tmp_path: Path) -> None:
    folder = tmp_path / "library"
    clock = Clock()
    with library(folder, mode="silent") as url:
        runtime = open_registry(tmp_path / "var", **library_settings(url, timeout="4"))
        issue(runtime, 3)
        courier = Courier(runtime, runtime.settings.messaging, clock)
        started = time.monotonic()
        assert courier.deliver_due()["retry"] == 1
        assert time.monotonic() - started < 15  # the 4 s timeout
        (folder / "mode").write_text("lost")  # received, the answer lost on its way back
        clock.forward(minutes=1)
        assert courier.deliver_due()["retry"] == 1
        (folder / "mode").write_text("slow")  # 2 s: within the timeout
        clock.forward(minutes=3)
        assert courier.deliver_due()["sent"] == 1
        (row,) = runtime.run(reporting.overview, REGISTRAR)["sent"]
        runtime.close()
    records = received(folder)
    assert [r["mode"] for r in records] == ["silent", "lost", "slow"]
    assert {r["body"]["id"] for r in records} == {row["id"]}
    assert row["attempts"] == 3 and row["last_answer"] == "201"


def test_in_an_outage_a_round_stops_at_the_first_report_not_taken(tmp_path: Path) -> None:
    """A library that answers nothing costs one timeout per round, not one per report."""
    folder = tmp_path / "library"
    clock = Clock()
    with library(folder, mode="fail") as url:
        runtime = open_registry(tmp_path / "var", **library_settings(url))
        serials = [s for n in (3, 6) for s in issue(runtime, n)[1]]
        assert len(serials) >= 2
        courier = Courier(runtime, runtime.settings.messaging, clock)
        assert courier.deliver_due()["retry"] == len(serials)
        assert len(received(folder)) == 1  # the rest were not tried
        (folder / "mode").write_text("ok")
        clock.forward(minutes=1)
        assert courier.deliver_due()["sent"] == len(serials)
        sequence_logs(runtime)
        sharing = runtime.run(log_entries, SYSTEM, "sharing")
        runtime.close()
    assert len(received(folder)) == 1 + len(serials)
    left = [e for e in sharing if e["action"] == "report.leave"]
    assert len(left) == len(received(folder))  # the sharing log: only what left


def test_full_rounds_are_drained_within_one_delivery(tmp_path: Path) -> None:
    """More reports than one round takes go out in one ``deliver`` (a backfill drains at
    the library's pace, not a batch per interval)."""
    folder = tmp_path / "library"
    with library(folder) as url:
        runtime = open_registry(tmp_path / "var", **library_settings(url))
        for n in range(0, 3 * (REPORT_BATCH + 3), 3):
            issue(runtime, n)
        courier = Courier(runtime, runtime.settings.messaging, Clock())
        assert courier.deliver()["sent"] == REPORT_BATCH + 3
        assert courier.deliver() == {}
        runtime.close()
    assert len(received(folder)) == REPORT_BATCH + 3


def test_a_reissue_reports_the_revocation_and_the_new_certificate_linked(tmp_path: Path) -> None:
    folder = tmp_path / "library"
    with library(folder) as url:
        runtime = open_registry(tmp_path / "var", **library_settings(url))
        _, (serial,) = issue(runtime, 3)

        def reissue(ctx: Any) -> str:
            cert = certificates.get_certificate(ctx, serial)
            return certificates.reissue(ctx, cert, "更正 / corrected", {})["serial"]

        new_serial = runtime.run(reissue, SYSTEM)
        courier = Courier(runtime, runtime.settings.messaging, Clock())
        while courier.deliver_due():
            pass
        runtime.close()
    events = [(r["body"]["event"], r["body"]["licence"]) for r in received(folder)]
    order = [(e, entry["serial"]) for e, entry in events]
    assert sorted(order) == sorted(
        [("issued", serial), ("revoked", serial), ("issued", new_serial)]
    )
    assert order.index(("issued", serial)) < order.index(("revoked", serial))
    revoked = next(entry for e, entry in events if e == "revoked")
    new = next(entry for e, entry in events if entry["serial"] == new_serial)
    assert revoked["replaced_by"] == new_serial and new["replaces"] == serial
    assert revoked["revocation_cause"] == "更正登记"


def test_the_library_settings_are_checked_and_the_key_kept_out_of_sight(tmp_path: Path) -> None:
    var = tmp_path / "var"
    good = library_settings("https://library.example.cn/events")
    settings = load_settings(file_settings(var, **good))
    assert settings.reporting.configured and KEY not in repr(settings)
    bad = [
        ({**good, "certarchive.licence_library_url": "ftp://x"}, "licence_library_url"),
        ({"certarchive.licence_library_url": "https://x.cn/e"}, "licence_library_key"),
        ({"certarchive.licence_library_key": KEY}, "licence_library_url"),
        ({**good, "certarchive.licence_library_key": "short"}, "licence_library_key"),
        ({**good, "certarchive.licence_library_timeout": "-1"}, "licence_library_timeout"),
    ]
    for raw, named in bad:
        with pytest.raises(ConfigError, match=named) as refused:
            load_settings(file_settings(var, **raw))
        assert KEY not in str(refused.value)


def run_cli(ini: Path, *args: str) -> subprocess.CompletedProcess:
    binary = Path(sys.executable).with_name("certarchive")
    return subprocess.run(
        [str(binary), "-c", str(ini), *args], capture_output=True, text=True, timeout=300
    )


def test_backfill_queues_every_certificate_once_with_progress(tmp_path: Path) -> None:
    folder = tmp_path / "library"
    var = tmp_path / "var"
    runtime = open_registry(var)  # no library yet: nothing is queued
    serials = [s for n in (3, 6, 7) for s in issue(runtime, n)[1]]
    revoke(runtime, serials[0])
    assert runtime.run(reporting.counts, SYSTEM) == {"pending": 0, "sent": 0, "refused": 0}
    runtime.close()
    with library(folder) as url:
        ini = write_ini(tmp_path / "certarchive.ini", file_settings(var, **library_settings(url)))
        usage = [run_cli(ini, "report"), run_cli(ini, "report", "--all", "--since", "2026-01-01")]
        assert [r.returncode for r in usage] == [2, 2]
        assert "--all" in usage[0].stderr
        assert run_cli(ini, "report", "--since", "2026-13-01").returncode == 2
        later = run_cli(ini, "report", "--since", "2999-01-01")
        assert later.returncode == 0 and "0 个上报已排队" in later.stdout
        first = run_cli(ini, "report", "--all", "--batch", "2")
        assert first.returncode == 0, first.stderr
        assert f"{len(serials)}/{len(serials)} certificates 100%" in first.stderr  # progress
        assert f"{len(serials)} 个上报已排队" in first.stdout
        again = run_cli(ini, "report", "--all")  # resumable: nothing queued twice
        assert again.returncode == 0 and "0 个上报已排队" in again.stdout
        assert f"{len(serials)} 个已有上报" in again.stdout
        runtime = open_registry(var, **library_settings(url))
        courier = Courier(runtime, runtime.settings.messaging, Clock())
        while courier.deliver_due():
            pass
        sequence_logs(runtime)
        audit = runtime.run(log_entries, SYSTEM)
        runtime.close()
    bodies = [r["body"] for r in received(folder)]
    assert sorted(b["licence"]["serial"] for b in bodies) == sorted(serials)
    kinds = {b["licence"]["serial"]: (b["event"], b["licence"]["status"]) for b in bodies}
    assert kinds[serials[0]] == ("revoked", "revoked")
    assert all(kinds[s] == ("issued", "valid") for s in serials[1:])
    backfills = [e for e in audit if e["action"] == "report.backfill"]
    assert sum(e["detail"]["queued"] for e in backfills) == len(serials)
    unconfigured = write_ini(tmp_path / "plain.ini", file_settings(var))
    result = run_cli(unconfigured, "report", "--all")
    assert result.returncode == 1 and "licence_library_url" in result.stderr


def _wait(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_no_report_is_lost_when_the_server_is_killed_and_personal_data_leaves_only_here(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "library"
    var = tmp_path / "var"
    log = tmp_path / "serve.log"
    with library(folder, mode="silent") as url:  # the library holds the first POST open
        settings = library_settings(url, timeout="20")
        raw = file_settings(var, **settings)
        runtime = open_registry(var, **settings)
        documents, serials = [], []
        for n in (3, 7):
            document, issued = issue(runtime, n)
            documents.append(document)
            serials += issued
        revoke(runtime, serials[0])
        runtime.close()
        expected = len(serials) + 1
        ini = write_ini(tmp_path / "certarchive.ini", raw)
        with server_process(ini, "--sequence-every", "0.5", log=log) as (_base, server):
            _wait(lambda: len(received(folder)) >= 1, 30, "no attempt reached us")
            server.kill()  # mid-POST: the claims are committed, no answer recorded
            server.wait(timeout=10)
        (folder / "mode").write_text("ok")
        log2 = tmp_path / "serve2.log"
        with server_process(ini, "--sequence-every", "0.5", log=log2):
            # the first attempts' back-off is 30 s, then every report goes, in order
            _wait(lambda: len(accepted(folder)) >= expected, 120, "reports were lost")
            beside = run_cli(ini, "report", "--all")  # through the admin door
            assert beside.returncode == 0, beside.stderr
            assert f"0 个上报已排队，{len(serials)} 个已有上报" in beside.stdout
            time.sleep(1)
        runtime = open_registry(var, **settings)
        sequence_logs(runtime)
        entries = runtime.run(log_entries, SYSTEM) + runtime.run(log_entries, SYSTEM, "sharing")
        counts = runtime.run(reporting.counts, SYSTEM)
        runtime.close()
    records = received(folder)
    ok = accepted(folder)
    assert len(ok) == expected == len({r["body"]["id"] for r in ok})  # each accepted once
    interrupted = {r["body"]["id"] for r in records if r["mode"] == "silent"}
    assert len(interrupted) == 1
    assert interrupted <= {r["body"]["id"] for r in ok}  # sent again under the same id
    order = [(r["body"]["licence"]["serial"], r["body"]["event"]) for r in ok]
    assert order.index((serials[0], "issued")) < order.index((serials[0], "revoked"))
    assert counts == {"pending": 0, "sent": expected, "refused": 0}
    # Personal data left through the library's door, and nowhere else.
    personal = {
        value
        for document in documents
        for cert in document["certificates"]
        for holder in cert["holders"]
        for value in (holder["id_number"], holder.get("phone"))
        if value
    }
    sent = json.dumps([r["body"] for r in ok], ensure_ascii=False)
    assert all(value in sent for value in personal if len(value) == 18)
    logged = log.read_text() + log2.read_text() + json.dumps(entries, ensure_ascii=False)
    stored = b"".join(p.read_bytes() for p in var.glob("*.fs"))
    for value in [*personal, KEY]:
        assert value not in logged
        assert value.encode() not in stored


def test_the_page_is_for_registrars_and_refuses_bad_resends(tmp_path: Path) -> None:
    from tests.test_web_support import make_site

    site = make_site(tmp_path / "var", **library_settings("http://127.0.0.1:9/events"))
    try:
        document, paid = site.issued()
        archivist = site.web()
        site.login(archivist, "archivist")
        archivist.get("/staff/reports", status=403)
        web = site.web()
        token = site.login(web, "registrar")
        page = web.get("/staff/reports")
        assert paid["certificates"][0]["serial"] in page.text  # pending, not yet sent
        assert "被拒收" in page.text and "1" in page.html.select_one(".stat-number").text
        (pending,) = site.run(reporting.of_case, document["case_no"])
        web.post(f"/staff/reports/{pending['id']}/resend", status=403)  # no CSRF token
        answer = web.post(
            f"/staff/reports/{pending['id']}/resend", {"csrf_token": token}, status=409
        )
        assert "未被拒收" in answer.text
        web.post("/staff/reports/%3Cscript%3E/resend", {"csrf_token": token}, status=404)
        web.post(f"/staff/reports/{'0' * 32}/resend", {"csrf_token": token}, status=404)
        assert "证照库上报" in web.get(f"/staff/cases/{document['case_no']}").text
        assert site.run(reporting.counts) == {"pending": 1, "sent": 0, "refused": 0}
    finally:
        site.runtime.close()


def test_registrars_see_the_reports_of_their_own_agency_only(tmp_path: Path) -> None:
    from tests.test_agencies import GUANGSHAN, guangshan_case

    var = tmp_path / "var"
    settings = library_settings("http://127.0.0.1:9/events")
    open_registry(var, **settings).close()
    ini = write_ini(tmp_path / "certarchive.ini", file_settings(var, **settings))
    added = run_cli(ini, "agency", "add", *GUANGSHAN)
    assert added.returncode == 0, added.stderr
    runtime = open_registry(var, **settings)
    (guangshan,) = issue_document(runtime, guangshan_case(0))
    (huangchuan,) = issue_document(runtime, sample_case(3))
    local = staff_actor("li", "registrar", "guangshan")
    other = staff_actor("wang", "registrar", "huangchuan")
    try:
        for actor, serial in ((local, guangshan), (other, huangchuan)):
            page = runtime.run(reporting.overview, actor)
            assert page["counts"] == {"pending": 1, "sent": 0, "refused": 0}
            assert [row["serial"] for row in page["pending"]] == [serial]
        assert runtime.run(reporting.counts, SYSTEM)["pending"] == 2
        (row,) = runtime.run(reporting.overview, local)["pending"]
        with pytest.raises(NotFound):  # another agency's report does not exist for them
            runtime.run(reporting.resend, other, row["id"])
    finally:
        runtime.close()


def test_certificates_imported_with_files_on_demand_are_reported_with_their_file(
    tmp_path: Path,
) -> None:
    """Paper-era certificates imported with ``--files on-demand`` have no file when they
    are issued: the report is their first request, and its file is stored like any."""
    from certarchive.validation.samples import sample_existing_case
    from tests.test_import_existing import write_lines

    folder = tmp_path / "library"
    var = tmp_path / "var"
    with library(folder) as url:
        settings = library_settings(url)
        open_registry(var, **settings).close()
        ini = write_ini(tmp_path / "certarchive.ini", file_settings(var, **settings))
        lines = write_lines(tmp_path / "p.jsonl", [sample_existing_case(n) for n in range(2)])
        done = run_cli(ini, "import-existing", "--files", "on-demand", str(lines))
        assert done.returncode == 0, done.stderr
        runtime = open_registry(var, **settings)

        def without_files(ctx: Any) -> list[bool]:
            return [
                cert.file_log("ofd") is None and cert.current_file is None
                for cert in ctx.agency().certificates.values()
            ]

        before = runtime.run(without_files, SYSTEM)
        assert len(before) >= 2 and all(before)
        assert Courier(runtime, runtime.settings.messaging, Clock()).deliver()["sent"] == len(
            before
        )

        def stored(ctx: Any, serial: str) -> tuple[str, str]:
            cert = certificates.get_certificate(ctx, serial)
            return cert.file_log("ofd").latest()["digest"], cert.file_log("ofd").latest()["at"]

        bodies = [r["body"] for r in received(folder)]
        files = {
            b["licence"]["serial"]: runtime.run(stored, SYSTEM, b["licence"]["serial"])
            for b in bodies
        }
        runtime.close()
    for body in bodies:
        entry = body["licence"]
        assert entry["file_format"] == "ofd"
        assert sm3_hex(base64.b64decode(entry["file"])) == entry["file_sm3"]
        assert entry["file_sm3"] == files[entry["serial"]][0]  # the file made then is kept
