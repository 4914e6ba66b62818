"""The verification page against a Pyramid hello-world on the same waitress settings,
measured with wrk in one run (issues #4 and #18), quiet and while the registry is busy.

    .venv/bin/python bench/bench_web.py [--seconds 10] [--connections 32] [--writes 2]
                                        [--rounds 3]

All servers run waitress with 8 threads on this machine; wrk uses 2 threads and the
given connections, cycling through the tokens of a demo registry's certificates.  The page
is measured as served (with the per-process page cache, its default 5 s age limit) and
with the cache turned off, which is what every first view of a token costs.  Each run
starts after one request for each of its paths (a server in service has its pages built;
without it every run began with 32 connections building the same 60 pages at once).

"Busy" is an upstream client recording ``--writes`` cases a second through the API of
the serving process (``POST /api/v1/cases``: each a commit to the main database) while
wrk runs; hello world is measured under the same writes (sent to the certarchive server
beside it), so that both share the machine alike.  The four runs (hello and page, quiet
and busy) take turns in ``--rounds`` rounds in a rotating order, and medians are
reported, because the machine is shared and its load drifts.
Target: the page at ≥ 0.75 of hello-world's requests per second, quiet and busy, p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import open_registry, raw_settings
from tests.servers import free_port

from certarchive.services.demo import load_demo
from certarchive.services.permissions import SYSTEM
from certarchive.services.setup import add_client
from certarchive.validation.samples import sample_case

HELLO = """
import sys, waitress
from pyramid.config import Configurator
from pyramid.response import Response
with Configurator() as config:
    config.add_route("hello", "/")
    config.add_view(lambda request: Response("hello"), route_name="hello")
    app = config.make_wsgi_app()
waitress.serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=8)
"""
WRK_SCRIPT = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


@contextmanager
def running(command: list[str], port: int) -> Iterator[str]:
    log = Path(tempfile.gettempdir()) / f"certarchive-bench-{port}.log"
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def wrk(base: str, paths: list[str], seconds: int, connections: int) -> tuple[float, float]:
    """(requests per second, p99 latency in ms)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % ", ".join(f'"{p}"' for p in paths))
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    Path(script.name).unlink()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", output).groups()
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        print(f"  warning: {non_2xx.group(1)} non-2xx responses from {base}")
    return rate, float(p99) * scale


class Writer:
    """An upstream client recording ``rate`` cases a second into ``base``, in a thread."""

    def __init__(self, base: str, key: str, rate: float, first: int) -> None:
        self.base, self.key, self.interval = base, key, 1 / rate
        self.numbers = itertools.count(first)
        self.done = self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _post(self) -> None:
        request = urllib.request.Request(
            self.base + "/api/v1/cases",
            data=json.dumps(sample_case(next(self.numbers))).encode(),
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            urllib.request.urlopen(request, timeout=10).close()
            self.done += 1
        except OSError:
            self.failed += 1

    def _run(self) -> None:
        due = time.monotonic()
        while not self._stop.is_set():
            self._post()
            due += self.interval
            self._stop.wait(max(0.0, due - time.monotonic()))

    def __enter__(self) -> Writer:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.rate = self.done / (time.monotonic() - self.started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--certificates", type=int, default=60)
    parser.add_argument("--writes", type=float, default=2.0, help="cases recorded a second")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {}
    writes: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        var = Path(folder)
        runtime = open_registry(var)
        load_demo(runtime, args.certificates)
        tokens = runtime.run(lambda ctx: list(ctx.agency().catalog.token.keys()), SYSTEM)
        key = runtime.run(add_client, SYSTEM, "bench-writer", ["cases:write"])["key"]
        runtime.close()
        binary = str(Path(sys.executable).with_name("certarchive"))
        paths = [f"/v/{t}" for t in tokens]
        phases = itertools.count(1)  # each writer records cases numbered apart

        def measure(label: str, base: str, targets: list[str], writes_into: str | None) -> None:
            writer = (
                Writer(writes_into, key, args.writes, args.certificates + 10_000 * next(phases))
                if writes_into
                else None
            )
            for target in targets:  # warm: every run starts from pages built, as in service
                urllib.request.urlopen(base + target, timeout=10).close()
            with writer or nullcontext():
                result = wrk(base, targets, args.seconds, args.connections)
            results.setdefault(label, []).append(result)
            if writer:
                writes.append(writer.rate)
                if writer.failed:
                    print(f"  warning: {writer.failed} cases not recorded during {label}")

        hello_port = free_port()
        for label, cache_seconds in (("cached", "5"), ("uncached", "0")):
            ini = var / f"bench-{label}.ini"
            lines = ["[app:main]", "use = egg:certarchive"]
            lines += [f"{k} = {v}" for k, v in raw_settings(var).items()]
            lines += ["certarchive.ratelimit.verify = 100000000/60"]
            lines += [f"certarchive.verify_cache_seconds = {cache_seconds}", ""]
            ini.write_text("\n".join(lines))
            port = free_port()
            serve = [binary, "-c", str(ini), "serve", "--port", str(port), "--threads", "8"]
            with running(serve, port) as base:
                if label == "uncached":
                    measure("page, cache off, quiet", base, paths, None)
                    continue
                hello = [sys.executable, "-c", HELLO, str(hello_port)]
                with running(hello, hello_port) as hello_base:
                    runs = [
                        ("hello world, quiet", hello_base, ["/"], None),
                        ("page, quiet", base, paths, None),
                        ("hello world, busy", hello_base, ["/"], base),
                        ("page, busy", base, paths, base),
                    ]
                    for round_no in range(args.rounds):  # rotate: drift hits all alike
                        shift = round_no % len(runs)
                        for run in runs[shift:] + runs[:shift]:
                            measure(*run)
    print(
        f"wrk -t2 -c{args.connections} -d{args.seconds}s, waitress 8 threads, 2 cores shared; "
        f"medians of {args.rounds} rounds (cache off: one run)"
    )
    median = {
        label: tuple(map(statistics.median, zip(*runs, strict=True)))
        for label, runs in results.items()
    }
    for label, (rate, p99) in median.items():
        print(f"  {label:24} {rate:8.0f} req/s   p99 {p99:7.1f} ms")
    print(f"  writes while busy: {statistics.median(writes):.2f} cases/s recorded (median)")
    for state in ("quiet", "busy"):
        ratios = [
            page[0] / hello[0]
            for page, hello in zip(
                results[f"page, {state}"], results[f"hello world, {state}"], strict=True
            )
        ]
        print(
            f"  page / hello, {state}: {statistics.median(ratios):.2f} "
            f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)}; target ≥ 0.75, p99 < 50 ms)"
        )
    uncached = median["page, cache off, quiet"][0] / median["hello world, quiet"][0]
    print(f"  page with the cache off / hello, quiet: {uncached:.2f}")


if __name__ == "__main__":
    main()
