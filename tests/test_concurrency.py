"""Concurrent issuance keeps serials gapless and unique (H-1.6); racing first downloads
set the collection time once (H-2.2) — threads on FileStorage, processes on ZEO."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from certarchive.config import load_settings
from certarchive.services import cases, certificates
from certarchive.services.permissions import SYSTEM, holder_actor
from certarchive.services.runtime import Runtime
from certarchive.services.setup import initialise
from certarchive.validation.identifiers import parse_serial
from certarchive.validation.samples import sample_case
from certarchive.web import make_app
from tests.conftest import UPSTREAM, file_settings, log_entries
from tests.servers import postgres_databases, zeo_server

PAYMENT = {"receipt_no": "R-1", "amount": "80.00", "paid_at": "2026-11-20T10:00:00+08:00"}


def record(runtime: Runtime, numbers: range) -> list[str]:
    documents = [sample_case(n) for n in numbers]
    for document in documents:
        runtime.run(cases.record_case, UPSTREAM, document)
    return [d["case_no"] for d in documents]


def right_sequences(runtime: Runtime) -> list[int]:
    def collect(ctx: Any) -> list[int]:
        return sorted(
            parse_serial(serial).seq
            for serial in ctx.agency().catalog.serial
            if parse_serial(serial).kind == "right"
        )

    return runtime.run(collect, SYSTEM)


def test_threads_issue_gapless_serials(runtime: Runtime) -> None:
    # n % 3 == 0 cases carry one right certificate each: 12 cases -> rights 1..12.
    case_nos = record(runtime, range(0, 36, 3))
    errors: list[BaseException] = []

    def pay(batch: list[str]) -> None:
        try:
            for case_no in batch:
                runtime.run(cases.confirm_payment, UPSTREAM, case_no, PAYMENT)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=pay, args=(case_nos[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert right_sequences(runtime) == list(range(1, 13))


def test_racing_first_downloads_collect_once(runtime: Runtime) -> None:
    (case_no,) = record(runtime, range(1))
    serial = runtime.run(cases.confirm_payment, UPSTREAM, case_no, PAYMENT)["certificates"][0][
        "serial"
    ]
    barrier = threading.Barrier(4)
    results: list[bytes] = []

    def download() -> None:
        barrier.wait()
        results.append(
            runtime.run(
                lambda ctx: certificates.download_by_holder(
                    ctx, certificates.get_certificate(ctx, serial)
                ),
                holder_actor("race"),
            )
        )

    threads = [threading.Thread(target=download) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(pdf.startswith(b"%PDF") for pdf in results)

    def downloads(ctx: Any) -> list[str]:
        cert = certificates.get_certificate(ctx, serial)
        return [h["transition"] for h in cert.history if h["transition"] == "download"]

    assert runtime.run(downloads, SYSTEM) == ["download"]


PAY_SCRIPT = """
import json, sys
from certarchive.config import load_settings
from certarchive.services import cases
from certarchive.services.runtime import Runtime
from tests.conftest import UPSTREAM
raw, case_nos, payment = json.loads(sys.stdin.read())
runtime = Runtime.open(load_settings(raw))
for case_no in case_nos:
    runtime.run(cases.confirm_payment, UPSTREAM, case_no, payment)
runtime.close()
"""


@contextmanager
def shared_registry(tmp_path: Path, backend: str) -> Iterator[tuple[Runtime, dict[str, str]]]:
    """An initialised registry on a ZEO server or PostgreSQL, and its raw settings."""
    servers = zeo_server if backend == "zeo" else postgres_databases
    with servers(tmp_path / backend) as uris:
        raw = file_settings(tmp_path / "var") | uris
        runtime = Runtime.open(load_settings(raw), create_keys=True)
        try:
            runtime.run(initialise, SYSTEM, runtime.settings.agency)
            yield runtime, raw
        finally:
            runtime.close()


def run_workers(script: str, payloads: list[Any]) -> None:
    """One app process per payload, started together; each must exit 0."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            stdin=subprocess.PIPE,
            cwd=Path(__file__).parents[1],
            text=True,
        )
        for _ in payloads
    ]
    for worker, payload in zip(workers, payloads, strict=True):
        assert worker.stdin is not None
        worker.stdin.write(json.dumps(payload))
        worker.stdin.close()
    assert [worker.wait(timeout=300) for worker in workers] == [0] * len(workers)


def audited_issues(runtime: Runtime) -> int:
    def count(ctx: Any) -> int:
        return sum(e["action"] == "certificate.issue" for e in log_entries(ctx))

    return runtime.run(count, SYSTEM)


@pytest.mark.parametrize("backend", ["zeo", "relstorage"])
def test_two_processes_issue_gapless_serials(tmp_path: Path, backend: str) -> None:
    """Two app processes share one ZEO server or one PostgreSQL (RelStorage) and issue
    at once: serials stay 1..N, and the audit log holds exactly one entry per issue."""
    with shared_registry(tmp_path, backend) as (runtime, raw):
        case_nos = record(runtime, range(0, 30, 3))
        run_workers(PAY_SCRIPT, [[raw, case_nos[i::2], PAYMENT] for i in range(2)])
        assert right_sequences(runtime) == list(range(1, 11))
        assert audited_issues(runtime) == 10


DOWNLOAD_SCRIPT = """
import json, sys
from certarchive.config import load_settings
from certarchive.services import certificates
from certarchive.services.permissions import holder_actor
from certarchive.services.runtime import Runtime
raw, serial = json.loads(sys.stdin.read())
runtime = Runtime.open(load_settings(raw))
for _ in range(3):
    runtime.run(
        lambda ctx: certificates.download_by_holder(ctx, certificates.get_certificate(ctx, serial)),
        holder_actor("race"),
    )
runtime.close()
"""


@pytest.mark.parametrize("backend", ["zeo", "relstorage"])
def test_two_processes_racing_first_downloads_collect_once(tmp_path: Path, backend: str) -> None:
    """H-2.2 across processes: one collection time, one download transition, one entry."""
    with shared_registry(tmp_path, backend) as (runtime, raw):
        (case_no,) = record(runtime, range(1))
        paid = runtime.run(cases.confirm_payment, UPSTREAM, case_no, PAYMENT)
        serial = paid["certificates"][0]["serial"]
        run_workers(DOWNLOAD_SCRIPT, [[raw, serial]] * 2)

        def downloads(ctx: Any) -> tuple[int, int]:
            cert = certificates.get_certificate(ctx, serial)
            transitions = sum(h["transition"] == "download" for h in cert.history)
            entries = sum(e["action"] == "certificate.download" for e in log_entries(ctx))
            return transitions, entries

        assert runtime.run(downloads, SYSTEM) == (1, 1)


REVOKE_SCRIPT = """
import json, sys
from certarchive.config import load_settings
from certarchive.services import certificates
from certarchive.services.runtime import Runtime
from tests.conftest import UPSTREAM
raw, serial = json.loads(sys.stdin.read())
runtime = Runtime.open(load_settings(raw))
runtime.run(
    lambda ctx: certificates.revoke(
        ctx, certificates.get_certificate(ctx, serial), "transfer", "转移登记"
    ),
    UPSTREAM,
)
runtime.close()
"""


@pytest.mark.parametrize(("backend", "cache_seconds"), [("zeo", "600"), ("relstorage", "1")])
def test_a_cached_page_shows_a_revocation_made_by_another_process(
    tmp_path: Path, backend: str, cache_seconds: str
) -> None:
    """The page cache (H-1.3) on several processes: ZEO's invalidation message makes a
    page cached for ten minutes stale at once; RelStorage, which learns of other
    processes' commits only when it polls, shows the change once the age limit passed."""
    with shared_registry(tmp_path, backend) as (runtime, raw):
        (case_no,) = record(runtime, range(1))
        paid = runtime.run(cases.confirm_payment, UPSTREAM, case_no, PAYMENT)
        serial = paid["certificates"][0]["serial"]
        token = paid["certificates"][0]["verify_url"].rsplit("/", 1)[1]
        settings = {
            "certarchive.verify_cache_seconds": cache_seconds,
            "certarchive.ratelimit.verify": "100000/60",
        }
        app = make_app(raw | settings, runtime)
        web = TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.60"})
        url = f"/v/{token}.json"
        assert web.get(url).json["status"] == web.get(url).json["status"] == "valid"
        run_workers(REVOKE_SCRIPT, [[raw, serial]])
        deadline = time.monotonic() + 10
        while web.get(url).json["status"] == "valid":
            assert time.monotonic() < deadline, "the cached page never showed the revocation"
            time.sleep(0.05)
        assert web.get(url).json["status"] == "revoked"


SEQUENCE_SCRIPT = """
import json, sys
from certarchive.config import load_settings
from certarchive.services import cases
from certarchive.services.audit import sequence_logs
from certarchive.services.runtime import Runtime
from certarchive.validation.samples import sample_case
from tests.conftest import UPSTREAM
raw, numbers = json.loads(sys.stdin.read())
runtime = Runtime.open(load_settings(raw))
for i, n in enumerate(numbers):
    runtime.run(cases.record_case, UPSTREAM, sample_case(n))
    if i % 4 == 3:
        sequence_logs(runtime)
runtime.close()
"""


@pytest.mark.parametrize("backend", ["zeo", "relstorage"])
def test_two_processes_sequencing_at_once_keep_every_entry_once(
    tmp_path: Path, backend: str
) -> None:
    """Two app processes record cases (their entries wait in the outbox) and move entries
    into the log at the same time, as two servers' sequencer threads do: every entry is
    sequenced exactly once, none is left behind, and the log verifies (H-5.2.4)."""
    from certarchive.audit.log import get_log
    from certarchive.audit.queue import get_outbox
    from certarchive.services import audit as audit_services

    with shared_registry(tmp_path, backend) as (runtime, raw):
        numbers = [list(range(worker, 60, 2)) for worker in range(2)]  # 30 cases each
        run_workers(SEQUENCE_SCRIPT, [[raw, mine] for mine in numbers])
        audit_services.sequence_logs(runtime)

        def sequenced(ctx: Any) -> tuple[list[str], int]:
            log = get_log(ctx.conn, "audit")
            objects = [e["object"] for e in log.iter_entries()]
            return objects, len(get_outbox(ctx.conn).queue("audit"))

        objects, left = runtime.run(sequenced, SYSTEM)
        recorded = sorted(o for o in objects if o.startswith("case:"))
        assert recorded == sorted([f"case:{sample_case(n)['case_no']}" for n in range(60)] * 2)
        assert left == 0
        report = runtime.run(audit_services.verify, SYSTEM, "audit")
        assert report.ok and report.pending == 0
