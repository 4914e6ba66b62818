"""One app process against two on a ZEO server, in one run (issue #7).

    .venv/bin/python bench/bench_zeo_scaling.py [--seconds 10]

For one and then two `certarchive serve` processes sharing a ZEO server: issuance (the
upstream's record + payment calls over HTTP from 4 client threads, spread over the
processes) in certificates per second, and the verification page under wrk (one wrk per
process, 16 connections each) in requests per second.  All of it — ZEO, the app
processes, the load generators — shares this machine's 2 cores, so the figures show
how far a second process helps on one small machine, not a cluster's capacity.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_web import running, wrk
from bench.common import PAYMENT, raw_settings
from tests.servers import free_port, zeo_server

from certarchive.config import load_settings
from certarchive.services.demo import load_demo
from certarchive.services.permissions import SYSTEM
from certarchive.services.runtime import Runtime
from certarchive.services.setup import add_client, initialise
from certarchive.validation.samples import sample_case

CLIENT_THREADS = 4


def post(url: str, key: str, body: dict) -> None:
    """POST as the upstream system does: a 503 (busy) is sent again after its Retry-After."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    while True:
        try:
            urllib.request.urlopen(request, timeout=60).close()
            return
        except urllib.error.HTTPError as error:
            if error.code != 503:
                raise
            time.sleep(float(error.headers.get("Retry-After", "1")))


def issuance(bases: list[str], key: str, numbers: itertools.count, seconds: float) -> float:
    issued = []
    deadline = time.monotonic() + seconds
    lock = threading.Lock()

    def client(worker: int) -> None:
        count = 0
        base = bases[worker % len(bases)]
        while time.monotonic() < deadline:
            with lock:
                n = next(numbers) * 3  # one right certificate per case
            document = sample_case(n)
            post(f"{base}/api/v1/cases", key, document)
            post(f"{base}/api/v1/cases/{document['case_no']}/payment", key, PAYMENT)
            count += 1
        issued.append(count)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENT_THREADS)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(issued) / (time.monotonic() - start)


def verification(bases: list[str], tokens: list[str], seconds: int) -> float:
    rates: list[float] = []
    threads = [
        threading.Thread(
            target=lambda b=base: rates.append(wrk(b, [f"/v/{t}" for t in tokens], seconds, 16)[0])
        )
        for base in bases
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, zeo_server(Path(folder) / "zeo") as uris:
        var = Path(folder)
        raw = raw_settings(var) | uris | {"certarchive.ratelimit.verify": "100000000/60"}
        runtime = Runtime.open(load_settings(raw), create_keys=True)
        runtime.run(initialise, SYSTEM, runtime.settings.agency)
        load_demo(runtime, 30)
        key = runtime.run(add_client, SYSTEM, "bench", ["cases:write"])["key"]
        tokens = runtime.run(lambda ctx: list(ctx.agency().catalog.token.keys()), SYSTEM)
        runtime.close()
        ini = var / "zeo.ini"
        ini.write_text(
            "\n".join(
                ["[app:main]", "use = egg:certarchive", *(f"{k} = {v}" for k, v in raw.items()), ""]
            )
        )
        binary = str(Path(sys.executable).with_name("certarchive"))
        numbers = itertools.count(1000)
        results = {}
        for processes in (1, 2):
            with ExitStack() as stack:
                bases = []
                for _ in range(processes):
                    port = free_port()
                    command = [
                        binary,
                        "-c",
                        str(ini),
                        "serve",
                        "--port",
                        str(port),
                        "--threads",
                        "8",
                    ]
                    bases.append(stack.enter_context(running(command, port)))
                results[processes] = (
                    issuance(bases, key, numbers, args.seconds),
                    verification(bases, tokens, args.seconds),
                )
    print(f"ZEO, {args.seconds} s per measurement, 2 cores shared by everything")
    for processes, (issued, pages) in results.items():
        print(
            f"  {processes} process(es): issuance {issued:6.1f} certificates/s, "
            f"verification {pages:7.0f} req/s"
        )
    print(
        f"  two / one: issuance {results[2][0] / results[1][0]:.2f}, "
        f"verification {results[2][1] / results[1][1]:.2f}"
    )


if __name__ == "__main__":
    main()
