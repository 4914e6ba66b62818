"""Backup export benchmark (issue 6): throughput, incremental cost, peak memory.

Measured side by side in one run, each figure the median of ``--rounds`` interleaved runs,
each run in a fresh child process (so that ``ru_maxrss`` is that run's own peak):

1. throughput of a full export of a ~100 MB registry, against ``cat`` of the same files
   (Data.fs, Audit.fs, Sharing.fs, every blob) to /dev/null and against plain SM4-GCM
   (``certarchive.crypto.sm.sm4_gcm_encrypt`` over 4 MiB buffers) of the same number of
   bytes on one core.  Target: export ≥ 80% of the SM4-GCM figure.
2. an incremental export after 1% of the certificates of a demo registry changed (revoked
   through the service layer: watermarked file re-rendered and signed, new version and
   file records, audit entries) against a full export of it.  Target: < 5%.
3. peak memory (``ru_maxrss`` of the child) of a full export of a ~100 MB and a ~1 GB
   registry.  Target: the same.
4. a full export started from the web (``POST /api/v1/backups`` to a running ``certarchive
   serve``, polled until done) beside the same export from the command line's code
   (``export_snapshot`` in a child process, start-up excluded), of the ~100 MB registry,
   rounds interleaved, the server running throughout.  The web figure is the job's own
   duration as the server records it (claimed → finished) and, separately, what the
   client sees (POST → the poll that reads "done", polled every 250 ms: each poll is an
   authenticated request, and polling every 20 ms took a noticeable share of the two
   cores from the export, a cost of the measuring, not of the export).  Target: the web
   export within 10% of the command line's.

Process start-up and module imports are outside every timed region.  Synthetic
registries are made quickly by ``certarchive init`` plus bulk objects written
straight through ZODB: per "certificate" a persistent mapping with ~1.3 KB of fields and a
100 KB random blob (random, because stored files are data-key ciphertexts), 64 of them
per transaction.  The demo registry is ``load_demo`` (real cases, real PDFs).

    .venv/bin/python bench/bench_backup.py [--rounds 3] [--small-mb 100] [--large-mb 1000]
        [--sections 1234]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import transaction
from bench.common import open_registry, raw_settings
from BTrees.OOBTree import OOBTree
from persistent.mapping import PersistentMapping
from tests.servers import server_process
from ZODB.blob import Blob

from certarchive.backup.export import export_snapshot
from certarchive.backup.keys import create_key, load_key
from certarchive.backup.repository import Repository
from certarchive.backup.source import resolver
from certarchive.config import load_settings
from certarchive.crypto.sm import random_key, sm4_gcm_encrypt
from certarchive.services import certificates
from certarchive.services.demo import load_demo
from certarchive.services.permissions import SYSTEM, staff_actor
from certarchive.services.setup import add_client

BLOB_SIZE = 100_000
PER_TRANSACTION = 64
GCM_BUFFER = 4 << 20
POLL = 0.25  # seconds between a web client's looks at its job


# --- building registries -----------------------------------------------------------------


def synthesise(var: Path, megabytes: int) -> None:
    runtime = open_registry(var)
    rng = random.Random(megabytes)
    tm = transaction.TransactionManager(explicit=True)
    conn = runtime.db.open(transaction_manager=tm)
    count = megabytes * 2**20 // BLOB_SIZE
    for start in range(0, count, PER_TRANSACTION):
        with tm:
            bulk = conn.root().setdefault("bulk", OOBTree())
            for n in range(start, min(start + PER_TRANSACTION, count)):
                record = PersistentMapping({"fields": rng.randbytes(650).hex(), "n": n})
                blob = Blob()
                with blob.open("w") as out:
                    out.write(rng.randbytes(BLOB_SIZE))
                record["file"] = blob
                bulk[f"c{n:08d}"] = record
        conn.cacheMinimize()
    conn.close()
    runtime.close()


def demo(var: Path, cases: int) -> int:
    runtime = open_registry(var)
    load_demo(runtime, cases)
    count = runtime.run(lambda ctx: len(ctx.agency().certificates), SYSTEM)
    runtime.close()
    return count


def change_one_percent(var: Path) -> int:
    """Revoke 1% of the certificates (rounded up) through the service layer."""
    runtime = open_registry(var)
    registrar = staff_actor("bench.registrar", "registrar")

    def issued(ctx: Any) -> tuple[int, list[str]]:
        certs = list(ctx.agency().certificates.values())
        return len(certs), [c.serial for c in certs if c.state == "issued"]

    total, serials = runtime.run(issued, SYSTEM)
    chosen = serials[: math.ceil(total / 100)]
    for serial in chosen:
        runtime.run(
            lambda ctx, s=serial: certificates.revoke(
                ctx, certificates.get_certificate(ctx, s), "cancellation", "bench"
            ),
            registrar,
        )
    runtime.close()
    return len(chosen)


def change_bulk_one_percent(var: Path) -> int:
    """Rewrite 1% of a synthetic registry's records, each with a new blob, 64 per transaction."""
    runtime = open_registry(var)
    rng = random.Random(-1)
    tm = transaction.TransactionManager(explicit=True)
    conn = runtime.db.open(transaction_manager=tm)
    bulk = conn.root()["bulk"]
    chosen = list(bulk.keys())[::100]
    for start in range(0, len(chosen), PER_TRANSACTION):
        with tm:
            for name in chosen[start : start + PER_TRANSACTION]:
                record = bulk[name]
                record["fields"] = rng.randbytes(650).hex()
                blob = Blob()
                with blob.open("w") as out:
                    out.write(rng.randbytes(BLOB_SIZE))
                record["file"] = blob
    conn.close()
    runtime.close()
    return len(chosen)


def source_files(var: Path) -> list[Path]:
    files = [var / name for name in ("Data.fs", "Audit.fs", "Sharing.fs")]
    return files + sorted((var / "blobs").rglob("*.blob"))


def megabytes_of(files: list[Path]) -> float:
    return sum(f.stat().st_size for f in files) / 2**20


# --- child processes ---------------------------------------------------------------------


def child(argv: list[str]) -> None:
    """Run one measured operation; print seconds, CPU seconds and peak RSS as JSON."""
    mode = argv[0]
    if mode == "export":
        var, repository, incremental = Path(argv[1]), Path(argv[2]), argv[3] == "1"
        settings = load_settings(raw_settings(var))
        key = load_key(var / "keys" / "backup.key")
        resolver("file")  # start-up (imports the storage modules), like the rest
        cpu, started = _cpu(), time.perf_counter()
        manifest = export_snapshot(settings.databases, Repository(repository), key, incremental)
        seconds = time.perf_counter() - started
        extra = {"bytes": manifest.size(), "cpu": _cpu() - cpu}
    elif mode == "gcm":
        total, key, buffer = int(argv[1]), random_key(), os.urandom(GCM_BUFFER)
        cpu, started = _cpu(), time.perf_counter()
        for _ in range(max(1, total // GCM_BUFFER)):
            sm4_gcm_encrypt(key, buffer, b"bench")
        seconds = time.perf_counter() - started
        extra = {"cpu": _cpu() - cpu}
    else:
        raise SystemExit(f"unknown child mode {mode}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "rss_kb": peak} | extra))


def _cpu() -> float:
    """CPU seconds of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_child(*argv: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", *argv],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def export(var: Path, repository: Path, incremental: bool = False) -> dict[str, Any]:
    return run_child("export", str(var), str(repository), "1" if incremental else "0")


def cat(files: list[Path]) -> float:
    started = time.perf_counter()
    with open(os.devnull, "wb") as null:
        subprocess.run(["cat", *map(str, files)], check=True, stdout=null)
    return time.perf_counter() - started


def create_backup_key(var: Path) -> None:
    create_key(var / "keys" / "backup.key")


# --- a web export beside the command line's ---------------------------------------------


@contextmanager
def _serving(var: Path, repository: Path) -> Iterator[tuple[str, str]]:
    """A real ``certarchive serve`` on ``var`` whose backup jobs write to ``repository``
    (started by the tests' :func:`~tests.servers.server_process`); yields its base URL
    and an API key with the scope backups:run."""
    runtime = open_registry(var)
    key = runtime.run(add_client, SYSTEM, "bench-backups", ["backups:run"])["key"]
    runtime.close()
    lines = ["[app:main]", "use = egg:certarchive"]
    raw = raw_settings(var) | {"certarchive.backup_dir": str(repository)}
    lines += [f"{name} = {value}" for name, value in raw.items()]
    ini = var.parent / f"{var.name}-web.ini"
    ini.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with server_process(ini) as (base, _process):
        yield base, key


def _call(base: str, key: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def web_export(base: str, key: str) -> dict[str, float]:
    started = time.perf_counter()
    job = _call(base, key, "/api/v1/backups", {"incremental": False})["job"]
    while (state := _call(base, key, f"/api/v1/backups/jobs/{job}"))["state"] == "running":
        time.sleep(POLL)
    client = time.perf_counter() - started
    if state["state"] != "done":
        raise SystemExit(f"web export failed: {state}")
    span = datetime.fromisoformat(state["finished_at"]) - datetime.fromisoformat(
        state["started_at"]
    )
    return {"server": span.total_seconds(), "client": client}


def web_beside_command_line(var: Path, work: Path, rounds: int) -> None:
    size_mb = megabytes_of(source_files(var))
    web_repo = work / "repo-web"
    with _serving(var, web_repo) as (base, key):
        web_export(base, key)  # warm: the server's first export opens its read-only copies
        shutil.rmtree(web_repo)
        cli, server_side, client_side = [], [], []
        for r in range(rounds):
            cli.append(export(var, work / f"repo-cli-{r}")["seconds"])
            shutil.rmtree(work / f"repo-cli-{r}")
            result = web_export(base, key)
            server_side.append(result["server"])
            client_side.append(result["client"])
            shutil.rmtree(web_repo)
    median = statistics.median
    print(
        f"\n4. full export, {size_mb:.0f} MiB registry, web beside command line, median of {rounds}"
    )
    for label, values in (
        ("command line (export_snapshot) ", cli),
        ("web job, server's record       ", server_side),
        ("web, POST → done seen by client", client_side),
    ):
        print(f"   {label} {median(values):7.2f} s   runs {_list(values)}")
    per_round = [web / line for web, line in zip(server_side, cli, strict=True)]
    print(f"   web job / command line, each round's own ratio: {_list(per_round)}")
    print(
        f"   web / command line: {median(per_round):.1%} median of the rounds' ratios (job); "
        f"medians {median(server_side) / median(cli):.1%} (job), "
        f"{median(client_side) / median(cli):.1%} (client) (target ≤ 110%)"
    )


def _list(values: list[float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


# --- the benchmark -----------------------------------------------------------------------


def report_incremental(full: list[dict[str, Any]], incremental: list[dict[str, Any]]) -> None:
    full_s = statistics.median(x["seconds"] for x in full)
    inc_s = statistics.median(x["seconds"] for x in incremental)
    full_b, inc_b = full[0]["bytes"], incremental[0]["bytes"]
    print(f"   full        {full_s:7.3f} s  {full_b / 2**20:8.2f} MiB written")
    print(f"   incremental {inc_s:7.3f} s  {inc_b / 2**20:8.2f} MiB written")
    print(f"   incremental / full: time {inc_s / full_s:.1%}, bytes {inc_b / full_b:.1%} (< 5%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--small-mb", type=int, default=100)
    parser.add_argument("--large-mb", type=int, default=1000)
    parser.add_argument("--cases", type=int, default=600, help="demo cases for the incremental")
    parser.add_argument("--sections", default="1234", help="which sections to run, e.g. 4")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-backup-"))
    try:
        print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f} at start")
        small, large, demo_var = work / "small", work / "large", work / "demo"
        started = time.perf_counter()
        synthesise(small, args.small_mb)
        create_backup_key(small)
        if "2" in args.sections:
            certs = demo(demo_var, args.cases)
            create_backup_key(demo_var)
        if "3" in args.sections:
            synthesise(large, args.large_mb)
            create_backup_key(large)
        print(f"registries built in {time.perf_counter() - started:.0f} s")
        if "1" in args.sections:
            throughput(small, work, args.rounds)
        if "2" in args.sections:
            incremental_after_changes(demo_var, work, args.rounds, args.cases, certs)
        if "3" in args.sections:
            peak_memory(small, large, work)
        if "4" in args.sections:
            web_beside_command_line(small, work, args.rounds)
        print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def throughput(small: Path, work: Path, rounds: int) -> None:
    median = statistics.median
    files = source_files(small)
    size_mb = megabytes_of(files)
    runs: dict[str, list[float]] = {"export": [], "cat": [], "gcm": []}
    cpu: list[float] = []
    for r in range(rounds):
        result = export(small, work / f"repo-small-{r}")
        runs["export"].append(result["seconds"])
        cpu.append(result["cpu"])
        runs["cat"].append(cat(files))
        runs["gcm"].append(run_child("gcm", str(int(size_mb * 2**20)))["seconds"])
        shutil.rmtree(work / f"repo-small-{r}")
    rate = {name: size_mb / median(seconds) for name, seconds in runs.items()}
    print(f"\n1. full export throughput, {size_mb:.0f} MiB registry, median of {rounds}")
    for name in ("export", "cat", "gcm"):
        print(f"   {name:7} {median(runs[name]):7.2f} s  {rate[name]:8.1f} MiB/s")
    print(f"   export / SM4-GCM one core: {rate['export'] / rate['gcm']:.0%} (target ≥ 80%)")
    print(f"   export / cat:              {rate['export'] / rate['cat']:.0%}")
    busy = median(cpu) / median(runs["export"])
    print(f"   export CPU (all threads) {median(cpu):.2f} s: {busy:.2f} cores busy on average")


def incremental_after_changes(
    demo_var: Path, work: Path, rounds: int, cases: int, certs: int
) -> None:
    base = work / "repo-demo"
    export(demo_var, base)
    changed = change_one_percent(demo_var)
    full, incremental = [], []
    for r in range(rounds):
        full.append(export(demo_var, work / f"repo-full-{r}"))
        shutil.rmtree(work / f"repo-full-{r}")
        shutil.copytree(base, work / f"repo-inc-{r}")
        incremental.append(export(demo_var, work / f"repo-inc-{r}", incremental=True))
        shutil.rmtree(work / f"repo-inc-{r}")
    demo_mb = megabytes_of(source_files(demo_var))
    print(
        f"\n2. incremental after 1% of the certificates changed, median of {rounds}"
        f"\n   demo registry, {cases} cases, {demo_mb:.0f} MiB: "
        f"{changed} of {certs} certificates revoked"
    )
    report_incremental(full, incremental)


def peak_memory(small: Path, large: Path, work: Path) -> None:
    peaks = {}
    for name, var in (("small", small), ("large", large)):
        result = export(var, work / f"repo-mem-{name}")
        peaks[name] = (megabytes_of(source_files(var)), result)
    rewritten = change_bulk_one_percent(large)
    shutil.copytree(work / "repo-mem-large", work / "repo-inc-large")
    large_inc = export(large, work / "repo-inc-large", incremental=True)
    print(f"   synthetic registry, {peaks['large'][0]:.0f} MiB: {rewritten} records rewritten")
    report_incremental([peaks["large"][1]], [large_inc])
    print("\n3. peak memory (ru_maxrss of the exporting child process)")
    for mb, result in peaks.values():
        print(
            f"   {mb:7.0f} MiB registry: {result['rss_kb'] / 1024:6.1f} MiB peak, "
            f"export {result['seconds']:.1f} s"
        )
    ratio = peaks["large"][1]["rss_kb"] / peaks["small"][1]["rss_kb"]
    print(f"   large / small peak: {ratio:.2f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2:])
    else:
        main()
