"""Build a registry of N certificates through the normal code path, in batches.

    .venv/bin/python bench/generate.py --certificates 1000000 --var var/bench/1m

Each transaction records a batch of cases and confirms their payment with the same
service functions the API calls, so every certificate is validated, rendered, signed,
encrypted, indexed and audited.  The run resumes where it stopped: cases already present
are skipped.  Progress (certificates, rate, estimated time left) goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import PAYMENT, UPSTREAM, open_registry

from certarchive.services import cases
from certarchive.services.audit import sequence_logs
from certarchive.services.permissions import SYSTEM
from certarchive.services.runtime import Runtime
from certarchive.validation.samples import sample_case


def certificates_in(n: int) -> int:
    """sample_case(n) carries one certificate when n % 3 is 0 or 2, two when it is 1."""
    return 2 if n % 3 == 1 else 1


def record_and_pay(ctx: Any, numbers: range) -> int:
    made = 0
    for n in numbers:
        document = sample_case(n)
        if document["case_no"] in ctx.agency().cases:
            continue
        cases.record_case(ctx, document)
        cases.confirm_payment(ctx, document["case_no"], PAYMENT)
        made += certificates_in(n)
    return made


def count(ctx: Any) -> tuple[int, int]:
    agency = ctx.agency()
    return len(agency.cases), len(agency.certificates)


def generate(runtime: Runtime, target: int, batch: int) -> int:
    start_cases, have = runtime.run(count, SYSTEM)
    n, began = start_cases, time.monotonic()
    made = 0
    while have + made < target:
        numbers = range(n, n + batch)
        made += runtime.run(record_and_pay, UPSTREAM, numbers)
        n += batch
        if n % (batch * 10) == 0:
            sequence_logs(runtime)
        rate = made / max(time.monotonic() - began, 1e-9)
        left = (target - have - made) / rate if rate else 0
        sys.stderr.write(
            f"\r{have + made}/{target} certificates, {rate:.1f}/s, {left / 60:.0f} min left "
        )
    sequence_logs(runtime)
    sys.stderr.write("\n")
    return have + made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=1_000_000)
    parser.add_argument("--var", type=Path, default=Path("var/bench/registry"))
    parser.add_argument("--batch", type=int, default=20)
    args = parser.parse_args()
    runtime = open_registry(args.var)
    try:
        total = generate(runtime, args.certificates, args.batch)
    finally:
        runtime.close()
    print(f"{total} certificates in {args.var}")


if __name__ == "__main__":
    main()
