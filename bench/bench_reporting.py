"""How fast a backfill reaches the e-licence library (issue #19, Z-2's existing
certificates): queueing the catalogue of every certificate, then sending it.

    .venv/bin/python bench/bench_reporting.py [CERTIFICATES]

A registry of CERTIFICATES (default 200) issued certificates, made without a library;
then the library is configured (the stand-in of the tests, tests/library.py, answering
201 at once in a process of its own) and the script times ``backfill`` in batches as
``certarchive report --all`` runs it, and the courier's rounds until every report is
accepted (building each entry from the registry, decrypting and checking the file, the
POST, recording the answer with its audit and sharing entries).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import PAYMENT, UPSTREAM, open_registry

from certarchive.messaging.delivery import Courier
from certarchive.services import cases, reporting
from certarchive.services.permissions import SYSTEM
from certarchive.validation.samples import sample_case

ROOT = Path(__file__).resolve().parents[1]
COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 200
KEY = "bench-library-key-0123"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        var, library = Path(folder) / "var", Path(folder) / "library"
        library.mkdir()
        (library / "mode").write_text("ok")
        (library / "key").write_text(KEY)
        runtime = open_registry(var)
        started = time.perf_counter()
        for n in range(0, 3 * COUNT, 3):  # shape 0: one certificate per case
            document = sample_case(n)
            runtime.run(cases.record_case, UPSTREAM, document)
            runtime.run(cases.confirm_payment, UPSTREAM, document["case_no"], PAYMENT)
        made = time.perf_counter() - started
        runtime.close()
        port = _port()
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.library", str(port), str(library)], cwd=ROOT
        )
        try:
            time.sleep(1.0)
            runtime = open_registry(
                var,
                **{
                    "certarchive.licence_library_url": f"http://127.0.0.1:{port}/events",
                    "certarchive.licence_library_key": KEY,
                },
            )
            started = time.perf_counter()
            position, queued = None, 0
            while True:
                done = runtime.run(reporting.backfill, SYSTEM, None, position)
                queued += done["queued"]
                position = done["next"]
                if position is None:
                    break
            queueing = time.perf_counter() - started
            courier = Courier(runtime, runtime.settings.messaging)
            started = time.perf_counter()
            while runtime.run(reporting.counts, SYSTEM)["pending"]:
                courier.deliver()
            sending = time.perf_counter() - started
            counts = runtime.run(reporting.counts, SYSTEM)
            runtime.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
        received = len((library / "received").read_text().splitlines())
    print(f"{COUNT} certificates issued in {made:.1f} s (setup)")
    print(f"backfill queued {queued} in {queueing:.2f} s: {queued / queueing:.0f} /s")
    print(
        f"sent {counts['sent']} (library received {received}) in {sending:.2f} s: "
        f"{counts['sent'] / sending:.1f} /s"
    )


if __name__ == "__main__":
    main()
