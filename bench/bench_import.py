"""The import of paper-era certificates (issue #18): lines per second, 1 and 2 workers,
files made now and on demand, side by side in one run.

    .venv/bin/python bench/bench_import.py [--lines 2000]

Each configuration imports the same file of ``sample_existing_case`` lines (a third
with two certificates: 4/3 certificates a line) into a fresh FileStorage registry made
by ``certarchive init``, through the real command (``certarchive import-existing``, its
own process, as an operator runs it), PDF and OFD made as ``certarchive.formats``
defaults to.  Reported: wall seconds, lines/s and certificates/s, the ratio to one
worker, and the machine's load average before and after each run (the machine is
shared: a load above its core count means the figures are low), and the CPU seconds
of the importing process and of its workers, which a busy machine does not change: on
an idle machine with as many cores as processes the run takes about the larger of the
importer's CPU time and the workers' divided by their number.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import raw_settings
from tests.conftest import write_ini

from certarchive.validation.samples import sample_existing_case

COMMAND = Path(sys.executable).parent / "certarchive"
CONFIGURATIONS = (("1", "now"), ("2", "now"), ("1", "on-demand"), ("2", "on-demand"))


def write_file(path: Path, lines: int, first: int = 0) -> int:
    """``lines`` lines of ``sample_existing_case`` from number ``first``; the certificates."""
    certificates = 0
    with path.open("w", encoding="utf-8") as out:
        for n in range(first, first + lines):
            line = sample_existing_case(n, fullwidth=n % 2 == 1)
            certificates += len(line["certificates"])
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return certificates


#: Runs the command in a process of its own that reports, when done, its own CPU time
#: (reading, validating, committing) and its workers' (rendering, signing).
MEASURED = """
import json, resource, sys
from certarchive.cli.main import cli
try:
    cli(sys.argv[1:], standalone_mode=False)
finally:
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps([own.ru_utime + own.ru_stime, workers.ru_utime + workers.ru_stime]),
          file=sys.stderr)
"""


def import_once(folder: Path, lines: Path, workers: str, files: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds of the importing process and of its workers."""
    var = folder / f"var-{workers}-{files}"
    ini = write_ini(folder / f"{workers}-{files}.ini", raw_settings(var))
    subprocess.run([COMMAND, "-c", ini, "init"], check=True, capture_output=True)
    arguments = ["-c", str(ini), "import-existing", "--workers", workers, "--files", files]
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, *arguments, str(lines)],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0 or "imported" not in done.stdout:
        raise SystemExit(f"import failed: {done.stdout}{done.stderr[-2000:]}")
    own, children = json.loads(done.stderr.strip().splitlines()[-1])
    return seconds, own, children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    lines = parser.parse_args().lines
    print(f"cores: {os.cpu_count()}, lines: {lines}")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        path = root / "paper.jsonl"
        certificates = write_file(path, lines)
        results = {}
        for workers, files in CONFIGURATIONS:
            load = os.getloadavg()[0]
            seconds, own, children = import_once(root, path, workers, files)
            results[(workers, files)] = seconds
            print(
                f"--workers {workers} --files {files:<9}  {seconds:7.1f} s  "
                f"{lines / seconds:7.1f} lines/s  {certificates / seconds:7.1f} certificates/s  "
                f"ratio to 1 worker {results[('1', files)] / seconds:4.2f}  "
                f"CPU s importer {own:6.1f} workers {children:6.1f}  "
                f"load {load:.1f} → {os.getloadavg()[0]:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
