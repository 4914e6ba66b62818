"""What queueing messages to holders (issue #16, Z-4) and reports to the e-licence
library (issue #19, H-2.1) costs a recording and an issuance.

    .venv/bin/python bench/bench_notifications.py [ROUNDS]

Three registries side by side in one process: one without a message channel, one with
an SMS gateway configured, one with the SMS gateway and the e-licence library (messages
and reports are queued in the request's transaction; delivery runs apart in the serving
process and is not part of the request, so no gateway or library is needed).  Each round
records 200 cases in each registry, in a rotating order, then pays 50 of them (issuance,
with the certificate_ready message and, in the third, one report per certificate).
Ratios are the median of the rounds' own ratios, each against the registry without
channels, and the library's own share against the SMS-only registry.  Target: at most
1.05 for each.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import PAYMENT, UPSTREAM, open_registry, timed

from certarchive.services import cases, reporting
from certarchive.validation.samples import sample_case

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 7
RECORDS, PAYS = 200, 50
SMS = {"certarchive.sms_gateway": "http://127.0.0.1:9/sms", "certarchive.sms_gateway_key": "k"}
LIBRARY = {
    "certarchive.licence_library_url": "http://127.0.0.1:9/licences",
    "certarchive.licence_library_key": "bench-library-key-0123",
}
CONFIGS = {"without": {}, "SMS": SMS, "SMS+library": {**SMS, **LIBRARY}}
#: (label, numerator, denominator) of each ratio printed
RATIOS = (
    ("SMS / without", "SMS", "without"),
    ("SMS+library / without", "SMS+library", "without"),
    ("SMS+library / SMS", "SMS+library", "SMS"),
)


def _seconds(runtime, documents, action) -> float:
    start = time.perf_counter()
    for document in documents:
        action(runtime, document)
    return (time.perf_counter() - start) / len(documents)


def record(runtime, document) -> None:
    runtime.run(cases.record_case, UPSTREAM, document)


def pay(runtime, document) -> None:
    runtime.run(cases.confirm_payment, UPSTREAM, document["case_no"], PAYMENT)


def _report_alone(runtime, case_no: str, repeat: int = 300) -> tuple[float, float, float]:
    """What a report adds to a transaction, free of the issuance's own variance: median
    seconds of transactions that only touch the outbox, and of transactions that queue
    one report of an issued certificate, alternating; and of queueing one report inside
    a transaction (100 in one, no commit counted)."""

    def certificate(ctx):
        case = ctx.agency().cases[case_no]
        return ctx.agency().certificates[case.certificate_ids[0]]

    def touch(ctx) -> None:
        certificate(ctx)
        ctx.registry.messages._p_changed = True  # a commit that writes one object

    def queue(ctx) -> None:
        reporting.queue_report(ctx, certificate(ctx), "issued")

    def queue_many(ctx) -> float:
        cert = certificate(ctx)
        start = time.perf_counter()
        for _ in range(100):
            reporting.queue_report(ctx, cert, "issued")
        return (time.perf_counter() - start) / 100

    plain, queued = [], []
    for _ in range(repeat):
        plain += timed(lambda: runtime.run(touch, UPSTREAM), 1)
        queued += timed(lambda: runtime.run(queue, UPSTREAM), 1)
    inside = statistics.median(runtime.run(queue_many, UPSTREAM) for _ in range(5))
    return statistics.median(plain), statistics.median(queued), inside


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        runtimes = {
            name: open_registry(Path(folder) / str(n), **extra)
            for n, (name, extra) in enumerate(CONFIGS.items())
        }
        numbers = iter(range(0, 10**6, 3))
        steps = ("record", "issue")
        ratios = {(step, label): [] for step in steps for label, _, _ in RATIOS}
        times = {step: {name: [] for name in runtimes} for step in steps}
        names = list(runtimes)
        for round_number in range(ROUNDS + 1):  # round 0 warms up
            docs = {name: [sample_case(next(numbers)) for _ in range(RECORDS)] for name in runtimes}
            shift = round_number % len(names)
            order = names[shift:] + names[:shift]
            measured = {step: {} for step in steps}
            for name in order:
                measured["record"][name] = _seconds(runtimes[name], docs[name], record)
            for name in order:
                measured["issue"][name] = _seconds(runtimes[name], docs[name][:PAYS], pay)
            if round_number:
                for step in steps:
                    for label, top, bottom in RATIOS:
                        ratios[(step, label)].append(measured[step][top] / measured[step][bottom])
                    for name in runtimes:
                        times[step][name].append(measured[step][name])
        reports = runtimes["SMS+library"].run(reporting.counts, UPSTREAM)
        alone = _report_alone(runtimes["SMS+library"], docs["SMS+library"][0]["case_no"])
        for runtime in runtimes.values():
            runtime.close()
    print(f"median of {ROUNDS} rounds; reports queued in the library registry: {reports}")
    print(f"{'operation':10} " + " ".join(f"{name + ' ms':>15}" for name in CONFIGS))
    for step in steps:
        medians = [statistics.median(times[step][name]) * 1000 for name in CONFIGS]
        print(f"{step:10} " + " ".join(f"{m:15.2f}" for m in medians))
    print(f"{'ratio':24} {'record':>8} {'issue':>8}")
    for label, _, _ in RATIOS:
        values = [statistics.median(ratios[(step, label)]) for step in steps]
        print(f"{label:24} " + " ".join(f"{v:8.3f}" for v in values))
    issue_ms = statistics.median(times["issue"]["SMS+library"]) * 1000
    plain_ms, queued_ms = alone[0] * 1000, alone[1] * 1000
    added = queued_ms - plain_ms
    print(
        f"a transaction writing one object {plain_ms:.2f} ms, queueing one report "
        f"{queued_ms:.2f} ms: a report adds {added:.2f} ms = {added / issue_ms:.1%} of an "
        f"issuance ({issue_ms:.2f} ms); queueing alone, without a commit: {alone[2] * 1000:.3f} ms"
    )


if __name__ == "__main__":
    main()
