"""The verification page against a Pyramid hello-world on the same waitress settings,
measured with wrk in one run (issue #4).

    .venv/bin/python bench/bench_web.py [--seconds 10] [--connections 32]

All servers run waitress with 8 threads on this machine; wrk uses 2 threads and the
given connections, cycling through the tokens of a demo registry's certificates.  The page
is measured as served (with the per-process page cache, its default 5 s age limit) and
with the cache turned off, which is what every first view of a token costs.
Target: the page at ≥ 0.75 of hello-world's requests per second, p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import open_registry, raw_settings
from tests.servers import free_port

from certarchive.services.demo import load_demo
from certarchive.services.permissions import SYSTEM

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--certificates", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        var = Path(folder)
        runtime = open_registry(var)
        load_demo(runtime, args.certificates)
        tokens = runtime.run(lambda ctx: list(ctx.agency().catalog.token.keys()), SYSTEM)
        runtime.close()
        binary = str(Path(sys.executable).with_name("certarchive"))
        paths = [f"/v/{t}" for t in tokens]
        hello_port = free_port()
        with running([sys.executable, "-c", HELLO, str(hello_port)], hello_port) as base:
            hello = wrk(base, ["/"], args.seconds, args.connections)
        pages = {}
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
                pages[label] = wrk(base, paths, args.seconds, args.connections)
    print(f"wrk -t2 -c{args.connections} -d{args.seconds}s, waitress 8 threads, 2 cores shared")
    print(f"  hello world:                  {hello[0]:8.0f} req/s   p99 {hello[1]:7.1f} ms")
    for label, (rate, p99) in pages.items():
        print(f"  verification page, {label:9}  {rate:8.0f} req/s   p99 {p99:7.1f} ms")
    ratio = pages["cached"][0] / hello[0]
    print(f"  ratio page / hello: {ratio:.2f}  (target ≥ 0.75; p99 target < 50 ms)")
    print(f"  uncached page / hello: {pages['uncached'][0] / hello[0]:.2f}")


if __name__ == "__main__":
    main()
