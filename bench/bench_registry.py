"""The registry's throughput and look-ups, medians in one run (issue #2).

    .venv/bin/python bench/bench_registry.py [--registry var/bench/100k]

Cases recorded per second and certificates issued per second (service layer, one
transaction each, FileStorage), then look-ups by serial and by holder ID against a
registry built by bench/generate.py (default: 100,000 certificates), cold (a freshly
opened database, empty object cache) and warm.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import PAYMENT, UPSTREAM, median_ms, open_registry, percentile_ms

from certarchive.services import cases, certificates
from certarchive.services.permissions import SYSTEM, staff_actor
from certarchive.validation.samples import sample_case

REGISTRAR = staff_actor("bench", "registrar")
CASES = 100


def throughput() -> None:
    with tempfile.TemporaryDirectory() as folder:
        runtime = open_registry(Path(folder))
        documents = [sample_case(n) for n in range(CASES)]
        start = time.perf_counter()
        for document in documents:
            runtime.run(cases.record_case, UPSTREAM, document)
        recorded = time.perf_counter() - start
        issued_count = sum(len(d["certificates"]) for d in documents)
        start = time.perf_counter()
        for document in documents:
            runtime.run(cases.confirm_payment, UPSTREAM, document["case_no"], PAYMENT)
        issued = time.perf_counter() - start
        runtime.close()
    print(
        f"cases recorded:        {CASES / recorded:7.1f} /s  ({CASES} cases, one transaction each)"
    )
    print(
        f"certificates issued:   {issued_count / issued:7.1f} /s  (payment → render, sign, store)"
    )


def sample_keys(runtime: Any, count: int) -> tuple[list[str], list[str]]:
    def pick(ctx: Any) -> tuple[list[str], int]:
        return list(ctx.agency().catalog.serial.keys()), len(ctx.agency().cases)

    serials, case_count = runtime.run(pick, SYSTEM)
    rng = random.Random(7)
    # Natural persons only: a bank holds every mortgage proof it registered (n % 3 == 2),
    # so its ID would time fetching thousands of certificates, not the index look-up.
    holders = [
        sample_case(n)["certificates"][0]["holders"][0]["id_number"]
        for n in rng.sample(range(case_count), min(count, case_count))
        if n % 3 != 2
    ]
    return rng.sample(serials, min(count, len(serials))), holders


def lookups(registry: Path, count: int) -> None:
    runtime = open_registry(registry)
    serials, holders = sample_keys(runtime, count)
    total = runtime.run(lambda ctx: len(ctx.agency().certificates), SYSTEM)
    runtime.close()

    def by_serial(serial: str) -> Any:
        return lambda ctx: certificates.metadata(ctx, certificates.get_certificate(ctx, serial))

    def by_holder(id_number: str) -> Any:
        return lambda ctx: [c.serial for c in certificates.by_holder_blind_index(ctx, id_number)]

    print(f"look-ups against {total} certificates ({len(serials)} random keys each):")
    for label, make, keys in (
        ("by serial + metadata", by_serial, serials),
        ("by holder ID", by_holder, holders),
    ):
        runtime = open_registry(registry)  # cold: a new database, empty caches
        cold = [time_one(runtime, make(key)) for key in keys]
        warm = [time_one(runtime, make(key)) for key in keys]
        runtime.close()
        print(
            f"  {label:22} cold p50 {median_ms(cold):6.2f} ms  p99 {percentile_ms(cold, 0.99):6.2f}"
            f" ms | warm p50 {median_ms(warm):6.2f} ms  p99 {percentile_ms(warm, 0.99):6.2f} ms"
        )


def time_one(runtime: Any, fn: Any) -> float:
    start = time.perf_counter()
    runtime.run(fn, REGISTRAR)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", type=Path, default=Path("var/bench/100k"))
    parser.add_argument("--lookups", type=int, default=1000)
    args = parser.parse_args()
    throughput()
    if (args.registry / "Data.fs").exists():
        lookups(args.registry, args.lookups)
    else:
        print(f"no registry at {args.registry}: build one with bench/generate.py")


if __name__ == "__main__":
    main()
