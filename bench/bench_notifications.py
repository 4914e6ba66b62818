"""What queueing messages to holders costs a recording and an issuance (issue #16, Z-4).

    .venv/bin/python bench/bench_notifications.py [ROUNDS]

Two registries side by side in one process: one without a message channel, one with an
SMS gateway configured (messages are queued in the request's transaction; delivery runs
apart in the serving process and is not part of the request, so no gateway is needed).
Each round records 200 cases in each registry, alternating the order, then pays 50 of
them (issuance, with the certificate_ready message).  Ratios are the median of the
rounds' own ratios.  Target: at most 1.05 for both.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import PAYMENT, UPSTREAM, open_registry

from certarchive.services import cases
from certarchive.validation.samples import sample_case

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 7
RECORDS, PAYS = 200, 50
SMS = {"certarchive.sms_gateway": "http://127.0.0.1:9/sms", "certarchive.sms_gateway_key": "k"}


def _seconds(runtime, documents, action) -> float:
    start = time.perf_counter()
    for document in documents:
        action(runtime, document)
    return (time.perf_counter() - start) / len(documents)


def record(runtime, document) -> None:
    runtime.run(cases.record_case, UPSTREAM, document)


def pay(runtime, document) -> None:
    runtime.run(cases.confirm_payment, UPSTREAM, document["case_no"], PAYMENT)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        plain = open_registry(Path(folder) / "plain")
        messaging = open_registry(Path(folder) / "sms", **SMS)
        runtimes = {"without": plain, "with": messaging}
        numbers = iter(range(0, 10**6, 3))
        ratios: dict[str, list[float]] = {"record": [], "issue": []}
        times: dict[str, dict[str, list[float]]] = {
            step: {name: [] for name in runtimes} for step in ratios
        }
        for round_number in range(ROUNDS + 1):  # round 0 warms up
            docs = {name: [sample_case(next(numbers)) for _ in range(RECORDS)] for name in runtimes}
            order = list(runtimes) if round_number % 2 else list(reversed(runtimes))
            measured = {step: {} for step in ratios}
            for name in order:
                measured["record"][name] = _seconds(runtimes[name], docs[name], record)
            for name in order:
                measured["issue"][name] = _seconds(runtimes[name], docs[name][:PAYS], pay)
            if round_number:
                for step in ratios:
                    ratios[step].append(measured[step]["with"] / measured[step]["without"])
                    for name in runtimes:
                        times[step][name].append(measured[step][name])
        for runtime in runtimes.values():
            runtime.close()
    print(f"median of {ROUNDS} rounds")
    print(f"{'operation':28} {'without ms':>11} {'with SMS ms':>12} {'ratio':>7}")
    for step in ratios:
        without = statistics.median(times[step]["without"]) * 1000
        with_sms = statistics.median(times[step]["with"]) * 1000
        print(f"{step:28} {without:11.2f} {with_sms:12.2f} {statistics.median(ratios[step]):7.3f}")


if __name__ == "__main__":
    main()
