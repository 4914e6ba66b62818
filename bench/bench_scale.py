"""The scale suite (issues #7 and #18): a small and a large registry, measured side by
side in one run.

    .venv/bin/python bench/bench_scale.py --small var/bench/10k --large var/bench/100k

The registries are built either by bench/generate.py (normal issuance) or, for a
million, by ``certarchive import-existing --files on-demand`` of ``sample_existing_case``
lines (see docs/performance.md for the commands).  For each registry: look-ups by
serial and by holder ID (p50/p99, cold and warm), staff searches, start-up time of a
serving process (until /healthz answers) and its resident memory after 200 verification
pages, Data.fs and blob bytes per certificate, certificates issued per second when
adding more (target: the large one within 10 % of the small one); with ``--operations``
also the operator's commands as an operator runs them: ``check``, ``audit verify``, a
full backup, a 1 % incremental one (after importing 1 % more) and ``pack``.
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

from bench.bench_import import write_file
from bench.bench_registry import lookups
from bench.bench_search import measure as measure_search
from bench.bench_search import queries
from bench.common import (
    PAYMENT,
    STORAGES,
    UPSTREAM,
    median_ms,
    open_registry,
    percentile_ms,
    raw_settings,
)
from tests.conftest import write_ini

from certarchive.services import cases
from certarchive.services.permissions import SYSTEM
from certarchive.validation.samples import sample_case

ADDED = 100
PAGES = 200
COMMAND = Path(sys.executable).with_name("certarchive")
SEARCHES = 7  # the first kinds of bench_search's queries: name, address, ID, number parts


def last_case_number(ctx: Any) -> tuple[int, int]:
    """The highest case number's sequence, and how many certificates there are."""
    agency = ctx.agency()
    return int(max(agency.cases.keys()).rsplit("-", 1)[1]), len(agency.certificates)


def issue_more(registry: Path, count: int) -> float:
    """Record ``count`` new cases of one right each, after every case already there, then
    issue them through the normal path (payment confirmed: rendered, sealed, signed,
    stored), one transaction each; the seconds the issuing took."""
    runtime = open_registry(registry)
    last, before = runtime.run(last_case_number, SYSTEM)
    first = last + 3 - last % 3  # sample_case(n) has case number n + 1; n % 3 == 0: one right
    documents = [sample_case(n) for n in range(first, first + 3 * count, 3)]
    for document in documents:
        runtime.run(cases.record_case, UPSTREAM, document)
    start = time.perf_counter()
    for document in documents:
        runtime.run(cases.confirm_payment, UPSTREAM, document["case_no"], PAYMENT)
    elapsed = time.perf_counter() - start
    _, after = runtime.run(last_case_number, SYSTEM)
    runtime.close()
    assert after - before == count, "every case must be new and issue one certificate"
    return elapsed


def issue_rate(registry: Path) -> float:
    """Certificates per second when issuing ADDED more."""
    return ADDED / issue_more(registry, ADDED)


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
    """(database bytes, blob bytes) per certificate: Data.fs and the blob folder, or on
    PostgreSQL the main database's size, blobs included (RelStorage keeps them there)."""
    main = raw_settings(registry)["certarchive.zodb.main"]
    if main.startswith("postgres://"):
        import psycopg2

        name = main.split("?")[0].rsplit("/", 1)[1]
        conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=name)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_database_size(current_database())")
                return cur.fetchone()[0] / total, 0.0
        finally:
            conn.close()
    data = (registry / "Data.fs").stat().st_size
    blobs = sum(p.stat().st_size for p in (registry / "blobs").rglob("*") if p.is_file())
    return data / total, blobs / total


def searches(registry: Path) -> None:
    """Staff searches (issue #17) as a registrar's page runs them, a cold process each."""
    runtime = open_registry(registry)
    cases = runtime.run(lambda ctx: len(ctx.agency().cases), SYSTEM)
    runtime.close()
    for label, params in list(queries(cases, random.Random(17)).items())[:SEARCHES]:
        runtime = open_registry(registry)
        cold, _ = measure_search(runtime, params[:1])
        warm, hits = measure_search(runtime, params[1:])
        runtime.close()
        print(
            f"  search {label:34s} ~{hits:5d} hits  first {cold[0] * 1000:7.1f} ms  "
            f"p50 {median_ms(warm):6.1f} ms  p99 {percentile_ms(warm, 0.99):6.1f} ms"
        )


#: GNU time, which reports a command's peak resident memory (Debian's package time).
GNU_TIME = "/usr/bin/time"
#: Peak resident MiB of the last run of each command (its first two words).
PEAKS: dict[str, float] = {}


def command_seconds(registry: Path, *arguments: str) -> float:
    """Wall seconds of ``certarchive ARGUMENTS`` on ``registry``, in its own process; its
    peak resident memory (GNU time's %M) is kept in :data:`PEAKS` under the command."""
    if not Path(GNU_TIME).exists():
        raise SystemExit(f"{GNU_TIME} is missing: install Debian's package time")
    with tempfile.TemporaryDirectory() as folder:
        ini = write_ini(Path(folder) / "bench.ini", raw_settings(registry))
        start = time.perf_counter()
        done = subprocess.run(
            [GNU_TIME, "-f", "%M", str(COMMAND), "-c", str(ini), *arguments],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(
            f"certarchive {' '.join(arguments)}: {done.stdout[-800:]}{done.stderr[-800:]}"
        )
    PEAKS[" ".join(arguments[:2])] = int(done.stderr.strip().splitlines()[-1]) / 1024
    return seconds


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def operations(registry: Path, total: int) -> None:
    """The operator's commands at this size; the registry gains 1 % more certificates."""
    seconds = command_seconds(registry, "check")
    print(f"  check:                   {seconds:8.1f} s, {PEAKS['check']:,.0f} MiB peak")
    seconds = command_seconds(registry, "audit", "verify")
    print(f"  audit verify:            {seconds:8.1f} s, {PEAKS['audit verify']:,.0f} MiB peak")
    if not (registry / "keys" / "backup.key").exists():
        command_seconds(registry, "backup", "init-key")
    with tempfile.TemporaryDirectory(dir=registry.parent) as folder:
        repository = Path(folder) / "backups"
        full = command_seconds(registry, "backup", "export", "--out", str(repository))
        full_peak, full_bytes = PEAKS["backup export"], folder_bytes(repository)
        runtime = open_registry(registry)
        last, _ = runtime.run(last_case_number, SYSTEM)
        runtime.close()
        more = Path(folder) / "more.jsonl"
        # 4/3 certificates a line; numbers past every case and serial issued so far
        write_file(more, max(1, total // 100 * 3 // 4), first=last + 1000)
        imported = command_seconds(registry, "import-existing", "--files", "on-demand", str(more))
        incremental = command_seconds(
            registry, "backup", "export", "--out", str(repository), "--incremental"
        )
        added = folder_bytes(repository) - full_bytes
    print(f"  backup, full:            {full:8.1f} s, {full_bytes / 2**20:,.0f} MiB, ", end="")
    print(f"{full_peak:,.0f} MiB peak")
    print(f"  import 1 % more:         {imported:8.1f} s (on demand)")
    print(f"  backup, incremental:     {incremental:8.1f} s, {added / 2**20:,.1f} MiB")
    seconds = command_seconds(registry, "pack", "--days", "0")
    print(f"  pack --days 0:           {seconds:8.1f} s, {PEAKS['pack --days']:,.0f} MiB peak")


def measure(label: str, registry: Path, with_operations: bool = False) -> dict[str, Any]:
    total, sample = tokens(registry, PAGES)
    print(f"\n== {label}: {total} certificates ({registry})")
    lookups(registry, 500)
    searches(registry)
    started, rss = serve_and_measure(registry, sample)
    data, blobs = disk_per_certificate(registry, total)
    rate = issue_rate(registry)
    print(f"  issuing {ADDED} more:      {rate:6.1f} certificates/s")
    print(f"  start-up until /healthz: {started:6.2f} s")
    print(f"  serving process RSS:     {rss:6.0f} MiB after {len(sample)} verification pages")
    print(f"  bytes per certificate:   Data.fs {data:,.0f}, blobs {blobs:,.0f}")
    if with_operations:
        operations(registry, total)
    return {"rate": rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=Path, default=Path("var/bench/10k"))
    parser.add_argument("--large", type=Path, default=Path("var/bench/100k"))
    parser.add_argument(
        "--operations", action="store_true", help="also check, audit verify, backups and pack"
    )
    args = parser.parse_args()
    missing = [
        str(path)
        for path in (args.small, args.large)
        if not ((path / "Data.fs").exists() or (path / STORAGES).exists())
    ]
    if missing:
        print(
            f"no registry at {', '.join(missing)}: build them first, e.g.\n"
            "  .venv/bin/python bench/generate.py --certificates 10000 --var var/bench/10k\n"
            "  .venv/bin/python bench/generate.py --certificates 100000 --var var/bench/100k\n"
            "or by bench/build_imported.py (paper-era certificates, FileStorage or PostgreSQL)"
        )
        return
    small = measure("small", args.small, args.operations)
    large = measure("large", args.large, args.operations)
    print(f"\nissuance rate, large / small: {large['rate'] / small['rate']:.3f} (target ≥ 0.90)")


if __name__ == "__main__":
    main()
