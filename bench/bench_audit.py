"""The price of the audit log, and verifying a long one (issue #5).

    .venv/bin/python bench/bench_audit.py [--entries 1000000] [--rounds 15]

1. Recording a case (one transaction, three audit entries) and issuing a certificate,
   without the audit log (``Context.audit`` replaced by a no-op) and with it, entries
   queued in the main database's outbox (``audit_queue = main``, the default) or in the
   audit database (``audit_queue = log``); the variants take turns in one run, in a
   rotating order.  A round records 1,000 cases (about 2 s of work, the server sequences
   every 5 s) and then issues 100 of them; an audited round sequences after each (both
   transactions of :func:`sequence_logs`), timed apart: the request pays the first
   figure, the server the second as well.  Target: ≤ 10 % slower.
2. ``audit verify`` on a log of N entries built in the audit database (entries queued
   and integrated in batches as the server does), timed end to end; then inclusion proofs
   at the full size, served from the kept subtree hashes and from the leaves alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import transaction
from bench.common import PAYMENT, UPSTREAM, open_registry
from ZODB import DB
from ZODB.FileStorage import FileStorage

from certarchive.audit import merkle
from certarchive.audit.entry import make_entry
from certarchive.audit.log import AppendOnlyLog
from certarchive.audit.queue import enqueue
from certarchive.audit.verify import verify_log
from certarchive.crypto.sm import SM2PrivateKey, sm3
from certarchive.services import cases
from certarchive.services.audit import sequence_logs
from certarchive.services.context import Context
from certarchive.services.runtime import Runtime
from certarchive.validation.samples import sample_case

#: operations per round: a round records this many cases, then issues some of them
PER_ROUND = {"record a case": 1000, "issue a certificate": 100}
VARIANTS = ("without", "main", "log")  # no audit log; audit_queue = main; audit_queue = log
OPERATIONS = ("record a case", "issue a certificate")


def overhead(rounds: int) -> None:
    """Every variant once per round, in a rotating order; medians of per-operation times."""
    real_audit = Context.audit
    times: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        runtime = open_registry(Path(folder))
        numbers = iter(range(0, 3 * 10**6, 3))  # one right certificate per case
        for n in range(rounds):
            for variant in VARIANTS[n % 3 :] + VARIANTS[: n % 3]:
                audited = variant != "without"
                Context.audit = real_audit if audited else (lambda *a, **k: None)  # type: ignore[method-assign]
                if audited:
                    runtime.settings = dataclasses.replace(runtime.settings, audit_queue=variant)
                documents = [sample_case(next(numbers)) for _ in range(PER_ROUND[OPERATIONS[0]])]
                for (operation, timed), seconds in one_round(runtime, documents, audited).items():
                    per_operation = seconds / PER_ROUND[operation]
                    times.setdefault((operation + timed, variant), []).append(per_operation)
        Context.audit = real_audit  # type: ignore[method-assign]
        runtime.close()
    report(times)


def one_round(
    runtime: Runtime, documents: list[dict[str, Any]], audited: bool
) -> dict[tuple[str, str], float]:
    """Seconds for recording the cases, then for issuing the first of them, each followed
    (when audited) by sequencing what they queued: {(operation, "" | " +seq"): seconds}."""
    spent = {}
    for operation in OPERATIONS:
        start = time.perf_counter()
        for document in documents[: PER_ROUND[operation]]:
            if operation == "record a case":
                runtime.run(cases.record_case, UPSTREAM, document)
            else:
                runtime.run(cases.confirm_payment, UPSTREAM, document["case_no"], PAYMENT)
        spent[(operation, "")] = time.perf_counter() - start
        start = time.perf_counter()
        if audited:
            sequence_logs(runtime)
        spent[(operation, " +seq")] = time.perf_counter() - start
    return spent


def report(times: dict[tuple[str, str], list[float]]) -> None:
    """Medians of the times, and ratios as the median of each round's ratio: the variants
    of one round ran next to each other, so a round's ratio is free of the drift between
    rounds (a growing registry, other load on the machine)."""
    for operation in OPERATIONS:
        bare = times[(operation, "without")]
        print(f"{operation}: without the audit log {statistics.median(bare) * 1000:.3f} ms")
        for variant in VARIANTS[1:]:
            request = times[(operation, variant)]
            server = [
                a + b for a, b in zip(request, times[(operation + " +seq", variant)], strict=True)
            ]
            print(
                f"  audit_queue = {variant:4}: {statistics.median(request) * 1000:.3f} ms, "
                f"ratio {paired(request, bare):.3f}; with sequencing "
                f"{statistics.median(server) * 1000:.3f} ms, ratio {paired(server, bare):.3f}"
            )


def paired(times: list[float], bare: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(times, bare, strict=True))


def build_log(path: Path, entries: int, actions: tuple[str, ...] = ("certificate.issue",)) -> float:
    """A log of ``entries`` entries in a FileStorage at ``path``, queued and integrated in
    batches of 10,000 as the server does; returns the seconds it took.  Entry ``n`` has
    action ``actions[n % len(actions)]``."""
    key = SM2PrivateKey.generate()
    db = DB(FileStorage(str(path)))
    conn = db.open()
    root = conn.root()
    root["log"] = log = AppendOnlyLog("audit", key.public_key.to_bytes(), b"")
    transaction.commit()
    start = time.perf_counter()
    batch = 10_000
    for first in range(0, entries, batch):
        for n in range(first, min(first + batch, entries)):
            enqueue(
                log.pending,
                make_entry(
                    time=datetime.now(UTC).isoformat(),
                    actor="client:upstream",
                    role="client",
                    action=actions[n % len(actions)],
                    object=f"certificate:{n}",
                    before=sm3(b"before %d" % n).hex(),  # unique, as real digests are
                    after=sm3(b"after %d" % n).hex(),
                    result="ok",
                ),
            )
        log.integrate(key, datetime.now(UTC))
        transaction.commit()
        conn.cacheMinimize()
    built = time.perf_counter() - start
    conn.close()
    db.close()
    return built


def long_log(entries: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        built = build_log(Path(folder) / "Audit.fs", entries)
        size = (Path(folder) / "Audit.fs").stat().st_size
        db = DB(FileStorage(str(Path(folder) / "Audit.fs"), read_only=True))
        conn = db.open()
        start = time.perf_counter()
        report = verify_log(conn.root()["log"])
        verified = time.perf_counter() - start
        proofs = proof_times(conn.root()["log"])
        db.close()
    assert report.ok and report.size == entries, report.problems
    print(
        f"log of {entries} entries ({size / 2**20:.0f} MiB Audit.fs, built in {built:.0f} s): "
        f"verify {verified:.1f} s = {verified / entries * 1e6:.1f} µs/entry, "
        f"{report.checkpoints} checkpoints"
    )
    kept, from_leaves = proofs
    print(
        f"inclusion proof at the full size, median: {kept * 1000:.2f} ms from the kept "
        f"subtree hashes, {from_leaves:.1f} s hashing every leaf (×{from_leaves / kept:,.0f})"
    )


def proof_times(log: AppendOnlyLog) -> tuple[float, float]:
    """Median seconds for an inclusion proof of a random entry in the whole log, served as
    the log serves it and, for comparison, from the leaves alone (3 of those: slow)."""
    from_leaves = merkle.subtree_roots(sm3, log.leaf_hashes)
    rng = random.Random(6962)
    seqs = [rng.randrange(log.size) for _ in range(21)]
    kept = timed_each(lambda seq: log.inclusion_proof(seq, log.size), seqs)
    slow = timed_each(lambda seq: merkle.inclusion_proof(from_leaves, seq, log.size), seqs[:3])
    for seq in seqs[:3]:
        assert log.inclusion_proof(seq, log.size) == merkle.inclusion_proof(
            from_leaves, seq, log.size
        )
    return kept, slow


def timed_each(fn: Any, arguments: list[int]) -> float:
    times = []
    for argument in arguments:
        start = time.perf_counter()
        fn(argument)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    overhead(args.rounds)
    long_log(args.entries)


if __name__ == "__main__":
    main()
