"""The scale suite (issue #7): a small and a large registry built by bench/generate.py,
measured side by side in one run.

    .venv/bin/python bench/bench_scale.py --small var/bench/10k --large var/bench/100k

For each registry: certificates issued per second when adding more (target: the large
one within 10 % of the small one), look-ups by serial and by holder ID (p50/p99, cold
and warm), start-up time of a serving process (until /healthz answers), Data.fs and blob
bytes per certificate, and the resident memory of that process after 200 verification
page requests.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_registry import lookups
from bench.common import PAYMENT, UPSTREAM, open_registry, raw_settings

from certarchive.services import cases
from certarchive.services.permissions import SYSTEM
from certarchive.validation.samples import sample_case

ADDED = 100
PAGES = 200


def issue_rate(registry: Path) -> float:
    """Certificates per second when issuing ADDED more, after every case already there."""
    runtime = open_registry(registry)

    def last_case_number(ctx: Any) -> tuple[int, int]:
        agency = ctx.agency()
        return int(max(agency.cases.keys()).rsplit("-", 1)[1]), len(agency.certificates)

    last, before = runtime.run(last_case_number, SYSTEM)
    first = last + 3 - last % 3  # sample_case(n) has case number n + 1; n % 3 == 0: one right
    documents = [sample_case(n) for n in range(first, first + 3 * ADDED, 3)]
    for document in documents:
        runtime.run(cases.record_case, UPSTREAM, document)
    start = time.perf_counter()
    for document in documents:
        runtime.run(cases.confirm_payment, UPSTREAM, document["case_no"], PAYMENT)
    elapsed = time.perf_counter() - start
    _, after = runtime.run(last_case_number, SYSTEM)
    runtime.close()
    assert after - before == ADDED, "every case must be new and issue one certificate"
    return ADDED / elapsed


def tokens(registry: Path, count: int) -> tuple[int, list[str]]:
    runtime = open_registry(registry)
    found = runtime.run(
        lambda ctx: (len(ctx.agency().certificates), list(ctx.agency().catalog.token.keys())),
        SYSTEM,
    )
    runtime.close()
    total, all_tokens = found
    rng = random.Random(11)
    return total, rng.sample(all_tokens, min(count, len(all_tokens)))


def serve_and_measure(registry: Path, sample: list[str]) -> tuple[float, float]:
    """(seconds until /healthz answers, RSS MiB after the verification pages)."""
    port = 6900 + random.randrange(90)
    lines = ["[app:main]", "use = egg:certarchive"]
    lines += [f"{k} = {v}" for k, v in raw_settings(registry).items()]
    lines += ["certarchive.ratelimit.verify = 100000/60", ""]
    with tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False) as ini:
        ini.write("\n".join(lines))
    binary = Path(sys.executable).with_name("certarchive")
    start = time.perf_counter()
    server = subprocess.Popen(
        [str(binary), "-c", ini.name, "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        started = time.perf_counter() - start
        for token in sample:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v/{token}", timeout=10):
                pass
        status = Path(f"/proc/{server.pid}/status").read_text()
        rss_kib = next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        Path(ini.name).unlink()
    return started, rss_kib / 1024


def disk_per_certificate(registry: Path, total: int) -> tuple[float, float]:
    data = (registry / "Data.fs").stat().st_size
    blobs = sum(p.stat().st_size for p in (registry / "blobs").rglob("*") if p.is_file())
    return data / total, blobs / total


def measure(label: str, registry: Path) -> dict[str, Any]:
    total, sample = tokens(registry, PAGES)
    print(f"\n== {label}: {total} certificates ({registry})")
    lookups(registry, 500)
    started, rss = serve_and_measure(registry, sample)
    data, blobs = disk_per_certificate(registry, total)
    rate = issue_rate(registry)
    print(f"  issuing {ADDED} more:      {rate:6.1f} certificates/s")
    print(f"  start-up until /healthz: {started:6.2f} s")
    print(f"  serving process RSS:     {rss:6.0f} MiB after {len(sample)} verification pages")
    print(f"  bytes per certificate:   Data.fs {data:,.0f}, blobs {blobs:,.0f}")
    return {"rate": rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=Path, default=Path("var/bench/10k"))
    parser.add_argument("--large", type=Path, default=Path("var/bench/100k"))
    args = parser.parse_args()
    missing = [str(path) for path in (args.small, args.large) if not (path / "Data.fs").exists()]
    if missing:
        print(
            f"no registry at {', '.join(missing)}: build them first, e.g.\n"
            "  .venv/bin/python bench/generate.py --certificates 10000 --var var/bench/10k\n"
            "  .venv/bin/python bench/generate.py --certificates 100000 --var var/bench/100k"
        )
        return
    small = measure("small", args.small)
    large = measure("large", args.large)
    print(f"\nissuance rate, large / small: {large['rate'] / small['rate']:.3f} (target ≥ 0.90)")


if __name__ == "__main__":
    main()
